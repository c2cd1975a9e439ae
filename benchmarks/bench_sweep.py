"""Sweep benchmark (issue 6): all single faults, the capped default sweep, the uncapped sweep.

Builds seeded layered topologies (average out-degree 3) with
:func:`faultray_lab.importers.synthetic.layered_topology`, writes them as JSON, and prints, each
measured in a fresh Python process (so the peak memory is that run's own):

1. all single-component faults in process (``component_down`` on every component, the
   vectorized table of :mod:`faultray_lab.engine.fastpath`, topology already loaded, imports warm),
   both rule sets, at each ``--single-sizes`` (targets: 10,000 under 0.2 s, 100,000 under 3 s);
2. the whole command ``faultray-lab sweep topo.json --json`` (2,000-scenario default sweep,
   start-up and imports included) at ``--sweep-size`` components, both rule sets (target under
   1.5 s, peak memory under 300 MB);
3. the same sweep uncapped (``--max-scenarios all --executor processes``), both rule sets
   (target under 60 s).

With ``--ref-python`` (a virtual environment holding ``faultray==11.1.0``) and ``--oracle``
(the shared oracle script), it runs the reference on the same files in the same run and prints
the ratio (reference time / ours).

    python benchmarks/bench_sweep.py [--single-sizes 10000 100000] [--sweep-size 1000]
        [--seed 1] [--ref-python /work/ref-venv/bin/python
                    --oracle /work/shared/tools/faultray_oracle.py]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_ONE = """
import json, resource, sys, time
import numpy, scipy.sparse  # warm imports: we time the computation, not the imports
import faultray_lab as fl
from faultray_lab.engine.fastpath import single_fault_summaries
topo = fl.load_topology(sys.argv[1])
t0 = time.perf_counter()
table = single_fault_summaries(topo, sys.argv[2], "down")
dt = time.perf_counter() - t0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"s": dt, "effects": len(table.comp), "rss_mb": rss}))
"""


_GEN = """
import json, sys
from faultray_lab.importers.synthetic import layered_topology
n, seed, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
open(path, "w").write(json.dumps(layered_topology(n, seed=seed).to_dict()))
"""


def _run(cmd: list[str], stdout: int | None = subprocess.DEVNULL) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB of that process, stdout text) of one command."""
    with tempfile.TemporaryFile() as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode()
    if proc.returncode != 0:
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}")
    return wall, usage.ru_maxrss / 1024, text


def _oracle(args: argparse.Namespace, path: Path, *extra: str) -> dict | None:
    if not (args.ref_python and args.oracle):
        return None
    proc = subprocess.run([args.ref_python, args.oracle, str(path), *extra],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"  reference failed: {proc.stderr.strip()[-300:]}", file=sys.stderr)
        return None
    return json.loads(proc.stderr.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--single-sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--sweep-size", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--ref-python")
    ap.add_argument("--oracle")
    ap.add_argument("--skip-uncapped", action="store_true")
    args = ap.parse_args()

    import faultray_lab as fl

    cli = shutil.which("faultray-lab")
    cli_cmd = [cli] if cli else [sys.executable, "-m", "faultray_lab.cli"]
    print(f"faultray-lab {fl.__version__}, python {sys.version.split()[0]}, "
          f"{os.cpu_count()} cores, seed {args.seed}")
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for n in sorted({*args.single_sizes, args.sweep_size}):
            paths[n] = Path(tmp) / f"topo{n}.json"
            # in a child process: a big parent would inflate the children's peak RSS (Linux
            # counts the memory a child shares with its parent before exec)
            _run([sys.executable, "-c", _GEN, str(n), str(args.seed), str(paths[n])])

        print("\n1. all single component_down faults in process (table of every component)")
        print(f"{'n':>7} {'rules':<13} {'time_s':>7} {'target_s':>8} {'peak_MB':>8} "
              f"{'ref_s':>7} {'ratio':>6}")
        for n in args.single_sizes:
            ref = _oracle(args, paths[n], "--no-output")
            for rules in ("faultray-v11", "cps"):
                _, _, text = _run([sys.executable, "-c", _ONE, str(paths[n]), rules], None)
                r = json.loads(text)
                target = 0.2 if n <= 10_000 else 3.0
                ref_s = ref["sim_s"] if ref else None
                print(f"{n:>7} {rules:<13} {r['s']:>7.3f} {target:>8.1f} {r['rss_mb']:>8.0f} "
                      + (f"{ref_s:>7.2f} {ref_s / r['s']:>5.0f}x" if ref_s else
                         f"{'-':>7} {'-':>6}"))

        n = args.sweep_size
        print(f"\n2. whole command `faultray-lab sweep topo{n}.json --json` (2,000 scenarios)")
        print(f"{'n':>7} {'rules':<13} {'wall_s':>7} {'target_s':>8} {'peak_MB':>8} "
              f"{'ref_s':>7} {'ref_MB':>7} {'ratio':>6}")
        ref = _oracle(args, paths[n], "--scenarios")
        for rules in ("faultray-v11", "cps"):
            best = None
            for _ in range(3):
                wall, rss, text = _run([*cli_cmd, "sweep", str(paths[n]), "--json",
                                        "--rules", rules], None)
                if best is None or wall < best[0]:
                    best = (wall, rss)
            report = json.loads(text)
            assert report["scenarios"] == min(2000, report["generated"])
            wall, rss = best  # type: ignore[misc]
            ref_s = ref["total_s"] + ref["import_s"] if ref else None
            print(f"{n:>7} {rules:<13} {wall:>7.2f} {1.5:>8.1f} {rss:>8.0f} "
                  + (f"{ref_s:>7.2f} {ref['maxrss_mb']:>7.0f} {ref_s / wall:>5.1f}x" if ref
                     else f"{'-':>7} {'-':>7} {'-':>6}"))
        if ref:
            print("        (ref_s: the reference's import + run_all_defaults time, "
                  "without interpreter start-up)")

        if not args.skip_uncapped:
            print(f"\n3. uncapped sweep `--max-scenarios all --executor processes` at {n}")
            print(f"{'n':>7} {'rules':<13} {'scenarios':>9} {'wall_s':>7} {'target_s':>8} "
                  f"{'peak_MB':>8}")
            for rules in ("faultray-v11", "cps"):
                wall, rss, text = _run([*cli_cmd, "sweep", str(paths[n]), "--rules", rules,
                                        "--max-scenarios", "all", "--executor", "processes"],
                                       None)
                tested = next(line for line in text.splitlines()
                              if line.startswith("scenarios tested"))
                count = int(tested.split()[2])
                print(f"{n:>7} {rules:<13} {count:>9} {wall:>7.2f} {60.0:>8.1f} {rss:>8.0f}")
            print("        (peak_MB: the parent process; each of the worker processes is "
                  "smaller)")


if __name__ == "__main__":
    main()

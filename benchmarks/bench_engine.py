"""Engine benchmark: topology load time and per-fault simulate_fault time, both rule sets.

Builds seeded layered topologies (average out-degree 3) with
:func:`faultray_lab.importers.synthetic.layered_topology`, writes them as JSON and YAML, and
prints for 1,000 and 10,000 components: the load time of each file and the median and
maximum time of ``simulate_fault`` over every component, for ``faultray-v11`` and ``cps``. With
``--ref-python`` (a virtual environment holding ``faultray==11.1.0``) and ``--oracle`` (the
shared oracle script), it also runs the reference on the same files in the same run and prints
the ratio of total times (the reference has one engine, compared with both rule sets).

    python benchmarks/bench_engine.py [--sizes 1000 10000] [--seed 1]
        [--ref-python ref-venv/bin/python --oracle ../shared/tools/faultray_oracle.py]

Targets (issue 2): median at most 200 us per fault at 10,000 components; loading 10,000
components under 1 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

import faultray_lab as fl
from faultray_lab.importers.synthetic import layered_topology


def _time_load(path: Path, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fl.load_topology(path)
        best = min(best, time.perf_counter() - t0)
    return best


def _per_fault(topo: fl.Topology, rules: str) -> list[float]:
    times = []
    sim = fl.simulate_fault
    for cid in topo.ids:
        t0 = time.perf_counter()
        sim(topo, cid, rules=rules)
        times.append(time.perf_counter() - t0)
    return times


def _reference(ref_python: str, oracle: str, path: Path) -> float | None:
    proc = subprocess.run([ref_python, oracle, str(path), "--no-output"], capture_output=True,
                          text=True)
    if proc.returncode != 0:
        print(f"  reference failed: {proc.stderr.strip()[:200]}", file=sys.stderr)
        return None
    timing = json.loads(proc.stderr.strip().splitlines()[-1])
    return float(timing["sim_s"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--topology", nargs="*", default=[],
                    help="extra topology files to measure (e.g. from the shared generator)")
    ap.add_argument("--ref-python")
    ap.add_argument("--oracle")
    args = ap.parse_args()
    print(f"faultray-lab {fl.__version__}, python {sys.version.split()[0]}")
    print(f"{'n':>7} {'rules':<13} {'load_json_s':>11} {'load_yaml_s':>11} {'median_us':>10} "
          f"{'max_ms':>8} {'all_s':>7} {'ref_all_s':>9} {'speedup':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        inputs: list[tuple[int, dict | None, Path]] = [
            (n, layered_topology(n, seed=args.seed).to_dict(), Path(tmp) / f"topo{n}.json")
            for n in args.sizes]
        inputs += [(len(fl.load_topology(f)), None, Path(f)) for f in args.topology]
        for n, data, jpath in inputs:
            if data is None:
                data = json.loads(jpath.read_text())
            else:
                jpath.write_text(json.dumps(data))
            ypath = Path(tmp) / f"{jpath.stem}.yaml"
            ypath.write_text(yaml.safe_dump(data, sort_keys=False))
            load_json, load_yaml = _time_load(jpath), _time_load(ypath, repeat=1)
            loaded = fl.load_topology(jpath)
            ref = None
            if args.ref_python and args.oracle:
                ref = _reference(args.ref_python, args.oracle, jpath)
            for rules in ("faultray-v11", "cps"):
                times = _per_fault(loaded, rules)
                total = sum(times)
                ratio = "" if ref is None else f"{ref / total:.2f}x"
                print(f"{n:>7} {rules:<13} {load_json:>11.3f} {load_yaml:>11.3f} "
                      f"{statistics.median(times) * 1e6:>10.1f} {max(times) * 1e3:>8.2f} "
                      f"{total:>7.3f} {'' if ref is None else f'{ref:.3f}':>9} {ratio:>8}")


if __name__ == "__main__":
    main()

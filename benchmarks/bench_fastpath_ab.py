"""The vectorized single-fault tables of two checkouts, measured alternately in one run.

Every single ``component_down`` fault of a seeded layered topology, in a fresh Python process
per measurement (topology loaded and imports warm, as in ``bench_sweep.py`` part 1), for each
rule set and size, alternating between this tree and another checkout (``--old``, e.g. a
worktree of an earlier commit: ``git worktree add /tmp/old 612f410``) so that both see the same
machine. Prints the median, minimum and maximum of each and the ratio of the medians (new /
old). The figures are printed, never asserted.

    python benchmarks/bench_fastpath_ab.py --old /tmp/old --repeat 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_ONE = """
import sys, time
import numpy, scipy.sparse  # warm imports: time the computation, not the imports
import faultray_lab as fl
try:
    from faultray_lab.engine.fastpath import single_fault_summaries
except ImportError:  # the flat layout of faultray-lab 0.1
    from faultray_lab.fastpath import single_fault_summaries
topo = fl.load_topology(sys.argv[1])
t0 = time.perf_counter()
single_fault_summaries(topo, sys.argv[2], "down")
print(time.perf_counter() - t0)
"""
_GEN = """
import json, sys
from faultray_lab.importers.synthetic import layered_topology
json.dump(layered_topology(int(sys.argv[1]), seed=1).to_dict(), open(sys.argv[2], "w"))
"""


def _run(code: str, root: Path, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.run([sys.executable, "-W", "ignore", "-c", code, *args], env=env,
                          capture_output=True, text=True, check=True)
    return proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", required=True, help="root of the other checkout")
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    sides = {"old": Path(args.old).resolve(), "new": ROOT}
    times: dict[tuple[int, str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        paths = {n: Path(tmp) / f"topo{n}.json" for n in args.sizes}
        for n, path in paths.items():
            _run(_GEN, ROOT, str(n), str(path))
        for _ in range(args.repeat):
            for side, root in sides.items():
                for n, path in paths.items():
                    for rules in ("faultray-v11", "cps"):
                        out = _run(_ONE, root, str(path), rules)
                        times.setdefault((n, rules, side), []).append(float(out))
    print(f"{'n':>7} {'rules':<13} {'old_median':>10} {'new_median':>10} {'ratio':>6} "
          f"{'old_range':>14} {'new_range':>14}")
    for n in args.sizes:
        for rules in ("faultray-v11", "cps"):
            old, new = times[(n, rules, "old")], times[(n, rules, "new")]
            mo, mn = statistics.median(old), statistics.median(new)
            print(f"{n:>7} {rules:<13} {mo:>10.3f} {mn:>10.3f} {mn / mo:>6.2f} "
                  f"{min(old):>6.3f}-{max(old):<7.3f} {min(new):>6.3f}-{max(new):<7.3f}")


if __name__ == "__main__":
    main()

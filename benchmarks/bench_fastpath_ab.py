"""The vectorized single-fault tables of two checkouts, measured alternately in one run.

Every single ``component_down`` fault of a seeded layered topology, in a fresh Python process
per measurement (topology loaded and imports warm, as in ``bench_sweep.py`` part 1), for each
rule set and size, alternating between this tree and another checkout (``--old``, e.g. a
worktree of an earlier commit: ``git worktree add /tmp/old 612f410``) so that both see the same
machine. Prints the median, minimum and maximum of each and the ratio of the medians (new /
old). The figures are printed, never asserted.

With ``--commands``, the same for whole commands at 1,000 components (start-up and imports
included, as a user runs them): ``faultray-lab sweep topo.json --json`` (the capped default
sweep) and ``faultray-lab sweep topo.json --max-scenarios all --executor processes``.

    python benchmarks/bench_fastpath_ab.py --old /tmp/old --repeat 5
    python benchmarks/bench_fastpath_ab.py --old /tmp/old --repeat 7 --commands
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

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


def _command_seconds(root: Path, *argv: str) -> float:
    """Wall seconds of ``python -m faultray_lab.cli ARGV`` run from checkout ``root``."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-W", "ignore", "-m", "faultray_lab.cli", *argv], env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


def _print_table(times: dict[tuple[Any, str, str], list[float]], rows: list[Any],
                 label: str) -> None:
    print(f"{label:>8} {'rules':<13} {'old_median':>10} {'new_median':>10} {'ratio':>6} "
          f"{'old_range':>14} {'new_range':>14}")
    for row in rows:
        for rules in ("faultray-v11", "cps"):
            old, new = times[(row, rules, "old")], times[(row, rules, "new")]
            mo, mn = statistics.median(old), statistics.median(new)
            print(f"{row!s:>8} {rules:<13} {mo:>10.3f} {mn:>10.3f} {mn / mo:>6.2f} "
                  f"{min(old):>6.3f}-{max(old):<7.3f} {min(new):>6.3f}-{max(new):<7.3f}")


def _commands(sides: dict[str, Path], repeat: int) -> None:
    """Whole sweep commands at 1,000 components, alternating the two checkouts."""
    kinds = {"capped": ["--json"], "uncapped": ["--max-scenarios", "all",
                                                "--executor", "processes"]}
    times: dict[tuple[Any, str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "topo1000.json"
        _run(_GEN, ROOT, "1000", str(path))
        for _ in range(repeat):
            for kind, extra in kinds.items():
                for rules in ("faultray-v11", "cps"):
                    for side, root in sides.items():
                        times.setdefault((kind, rules, side), []).append(
                            _command_seconds(root, "sweep", str(path), "--rules", rules,
                                             *extra))
    print("faultray-lab sweep topo1000.json --json (capped) and --max-scenarios all "
          "--executor processes (uncapped), wall seconds")
    _print_table(times, list(kinds), "sweep")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", required=True, help="root of the other checkout")
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--commands", action="store_true",
                    help="time the whole sweep commands at 1,000 components instead")
    args = ap.parse_args()
    sides = {"old": Path(args.old).resolve(), "new": ROOT}
    if args.commands:
        _commands(sides, args.repeat)
        return
    times: dict[tuple[Any, str, str], list[float]] = {}
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
    _print_table(times, list(args.sizes), "n")


if __name__ == "__main__":
    main()

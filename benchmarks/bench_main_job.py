"""Wall-clock time of the main job and of the README's test command, on this machine.

Targets (issue 14): ``faultray-lab reproduce --output DIR`` under 60 s and the README's test
command (``pytest --nbval-lax tests notebooks``) under 3 minutes on 2 cores. Both run as
subprocesses from the repository root, so start-up and imports are included; the figures are
printed, never asserted.

Run from the repository root::

    python benchmarks/bench_main_job.py            # both
    python benchmarks/bench_main_job.py --skip-tests
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _timed(cmd: list[str]) -> tuple[float, int, str]:
    env = {**os.environ, "MPLBACKEND": "agg"}
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or [""]
    return time.perf_counter() - t0, proc.returncode, tail[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-tests", action="store_true", help="time only the main job")
    ap.add_argument("--skip-reproduce", action="store_true", help="time only the tests")
    args = ap.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    print(f"{'job':<48} {'wall_s':>8} {'target_s':>8}  exit  last line")
    if not args.skip_reproduce:
        with tempfile.TemporaryDirectory() as out:
            cmd = [sys.executable, "-m", "faultray_lab.cli", "reproduce", "--output", out]
            wall, code, tail = _timed(cmd)
        print(f"{'faultray-lab reproduce --output DIR':<48} {wall:8.1f} {60:8d}  {code:4d}  {tail}")
    if not args.skip_tests:
        cmd = [sys.executable, "-m", "pytest", "--nbval-lax", "tests", "notebooks", "-q",
               "-p", "no:cacheprovider"]
        wall, code, tail = _timed(cmd)
        print(f"{'pytest --nbval-lax tests notebooks':<48} {wall:8.1f} {180:8d}  {code:4d}  {tail}")


if __name__ == "__main__":
    main()

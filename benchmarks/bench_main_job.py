"""Wall-clock time of the main job and of the README's test command, on this machine.

Targets (issue 14): ``faultray-lab reproduce --output DIR`` under 60 s and the README's test
command under 3 minutes on 2 cores. The test command is read from the README (its ``pytest``
line), so this measures exactly what CI runs. Both run as subprocesses from the repository root,
so start-up and imports are included; the figures are printed, never asserted.

Run from the repository root::

    python benchmarks/bench_main_job.py            # both
    python benchmarks/bench_main_job.py --skip-tests
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
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
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    # the result line: pytest's "N passed ..." or the command's own last line of output
    result = [ln for ln in lines if re.search(r"\d+ (passed|failed|error)", ln)] or lines
    tail = result[-1].strip("= ") if result else proc.stderr.strip()[-200:]
    return time.perf_counter() - t0, proc.returncode, tail


def readme_test_command() -> list[str]:
    """The arguments of the README's ``pytest`` command (after ``pip install ... &&``)."""
    text = (ROOT / "README.md").read_text()
    found = re.search(r"^pip install -e \"\.\[test\]\" && (pytest .*)$", text, flags=re.M)
    if found is None:
        raise SystemExit("README.md has no `pip install -e \".[test]\" && pytest ...` line")
    return shlex.split(found.group(1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-tests", action="store_true", help="time only the main job")
    ap.add_argument("--skip-reproduce", action="store_true", help="time only the tests")
    args = ap.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    print(f"{'job':<58} {'wall_s':>8} {'target_s':>8}  exit  last line")
    if not args.skip_reproduce:
        with tempfile.TemporaryDirectory() as out:
            cmd = [sys.executable, "-m", "faultray_lab.cli", "reproduce", "--output", out]
            wall, code, tail = _timed(cmd)
        print(f"{'faultray-lab reproduce --output DIR':<58} {wall:8.1f} {60:8d}  {code:4d}  {tail}")
    if not args.skip_tests:
        readme = readme_test_command()
        cmd = [sys.executable, "-m", *readme, "-p", "no:cacheprovider"]
        wall, code, tail = _timed(cmd)
        print(f"{shlex.join(readme):<58} {wall:8.1f} {180:8d}  {code:4d}  {tail}")


if __name__ == "__main__":
    main()

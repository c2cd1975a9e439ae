"""The README shows only commands that work: every `faultray-lab` line of its bash blocks runs.

Commands run in a scratch copy of the data folders, so nothing in the checkout changes. Lines
whose input is a placeholder (a file the repository does not ship, a cluster address) are
listed in PLACEHOLDERS and only parsed, not run.
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

from faultray_lab.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
PLACEHOLDERS = ("plan.json", "topo.json", "tcp://HOST")
# exit codes documented beside the command in the README ("# exit 1")
BLOCKS = re.findall(r"```bash\n(.*?)```", README, flags=re.S)
LINES = [ln.strip() for b in BLOCKS for ln in b.splitlines()
         if ln.strip().startswith("faultray-lab ")]
RUNNABLE = [ln for ln in LINES if not any(p in ln for p in PLACEHOLDERS)]
# the main job runs every notebook: covered by tests/test_cli_backtest.py and nbval
SLOW = ("faultray-lab reproduce",)


def _argv(line: str) -> tuple[list[str], int]:
    command, _, comment = line.partition("#")
    expected = 1 if re.search(r"\bexit 1\b", comment) else 0
    return shlex.split(command)[1:], expected


def test_readme_has_the_two_commands_and_ci_runs_the_test_one() -> None:
    assert 'pip install -e . && faultray-lab reproduce --output results/' in README
    test_cmd = 'pip install -e ".[test]" && pytest --nbval-lax tests notebooks'
    assert test_cmd in README
    assert test_cmd in (ROOT / ".ci" / "run").read_text()


@pytest.mark.parametrize("line", LINES)
def test_readme_command_parses(line: str) -> None:
    argv, _ = _argv(line)
    build_parser().parse_args(argv)  # raises SystemExit on an unknown flag or command


RUNNABLE_BLOCKS = [
    [ln for ln in b.splitlines()
     if ln.strip() in RUNNABLE and not ln.strip().startswith(SLOW)] for b in BLOCKS]


@pytest.mark.parametrize("block", [b for b in RUNNABLE_BLOCKS if b],
                         ids=lambda b: b[0].split("#")[0].strip()[:60])
def test_readme_commands_run(block: list[str], tmp_path: Path,
                             monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    """Each bash block's commands, in order, in one scratch folder (later ones may use earlier
    ones' output, as a reader following the README would)."""
    for folder in ("incidents", "examples", "paper", "notebooks"):
        if (ROOT / folder).exists():
            shutil.copytree(ROOT / folder, tmp_path / folder)
    shutil.copytree(ROOT / "faultray_lab" / "data", tmp_path / "faultray_lab" / "data")
    shutil.copytree(ROOT / "tests" / "data", tmp_path / "tests" / "data")
    monkeypatch.chdir(tmp_path)
    for line in block:
        argv, expected = _argv(line.strip())
        assert main(argv) == expected, (line, capsys.readouterr().err)

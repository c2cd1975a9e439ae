"""The README shows only commands that work: every `faultray-lab` line of its bash blocks runs.

Commands run in a scratch copy of the data folders, so nothing in the checkout changes. Lines
whose input is a placeholder (a file the repository does not ship, a cluster address) are
listed in PLACEHOLDERS and only parsed, not run; the slow ones (SLOW) are parsed and covered by
their own tests. The helpers here are shared with tests/test_docs.py, which does the same for
the documentation pages and runs their `>>>` examples.
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
TEST_COMMAND = 'pip install -e ".[test]" && pytest -n 2 --dist loadfile --nbval-lax tests notebooks'
DOCS_COMMAND = ('pip install -e ".[docs]" && '
                "sphinx-build -W --keep-going -b html docs docs/_build/html")
PLACEHOLDERS = ("plan.json", "topo.json", "tcp://HOST")
# the main job runs every notebook (tests/test_cli_backtest.py and nbval cover it); figures and
# report regenerate the paper and execute a notebook (tests/test_paper.py, tests/test_report.py)
SLOW = ("faultray-lab reproduce", "faultray-lab figures", "faultray-lab report")
# folders a command may read, copied into the scratch folder
DATA = ("incidents", "examples", "paper", "notebooks", "faultray_lab/data", "tests/data")


def bash_blocks(text: str) -> list[str]:
    """The bodies of the ```bash blocks of a Markdown text."""
    return re.findall(r"```bash\n(.*?)```", text, flags=re.S)


def command_lines(blocks: list[str]) -> list[str]:
    """Every line of the blocks that starts with `faultray-lab `."""
    return [ln.strip() for b in blocks for ln in b.splitlines()
            if ln.strip().startswith("faultray-lab ")]


def runnable_blocks(blocks: list[str]) -> list[list[str]]:
    """Per block, its command lines that run (no placeholder input, not slow)."""
    return [[ln for ln in command_lines([b])
             if not any(p in ln for p in PLACEHOLDERS) and not ln.startswith(SLOW)]
            for b in blocks]


def argv_of(line: str) -> tuple[list[str], int]:
    """The arguments after `faultray-lab` and the exit code documented beside the command
    (a trailing comment "# exit N"; 0 if none)."""
    command, _, comment = line.partition("#")
    code = re.search(r"\bexit (\d)\b", comment)
    return shlex.split(command)[1:], int(code.group(1)) if code else 0


def scratch_copy(tmp_path: Path) -> Path:
    """Copy the data folders commands and examples read into ``tmp_path``; return it."""
    for folder in DATA:
        if (ROOT / folder).exists():
            shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path


def run_block(block: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
              capsys: pytest.CaptureFixture[str]) -> None:
    """Run a block's commands in order in one scratch folder (later ones may use earlier ones'
    output, as a reader following the page would)."""
    monkeypatch.chdir(scratch_copy(tmp_path))
    for line in block:
        argv, expected = argv_of(line)
        assert main(argv) == expected, (line, capsys.readouterr().err)


BLOCKS = bash_blocks(README)
LINES = command_lines(BLOCKS)


def test_readme_has_the_commands_and_ci_runs_them() -> None:
    assert "pip install -e . && faultray-lab reproduce --output results/" in README
    assert TEST_COMMAND in README
    assert DOCS_COMMAND in README
    ci = (ROOT / ".ci" / "run").read_text()
    assert TEST_COMMAND in ci
    assert DOCS_COMMAND in ci
    assert ci.index(TEST_COMMAND) < ci.index(DOCS_COMMAND)


def test_readme_is_short() -> None:
    assert len(README.splitlines()) <= 150


@pytest.mark.parametrize("line", LINES)
def test_readme_command_parses(line: str) -> None:
    argv, _ = argv_of(line)
    build_parser().parse_args(argv)  # raises SystemExit on an unknown flag or command


@pytest.mark.parametrize("block", [b for b in runnable_blocks(BLOCKS) if b],
                         ids=lambda b: b[0].split("#")[0].strip()[:60])
def test_readme_commands_run(block: list[str], tmp_path: Path,
                             monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    run_block(block, tmp_path, monkeypatch, capsys)

"""The documentation shows only what works.

* Every `faultray-lab` line of a ```bash block in docs/**/*.md is parsed, and run (in a scratch
  copy of the data folders, so nothing in the checkout changes) unless it is slow or its input is
  a placeholder; see tests/test_readme.py for the rules, shared with the README.
* Every ```pycon block (Python with `>>>` prompts) of the pages and of the README is run as a
  doctest, page by page in one namespace, in a scratch copy. Blocks in other languages are not
  run, and the pages say so where it matters.
* Every page is reachable from the site's table of contents, and the pages the code cites
  ("docs: semantics 2.1") keep their section numbers.
"""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest
from test_readme import (
    README,
    ROOT,
    argv_of,
    bash_blocks,
    command_lines,
    run_block,
    runnable_blocks,
    scratch_copy,
)

DOCS = ROOT / "docs"
SKIP_DIRS = ("_build", "api", "notebooks", "_templates", "_ext")
PAGES = sorted(p for p in DOCS.rglob("*.md")
               if not any(part in SKIP_DIRS for part in p.relative_to(DOCS).parts))
TEXTS = {p.relative_to(ROOT).as_posix(): p.read_text() for p in PAGES}
DOC_BLOCKS = [(name, b) for name, text in TEXTS.items() for b in bash_blocks(text)]
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def pycon(text: str) -> str:
    """The ```pycon blocks of a page, joined (one namespace per page)."""
    return "\n".join(re.findall(r"```pycon\n(.*?)```", text, flags=re.S))


def test_there_are_pages_and_examples() -> None:
    assert len(PAGES) >= 15
    assert sum(bool(pycon(t)) for t in TEXTS.values()) >= 10
    assert len(command_lines([b for _, b in DOC_BLOCKS])) >= 10


@pytest.mark.parametrize("line", command_lines([b for _, b in DOC_BLOCKS]))
def test_docs_command_parses(line: str) -> None:
    from faultray_lab.cli import build_parser

    argv, _ = argv_of(line)
    build_parser().parse_args(argv)  # SystemExit on an unknown command or flag


_RUNNABLE = [(name, block) for name, b in DOC_BLOCKS for block in runnable_blocks([b]) if block]


@pytest.mark.parametrize("block", [b for _, b in _RUNNABLE],
                         ids=[f"{n}: {b[0].split('#')[0].strip()[:50]}" for n, b in _RUNNABLE])
def test_docs_commands_run(block: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    run_block(block, tmp_path, monkeypatch, capsys)


_EXAMPLES = {name: pycon(text) for name, text in {**TEXTS, "README.md": README}.items()
             if pycon(text)}


@pytest.mark.parametrize("name", sorted(_EXAMPLES))
def test_python_examples(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import matplotlib
    import pandas as pd

    matplotlib.use("agg")
    monkeypatch.chdir(scratch_copy(tmp_path))
    test = doctest.DocTestParser().get_doctest(_EXAMPLES[name], {}, name, name, 0)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    # examples print DataFrames at this width
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        runner.run(test, out=lambda s: print(s, end=""))
    result = runner.summarize(verbose=False)
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} example(s) of {name} failed (output above)"


def test_every_page_is_in_a_toctree() -> None:
    """Sphinx would warn too; this says which page, without building."""
    entries = set()
    for text in TEXTS.values():
        for body in re.findall(r"```\{toctree\}\n(.*?)```", text, flags=re.S):
            entries |= {ln.strip() for ln in body.splitlines()
                        if ln.strip() and not ln.strip().startswith(":")}
    pages = {p.relative_to(DOCS).with_suffix("").as_posix() for p in PAGES} - {"index"}
    assert pages <= entries, sorted(pages - entries)


def test_semantics_keeps_the_cited_section_numbers() -> None:
    """Code cites "docs: semantics 2.1", "semantics 3"...; each number must still be a section."""
    text = TEXTS["docs/semantics.md"]
    headings = re.findall(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", text, flags=re.M)
    cited = set()
    for path in (ROOT / "faultray_lab").rglob("*.py"):
        cited |= set(re.findall(r"semantics (\d+(?:\.\d+)?)", path.read_text()))
    assert cited, "no citations found"
    assert cited <= set(headings), sorted(cited - set(headings))
    for n in ("1", "2", "3", "4", "5", "6", "7"):
        assert f"(semantics-{n})=" in text

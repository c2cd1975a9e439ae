"""`reproduce` never leaves a stale "ok" summary: a running marker first, the summary last."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from faultray_lab.cli import main
from faultray_lab.common.errors import InputError
from faultray_lab.outputs import notebooks


def _notebook(path: Path, source: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(source))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path.write_text(nbformat.writes(nb))


@pytest.fixture
def books(tmp_path: Path) -> Path:
    d = tmp_path / "nbs"
    d.mkdir()
    for name in ("a_first.ipynb", "b_second.ipynb", "c_third.ipynb"):
        _notebook(d / name, "x = 1")
    return d


def _stale_ok_run(out: Path) -> None:
    """What an earlier, successful run left behind."""
    (out / "notebooks").mkdir(parents=True)
    for name in ("a_first.ipynb", "b_second.ipynb", "c_third.ipynb"):
        (out / "notebooks" / name).write_text("{}")
    (out / "summary.json").write_text(json.dumps({"ok": True, "notebooks": []}))


def _fake_execute(calls: list[str], out: Path, on_second):
    def run(book, output, parameters=None, **kwargs):
        calls.append(Path(book).name)
        # the state a `kill -9` at this moment would leave: never the earlier run's "ok"
        on_disk = json.loads((out / "summary.json").read_text())
        assert on_disk["status"] == "running" and on_disk["ok"] is False
        assert [r["notebook"] for r in on_disk["notebooks"]] == calls[:-1]
        if len(calls) == 2:
            on_second()
        return nbformat.v4.new_notebook()
    return run


def test_an_interrupted_reproduce_leaves_no_ok_summary(books: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "results"
    _stale_ok_run(out)
    calls: list[str] = []

    def interrupt() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(notebooks, "execute_notebook", _fake_execute(calls, out, interrupt))
    code = main(["reproduce", "--notebooks", str(books), "--output", str(out), "--jobs", "1"])
    assert code == 130 and "interrupted" in capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["ok"] is False
    assert [r["notebook"] for r in summary["notebooks"]] == ["a_first.ipynb"]
    assert calls == ["a_first.ipynb", "b_second.ipynb"]


def test_a_failing_notebook_removes_its_old_copy_and_the_summary_comes_last(
        books: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "results"
    _stale_ok_run(out)
    calls: list[str] = []

    def fail() -> None:
        raise RuntimeError("cell failed")

    monkeypatch.setattr(notebooks, "execute_notebook", _fake_execute(calls, out, fail))
    summary = notebooks.run_notebooks(str(books), str(out), progress=False)
    assert calls == ["a_first.ipynb", "b_second.ipynb", "c_third.ipynb"]
    on_disk = json.loads((out / "summary.json").read_text())
    assert on_disk == summary
    assert summary["status"] == "complete" and summary["ok"] is False
    assert [r["status"] for r in summary["notebooks"]] == ["ok", "failed", "ok"]
    assert not (out / "notebooks" / "b_second.ipynb").exists()   # the stale copy is gone
    assert (out / "notebooks" / "a_first.ipynb").read_text() != "{}"


def test_a_real_notebook_failure_still_completes(tmp_path: Path) -> None:
    d = tmp_path / "nbs"
    d.mkdir()
    _notebook(d / "a.ipynb", "x = 1")
    _notebook(d / "b.ipynb", "raise ValueError('boom')")
    out = tmp_path / "results"
    _stale_ok_run(out)
    summary = notebooks.run_notebooks(str(d), str(out), progress=False)
    assert summary["status"] == "complete" and summary["ok"] is False
    assert "boom" in summary["notebooks"][1]["error"]
    assert json.loads((out / "summary.json").read_text())["ok"] is False


def test_parallel_notebooks_give_the_serial_summary(tmp_path: Path) -> None:
    d = tmp_path / "nbs"
    d.mkdir()
    _notebook(d / "a.ipynb", "import time; time.sleep(1.5)")  # finishes after b
    _notebook(d / "b.ipynb", "raise ValueError('boom')")
    _notebook(d / "c.ipynb", "x = 1")
    serial = notebooks.run_notebooks(str(d), str(tmp_path / "s"), progress=False)
    parallel = notebooks.run_notebooks(str(d), str(tmp_path / "p"), progress=False, jobs=2)
    assert parallel == serial
    assert [r["status"] for r in parallel["notebooks"]] == ["ok", "failed", "ok"]
    assert sorted(p.name for p in (tmp_path / "p" / "notebooks").iterdir()) == ["a.ipynb",
                                                                                "c.ipynb"]
    with pytest.raises(InputError, match="jobs must be an integer >= 1"):
        notebooks.run_notebooks(str(d), str(tmp_path / "p"), jobs=0)

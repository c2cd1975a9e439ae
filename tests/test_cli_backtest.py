"""CLI: ``faultray-lab backtest`` and ``faultray-lab reproduce``."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from faultray_lab.cli import main

ROOT = Path(__file__).resolve().parents[1]
PAPER = ROOT / "incidents" / "paper-18"
SAMPLE = PAPER / "aws-s3-2017-02.yaml"


def test_backtest_json_reproduces_published(capsys):
    assert main(["backtest", str(PAPER), "--rules", "faultray-v11", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    s = d["summary"]
    assert s["n"] == 18
    assert (round(s["precision"], 3), round(s["recall"], 3), round(s["f1"], 3)) == (1.0, 1.0, 1.0)
    assert round(s["severity_accuracy"], 3) == 0.819
    assert round(s["downtime_mae_minutes"], 2) == 3159.53
    assert round(s["confidence"], 3) == 0.756
    f1 = {k: round(v["f1"], 3) for k, v in d["baselines"].items()}
    assert f1 == {"all-components": 0.942, "root-only": 0.405, "reverse-reachable": 1.0}
    assert d["discrimination_margin"]["f1"] == 0.0
    assert len(d["incidents"]) == 18
    assert set(d["intervals"]["engine"]) == set(s) - {"n"}


def test_backtest_table(capsys):
    assert main(["backtest", str(PAPER), "--severity-map", "ordinal", "--bootstrap", "100"]) == 0
    out = capsys.readouterr().out
    assert "aws-s3-2017-02" in out and "reverse-reachable" in out
    assert "discrimination margin" in out and "severity map ordinal" in out


@pytest.mark.parametrize("old, new, expected", [
    ("severity: critical", "severity: catastrophic", "unknown severity label"),
    ("downtime_minutes: 300.0", "downtime_minutes: -1", "negative"),
    ("fault: {component: shared_network", "fault: {component: nowhere", "fault component"),
    ("type: component_down}", "type: meltdown}", "unknown fault type"),
    ("affected: [shared_network, s3_storage", "affected: [shared_network, s9", "truth component"),
])
def test_bad_incident_exits_2_with_one_line(tmp_path, capsys, old, new, expected):
    text = SAMPLE.read_text()
    assert old in text
    (tmp_path / SAMPLE.name).write_text(text.replace(old, new, 1))
    assert main(["backtest", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert expected in err and SAMPLE.name in err


def test_id_mismatch_and_missing_path_exit_2(tmp_path, capsys):
    (tmp_path / "renamed.yaml").write_text(SAMPLE.read_text())
    assert main(["backtest", str(tmp_path)]) == 2
    assert "does not match the file name" in capsys.readouterr().err
    assert main(["backtest", str(tmp_path / "missing")]) == 2
    assert "no such file" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# reproduce (tiny notebooks, so the test stays fast; the real notebook runs under nbval)
# ---------------------------------------------------------------------------------------------
def _notebook(path: Path, cells: list[tuple[str, str]]) -> None:
    nb = new_notebook()
    for tag, src in cells:
        c = new_code_cell(src)
        if tag:
            c.metadata["tags"] = [tag]
        nb.cells.append(c)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path.write_text(nbformat.writes(nb))


def test_reproduce_runs_every_notebook(tmp_path, capsys):
    books = tmp_path / "nbs"
    books.mkdir()
    _notebook(books / "a_ok.ipynb", [
        ("parameters", "output_dir = 'figs'\nseed = 0"),
        ("", "from pathlib import Path\nPath(output_dir).mkdir(parents=True, exist_ok=True)\n"
             "(Path(output_dir) / 'fig.png').write_bytes(b'png')\nvalue = 6 * 7"),
        ("summary", "from IPython.display import JSON\nJSON({'value': value})"),
    ])
    _notebook(books / "b_fail.ipynb", [("", "raise RuntimeError('boom')")])
    out = tmp_path / "out"
    code = main(["reproduce", "--notebooks", str(books), "--output", str(out)])
    assert code == 1  # one notebook failed
    summary = json.loads((out / "summary.json").read_text())
    by_name = {r["notebook"]: r for r in summary["notebooks"]}
    assert by_name["a_ok.ipynb"]["status"] == "ok"
    assert by_name["a_ok.ipynb"]["summary"] == [{"value": 42}]
    assert by_name["a_ok.ipynb"]["parameters"] == {"output_dir": str((out / "figures").resolve())}
    assert by_name["b_fail.ipynb"]["status"] == "failed"
    assert "boom" in by_name["b_fail.ipynb"]["error"]
    assert summary["figures"] == ["fig.png"] and summary["ok"] is False
    assert (out / "notebooks" / "a_ok.ipynb").exists()
    assert "1 of 2 notebooks ok" in capsys.readouterr().out


def test_reproduce_without_notebooks_exits_2(tmp_path, capsys):
    assert main(["reproduce", "--notebooks", str(tmp_path), "--output", str(tmp_path / "o")]) == 2
    assert "no notebooks" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()

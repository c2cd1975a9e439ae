"""The paper folder: fresh tables, regenerated figures, main.tex points at real files."""

from __future__ import annotations

import matplotlib

matplotlib.use("agg")

import re  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from faultray_lab.cli import main  # noqa: E402
from faultray_lab.evaluation.published import (  # noqa: E402  # noqa: E402
    PUBLISHED_DEMO,
    PUBLISHED_LAYERS,
    load_published,
    matches_published,
)
from faultray_lab.outputs.paper import build_paper
from faultray_lab.outputs.tables import fmt, latex_escape, latex_tabular

ROOT = Path(__file__).resolve().parents[1]
PAPER = ROOT / "paper"
INCIDENTS = ROOT / "incidents" / "paper-18"
PUBLISHED = ROOT / "incidents" / "paper-18-published.json"
PROSPECTIVE = ROOT / "incidents" / "remodeled-18"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Everything regenerated once into a temporary paper folder (figures as PDF only)."""
    out = tmp_path_factory.mktemp("paper")
    result = build_paper(out, incidents=INCIDENTS, published=PUBLISHED, formats=("pdf",),
                         prospective=PROSPECTIVE)
    return out, result


def test_tables_are_fresh(built):
    """The committed tables equal freshly regenerated ones: the paper shows no stale number.

    If this fails after a change to the engine or the data, run `faultray-lab figures` from the
    repository root and commit paper/tables and paper/figures.
    """
    out, _ = built
    fresh = sorted(p.name for p in (out / "tables").iterdir())
    committed = sorted(p.name for p in (PAPER / "tables").iterdir() if p.suffix in (".csv",
                                                                                  ".tex"))
    assert fresh == committed
    for name in fresh:
        assert (out / "tables" / name).read_text() == (PAPER / "tables" / name).read_text(), (
            f"paper/tables/{name} is stale: run `faultray-lab figures`")


def test_figures_written(built):
    out, result = built
    names = {p.stem for p in result["figures"]}
    assert {"cascade_demo", "what_if_demo", "backtest_metrics", "backtest_downtime",
            "availability_layers", "risk_distribution", "prospective_robustness"} <= names
    assert result["notes"] == []
    for p in result["figures"]:
        assert p.read_bytes().startswith(b"%PDF")
    for name in names:  # every generated figure is committed in all three formats
        for fmt_ in ("pdf", "png", "svg"):
            assert (PAPER / "figures" / f"{name}.{fmt_}").is_file(), f"{name}.{fmt_}"
    committed = {p.stem for p in (PAPER / "figures").iterdir() if p.suffix == ".pdf"}
    assert committed <= names, (
        f"paper/figures holds {sorted(committed - names)}, which `faultray-lab figures` does "
        "not regenerate: add them to faultray_lab/paper.py:paper_figures")


def test_reproduced_table_matches_published(built):
    out, _ = built
    df = pd.read_csv(out / "tables" / "backtest_reproduced.csv").set_index("metric")
    published, _ = load_published(PUBLISHED)
    for metric, row in df.iterrows():
        assert row["published"] == published[metric]
        assert matches_published(row["faultray_v11"], row["published"]), metric
        assert row["faultray_v11_low"] <= row["faultray_v11"] <= row["faultray_v11_high"]


def test_demo_tables_match_reference(built):
    out, _ = built
    sweep = pd.read_csv(out / "tables" / "demo_sweep.csv").set_index("source")
    v11 = sweep.loc["reproduced (faultray-v11)"]
    for key, value in PUBLISHED_DEMO.items():
        assert v11[key] == value, key
    layers = pd.read_csv(out / "tables" / "availability_layers.csv").set_index("layer")
    for name, value in PUBLISHED_LAYERS.items():
        assert round(layers.loc[name, "availability"], 8) == value, name
    assert layers["binding"].sum() == 1 and layers.loc["software", "binding"]


def test_main_tex_points_at_generated_files():
    tex = (PAPER / "main.tex").read_text()
    inputs = re.findall(r"\\(?:input|tbl)\{(?:tables/)?([^}]+?)(?:\.tex)?\}", tex)
    figures = re.findall(r"\\includegraphics(?:\[[^]]*\])?\{([^}]+)\}", tex)
    assert len(inputs) >= 5 and len(figures) >= 4
    for name in inputs:
        if name == "#1":  # the input inside the tbl macro
            continue
        assert (PAPER / "tables" / f"{Path(name).name}.tex").is_file(), name
    for name in figures:
        assert (PAPER / "figures" / name).is_file(), name


def test_main_tex_claims_match_tables():
    """The prose quotes numbers from the tables; keep it honest when they change."""
    tex = (PAPER / "main.tex").read_text()
    base = pd.read_csv(PAPER / "tables" / "backtest_baselines.csv").set_index("method")
    assert f"{base.loc['all-components', 'f1']:.3f}" == "0.942" and "0.942" in tex
    assert base.loc["reverse-reachable", "f1"] == 1.0 and "also scores F1 1.000" in tex
    assert (base.filter(like="margin", axis=0)["f1"] == 0).all() and "is 0:" in tex
    wi = pd.read_csv(PAPER / "tables" / "what_if.csv").set_index("what_if")
    assert wi.loc["postgres x2", "ceiling"] == wi.loc["baseline", "ceiling"]
    assert wi.loc["postgres x2", "floor"] > wi.loc["baseline", "floor"]


def test_latex_helpers():
    assert latex_escape("a_b & 50% {x}") == r"a\_b \& 50\% \{x\}"
    tab = latex_tabular(["m", "v"], [["f_1", "1.000"]])
    assert tab.splitlines()[0] == r"\begin{tabular}{lr}" and r"f\_1 & 1.000 \\" in tab
    assert (fmt(0.8194444), fmt(3159.527, 2), fmt(float("nan")), fmt(7)) == (
        "0.819", "3159.53", "", "7")


def test_cli_figures_bad_input(tmp_path, capsys):
    assert main(["figures", "--output", str(tmp_path), "--incidents",
                 str(tmp_path / "none")]) == 2
    assert "incident folder not found" in capsys.readouterr().err
    assert not (tmp_path / "tables").exists()  # nothing half-written
    assert main(["figures", "--output", str(tmp_path), "--incidents", str(INCIDENTS),
                 "--published", str(tmp_path / "missing.json"), "--tables-only"]) == 2


def test_cli_figures_tables_only(tmp_path, capsys):
    assert main(["figures", "--output", str(tmp_path), "--incidents", str(INCIDENTS),
                 "--published", "none", "--tables-only", "--bootstrap", "200"]) == 0
    # six tables from the incidents and the demo, one from the remodeled and independent cohorts
    out = capsys.readouterr().out
    assert "14 table files, 0 figure files" in out
    df = pd.read_csv(tmp_path / "tables" / "backtest_reproduced.csv")
    assert "published" not in df.columns


@pytest.mark.skipif(shutil.which("latexmk") is None and shutil.which("pdflatex") is None,
                    reason="LaTeX is not installed (CI does not need it)")
def test_make_builds_the_pdf(tmp_path):
    copy = tmp_path / "paper"
    shutil.copytree(PAPER, copy, ignore=shutil.ignore_patterns("*.pdf", "*.aux", "*.log"))
    shutil.copytree(PAPER / "figures", copy / "figures", dirs_exist_ok=True)
    res = subprocess.run(["make", "-C", str(copy)], capture_output=True, text=True,
                         timeout=300, check=False)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert (copy / "main.pdf").read_bytes().startswith(b"%PDF")
    log = (copy / "main.log").read_text(errors="replace")
    assert "There were undefined references" not in log
    assert "LaTeX Warning: File" not in log  # no missing figure or table

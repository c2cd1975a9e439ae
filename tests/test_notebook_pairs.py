"""The notebooks are jupytext pairs: ``notebooks/NN_name.ipynb`` (run by nbval and papermill)
and ``notebooks/NN_name.py`` (py:percent, reviewed and linted). Each pair must be in sync, have
one papermill ``parameters`` cell, store no outputs, use the package's current module paths and
write figures only through the figures registry (``faultray_lab.outputs.figures.save``)."""

from __future__ import annotations

import ast
import importlib.util
import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

jupytext = pytest.importorskip("jupytext")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
BOOKS = sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb") if not p.name.startswith("."))
TEXTS = sorted(p.stem for p in NOTEBOOKS.glob("*.py"))
#: Calls that write a figure file; notebooks leave that to ``figures.save``.
FIGURE_WRITERS = {"savefig", "save_figure", "print_figure", "imsave", "save_paper_figures"}


def cells(path: Path) -> list[tuple[str, str, tuple[str, ...]]]:
    """(cell type, source, tags) of every cell of a notebook or its py:percent text."""
    fmt = "py:percent" if path.suffix == ".py" else None
    nb = jupytext.read(path, fmt=fmt)
    return [(c.cell_type, c.source, tuple(c.metadata.get("tags", []))) for c in nb.cells]


def pair_differences(stem: str, folder: Path = NOTEBOOKS) -> list[str]:
    """How the two files of a pair differ (empty: in sync)."""
    ipynb, text = cells(folder / f"{stem}.ipynb"), cells(folder / f"{stem}.py")
    out = []
    if len(ipynb) != len(text):
        out.append(f"{len(ipynb)} cells in the .ipynb, {len(text)} in the .py")
    for i, (a, b) in enumerate(zip(ipynb, text, strict=False)):
        for what, x, y in zip(("type", "source", "tags"), a, b, strict=True):
            if x != y:
                out.append(f"cell {i}: {what} differs:\n  .ipynb: {x!r}\n  .py:    {y!r}")
    return out


def code_trees(stem: str) -> list[ast.Module]:
    """The parsed code cells of a notebook's .py text."""
    return [ast.parse(src) for kind, src, _ in cells(NOTEBOOKS / f"{stem}.py") if kind == "code"]


def call_name(node: ast.Call) -> str:
    f = node.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def test_notebooks_exist() -> None:
    assert len(BOOKS) >= 4, BOOKS


def test_every_notebook_has_its_pair() -> None:
    assert BOOKS == TEXTS, (f"without a .py: {sorted(set(BOOKS) - set(TEXTS))}; "
                            f"without a .ipynb: {sorted(set(TEXTS) - set(BOOKS))} "
                            "(run `jupytext --sync notebooks/*.py`)")


def test_pairing_is_declared() -> None:
    from jupytext.config import find_jupytext_configuration_file, load_jupytext_configuration_file

    config = load_jupytext_configuration_file(find_jupytext_configuration_file(str(NOTEBOOKS)))
    formats = config.formats if isinstance(config.formats, str) else ",".join(config.formats)
    assert formats == "ipynb,py:percent"


@pytest.mark.parametrize("stem", BOOKS)
def test_pair_in_sync(stem: str) -> None:
    diff = pair_differences(stem)
    assert not diff, (f"notebooks/{stem}.ipynb and .py differ; run `jupytext --sync "
                      f"notebooks/{stem}.py` (or .ipynb, whichever you edited):\n"
                      + "\n".join(diff[:5]))


@pytest.mark.parametrize("edit", ["source", "tags", "new cell"])
def test_a_desynchronised_pair_is_detected(edit: str, tmp_path: Path) -> None:
    """Editing only the .py of a pair (a line, a cell's tags, a new cell) is caught."""
    stem = BOOKS[0]
    for suffix in (".ipynb", ".py"):
        shutil.copy(NOTEBOOKS / f"{stem}{suffix}", tmp_path)
    assert not pair_differences(stem, tmp_path)
    py = tmp_path / f"{stem}.py"
    text = py.read_text()
    if edit == "source":
        text = text.replace("seed = 0", "seed = 1", 1)
    elif edit == "tags":
        text = text.replace('# %% tags=["parameters"]', "# %%", 1)
    else:
        text += "\n# %%\nprint('edited')\n"
    assert text != py.read_text()
    py.write_text(text)
    assert pair_differences(stem, tmp_path)


@pytest.mark.parametrize("stem", BOOKS)
def test_one_parameters_cell(stem: str) -> None:
    tagged = [c for c in cells(NOTEBOOKS / f"{stem}.ipynb") if "parameters" in c[2]]
    assert len(tagged) == 1, f"{stem}: {len(tagged)} cells tagged parameters"
    assert tagged[0][0] == "code"


@pytest.mark.parametrize("stem", BOOKS)
def test_no_outputs_stored(stem: str) -> None:
    import nbformat

    nb = nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4)
    nbformat.validate(nb)
    stored = [i for i, c in enumerate(nb.cells)
              if c.cell_type == "code" and (c.outputs or c.execution_count is not None)]
    assert not stored, f"{stem}: outputs stored in cells {stored}"


@pytest.mark.parametrize("stem", BOOKS)
def test_figures_only_through_the_registry(stem: str) -> None:
    from faultray_lab.outputs.figures import FIGURES

    saved = []
    for tree in code_trees(stem):
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = call_name(node)
            assert name not in FIGURE_WRITERS, (
                f"{stem}.py line {node.lineno}: {name}() writes a figure; use figures.save")
            f = node.func
            if (name == "save" and isinstance(f, ast.Attribute)
                    and isinstance(f.value, ast.Name) and f.value.id == "figures"):
                first = node.args[0] if node.args else None
                assert isinstance(first, ast.Constant) and first.value in FIGURES, (
                    f"{stem}.py line {node.lineno}: figures.save needs a registered name")
                assert any(k.arg == "output_dir" for k in node.keywords), (
                    f"{stem}.py line {node.lineno}: pass output_dir (a notebook parameter)")
                saved.append(first.value)
    assert len(saved) == len(set(saved)), f"{stem}: a figure saved twice: {saved}"


def _moved_modules() -> set[str]:
    from faultray_lab import _moved

    return set(_moved.MOVED)


def imports(stem: str) -> list[ast.Import | ast.ImportFrom]:
    return [n for tree in code_trees(stem) for n in ast.walk(tree)
            if isinstance(n, ast.Import | ast.ImportFrom)]


@pytest.mark.parametrize("stem", BOOKS)
def test_current_module_paths_only(stem: str) -> None:
    """No old flat module path (``faultray_lab.plots``, ``.backtest``, ...), statically, and the
    notebook's imports run without a DeprecationWarning."""
    old = _moved_modules()
    for node in imports(stem):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            paths = [module] + ([f"{module}.{a.name}" for a in node.names]
                                if module == "faultray_lab" else [])
        else:
            paths = [a.name for a in node.names]
        for path in paths:
            parts = path.split(".")
            assert not (parts[0] == "faultray_lab" and len(parts) > 1 and parts[1] in old), (
                f"{stem}.py line {node.lineno}: old module path {path}")
    namespace: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        for node in imports(stem):
            exec(compile(ast.Module([node], []), f"{stem}.py", "exec"), namespace)


@pytest.mark.skipif(importlib.util.find_spec("ruff") is None, reason="ruff not installed")
def test_notebook_texts_are_ruff_clean() -> None:
    run = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "notebooks"],
                         cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr

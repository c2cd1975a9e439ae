"""Build notebooks from (kind, source) cell lists, byte-stably (shared by make_notebooks_*).

Kinds: ``md`` (Markdown), ``code``, and ``parameters`` / ``summary`` (code cells carrying that
tag: papermill's parameters cell, the cells ``faultray-lab reproduce`` collects).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

TAGGED = ("parameters", "summary")


def build(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    """A notebook of these cells, with a python3 kernelspec and stable cell ids."""
    nb = new_notebook()
    for kind, src in cells:
        if kind == "md":
            nb.cells.append(new_markdown_cell(src))
            continue
        cell = new_code_cell(src)
        if kind in TAGGED:
            cell.metadata["tags"] = [kind]
        nb.cells.append(cell)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for i, cell in enumerate(nb.cells):  # stable ids: regeneration does not churn git
        cell["id"] = f"cell-{i:02d}"
    nbformat.validate(nb)
    return nb


def write(cells: list[tuple[str, str]], path: str | Path) -> Path:
    """Build and write a notebook atomically, without outputs."""
    from faultray_lab.common.files import atomic_write_text

    out = atomic_write_text(path, nbformat.writes(build(cells)) + "\n")
    print(f"wrote {path}")
    return out

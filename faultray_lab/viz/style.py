"""The paper style: one look for every figure, and deterministic, atomic figure files.

Every ``plot_*`` function of :mod:`faultray_lab.viz` takes an optional Matplotlib ``Axes`` and
returns the ``Figure``; :func:`save_figure` writes it deterministically (no timestamps in PDF or
SVG metadata) and atomically. The paper's figures are written by the figures registry
(:mod:`faultray_lab.outputs.figures`), which calls :func:`save_figure`.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("agg")
>>> fig, ax = new_figure()
>>> _ = ax.plot([0, 1], [0, 1])
>>> float(fig.get_size_inches()[0]) == SINGLE_COLUMN_IN
True
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..common.files import atomic_write_bytes

#: Okabe-Ito palette (colour-blind safe).
PALETTE = {
    "black": "#000000", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7",
}
HEALTH_COLORS = {"healthy": "#BBBBBB", "degraded": PALETTE["yellow"],
                 "overloaded": PALETTE["orange"], "down": PALETTE["vermillion"]}
SINGLE_COLUMN_IN = 3.5
DOUBLE_COLUMN_IN = 7.16

PAPER_RC: dict[str, Any] = {
    "pdf.fonttype": 42,          # embed TrueType fonts
    "ps.fonttype": 42,
    "svg.fonttype": "path",
    "svg.hashsalt": "faultray-lab",  # deterministic SVG ids
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "legend.fontsize": 7,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": 150,
    "savefig.bbox": "tight",
    "axes.prop_cycle": None,  # set below
}


def paper_style() -> dict[str, Any]:
    """The rcParams of the paper style (use with ``matplotlib.rc_context``)."""
    from cycler import cycler

    rc = dict(PAPER_RC)
    rc["axes.prop_cycle"] = cycler(color=[PALETTE[k] for k in (
        "blue", "vermillion", "green", "orange", "purple", "sky", "yellow", "black")])
    return rc


def new_figure(width: str | float = "single", height: float | None = None) -> tuple[Any, Any]:
    """A figure of single- or double-column width with one Axes, in the paper style."""
    import matplotlib.pyplot as plt

    w = {"single": SINGLE_COLUMN_IN, "double": DOUBLE_COLUMN_IN}.get(width, width)  # type: ignore
    h = height if height is not None else float(w) * 0.7  # type: ignore[arg-type]
    with plt.rc_context(paper_style()):
        fig, ax = plt.subplots(figsize=(w, h))
    return fig, ax


def axes_for(ax: Any, width: str | float = "single",
             height: float | None = None) -> tuple[Any, Any]:
    """``ax`` and its figure, or a new paper-style figure and axes when ``ax`` is None."""
    if ax is None:
        return new_figure(width, height)
    return ax.figure, ax


def save_figure(fig: Any, name: str, outdir: str | os.PathLike[str] = "paper/figures",
                formats: Iterable[str] = ("pdf", "png")) -> list[Path]:
    """Save ``fig`` as ``outdir/name.<fmt>`` for each format, deterministically and atomically.

    PDF and SVG carry no creation date, so the same figure gives the same bytes.
    """
    import matplotlib.pyplot as plt

    paths = []
    with plt.rc_context(paper_style()):
        for fmt in formats:
            buf = io.BytesIO()
            meta: dict[str, Any] | None = None
            if fmt == "pdf":
                meta = {"CreationDate": None, "ModDate": None, "Producer": "faultray-lab"}
            elif fmt == "svg":
                meta = {"Date": None}
            elif fmt == "png":
                meta = {"Software": "faultray-lab"}
            fig.savefig(buf, format=fmt, metadata=meta, dpi=300 if fmt == "png" else None)
            paths.append(atomic_write_bytes(Path(outdir) / f"{name}.{fmt}", buf.getvalue()))
    return paths




def figure_png(fig: Any, dpi: int = 110) -> bytes:
    """A figure as PNG bytes (the figure is closed afterwards), e.g. for an ipywidgets Image."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight",
                metadata={"Software": "faultray-lab"})
    plt.close(fig)
    return buf.getvalue()


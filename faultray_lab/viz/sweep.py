"""The scenario sweep's figure: the risk distribution by class.
"""

from __future__ import annotations

from typing import Any

from ..common.errors import InputError
from .style import PALETTE, axes_for, paper_style

CLASS_COLORS = {"passed": PALETTE["green"], "warning": PALETTE["orange"],
                "critical": PALETTE["vermillion"]}


def plot_risk_distribution(sweep_df: Any, ax: Any = None) -> Any:
    """Histogram of scenario risk (0-10), stacked by class, with the class thresholds.

    Parameters
    ----------
    sweep_df : DataFrame
        A :func:`~faultray_lab.scenarios.sweep.run_sweep` result (columns ``risk`` and ``class``).
    ax : matplotlib Axes, optional
        Draw here; a new single-column figure otherwise.

    Returns
    -------
    Figure

    Examples
    --------
    >>> import faultray_lab as fl
    >>> topo = fl.load_topology(fl.demo_topology_path())
    >>> fig = plot_risk_distribution(fl.run_sweep(topo, rules="faultray-v11"))
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['passed (150)', 'warning (84)', 'critical (21)']
    """
    import matplotlib.pyplot as plt
    import numpy as np

    missing = {"risk", "class"} - set(getattr(sweep_df, "columns", ()))
    if missing:
        raise InputError(None, "sweep_df", f"missing column(s) {sorted(missing)}",
                         "pass the DataFrame returned by run_sweep")
    fig, ax = axes_for(ax)
    with plt.rc_context(paper_style()):
        bins = np.arange(0.0, 10.5 + 1e-9, 0.5)
        classes = ["passed", "warning", "critical"]
        data = [sweep_df.loc[sweep_df["class"] == c, "risk"].to_numpy(float) for c in classes]
        ax.hist(data, bins=bins, stacked=True, color=[CLASS_COLORS[c] for c in classes],
                label=[f"{c} ({len(d)})" for c, d in zip(classes, data, strict=True)],
                edgecolor="white", linewidth=0.3)
        for x in (4.0, 7.0):
            ax.axvline(x, color=PALETTE["black"], linewidth=0.6, linestyle="--")
        ax.set_xlim(0, 10.5)
        ax.set_xlabel("risk (severity of the merged chain)")
        ax.set_ylabel("scenarios")
        ax.legend(frameon=False)
    return fig

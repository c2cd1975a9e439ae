"""Availability figures: the five layers, common causes and the DSB reproduction.
"""

from __future__ import annotations

from typing import Any

from ..availability.layers import nines
from .style import PALETTE, axes_for, paper_style


def plot_availability_layers(summary: Any, ax: Any = None) -> Any:
    """The five availability layers in nines, the binding layer highlighted, with the ceiling
    (min of the layers) and the floor (their product) as vertical lines.

    A layer at availability 1 (e.g. no external dependency) is drawn at the axis edge and
    labelled "1 (no loss)".

    Parameters
    ----------
    summary : AvailabilitySummary
        A :func:`faultray_lab.availability.layers.availability_layers` result.
    ax : matplotlib Axes, optional

    Returns
    -------
    Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("agg")
    >>> from faultray_lab import load_topology, demo_topology_path, availability_layers
    >>> fig = plot_availability_layers(availability_layers(load_topology(demo_topology_path())))
    >>> len(fig.axes[0].patches)
    5
    """
    import matplotlib.pyplot as plt

    table = summary.table
    finite = [v for v in table["nines"] if v != float("inf")]
    ceiling_n, floor_n = nines(summary.ceiling), nines(summary.floor)
    top = max(finite + [ceiling_n if ceiling_n != float("inf") else 0.0, 1.0]) + 1.0
    with plt.rc_context(paper_style()):
        fig, ax = axes_for(ax, "single", 2.4)
        names = list(table["layer"])[::-1]
        rows = table.set_index("layer").loc[names]
        values = [min(v, top) for v in rows["nines"]]
        colors = [PALETTE["vermillion"] if b else PALETTE["sky"] for b in rows["binding"]]
        ax.barh(names, values, color=colors, height=0.6)
        for y, (_, r) in enumerate(rows.iterrows()):
            label = "1 (no loss)" if r["availability"] >= 1.0 else f"{r['availability']:.6f}"
            if r["binding"]:
                label += "  binding"
            ax.text(0.05, y, label, va="center", ha="left", fontsize=6, color="black")
        if ceiling_n != float("inf"):
            ax.axvline(ceiling_n, color=PALETTE["vermillion"], lw=1, ls="--",
                       label=f"ceiling {summary.ceiling:.6f}")
        if floor_n != float("inf"):
            ax.axvline(floor_n, color=PALETTE["black"], lw=1, ls=":",
                       label=f"floor {summary.floor:.6f}")
        ax.set_xlim(0, top)
        ax.set_xlabel("nines, -log10(1 - A)")
        ax.set_title(f"Five-layer availability (binding: {summary.binding_layer})")
        ax.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2,
                  fontsize=6)
    return fig


def plot_common_cause(frame: Any, ax: Any = None) -> Any:
    """System availability against the common-cause fraction beta: the independent product
    (flat: it cannot see the shared cause), the exact value and the Monte Carlo estimate with
    4-standard-error bars.

    Parameters
    ----------
    frame : DataFrame
        A :func:`faultray_lab.availability.system.common_cause_sweep` result.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("agg")
    >>> from faultray_lab import topology_from_dict
    >>> from faultray_lab.availability import common_cause_sweep
    >>> t = topology_from_dict({"components": [{"id": "a", "replicas": 2}]})
    >>> df = common_cause_sweep(t, ["a"], [0, 0.5, 1], trials=2000, availability={"a": 0.9})
    >>> fig = plot_common_cause(df)
    """
    import matplotlib.pyplot as plt

    with plt.rc_context(paper_style()):
        fig, ax = axes_for(ax)
        ax.plot(frame["beta"], frame["independent_product"], color=PALETTE["orange"], lw=1.2,
                ls="--", label="independent product")
        ax.plot(frame["beta"], frame["exact"], color=PALETTE["blue"], lw=1.2, label="exact")
        ax.errorbar(frame["beta"], frame["montecarlo"], yerr=4 * frame["standard_error"],
                    fmt="o", ms=3, color=PALETTE["vermillion"], capsize=2, lw=0.8,
                    label="Monte Carlo (+/- 4 se)")
        ax.set_xlabel("common-cause fraction beta")
        ax.set_ylabel("system availability")
        ax.legend(frameon=False)
    return fig


def plot_dsb_reproduction(table: Any, ax: Any = None) -> Any:
    """DeathStarBench fail-stop reproduction: our Monte Carlo estimate (with 4-se bars) and exact
    value against the published model and live means, per mode and failure fraction.

    Parameters
    ----------
    table : DataFrame
        A :func:`faultray_lab.availability.failstop.reproduce_dsb` result.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("agg")
    >>> from faultray_lab.availability.failstop import reproduce_dsb
    >>> fig = plot_dsb_reproduction(reproduce_dsb(trials=2000))
    """
    import matplotlib.pyplot as plt

    colors = {"norepl": PALETTE["blue"], "repl": PALETTE["green"]}
    with plt.rc_context(paper_style()):
        fig, ax = axes_for(ax)
        for mode, g in table.groupby("mode", sort=False):
            c = colors.get(mode, PALETTE["purple"])
            ax.plot(g["p_fail"], g["exact"], color=c, lw=1, label=f"{mode}: exact (ours)")
            ax.errorbar(g["p_fail"], g["model"], yerr=4 * g["standard_error"], fmt="o", ms=3,
                        color=c, capsize=2, lw=0.8, label=f"{mode}: Monte Carlo (ours)")
            ax.scatter(g["p_fail"], g["published_model"], marker="s", s=18, facecolors="none",
                       edgecolors=c, linewidths=0.8, label=f"{mode}: published model")
            ax.scatter(g["p_fail"], g["published_live"], marker="x", s=14, color=c,
                       linewidths=0.8, label=f"{mode}: published live")
        ax.set_xlabel("fraction of containers killed, p")
        ax.set_ylabel("aggregate availability R_avg")
        ax.legend(frameon=False, fontsize=5.5)
    return fig

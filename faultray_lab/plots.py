"""Publication figures: one paper style, vector output, a colour-blind safe palette.

Every ``plot_*`` function takes an optional Matplotlib ``Axes`` and returns the ``Figure``;
:func:`save_figure` writes it deterministically (no timestamps in PDF/SVG metadata) and
atomically.

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
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .fileio import atomic_write_bytes

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


def _axes(ax: Any, width: str | float = "single", height: float | None = None) -> tuple[Any, Any]:
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


# <<plots:cascade>> plot_cascade, plot_risk_distribution (issues 3, 6)

# ---- plot_risk_distribution (issue 6) -------------------------------------------------------
#: Colour of each scenario class in :func:`plot_risk_distribution`.
CLASS_COLORS = {"passed": PALETTE["green"], "warning": PALETTE["orange"],
                "critical": PALETTE["vermillion"]}


def plot_risk_distribution(sweep_df: Any, ax: Any = None) -> Any:
    """Histogram of scenario risk (0-10), stacked by class, with the class thresholds.

    Parameters
    ----------
    sweep_df : DataFrame
        A :func:`~faultray_lab.scenarios.run_sweep` result (columns ``risk`` and ``class``).
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
        from .errors import InputError

        raise InputError(None, "sweep_df", f"missing column(s) {sorted(missing)}",
                         "pass the DataFrame returned by run_sweep")
    fig, ax = _axes(ax)
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


# ---- plot_cascade (issue 3) -----------------------------------------------------------------
#: Line style of each dependency type in :func:`plot_cascade`.
EDGE_STYLES = {"requires": "solid", "optional": "dashed", "async": "dotted"}


def cascade_layout(topology: Any, sweeps: int = 4) -> dict[str, tuple[float, float]]:
    """A stable layered layout: component id -> (x, y), entry points on top (y = 0).

    The layer of a component is the longest dependency path to it from an entry point (a
    component nothing depends on); the members of a dependency cycle share one layer (the
    cycles are condensed first). Within a layer, components start in file order and are then
    reordered by a few barycenter sweeps (ties keep the previous order), so the same topology
    always gives the same picture.

    Parameters
    ----------
    topology : Topology
    sweeps : int
        Barycenter sweeps (down then up) to reduce edge crossings.

    Returns
    -------
    dict
        Component id -> (x, y); y is minus the layer, x lies in [-1, 1].

    Examples
    --------
    >>> from faultray_lab import load_topology, demo_topology_path
    >>> pos = cascade_layout(load_topology(demo_topology_path()))
    >>> pos["nginx"][1], pos["app-1"][1], pos["postgres"][1]
    (0.0, -1.0, -2.0)
    """
    import networkx as nx

    g = topology.graph
    cond = nx.condensation(g)
    members = cond.graph["mapping"]  # node -> scc index
    scc_layer: dict[int, int] = {}
    for s in nx.topological_sort(cond):
        preds = list(cond.predecessors(s))
        scc_layer[s] = 1 + max(scc_layer[p] for p in preds) if preds else 0
    layer = {c: scc_layer[members[c]] for c in topology.ids}
    n_layers = 1 + max(layer.values())
    rows: list[list[str]] = [[] for _ in range(n_layers)]
    for c in topology.ids:  # file order first
        rows[layer[c]].append(c)

    def reorder(row: list[str], neighbours: Any, pos_of: dict[str, int]) -> list[str]:
        keyed = []
        for i, c in enumerate(row):
            near = [pos_of[n] for n in neighbours(c) if n in pos_of and n != c]
            keyed.append((sum(near) / len(near) if near else float(i), i, c))
        return [c for _, _, c in sorted(keyed)]

    for _ in range(sweeps):
        for k in range(1, n_layers):  # down: by the dependents above
            above = {c: i for i, c in enumerate(rows[k - 1])}
            rows[k] = reorder(rows[k], g.predecessors, above)
        for k in range(n_layers - 2, -1, -1):  # up: by the dependencies below
            below = {c: i for i, c in enumerate(rows[k + 1])}
            rows[k] = reorder(rows[k], g.successors, below)
    width = max(len(r) for r in rows)
    pos: dict[str, tuple[float, float]] = {}
    for k, row in enumerate(rows):
        for i, c in enumerate(row):
            x = 0.0 if width == 1 else (i - (len(row) - 1) / 2) * 2.0 / (width - 1)
            pos[c] = (float(x), float(-k))
    return pos


def plot_cascade(topology: Any, cascade: Any = None, ax: Any = None) -> Any:
    """Draw the topology in a stable layered layout, coloured by the cascade's health.

    Nodes are coloured by health (:data:`HEALTH_COLORS`; unaffected components are healthy)
    and the faulted components get a thick black outline; an arrow ``a -> b`` means *a depends
    on b*, drawn solid for ``requires``, dashed for ``optional`` and dotted for ``async``. An
    edge with a circuit breaker carries an open square, and a breaker the cascade tripped
    (``cascade.tripped_breakers``) a black cross. Replicas above one are shown as ``xN``.

    Parameters
    ----------
    topology : Topology
    cascade : Cascade, optional
        The outcome to colour by; None draws the topology all healthy.
    ax : matplotlib Axes, optional
        Draw into this Axes; by default a new double-column figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("agg")
    >>> from faultray_lab import load_topology, demo_topology_path, simulate_fault
    >>> topo = load_topology(demo_topology_path())
    >>> fig = plot_cascade(topo, simulate_fault(topo, "postgres"))
    >>> len(fig.axes[0].collections) > 0
    True
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    pos = cascade_layout(topology)
    n_layers = 1 + int(-min(y for _, y in pos.values()))
    fig, ax = _axes(ax, "double", max(2.2, 0.8 * n_layers + 1.1))
    health = dict(cascade.health) if cascade is not None else {}
    targets = set(cascade.targets) if cascade is not None else set()
    tripped = set(cascade.tripped_breakers) if cascade is not None else set()
    node_size = 260.0
    radius_pt = (node_size ** 0.5) / 2 + 1.5
    with plt.rc_context(paper_style()):
        for e in topology.dependencies:
            (x0, y0), (x1, y1) = pos[e.source], pos[e.target]
            if e.source == e.target:
                continue
            rad = 0.25 if y0 == y1 else 0.0  # edges inside a cycle's layer arc
            ax.annotate("", xy=(x1, y1), xytext=(x0, y0), zorder=1,
                        arrowprops={"arrowstyle": "-|>", "color": "#555555", "lw": 0.8,
                                    "linestyle": EDGE_STYLES.get(e.type, "solid"),
                                    "shrinkA": radius_pt, "shrinkB": radius_pt,
                                    "mutation_scale": 7,
                                    "connectionstyle": f"arc3,rad={rad}"})
            if e.circuit_breaker or (e.source, e.target) in tripped:
                mx, my = x0 + 0.3 * (x1 - x0), y0 + 0.3 * (y1 - y0)  # at the caller's end
                if (e.source, e.target) in tripped:
                    ax.scatter([mx], [my], marker="X", s=55, c=PALETTE["black"], zorder=4,
                               linewidths=0)
                else:
                    ax.scatter([mx], [my], marker="s", s=28, facecolors="white",
                               edgecolors=PALETTE["black"], linewidths=0.8, zorder=4)
        ids = list(topology.ids)
        xs = [pos[c][0] for c in ids]
        ys = [pos[c][1] for c in ids]
        colors = [HEALTH_COLORS[health.get(c, "healthy")] for c in ids]
        widths = [2.2 if c in targets else 0.6 for c in ids]
        ax.scatter(xs, ys, s=node_size, c=colors, edgecolors=PALETTE["black"],
                   linewidths=widths, zorder=3)
        for c in ids:
            comp = topology.components[topology.index[c]]
            label = c if comp.replicas <= 1 else f"{c} x{comp.replicas}"
            ax.annotate(label, pos[c], xytext=(0, -10), textcoords="offset points",
                        ha="center", va="top", fontsize=6.5, zorder=5,
                        bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none",
                              "alpha": 0.85})
        handles = [Line2D([], [], marker="o", linestyle="", markersize=7,
                          markerfacecolor=HEALTH_COLORS[h], markeredgecolor=PALETTE["black"],
                          markeredgewidth=0.6, label=h) for h in HEALTH_COLORS]
        handles.append(Line2D([], [], marker="o", linestyle="", markersize=7,
                              markerfacecolor="white", markeredgecolor=PALETTE["black"],
                              markeredgewidth=2.0, label="faulted"))
        handles += [Line2D([], [], color="#555555", lw=0.9, linestyle=s, label=t)
                    for t, s in EDGE_STYLES.items()]
        handles.append(Line2D([], [], marker="s", linestyle="", markersize=5,
                              markerfacecolor="white", markeredgecolor=PALETTE["black"],
                              label="breaker"))
        handles.append(Line2D([], [], marker="X", linestyle="", markersize=6,
                              markerfacecolor=PALETTE["black"], markeredgewidth=0,
                              label="tripped breaker"))
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=5,
                  frameon=False, handlelength=2.2, columnspacing=1.2)
        if cascade is not None:
            who = ", ".join(cascade.targets) or "all components"
            ax.set_title(f"{cascade.fault} on {who} ({cascade.rules}): {len(health)} affected, "
                         f"{sum(1 for h in health.values() if h == 'down')} down, "
                         f"severity {cascade.severity:.1f}")
        ax.set_xlim(-1.25, 1.25)
        ax.set_ylim(-(n_layers - 1) - 0.45, 0.3)
        ax.set_axis_off()
    return fig


def plot_what_if(results: Any, axes: Any = None) -> Any:
    """Several what-if outcomes (:class:`~faultray_lab.widgets.WhatIfResult`) stacked, one legend.

    Each panel is :func:`plot_cascade` of one result on its changed topology, titled by its
    changes and outcome; only the last panel keeps the legend.

    Parameters
    ----------
    results : sequence of WhatIfResult
    axes : sequence of matplotlib Axes, optional
        One per result; by default a new double-column figure with one row per result.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("agg")
    >>> from faultray_lab import load_topology, demo_topology_path
    >>> from faultray_lab.widgets import evaluate
    >>> topo = load_topology(demo_topology_path())
    >>> fig = plot_what_if([evaluate(topo, "postgres"), evaluate(topo, "redis")])
    >>> len(fig.axes)
    2
    """
    import matplotlib.pyplot as plt

    results = list(results)
    if axes is None:
        with plt.rc_context(paper_style()):
            fig, axes = plt.subplots(len(results), 1, squeeze=False,
                                     figsize=(DOUBLE_COLUMN_IN, 2.6 * len(results) + 0.5))
        axes = list(axes[:, 0])
    fig = axes[0].figure
    for i, (res, ax) in enumerate(zip(results, axes, strict=True)):
        plot_cascade(res.topology, res.cascade, ax=ax)
        ax.set_title(f"({chr(97 + i)}) {res.changes_label()}: "
                     f"{len(res.health)} affected, {len(res.down)} down, "
                     f"severity {res.severity:.1f}")
        if i < len(results) - 1 and ax.get_legend() is not None:
            ax.get_legend().remove()
    return fig
# ---- end plot_cascade -----------------------------------------------------------------------

# <<plots:backtest>> plot_backtest and other backtest figures (issues 5, 4)
_BACKTEST_METRICS = (("precision", "precision"), ("recall", "recall"), ("f1", "F1"),
                     ("severity_accuracy", "severity\naccuracy"), ("confidence", "confidence"))


def plot_backtest(bt: Any, ax: Any = None) -> Any:
    """Per-incident backtest metrics of the engine beside each baseline, with 95% intervals.

    For each metric (precision, recall, F1, severity accuracy, confidence), one column per method
    (engine, all-components, root-only, reverse-reachable): small dots are the incidents, the
    large marker is the mean and the bar its bootstrap 95% interval.

    Parameters
    ----------
    bt : Backtest
        A :func:`faultray_lab.backtest.backtest` result.
    ax : matplotlib Axes, optional

    Returns
    -------
    Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("agg")
    >>> from faultray_lab.backtest import backtest
    >>> fig = plot_backtest(backtest("incidents/paper-18", n_boot=200))  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt
    import numpy as np

    from .backtest import BASELINES, ENGINE

    methods = (ENGINE, *BASELINES)
    colors = [PALETTE[k] for k in ("blue", "orange", "purple", "green")]
    markers = ("o", "s", "v", "D")
    with plt.rc_context(paper_style()):
        fig, ax = _axes(ax, "double", 2.6)
        frames = {ENGINE: bt.per_incident}
        for b in BASELINES:
            frames[b] = bt.baseline_incidents[bt.baseline_incidents["method"] == b]
        iv = bt.intervals.set_index(["method", "metric"])
        width = 0.8 / len(methods)
        for j, (method, color, marker) in enumerate(zip(methods, colors, markers, strict=True)):
            df = frames[method]
            df = df[df["severity_label"].notna()]
            for i, (col, _) in enumerate(_BACKTEST_METRICS):
                x = i - 0.4 + width * (j + 0.5)
                vals = df[col].to_numpy(dtype=float)
                if len(vals):  # deterministic spread of the incident dots
                    offs = np.linspace(-width * 0.3, width * 0.3, len(vals))
                    ax.scatter(x + offs, vals, s=4, color=color, alpha=0.35, linewidths=0)
                if (method, col) in iv.index:
                    r = iv.loc[(method, col)]
                    ax.errorbar([x], [r["estimate"]],
                                yerr=[[r["estimate"] - r["low"]], [r["high"] - r["estimate"]]],
                                fmt=marker, color=color, ms=4, capsize=2, lw=1,
                                label=method if i == 0 else None)
        ax.set_xticks(range(len(_BACKTEST_METRICS)), [lab for _, lab in _BACKTEST_METRICS])
        ax.set_ylim(-0.03, 1.05)
        ax.set_ylabel("score (per incident; mean, 95% CI)")
        ax.set_title(f"Backtest, {bt.summary['n']} incidents ({bt.rules}): engine vs baselines; "
                     f"F1 margin over {bt.best_baseline} {bt.margin:+.3f}")
        ax.legend(ncol=len(methods), loc="lower center", bbox_to_anchor=(0.5, -0.38),
                  frameon=False)
    return fig


def plot_downtime_error(bt: Any, ax: Any = None) -> Any:
    """Predicted against actual downtime per incident (log scale), engine and baselines.

    Shows why the published downtime MAE is large: the engine predicts minutes, outages last
    hours to days.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("agg")
    >>> from faultray_lab.backtest import backtest
    >>> fig = plot_downtime_error(backtest("incidents/paper-18", n_boot=200))  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    from .backtest import BASELINES, ENGINE

    with plt.rc_context(paper_style()):
        fig, ax = _axes(ax)
        frames = [(ENGINE, bt.per_incident)] + [
            (b, bt.baseline_incidents[bt.baseline_incidents["method"] == b]) for b in BASELINES]
        colors = [PALETTE[k] for k in ("blue", "orange", "purple", "green")]
        lo, hi = 0.1, 10.0
        for (method, df), color in zip(frames, colors, strict=True):
            df = df[df["severity_label"].notna()]
            x = df["downtime_minutes"].astype(float).clip(lower=0.1)
            y = df["predicted_downtime_minutes"].astype(float).clip(lower=0.1)
            if len(x):
                lo, hi = min(lo, x.min(), y.min()), max(hi, x.max(), y.max())
            ax.scatter(x, y, s=8, color=color, label=method, alpha=0.8, linewidths=0)
        ax.plot([lo, hi], [lo, hi], color="#888888", lw=0.8, ls="--", label="perfect")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("actual downtime (min)")
        ax.set_ylabel("predicted downtime (min)")
        ax.legend(frameon=False, loc="upper left")
    return fig


# ---- prospective validation figures (issue 4) -------------------------------------------------
def plot_recovery_loo(result: Any, ax: Any = None) -> Any:
    """Leave-one-out downtime predictions against the truth (log-log), one colour per method.

    ``result`` is a :class:`~faultray_lab.recovery.RecoveryResult`; predictions below 1 minute
    are drawn at 1 minute.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("agg")
    >>> import pandas as pd
    >>> from faultray_lab.recovery import recovery_time_loo
    >>> df = pd.DataFrame({"id": list("abcd"), "log10_affected": [0.0, 0.3, 0.6, 0.9],
    ...     "stateful_affected": [0, 0, 1, 1], "load_fault": [0] * 4,
    ...     "log10_max_replicas": [0.0] * 4, "propagation_minutes": [1.0] * 4,
    ...     "downtime_minutes": [10.0, 20.0, 400.0, 800.0]})
    >>> fig = plot_recovery_loo(recovery_time_loo(df))
    """
    import matplotlib.pyplot as plt

    from .recovery import LOG_FLOOR_MINUTES, RECOVERY_METHODS

    with plt.rc_context(paper_style()):
        fig, ax = _axes(ax)
        pred = result.predictions
        colors = [PALETTE[k] for k in ("blue", "sky", "green", "orange", "vermillion")]
        lo, hi = LOG_FLOOR_MINUTES, 10.0
        for method, color in zip(RECOVERY_METHODS, colors, strict=True):
            if not len(pred):
                break
            x = pred["downtime_minutes"].astype(float).clip(lower=LOG_FLOOR_MINUTES)
            y = pred[method].astype(float).clip(lower=LOG_FLOOR_MINUTES)
            lo, hi = min(lo, x.min(), y.min()), max(hi, x.max(), y.max())
            mae = result.metrics.loc[method, "mae_log10"]
            ax.scatter(x, y, s=9, color=color, alpha=0.85, linewidths=0,
                       label=f"{method} ({float(mae):.2f})")
        ax.plot([lo, hi], [lo, hi], color="#888888", lw=0.8, ls="--")
        ax.set_xscale("log")
        ax.set_yscale("log")
        # head room above the points for the legend (log scale: a factor, not an offset)
        ax.set_ylim(lo / 1.5, hi * 10 ** (0.2 + 0.12 * len(RECOVERY_METHODS) * math.log10(
            max(hi / lo, 10.0))))
        ax.set_xlabel("actual downtime (min)")
        ax.set_ylabel("predicted downtime, leave-one-out (min)")
        ax.legend(frameon=False, loc="upper left", title="method (MAE of log10 min)",
                  fontsize=6, title_fontsize=6)
    return fig


def plot_severity_confusion(result: Any, ax: Any = None) -> Any:
    """The confusion matrix of the leave-one-out ordinal severity classes.

    ``result`` is a :class:`~faultray_lab.recovery.SeverityResult`.
    """
    import matplotlib.pyplot as plt

    with plt.rc_context(paper_style()):
        fig, ax = _axes(ax, height=2.4)
        cm = result.confusion
        if cm.size:
            ax.imshow(cm.to_numpy(), cmap="Blues")
            values = cm.to_numpy()
            for i in range(values.shape[0]):
                for j in range(values.shape[1]):
                    ax.text(j, i, str(int(values[i, j])), ha="center", va="center", fontsize=7)
            ax.set_xticks(range(len(cm.columns)), list(cm.columns))
            ax.set_yticks(range(len(cm.index)), list(cm.index))
        ax.set_xlabel("predicted class (leave-one-out thresholds)")
        ax.set_ylabel("true class")
    return fig


def plot_robustness(frame: Any, axes: Any = None) -> Any:
    """F1 against the perturbation rate, one panel per perturbation kind, with 95% intervals.

    ``frame`` is the output of :func:`~faultray_lab.prospective.robustness`; each cohort and
    method is one line (engine solid, baselines dashed).
    """
    import matplotlib.pyplot as plt

    kinds = list(dict.fromkeys(frame["kind"])) if len(frame) else ["(none)"]
    with plt.rc_context(paper_style()):
        if axes is None:
            fig, axes = plt.subplots(1, len(kinds), figsize=(DOUBLE_COLUMN_IN, 2.3),
                                     sharey=True, squeeze=False)
            axes = axes[0]
        else:
            fig = axes[0].figure
        colors = [PALETTE[k] for k in ("blue", "orange", "purple", "green", "vermillion",
                                       "sky", "black")]
        groups = list(dict.fromkeys(zip(frame["cohort"], frame["method"], strict=True)))
        for ax, kind in zip(axes, kinds, strict=False):
            sub = frame[frame["kind"] == kind]
            for k, (cohort, method) in enumerate(groups):
                g = sub[(sub["cohort"] == cohort) & (sub["method"] == method)].sort_values("rate")
                if not len(g):
                    continue
                color = colors[k % len(colors)]
                ax.plot(g["rate"], g["f1"], color=color, lw=1.0, marker="o", ms=2.5,
                        ls="-" if method == "engine" else "--", label=f"{cohort}: {method}")
                ax.fill_between(g["rate"], g["low"], g["high"], color=color, alpha=0.15,
                                linewidth=0)
            ax.set_title(kind)
            ax.set_xlabel("perturbation rate r")
        axes[0].set_ylabel("F1")
        axes[0].set_ylim(0, 1.02)
        axes[-1].legend(frameon=False, fontsize=5, loc="lower left")
    return fig


# <<plots:availability>> plot_availability_layers, common-cause and DSB figures (issue 7)
def plot_availability_layers(summary: Any, ax: Any = None) -> Any:
    """The five availability layers in nines, the binding layer highlighted, with the ceiling
    (min of the layers) and the floor (their product) as vertical lines.

    A layer at availability 1 (e.g. no external dependency) is drawn at the axis edge and
    labelled "1 (no loss)".

    Parameters
    ----------
    summary : AvailabilitySummary
        A :func:`faultray_lab.availability.availability_layers` result.
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

    from .availability import nines

    table = summary.table
    finite = [v for v in table["nines"] if v != float("inf")]
    ceiling_n, floor_n = nines(summary.ceiling), nines(summary.floor)
    top = max(finite + [ceiling_n if ceiling_n != float("inf") else 0.0, 1.0]) + 1.0
    with plt.rc_context(paper_style()):
        fig, ax = _axes(ax, "single", 2.4)
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
        A :func:`faultray_lab.availability.common_cause_sweep` result.

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
        fig, ax = _axes(ax)
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
        A :func:`faultray_lab.failstop.reproduce_dsb` result.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("agg")
    >>> from faultray_lab.failstop import reproduce_dsb
    >>> fig = plot_dsb_reproduction(reproduce_dsb(trials=2000))
    """
    import matplotlib.pyplot as plt

    colors = {"norepl": PALETTE["blue"], "repl": PALETTE["green"]}
    with plt.rc_context(paper_style()):
        fig, ax = _axes(ax)
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

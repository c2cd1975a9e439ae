"""Topology figures: a stable layered layout and the cascade drawn on it.
"""

from __future__ import annotations

from typing import Any

from .style import DOUBLE_COLUMN_IN, HEALTH_COLORS, PALETTE, axes_for, paper_style

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
    fig, ax = axes_for(ax, "double", max(2.2, 0.8 * n_layers + 1.1))
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
    """Several what-if outcomes stacked, one legend.

    ``results`` are :class:`~faultray_lab.scenarios.whatif.WhatIfResult` objects.

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
    >>> from faultray_lab.scenarios.whatif import evaluate
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

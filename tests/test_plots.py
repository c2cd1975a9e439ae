"""plot_cascade and its layered layout."""

from __future__ import annotations

import matplotlib

matplotlib.use("agg")

import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.patches import FancyArrowPatch  # noqa: E402

from faultray_lab import simulate_fault  # noqa: E402
from faultray_lab.model.topology import Component, Dependency, Topology  # noqa: E402
from faultray_lab.viz.cascade import EDGE_STYLES, cascade_layout, plot_cascade  # noqa: E402
from faultray_lab.viz.style import HEALTH_COLORS, save_figure


@pytest.fixture(autouse=True)
def _close_figures(close_figures):
    """Every test here closes its figures (the shared fixture in conftest.py)."""


def _node_colors(fig, topo):
    """Component id -> face colour of its node (the one scatter with a point per component)."""
    ax = fig.axes[0]
    nodes = [c for c in ax.collections if len(c.get_offsets()) == len(topo)]
    assert len(nodes) == 1
    return {cid: to_hex(fc) for cid, fc in zip(topo.ids, nodes[0].get_facecolors(), strict=True)}


def test_layout_layers_demo(demo):
    pos = cascade_layout(demo)
    layer = {c: -y for c, (x, y) in pos.items()}
    assert {c for c, k in layer.items() if k == 0} == {"nginx", "support-agent"}
    # longest path: nginx -> app-1 -> postgres puts postgres on layer 2
    assert layer["app-1"] == layer["app-2"] == 1
    assert layer["postgres"] == layer["redis"] == layer["rabbitmq"] == 2
    for e in demo.dependencies:
        assert layer[e.source] < layer[e.target]
    assert len(set(pos.values())) == len(demo)  # no two nodes on one spot
    assert all(-1.0 <= x <= 1.0 for x, _ in pos.values())


def test_layout_is_stable(demo):
    assert cascade_layout(demo) == cascade_layout(demo)
    rebuilt = Topology(demo.components, demo.dependencies)
    assert cascade_layout(rebuilt) == cascade_layout(demo)


def test_layout_cycle_shares_a_layer():
    topo = Topology(tuple(Component(c) for c in "abcd"),
                    (Dependency("a", "b"), Dependency("b", "c"), Dependency("c", "b", "async"),
                     Dependency("c", "c"), Dependency("c", "d")))
    layer = {c: -y for c, (_, y) in cascade_layout(topo).items()}
    assert layer == {"a": 0, "b": 1, "c": 1, "d": 2}


@st.composite
def graphs(draw):
    n = draw(st.integers(1, 12))
    ids = [f"c{i}" for i in range(n)]
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)),
                          max_size=3 * n, unique=True))
    types = draw(st.lists(st.sampled_from(sorted(EDGE_STYLES)), min_size=len(pairs),
                          max_size=len(pairs)))
    deps = tuple(Dependency(ids[s], ids[t], ty) for (s, t), ty in zip(pairs, types, strict=True))
    return Topology(tuple(Component(c) for c in ids), deps)


@settings(max_examples=60, deadline=None)
@given(graphs())
def test_layout_property(topo):
    pos = cascade_layout(topo)
    assert set(pos) == set(topo.ids)
    assert len(set(pos.values())) == len(topo)
    layer = {c: -y for c, (_, y) in pos.items()}
    comp = {c: i for i, scc in enumerate(nx.strongly_connected_components(topo.graph)) for c in scc}
    for e in topo.dependencies:
        if comp[e.source] == comp[e.target]:
            assert layer[e.source] == layer[e.target]  # a cycle shares its layer
        else:
            assert layer[e.source] < layer[e.target]  # dependencies lie below dependents
    # layer 0 holds exactly the components whose condensed node has no dependent
    cond = nx.condensation(topo.graph, scc=list(nx.strongly_connected_components(topo.graph)))
    top = {c for s in cond if cond.in_degree(s) == 0 for c in cond.nodes[s]["members"]}
    assert {c for c, k in layer.items() if k == 0} == top
    assert pos == cascade_layout(topo)


def test_nodes_coloured_by_health(demo):
    c = simulate_fault(demo, "redis")
    fig = plot_cascade(demo, c)
    colors = _node_colors(fig, demo)
    for cid in demo.ids:
        assert colors[cid] == HEALTH_COLORS[c.health.get(cid, "healthy")].lower(), cid
    assert colors["redis"] == HEALTH_COLORS["down"].lower()
    assert colors["postgres"] == HEALTH_COLORS["healthy"].lower()
    assert "severity" in fig.axes[0].get_title()


def test_no_cascade_is_all_healthy(demo):
    fig = plot_cascade(demo)
    assert set(_node_colors(fig, demo).values()) == {HEALTH_COLORS["healthy"].lower()}
    assert fig.axes[0].get_title() == ""


def test_legend_and_edge_styles(demo):
    fig = plot_cascade(demo, simulate_fault(demo, "postgres"))
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    for name in [*HEALTH_COLORS, *EDGE_STYLES, "faulted", "tripped breaker"]:
        assert name in labels
    arrows = [t.arrow_patch for t in ax.texts if isinstance(getattr(t, "arrow_patch", None),
                                                             FancyArrowPatch)]
    assert len(arrows) == len(demo.dependencies)
    styles = [a.get_linestyle() for a in arrows]
    want = [{"requires": "solid", "optional": "dashed", "async": "dotted"}[e.type]
            for e in demo.dependencies]
    assert styles == want


def test_tripped_breakers_marked(demo):
    def crosses(fig):
        return sum(len(col.get_offsets()) for col in fig.axes[0].collections
                   if len(col.get_offsets()) == 1 and col.get_paths()
                   and col.get_facecolors().size and to_hex(col.get_facecolors()[0]) == "#000000")

    plain = plot_cascade(demo, simulate_fault(demo, "postgres"))
    assert crosses(plain) == 0
    topo = demo.with_dependency("app-1", "postgres", circuit_breaker=True)
    c = simulate_fault(topo, "postgres")
    assert c.tripped_breakers == (("app-1", "postgres"),)
    assert crosses(plot_cascade(topo, c)) == 1
    # a breaker that does not trip (redis is not on the postgres cascade) gets an open marker
    quiet = demo.with_dependency("app-1", "redis", circuit_breaker=True)
    fig = plot_cascade(quiet, simulate_fault(quiet, "postgres"))
    assert crosses(fig) == 0
    squares = [col for col in fig.axes[0].collections if len(col.get_offsets()) == 1]
    assert len(squares) == 1


def test_draws_into_given_axes(demo):
    fig, axes = plt.subplots(1, 2)
    out = plot_cascade(demo, simulate_fault(demo, "nginx"), ax=axes[1])
    assert out is fig
    assert not axes[1].axison and axes[0].axison


def test_faulted_outline(demo):
    fig = plot_cascade(demo, simulate_fault(demo, "rabbitmq"))
    ax = fig.axes[0]
    nodes = [c for c in ax.collections if len(c.get_offsets()) == len(demo)][0]
    widths = dict(zip(demo.ids, nodes.get_linewidths(), strict=True))
    assert widths["rabbitmq"] > max(w for c, w in widths.items() if c != "rabbitmq")


def test_save_is_byte_deterministic(demo, tmp_path):
    c = simulate_fault(demo, "postgres")
    a = save_figure(plot_cascade(demo, c), "cascade", tmp_path / "a", formats=("pdf", "svg", "png"))
    b = save_figure(plot_cascade(demo, c), "cascade", tmp_path / "b", formats=("pdf", "svg", "png"))
    for pa, pb in zip(a, b, strict=True):
        assert pa.read_bytes() == pb.read_bytes(), pa.name

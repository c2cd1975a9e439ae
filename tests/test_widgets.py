"""What-if logic (plain functions) and the widget panel's wiring, without a browser."""

from __future__ import annotations

import matplotlib

matplotlib.use("agg")

import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import faultray_lab as fl
from faultray_lab import InputError, demo_topology_path, simulate_fault  # noqa: E402
from faultray_lab.engine.faults import FAULT_TYPES  # noqa: E402
from faultray_lab.model.topology import Component, Dependency, Topology  # noqa: E402
from faultray_lab.scenarios.whatif import (  # noqa: E402
    AFFECTED_COLUMNS,
    affected_table,
    apply_changes,
    compare,
    default_failed,
    evaluate,
    run_faults,
)
from faultray_lab.viz.widgets import WhatIfPanel, what_if

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _close_figures(close_figures):
    """Every test here closes its figures (the shared fixture in conftest.py)."""


# ---- apply_changes ----------------------------------------------------------------------------
def test_apply_changes(demo):
    t = apply_changes(demo, {("app-1", "postgres"): True}, {"postgres": 3})
    assert t.component("postgres").replicas == 3
    assert t.graph.edges["app-1", "postgres"]["circuit_breaker"] is True
    assert t.graph.edges["app-2", "postgres"]["circuit_breaker"] is False
    assert demo.component("postgres").replicas == 1  # input untouched
    back = apply_changes(t, {("app-1", "postgres"): False}, {"postgres": 1})
    assert back.dependencies == demo.dependencies and back.components == demo.components
    assert apply_changes(demo, [("nginx", "app-1")]).graph.edges["nginx", "app-1"][
        "circuit_breaker"]
    assert apply_changes(demo) is demo


@pytest.mark.parametrize("kwargs, where", [
    ({"breakers": [("postgres", "app-1")]}, "postgres -> app-1"),
    ({"breakers": {("app-1", "postgres"): "yes"}}, "breaker app-1 -> postgres"),
    ({"replicas": {"postgress": 2}}, "postgres"),
    ({"replicas": {"postgres": 0}}, "replicas"),
    ({"replicas": {"postgres": 1.5}}, "replicas"),
    ({"replicas": {"postgres": True}}, "replicas"),
])
def test_apply_changes_rejects_bad_input(demo, kwargs, where):
    with pytest.raises(InputError) as exc:
        apply_changes(demo, **kwargs)
    assert where in str(exc.value)


# ---- run_faults / affected_table --------------------------------------------------------------
def test_single_fault_equals_engine(demo):
    for rules in ("cps", "faultray-v11"):
        a = run_faults(demo, "postgres", rules=rules)
        b = simulate_fault(demo, "postgres", rules=rules)
        assert a.health == b.health and a.severity == b.severity
    assert run_faults(demo, ()) is None


def test_multi_fault_merge(demo):
    cps = run_faults(demo, ["redis", "rabbitmq"])
    assert cps.targets == ("redis", "rabbitmq")
    # cps: worst health wins, one effect per component
    assert len(cps.effects) == len(cps.health)
    assert cps.health["redis"] == cps.health["rabbitmq"] == "down"
    assert cps.likelihood == min(simulate_fault(demo, c).likelihood for c in ("redis", "rabbitmq"))
    v11 = run_faults(demo, ["redis", "rabbitmq"], rules="faultray-v11")
    parts = [simulate_fault(demo, c, rules="faultray-v11") for c in ("redis", "rabbitmq")]
    assert list(v11.effects) == [e for p in parts for e in p.effects]  # duplicates kept


def test_multi_fault_likelihood_cap():
    comps = tuple(Component(f"c{i}") for i in range(10))
    topo = Topology(comps, tuple(Dependency(f"c{i}", f"c{i + 1}") for i in range(9)))
    ids = [c.id for c in comps]
    single = simulate_fault(topo, "c0").likelihood
    assert run_faults(topo, ids[:4]).likelihood == single
    assert run_faults(topo, ids[:5]).likelihood == min(single, 0.3)
    assert run_faults(topo, ids[:9]).likelihood == min(single, 0.05)


@pytest.mark.parametrize("rules", ["cps", "faultray-v11"])
def test_run_faults_agrees_with_scenario_sweep(demo, rules):
    """The panel's multi-fault merge is the scenario merge of faultray_lab.scenarios."""
    from faultray_lab.scenarios.generate import Scenario
    from faultray_lab.scenarios.sweep import run_sweep

    comps = tuple(Component(f"c{i}", replicas=1 + i % 2) for i in range(10))
    chain = Topology(comps, tuple(Dependency(f"c{i}", f"c{i + 1}", "requires" if i % 3 else
                                             "optional") for i in range(9)))
    cases = [(demo, ("redis", "rabbitmq")), (demo, ("postgres", "nginx", "app-1")),
             (chain, ("c3", "c5", "c7", "c8", "c9")), (chain, tuple(f"c{i}" for i in range(9)))]
    for topo, targets in cases:
        for fault in ("component_down", "cpu_saturation"):
            s = Scenario("x", tuple((t, fault) for t in targets))
            row = run_sweep(topo, [s], rules=rules, progress=False).iloc[0]
            c = run_faults(topo, targets, fault, rules=rules)
            assert (row["risk"], row["likelihood"]) == (c.severity, c.likelihood), targets
            assert (row["affected"], row["down"]) == (len(c.health), len(c.down)), targets


def test_unknown_failed_component(demo):
    with pytest.raises(InputError, match="did you mean 'postgres'"):
        run_faults(demo, ["postgre"])


def test_affected_table_columns(demo):
    df = affected_table(demo, simulate_fault(demo, "postgres", rules="faultray-v11"))
    assert list(df.columns) == AFFECTED_COLUMNS
    assert df.component.is_unique
    assert df.set_index("component").loc["tool-db-query"].tolist()[:5] == [
        "tool_service", 1, "down", "R2", "postgres"]
    assert affected_table(demo, None).empty


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["nginx", "app-1", "postgres", "redis", "rabbitmq", "support-agent",
                        "llm-endpoint", "tool-db-query"]),
       st.sampled_from(FAULT_TYPES), st.sampled_from(["cps", "faultray-v11"]))
def test_affected_table_matches_cascade(demo, comp, fault, rules):
    c = simulate_fault(demo, comp, fault, rules=rules)
    df = affected_table(demo, c)
    assert dict(zip(df.component, df.health, strict=True)) == c.health
    assert list(df.component) == c.affected


# ---- evaluate ---------------------------------------------------------------------------------
def test_evaluate_baseline(demo):
    r = evaluate(demo, "postgres")
    assert r.failed == ("postgres",) and r.rules == "cps"
    assert sorted(r.down) == sorted(["postgres", "tool-db-query", "app-1", "app-2",
                                     "support-agent", "nginx"])
    assert r.severity == simulate_fault(demo, "postgres").severity
    assert len(r.affected) == 6
    assert r.tripped_breakers == ()
    assert "6 affected, 6 down" in r.summary()


def test_evaluate_replica_and_breaker(demo):
    base = evaluate(demo, "postgres")
    rep = evaluate(demo, "postgres", replicas={"postgres": 2})
    assert rep.health["app-1"] == rep.health["app-2"] == rep.health["nginx"] == "degraded"
    assert rep.down == ["postgres"]
    assert rep.severity < base.severity
    cb = evaluate(demo, "postgres", breakers={("app-1", "postgres"): True})
    assert cb.health["app-1"] == "degraded" and cb.health["app-2"] == "down"
    assert cb.tripped_breakers == (("app-1", "postgres"),)
    assert base.severity > cb.severity > rep.severity
    d = compare(base, cb)
    assert d.to_dict("records") == [{"component": "app-1", "before": "down", "after": "degraded"}]
    assert compare(base, base).empty


def test_evaluate_depth_bound_and_rules(demo):
    deep = evaluate(demo, "postgres", rules="faultray-v11", max_depth=20)
    shallow = evaluate(demo, "postgres", rules="faultray-v11", max_depth=0)
    assert len(shallow.health) < len(deep.health)
    assert evaluate(demo, "postgres", max_depth=0).health == evaluate(demo, "postgres").health
    with pytest.raises(InputError):
        evaluate(demo, "postgres", rules="cps2")
    with pytest.raises(InputError):
        evaluate(demo, "postgres", fault="meltdown")


def test_evaluate_nothing_failed(demo):
    r = evaluate(demo, ())
    assert r.cascade is None and r.severity == 0.0 and r.affected.empty and r.health == {}
    assert "on nothing" in r.summary()


def test_evaluate_availability_moves_with_replicas(demo):
    from faultray_lab.availability.layers import availability_layers

    base = evaluate(demo, "postgres")
    summary = availability_layers(demo)
    assert (base.ceiling, base.floor, base.binding_layer) == (
        summary.ceiling, summary.floor, summary.binding_layer)
    assert base.floor <= base.ceiling
    rep = evaluate(demo, "postgres", replicas={"postgres": 2})
    assert rep.layers["hardware"] > base.layers["hardware"]
    assert rep.floor > base.floor
    # the software layer binds the demo's ceiling, so a replica does not move it
    assert base.binding_layer == rep.binding_layer == "software"
    assert rep.ceiling == base.ceiling
    # breakers are not in the availability model
    cb = evaluate(demo, "postgres", breakers=[("app-1", "postgres")])
    assert (cb.ceiling, cb.floor) == (base.ceiling, base.floor)
    assert "ceiling 0.99840875 (software)" in base.summary()


def test_figure(demo):
    r = evaluate(demo, "postgres", breakers=[("app-1", "postgres")])
    fig = fl.plot_cascade(r.topology, r.cascade)
    assert "severity" in fig.axes[0].get_title()


def test_default_failed(demo):
    assert default_failed(demo) == "postgres"


# ---- the panel ----------------------------------------------------------------------------------
def test_panel_starts_on_worst_component(demo):
    panel = what_if(demo)
    assert isinstance(panel, WhatIfPanel)
    assert panel.result.failed == ("postgres",)
    assert bytes(panel.image.value).startswith(PNG)
    assert "severity 5.3" in panel.summary_html.value
    assert "tool-db-query" in panel.table_html.value
    assert "layers: software 0.998409, hardware 0.998902" in panel.summary_html.value
    assert panel.max_depth.disabled  # cps has no depth bound
    assert set(panel.breakers) == {(e.source, e.target) for e in demo.dependencies}
    assert set(panel.replicas) == set(demo.ids)


def test_panel_controls_redraw(demo):
    panel = what_if(demo)
    first = panel.image.value
    panel.failed.value = ("redis",)
    assert panel.result.failed == ("redis",)
    assert panel.result.health == simulate_fault(demo, "redis").health
    assert bytes(panel.image.value) != bytes(first)
    panel.failed.value = ("redis", "rabbitmq")
    assert panel.result.cascade.targets == ("redis", "rabbitmq")
    panel.fault.value = "cpu_saturation"
    assert panel.result.health["redis"] == "overloaded"
    panel.rules.value = "faultray-v11"
    assert panel.result.rules == "faultray-v11" and not panel.max_depth.disabled
    panel.failed.value = ("postgres",)
    panel.fault.value = "component_down"
    n_deep = len(panel.result.health)
    panel.max_depth.value = 0
    assert len(panel.result.health) < n_deep
    panel.failed.value = ()
    assert panel.result.cascade is None and "no affected components" in panel.table_html.value


def test_panel_breaker_and_replicas(demo):
    panel = what_if(demo)
    panel.breakers[("app-1", "postgres")].value = True
    assert panel.result.tripped_breakers == (("app-1", "postgres"),)
    assert panel.result.health["app-1"] == "degraded"
    assert "tripped app-1-&gt;postgres" in panel.summary_html.value
    panel.replicas["postgres"].value = 2
    assert panel.result.topology.component("postgres").replicas == 2
    assert panel.result.down == ["postgres"]
    assert panel.changes() == ({("app-1", "postgres"): True}, {"postgres": 2})
    panel.reset()
    assert panel.changes() == ({}, {})
    assert panel.result.health == simulate_fault(demo, "postgres").health


def test_panel_on_incident_and_path(demo, tmp_path):
    inc = pytest.importorskip("faultray_lab.evaluation.incidents")
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "incidents" / "paper-18"
    if not folder.is_dir():
        pytest.skip("incidents/paper-18 is not present")
    incident = inc.load_incidents(folder)[0]
    panel = what_if(incident)
    assert panel.result.failed == (incident.fault.component,)
    assert panel.fault.value == incident.fault.type
    assert panel.result.health == simulate_fault(incident.topology, incident.fault.component,
                                                 incident.fault.type).health
    by_path = what_if(demo_topology_path(), failed="nginx", rules="faultray-v11")
    assert by_path.result.failed == ("nginx",) and by_path.result.rules == "faultray-v11"


def test_panel_with_an_ablated_rule_set(demo):
    from faultray_lab import get_ruleset

    ablated = get_ruleset("cps").without("R2")
    panel = what_if(demo, rules=ablated)
    assert panel.rules.options == ("cps", "faultray-v11", ablated.name)
    assert panel.result.rules == ablated.name
    assert panel.result.down == ["postgres"]  # without R2 nothing else goes down
    panel.rules.value = "cps"
    assert len(panel.result.down) == 6
    assert evaluate(demo, "postgres", rules=ablated).down == ["postgres"]


def test_panel_rejects_bad_input(demo):
    with pytest.raises(InputError, match="cannot explore"):
        what_if(42)
    with pytest.raises(InputError):
        what_if(demo, failed="nope")
    with pytest.raises(InputError, match="unknown fault type"):
        what_if(demo, fault="meltdown")

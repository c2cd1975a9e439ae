"""The vectorized single-fault path equals per-fault simulate_fault (both rule sets, cycles)."""

from __future__ import annotations

import pytest
from _sweep_strategies import topologies
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import faultray_lab as fl
from faultray_lab.engine.cascade import simulate_fault
from faultray_lab.engine.fastpath import (
    chain_check,
    fault_chain,
    single_fault_summaries,
    single_fault_table,
)
from faultray_lab.engine.severity import severity_from_counts
from faultray_lab.model.topology import Component, Dependency, Topology

FAULTS = ["component_down", "cpu_saturation", "latency_spike", "memory_exhaustion",
          "llm_rate_limit", "hallucination"]


def _expected(topo: Topology, cid: str, fault: str, rules: str) -> tuple[dict, float, tuple]:
    c = simulate_fault(topo, cid, fault, rules=rules)
    raw = tuple(sum(1 for e in c.effects if e.health == h)
                for h in ("down", "overloaded", "degraded"))
    return dict(c.health), c.severity, raw


@pytest.mark.parametrize("rules", ["faultray-v11", "cps"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(topo=topologies(), fault=st.sampled_from(FAULTS))
def test_vectorized_equals_per_fault(rules: str, topo: Topology, fault: str) -> None:
    table = single_fault_table(topo, rules, fault)
    for i, cid in enumerate(topo.ids):
        health, sev, raw = _expected(topo, cid, fault, rules)
        got_health, got_sev = chain_check(topo, cid, fault, rules)
        assert got_health == health, (cid, fault)
        assert got_sev == sev
        assert fault_chain(topo, rules, i, fault).raw == raw
        row = table.iloc[i]
        assert row["severity"] == sev
        assert row["affected"] == len(health)
        assert row["down"] == sum(1 for h in health.values() if h == "down")


@settings(max_examples=40, deadline=None)
@given(topo=topologies(max_n=30))
def test_depth_bound_long_chains(topo: Topology) -> None:
    # a long requires chain appended: faultray-v11's depth bound (21 hops) must be reproduced
    k = 26
    comps = topo.components + tuple(Component(f"z{i}") for i in range(k))
    deps = topo.dependencies + tuple(Dependency(f"z{i + 1}", f"z{i}") for i in range(k - 1))
    deps += (Dependency("z0", topo.ids[0]), Dependency("z3", "z20", "optional"))
    big = Topology(comps, deps)
    for cid in ("z0", topo.ids[0]):
        health, sev, raw = _expected(big, cid, "component_down", "faultray-v11")
        assert chain_check(big, cid, "component_down", "faultray-v11") == (health, sev)
        assert fault_chain(big, "faultray-v11", big.index[cid], "component_down").raw == raw


@settings(max_examples=200, deadline=None)
@given(d=st.integers(0, 30), o=st.integers(0, 30), g=st.integers(0, 30),
       total=st.integers(0, 60), like=st.sampled_from([0.05, 0.2, 0.3, 0.5, 0.6, 0.7, 0.8, 1.0]))
def test_severity_from_counts_matches_chain_severity(d: int, o: int, g: int, total: int,
                                                     like: float) -> None:
    healths = ["down"] * d + ["overloaded"] * o + ["degraded"] * g
    assert severity_from_counts(d, o, g, total, like) == fl.chain_severity(healths, total, like)


def test_demo_golden_single_faults() -> None:
    topo = fl.load_topology(fl.demo_topology_path())
    df = single_fault_table(topo, "faultray-v11").set_index("component")
    golden = {"nginx": 0.9, "app-1": 1.8, "app-2": 1.8, "postgres": 5.3, "redis": 1.6,
              "rabbitmq": 1.3, "support-agent": 0.9, "llm-endpoint": 1.8, "tool-db-query": 1.8}
    assert df["severity"].to_dict() == golden
    assert single_fault_summaries(topo, "faultray-v11", "down").distinct_counts(
        topo.index["postgres"]) == (6, 6, 0, 0)


def test_custom_rule_sets_are_compiled_too() -> None:
    topo = fl.load_topology(fl.demo_topology_path())
    for rs in (fl.get_ruleset("cps").without("R2"), fl.get_ruleset("faultray-v11").without("R2")):
        df = single_fault_table(topo, rs)
        for i, (cid, sev) in enumerate(zip(df["component"], df["severity"], strict=True)):
            c = simulate_fault(topo, cid, rules=rs)
            assert sev == c.severity
            hmap = single_fault_summaries(topo, rs, "down").health_map(i)
            assert {topo.ids[k]: ("healthy", "degraded", "overloaded", "down")[r]
                    for k, r in hmap.items()} == c.health


def test_non_monotone_fixpoint_table_runs_the_engine() -> None:
    """A fixpoint table whose outcome drops as the upstream gets worse has no vectorized path;
    chains then come from the engine, so sweeps still equal simulate_fault."""
    topo = fl.load_topology(fl.demo_topology_path())
    odd = fl.RuleSet("odd", "fixpoint", (
        fl.Rule("X-down", ("requires",), ("down",), then=None),
        fl.Rule("X-slow", ("requires",), ("degraded", "overloaded"), then="down")))
    with pytest.raises(fl.InputError, match="not monotone"):
        single_fault_summaries(topo, odd, "down")
    df = single_fault_table(topo, odd, "cpu_saturation")
    for cid, sev in zip(df["component"], df["severity"], strict=True):
        assert sev == simulate_fault(topo, cid, "cpu_saturation", rules=odd).severity


def test_amplifying_fixpoint_table_runs_the_engine() -> None:
    """A table that makes a dependent worse than its upstream (a slow dependency takes its
    caller down) cannot be computed level by level; chains come from the engine instead."""
    topo = fl.load_topology(fl.demo_topology_path())
    harsh = fl.get_ruleset("cps").with_rule(
        fl.Rule("R-harsh", ("requires",), ("degraded", "overloaded"), then="down"), before="R2")
    with pytest.raises(fl.InputError, match="non-amplifying"):
        single_fault_summaries(topo, harsh, "overloaded")
    df = single_fault_table(topo, harsh, "cpu_saturation")
    for cid, sev, down in zip(df["component"], df["severity"], df["down"], strict=True):
        c = simulate_fault(topo, cid, "cpu_saturation", rules=harsh)
        assert (sev, down) == (c.severity, len(c.down))

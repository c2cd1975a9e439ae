"""The default scenario generator, the merge of chains, risk classes, score and SPOFs."""

from __future__ import annotations

import itertools

import pytest
from _sweep_strategies import topologies
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import faultray_lab as fl
from faultray_lab.engine.cascade import simulate_fault, simulate_traffic_spike
from faultray_lab.engine.faults import traffic_likelihood
from faultray_lab.engine.merge import merge_worst
from faultray_lab.model.topology import Component, Dependency, Topology
from faultray_lab.scenarios.generate import (
    Scenario,
    count_scenarios,
    generate_scenarios,
    iter_scenarios,
    risk_class,
)
from faultray_lab.scenarios.resilience import resilience_breakdown, resilience_score, spofs
from faultray_lab.scenarios.sweep import run_sweep


def test_demo_count_and_order(demo: Topology) -> None:
    s = generate_scenarios(demo)
    assert len(s) == 255 == count_scenarios(demo)
    ids = [x.id for x in s]
    assert len(set(ids)) == 255
    assert ids[:9] == [f"single-failure-{c}" for c in demo.ids]
    assert ids[54:59] == ["traffic-1.5x", "traffic-2x", "traffic-3x", "traffic-5x", "traffic-10x"]
    assert ids[59] == "pair-nginx-app-1" and ids[59 + 36] == "triple-nginx-app-1-app-2"
    assert "stampede-redis-2.0x" in ids and "down-traffic-nginx-3.0x" in ids
    agent = ids[-13:]
    assert agent == [
        "agent-hallucination-support-agent", "agent-context_overflow-support-agent",
        "agent-agent_loop-support-agent", "llm-llm_rate_limit-llm-endpoint",
        "llm-token_exhaustion-llm-endpoint", "llm-component_down-llm-endpoint",
        "tool-tool_failure-tool-db-query", "tool-component_down-tool-db-query",
        "tool-latency_spike-tool-db-query", "cross-layer-postgres-down", "cross-layer-redis-down",
        "prompt-injection-support-agent", "cascade-ratelimit-llm-endpoint"]
    meltdown = next(x for x in s if x.id == "cascading-meltdown")
    assert meltdown.targets == ("postgres", "redis", "rabbitmq")  # type rank 6, 5, 4; k = 3
    assert next(x for x in s if x.id == "black-friday").traffic_multiplier == 10.0


def test_golden_demo_v11(demo: Topology) -> None:
    df = run_sweep(demo, rules="faultray-v11")
    assert len(df) == 255
    assert df["class"].value_counts().to_dict() == {"passed": 150, "warning": 84, "critical": 21}
    assert resilience_score(demo) == 50.0
    b = resilience_breakdown(demo)
    assert (b["spof"], b["host"], b["failover"], b["utilization"], b["depth"]) == (
        30.0, 2.0, 12.0, 6.0, 0.0)
    row = df.set_index("id").loc["single-failure-postgres"]
    assert (row["risk"], row["affected"], row["down"]) == (5.3, 6, 6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(topo=topologies(max_n=12), data=st.data())
def test_lazy_slices_equal_the_full_list(topo: Topology, data: st.DataObject) -> None:
    full = generate_scenarios(topo)
    assert len(full) == count_scenarios(topo)
    a = data.draw(st.integers(0, len(full)))
    b = data.draw(st.integers(a, len(full) + 3))
    assert list(iter_scenarios(topo, a, b)) == full[a:b]


def test_pairs_unranking_at_scale() -> None:
    topo = Topology(tuple(Component(f"c{i}") for i in range(40)))
    full = [s.id for s in generate_scenarios(topo)]
    pairs = [f"pair-c{a}-c{b}" for a, b in itertools.combinations(range(40), 2)]
    start = full.index(pairs[0])
    assert full[start:start + len(pairs)] == pairs
    for a in (start + 1, start + 38, start + 39, start + 500, start + len(pairs) - 1):
        assert [s.id for s in iter_scenarios(topo, a, a + 3)] == full[a:a + 3]


def _slow_scenario(topo: Topology, s: Scenario, rules: str) -> tuple[float, dict[str, str]]:
    """Reference merge straight from semantics 2.5 / 3 with the engine's own functions."""
    chains = []
    if s.traffic_multiplier > 1:
        chains.append(simulate_traffic_spike(topo, s.traffic_multiplier, rules=rules))
    chains += [simulate_fault(topo, c, f, rules=rules) for c, f in s.faults]
    likes = [c.likelihood for c in chains if c.effects]
    like = min(likes) if likes else 1.0
    if len(topo) >= 10:
        r = len(s.faults) / len(topo)
        like = min(like, 0.05) if r >= 0.9 else min(like, 0.3) if r >= 0.5 else like
    if rules == "faultray-v11":
        healths = [e.health for c in chains for e in c.effects]
        merged = merge_worst(chains, like)
        return fl.chain_severity(healths, len(topo), like), dict(merged.health)
    merged = merge_worst(chains, like)
    return merged.severity, dict(merged.health)


@pytest.mark.parametrize("rules", ["faultray-v11", "cps"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(topo=topologies(max_n=12))
def test_sweep_equals_engine_merge(rules: str, topo: Topology) -> None:
    df = run_sweep(topo, rules=rules, max_scenarios=None)
    for s, row in zip(generate_scenarios(topo), df.to_dict("records"), strict=True):
        risk, health = _slow_scenario(topo, s, rules)
        assert row["id"] == s.id
        assert row["risk"] == risk, s.id
        assert row["class"] == risk_class(risk)
        assert row["affected"] == len(health)
        assert row["down"] == sum(1 for h in health.values() if h == "down")
        assert row["degraded"] == sum(1 for h in health.values() if h == "degraded")


def test_traffic_chain_likelihood_and_caps() -> None:
    comps = tuple(Component(f"c{i}", "cache", cpu_percent=40.0) for i in range(10))
    topo = Topology(comps)
    df = run_sweep(topo, rules="faultray-v11", max_scenarios=None).set_index("id")
    assert df.loc["traffic-10x", "likelihood"] == traffic_likelihood(10.0)
    assert df.loc["total-meltdown", "likelihood"] == 0.05  # r = 10/10 >= 0.9
    assert df.loc["black-friday", "likelihood"] == 0.05  # memory_exhaustion on all 10 caches
    assert df.loc["traffic-1.5x", "risk"] == 0.0 and df.loc["traffic-1.5x", "affected"] == 0
    assert df.loc["traffic-1.5x", "likelihood"] == 1.0  # no chain has effects


def test_risk_classes() -> None:
    assert [risk_class(x) for x in (0.0, 3.9, 4.0, 6.9, 7.0, 10.0)] == [
        "passed", "passed", "warning", "warning", "critical", "critical"]


def test_spofs(demo: Topology) -> None:
    df = spofs(demo, rules="faultray-v11")
    assert list(df["component"]) == ["app-1", "app-2", "postgres", "tool-db-query"]
    row = df.set_index("component").loc["postgres"]
    assert (row["requires_dependents"], row["down"]) == (3, 6)
    assert row["share_down"] == pytest.approx(6 / 9)
    # failover or a second replica removes a SPOF
    assert "postgres" not in set(spofs(demo.with_component("postgres", failover=True))["component"])
    assert "postgres" not in set(spofs(demo.with_component("postgres", replicas=2))["component"])


def test_score_depth_penalty_and_caps() -> None:
    chain = Topology(tuple(Component(f"c{i}", replicas=2, failover=True) for i in range(8)),
                     tuple(Dependency(f"c{i}", f"c{i + 1}") for i in range(7)))
    b = resilience_breakdown(chain)
    assert b["depth_nodes"] == 8 and b["depth"] == 9.0  # min(10, 3 * (8 - 5))
    assert b["score"] == 100.0 - 9.0
    assert resilience_score(Topology(())) == 0.0
    hot = Topology((Component("a", cpu_percent=99, memory_percent=99, disk_percent=99),) * 1)
    assert resilience_breakdown(hot)["utilization"] == 25.0  # 30 capped at 25

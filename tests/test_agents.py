"""The hallucination model (docs: semantics 5): worked values, annotation of cascades, propagation,
properties and bad input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faultray_lab import simulate_fault, topology_from_dict
from faultray_lab.common.errors import InputError
from faultray_lab.engine.agents import (
    agent_hallucination,
    agent_to_agent,
    annotate_agents,
    chain_hallucination,
    cross_layer_hallucination,
    hallucination_probability,
    propagate_agent_hallucination,
    source_hallucination,
)


# ---------------------------------------------------------------------------------------------
# worked values of semantics 5 (h0 = 0.05)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("sources,expected", [
    ([("down", 1.0)], 1.0),
    ([("down", 0.6)], 0.62),
    ([("degraded", 0.6)], 0.335),
    ([("overloaded", 0.6)], 0.221),
    ([("degraded", 0.0), ("degraded", 0.0)], 0.0975),
    ([("healthy", 1.0)], 0.05),
    ([], 0.05),
])
def test_worked_values(sources, expected):
    assert hallucination_probability(0.05, sources) == pytest.approx(expected, abs=1e-12)


def test_agent_to_agent_and_chain_worked_values():
    assert agent_to_agent(0.05, 0.3, gamma=1.0) == pytest.approx(0.335)
    assert agent_to_agent(0.05, 0.3, gamma=0.5) == pytest.approx(0.1925)
    assert chain_hallucination([0.05, 0.05, 0.05]) == pytest.approx(0.142625)
    assert chain_hallucination([]) == 0.0


def test_weight_is_clamped_and_factors_are_parameters():
    assert source_hallucination(0.05, "down", 2.0) == 1.0
    assert source_hallucination(0.05, "down", -1.0) == pytest.approx(0.05)
    assert source_hallucination(0.1, "degraded", 1.0, delta=0.2) == pytest.approx(0.1 + 0.9 * 0.2)
    assert source_hallucination(0.1, "overloaded", 1.0, omega=1.0) == pytest.approx(1.0)


@pytest.mark.parametrize("call", [
    lambda: hallucination_probability(1.5, []),
    lambda: hallucination_probability(-0.1, [("down", 1)]),
    lambda: hallucination_probability(0.05, [("broken", 1)]),
    lambda: hallucination_probability(0.05, [("down", float("nan"))]),
    lambda: hallucination_probability(0.05, [("down", "1")]),
    lambda: hallucination_probability(0.05, [("degraded", 1)], delta=2),
    lambda: agent_to_agent(0.05, 0.3, gamma=1.5),
    lambda: agent_to_agent(0.05, -0.3),
    lambda: chain_hallucination([0.5, 2.0]),
    lambda: chain_hallucination([True]),
])
def test_bad_parameters(call):
    with pytest.raises(InputError):
        call()


@settings(max_examples=80, deadline=None, derandomize=True)
@given(st.floats(0, 1), st.lists(st.tuples(st.sampled_from(["healthy", "degraded",
                                                            "overloaded", "down"]),
                                           st.floats(-1, 2)), max_size=6),
       st.floats(0, 1))
def test_properties(h0, sources, extra_w):
    h = hallucination_probability(h0, sources)
    assert 0.0 <= h <= 1.0
    assert h >= h0 - 1e-12                       # unhealthy sources never lower the risk
    more = hallucination_probability(h0, sources + [("down", extra_w)])
    assert more >= h - 1e-12                     # another failing source never lowers it
    # weights are clamped to [0, 1]
    heavier = [(s, min(1.0, max(0.0, w)) + 0.0) for s, w in sources]
    assert hallucination_probability(h0, heavier) == pytest.approx(h, abs=1e-12)


# ---------------------------------------------------------------------------------------------
# annotation of cascades
# ---------------------------------------------------------------------------------------------
def test_annotate_cps_uses_the_agents_own_sources(demo):
    c = simulate_fault(demo, "postgres", annotate_agents=True)
    # support-agent's sources: llm-endpoint healthy, tool-db-query down (w 0.8), redis healthy
    assert c.agent_hallucination == {"support-agent": pytest.approx(0.05 + 0.95 * 0.8)}
    plain = simulate_fault(demo, "postgres")
    assert c.health == plain.health and c.severity == plain.severity
    assert plain.agent_hallucination is None
    redis = simulate_fault(demo, "redis", annotate_agents=True).agent_hallucination
    assert redis == {"support-agent": pytest.approx(0.05 + 0.95 * 0.5)}  # optional edge, w 0.5
    llm = simulate_fault(demo, "llm-endpoint", annotate_agents=True).agent_hallucination
    assert llm == {"support-agent": pytest.approx(1.0)}
    nginx = simulate_fault(demo, "nginx", annotate_agents=True).agent_hallucination
    assert nginx == {}                           # the agent is not affected


def test_annotate_v11_uses_the_cross_layer_rule(demo):
    pg = simulate_fault(demo, "postgres", rules="faultray-v11", annotate_agents=True)
    assert pg.agent_hallucination == {"support-agent": 1.0}
    redis = simulate_fault(demo, "redis", rules="faultray-v11", annotate_agents=True)
    assert redis.agent_hallucination == {"support-agent": 1.0}  # grounding + cache
    # an llm endpoint is not a grounding store: the rule gives nothing, the agent keeps h0
    llm = simulate_fault(demo, "llm-endpoint", rules="faultray-v11", annotate_agents=True)
    assert llm.agent_hallucination == {"support-agent": 0.05}


def _agent_topo(grounding, target_type="database"):
    params = {"hallucination_risk": 0.1}
    if grounding is not None:
        params["requires_grounding"] = grounding
    return topology_from_dict({
        "components": [{"id": "agent", "type": "ai_agent", "parameters": params},
                       {"id": "store", "type": target_type}],
        "dependencies": [{"source": "agent", "target": "store", "type": "optional",
                          "weight": 0.4}]})


def test_cross_layer_rule_conditions():
    assert cross_layer_hallucination(_agent_topo(1), "store") == {"agent": 1.0}
    assert cross_layer_hallucination(_agent_topo("false"), "store") == {"agent": 1.0}  # truthy
    assert cross_layer_hallucination(_agent_topo(0), "store") == {}
    assert cross_layer_hallucination(_agent_topo(None), "store") == {}
    api = cross_layer_hallucination(_agent_topo(None, "external_api"), "store")
    assert api == {"agent": pytest.approx(0.1 + 0.9 * 0.8)}
    assert cross_layer_hallucination(_agent_topo(1, "queue"), "store") == {}


def test_cps_annotation_reads_edge_weight():
    t = _agent_topo(1)
    c = simulate_fault(t, "store", annotate_agents=True)
    assert c.agent_hallucination == {"agent": pytest.approx(0.1 + 0.9 * 0.4)}


def test_annotate_agents_direct_call_and_bad_risk():
    t = topology_from_dict({"components": [
        {"id": "a", "type": "ai_agent", "parameters": {"hallucination_risk": 3}},
        {"id": "db", "type": "database"}],
        "dependencies": [{"source": "a", "target": "db"}]})
    with pytest.raises(InputError, match="hallucination_risk"):
        annotate_agents(t, simulate_fault(t, "db"))
    with pytest.raises(InputError):
        agent_hallucination(t, "ghost", {})


# ---------------------------------------------------------------------------------------------
# agent-to-agent propagation
# ---------------------------------------------------------------------------------------------
def _agents(edges, params=None):
    ids = sorted({x for e in edges for x in e})
    return topology_from_dict({
        "components": [{"id": i, "type": "ai_agent", "parameters": (params or {}).get(i, {})}
                       for i in ids],
        "dependencies": [{"source": s, "target": t} for s, t in edges]})


def test_propagation_chain_and_gamma():
    t = _agents([("b", "a"), ("c", "b")])
    out = propagate_agent_hallucination(t, {"a": 0.05, "b": 0.05, "c": 0.05})
    assert out["a"] == pytest.approx(0.05)
    assert out["b"] == pytest.approx(chain_hallucination([0.05, 0.05]))
    assert out["c"] == pytest.approx(0.142625)
    two = _agents([("b", "a")], {"b": {"amplification_factor": 0.5}})
    assert propagate_agent_hallucination(two, {"a": 0.3, "b": 0.05})["b"] == pytest.approx(0.1925)
    assert propagate_agent_hallucination(two, {"a": 0.3, "b": 0.05},
                                         gamma=1.0)["b"] == pytest.approx(0.335)
    # agents absent from the mapping do not propagate
    assert propagate_agent_hallucination(t, {"c": 0.05}) == {"c": pytest.approx(0.05)}


def test_propagation_cycle_reaches_a_fixpoint():
    t = _agents([("a", "b"), ("b", "a")])
    out = propagate_agent_hallucination(t, {"a": 0.1, "b": 0.2})
    # fixpoint: x = 1 - 0.9 (1 - y), y = 1 - 0.8 (1 - x)  ->  x = y = 1
    assert out["a"] == pytest.approx(1.0, abs=1e-6) and out["b"] == pytest.approx(1.0, abs=1e-6)
    damped = propagate_agent_hallucination(t, {"a": 0.1, "b": 0.2}, gamma=0.5)
    x = damped["a"]
    y = damped["b"]
    assert x == pytest.approx(1 - 0.9 * (1 - 0.5 * y), abs=1e-9)
    assert y == pytest.approx(1 - 0.8 * (1 - 0.5 * x), abs=1e-9)
    with pytest.raises(InputError):
        propagate_agent_hallucination(t, {"a": 1.2})

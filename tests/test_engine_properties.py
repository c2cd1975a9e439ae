"""Property-based tests of the cps semantics (semantics 3) on random topologies with cycles."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

import faultray_lab as fl
from faultray_lab.model.topology import HEALTH_RANK, Component, Dependency, Topology

FAULTS = ["component_down", "latency_spike", "cpu_saturation", "network_partition",
          "llm_rate_limit", "tool_failure"]


@st.composite
def topologies(draw: st.DrawFn, max_n: int = 60) -> Topology:
    n = draw(st.integers(1, max_n))
    comps = tuple(
        Component(f"c{i}", replicas=draw(st.sampled_from([1, 1, 2, 3])),
                  timeout_seconds=draw(st.sampled_from([0.0, 0.05, 1.0, 10.0, 30.0])),
                  cpu_percent=draw(st.sampled_from([0.0, 50.0, 95.0])))
        for i in range(n))
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)),
                          max_size=3 * n, unique=True))
    deps = tuple(
        Dependency(f"c{s}", f"c{t}", draw(st.sampled_from(["requires", "requires", "optional",
                                                            "async"])),
                   latency_ms=draw(st.sampled_from([0.0, 1.0, 500.0, 20000.0])),
                   circuit_breaker=draw(st.booleans()) and draw(st.booleans()))
        for s, t in pairs)
    return Topology(comps, deps)


def _reverse_reachable(topo: Topology, target: str) -> set[str]:
    seen, stack = {target}, [target]
    while stack:
        u = stack.pop()
        for e in topo.dependencies:
            if e.target == u and e.source not in seen:
                seen.add(e.source)
                stack.append(e.source)
    return seen


SETTINGS = settings(max_examples=80, deadline=None)


@SETTINGS
@given(topologies(), st.data())
def test_cps_invariants(topo: Topology, data: st.DataObject) -> None:
    target = data.draw(st.sampled_from(topo.ids))
    fault = data.draw(st.sampled_from(FAULTS))
    c = fl.simulate_fault(topo, target, fault)  # termination: it returns
    health = c.health
    # the affected set equals the reverse-reachable set (and so lies within it)
    assert set(health) == _reverse_reachable(topo, target)
    # monotonicity along the trace, at most 3 health changes per component
    last: dict[str, int] = {}
    changes: dict[str, int] = {}
    for step in c.steps:
        r = HEALTH_RANK[step.health]
        assert r > last.get(step.component, 0)
        last[step.component] = r
        changes[step.component] = changes.get(step.component, 0) + 1
    assert max(changes.values()) <= 3
    assert {k: list(HEALTH_RANK)[v] for k, v in last.items()} == health
    by_edge = {(e.source, e.target): e for e in topo.dependencies}
    for step in c.steps[1:]:
        # causality: each transition comes from an affected dependency over a real edge
        assert step.source in health
        e = by_edge[(step.component, step.source)]
        # breaker correctness: nothing but degraded crosses a breaker
        if e.circuit_breaker:
            assert step.health == "degraded" and step.rule.startswith("R6")
        if step.health == "down":
            assert e.type == "requires" and not e.circuit_breaker
    # only the target can be overloaded (R8)
    assert all(h != "overloaded" or k == target for k, h in health.items())
    # L never crosses a breaker: L(d) is the least L(u) + latency over breaker-free requires
    for comp, lat in c.latency_ms.items():
        if comp == target:
            continue
        options = [c.latency_ms[e.target] + e.latency_ms for e in topo.dependencies
                   if e.source == comp and e.target in c.latency_ms and e.type == "requires"
                   and not e.circuit_breaker and e.source != e.target]
        assert options and abs(min(options) - lat) < 1e-9
    # T is 0 for the target and for every down component
    assert c.time_s[target] == 0.0
    assert all(c.time_s[k] == 0.0 for k, h in health.items() if h == "down")


@SETTINGS
@given(topologies(max_n=40), st.data())
def test_cps_is_independent_of_edge_order(topo: Topology, data: st.DataObject) -> None:
    target = data.draw(st.sampled_from(topo.ids))
    fault = data.draw(st.sampled_from(FAULTS))
    seed = data.draw(st.integers(0, 2**16))
    deps = list(topo.dependencies)
    random.Random(seed).shuffle(deps)
    comps = list(topo.components)
    random.Random(seed + 1).shuffle(comps)
    shuffled = Topology(tuple(comps), tuple(deps))
    a, b = fl.simulate_fault(topo, target, fault), fl.simulate_fault(shuffled, target, fault)
    assert a.health == b.health or sorted(a.health.items()) == sorted(b.health.items())
    assert a.time_s == b.time_s or sorted(a.time_s.items()) == sorted(b.time_s.items())
    assert sorted(a.latency_ms.items()) == sorted(b.latency_ms.items())
    assert a.severity == b.severity


def _at_least(a: dict[str, str], b: dict[str, str]) -> bool:
    """Every component is at least as unhealthy in ``b`` as in ``a``."""
    return all(HEALTH_RANK[b.get(k, "healthy")] >= HEALTH_RANK[h] for k, h in a.items())


@SETTINGS
@given(topologies(max_n=40), st.data())
def test_cps_health_is_monotone(topo: Topology, data: st.DataObject) -> None:
    target = data.draw(st.sampled_from(topo.ids))
    m1 = data.draw(st.sampled_from([1.0, 2.0, 5.0, 10.0]))
    m2 = m1 * data.draw(st.sampled_from([1.0, 1.5, 4.0]))
    lo = fl.simulate_fault(topo, target, "latency_spike", multiplier=m1).health
    hi = fl.simulate_fault(topo, target, "latency_spike", multiplier=m2).health
    assert _at_least(lo, hi)
    # fewer replicas never make things better
    comp = data.draw(st.sampled_from(topo.ids))
    if topo.component(comp).replicas > 1:
        fewer = topo.with_component(comp, replicas=1)
        assert _at_least(fl.simulate_fault(topo, target).health,
                         fl.simulate_fault(fewer, target).health)
    # larger edge latencies never make things better
    slower = Topology(topo.components, tuple(
        Dependency(e.source, e.target, e.type, e.weight, e.latency_ms * 3, e.circuit_breaker)
        for e in topo.dependencies))
    assert _at_least(lo, fl.simulate_fault(slower, target, "latency_spike",
                                           multiplier=m1).health)
    # adding a fault never heals anything (worst health wins)
    other = data.draw(st.sampled_from(topo.ids))
    both = fl.merge_worst([fl.simulate_fault(topo, target), fl.simulate_fault(topo, other)],
                          likelihood=0.8).health
    assert _at_least(fl.simulate_fault(topo, target).health, both)


@SETTINGS
@given(topologies(max_n=30), st.data())
def test_v11_stays_within_reverse_reachability(topo: Topology, data: st.DataObject) -> None:
    target = data.draw(st.sampled_from(topo.ids))
    c = fl.simulate_fault(topo, target, data.draw(st.sampled_from(FAULTS)), rules="faultray-v11")
    assert set(c.health) <= _reverse_reachable(topo, target)
    assert 0.0 <= c.severity <= 10.0

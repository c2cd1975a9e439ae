"""Hypothesis strategies shared by the scenario, sweep, fast-path and rule-compiler tests.

The topologies vary every field a rule's predicate or time expression can read (the built-in
ones and the extra ones the compiler tests use): replicas, every input of utilization,
timeouts, failover, autoscaling, host, edge type, breaker, weight and latency, with cycles and
self-loops. ``tests/test_rule_compiler.py`` checks that each such field really varies.
"""

from __future__ import annotations

from hypothesis import strategies as st

from faultray_lab.model.topology import Component, Dependency, Topology

TYPES = ["app_server", "database", "cache", "external_api", "ai_agent", "storage", "web_server"]
FAULTS = ["component_down", "cpu_saturation", "latency_spike", "memory_exhaustion",
          "llm_rate_limit", "hallucination"]
PERCENT = [0.0, 50.0, 71.0, 95.0]


@st.composite
def components(draw: st.DrawFn, cid: str) -> Component:
    """One component with every engine-read field drawn from a few telling values."""
    params = {"requires_grounding": 1} if draw(st.booleans()) else {}
    return Component(
        cid, draw(st.sampled_from(TYPES)), replicas=draw(st.sampled_from([1, 1, 2, 3])),
        host=draw(st.sampled_from(["", "h1", "h2"])),
        cpu_percent=draw(st.sampled_from(PERCENT)),
        memory_percent=draw(st.sampled_from(PERCENT)),
        disk_percent=draw(st.sampled_from([0.0, 80.0])),
        network_connections=draw(st.sampled_from([0.0, 400.0])),
        max_connections=draw(st.sampled_from([500.0, 1000.0])),
        timeout_seconds=draw(st.sampled_from([0.0, 1.0, 2.5, 30.0])),
        failover=draw(st.booleans()), autoscaling=draw(st.booleans()),
        parameters=params)


@st.composite
def topologies(draw: st.DrawFn, max_n: int = 14) -> Topology:
    n = draw(st.integers(1, max_n))
    comps = [draw(components(f"c{i}")) for i in range(n)]
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)),
                          max_size=3 * n, unique=True))  # self-loops and cycles allowed
    deps = tuple(Dependency(f"c{a}", f"c{b}", draw(st.sampled_from(
        ["requires", "requires", "optional", "async"])),
        weight=draw(st.sampled_from([1.0, 0.5])),
        latency_ms=draw(st.sampled_from([0.0, 5.0, 2000.0])),
        circuit_breaker=draw(st.booleans())) for a, b in pairs)
    return Topology(tuple(comps), deps)

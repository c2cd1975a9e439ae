"""Hypothesis strategy shared by the scenario, sweep and fast-path tests."""

from __future__ import annotations

from hypothesis import strategies as st

from faultray_lab.model.topology import Component, Dependency, Topology

TYPES = ["app_server", "database", "cache", "external_api", "ai_agent", "storage", "web_server"]
FAULTS = ["component_down", "cpu_saturation", "latency_spike", "memory_exhaustion",
          "llm_rate_limit", "hallucination"]


@st.composite
def topologies(draw: st.DrawFn, max_n: int = 14) -> Topology:
    n = draw(st.integers(1, max_n))
    comps = []
    for i in range(n):
        params = {"requires_grounding": 1} if draw(st.booleans()) else {}
        comps.append(Component(
            f"c{i}", draw(st.sampled_from(TYPES)), replicas=draw(st.sampled_from([1, 1, 2])),
            cpu_percent=draw(st.sampled_from([0.0, 50.0, 75.0, 95.0])),
            timeout_seconds=draw(st.sampled_from([0.0, 1.0, 30.0])), parameters=params))
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)),
                          max_size=3 * n, unique=True))  # self-loops and cycles allowed
    deps = tuple(Dependency(f"c{a}", f"c{b}", draw(st.sampled_from(
        ["requires", "requires", "optional", "async"])),
        latency_ms=draw(st.sampled_from([0.0, 5.0, 2000.0])),
        circuit_breaker=draw(st.booleans())) for a, b in pairs)
    return Topology(tuple(comps), deps)

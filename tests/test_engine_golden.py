"""Golden values of semantics 2.1-2.4 and 3, and differential fixtures from the reference."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import faultray_lab as fl
from faultray_lab.model.schema import topology_from_dict

DATA = Path(__file__).parent / "data"


# semantics 2.1 item 6: component_down of each demo component under faultray-v11
DEMO_V11 = {
    "nginx": ({"nginx": "down"}, 0.9),
    "app-1": ({"app-1": "down", "nginx": "down"}, 1.8),
    "app-2": ({"app-2": "down", "nginx": "down"}, 1.8),
    "postgres": ({c: "down" for c in ("postgres", "tool-db-query", "support-agent", "app-1",
                                      "nginx", "app-2")}, 5.3),
    "redis": ({"redis": "down", "support-agent": "degraded", "app-1": "degraded",
               "app-2": "degraded"}, 1.6),
    "rabbitmq": ({"rabbitmq": "down", "app-1": "degraded", "app-2": "degraded"}, 1.3),
    "support-agent": ({"support-agent": "down"}, 0.9),
    "llm-endpoint": ({"llm-endpoint": "down", "support-agent": "down"}, 1.8),
    "tool-db-query": ({"tool-db-query": "down", "support-agent": "down"}, 1.8),
}


@pytest.mark.parametrize("component", sorted(DEMO_V11))
def test_demo_single_failures_v11(demo: fl.Topology, component: str) -> None:
    health, severity = DEMO_V11[component]
    c = fl.simulate_fault(demo, component, rules="faultray-v11")
    assert c.health == health
    assert c.severity == severity


@pytest.mark.parametrize(("m", "severity"), [(10.0, 10.0), (5.0, 7.0), (3.0, 4.6)])
def test_demo_traffic_spikes_v11(demo: fl.Topology, m: float, severity: float) -> None:
    assert fl.simulate_traffic_spike(demo, m, rules="faultray-v11").severity == severity


def test_latency_cascade_v11_without_and_with_breaker(demo: fl.Topology) -> None:
    # L(postgres) = 30 s * 1000 * 0.1 * 20 = 60000 ms > every 30 s timeout: Rule 7 everywhere
    plain = fl.simulate_latency_cascade(demo, "postgres", multiplier=20, rules="faultray-v11")
    assert plain.latency_ms["postgres"] == 60000.0
    assert plain.health == {"postgres": "degraded", "tool-db-query": "down", "app-1": "down",
                            "app-2": "down", "support-agent": "down", "nginx": "down"}
    assert plain.tripped_breakers == ()
    assert plain.likelihood == pytest.approx(1.0)
    # a breaker on app-1 -> postgres trips (Rule 6): app-1 only degraded and not expanded
    guarded = demo.with_dependency("app-1", "postgres", circuit_breaker=True)
    c = fl.simulate_latency_cascade(guarded, "postgres", multiplier=20, rules="faultray-v11")
    assert c.health["app-1"] == "degraded"
    assert c.tripped_breakers == (("app-1", "postgres"),)
    assert c.health["nginx"] == "down"  # still reached through app-2
    # at m = 10, L = 30000 ms equals the 30 s timeout: degraded (> 0.8 timeout), not down
    ten = fl.simulate_latency_cascade(demo, "postgres", rules="faultray-v11")
    assert set(ten.health.values()) == {"degraded"}
    assert ten.likelihood == pytest.approx(0.85)


def test_v11_depth_bound_reaches_max_depth_plus_one_hops() -> None:
    n = 30
    topo = topology_from_dict({
        "components": [{"id": f"n{i}"} for i in range(n)],
        "dependencies": [{"source": f"n{i + 1}", "target": f"n{i}"} for i in range(n - 1)],
    })
    c = fl.simulate_fault(topo, "n0", rules="faultray-v11")
    assert len(c.health) == 22  # target + 21 hops
    assert len(fl.simulate_fault(topo, "n0", rules="faultray-v11", max_depth=3).health) == 5
    assert len(fl.simulate_fault(topo, "n0", rules="cps").health) == n  # no depth bound


def test_v11_repeated_effects_count_twice_in_severity() -> None:
    # b is reached as degraded from two down parents (degraded is never marked visited)
    topo = topology_from_dict({
        "components": [{"id": "t"}, {"id": "a"}, {"id": "c"}, {"id": "b"}],
        "dependencies": [{"source": "a", "target": "t"}, {"source": "c", "target": "t"},
                         {"source": "b", "target": "a", "type": "optional"},
                         {"source": "b", "target": "c", "type": "optional"}],
    })
    c = fl.simulate_fault(topo, "t", rules="faultray-v11")
    assert [e.component for e in c.effects] == ["t", "a", "b", "c", "b"]
    assert c.health == {"t": "down", "a": "down", "b": "degraded", "c": "down"}
    # 5 raw effects: impact (3 + 2 * 0.25) / 5 = 0.7, spread 1 -> 7.0 * 0.8
    assert c.severity == 5.6
    # cps: one effect per component: impact (3 + 0.25) / 4, spread 1 -> 8.125 * 0.8
    assert fl.simulate_fault(topo, "t", rules="cps").severity == 6.5


# ------------------------------------------------------------------------------------------
# cps goldens (docs: semantics 3)
# ------------------------------------------------------------------------------------------
def _topo(components: list[dict], deps: list[dict]) -> fl.Topology:
    return topology_from_dict({"components": components, "dependencies": deps})


def test_cps_golden_replicated_cache() -> None:
    topo = _topo(
        [{"id": "web"}, {"id": "app"}, {"id": "db"}, {"id": "cache", "replicas": 2},
         {"id": "worker"}],
        [{"source": "web", "target": "app"}, {"source": "app", "target": "db"},
         {"source": "app", "target": "cache"},
         {"source": "worker", "target": "app", "type": "async", "latency_ms": 2000}])
    c = fl.simulate_fault(topo, "cache")
    assert c.health == {"cache": "down", "app": "degraded", "web": "degraded",
                        "worker": "degraded"}
    assert c.time_s["worker"] == 2.0 and c.time_s["app"] == 0.0
    assert c.severity == 2.8
    v11 = fl.simulate_fault(topo, "cache", rules="faultray-v11")
    assert v11.health["app"] == "down" and v11.health["web"] == "down"
    d = fl.simulate_fault(topo, "db")
    assert d.health == {"db": "down", "app": "down", "web": "down", "worker": "degraded"}
    assert d.time_s["worker"] == 2.0 and d.severity == 5.2


@pytest.fixture()
def breaker_topo() -> fl.Topology:
    return _topo(
        [{"id": "api", "replicas": 2}, {"id": "db"}, {"id": "report"},
         {"id": "web", "capacity": {"timeout_seconds": 10}}, {"id": "dash"}],
        [{"source": "api", "target": "db", "latency_ms": 5},
         {"source": "report", "target": "db", "latency_ms": 5,
          "circuit_breaker": {"enabled": True}},
         {"source": "web", "target": "api"}, {"source": "dash", "target": "report"}])


def test_cps_golden_timeouts_and_breaker_m10(breaker_topo: fl.Topology) -> None:
    c = fl.simulate_fault(breaker_topo, "db", "latency_spike")
    assert c.health == {"db": "degraded", "api": "down", "report": "degraded",
                        "web": "down", "dash": "degraded"}
    assert c.latency_ms == {"db": 30000.0, "api": 30005.0, "web": 30005.0}
    assert {c.trace.set_index("component").loc[x, "rule"] for x in ("api", "web")} == {"R7"}
    assert ("report", "db") in c.tripped_breakers
    # without R7, R3 alone leaves web degraded
    no_r7 = fl.simulate_fault(breaker_topo, "db", "latency_spike",
                              rules=fl.get_ruleset("cps").without("R7"))
    assert no_r7.health["web"] == "degraded"


def test_cps_golden_timeouts_m5(breaker_topo: fl.Topology) -> None:
    c = fl.simulate_fault(breaker_topo, "db", "latency_spike", multiplier=5)
    assert c.health == {"db": "degraded", "api": "degraded", "report": "degraded",
                        "web": "down", "dash": "degraded"}
    assert c.latency_ms["db"] == 15000.0 and c.latency_ms["api"] == 15005.0
    assert c.latency_ms["web"] == 15005.0
    assert c.severity == 2.8
    lc = fl.simulate_latency_cascade(breaker_topo, "db", multiplier=5)
    assert lc.health == c.health and lc.likelihood == pytest.approx(0.6)


def test_cps_golden_component_down_with_breaker(breaker_topo: fl.Topology) -> None:
    c = fl.simulate_fault(breaker_topo, "db")
    assert c.health == {"db": "down", "api": "down", "report": "degraded", "web": "degraded",
                        "dash": "degraded"}
    assert c.severity == 4.4


def test_cps_golden_cycle_and_self_loop() -> None:
    topo = _topo(
        [{"id": "t", "timeout_seconds": 20}, {"id": "a"}, {"id": "b"}, {"id": "q"}],
        [{"source": "a", "target": "t"}, {"source": "a", "target": "b", "latency_ms": 1},
         {"source": "b", "target": "a", "latency_ms": 1},
         {"source": "b", "target": "b", "latency_ms": 50000},
         {"source": "q", "target": "t", "type": "async", "latency_ms": 500},
         {"source": "t", "target": "q", "type": "async", "latency_ms": 500}])
    c = fl.simulate_fault(topo, "t", "latency_spike")
    assert c.health == {"t": "degraded", "a": "degraded", "b": "degraded", "q": "degraded"}
    assert c.latency_ms == {"t": 20000.0, "a": 20000.0, "b": 20001.0}
    assert c.time_s["q"] == 0.5


def test_cps_golden_time_over_async_chains() -> None:
    topo = _topo(
        [{"id": "t"}, {"id": "x"}, {"id": "d"}, {"id": "z"}, {"id": "w"}],
        [{"source": "x", "target": "t", "type": "optional"},
         {"source": "d", "target": "t", "type": "async", "latency_ms": 1000},
         {"source": "d", "target": "x", "type": "async", "latency_ms": 200},
         {"source": "z", "target": "d"},
         {"source": "w", "target": "z", "circuit_breaker": {"enabled": True}}])
    c = fl.simulate_fault(topo, "t", "cpu_saturation")
    assert c.health == {"t": "overloaded", "x": "degraded", "d": "degraded", "z": "degraded",
                        "w": "degraded"}
    assert [c.time_s[k] for k in ("d", "z", "w")] == [0.2, 0.2, 0.2]
    assert c.severity == 0.9


def test_attenuation_ablation_shrinks_the_affected_set(demo: fl.Topology) -> None:
    cps = fl.get_ruleset("cps")
    attenuated = cps.with_rule(fl.Rule("A0", upstream=("degraded",), then=None), before="R6-trip")
    full = fl.simulate_fault(demo, "redis")
    small = fl.simulate_fault(demo, "redis", rules=attenuated)
    assert "nginx" in full.health and "nginx" not in small.health
    assert set(small.health) < set(full.health)
    assert list(attenuated.table()["rule"])[:2] == ["A0", "R6-trip"]


def test_cascade_to_dict_is_json_ready(demo: fl.Topology) -> None:
    d = fl.simulate_fault(demo, "postgres", rules="faultray-v11").to_dict()
    text = json.dumps(d)
    assert json.loads(text)["severity"] == 5.3
    assert {"health", "severity", "likelihood", "time_s", "trace"} <= set(d)
    assert list(fl.simulate_fault(demo, "redis").trace.columns) == [
        "step", "rule", "source", "component", "health", "time_s", "latency_ms"]


@pytest.mark.parametrize("name", ["random-60-seed3", "random-60-seed7", "layered-200-seed3"])
def test_v11_matches_reference_output(name: str) -> None:
    """Every component_down fault equals the reference's effect list (agent tail as multiset)."""
    topo = fl.load_topology(DATA / "oracle" / f"{name}.topology.json")
    oracle = json.loads((DATA / "oracle" / f"{name}.oracle.json").read_text())
    assert len(oracle["results"]) == len(topo)
    for r in oracle["results"]:
        c = fl.simulate_fault(topo, r["fault"], rules="faultray-v11")
        assert c.health == r["effects"], r["fault"]
        assert c.severity == r["severity"], r["fault"]
        assert c.likelihood == r["likelihood"]
        got = [[e.component, e.health, e.time_s] for e in c.effects]
        n_agent = sum(1 for e in c.effects if e.rule == "R-agent")
        head = len(got) - n_agent
        assert got[:head] == r["raw"][:head], r["fault"]
        assert sorted(got[head:]) == sorted(r["raw"][head:]), r["fault"]

"""The rule compiler: compiled edge outcomes equal the interpreter on every edge, every field a
predicate reads is declared, and a new predicate reaches every path at once."""

from __future__ import annotations

import pytest
from _sweep_strategies import topologies
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

import faultray_lab as fl
from faultray_lab.engine.compile import compile_rules, compiled_topology
from faultray_lab.engine.fastpath import single_fault_summaries, single_fault_table
from faultray_lab.engine.rules import (
    PREDICATES,
    TIME_EXPRESSIONS,
    EdgeContext,
    Predicate,
    Rule,
    get_ruleset,
    match_index,
)
from faultray_lab.model.topology import HEALTH_ORDER, HEALTH_RANK, Topology

FAILOVER = Predicate("dependent_failover", ("dependent.failover",),
                     lambda c: c.dependent.failover)
AUTOSCALING_UP = Predicate("upstream_autoscaling", ("upstream.autoscaling",),
                           lambda c: c.upstream.autoscaling)


def with_failover(name: str) -> fl.RuleSet:
    """A built-in rule set with a rule on ``dependent.failover`` before R2 (both rule sets)."""
    return get_ruleset(name).with_rule(
        Rule("R2-failover", ("requires",), ("down",), when=FAILOVER, then="degraded", dt="5"),
        before="R2")


RULE_SETS = [get_ruleset("faultray-v11"), get_ruleset("cps"), with_failover("faultray-v11"),
             with_failover("cps"),
             get_ruleset("cps").with_rule(Rule("A-autoscale", upstream=("down",),
                                               when=AUTOSCALING_UP, then="degraded"),
                                          before="R2")]


def _field(topo: Topology, field: str) -> set:
    role, _, attr = field.partition(".")
    objs = topo.dependencies if role == "edge" else topo.components
    return {getattr(o, attr) for o in objs}


@pytest.mark.parametrize("field", sorted({f for rs in RULE_SETS for f in rs.reads
                                          if "." in f} | {"dependent.type", "edge.type",
                                                          "edge.circuit_breaker"}))
def test_strategy_varies_every_field_a_rule_reads(field: str) -> None:
    """Each field some rule reads takes two values in one generated topology, so the property
    tests below can catch a compiler that ignores it."""
    find(topologies(), lambda t: len(_field(t, field)) >= 2,
         settings=settings(max_examples=2000, database=None, phases=[Phase.generate]))


def test_every_builtin_predicate_declares_its_reads() -> None:
    for p in [*PREDICATES.values(), *TIME_EXPRESSIONS.values()]:
        assert isinstance(p.reads, tuple), p.name
    assert set(get_ruleset("cps").reads) >= {"upstream.replicas", "upstream_latency_ms"}
    assert "dependent.replicas" in get_ruleset("faultray-v11").reads


@pytest.mark.parametrize("rs", RULE_SETS, ids=lambda r: r.name)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(topo=topologies())
def test_compiled_table_equals_interpreter(rs: fl.RuleSet, topo: Topology) -> None:
    table = compile_rules(topo, rs)
    cg = compiled_topology(topo)
    comps, deps = topo.components, topo.dependencies
    for p in range(len(cg.dep)):
        d, u, e = comps[cg.dep[p]], comps[int(cg.src[p])], deps[cg.edge[p]]
        for h in (1, 2, 3):
            ctx = EdgeContext(d, u, e, HEALTH_ORDER[h], None)
            i = match_index(rs, ctx)
            assert table.row[h][p] == (-1 if i is None else i)
            then = None if i is None else rs.rules[i].then
            assert table.rank[h][p] == (0 if then is None else HEALTH_RANK[then])
            if i is not None:
                assert table.dt[h][p] == rs.rules[i].dt.fn(ctx)


@pytest.mark.parametrize("rs", RULE_SETS[2:], ids=lambda r: r.name)
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(topo=topologies(), fault=st.sampled_from(["component_down", "cpu_saturation"]))
def test_added_rule_reaches_the_fast_path(rs: fl.RuleSet, topo: Topology, fault: str) -> None:
    df = single_fault_table(topo, rs, fault)
    for cid, sev, down in zip(df["component"], df["severity"], df["down"], strict=True):
        c = fl.simulate_fault(topo, cid, fault, rules=rs)
        assert (sev, down) == (c.severity, len(c.down)), cid


@pytest.mark.parametrize("name", ["faultray-v11", "cps"])
def test_failover_rule_divergence(name: str) -> None:
    """The divergence the hand-written fast path had: a faultray-v11 predicate on
    ``dependent.failover`` made the vectorized sweep say ``down`` where simulate_fault said
    ``degraded``. app-1 and app-2 differ only in failover here."""
    topo = fl.load_topology(fl.demo_topology_path()).with_component("app-1", failover=True)
    rs = with_failover(name)
    cascade = fl.simulate_fault(topo, "postgres", rules=rs)
    assert cascade.health["app-1"] == "degraded" and cascade.health["app-2"] == "down"
    table = single_fault_summaries(topo, rs, "down")
    hmap = table.health_map(topo.index["postgres"])
    assert {topo.ids[c]: HEALTH_ORDER[r] for c, r in hmap.items()} == cascade.health
    row = single_fault_table(topo, rs).set_index("component").loc["postgres"]
    assert (row["severity"], row["down"]) == (cascade.severity, len(cascade.down))


def test_undeclared_read_is_refused() -> None:
    sneaky = Predicate("sneaky", (), lambda c: c.dependent.failover)
    rs = get_ruleset("faultray-v11").with_rule(
        Rule("R2-sneaky", ("requires",), ("down",), when=sneaky, then="degraded"), before="R2")
    topo = fl.load_topology(fl.demo_topology_path())
    with pytest.raises(fl.InputError, match="R2-sneaky.*dependent.failover"):
        fl.simulate_fault(topo, "postgres", rules=rs)
    with pytest.raises(fl.InputError, match="dependent.failover"):
        single_fault_table(topo, rs)


def test_declared_reads_are_checked() -> None:
    with pytest.raises(fl.InputError, match="did you mean 'dependent.failover'"):
        Predicate("typo", ("dependent.failovr",), lambda c: True)
    with pytest.raises(fl.InputError, match="cannot read"):
        Predicate("bad", ("neighbour.replicas",), lambda c: True)


def test_ablation_changes_both_paths() -> None:
    topo = fl.load_topology(fl.demo_topology_path())
    rs = get_ruleset("cps").without("R2")
    assert fl.simulate_fault(topo, "postgres", rules=rs).down == ["postgres"]
    assert single_fault_table(topo, rs).set_index("component").loc["postgres", "down"] == 1


def test_many_high_cardinality_fields_are_grouped_exactly() -> None:
    """Eight fields with thousands of distinct values overflow a single 62-bit signature; the
    compiler then re-codes the columns seen so far and must still group edges exactly."""
    n = 3000
    comps = tuple(fl.Component(f"c{i}", cpu_percent=float(i % 97), memory_percent=float(i % 89),
                               disk_percent=float(i), network_connections=float(n - i))
                  for i in range(n))
    deps = tuple(fl.Dependency(f"c{i}", f"c{(7 * i + 1) % n}") for i in range(n) if i % 3)
    topo = Topology(comps, deps)
    fields = [f"{role}.{attr}" for role in ("dependent", "upstream")
              for attr in ("cpu_percent", "memory_percent", "disk_percent",
                           "network_connections")]
    odd = Predicate("odd_sum", tuple(fields), lambda c: int(
        c.dependent.cpu_percent + c.dependent.memory_percent + c.dependent.disk_percent
        + c.dependent.network_connections + c.upstream.cpu_percent + c.upstream.memory_percent
        + c.upstream.disk_percent + c.upstream.network_connections) % 2 == 1)
    rs = get_ruleset("faultray-v11").with_rule(
        Rule("R-odd", ("requires",), ("down",), when=odd, then="degraded"), before="R2")
    table = compile_rules(topo, rs)
    cg = compiled_topology(topo)
    for p in range(len(cg.dep)):
        ctx = EdgeContext(comps[cg.dep[p]], comps[int(cg.src[p])], deps[cg.edge[p]], "down",
                          None)
        assert table.row[3][p] == match_index(rs, ctx)

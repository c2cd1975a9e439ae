"""Availability: golden five-layer values, exact vs closed forms, Monte Carlo vs exact,
common-cause groups, the DSB fail-stop reproduction, the Jaeger importer and bad input."""

from __future__ import annotations

import json
import math
from itertools import combinations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faultray_lab import demo_topology_path, topology_from_dict
from faultray_lab.availability.failstop import (
    _kill_subsets,
    _sample_kills,
    dsb_error_statistics,
    failstop_availability,
    kill_count,
    load_dsb,
    reproduce_dsb,
)
from faultray_lab.availability.layers import availability_layers, nines
from faultray_lab.availability.system import (
    MAX_EXACT_VARIABLES,
    CommonCause,
    _compile,
    _enumerate,
    common_cause_sweep,
    entry_points,
    independent_product,
    system_availability,
)
from faultray_lab.cli import main
from faultray_lab.common.errors import InputError
from faultray_lab.importers.jaeger import import_jaeger_dependencies

GOLDEN = {"software": 0.99840875, "hardware": 0.99890197, "theoretical": 0.99880208,
          "operational": 0.99947603, "external": 1.0}


def _topo(comps, deps=()):
    return topology_from_dict({
        "components": [c if isinstance(c, dict) else {"id": c} for c in comps],
        "dependencies": [{"source": s, "target": t, "type": ty} for s, t, ty in deps]})


# ---------------------------------------------------------------------------------------------
# five layers
# ---------------------------------------------------------------------------------------------
def test_golden_demo_layers(demo):
    s = availability_layers(demo)
    for name, value in GOLDEN.items():
        assert round(s.layers[name], 8) == value, name
    assert round(s.ceiling, 8) == 0.99840875
    assert s.binding_layer == "software"
    assert round(s.floor, 8) == 0.99559583
    t = s.table
    assert list(t.columns) == ["layer", "availability", "nines", "downtime_seconds_per_year",
                               "binding"]
    assert list(t.layer) == list(GOLDEN)
    assert t.binding.tolist() == [True, False, False, False, False]
    assert t.downtime_seconds_per_year.iloc[0] == pytest.approx((1 - s.ceiling) * 31_557_600)


def test_cli_availability_json_golden(demo, capsys):
    assert main(["availability", str(demo_topology_path()), "--layers", "5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"layers", "ceiling", "floor", "binding_layer"}
    for name, value in GOLDEN.items():
        layer = out["layers"][name]
        assert set(layer) == {"availability", "nines", "downtime_seconds_per_year"}
        assert round(layer["availability"], 8) == value
    assert out["layers"]["external"]["nines"] is None  # infinite nines
    assert round(out["ceiling"], 8) == 0.99840875
    assert round(out["floor"], 8) == 0.99559583
    assert out["binding_layer"] == "software"


def test_cli_availability_table_and_system(capsys):
    assert main(["availability", str(demo_topology_path()), "--system", "--method",
                 "montecarlo", "--trials", "20000"]) == 0
    text = capsys.readouterr().out
    assert "software" in text and "<- binding" in text and "0.99840875" in text
    assert "system availability of nginx, support-agent (montecarlo)" in text


def test_cli_bad_parameter_exits_2(capsys):
    assert main(["availability", str(demo_topology_path()), "--human-error-rate", "1.5"]) == 2
    err = capsys.readouterr().err
    assert "--human-error-rate" in err and "Traceback" not in err
    assert main(["availability", str(demo_topology_path()), "--deploys-per-month", "nan"]) == 2
    assert main(["availability", "missing.yaml"]) == 2


def test_layer_parameters_move_the_right_layer(demo):
    base = availability_layers(demo)
    more_deploys = availability_layers(demo, deploys_per_month=100)
    assert more_deploys.layers["software"] < base.layers["software"]
    assert more_deploys.layers["hardware"] == base.layers["hardware"]
    slower = availability_layers(demo, mean_response_minutes=120, oncall_coverage_percent=50)
    assert slower.layers["operational"] < base.layers["operational"]
    # no software loss: software equals hardware, theoretical binds (it is L2 times losses)
    free = availability_layers(demo, deploys_per_month=0, human_error_rate=0,
                               config_drift_rate=0)
    assert free.layers["software"] == free.layers["hardware"]
    assert free.binding_layer == "theoretical"


def test_hardware_failover_and_external_layers():
    t = _topo([{"id": "db", "type": "database", "replicas": 2,
                "failover": {"enabled": True, "promotion_time_seconds": 60}},
               {"id": "api", "type": "external_api"},
               {"id": "pay", "type": "external_api", "external_sla": {"provider_sla": 99.5}}])
    s = availability_layers(t)
    a = 4320 / 4320.5
    tier = (1 - (1 - a) ** 2) * (1 - (8766 / 4320 * 2) * (60 + 10 * 3) / 31_557_600)
    api = 2160 / 2160.5
    assert s.tiers["db"] == pytest.approx(tier, rel=1e-12)
    assert s.layers["hardware"] == pytest.approx(tier * api * api, rel=1e-12)
    assert s.layers["external"] == pytest.approx(0.999 * 0.995, rel=1e-12)


def test_layer_bad_parameters(demo):
    for kwargs in ({"human_error_rate": 1.5}, {"config_drift_rate": -0.1},
                   {"deploys_per_month": -1}, {"incidents_per_year": float("nan")},
                   {"oncall_coverage_percent": 0}, {"oncall_coverage_percent": 150},
                   {"mean_response_minutes": "30"}, {"mtbf_defaults": {"database": -5}}):
        with pytest.raises(InputError):
            availability_layers(demo, **kwargs)


def test_negative_mtbf_is_a_load_error():
    with pytest.raises(InputError, match="negative"):
        topology_from_dict({"components": [{"id": "a", "operational_profile":
                                            {"mtbf_hours": -5}}]})


def test_nines():
    assert nines(1.0) == math.inf and nines(0.0) == 0.0
    assert nines(0.99) == pytest.approx(2.0)


# ---------------------------------------------------------------------------------------------
# exact vs closed forms
# ---------------------------------------------------------------------------------------------
def test_exact_series():
    t = _topo(["a", "b", "c"], [("a", "b", "requires"), ("b", "c", "requires")])
    p = {"a": 0.9, "b": 0.8, "c": 0.7}
    assert system_availability(t, availability=p).availability == pytest.approx(0.9 * .8 * .7)
    assert system_availability(t, availability=p, serve="any").availability == pytest.approx(
        0.9 * 0.8 * 0.7)


def test_optional_and_async_edges_do_not_block():
    t = _topo(["a", "b", "c"], [("a", "b", "optional"), ("a", "c", "async")])
    p = {"a": 0.9, "b": 0.1, "c": 0.1}
    assert system_availability(t, ["a"], availability=p).availability == pytest.approx(0.9)


def test_exact_parallel_replicas_and_targets():
    t = _topo([{"id": "a", "replicas": 3}])
    assert system_availability(t, availability={"a": 0.8}).availability == pytest.approx(
        1 - 0.2 ** 3)
    t2 = _topo(["x", "y"])
    r = system_availability(t2, ["x", "y"], serve="any", availability={"x": 0.9, "y": 0.7})
    assert r.availability == pytest.approx(1 - 0.1 * 0.3)


@pytest.mark.parametrize("n,k", [(3, 2), (5, 3), (4, 4), (4, 1)])
def test_exact_k_of_n(n, k):
    p = 0.85
    closed = sum(math.comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(k, n + 1))
    t = _topo([{"id": "a", "replicas": n}])
    r = system_availability(t, availability={"a": p}, quorum={"a": k})
    assert r.availability == pytest.approx(closed, rel=1e-12)
    # the same structure over n distinct components: serve = k of n targets
    ids = [f"c{i}" for i in range(n)]
    t2 = _topo(ids)
    r2 = system_availability(t2, ids, serve=k, availability=dict.fromkeys(ids, p))
    assert r2.availability == pytest.approx(closed, rel=1e-12)


def test_exact_bridge():
    """The bridge of block diagrams: minimal paths {1,4}, {2,5}, {1,3,5}, {2,3,4}, written as
    perfect path components that require their blocks; the system serves if any path does."""
    paths = {"p14": "14", "p25": "25", "p135": "135", "p234": "234"}
    comps = [f"b{i}" for i in "12345"] + list(paths)
    deps = [(p, f"b{i}", "requires") for p, blocks in paths.items() for i in blocks]
    t = _topo(comps, deps)
    q = {"b1": 0.9, "b2": 0.85, "b3": 0.7, "b4": 0.95, "b5": 0.8}
    avail = {**q, **dict.fromkeys(paths, 1.0)}
    r = system_availability(t, list(paths), serve="any", availability=avail)
    # pivot on the bridge block 3
    p1, p2, p3, p4, p5 = (q[f"b{i}"] for i in "12345")
    up3 = (1 - (1 - p1) * (1 - p2)) * (1 - (1 - p4) * (1 - p5))
    down3 = 1 - (1 - p1 * p4) * (1 - p2 * p5)
    assert r.availability == pytest.approx(p3 * up3 + (1 - p3) * down3, rel=1e-12)
    same = system_availability(t, list(paths), serve="any",
                               availability={**dict.fromkeys(q, 0.9), **dict.fromkeys(paths, 1)})
    p = 0.9
    assert same.availability == pytest.approx(2 * p**2 + 2 * p**3 - 5 * p**4 + 2 * p**5)


def test_default_targets_are_entry_points_and_demo_series(demo):
    assert entry_points(demo) == ("nginx", "support-agent")
    r = system_availability(demo)
    assert r.targets == ("nginx", "support-agent")
    assert r.availability == pytest.approx(independent_product(demo))


def test_exact_refuses_too_many_variables():
    ids = [f"c{i}" for i in range(MAX_EXACT_VARIABLES + 1)]
    t = _topo(ids)
    with pytest.raises(InputError, match="montecarlo"):
        system_availability(t, ids, serve="any")
    # a series question is a product at any size
    assert system_availability(t, ids).availability == pytest.approx(
        independent_product(t, ids))


# ---------------------------------------------------------------------------------------------
# Monte Carlo vs exact (random small graphs)
# ---------------------------------------------------------------------------------------------
@st.composite
def small_systems(draw):
    n = draw(st.integers(2, 7))
    ids = [f"c{i}" for i in range(n)]
    comps = [{"id": c, "replicas": draw(st.integers(1, 3))} for c in ids]
    deps = []
    for a in range(n):
        for b in range(n):
            if a != b and draw(st.integers(0, 3)) == 0:
                deps.append((ids[a], ids[b], draw(st.sampled_from(["requires", "requires",
                                                                   "optional", "async"]))))
    t = _topo(comps, deps)
    avail = {c: draw(st.floats(0.3, 1.0)) for c in ids}
    quorum = {c["id"]: draw(st.integers(1, c["replicas"])) for c in comps}
    targets = draw(st.lists(st.sampled_from(ids), min_size=1, max_size=3, unique=True))
    serve = draw(st.sampled_from(["all", "any"]))
    group = None
    if draw(st.booleans()):
        members = draw(st.lists(st.sampled_from(ids), min_size=1, max_size=3, unique=True))
        group = [{"members": members, "beta": draw(st.floats(0.0, 1.0))}]
    seed = draw(st.integers(0, 2**31 - 1))
    return t, targets, serve, avail, quorum, group, seed


@settings(max_examples=60, deadline=None, derandomize=True)
@given(small_systems())
def test_montecarlo_agrees_with_exact(system):
    t, targets, serve, avail, quorum, group, seed = system
    kw = {"serve": serve, "availability": avail, "quorum": quorum, "common_cause": group}
    exact = system_availability(t, targets, **kw).availability
    trials = 20_000
    mc = system_availability(t, targets, "montecarlo", trials=trials, seed=seed, **kw)
    se = math.sqrt(exact * (1 - exact) / trials)
    if se == 0:
        assert mc.availability == pytest.approx(exact, abs=1e-12)
    else:
        assert abs(mc.availability - exact) <= 4 * se + 1e-12


@settings(max_examples=40, deadline=None, derandomize=True)
@given(small_systems())
def test_enumeration_equals_product_for_series(system):
    t, targets, _, avail, quorum, _, _ = system
    model = _compile(t, targets, "all", avail, quorum, None)
    assert _enumerate(model.up_indep, model) == pytest.approx(float(np.prod(model.up_indep)),
                                                              abs=1e-12)


def test_montecarlo_is_deterministic_and_rare_failures():
    t = _topo(["a", "b"], [("a", "b", "requires")])
    p = {"a": 0.9999, "b": 0.99995}
    r1 = system_availability(t, method="montecarlo", trials=2_000_000, seed=7, availability=p)
    r2 = system_availability(t, method="montecarlo", trials=2_000_000, seed=7, availability=p)
    assert r1 == r2
    exact = 0.9999 * 0.99995
    assert abs(r1.availability - exact) <= 4 * r1.standard_error


# ---------------------------------------------------------------------------------------------
# common-cause groups
# ---------------------------------------------------------------------------------------------
def _shared_network():
    return _topo([{"id": "lb"}, {"id": "app", "replicas": 2}, {"id": "db", "replicas": 2}],
                 [("lb", "app", "requires"), ("app", "db", "requires")])


def test_common_cause_below_independent_product_and_equal_at_zero():
    t = _shared_network()
    p = {"lb": 0.999, "app": 0.99, "db": 0.995}
    indep = independent_product(t, availability=p)
    zero = system_availability(t, common_cause=[{"members": ["app", "db"], "beta": 0.0}],
                               availability=p)
    assert zero.availability == pytest.approx(indep, rel=1e-14)
    plain_mc = system_availability(t, method="montecarlo", trials=50_000, seed=3,
                                   availability=p)
    zero_mc = system_availability(t, method="montecarlo", trials=50_000, seed=3,
                                  availability=p, common_cause=[CommonCause(("app", "db"), 0.0)])
    assert zero_mc.availability == plain_mc.availability
    prev = indep
    for beta in (0.05, 0.2, 0.5, 1.0):
        r = system_availability(t, common_cause=[CommonCause(("app", "db"), beta)],
                                availability=p)
        assert r.availability < prev
        prev = r.availability
        mc = system_availability(t, method="montecarlo", trials=400_000, seed=1,
                                 common_cause=[CommonCause(("app", "db"), beta)], availability=p)
        assert mc.availability < indep
        assert abs(mc.availability - r.availability) <= 4 * mc.standard_error


def test_common_cause_keeps_replica_marginals():
    t = _topo([{"id": "a"}, {"id": "b"}])
    p = {"a": 0.9, "b": 0.95}
    grp = [{"members": ["a", "b"], "beta": 0.6}]
    for c in ("a", "b"):
        r = system_availability(t, [c], common_cause=grp, availability=p)
        assert r.availability == pytest.approx(p[c], rel=1e-12)
    # a shared cause makes both fail together: P(both up) rises above the product (series)
    both = system_availability(t, ["a", "b"], common_cause=grp, availability=p).availability
    assert both > 0.9 * 0.95


def test_common_cause_sweep_frame():
    df = common_cause_sweep(_shared_network(), ["app", "db"], [0.0, 0.5], trials=20_000,
                            availability={"lb": 0.999, "app": 0.99, "db": 0.995})
    assert list(df.columns) == ["beta", "independent_product", "exact", "montecarlo",
                                "standard_error"]
    assert df.exact.iloc[0] == pytest.approx(df.independent_product.iloc[0])
    assert df.exact.iloc[1] < df.independent_product.iloc[1]


def test_system_bad_input():
    t = _shared_network()
    bad = [
        {"availability": {"app": 1.2}}, {"availability": {"nope": 0.5}},
        {"quorum": {"app": 3}}, {"quorum": {"lb": 0}}, {"serve": "most"}, {"serve": 5},
        {"method": "magic"}, {"targets": ["ghost"]}, {"targets": []},
        {"common_cause": [{"members": ["app"], "beta": 1.5}]},
        {"common_cause": [{"members": ["app"], "beta": 0.1}, {"members": ["app"], "beta": 0.2}]},
        {"common_cause": [{"members": "app", "beta": 0.1}]},
        {"common_cause": [{"members": ["app"], "betta": 0.1}]},
        {"method": "montecarlo", "trials": 0}, {"method": "montecarlo", "seed": "x"},
    ]
    for kw in bad:
        with pytest.raises(InputError):
            system_availability(t, **kw)


# ---------------------------------------------------------------------------------------------
# DSB fail-stop reproduction
# ---------------------------------------------------------------------------------------------
def test_kill_count():
    assert [kill_count(p, 12) for p in (0.1, 0.3, 0.5, 0.7, 0.9)] == [2, 4, 6, 9, 11]
    assert [kill_count(p, 22) for p in (0.1, 0.3, 0.5, 0.7, 0.9)] == [3, 7, 11, 16, 20]
    assert kill_count(0.0, 12) == 1
    assert kill_count(0.7, 10) == 7


def test_dsb_reproduces_the_published_model_column():
    table = reproduce_dsb(trials=200_000, seed=0)
    assert len(table) == 10
    assert (table.z.abs() <= 4).all(), table[["mode", "p_fail", "model", "published_model", "z"]]
    # the exact expectation agrees with the published model to within its sampling noise
    assert (table.exact - table.published_model).abs().max() < 4 * 0.0005
    # the model column is not the live column: the published live means differ at p = 0.1
    stats = dsb_error_statistics(table).set_index("mode")
    assert stats.loc["norepl", "max_abs_error"] > 0.1
    assert stats.loc["repl", "mae"] < stats.loc["norepl", "mae"]


def test_failstop_exact_small_case():
    t = _topo(["c", "s1", {"id": "s2", "replicas": 2}],
              [("c", "s1", "requires"), ("s1", "s2", "requires")])
    ep = {"e1": {"weight": 3, "targets": ["s1"]}, "e2": {"weight": 1, "targets": ["s2"]}}
    r = failstop_availability(t, "c", ep, 0.25, method="exact")
    # N = 4, K = 1: killing c or s1 fails both endpoints, killing one s2 replica fails none
    assert (r.killed, r.containers) == (1, 4)
    assert r.aggregate == pytest.approx(0.5)
    r2 = failstop_availability(t, "c", ep, 0.5, method="exact")  # K = 2 of 4, C = 6 sets
    # alive: {c,s1} survive in 1 set (both s2 killed) -> e1 ok, e2 fails
    assert r2.endpoints["e1"] == pytest.approx(1 / 6)
    assert r2.endpoints["e2"] == pytest.approx(0.0)
    assert r2.aggregate == pytest.approx(0.75 / 6)


def test_kill_subsets_and_sampler_are_uniform():
    subs = _kill_subsets(6, 3)
    assert len(subs) == 20 and len(set(subs.tolist())) == 20
    assert all(bin(int(s)).count("1") == 3 for s in subs)
    rng = np.random.default_rng(0)
    sample = _sample_kills(rng, 5, 2, 100_000)
    assert all(bin(int(s)).count("1") == 2 for s in np.unique(sample))
    _, counts = np.unique(sample, return_counts=True)
    assert len(counts) == 10
    se = math.sqrt(0.1 * 0.9 / 100_000)
    assert np.all(np.abs(counts / 100_000 - 0.1) < 4 * se)


def test_failstop_large_kill_sets_use_the_sampler():
    ids = [f"s{i}" for i in range(10)]
    comps = [{"id": "c"}] + [{"id": s, "replicas": 4} for s in ids]
    deps = [("c", s, "requires") for s in ids]
    t = _topo(comps, deps)
    ep = {"all": {"targets": ids}}
    # N = 41, K = 21: C(41, 21) is far above the table limit
    r = failstop_availability(t, "c", ep, 0.5, trials=50_000, seed=2)
    assert (r.containers, r.killed) == (41, 21)
    # closed form: c alive and no service loses all 4 replicas
    total = math.comb(41, 21)
    good = 0
    # inclusion-exclusion over services that lose all 4 replicas (c must survive: choose from 40)
    for j in range(0, 6):
        good += (-1) ** j * math.comb(10, j) * math.comb(40 - 4 * j, 21 - 4 * j)
    exact = good / total
    assert abs(r.aggregate - exact) <= 4 * r.standard_error


def test_failstop_bad_input():
    t = _topo(["c", "s"], [("c", "s", "requires")])
    with pytest.raises(InputError):
        failstop_availability(t, "c", {"e": {"targets": ["s"]}}, 1.5)
    with pytest.raises(InputError):
        failstop_availability(t, "ghost", {"e": {"targets": ["s"]}}, 0.5)
    with pytest.raises(InputError):
        failstop_availability(t, "c", {"e": {"targets": ["x"]}}, 0.5)
    with pytest.raises(InputError):
        failstop_availability(t, "c", {}, 0.5)
    with pytest.raises(InputError):
        failstop_availability(t, "c", {"e": {"targets": ["s"]}}, 0.5, method="other")


# ---------------------------------------------------------------------------------------------
# Jaeger importer
# ---------------------------------------------------------------------------------------------
def test_import_jaeger_forms(tmp_path):
    links = [{"parent": "front", "child": "api", "callCount": 10},
             {"parent": "api", "child": "db", "callCount": 5},
             {"parent": "api", "child": "db", "callCount": 7},
             {"parent": "api", "child": "api", "callCount": 1}]
    for i, payload in enumerate((links, {"data": links, "total": 4, "errors": None})):
        p = tmp_path / f"deps{i}.json"
        p.write_text(json.dumps(payload))
        t = import_jaeger_dependencies(p, replicas={"db": 2})
        assert t.ids == ("front", "api", "db")
        assert [(e.source, e.target, e.type) for e in t.dependencies] == [
            ("front", "api", "requires"), ("api", "db", "requires")]
        assert t.component("db").replicas == 2
    dsb = import_jaeger_dependencies(
        demo_topology_path().parent / "dsb-social-network.json")
    data = load_dsb()
    assert len(dsb) == 12 and len(dsb.dependencies) == len(data["edges"])


@pytest.mark.parametrize("payload,match", [
    ([{"parent": "a", "chld": "b"}], "did you mean 'child'"),
    ([{"parent": "a"}], "child"),
    ([{"parent": "a", "child": "b", "callCount": -1}], "call count"),
    ({"links": []}, "no 'data' or 'edges'"),
    ([], "non-empty"),
    (["a->b"], "not a mapping"),
])
def test_import_jaeger_errors(tmp_path, payload, match):
    p = tmp_path / "deps.json"
    p.write_text(json.dumps(payload))
    with pytest.raises(InputError, match=match):
        import_jaeger_dependencies(p)


def test_import_jaeger_file_errors(tmp_path):
    with pytest.raises(InputError, match="not found"):
        import_jaeger_dependencies(tmp_path / "none.json")
    p = tmp_path / "bad.json"
    p.write_text("{not json")
    with pytest.raises(InputError, match="malformed JSON"):
        import_jaeger_dependencies(p)
    p.write_text(json.dumps([{"parent": "a", "child": "b"}]))
    with pytest.raises(InputError):
        import_jaeger_dependencies(p, replicas={"zzz": 2})
    with pytest.raises(InputError):
        import_jaeger_dependencies(p, replicas={"a": 0})


def test_inclusion_exclusion_count_used_above():
    """The closed form of the large-kill test counts kill sets correctly on a small case."""
    n_services = 3
    total = sum(1 for s in combinations(range(3 * 2 + 1), 4)
                if 0 not in s and not any({1 + 2 * i, 2 + 2 * i} <= set(s)
                                          for i in range(n_services)))
    ie = sum((-1) ** j * math.comb(3, j) * math.comb(6 - 2 * j, 4 - 2 * j) for j in range(3))
    assert total == ie


def test_failstop_samplers_agree_with_exact_on_dsb():
    data = load_dsb()
    topo = import_jaeger_dependencies(demo_topology_path().parent / "dsb-social-network.json",
                                      replicas=data["replicas_in_repl_mode"])
    ex = failstop_availability(topo, data["client"], data["endpoints"], 0.5, method="exact")
    for sampler in ("table", "shuffle"):
        r = failstop_availability(topo, data["client"], data["endpoints"], 0.5, trials=100_000,
                                  seed=11, sampler=sampler)
        assert abs(r.aggregate - ex.aggregate) <= 4 * r.standard_error
        for name, v in r.endpoints.items():
            assert abs(v - ex.endpoints[name]) < 0.01
    with pytest.raises(InputError):
        failstop_availability(topo, data["client"], data["endpoints"], 0.5, sampler="magic")


def test_components_built_in_code_are_checked():
    """A component is checked where it is built, so the availability models never see one
    with an impossible reliability field."""
    from faultray_lab.model.topology import Component

    for bad in ({"mtbf_hours": -10.0}, {"mttr_minutes": float("nan")}, {"replicas": 0},
                {"packet_loss_rate": -0.1}):
        with pytest.raises(InputError):
            Component("a", "app_server", **bad)


# ---------------------------------------------------------------------------------------------
# two models, labelled; --serve
# ---------------------------------------------------------------------------------------------
def test_cli_says_which_model_each_number_comes_from(capsys):
    assert main(["availability", str(demo_topology_path()), "--system"]) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    ceiling = next(i for i, ln in enumerate(lines) if ln.startswith("ceiling 0.99840875"))
    assert lines[ceiling + 1].strip().startswith("from the layer model")
    system = next(i for i, ln in enumerate(lines) if ln.startswith("system availability"))
    assert lines[system].endswith("0.99890197")          # above the ceiling ...
    assert lines[system + 1].strip().startswith("from the system model")
    assert "hardware failures only" in text and "no software, network" in " ".join(lines)
    joined = " ".join(ln.strip() for ln in lines)
    # ... and the output says why, and what to compare it with
    assert "above the ceiling because the binding software layer charges deploy downtime" in joined
    assert "compare it with the hardware layer 0.99890197" in joined

    assert main(["availability", str(demo_topology_path()), "--system", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["model"].startswith("layer model") and out["system"]["model"].startswith("system")
    c = out["comparison"]
    assert c["exceeds_ceiling"] is True and c["binding_layer"] == "software"
    assert c["system"] == out["system"]["availability"] and c["ceiling"] == out["ceiling"]
    assert c["hardware_layer"] == out["layers"]["hardware"]["availability"]
    assert "leaves out" in c["explanation"] and c["hardware_only_in_layer"] == []


def test_compare_models_names_the_hardware_accounting_differences():
    from faultray_lab.availability.system import compare_models

    t = _topo([{"id": "lb", "type": "load_balancer"},
               {"id": "app", "type": "app_server"},
               {"id": "db", "type": "database", "replicas": 2, "failover": {"enabled": True}},
               {"id": "batch", "type": "app_server"},
               {"id": "audit", "type": "storage"}],
              [("lb", "app", "requires"), ("app", "db", "requires"),
               ("batch", "db", "requires"), ("app", "audit", "optional")])
    layers = availability_layers(t)
    s = system_availability(t, ["app"])
    c = compare_models(s, layers, t)
    assert c["system"] == s.availability and c["ceiling"] == layers.ceiling
    # the layer counts lb and batch (no dependents) that "app" does not require, and charges
    # db's failover; "app" itself is counted by both
    assert c["hardware_only_in_layer"] == ["lb", "batch"]
    assert c["failover_penalised"] == ["db"] and c["system_only"] == []
    assert "lb, batch" in c["hardware_note"] and "switch-over" in c["hardware_note"]
    # a target with only optional dependents is counted by the system model alone
    c2 = compare_models(system_availability(t, ["audit"]), layers, t)
    assert c2["system_only"] == ["audit"]
    # a common cause can put the system figure below the ceiling: the note says so
    low = system_availability(t, ["app"], common_cause=[{"members": ["db"], "beta": 1.0}],
                              availability={"db": 0.9})
    c3 = compare_models(low, layers, t)
    assert c3["exceeds_ceiling"] is False and "below the ceiling" in c3["ceiling_note"]


def test_cli_serve_sets_the_targets(capsys):
    demo = str(demo_topology_path())
    assert main(["availability", demo, "--serve", "app-1, postgres", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["system"]["targets"] == ["app-1", "postgres"]   # --serve implies --system
    topo = load_demo()
    assert out["system"]["availability"] == system_availability(
        topo, ["app-1", "postgres"]).availability
    assert main(["availability", demo, "--serve", "nginx"]) == 0
    assert "system availability of nginx (exact)" in capsys.readouterr().out
    for value, message in (("app-1,postgress", "did you mean 'postgres'?"),
                           ("app-1,,nginx", "id 2 of 3 is empty"),
                           ("nginx,nginx", "'nginx' is named twice"),
                           (",", "no component ids")):
        assert main(["availability", demo, "--serve", value]) == 2
        err = capsys.readouterr().err
        assert message in err and "--serve" in err and "Traceback" not in err


def test_cli_availability_bounds_and_help(capsys):
    demo = str(demo_topology_path())
    for flag, value in (("--seed", "-1"), ("--trials", "0"), ("--trials", "1e9")):
        assert main(["availability", demo, "--system", "--method", "montecarlo", flag,
                     value]) == 2
        assert f"argument {flag}" in capsys.readouterr().err
    with pytest.raises(InputError, match="seed must be >= 0"):
        system_availability(load_demo(), method="montecarlo", seed=-1)
    from faultray_lab.cli import build_parser

    p = build_parser()._subparsers._group_actions[0].choices["availability"]  # noqa: SLF001
    for action in p._actions:  # noqa: SLF001
        if action.option_strings and action.dest != "help":
            assert action.help and "default" in action.help, action.dest


def load_demo():
    from faultray_lab import load_topology

    return load_topology(demo_topology_path())

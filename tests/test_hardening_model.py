"""Issue 14, input side: topologies built in Python are validated on construction; keys set
to null take their defaults; ``circuit_breaker: true`` works end to end; a self-dependency
loads with a warning (an error with ``strict_dag``); the YAML reader's limits."""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pytest

import faultray_lab as fl
from faultray_lab.cli import main
from faultray_lab.common.errors import InputError, InputWarning
from faultray_lab.common.yamlio import MAX_ALIAS_NODES, YamlInputError, load_yaml
from faultray_lab.importers.synthetic import layered_topology
from faultray_lab.model.schema import topology_from_dict
from faultray_lab.model.topology import Component, Dependency, Topology

TWO = {"components": [{"id": "web", "type": "web_server"}, {"id": "db", "type": "database"}]}


def _two(**edge: object) -> dict[str, object]:
    return {**TWO, "dependencies": [{"source": "web", "target": "db", **edge}]}


# ---------------------------------------------------------------------------------------------
# construction checks
# ---------------------------------------------------------------------------------------------
BAD_BUILDS = [
    ("dangling edge", lambda: Topology((Component("a"),), (Dependency("a", "zz"),)),
     ["dependencies[0]", "target 'zz' is not a component id", "use one of a"]),
    ("replicas -3", lambda: Component("a", replicas=-3),
     ["Component 'a'.replicas", "whole number >= 1, not -3"]),
    ("replicas 1.5", lambda: Component("a", replicas=1.5), ["not 1.5"]),
    ("replicas True", lambda: Component("a", replicas=True), ["not True"]),
    ("replicas huge", lambda: Component("a", replicas=2**70), ["replicas must be"]),
    ("unknown type", lambda: Component("a", "databse"), ["did you mean 'database'"]),
    ("empty id", lambda: Component(""), ["id must be non-empty text"]),
    ("numeric id", lambda: Component(5), ["id must be non-empty text, not 5"]),  # type: ignore
    ("negative number", lambda: Component("a", cpu_percent=-1.0),
     ["Component 'a'.cpu_percent", "must be >= 0"]),
    ("NaN number", lambda: Component("a", mttr_minutes=math.nan), ["mttr_minutes is NaN"]),
    ("infinite number", lambda: Component("a", mtbf_hours=math.inf), ["mtbf_hours is infinite"]),
    ("huge number", lambda: Component("a", cpu_percent=10**400), ["cpu_percent is too large"]),
    ("text number", lambda: Component("a", timeout_seconds="5"),  # type: ignore[arg-type]
     ["timeout_seconds must be a number, not str '5'"]),
    ("bool flag as text", lambda: Component("a", failover="yes"),  # type: ignore[arg-type]
     ["failover must be True or False"]),
    ("provider_sla above 100", lambda: Component("a", provider_sla=150.0),
     ["provider_sla must be in [0, 100]"]),
    ("parameters not a mapping", lambda: Component("a", parameters=[1]),  # type: ignore
     ["parameters must be a mapping"]),
    ("parameters NaN", lambda: Component("a", parameters={"x": math.nan}),
     ["Component 'a'.parameters.x", "NaN"]),
    ("parameters bytes", lambda: Component("a", parameters={"x": b"1"}), ["binary data"]),
    ("parameters out of range", lambda: Component("a", parameters={"failure_rate": -2}),
     ["failure_rate must be a number >= 0"]),
    ("parameters as text", lambda: Component("a", parameters={"max_context_tokens": "big"}),
     ["max_context_tokens must be a number >= 0, not 'big'"]),
    ("edge type", lambda: Dependency("a", "b", "requird"), ["did you mean 'requires'"]),
    ("edge weight NaN", lambda: Dependency("a", "b", weight=math.nan), ["weight is NaN"]),
    ("edge weight above 1", lambda: Dependency("a", "b", weight=3.0), ["weight must be in [0, 1]"]),
    ("edge latency negative", lambda: Dependency("a", "b", latency_ms=-1.0),
     ["latency_ms must be >= 0"]),
    ("edge without target", lambda: Dependency("a", ""), ["target must be a component id"]),
    ("edge breaker as text", lambda: Dependency("a", "b", circuit_breaker="on"),  # type: ignore
     ["circuit_breaker must be True or False"]),
    ("duplicate ids", lambda: Topology((Component("a"), Component("a"))),
     ["components[1]", "duplicate component id 'a'"]),
    ("duplicate edge", lambda: Topology((Component("a"), Component("b")),
                                        (Dependency("a", "b"), Dependency("a", "b", "optional"))),
     ["duplicate dependency a -> b"]),
    ("not components", lambda: Topology(("a", "b")),  # type: ignore[arg-type]
     ["components[0]: not a Component but str"]),
    ("components a dict", lambda: Topology({"a": Component("a")}),  # type: ignore[arg-type]
     ["components must be a tuple of Component"]),
    ("what-if change checked", lambda: Topology((Component("a"),)).with_component(
        "a", replicas=0), ["replicas must be a whole number >= 1, not 0"]),
]


@pytest.mark.parametrize(("case", "build", "expected"), BAD_BUILDS,
                         ids=[c[0] for c in BAD_BUILDS])
def test_construction_is_validated(case: str, build: object, expected: list[str]) -> None:
    with pytest.raises(InputError) as info:
        build()  # type: ignore[operator]
    msg = str(info.value)
    assert "Fix:" in msg
    for part in expected:
        assert part in msg, (part, msg)


def test_valid_constructions_still_work() -> None:
    t = Topology([Component("a", replicas=np.int64(2), cpu_percent=40),  # lists become tuples
                  Component("b", parameters=MappingProxyType({"failure_rate": 0.1}))],
                 [Dependency("a", "b"), Dependency("b", "b")])  # a self-edge is allowed here
    assert isinstance(t.components, tuple) and isinstance(t.dependencies, tuple)
    assert t.components[0].replicas == 2 and type(t.components[0].replicas) is int
    assert t.index == {"a": 0, "b": 1}
    assert Topology(()).ids == ()  # an empty side of a Terraform plan
    assert fl.simulate_fault(t, "b").health["a"] == "down"


def test_the_construction_checks_are_cheap() -> None:
    # correctness at scale (the timings are in the report, never asserted)
    t = layered_topology(20_000, seed=1)
    again = Topology(t.components, t.dependencies, t.source)
    assert again.index == t.index and len(again.dependencies) == len(t.dependencies)


def test_unknown_component_ids_name_the_nearest_and_list_some() -> None:
    t = layered_topology(200, seed=1)
    with pytest.raises(InputError) as info:
        t.component("app-1000")
    assert "did you mean 'app-10'" in str(info.value) and "(and 188 more)" in str(info.value)
    with pytest.raises(InputError, match="unknown component id 5"):
        t.component(5)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# the file schema
# ---------------------------------------------------------------------------------------------
def test_null_keys_take_their_defaults() -> None:
    t = topology_from_dict(_two(weight=None, latency_ms=None, type=None, circuit_breaker=None))
    e = t.dependencies[0]
    assert (e.weight, e.latency_ms, e.type, e.circuit_breaker) == (1.0, 0.0, "requires", False)
    c = topology_from_dict({"components": [{"id": "a", "replicas": None,
                                            "capacity": {"timeout_seconds": None}}]})
    assert c.components[0].replicas == 1 and c.components[0].timeout_seconds == 30.0


def test_circuit_breaker_true_is_short_for_enabled_end_to_end(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    short = topology_from_dict(_two(circuit_breaker=True))
    long = topology_from_dict(_two(circuit_breaker={"enabled": True}))
    none = topology_from_dict(_two())
    assert short.dependencies == long.dependencies and short.dependencies[0].circuit_breaker
    tripped = fl.simulate_fault(short, "db")  # cps: the breaker trips, web only degrades
    assert tripped.tripped_breakers == (("web", "db"),) and tripped.health["web"] == "degraded"
    assert fl.simulate_fault(none, "db").health["web"] == "down"
    path = tmp_path / "cb.yaml"
    path.write_text("components: [{id: web, type: web_server}, {id: db, type: database}]\n"
                    "dependencies: [{source: web, target: db, circuit_breaker: true}]\n")
    assert main(["simulate", str(path), "--fault", "db", "--json"]) == 0
    assert '"tripped_breakers": [\n    [\n      "web",' in capsys.readouterr().out


def test_a_self_dependency_warns_and_strict_dag_refuses_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "self.yaml"
    path.write_text("components: [{id: web}, {id: db}]\ndependencies:\n"
                    "  - {source: web, target: db}\n  - {source: db, target: db}\n")
    with pytest.warns(InputWarning) as record:
        t = fl.load_topology(path)
    assert len(t.dependencies) == 2 and len(record) == 1
    msg = str(record[0].message)
    assert msg.startswith(f"{path}:4: dependencies[1] (db -> db)") and "depends on itself" in msg
    assert "Fix: remove the edge" in msg
    with pytest.raises(InputError, match="dependency cycle db -> db"):
        fl.load_topology(path, strict_dag=True)
    assert main(["simulate", str(path), "--fault", "db"]) == 0
    err = capsys.readouterr().err
    assert err.startswith(f"warning: {path}:4:") and err.count("\n") == 1
    assert main(["simulate", str(path), "--fault", "db", "--strict-dag"]) == 2


def test_requires_grounding_as_text_warns() -> None:
    with pytest.warns(InputWarning, match="'requires_grounding' is 'false', which counts as true"):
        topology_from_dict({"components": [{"id": "a", "type": "ai_agent", "parameters": {
            "requires_grounding": "false"}}]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        topology_from_dict({"components": [{"id": "a", "parameters": {
            "requires_grounding": 1}}]})


def test_a_long_cycle_is_shown_short() -> None:
    n = 5000
    data = {"components": [{"id": f"c{i}"} for i in range(n)],
            "dependencies": [{"source": f"c{i}", "target": f"c{(i + 1) % n}"} for i in range(n)]}
    with pytest.raises(InputError) as info:
        topology_from_dict(data, strict_dag=True)
    msg = str(info.value)
    assert "dependency cycle of 5,000 components c" in msg and " -> ... -> " in msg
    assert len(msg) < 400


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"source": 5}, "source must be text"), ({"text": 5}, "text must be the file's text")])
def test_topology_from_dict_checks_its_arguments(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(InputError, match=match):
        topology_from_dict(TWO, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"n": 5}, "n must be from 10"), ({"n": 10**12}, "n must be from 10 to 1,000,000"),
    ({"n": 100, "degree": math.nan}, "degree"), ({"n": 100, "p_single": 2}, "p_single"),
    ({"n": 100, "seed": "x"}, "seed must be a whole number")])
def test_layered_topology_checks_its_arguments(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(InputError, match=match):
        layered_topology(**kwargs)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# the YAML reader's limits (load_yaml itself still equals safe_load on ordinary documents)
# ---------------------------------------------------------------------------------------------
def test_yaml_limits() -> None:
    # many aliases of a small anchor are fine; the budget counts nodes written out
    ok = "a: &a [1, 2, 3]\nb: [" + ", ".join(["*a"] * 1000) + "]\n"
    assert len(load_yaml(ok)["b"]) == 1000
    wide = "a: &a [" + ", ".join(["x"] * 1000) + "]\nb: [" + ", ".join(["*a"] * 1001) + "]\n"
    with pytest.raises(YamlInputError, match="alias bomb"):
        load_yaml(wide)
    assert 1001 * 1001 > MAX_ALIAS_NODES
    with pytest.raises(YamlInputError, match="nests deeper than 100"):
        load_yaml("a: " + "[" * 101 + "]" * 101)
    assert load_yaml("a: " + "[" * 99 + "]" * 99) is not None
    assert load_yaml("a: 1:30") == {"a": 90}  # the plain reader keeps YAML 1.1's reading
    with pytest.raises(YamlInputError, match="sexagesimal"):
        load_yaml("a: 1:30", strict=True)
    assert load_yaml("a: '1:30'\nb: 0x10\nc: 1_000", strict=True) == {
        "a": "1:30", "b": 16, "c": 1000}
    with pytest.raises(YamlInputError, match="cannot read '2017-02-30' as a date"):
        load_yaml("a: !!str x\nd: 2017-02-30")

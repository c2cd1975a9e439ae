"""Issue 14, input side: property tests over mutated input files.

Starting from valid files (the demo topology, an incident, a Terraform plan), Hypothesis
generates mutations: a value replaced by a wrong type, a null, a huge or negative number, NaN,
deep nesting, odd Unicode (lone surrogates included), a date or bytes (YAML only); a key dropped
or an unknown one added; and text-level damage (truncation, inserted or deleted characters, a
repeated line). Loading must either succeed or raise an InputError, never anything else, and the
command line (``faultray_lab.cli.main`` in-process) must return 0 or 2 without a traceback.
"""

from __future__ import annotations

import copy
import datetime
import json
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import faultray_lab as fl
from faultray_lab.cli import main
from faultray_lab.common.errors import InputError
from faultray_lab.evaluation.incidents import load_incidents
from faultray_lab.importers.terraform import load_plan

DEMO = yaml.safe_load(fl.demo_topology_path().read_text())
INCIDENT = {
    "id": "inc", "title": "t", "date": "2017-02-28",
    "topology": {"components": [{"id": "web", "type": "web_server", "replicas": 2},
                                {"id": "db", "type": "database",
                                 "metrics": {"cpu_percent": 40}}],
                 "dependencies": [{"source": "web", "target": "db", "type": "requires",
                                   "weight": 0.5}]},
    "fault": {"component": "db", "type": "component_down", "recovery": "restart"},
    "truth": {"affected": ["db", "web"], "severity": "major", "downtime_minutes": 30},
    "timeline": [{"offset_minutes": 5, "event_type": "detected", "affected": ["db"]}],
}
PLAN = {"format_version": "1.2", "resource_changes": [
    {"address": "aws_lb.web", "type": "aws_lb", "name": "web", "mode": "managed",
     "change": {"actions": ["no-op"], "before": {"subnets": ["a", "b"]},
                "after": {"subnets": ["a", "b"]}}},
    {"address": "aws_ecs_service.api", "type": "aws_ecs_service", "name": "api",
     "change": {"actions": ["update"], "before": {"desired_count": 2},
                "after": {"desired_count": 1}, "after_unknown": {"desired_count": False}}},
    {"address": "aws_db_instance.db", "type": "aws_db_instance",
     "change": {"actions": ["delete", "create"], "before": {"multi_az": True},
                "after": {"multi_az": False, "endpoint": "db.example.internal"}}}],
    "configuration": {"root_module": {"resources": [
        {"address": "aws_ecs_service.api",
         "expressions": {"x": {"references": ["aws_db_instance.db.endpoint"]}}}]}}}

DEEP = "__DEEP__"  # replaced by deep nesting in the text (encoders recurse)

_NASTY = [None, True, False, 0, -1, 1.5, -0.0, 2**63, 10**30, 10**400, -(10**400),
          float("nan"), float("inf"), float("-inf"), 1e308, "", "no", "yes", "1:30", "010",
          "1e308", "a\ud800", "\x00", "\u202e", "web", "db", "requires", "component_down",
          "2017-02-30", "delete", "major", f"{DEEP}150", f"{DEEP}1000", [], {}, [[]], {"": None}]
_scalars = st.one_of(
    st.sampled_from(_NASTY), st.sampled_from(_NASTY), st.sampled_from(_NASTY),
    st.booleans(), st.integers(-10**6, 10**6),
    st.integers(18, 5000).map(lambda k: 10 ** k),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(st.characters(codec=None, exclude_categories=()), max_size=12),
    st.integers(1, 1500).map(lambda d: f"{DEEP}{d}"),
)
_json_values = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=6)
_yaml_values = st.one_of(_json_values, st.dates(), st.binary(max_size=6),
                         st.datetimes(max_value=datetime.datetime(2100, 1, 1)))


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.extend(_paths(v, prefix + (k,)))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out.extend(_paths(v, prefix + (i,)))
    return out


def _leaves(doc: Any) -> list[Any]:
    return [_get(doc, p) for p in _paths(doc)]


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        doc = doc[key]
    return doc


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any], values: st.SearchStrategy[Any]) -> Any:
    doc = copy.deepcopy(base)
    rnd = draw(st.randoms(use_true_random=False))  # uniform over paths, unlike sampled_from
    for _ in range(draw(st.integers(1, 2))):
        paths = _paths(doc)
        leaves = [p for p in paths if not isinstance(_get(doc, p), dict | list)]
        path = rnd.choice(leaves if leaves and rnd.random() < 0.75 else paths)
        op = rnd.choice(["replace", "replace", "replace", "drop", "add"])

        def value() -> Any:  # half of the time one of the known troublemakers, uniformly
            return copy.deepcopy(rnd.choice(_NASTY)) if rnd.random() < 0.5 else draw(values)

        if not path:
            if op == "replace":
                doc = value()
            continue
        parent: Any = doc
        for key in path[:-1]:
            parent = parent[key]
        last = path[-1]
        if op == "replace":
            parent[last] = value()
        elif op == "drop":
            del parent[last]
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=10))] = value()
        else:
            parent.insert(last, value())
    return doc


def _deepen(text: str) -> str:
    import re

    return re.sub(r'"?' + DEEP + r'(\d+)"?', lambda m: "[" * int(m.group(1))
                  + "]" * int(m.group(1)), text)


def _to_text(doc: Any, fmt: str) -> str | None:
    try:
        if fmt == "json":
            return _deepen(json.dumps(doc))
        return _deepen(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
    except (yaml.YAMLError, ValueError, TypeError, RecursionError):
        return None  # not representable in this format: nothing to test


def _check_load(load: Any, path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            load(path)
        except InputError as exc:
            assert "\n" not in str(exc) and str(exc).startswith(str(path)), str(exc)


def _check_cli(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code = main(argv)
    err = capsys.readouterr().err
    assert code in (0, 2), (code, err)
    assert "Traceback" not in err
    if code == 2:
        assert [line for line in err.splitlines() if line.startswith("error:")], err


def _write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return path


SETTINGS = settings(deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.parametrize("fmt", ["yaml", "json"])
@settings(SETTINGS, max_examples=200)
@given(data=st.data())
def test_mutated_topologies(tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str,
                            data: st.DataObject) -> None:
    doc = data.draw(mutated(DEMO, _yaml_values if fmt == "yaml" else _json_values))
    text = _to_text(doc, fmt)
    if text is None:
        return
    path = _write(tmp_path, f"t.{fmt}", text)
    _check_load(fl.load_topology, path)
    _check_cli(capsys, ["simulate", str(path), "--fault", "nginx"])


_damage = st.one_of(
    st.tuples(st.just("truncate"), st.floats(0, 1), st.just("")),
    st.tuples(st.just("insert"), st.floats(0, 1),
              st.text(st.characters(codec="utf-8"), min_size=1, max_size=6)
              | st.sampled_from([":", "- ", "&a ", "*a", "<<: *a", "!!binary ", "{", "]", "'",
                                 '"', "\t", "\n  ", "1:30", "NaN", "\\ud800"])),
    st.tuples(st.just("delete"), st.floats(0, 1), st.integers(1, 40).map(str)),
    st.tuples(st.just("repeat-line"), st.floats(0, 1), st.just("")),
)


def _damaged(text: str, damage: tuple[str, float, str]) -> str:
    kind, where, arg = damage
    pos = int(where * len(text))
    if kind == "truncate":
        return text[:pos]
    if kind == "insert":
        return text[:pos] + arg + text[pos:]
    if kind == "delete":
        return text[:pos] + text[pos + int(arg):]
    lines = text.splitlines(keepends=True)
    i = min(int(where * len(lines)), len(lines) - 1)
    return "".join(lines[:i + 1] + lines[i:])


@pytest.mark.parametrize("fmt", ["yaml", "json"])
@settings(SETTINGS, max_examples=200)
@given(damage=st.lists(_damage, min_size=1, max_size=3))
def test_damaged_topology_text(tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str,
                               damage: list[tuple[str, float, str]]) -> None:
    text = _to_text(DEMO, fmt)
    assert text is not None
    for d in damage:
        text = _damaged(text, d)
    path = _write(tmp_path, f"t.{fmt}", text)
    _check_load(fl.load_topology, path)
    _check_cli(capsys, ["simulate", str(path), "--fault", "nginx", "--rules", "faultray-v11"])


@settings(SETTINGS, max_examples=150)
@given(doc=mutated(INCIDENT, _yaml_values), damage=st.lists(_damage, max_size=1))
def test_mutated_incidents(tmp_path: Path, capsys: pytest.CaptureFixture[str], doc: Any,
                           damage: list[tuple[str, float, str]]) -> None:
    text = _to_text(doc, "yaml")
    if text is None:
        return
    for d in damage:
        text = _damaged(text, d)
    folder = tmp_path / "cohort"
    folder.mkdir(exist_ok=True)
    path = _write(folder, "inc.yaml", text)
    _check_load(load_incidents, path)
    _check_cli(capsys, ["backtest", str(folder), "--bootstrap", "5"])


@settings(SETTINGS, max_examples=150)
@given(doc=mutated(PLAN, _json_values), damage=st.lists(_damage, max_size=1))
def test_mutated_plans(tmp_path: Path, capsys: pytest.CaptureFixture[str], doc: Any,
                       damage: list[tuple[str, float, str]]) -> None:
    text = _to_text(doc, "json")
    if text is None:
        return
    for d in damage:
        text = _damaged(text, d)
    path = _write(tmp_path, "plan.json", text)
    _check_load(load_plan, path)
    _check_cli(capsys, ["tf-check", str(path)])


@settings(SETTINGS, max_examples=150)
@given(doc=mutated(PLAN, _json_values))
def test_mutated_plan_dicts(doc: Any) -> None:
    """Plans passed as Python objects (NaN, infinities and huge numbers stay unparsed)."""
    if any(isinstance(v, str) and v.startswith(DEEP) for v in _leaves(doc)):
        return  # deep nesting is made in the text; a dict holds the marker only
    try:
        load_plan(doc)
    except InputError:
        pass

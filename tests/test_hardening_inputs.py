"""Issue 14, input side: every bad input gives one clear message (file, location, fix) as an
InputError from the API and exit code 2 without a traceback from the CLI.

Each case writes a file, loads it through the public loader (which must raise an InputError
holding the expected parts) and runs the matching command in-process (which must return 2 and
print one ``error:`` line).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

import faultray_lab as fl
from faultray_lab.cli import main
from faultray_lab.common.errors import InputError
from faultray_lab.evaluation.incidents import load_incidents
from faultray_lab.importers.jaeger import import_jaeger_dependencies
from faultray_lab.importers.terraform import load_plan

BIG = "9" * 400


def topo(comp_extra: str = "", edge: str = "{source: web, target: db, type: requires}") -> str:
    return ("components:\n  - id: web\n    type: web_server\n  - id: db\n    type: database\n"
            f"{comp_extra}dependencies:\n  - {edge}\n")


def incident(date: str = "2017-02-28", fault_extra: str = "", downtime: str = "30") -> str:
    return (f"id: inc\ndate: {date}\ntopology:\n"
            "  components: [{id: web, type: web_server}, {id: db, type: database}]\n"
            "  dependencies: [{source: web, target: db, type: requires}]\n"
            f"fault: {{component: db, type: component_down{fault_extra}}}\n"
            f"truth: {{affected: [db, web], severity: major, downtime_minutes: {downtime}}}\n")


def plan(after: str) -> str:
    return ('{"resource_changes": [{"address": "aws_ecs_service.api", "type": '
            '"aws_ecs_service", "change": {"actions": ["update"], "before": '
            '{"desired_count": 2}, "after": ' + after + "}}]}")


def _bomb() -> str:
    lines = ["      a: &a [x, x, x, x, x, x, x, x, x]"]
    for i in range(9):
        prev, cur = chr(97 + i), chr(98 + i)
        lines.append(f"      {cur}: &{cur} [" + ", ".join([f"*{prev}"] * 9) + "]")
    return "components:\n  - id: web\n    parameters:\n" + "\n".join(lines) + "\n"


# (case id, file name, content, expected parts of the message)
TOPOLOGY_CASES: list[tuple[str, str, str | bytes, list[str]]] = [
    ("weight 400 digits", "t.yaml", topo(edge=f"{{source: web, target: db, weight: {BIG}}}"),
     ["integer of 400 digits", ":7:", "quote it if it is text"]),
    ("replicas 400 digits json", "t.json", '{"components": [{"id": "a", "replicas": ' + BIG + "}]}",
     ["integer of 400 digits", ":1:"]),
    ("cpu 400 digits json", "t.json",
     '{"components": [{"id": "a", "metrics": {"cpu_percent": ' + BIG + "}}]}",
     ["integer of 400 digits"]),
    ("replicas 25 digits", "t.yaml", topo("    replicas: " + "9" * 25 + "\n"),
     ["'replicas' is too large", "below 2**63"]),
    ("latency: null is an unknown key", "t.yaml",
     topo(edge="{source: web, target: db, latency: null}"),
     ["unknown key 'latency'", "did you mean 'latency_ms'?", ":7:"]),
    ("undefined alias", "t.yaml", topo() + "name: *nope\n",
     ["alias *nope names no anchor", ":8:", "define &nope"]),
    ("json nested 1000 deep", "t.json", '{"components": ' + "[" * 1000 + "]" * 1000 + "}",
     ["nested too deeply", "100 levels"]),
    ("yaml nested 150 deep", "t.yaml", "components: " + "[" * 150 + "]" * 150 + "\n",
     ["nests deeper than 100 levels", "flatten"]),
    ("free value nested 150 deep json", "t.json",
     '{"components": [{"id": "a", "tags": ' + "[" * 150 + "]" * 150 + "}]}",
     ["nested deeper than 100 levels", "tags"]),
    ("lone surrogate json", "t.json", '{"components": [{"id": "a\\ud800"}]}',
     ["components[0].id", "lone surrogate", "surrogate pair"]),
    ("lone surrogate yaml", "t.yaml", 'components:\n  - id: "a\\ud800"\n',
     ["invalid Unicode character escape", ":2:"]),
    ("parameters nan", "t.yaml", topo("    parameters: {failure_rate: .nan}\n"),
     ["parameters.failure_rate", "NaN", ":6:"]),
    ("parameters date", "t.yaml", topo("    parameters: {since: 2020-01-01}\n"),
     ["parameters.since", "a date", "quotes"]),
    ("parameters bytes", "t.yaml", topo("    parameters: {blob: !!binary aGVsbG8=}\n"),
     ["parameters.blob", "binary data"]),
    ("parameters as text", "t.yaml", topo("    parameters: {hallucination_risk: high}\n"),
     ["'hallucination_risk' must be a number >= 0", "'high'"]),
    ("alias bomb", "t.yaml", _bomb(), ["alias bomb", "1,000,000 nodes"]),
    ("recursive alias", "t.yaml", "components:\n  - &c {id: web, tags: [*c]}\n",
     ["recursive structure"]),
    ("duplicate key with a merge key", "t.yaml",
     "components:\n  - &w {id: web, type: web_server}\n  - <<: *w\n    id: web2\n"
     "    replicas: 1\n    replicas: 3\n", ["duplicate key 'replicas' in one mapping", ":6:"]),
    ("duplicate key with a tag", "t.yaml",
     "components:\n  - id: !!str web\n    replicas: 1\n    replicas: 3\n",
     ["duplicate key 'replicas' in one mapping", ":4:"]),
    ("sexagesimal", "t.yaml", topo("    replicas: 1:30\n"),
     ["sexagesimal number 90", "write the plain number (90)", "quote it ('1:30')"]),
    ("octal", "t.yaml", topo("    replicas: 010\n"), ["octal number 8", "quote it ('010')"]),
    ("upper-case .JSON is JSON", "t.JSON", '{"components": [{"id": "a", "id": "b"}]}',
     ["duplicate key 'id' in one object"]),
    ("id: no", "t.yaml", "components:\n  - id: no\n",
     ["YAML read `id: no` as the boolean false", 'quote it: id: "no"', ":2:"]),
    ("id: 123", "t.yaml", "components:\n  - id: 123\n",
     ["YAML read `id: 123` as the number 123", 'quote it: id: "123"']),
    ("numeric edge id", "t.yaml",
     'components:\n  - id: "123"\n  - id: b\ndependencies:\n  - {source: 123, target: b}\n',
     ["YAML read `source: 123` as the number 123", 'quote it: source: "123"']),
    ("1e308 is text in YAML 1.1", "t.yaml", topo("    capacity: {timeout_seconds: 1e308}\n"),
     ["YAML 1.1 reads 1e308 as text", "a float needs a dot"]),
    ("infinite", "t.yaml", topo("    capacity: {timeout_seconds: 1.0e+400}\n"),
     ["'timeout_seconds' is infinite"]),
    ("weight above 1", "t.yaml", topo(edge="{source: web, target: db, weight: 2}"),
     ["'weight' is 2, above 1", "[0, 1]"]),
    ("json NaN", "t.json", '{"components": [{"id": "a", "metrics": {"cpu_percent": NaN}}]}',
     ["NaN is not valid JSON", "null for the default"]),
    ("not UTF-8", "t.yaml", b"components:\n  - id: caf\xe9\n", ["not UTF-8 text", ":2:"]),
    ("non-text key", "t.yaml", "components:\n  - {id: a, tags: [{1: x}]}\n",
     ["the key 1 is not text"]),
    ("binary in a list", "t.yaml", "components:\n  - {id: a, tags: [!!binary aGVsbG8=]}\n",
     ["tags[0]", "binary data"]),
]


@pytest.mark.parametrize(("case", "name", "content", "expected"), TOPOLOGY_CASES,
                         ids=[c[0] for c in TOPOLOGY_CASES])
def test_bad_topology_files(tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str,
                            name: str, content: str | bytes, expected: list[str]) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as info:
        fl.load_topology(path)
    _check_message(str(info.value), str(path), expected)
    code = main(["simulate", str(path), "--fault", "web"])
    _check_cli(code, capsys.readouterr().err, str(path), expected)


def _check_message(msg: str, file: str, expected: list[str]) -> None:
    assert msg.startswith(file) and "Fix:" in msg, msg
    assert "\n" not in msg and len(msg) < 600, msg
    for part in expected:
        assert part in msg, (part, msg)


def _check_cli(code: int, err: str, file: str, expected: list[str]) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {file}"), err
    for part in expected:
        assert part in lines[0], (part, lines[0])


# ---------------------------------------------------------------------------------------------
# special files: refused before they are read
# ---------------------------------------------------------------------------------------------
def _fifo(tmp_path: Path) -> str:
    p = tmp_path / "fifo.yaml"
    os.mkfifo(p)
    return str(p)


def _loop(tmp_path: Path) -> str:
    p = tmp_path / "loop.yaml"
    os.symlink(p, p)
    return str(p)


def _dangling(tmp_path: Path) -> str:
    p = tmp_path / "link.yaml"
    os.symlink(tmp_path / "gone.yaml", p)
    return str(p)


def _sparse(tmp_path: Path) -> str:
    p = tmp_path / "huge.yaml"
    with open(p, "wb") as fh:
        fh.truncate(65 * 2**20)  # sparse: no disk space used
    return str(p)


SPECIAL: list[tuple[str, Callable[[Path], str], list[str]]] = [
    ("/dev/zero", lambda _: "/dev/zero", ["a character device, not a regular file"]),
    ("FIFO", _fifo, ["a FIFO (named pipe), not a regular file"]),
    ("symlink loop", _loop, ["a loop of symbolic links"]),
    ("dangling symlink", _dangling, ["a symbolic link to a missing file"]),
    ("above 64 MiB", _sparse, ["65.0 MiB, above the input limit of 64.0 MiB",
                               "FAULTRAY_LAB_MAX_INPUT_MB"]),
]


@pytest.mark.skipif(os.name != "posix", reason="FIFOs, /dev/zero and symlinks are POSIX")
@pytest.mark.parametrize(("case", "make", "expected"), SPECIAL, ids=[c[0] for c in SPECIAL])
def test_special_files_are_refused_without_reading(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str,
        make: Callable[[Path], str], expected: list[str]) -> None:
    path = make(tmp_path)
    for load in (fl.load_topology, load_incidents, import_jaeger_dependencies, load_plan):
        with pytest.raises(InputError) as info:
            load(path)
        _check_message(str(info.value), path, expected)
    for argv in (["simulate", path, "--fault", "a"], ["tf-check", path],
                 ["backtest", path, "--bootstrap", "10"]):
        _check_cli(main(argv), capsys.readouterr().err, path, expected)


def test_the_size_limit_can_be_raised_and_is_checked(monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    from faultray_lab.common import parsing

    monkeypatch.setattr(parsing, "MAX_INPUT_BYTES", 100)
    path = tmp_path / "t.yaml"
    path.write_text(topo() + "# " + "x" * 200 + "\n")
    with pytest.raises(InputError, match=r"above the input limit of 100 bytes"):
        fl.load_topology(path)
    monkeypatch.setenv("FAULTRAY_LAB_MAX_INPUT_MB", "1")
    assert len(fl.load_topology(path)) == 2
    monkeypatch.setenv("FAULTRAY_LAB_MAX_INPUT_MB", "lots")
    with pytest.raises(InputError, match="FAULTRAY_LAB_MAX_INPUT_MB: must be a whole number"):
        fl.load_topology(path)


# ---------------------------------------------------------------------------------------------
# incident files (backtest)
# ---------------------------------------------------------------------------------------------
INCIDENT_CASES = [
    ("invalid date", incident(date="2017-02-30"),
     ["cannot read '2017-02-30' as a date (day is out of range for month)", ":2:"]),
    ("recovery as a list", incident(fault_extra=", recovery: [revert]"),
     ["fault.recovery", "'recovery' must be one mechanism", "recovery: revert"]),
    ("downtime 400 digits", incident(downtime=BIG), ["integer of 400 digits"]),
    ("downtime 25 digits", incident(downtime="9" * 25),
     ["truth.downtime_minutes", "'downtime_minutes' is too large"]),
    ("fault type as a list", incident(fault_extra="").replace("type: component_down",
                                                              "type: [component_down]"),
     ["fault.type", "must be a fault type name"]),
    ("severity as a list", incident().replace("severity: major", "severity: [major]"),
     ["truth.severity", "'severity' must be a label"]),
    ("cohort as a list", incident() + "cohort: [a]\n", ["'cohort' must be text"]),
    ("title read as a boolean", incident() + "title: no\n",
     ["'title' must be text, not the boolean false", 'title: "no"']),
]


@pytest.mark.parametrize(("case", "content", "expected"), INCIDENT_CASES,
                         ids=[c[0] for c in INCIDENT_CASES])
def test_bad_incident_files(tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str,
                            content: str, expected: list[str]) -> None:
    path = tmp_path / "inc.yaml"
    path.write_text(content)
    with pytest.raises(InputError) as info:
        load_incidents(tmp_path)
    _check_message(str(info.value), str(path), expected)
    _check_cli(main(["backtest", str(tmp_path), "--bootstrap", "10"]),
               capsys.readouterr().err, str(path), expected)


def test_a_good_incident_still_loads(tmp_path: Path) -> None:
    (tmp_path / "inc.yaml").write_text(incident(fault_extra=", recovery: revert"))
    [inc] = load_incidents(tmp_path)
    assert inc.fault.recovery == "revert" and inc.truth is not None


@pytest.mark.parametrize("arg", [123, None, b"incidents", {"a": 1}, [1], [None]])
def test_load_incidents_checks_its_argument_type(arg: object) -> None:
    with pytest.raises(InputError, match="expected a path"):
        load_incidents(arg)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Terraform plans (tf-check)
# ---------------------------------------------------------------------------------------------
def _changes(**rc: object) -> str:
    base = {"address": "aws_lb.web", "type": "aws_lb",
            "change": {"actions": ["create"], "after": {}}}
    return json.dumps({"resource_changes": [{**base, **rc}]})


PLAN_CASES: list[tuple[str, str | bytes, list[str]]] = [
    ("desired_count 400 digits", plan('{"desired_count": ' + BIG + "}"),
     ["integer of 400 digits"]),
    ("desired_count 5000 digits", plan('{"desired_count": ' + "9" * 5000 + "}"),
     ["integer of 5000 digits"]),
    ("desired_count 25 digits", plan('{"desired_count": ' + "9" * 25 + "}"),
     ["change.after.desired_count", "is not a count"]),
    ("desired_count negative", plan('{"desired_count": -5}'), ["-5 is not a count"]),
    ("desired_count fractional", plan('{"desired_count": 2.5}'), ["2.5 is not a count"]),
    ("NaN", plan('{"desired_count": NaN}'), ["NaN is not valid JSON"]),
    ("nested 1000 deep", '{"resource_changes": [], "configuration": ' + "[" * 1000
     + "]" * 1000 + "}", ["nested too deeply"]),
    ("nested 150 deep", '{"resource_changes": [], "configuration": ' + "[" * 150
     + "]" * 150 + "}", ["the plan nests deeper than 100 levels"]),
    ("truncated", plan('{"desired_count": 1}')[:60], ["the file looks truncated"]),
    ("truncated after a value", plan('{"desired_count": 1}')[:-3],
     ["the file looks truncated"]),
    ("binary plan.out", b"PK\x03\x04\x14\x00\x00\x00\x08\x00\xff\xfe",
     ["binary plan file (plan.out, a zip archive)"]),
    ("not UTF-8", b'{"resource_changes": [\xff]}', ["not UTF-8 text", "binary plan.out"]),
    ("deposed as a list", _changes(deposed=["x"]), ["resource_changes[0] (aws_lb.web).deposed",
                                                    "must be a string"]),
    ("mode unknown", _changes(mode="weird", name="web"), ["unknown mode 'weird'"]),
    ("name a number", _changes(name=5), ["name: must be a string"]),
    ("duplicate key", '{"resource_changes": [], "resource_changes": []}',
     ["duplicate key 'resource_changes'"]),
]


@pytest.mark.parametrize(("case", "content", "expected"), PLAN_CASES,
                         ids=[c[0] for c in PLAN_CASES])
def test_bad_plans(tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str,
                   content: str | bytes, expected: list[str]) -> None:
    path = tmp_path / "plan.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(InputError) as info:
        load_plan(path)
    _check_message(str(info.value), str(path), expected)
    _check_cli(main(["tf-check", str(path)]), capsys.readouterr().err, str(path), expected)


def test_plan_counts_that_are_not_numbers_are_still_skipped() -> None:
    # attribute names are shared across resource types: a list under "instances" is no count
    p = load_plan(plan('{"desired_count": "x", "instances": ["i-1", "i-2"]}'))
    assert p.after.components[0].replicas == 1


# ---------------------------------------------------------------------------------------------
# Jaeger dependency files (API)
# ---------------------------------------------------------------------------------------------
def test_bad_jaeger_files(tmp_path: Path) -> None:
    path = tmp_path / "deps.json"
    path.write_text('{"data": ' + "[" * 1000 + "]" * 1000 + "}")
    with pytest.raises(InputError, match="nested too deeply"):
        import_jaeger_dependencies(path)
    path.write_text('[{"parent": "a", "child": "b", "callCount": ' + BIG + "}]")
    with pytest.raises(InputError, match="integer of 400 digits"):
        import_jaeger_dependencies(path)
    path.write_text('[{"parent": "a", "child": "b", "callCount": ' + "9" * 25 + "}]")
    with pytest.raises(InputError, match="call count must be a number from 0 to 2\\*\\*63"):
        import_jaeger_dependencies(path)
    path.write_text('[{"parent": "a", "child": "b"}]')
    with pytest.raises(InputError, match="replicas must be a mapping"):
        import_jaeger_dependencies(path, replicas=5)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="a file path must be a string or a path, not int"):
        import_jaeger_dependencies(123)  # type: ignore[arg-type]
    assert len(import_jaeger_dependencies(path)) == 2


@pytest.mark.parametrize("arg", [123, None, b"t.yaml", ["t.yaml"]])
def test_load_topology_checks_its_argument_type(arg: object) -> None:
    with pytest.raises(InputError, match="a file path must be a string or a path"):
        fl.load_topology(arg)  # type: ignore[arg-type]


def test_deep_json_refused_whatever_the_recursion_limit(tmp_path: Path) -> None:
    # test tools (hypothesis) raise the interpreter's recursion limit; the refusal must not
    # depend on it, or a 1000-deep document slips through to a confusing later message
    import sys
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(100_000)
    try:
        path = tmp_path / "deps.json"
        path.write_text('{"data": ' + "[" * 1000 + "]" * 1000 + "}")
        with pytest.raises(InputError, match="nested too deeply"):
            import_jaeger_dependencies(path)
        path.write_text('{"data": [{"parent": "a", "child": "b", "note": "' + "[" * 1000
                        + '"}]}')
        with pytest.raises(InputError, match="unknown link keys|note"):
            import_jaeger_dependencies(path)
    finally:
        sys.setrecursionlimit(old)

"""Incident files: the converted paper-18 corpus and strict validation of bad files."""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path

import pytest
import yaml

from faultray_lab.common.errors import InputError
from faultray_lab.evaluation.incidents import (
    SEVERITY_LABELS,
    Incident,
    incident_from_dict,
    load_incident,
    load_incidents,
)

ROOT = Path(__file__).resolve().parents[1]
PAPER = ROOT / "incidents" / "paper-18"
PUBLISHED = ROOT / "incidents" / "paper-18-published.json"
SAMPLE = PAPER / "aws-s3-2017-02.yaml"


@pytest.fixture(scope="module")
def published() -> dict:
    return {i["id"]: i for i in json.loads(PUBLISHED.read_text())["incidents"]}


@pytest.fixture(scope="module")
def incidents() -> list[Incident]:
    return load_incidents(PAPER)


def test_paper18_has_the_18_published_incidents(incidents, published):
    assert len(incidents) == 18
    assert {i.id for i in incidents} == set(published)
    for inc in incidents:
        assert Path(inc.path).stem == inc.id
        assert inc.cohort == "paper-18"
        assert inc.scored


def test_paper18_keeps_topology_fault_truth_and_edge_order(incidents, published):
    for inc in incidents:
        raw = published[inc.id]
        bt = raw["backtest"]
        topo = bt["topology"]
        assert list(inc.topology.ids) == [c["id"] for c in topo["components"]]
        assert [(e.source, e.target, e.type, e.weight) for e in inc.topology.dependencies] == [
            (e["source"], e["target"], e["type"], e["weight"]) for e in topo["dependencies"]]
        assert [c.timeout_seconds for c in inc.topology.components] == [
            c["timeout_seconds"] for c in topo["components"]]
        assert inc.fault.component == bt["failed_component"]
        assert inc.fault.type == "component_down"
        assert list(inc.truth.affected) == bt["ground_truth_affected_components"]
        assert inc.truth.severity == bt["ground_truth_severity_label"]
        assert inc.truth.downtime_minutes == bt["ground_truth_downtime_minutes"]
        assert inc.title == raw["name"] and inc.provider == raw["provider"]
        assert inc.date == datetime.date.fromisoformat(raw["date"])
        assert inc.sources == (raw["post_mortem_url"],)
        assert [e.offset_minutes for e in inc.timeline] == [
            e["offset_minutes"] for e in raw["timeline"]]


def test_committed_yaml_is_the_converter_output(tmp_path):
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import convert_paper18
    finally:
        sys.path.pop(0)
    assert convert_paper18.main([str(PUBLISHED), str(tmp_path)]) == 0
    written = sorted(p.name for p in tmp_path.glob("*.yaml"))
    assert written == sorted(p.name for p in PAPER.glob("*.yaml"))
    for name in written:
        assert (tmp_path / name).read_bytes() == (PAPER / name).read_bytes(), name


def test_to_dict_round_trips(incidents):
    for inc in incidents[:5]:
        again = incident_from_dict(inc.to_dict(), expected_id=inc.id)
        assert again.truth == inc.truth and again.fault == inc.fault
        assert again.timeline == inc.timeline and again.date == inc.date
        assert again.topology.ids == inc.topology.ids
        assert again.topology.dependencies == inc.topology.dependencies


def test_incident_without_truth_loads(tmp_path):
    data = yaml.safe_load(SAMPLE.read_text())
    del data["truth"]
    (tmp_path / "aws-s3-2017-02.yaml").write_text(yaml.safe_dump(data))
    [inc] = load_incidents(tmp_path)
    assert inc.truth is None and not inc.scored


def test_minimal_incident_defaults(tmp_path):
    (tmp_path / "x.yaml").write_text(
        "id: x\ntopology: {components: [{id: a}]}\nfault: {component: a}\n")
    inc = load_incident(tmp_path / "x.yaml")
    assert inc.fault.type == "component_down"
    assert inc.cohort == tmp_path.name and inc.sources == () and inc.date is None


# ---------------------------------------------------------------------------------------------
# Bad files: one clear message each (file, line, location, fix)
# ---------------------------------------------------------------------------------------------
SRC = SAMPLE.read_text()
TRUTH_LINE = "affected: [shared_network, s3_storage, app_server, lambda_fn, message_queue]"
BAD = {
    "truth id": (SRC.replace(TRUTH_LINE, "affected: [shared_network, s3_storag]"),
                 ["truth.affected[1]", "'s3_storag' is not a component",
                  "did you mean 's3_storage'"]),
    "fault component": (SRC.replace("fault: {component: shared_network",
                                    "fault: {component: shared_netwrk"),
                        ["fault.component", "'shared_netwrk'", "did you mean 'shared_network'"]),
    "fault type": (SRC.replace("type: component_down}", "type: component_dwn}"),
                   ["fault.type", "unknown fault type 'component_dwn'",
                    "did you mean 'component_down'"]),
    "negative downtime": (SRC.replace("downtime_minutes: 300.0", "downtime_minutes: -5"),
                          ["truth.downtime_minutes", "negative"]),
    "nan downtime": (SRC.replace("downtime_minutes: 300.0", "downtime_minutes: .nan"),
                     ["truth.downtime_minutes", "not finite"]),
    "text downtime": (SRC.replace("downtime_minutes: 300.0", "downtime_minutes: 5h"),
                      ["truth.downtime_minutes", "must be a number"]),
    "severity label": (SRC.replace("severity: critical", "severity: catastrophic"),
                       ["truth.severity", "unknown severity label 'catastrophic'", "critical"]),
    "unknown key": (SRC.replace("provider: aws", "provder: aws"),
                    ["unknown key 'provder'", "did you mean 'provider'"]),
    "unknown truth key": (SRC.replace("severity: critical", "severity: critical\n  sevrity: x"),
                          ["truth.sevrity", "unknown key"]),
    "topology key": (SRC.replace("timeout_seconds: 30.0}\n  - {id: app_server",
                                 "timeout_second: 30.0}\n  - {id: app_server", 1),
                     ["topology.components[0]", "timeout_second",
                      "did you mean 'timeout_seconds'"]),
    "missing fault": (SRC.replace("fault: {component: shared_network, type: component_down}\n", ""),
                      ["missing 'fault'"]),
    "missing truth key": (SRC.replace("  severity: critical\n", ""), ["missing 'truth.severity'"]),
    "timeline id": (SRC.replace("affected: [s3_storage]", "affected: [s4]", 1),
                    ["timeline[0].affected[0]", "'s4' is not a component"]),
    "bad date": (SRC.replace("date: 2017-02-28", "date: last tuesday"), ["date", "YYYY-MM-DD"]),
    "malformed": (SRC.replace("fault: {component", "fault: {component: ["), ["malformed YAML"]),
    "not a mapping": ("- just\n- a list\n", ["not a mapping"]),
}


def write_bad(tmp_path: Path, text: str, name: str = "aws-s3-2017-02.yaml") -> Path:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / name).write_text(text)
    return folder


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_incident_gives_one_clear_message(tmp_path, case):
    text, expected = BAD[case]
    folder = write_bad(tmp_path, text)
    with pytest.raises(InputError) as info:
        load_incidents(folder)
    msg = str(info.value)
    assert msg.startswith(str(folder / "aws-s3-2017-02.yaml"))
    assert "\n" not in msg
    for part in expected:
        assert part in msg, (part, msg)
    if case not in ("missing fault", "not a mapping"):
        assert info.value.line is not None


def test_id_must_match_file_name(tmp_path):
    folder = write_bad(tmp_path, SRC, name="other.yaml")
    with pytest.raises(InputError, match="does not match the file name 'other'"):
        load_incidents(folder)


def test_duplicate_ids_across_files(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "aws-s3-2017-02.yaml").write_text(SRC)
    (tmp_path / "b" / "aws-s3-2017-02.yaml").write_text(SRC)
    with pytest.raises(InputError, match="duplicate incident id"):
        load_incidents(tmp_path)


def test_missing_path_and_empty_folder(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_incidents(tmp_path / "nope")
    with pytest.raises(InputError, match="no incident files"):
        load_incidents(tmp_path)


def test_severity_labels_are_the_published_ones():
    assert SEVERITY_LABELS == ("critical", "major", "high", "medium", "minor", "low")

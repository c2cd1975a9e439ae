"""The corpus: per-component labels with evidence, assembly from blind passes, statistics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from faultray_lab.cli import main
from faultray_lab.common.errors import InputError
from faultray_lab.evaluation.corpus import (
    assemble,
    contested,
    corpus_stats,
    incident_dict,
    pass_inputs,
    power_n,
)
from faultray_lab.evaluation.incidents import incident_from_dict
from faultray_lab.evaluation.metrics import score_prediction

SRC = "https://status.example.com/postmortem"


def _incident(**truth: Any) -> dict[str, Any]:
    return {"id": "x", "sources": [SRC],
            "topology": {"components": [{"id": "db"}, {"id": "app"}, {"id": "web"},
                                        {"id": "batch"}],
                         "dependencies": [{"source": "app", "target": "db"},
                                          {"source": "web", "target": "app"},
                                          {"source": "batch", "target": "db",
                                           "type": "async"}]},
            "fault": {"component": "db", "scope": "logical"},
            "truth": {"severity": "major", "downtime_minutes": 30, **truth}}


def _ev(*ids: str) -> dict[str, Any]:
    return {c: {"quote": f"{c} was hit", "source": SRC} for c in ids}


STATES = {"db": "down", "app": "down", "web": "degraded", "batch": "unaffected"}


def test_labels_give_affected_and_round_trip() -> None:
    inc = incident_from_dict(_incident(states=STATES, evidence=_ev(*STATES),
                                       window={"start": "2020-01-01T10:00:00Z",
                                               "end": "2020-01-01T10:30:00Z"},
                                       times={"app": {"first_affected": "2020-01-01T10:05:00Z"}}))
    assert inc.truth.affected == ("db", "app", "web")
    assert inc.fault.scope == "logical"
    again = incident_from_dict(yaml.safe_load(yaml.safe_dump(inc.to_dict())))
    assert again.truth == inc.truth


def test_unknown_components_are_not_scored() -> None:
    states = {**STATES, "batch": "unknown"}
    inc = incident_from_dict(_incident(states=states, evidence=_ev("db", "app", "web")))
    assert inc.truth.unknown == {"batch"}
    row = score_prediction(["db", "app", "web", "batch"], [], 1.0, 1.0, inc.truth)
    assert (row["tp"], row["fp"], row["fn"], row["f1"]) == (3, 0, 0, 1.0)
    known = incident_from_dict(_incident(states=STATES, evidence=_ev(*STATES)))
    row = score_prediction(["db", "app", "web", "batch"], [], 1.0, 1.0, known.truth)
    assert row["fp"] == 1


@pytest.mark.parametrize("truth,words", [
    ({"states": {**STATES, "cache": "down"}, "evidence": _ev(*STATES)},
     ["truth.states.cache", "not a component"]),
    ({"states": {k: v for k, v in STATES.items() if k != "web"}, "evidence": _ev(*STATES)},
     ["no state for web", "unknown where the sources do not say"]),
    ({"states": {**STATES, "web": "sluggish"}, "evidence": _ev(*STATES)},
     ["unknown state 'sluggish'"]),
    ({"states": STATES, "evidence": _ev("db", "app", "web")},
     ["'unaffected' of 'batch' has no evidence"]),
    ({"states": STATES, "evidence": {**_ev(*STATES), "db": {"quote": "x", "source": "https://o"}}},
     ["truth.evidence.db.source", "not one of the incident's sources"]),
    ({"states": STATES, "evidence": {**_ev(*STATES), "db": {"quote": " ", "source": SRC}}},
     ["has no quote"]),
    ({"states": STATES, "evidence": _ev(*STATES), "window": {"start": "2020-01-01T10:00:00Z"},
      "times": {"app": {"first_affected": "2019-12-31T10:00:00Z"}}},
     ["truth.times.app.first_affected", "outside the incident window"]),
    ({"states": STATES, "evidence": _ev(*STATES),
      "times": {"app": {"first_affected": "2020-01-01T10:00:00"}}}, ["no time zone"]),
    ({"states": STATES, "evidence": _ev(*STATES), "affected": ["db"]},
     ["disagrees with the down and degraded states"]),
    ({"evidence": _ev("db"), "affected": ["db"]}, ["need 'truth.states'"]),
])
def test_bad_labels_are_refused_with_the_place(truth: dict[str, Any], words: list[str]) -> None:
    with pytest.raises(InputError) as err:
        incident_from_dict(_incident(**truth), source="x.yaml")
    for w in words:
        assert w in str(err.value)


def test_bad_fault_scope() -> None:
    data = _incident(states=STATES, evidence=_ev(*STATES))
    data["fault"]["scope"] = "planet"
    with pytest.raises(InputError, match="unknown fault scope 'planet'"):
        incident_from_dict(data)


def _write_passes(audit: Path) -> None:
    model = {"id": "x", "title": "t", "provider": "Example", "date": "2020-01-01",
             "candidate": "u1", "modeller": "modeller-1", "sources": [SRC],
             "topology": {**_incident()["topology"]},
             "fault": {"component": "db", "type": "component_down", "scope": "logical"},
             "fault_basis": {"quote": "q", "source": SRC}}
    model["topology"]["dependencies"] = [
        {**d, "basis": "app reads db", "basis_source": SRC}
        for d in _incident()["topology"]["dependencies"]]
    label = {"id": "x", "labeller": "labeller-1", "sources": [SRC, "https://b.example"],
             "severity": "major", "downtime_minutes": 30, "states": STATES,
             "evidence": _ev(*STATES), "downtime_basis": {"quote": "q", "source": SRC}}
    for sub, obj in (("model", model), ("label", label)):
        (audit / sub).mkdir(parents=True, exist_ok=True)
        (audit / sub / "x.yaml").write_text(yaml.safe_dump(obj))
    (audit / "model" / "y.yaml").write_text(yaml.safe_dump({**model, "id": "y"}))


def test_assemble_is_deterministic_and_keeps_provenance(tmp_path: Path) -> None:
    audit = tmp_path / "corpus-audit"
    _write_passes(audit)
    res = assemble(audit, tmp_path / "a")
    assert res == {"written": ["x"], "skipped": ["y: no label file"]}
    assemble(audit, tmp_path / "b")
    one, two = (tmp_path / "a" / "x.yaml").read_bytes(), (tmp_path / "b" / "x.yaml").read_bytes()
    assert one == two
    data = yaml.safe_load(one)
    assert "basis" not in json.dumps(data["topology"])
    assert data["provenance"]["model"] == "corpus-audit/model/x.yaml"
    assert data["sources"] == [SRC, "https://b.example"] and data["cohort"] == "corpus"


def test_assemble_skips_a_pair_that_does_not_validate(tmp_path: Path) -> None:
    audit = tmp_path / "audit"
    _write_passes(audit)
    label = yaml.safe_load((audit / "label" / "x.yaml").read_text())
    label["evidence"].pop("batch")
    (audit / "label" / "x.yaml").write_text(yaml.safe_dump(label))
    res = assemble(audit, tmp_path / "out")
    assert res["written"] == [] and "has no evidence" in res["skipped"][0]
    with pytest.raises(InputError, match="different incident|is not the model's"):
        incident_dict({"id": "a"}, {"id": "b"})


def test_pass_inputs_are_blind(tmp_path: Path) -> None:
    audit = tmp_path / "audit"
    _write_passes(audit)
    out = pass_inputs(audit, labellers=2, second_share=0.5, seed=1)
    assert out["labeller-1"] == ["x"] and out["labeller-2"] == ["y"]
    lab = json.loads((audit / "inputs" / "labeller-1.json").read_text())
    inc = lab["incidents"][0]
    assert set(inc) == {"id", "title", "sources", "components"}        # no edges, no fault
    typer = json.loads((audit / "inputs" / "edge-typer.json").read_text())["incidents"][0]
    assert set(typer) == {"id", "components", "dependencies"}           # no sources
    assert all(set(d) == {"source", "target", "basis"} for d in typer["dependencies"])


def test_stats_and_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    audit = tmp_path / "corpus-audit"
    _write_passes(audit)
    folder = tmp_path / "corpus"
    assert main(["corpus", "assemble", str(audit), "--output", str(folder)]) == 0
    (audit / "label2").mkdir()
    (audit / "label2" / "x.yaml").write_text(yaml.safe_dump(
        {"id": "x", "states": {**STATES, "web": "down"}}))
    (audit / "edges2").mkdir()
    (audit / "edges2" / "x.yaml").write_text(yaml.safe_dump(
        {"id": "x", "dependencies": [{"source": "app", "target": "db", "type": "requires"},
                                     {"source": "web", "target": "app", "type": "optional"},
                                     {"source": "batch", "target": "db", "type": "async"}]}))
    capsys.readouterr()
    assert main(["corpus", "stats", str(folder), "--audit", str(audit), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    for key in ("incidents", "components", "contested", "contested_unaffected", "labels",
                "labels_without_evidence", "kappa_truth", "kappa_edges"):
        assert key in stats
    assert (stats["incidents"], stats["components"], stats["labels"]) == (1, 4, 4)
    assert (stats["contested"], stats["contested_unaffected"]) == (3, 1)   # app, web, batch
    assert stats["kappa_truth"]["n"] == 4 and stats["kappa_truth"]["agreement"] == 0.75
    assert stats["kappa_edges"]["n"] == 3 and stats["kappa_edges"]["agreement"] == 2 / 3
    assert stats["edge_outcomes"]["async"] == {"n": 1, "affected": 0, "rate": 0.0}
    assert main(["corpus", "stats", str(folder)]) == 0
    assert "contested_unaffected     1" in capsys.readouterr().out
    assert main(["corpus", "stats", str(tmp_path / "nope")]) == 2


def test_contested_leaves_out_root_and_unknown() -> None:
    inc = incident_from_dict(_incident(states={**STATES, "web": "unknown"},
                                       evidence=_ev("db", "app", "batch")))
    assert sorted(contested(inc)) == ["app", "batch"]


def test_power_grows_with_the_spread() -> None:
    assert power_n(0.12) == 126 and power_n(0.06) < power_n(0.12)


def test_stats_on_a_repository_cohort_match_the_issue() -> None:
    # incidents/remodeled-18: the numbers issue 15 measured (best F1 gain 0.019)
    stats = corpus_stats(Path(__file__).resolve().parents[1] / "incidents" / "remodeled-18")
    assert stats["incidents"] == 18 and round(stats["best_f1_gain"], 3) == 0.019
    assert stats["edge_outcomes"]["requires"]["rate"] == 1.0


def test_split_rule_is_per_id_and_stable(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         ) -> None:
    from faultray_lab.evaluation.corpus import corpus_split, split_side

    ids = [f"inc-{i}" for i in range(400)]
    split = corpus_split(ids)
    assert 0.2 < len(split["test"]) / 400 < 0.4          # about 30%
    assert corpus_split(ids[:100])["test"] == [i for i in split["test"] if i in ids[:100]]
    assert all(split_side(i) == "test" for i in split["test"])
    audit = tmp_path / "corpus-audit"
    _write_passes(audit)
    assemble(audit, tmp_path / "c")
    assert main(["corpus", "split", str(tmp_path / "c"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["train"] + out["test"] == ["x"] and len(out["test_sha256"]) == 64


def test_labelled_incident_may_lack_a_duration() -> None:
    data = _incident(states=STATES, evidence=_ev(*STATES))
    data["truth"]["downtime_minutes"] = None
    inc = incident_from_dict(data)
    assert inc.truth.downtime_minutes != inc.truth.downtime_minutes       # NaN
    assert inc.to_dict()["truth"]["downtime_minutes"] is None
    old = _incident(affected=["db"])
    old["truth"]["downtime_minutes"] = None
    with pytest.raises(InputError, match="missing 'truth.downtime_minutes'"):
        incident_from_dict(old)


ROOT = Path(__file__).resolve().parents[1]


def test_the_repository_corpus_is_assembled_from_its_passes(tmp_path: Path) -> None:
    """incidents/corpus is exactly what `corpus assemble` writes from incidents/corpus-audit:
    no incident file was edited by hand, none is missing, none is stale."""
    res = assemble(ROOT / "incidents" / "corpus-audit", tmp_path)
    committed = sorted(p.name for p in (ROOT / "incidents" / "corpus").glob("*.yaml"))
    assert sorted(f"{i}.yaml" for i in res["written"]) == committed
    for name in committed:
        assert (tmp_path / name).read_bytes() == (ROOT / "incidents" / "corpus" / name
                                                  ).read_bytes(), name


def test_every_corpus_label_has_a_listed_source() -> None:
    from faultray_lab.evaluation.incidents import load_incidents

    for inc in load_incidents(ROOT / "incidents" / "corpus"):
        assert inc.cohort == "corpus" and inc.truth is not None and inc.truth.labels is not None
        for lab in inc.truth.labels.labels:
            if lab.state != "unknown":
                assert lab.quote.strip() and lab.source in inc.sources, (inc.id, lab.component)
        assert dict(inc.provenance)["model"].startswith("corpus-audit/model/")


def test_the_registered_split_still_holds() -> None:
    """The test ids and hash written in PREREGISTRATION.md are what the split rule gives."""
    import hashlib
    import re

    from faultray_lab.evaluation.corpus import split_side

    text = (ROOT / "incidents" / "PREREGISTRATION.md").read_text()
    section = text[text.index("## The corpus split"):]
    listed = section[section.index("Test split now"):section.index("sha256 of the test")]
    ids = re.findall(r"`([a-z0-9-]+)`", listed)
    digest = re.search(r"`([0-9a-f]{64})`", section).group(1)
    assert ids and all(split_side(i) == "test" for i in ids)
    assert hashlib.sha256("".join(f"{i}\n" for i in sorted(ids)).encode()).hexdigest() == digest
    on_disk = {p.stem for p in (ROOT / "incidents" / "corpus").glob("*.yaml")}
    assert set(ids) <= on_disk          # incidents may be added, never removed from the split


def test_stats_take_a_list_and_rounds_come_from_provenance(tmp_path: Path) -> None:
    from faultray_lab.evaluation.corpus import incident_round
    from faultray_lab.evaluation.incidents import load_incidents

    audit = tmp_path / "corpus-audit"
    _write_passes(audit)
    assemble(audit, tmp_path / "c")
    incs = load_incidents(tmp_path / "c")
    assert incident_round(incs[0]) == 1                       # modeller-1
    assert corpus_stats(incs) == corpus_stats(tmp_path / "c")
    other = incident_from_dict(_incident(states=STATES, evidence=_ev(*STATES)))
    assert incident_round(other) is None

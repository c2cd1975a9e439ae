"""The anchored ledger: its head file, `ledger head`, --expect-head, migration of 0.1 ledgers and
malformed records; every refusal is exit 2 with one message, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from faultray_lab.cli import main
from faultray_lab.common.errors import InputError
from faultray_lab.common.jsonutil import canonical_json
from faultray_lab.evaluation import ledger as ledger_mod
from faultray_lab.evaluation.ledger import (
    GENESIS_HASH,
    HEAD_FORMAT,
    head_path,
    init_head,
    ledger_head,
    read_head,
    record_hash,
    registration_table,
    verify_chain,
    verify_ledger,
)
from faultray_lab.evaluation.prospective import register, score

TOPOLOGY = {"components": [{"id": "lb", "type": "load_balancer"},
                           {"id": "app", "type": "app_server"},
                           {"id": "db", "type": "database"}],
            "dependencies": [{"source": "lb", "target": "app", "type": "requires"},
                             {"source": "app", "target": "db", "type": "requires"}]}


def write_incident(folder: Path, iid: str, fault: str = "db", truth: bool = True) -> Path:
    data = {"id": iid, "title": iid, "provider": "generic", "cohort": "test",
            "topology": TOPOLOGY, "fault": {"component": fault, "type": "component_down"}}
    if truth:
        data["truth"] = {"affected": ["db", "app", "lb"], "severity": "critical",
                         "downtime_minutes": 60}
    path = folder / f"{iid}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    d = tmp_path / "incidents"
    d.mkdir()
    for iid in ("a", "b", "c"):
        write_incident(d, iid)
    return d


@pytest.fixture
def ledger(folder: Path, tmp_path: Path) -> Path:
    path = tmp_path / "ledger.jsonl"
    assert main(["predict", str(folder), "--ledger", str(path)]) == 0
    return path


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def records_of(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()]


def rechain(records: list[dict]) -> bytes:
    """What a forger does after an edit: recompute every prev_hash and hash."""
    prev = GENESIS_HASH
    out = []
    for rec in records:
        rec = dict(rec, prev_hash=prev)
        rec["hash"] = record_hash(rec)
        prev = rec["hash"]
        out.append(canonical_json(rec) + "\n")
    return "".join(out).encode()


# ---------------------------------------------------------------------------------------------
# The head is written and printed
# ---------------------------------------------------------------------------------------------
def test_predict_writes_the_head_after_the_ledger(folder: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from faultray_lab.common import files

    order: list[str] = []
    real = files.atomic_write_bytes

    def spy(path, data):
        order.append(Path(path).name)
        return real(path, data)

    monkeypatch.setattr(ledger_mod, "atomic_write_text",
                        lambda p, t: spy(p, t.encode("utf-8")))
    monkeypatch.setattr("faultray_lab.evaluation.prospective.atomic_write_bytes", spy)
    path = tmp_path / "l.jsonl"
    code, out, _ = cli(capsys, "predict", str(folder), "--ledger", str(path))
    assert code == 0
    assert order == ["l.jsonl", "l.jsonl.head"]
    recs = records_of(path)
    head = json.loads(head_path(path).read_text())
    assert head == {"format": HEAD_FORMAT, "records": 3, "hash": recs[-1]["hash"]}
    assert f"head {recs[-1]['hash']} (3 records" in out

    code, out, _ = cli(capsys, "ledger", "head", str(path))
    assert code == 0
    assert out.splitlines()[:2] == [f"head {recs[-1]['hash']}", "records 3"]
    code, out, _ = cli(capsys, "ledger", "head", str(path), "--json")
    assert json.loads(out)["hash"] == recs[-1]["hash"] and json.loads(out)["records"] == 3


# ---------------------------------------------------------------------------------------------
# Truncation, re-chaining, missing or changed head files
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["last-record", "two-records", "emptied", "deleted"])
def test_truncation_is_refused_and_nothing_is_registered_again(
        how: str, folder: Path, ledger: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = ledger.read_bytes().splitlines(keepends=True)
    if how == "last-record":
        ledger.write_bytes(b"".join(lines[:-1]))
    elif how == "two-records":
        ledger.write_bytes(lines[0])
    elif how == "emptied":
        ledger.write_bytes(b"")
    else:
        ledger.unlink()
    before = ledger.read_bytes() if ledger.exists() else None
    # even with a changed topology, the removed incidents are not registered again
    data = yaml.safe_load((folder / "c.yaml").read_text())
    data["topology"]["components"][1]["replicas"] = 3
    (folder / "c.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    for argv in (["predict", str(folder)], ["score", str(folder), "--bootstrap", "10"],
                 ["ledger", "head"]):
        code, out, err = cli(capsys, *argv[:2], str(ledger), *argv[2:]) if argv[0] == "ledger" \
            else cli(capsys, *argv, "--ledger", str(ledger))
        assert code == 2, argv
        assert "truncated" in err and "restore the ledger" in err, err
        assert err.count("\n") == 1  # one message
    assert (ledger.read_bytes() if ledger.exists() else None) == before


def test_an_edit_then_rechaining_is_refused(folder: Path, ledger: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    recs = records_of(ledger)
    assert recs[0]["truth_known_at_registration"] is True
    recs[0]["truth_known_at_registration"] = False  # a post hoc registration made "prospective"
    ledger.write_bytes(rechain(recs))
    assert len(verify_chain(ledger)) == 3            # the chain alone cannot tell
    with pytest.raises(InputError, match="does not match its head"):
        verify_ledger(ledger)
    for argv in (["score", str(folder), "--ledger", str(ledger)],
                 ["predict", str(folder), "--ledger", str(ledger)],
                 ["ledger", "head", str(ledger)]):
        code, _, err = cli(capsys, *argv)
        assert code == 2 and "edited and the chain recomputed" in err, err
    # --init never overwrites a head the ledger does not extend
    code, _, err = cli(capsys, "ledger", "head", str(ledger), "--init")
    assert code == 2 and "does not match its head" in err


def test_a_rewritten_head_is_caught_by_the_published_head(
        folder: Path, ledger: Path, capsys: pytest.CaptureFixture[str]) -> None:
    published = records_of(ledger)[-1]["hash"]
    recs = records_of(ledger)
    recs[1]["prediction"]["affected"] = ["db"]
    forged = rechain(recs)
    ledger.write_bytes(forged)
    last = json.loads(forged.splitlines()[-1])["hash"]
    head_path(ledger).write_text(canonical_json(
        {"format": HEAD_FORMAT, "records": 3, "hash": last}) + "\n")
    # whoever rewrites both files passes the local check ...
    assert len(verify_ledger(ledger)) == 3
    # ... but not the head published before the forgery
    for argv in (["score", str(folder), "--ledger", str(ledger), "--bootstrap", "10"],
                 ["predict", str(folder), "--ledger", str(ledger)],
                 ["ledger", "head", str(ledger)]):
        code, _, err = cli(capsys, *argv, "--expect-head", published)
        assert code == 2 and "does not extend the head you published" in err, err


def test_expect_head_accepts_an_extended_ledger(folder: Path, ledger: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    published = ledger_head(ledger).hash
    write_incident(folder, "d")
    code, _, _ = cli(capsys, "predict", str(folder), "--ledger", str(ledger),
                     "--expect-head", published.upper())
    assert code == 0 and len(records_of(ledger)) == 4
    code, out, _ = cli(capsys, "ledger", "head", str(ledger), "--expect-head", published)
    assert code == 0 and "extends the expected head" in out
    assert cli(capsys, "score", str(folder), "--ledger", str(ledger), "--bootstrap", "10",
               "--expect-head", GENESIS_HASH)[0] == 0
    for bad in ("abc", "z" * 64, published[:-1]):
        code, _, err = cli(capsys, "ledger", "head", str(ledger), "--expect-head", bad)
        assert code == 2 and "not a head hash" in err


@pytest.mark.parametrize("content, message", [
    (None, "no head file"),
    ("not json", "cannot be read"),
    ('{"format": "faultray-lab-ledger-head/1", "records": 3}', "not a ledger head"),
    ('{"format": "x", "records": 3, "hash": "%s"}' % ("a" * 64), "not a ledger head"),
    ('{"format": "faultray-lab-ledger-head/1", "records": 3, "hash": "%s"}' % ("a" * 64),
     "does not match its head"),
    ('{"format": "faultray-lab-ledger-head/1", "records": 9, "hash": "%s"}' % ("a" * 64),
     "truncated"),
])
def test_missing_or_changed_head_file(content: str | None, message: str, folder: Path,
                                      ledger: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hp = head_path(ledger)
    if content is None:
        hp.unlink()
    else:
        hp.write_text(content)
    for argv in (["score", str(folder), "--ledger", str(ledger), "--bootstrap", "10"],
                 ["predict", str(folder), "--ledger", str(ledger)],
                 ["ledger", "head", str(ledger)]):
        code, _, err = cli(capsys, *argv)
        assert code == 2 and message in err, (argv, err)
    with pytest.raises(InputError):
        registration_table(ledger)


# ---------------------------------------------------------------------------------------------
# Migration and interrupted appends
# ---------------------------------------------------------------------------------------------
def test_a_ledger_from_0_1_is_refused_until_its_head_is_initialised(
        folder: Path, ledger: Path, capsys: pytest.CaptureFixture[str]) -> None:
    head_path(ledger).unlink()           # what a 0.1 ledger looks like: no head file
    published = records_of(ledger)[1]["hash"]
    code, _, err = cli(capsys, "score", str(folder), "--ledger", str(ledger))
    assert code == 2 and f"faultray-lab ledger head --init {ledger}" in err
    # --init checks a published head first, and writes nothing if the ledger does not extend it
    code, _, err = cli(capsys, "ledger", "head", str(ledger), "--init", "--expect-head", "e" * 64)
    assert code == 2 and not head_path(ledger).exists()
    code, out, _ = cli(capsys, "ledger", "head", str(ledger), "--init",
                       "--expect-head", published)
    assert code == 0 and "head file written" in out
    assert read_head(ledger).records == 3
    assert cli(capsys, "score", str(folder), "--ledger", str(ledger), "--bootstrap", "10")[0] == 0
    code, out, _ = cli(capsys, "ledger", "head", str(ledger), "--init")
    assert code == 0 and "already up to date" in out
    # --init on a broken chain writes nothing
    head_path(ledger).unlink()
    lines = ledger.read_bytes().splitlines(keepends=True)
    ledger.write_bytes(lines[0] + lines[2])
    code, _, err = cli(capsys, "ledger", "head", str(ledger), "--init")
    assert code == 2 and "chain broken at record 2" in err and not head_path(ledger).exists()
    assert cli(capsys, "ledger", "head", str(ledger.with_name("none.jsonl")), "--init")[0] == 2


def test_an_interrupted_append_is_refused_until_anchored(
        folder: Path, ledger: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    def killed(*args: object) -> None:
        raise KeyboardInterrupt  # the process dies between the ledger and its head

    write_incident(folder, "d")
    monkeypatch.setattr("faultray_lab.evaluation.prospective.write_head", killed)
    assert cli(capsys, "predict", str(folder), "--ledger", str(ledger))[0] == 130
    monkeypatch.undo()
    assert len(records_of(ledger)) == 4 and read_head(ledger).records == 3
    code, _, err = cli(capsys, "score", str(folder), "--ledger", str(ledger))
    assert code == 2 and "interrupted" in err and "ledger head --init" in err
    head, status = init_head(ledger)
    assert (head.records, status) == (4, "extended")
    assert cli(capsys, "score", str(folder), "--ledger", str(ledger), "--bootstrap", "10")[0] == 0


# ---------------------------------------------------------------------------------------------
# Malformed records: "chain broken at record N", never a traceback
# ---------------------------------------------------------------------------------------------
def _set(rec: dict, dotted: str, value: object) -> dict:
    *path, last = dotted.split(".")
    node = rec
    for key in path:
        node = node[key]
    node[last] = value
    return rec


MALFORMED_TEXT = {
    "nan": lambda line: line.replace('"severity":', '"severity":NaN,"x":', 1),
    "infinity": lambda line: line.replace('"multiplier":10.0', '"multiplier":Infinity', 1),
    "huge-int": lambda line: line.replace('"seq":2', '"seq":' + "9" * 5000, 1),
    "overflowing-float": lambda line: line.replace('"multiplier":10.0', '"multiplier":1e999', 1),
    "deep-nesting": lambda line: line.replace('"features":{', '"features":{"x":'
                                              + "[" * 100_000 + "]" * 100_000 + ",", 1),
    "not-an-object": lambda line: "[1, 2, 3]",
    "blank-line": lambda line: "",
}
MALFORMED_VALUES = {
    "seq-string": ("seq", "2"),
    "seq-bool": ("seq", True),
    "affected-not-a-list": ("prediction.affected", "db"),
    "affected-of-numbers": ("prediction.affected", [1, 2]),
    "severity-string": ("prediction.severity", "high"),
    "truth-flag-string": ("truth_known_at_registration", "no"),
    "params-not-object": ("parameters", [1]),
    "max-depth-huge": ("parameters.max_depth", 10**300),
    "features-nested": ("features.n_components", {"a": {"b": [1]}}),
    "incident-number": ("incident", 7),
    "hash-short": ("topology_sha256", "abc"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED_TEXT))
def test_malformed_json_is_a_broken_chain(case: str, folder: Path, ledger: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    lines = ledger.read_text().splitlines(keepends=True)
    lines[1] = MALFORMED_TEXT[case](lines[1].rstrip("\n")) + "\n"
    assert lines[1] != ledger.read_text().splitlines(keepends=True)[1]
    ledger.write_text("".join(lines))
    with pytest.raises(InputError, match="chain broken at record 2"):
        verify_chain(ledger)
    for argv in (["score", str(folder), "--ledger", str(ledger)],
                 ["predict", str(folder), "--ledger", str(ledger)],
                 ["ledger", "head", str(ledger), "--init"]):
        code, _, err = cli(capsys, *argv)
        assert code == 2 and "chain broken at record 2" in err, (argv, err[:300])
        assert len(err) < 2000


@pytest.mark.parametrize("case", sorted(MALFORMED_VALUES))
def test_wrong_types_are_a_broken_chain_even_when_rehashed(
        case: str, folder: Path, ledger: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recs = records_of(ledger)
    _set(recs[1], *MALFORMED_VALUES[case])
    ledger.write_bytes(rechain(recs))      # a valid chain around a malformed record
    with pytest.raises(InputError, match="chain broken at record 2"):
        verify_chain(ledger)
    code, _, err = cli(capsys, "score", str(folder), "--ledger", str(ledger))
    assert code == 2 and "chain broken at record 2" in err


def test_unusual_text_in_a_record_keeps_the_chain(tmp_path: Path) -> None:
    """Ids with line separators or non-ASCII text are stored raw (canonical JSON keeps UTF-8);
    the ledger is split on newlines only, so the chain still verifies."""
    from faultray_lab.evaluation.incidents import Fault, Incident
    from faultray_lab.model.schema import topology_from_dict

    topo = topology_from_dict(TOPOLOGY)
    path = tmp_path / "l.jsonl"
    odd = ["line\u2028sep", "para\u2029sep", "nel\x85x", "vt\x0bx", "ünïcødé ✓"]
    register([Incident(i, topo, Fault("db")) for i in odd], path)
    assert [r["incident"] for r in verify_ledger(path)] == odd


def test_score_bounds_bootstrap_and_seed(folder: Path, ledger: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    for cmd in (["score", str(folder), "--ledger", str(ledger)], ["backtest", str(folder)]):
        for flag, value in (("--bootstrap", "1000000000"), ("--bootstrap", "0"),
                            ("--bootstrap", "1e3"), ("--seed", "-1"), ("--bootstrap", "9" * 5000)):
            assert main([*cmd, flag, value]) == 2
            err = capsys.readouterr().err
            assert f"argument {flag}" in err and "Traceback" not in err and len(err) < 1000
    with pytest.raises(InputError, match="n_boot must be from 1 to 100,000"):
        score(folder, ledger, n_boot=10**9)


def test_every_evaluation_option_has_help_with_its_default() -> None:
    from faultray_lab.cli import build_parser

    parser = build_parser()
    subs = parser._subparsers._group_actions[0].choices  # noqa: SLF001 - argparse has no API
    commands = [subs[c] for c in ("backtest", "predict", "score")]
    commands.append(subs["ledger"]._subparsers._group_actions[0].choices["head"])  # noqa: SLF001
    for p in commands:
        for action in p._actions:  # noqa: SLF001
            if action.option_strings and action.dest != "help":
                assert action.help and "default" in action.help, (p.prog, action.dest)


@pytest.mark.parametrize("kind", ["fifo", "device", "folder-head"])
def test_special_files_as_ledger_or_head_are_refused(kind: str, folder: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    import os

    if kind == "fifo":
        path = tmp_path / "fifo.jsonl"
        os.mkfifo(path)          # reading it would block forever
        message = "not a regular file"
    elif kind == "device":
        path = tmp_path / "dev.jsonl"
        path.symlink_to("/dev/null")  # reading it would look like an empty ledger
        message = "not a regular file"
    else:
        path = tmp_path / "l.jsonl"
        register(folder, path)
        head_path(path).unlink()
        head_path(path).mkdir()
        message = "head file is not a regular file"
    for argv in (["predict", str(folder), "--ledger", str(path)],
                 ["score", str(folder), "--ledger", str(path)],
                 ["ledger", "head", str(path)]):
        code, _, err = cli(capsys, *argv)
        assert code == 2 and message in err, (argv, err)

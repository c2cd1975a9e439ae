"""The declared recovery mechanism (fault.recovery) and the pre-registered evaluation of the
recovery-time models (incidents/PREREGISTRATION.md)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from faultray_lab.common.errors import InputError
from faultray_lab.common.jsonutil import canonical_json
from faultray_lab.evaluation.incidents import RECOVERY_MECHANISMS, RECOVERY_RANK, load_incidents
from faultray_lab.evaluation.ledger import fault_sha256, sha256_text
from faultray_lab.evaluation.prospective import register, score
from faultray_lab.evaluation.recovery.candidates import (
    RECOVERY_CANDIDATES,
    RecoveryCandidate,
    candidate_heldout,
    candidate_loo,
    paired_log_difference,
    recovery_evaluation,
)
from faultray_lab.evaluation.recovery.features import recovery_features
from faultray_lab.evaluation.recovery.labels import (
    label_agreement,
    label_sensitivity,
    mechanism_permutation_test,
    read_labels,
)
from faultray_lab.evaluation.recovery.models import mechanism_lad_predict

ROOT = Path(__file__).resolve().parents[1]
MECH = "declared recovery mechanism (LAD)"


def write(folder: Path, iid: str, recovery: str | None = None, minutes: float | None = None,
          ) -> Path:
    fault = {"component": "db", "type": "component_down"}
    if recovery is not None:
        fault["recovery"] = recovery
    data = {"id": iid, "topology": {
        "components": [{"id": "web", "type": "web_server"}, {"id": "db", "type": "database"}],
        "dependencies": [{"source": "web", "target": "db", "type": "requires"}]},
        "fault": fault}
    if minutes is not None:
        data["truth"] = {"affected": ["db", "web"], "severity": "major",
                         "downtime_minutes": minutes}
    path = folder / f"{iid}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_mechanisms_are_ranked_in_order() -> None:
    assert list(RECOVERY_MECHANISMS) == ["revert", "mitigate", "restart", "restore", "replace"]
    assert [RECOVERY_RANK[m] for m in RECOVERY_MECHANISMS] == [1, 2, 3, 4, 5]


def test_fault_recovery_is_read_and_round_trips(tmp_path: Path) -> None:
    write(tmp_path, "a", "restore", 60)
    write(tmp_path, "b", None, 30)
    a, b = load_incidents(tmp_path)
    assert a.fault.recovery == "restore" and b.fault.recovery is None
    assert a.to_dict()["fault"] == {"component": "db", "type": "component_down",
                                    "recovery": "restore"}
    assert "recovery" not in b.to_dict()["fault"]
    fa, fb = recovery_features(a), recovery_features(b)
    assert (fa["recovery_mechanism"], fa["recovery_rank"]) == ("restore", 4)
    assert (fb["recovery_mechanism"], fb["recovery_rank"]) == (None, None)
    canonical_json(fb)          # registrable (no NaN) when no mechanism is declared


def test_unknown_mechanism_names_file_line_and_fix(tmp_path: Path) -> None:
    path = write(tmp_path, "a", "revert", 60)
    path.write_text(path.read_text().replace("recovery: revert", "recovery: restor"))
    with pytest.raises(InputError) as err:
        load_incidents(tmp_path)
    msg = str(err.value)
    assert "a.yaml" in msg and "fault.recovery" in msg and "restore" in msg
    assert err.value.line is not None


def test_fault_hash_is_unchanged_without_a_mechanism_and_covers_it(tmp_path: Path) -> None:
    write(tmp_path, "a", None, 60)
    [inc] = load_incidents(tmp_path)
    # ledgers written before the field existed stay valid
    assert fault_sha256(inc) == sha256_text(canonical_json(
        {"component": "db", "type": "component_down"}))
    write(tmp_path, "a", "revert", 60)
    [with_mech] = load_incidents(tmp_path)
    assert fault_sha256(with_mech) != fault_sha256(inc)


def test_changing_the_declared_mechanism_after_registration_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "inc"
    folder.mkdir()
    write(folder, "a", "revert")
    write(folder, "b", "replace")
    ledger = tmp_path / "ledger.jsonl"
    register(folder, ledger)
    rec = json.loads(ledger.read_text().splitlines()[0])
    assert rec["features"]["recovery_mechanism"] == "revert"
    write(folder, "a", "revert", 60)
    write(folder, "b", "replace", 6000)
    assert score(folder, ledger, n_boot=10).summary["n"] == 2
    write(folder, "a", "restore", 60)           # relabelled once the outcome is known
    with pytest.raises(InputError, match="fault changed after registration"):
        score(folder, ledger, n_boot=10)


def table(ranks, minutes, ids=None) -> pd.DataFrame:
    n = len(minutes)
    return pd.DataFrame({"id": ids or [f"i{k}" for k in range(n)], "recovery_rank": ranks,
                         "propagation_minutes": [1.0] * n, "log10_affected": [0.5] * n,
                         "stateful_affected": [1] * n, "load_fault": [0] * n,
                         "log10_max_replicas": [0.0] * n,
                         "downtime_minutes": [float(m) for m in minutes]})


def test_mechanism_model_fits_a_median_line_and_falls_back() -> None:
    tr = table([1, 1, 1, 5, 5, 5], [10, 12, 8, 1000, 2000, 900])
    assert mechanism_lad_predict(tr, table([5], [1])) == pytest.approx(1000, rel=0.01)
    assert mechanism_lad_predict(tr, table([1], [1])) == pytest.approx(10, rel=0.01)
    # no declared mechanism for the incident, or too few declared in training: the median
    median = float(np.median(tr["downtime_minutes"]))
    assert mechanism_lad_predict(tr, table([None], [1])) == median
    few = tr.assign(recovery_rank=[1, None, None, None, None, None])
    assert mechanism_lad_predict(few, table([5], [1])) == median
    # a table without the column at all (files written before the field existed)
    assert mechanism_lad_predict(tr.drop(columns="recovery_rank"), table([5], [1])) == median


def test_pooled_loo_leaves_out_every_row_of_the_incident() -> None:
    seen: list[tuple[str, list[str]]] = []

    def spy(train, test) -> float:
        seen.append((str(test["id"].iloc[0]), list(train["id"])))
        return 1.0

    df = table([1, 2, 3, 4], [10, 20, 30, 40], ids=["a", "b", "a", "c"])
    candidate_loo(df, (RecoveryCandidate("spy", "test", "", spy),))
    assert len(seen) == 4
    assert all(held not in train for held, train in seen)
    assert sorted(seen[0][1]) == ["b", "c"]


def test_heldout_fits_on_the_training_cohort_only() -> None:
    seen: list[set[str]] = []

    def spy(train, test) -> float:
        seen.append(set(train["id"]))
        return 1.0

    tr = table([1, 5, 3], [10, 1000, 100], ids=["t1", "t2", "t3"])
    te = table([1, 5], [20, 2000], ids=["h1", "h2"])
    p = candidate_heldout(tr, te, (RecoveryCandidate("spy", "test", "", spy),
                                   *RECOVERY_CANDIDATES))
    assert list(p["id"]) == ["h1", "h2"] and seen == [{"t1", "t2", "t3"}] * 2
    assert p[MECH].tolist() == pytest.approx([10.0, 1000.0])
    # the held-out truth never enters a prediction
    p2 = candidate_heldout(tr, te.assign(downtime_minutes=[5e4, 1.0]), RECOVERY_CANDIDATES)
    names = [c.name for c in RECOVERY_CANDIDATES]
    assert p2[names].to_numpy() == pytest.approx(p[names].to_numpy())


def test_paired_difference_is_seeded_and_brackets_the_mean() -> None:
    rng = np.random.default_rng(3)
    truth = 10 ** rng.uniform(0, 4, 30)
    p = pd.DataFrame({"downtime_minutes": truth, "m": truth * 10 ** rng.normal(0, 0.3, 30),
                      "constant median": [300.0] * 30})
    a = paired_log_difference(p, "m", n_boot=2000, seed=1)
    assert a == paired_log_difference(p, "m", n_boot=2000, seed=1)
    assert a["lo"] <= a["diff"] <= a["hi"] and a["hi"] < 0
    assert paired_log_difference(p, "constant median", n_boot=100)["diff"] == 0.0


def test_evaluation_reports_every_endpoint_and_candidate() -> None:
    a = table([1, 5, 1, 5, 3], [10, 2000, 20, 5000, 200], ids=list("abcde"))
    b = table([1, 5, 3], [15, 3000, 100], ids=list("fgh"))
    ev = recovery_evaluation({"a": a, "b": b}, train_cohort="a", n_boot=200)
    assert list(dict.fromkeys(ev["endpoint"])) == ["pooled LOO", "LOO a", "LOO b", "held-out b"]
    assert (ev.groupby("endpoint")["candidate"].count() == len(RECOVERY_CANDIDATES)).all()
    n = ev.drop_duplicates("endpoint").set_index("endpoint")["n"].to_dict()
    assert n == {"pooled LOO": 8, "LOO a": 5, "LOO b": 3, "held-out b": 3}
    row = ev.set_index(["endpoint", "candidate"]).loc[("held-out b", MECH)]
    assert row["beats_baselines"] and row["diff_vs_median"] < 0
    med = ev.set_index(["endpoint", "candidate"]).loc[("pooled LOO", "constant median")]
    assert med["diff_vs_median"] == 0.0 and not med["beats_baselines"]
    with pytest.raises(InputError, match="unknown cohort"):
        recovery_evaluation({"a": a}, train_cohort="z")


def test_labelling_scripts_round_trip(tmp_path: Path) -> None:
    folder = tmp_path / "cohort"
    folder.mkdir()
    src = ROOT / "incidents" / "remodeled-18"
    for p in sorted(src.glob("*.yaml"))[:3]:
        shutil.copy(p, folder)
    out = tmp_path / "blind.md"
    run = [sys.executable, str(ROOT / "scripts" / "redact_for_labelling.py"), str(out),
           str(folder)]
    subprocess.run(run, check=True, capture_output=True)
    blind = out.read_text()
    incs = load_incidents(folder)
    for inc in incs:
        assert f"## {inc.id}" in blind
    assert "Truth" not in blind and "Downtime" not in blind and "truth" not in blind
    labels = tmp_path / "labels.csv"
    rows = ["id,recovery,reason"] + [f'{inc.id},{m},"x"' for inc, m in
                                     zip(incs, ["revert", "restart", "replace"], strict=True)]
    labels.write_text("\n".join(rows) + "\n")
    apply = [sys.executable, str(ROOT / "scripts" / "apply_recovery_labels.py"), str(labels),
             str(folder)]
    subprocess.run(apply, check=True, capture_output=True)
    again = load_incidents(folder)
    assert [i.fault.recovery for i in again] == ["revert", "restart", "replace"]
    # only the fault changed
    for old, new in zip(incs, again, strict=True):
        assert old.topology == new.topology and old.truth == new.truth
        assert (old.fault.component, old.fault.type) == (new.fault.component, new.fault.type)


# ---------------------------------------------------------------------------------------------
# The independent cohort and the labels
# ---------------------------------------------------------------------------------------------
INDEPENDENT = ROOT / "incidents" / "independent"
REMODELED = ROOT / "incidents" / "remodeled-18"


def test_independent_cohort_follows_the_protocol() -> None:
    incs = load_incidents(INDEPENDENT)
    assert len(incs) >= 15
    others = {p.stem for p in REMODELED.glob("*.yaml")}
    for inc in incs:
        assert inc.cohort == "independent" and inc.id not in others
        assert inc.truth is not None and inc.truth.downtime_minutes > 0 and inc.sources
        outside = set(inc.topology.ids) - set(inc.truth.affected)
        assert outside, f"{inc.id}: every component is in the truth"
        head = [ln for ln in Path(inc.path).read_text().splitlines() if ln.startswith("#")]
        starts = [next(i for i, ln in enumerate(head) if ln.startswith(f"# {k}"))
                  for k in ("Architecture", "Fault:", "Truth:")]
        assert starts == sorted(starts), inc.id
        assert not any("Downtime" in ln for ln in head[:starts[2]]), inc.id


def test_every_labelled_incident_carries_its_label() -> None:
    import csv

    with open(ROOT / "incidents" / "recovery-labels.csv", newline="") as fh:
        labels = {r["id"]: r for r in csv.DictReader(fh)}
    incs = load_incidents(REMODELED) + load_incidents(INDEPENDENT)
    assert {i.id for i in incs} == set(labels)
    for inc in incs:
        assert inc.fault.recovery == labels[inc.id]["recovery"]
        assert labels[inc.id]["reason"].strip()
        alt = labels[inc.id]["alternative"]
        assert alt == "" or (alt in RECOVERY_MECHANISMS and alt != inc.fault.recovery)
        assert labels[inc.id]["second_labeller"] in RECOVERY_MECHANISMS
        assert labels[inc.id]["second_reason"].strip()


def test_preregistered_endpoints_on_the_repository_cohorts() -> None:
    """The decision rule of incidents/PREREGISTRATION.md, computed from the incident files."""
    ev = recovery_evaluation({"remodeled-18": load_incidents(REMODELED),
                              "independent": load_incidents(INDEPENDENT)},
                             train_cohort="remodeled-18", n_boot=2000)
    row = ev.set_index(["endpoint", "candidate"])
    assert row.loc[("pooled LOO", MECH), "n"] == 37
    for endpoint in ("pooled LOO", "held-out independent", "LOO remodeled-18"):
        assert row.loc[(endpoint, MECH), "beats_baselines"], endpoint
        assert row.loc[(endpoint, MECH), "diff_vs_median"] < 0
    # the published propagation estimate is far off on every endpoint
    pub = ev[ev["candidate"] == "published propagation estimate"]["mae_log10"]
    assert (pub > 2.0).all()


# ---------------------------------------------------------------------------------------------
# Registering recovery-time predictions
# ---------------------------------------------------------------------------------------------
def test_register_recovery_predictions_and_score_them(tmp_path: Path, capsys) -> None:
    from faultray_lab.cli import main
    from faultray_lab.evaluation.recovery.features import recovery_table
    from faultray_lab.evaluation.recovery.models import fit_mechanism_model

    train = tmp_path / "train"
    train.mkdir()
    for k, (mech, minutes) in enumerate([("revert", 30), ("revert", 60), ("restore", 2000),
                                         ("replace", 9000), ("restart", 300)]):
        write(train, f"t{k}", mech, minutes)
    new = tmp_path / "new"
    new.mkdir()
    write(new, "n1", "revert")
    write(new, "n2", "replace")
    write(new, "t0", "revert")           # also in training: left out of the fit
    ledger = tmp_path / "ledger.jsonl"
    assert main(["predict", str(new), "--ledger", str(ledger),
                 "--recovery-train", str(train)]) == 0
    records = [json.loads(x) for x in ledger.read_text().splitlines()]
    model = fit_mechanism_model(recovery_table(
        [i for i in load_incidents(train) if i.id != "t0"]))
    params = records[0]["parameters"]["recovery_model"]
    assert params["n_train"] == 4 and params["intercept"] == pytest.approx(model.intercept)
    by_id = {r["incident"]: r for r in records}
    assert by_id["n1"]["prediction"]["recovery_minutes"] == pytest.approx(
        float(model.predict(pd.DataFrame({"recovery_rank": [1]}))[0]))
    assert (by_id["n2"]["prediction"]["recovery_minutes"]
            > by_id["n1"]["prediction"]["recovery_minutes"])

    # later: the truth arrives; the registered recovery prediction is scored, unchanged
    write(new, "n1", "revert", 45)
    write(new, "n2", "replace", 7000)
    write(new, "t0", "revert", 30)
    write(train, "t4", "restart", 1e6)     # a changed training set cannot move the registration
    sc = score(new, ledger, n_boot=50)
    per = sc.per_incident.set_index("id")
    assert per["reproduced"].all()
    assert per.loc["n1", "registered_recovery_minutes"] == pytest.approx(
        by_id["n1"]["prediction"]["recovery_minutes"])
    assert sc.summary["n_recovery"] == 3
    exp = np.mean([abs(np.log10(by_id[i]["prediction"]["recovery_minutes"]) - np.log10(m))
                   for i, m in (("n1", 45), ("n2", 7000), ("t0", 30))])
    assert sc.summary["recovery_mae_log10"] == pytest.approx(exp)
    med = params["median_minutes"]
    assert sc.summary["recovery_median_mae_log10"] == pytest.approx(np.mean(
        [abs(np.log10(med) - np.log10(m)) for m in (45, 7000, 30)]))
    assert "recovery_mae_log10" not in sc.comparison().columns
    capsys.readouterr()
    assert main(["score", str(new), "--ledger", str(ledger), "--bootstrap", "20"]) == 0
    assert "recovery time as registered (3 incidents)" in capsys.readouterr().out


def test_register_recovery_needs_training_truth(tmp_path: Path) -> None:
    folder = tmp_path / "inc"
    folder.mkdir()
    write(folder, "a", "revert")
    with pytest.raises(InputError, match="no training incident with a truth"):
        register(folder, tmp_path / "l.jsonl", recovery_train=folder)
    assert not (tmp_path / "l.jsonl").exists()


def test_label_sensitivity_switches_one_label_at_a_time() -> None:
    a = table([1, 5, 1, 5, 3], [10, 2000, 20, 5000, 200], ids=list("abcde"))
    b = table([1, 5, 3], [15, 3000, 100], ids=list("fgh"))
    t = label_sensitivity({"a": a, "b": b}, {"b": "revert", "g": "revert"}, train_cohort="a")
    assert t["switched"].tolist() == ["(labels as given)", "b -> revert", "g -> revert",
                                      "(all switches)"]
    given = recovery_evaluation({"a": a, "b": b}, train_cohort="a", n_boot=1).set_index(
        ["endpoint", "candidate"])["mae_log10"]
    assert t.loc[0, "held-out b"] == pytest.approx(given[("held-out b", MECH)])
    # switching g (a held-out incident) cannot change the fit on cohort a ...
    assert t.loc[2, "LOO a"] == t.loc[0, "LOO a"]
    # ... but moves its own held-out prediction (5 -> 1: far from its 3000 minutes)
    assert t.loc[2, "held-out b"] > t.loc[0, "held-out b"]
    # the median does not read labels
    assert t["pooled LOO (median)"].nunique() == 1
    switched = a.copy()
    switched.loc[switched["id"] == "b", "recovery_rank"] = 1
    again = recovery_evaluation({"a": switched, "b": b}, train_cohort="a", n_boot=1)
    assert t.loc[1, "LOO a"] == pytest.approx(
        again.set_index(["endpoint", "candidate"])["mae_log10"][("LOO a", MECH)])
    with pytest.raises(InputError, match="unknown incident id"):
        label_sensitivity({"a": a}, {"zz": "revert"})
    with pytest.raises(InputError, match="unknown mechanism"):
        label_sensitivity({"a": a}, {"b": "reboot"})


def _register_one(args: tuple[str, str]) -> int:
    folder, ledger = args
    return len(register(folder, ledger))


def test_concurrent_registrations_keep_every_record(tmp_path: Path) -> None:
    """Writers take turns under the ledger's lock: no registration is lost."""
    from concurrent.futures import ProcessPoolExecutor

    from faultray_lab.evaluation.ledger import verify_ledger

    jobs = []
    for k in range(8):
        d = tmp_path / f"batch{k}"
        d.mkdir()
        for j in range(3):
            write(d, f"i{k}-{j}", "revert")
        jobs.append((str(d), str(tmp_path / "ledger.jsonl")))
    with ProcessPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(_register_one, jobs)) == [3] * 8
    records = verify_ledger(tmp_path / "ledger.jsonl")
    assert sorted(r["incident"] for r in records) == sorted(
        f"i{k}-{j}" for k in range(8) for j in range(3))
    assert [r["seq"] for r in records] == list(range(1, 25))


def test_label_agreement_is_cohens_kappa() -> None:
    same = {"a": "revert", "b": "replace", "c": "restart"}
    assert label_agreement(same, same) == {"n": 3, "agreement": 1.0, "kappa": 1.0,
                                           "weighted_kappa": 1.0}
    # opposite ends of the scale cost more than neighbours in the weighted kappa
    a = {"x": "revert", "y": "replace", "z": "revert", "w": "replace"}
    near = {**a, "x": "mitigate"}
    far = {**a, "x": "replace"}
    assert label_agreement(a, near)["agreement"] == label_agreement(a, far)["agreement"] == 0.75
    assert label_agreement(a, near)["weighted_kappa"] > label_agreement(a, far)["weighted_kappa"]
    # only incidents both labelled count
    assert label_agreement(a, {"x": "revert", "q": "restore"})["n"] == 1
    assert label_agreement({}, a)["n"] == 0
    with pytest.raises(InputError, match="unknown mechanisms"):
        label_agreement({"x": "reboot"}, {"x": "revert"})


def test_read_labels_columns_and_errors(tmp_path: Path) -> None:
    labels = ROOT / "incidents" / "recovery-labels.csv"
    used = read_labels(labels)
    assert len(used) == 37 and set(used.values()) <= set(RECOVERY_MECHANISMS)
    second = read_labels(labels, "second_labeller")
    assert set(second) == set(used)
    agree = label_agreement(used, second)
    assert 0.0 < agree["kappa"] <= 1.0
    with pytest.raises(InputError, match="no such labels file"):
        read_labels(tmp_path / "missing.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("id,label\na,revert\n")
    with pytest.raises(InputError, match="'recovery' are required"):
        read_labels(bad)


def test_permutation_test_separates_signal_from_noise() -> None:
    rng = np.random.default_rng(5)
    ranks = np.repeat([1, 2, 3, 4, 5], 4)
    minutes = 10 ** (1.0 + 0.6 * ranks + rng.normal(0, 0.15, ranks.size))
    informative = table(ranks.tolist(), minutes.tolist())
    r = mechanism_permutation_test({"x": informative}, n_perm=30, seed=1)
    assert r == mechanism_permutation_test({"x": informative}, n_perm=30, seed=1)
    assert r["p_value"] == pytest.approx(1 / 31) and r["observed"] < r["null_low"]
    # labels unrelated to the downtimes: the labels as given are nothing special
    noise = informative.assign(recovery_rank=rng.permutation(ranks))
    q = mechanism_permutation_test({"x": noise}, n_perm=30, seed=1)
    assert q["p_value"] > 0.05 and q["null_low"] <= q["observed"]
    with pytest.raises(InputError, match="n_perm"):
        mechanism_permutation_test({"x": noise}, n_perm=0)

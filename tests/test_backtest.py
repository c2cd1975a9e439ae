"""The backtest: exact reproduction of the published 18-incident results, baselines, intervals."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import faultray_lab as fl
from faultray_lab.common.errors import InputError
from faultray_lab.evaluation.backtest import Backtest, backtest
from faultray_lab.evaluation.baselines import BASELINES, baseline_prediction
from faultray_lab.evaluation.incidents import Fault, Incident, Truth, load_incidents
from faultray_lab.evaluation.metrics import (
    INCIDENT_COLUMNS,
    confidence,
    set_scores,
    severity_accuracy,
    severity_value,
)
from faultray_lab.evaluation.published import compare_published, load_published, matches_published
from faultray_lab.model.schema import topology_from_dict

ROOT = Path(__file__).resolve().parents[1]
PAPER = ROOT / "incidents" / "paper-18"
PUBLISHED = ROOT / "incidents" / "paper-18-published.json"


@pytest.fixture(scope="module")
def incidents() -> list[Incident]:
    return load_incidents(PAPER)


@pytest.fixture(scope="module")
def bt(incidents) -> Backtest:
    return backtest(incidents, rules="faultray-v11", severity_map="published", seed=0)


@pytest.fixture(scope="module")
def published():
    return load_published(PUBLISHED)


# ---------------------------------------------------------------------------------------------
# Exact reproduction (engine run on the incident YAML files; published values only compared)
# ---------------------------------------------------------------------------------------------
def test_summary_equals_published(bt, published):
    summary, _ = published
    assert bt.summary["n"] == 18 == summary["n"]
    for key in ("precision", "recall", "f1", "severity_accuracy", "confidence"):
        assert round(bt.summary[key], 3) == summary[key], key
    assert round(bt.summary["downtime_mae_minutes"], 2) == summary["downtime_mae_minutes"]


def test_every_per_incident_value_equals_published(bt):
    raw = {i["id"]: i["backtest"]["published"]
           for i in json.loads(PUBLISHED.read_text())["incidents"]}
    ours = bt.per_incident.set_index("id")
    assert set(ours.index) == set(raw)
    fields = {"precision": "precision", "recall": "recall", "f1": "f1",
              "predicted_severity": "predicted_severity_0_10",
              "severity_accuracy": "severity_accuracy",
              "predicted_downtime_minutes": "predicted_downtime_minutes",
              "downtime_error_minutes": "downtime_mae_minutes", "confidence": "confidence"}
    checked = 0
    for iid, pub in raw.items():
        row = ours.loc[iid]
        assert list(row["predicted_affected"]) == sorted(pub["predicted_affected_components"]), iid
        for col, key in fields.items():
            assert matches_published(row[col], pub[key]), (iid, col, row[col], pub[key])
            checked += 1
    assert checked == 18 * len(fields)


def test_compare_published_table(bt, published):
    _, per = published
    table = compare_published(bt, per)
    assert len(table) == 18 * 9
    assert table["match"].all()


def test_matches_published_uses_published_precision():
    assert matches_published(0.7433, 0.743)
    assert not matches_published(0.7436, 0.743)
    assert matches_published(3159.5277, 3159.53)
    assert not matches_published(659.06, 659.0)


def test_baselines_show_f1_cannot_discriminate(bt):
    f1 = bt.baselines["f1"]
    assert round(float(f1["reverse-reachable"]), 3) == 1.000
    assert round(float(f1["all-components"]), 3) == 0.942
    assert round(float(f1["root-only"]), 3) == 0.405
    assert bt.best_baseline == "reverse-reachable"
    assert bt.margin == 0.0
    assert list(bt.baselines.index) == list(BASELINES)
    assert (bt.baselines["n"] == 18).all()


def test_reverse_reachable_equals_truth_on_every_paper_incident(incidents):
    for inc in incidents:
        assert set(baseline_prediction(inc, "reverse-reachable")) == set(inc.truth.affected)


def test_down_set_scores(bt):
    assert bt.down_summary["n"] == 18
    assert {"predicted_down", "down_precision", "down_recall", "down_f1"} <= set(
        bt.per_incident.columns)
    # faultray-v11 brings down every reachable component here: all requires edges, replicas 1
    assert bt.down_summary["f1"] <= 1.0


def test_intervals_cover_every_average_and_are_seeded(incidents, bt):
    iv = bt.intervals
    methods = {"engine", *BASELINES, "margin"}
    assert set(iv["method"]) == methods
    assert len(iv) == 4 * 6 + 1
    assert ((iv["low"] <= iv["estimate"] + 1e-12) & (iv["estimate"] <= iv["high"] + 1e-12)).all()
    again = backtest(incidents, seed=0)
    assert again.intervals.equals(bt.intervals)
    other = backtest(incidents, seed=1)
    sev = (other.intervals["metric"] == "severity_accuracy")
    assert not other.intervals[sev]["low"].equals(bt.intervals[sev]["low"])
    assert other.to_json() != bt.to_json()
    assert again.to_json() == bt.to_json()


def test_json_shape(bt):
    d = json.loads(bt.to_json())
    assert set(d["summary"]) == {"n", "precision", "recall", "f1", "severity_accuracy",
                                 "downtime_mae_minutes", "confidence"}
    assert len(d["incidents"]) == 18
    assert all(list(i) == list(INCIDENT_COLUMNS) for i in d["incidents"])
    assert set(d["baselines"]) == set(BASELINES)
    assert set(d["intervals"]) == {"engine", *BASELINES, "margin"}
    assert d["discrimination_margin"]["best_baseline"] == "reverse-reachable"


def test_ordinal_severity_map(incidents):
    ordinal = backtest(incidents, severity_map="ordinal", n_boot=50)
    row = ordinal.per_incident.set_index("id").loc["cloudflare-2022-06"]
    assert row["severity_label"] == "major"
    assert row["severity_accuracy"] == pytest.approx(1 - abs(8.0 - 7.0) / 10)
    pub = backtest(incidents, n_boot=50).per_incident.set_index("id").loc["cloudflare-2022-06"]
    assert pub["severity_accuracy"] == pytest.approx(1 - abs(8.0 - 5.0) / 10)


def test_path_input_and_package_export():
    a = fl.backtest(str(PAPER), n_boot=50)
    b = backtest(load_incidents(PAPER), n_boot=50)
    assert a.summary == b.summary


def test_cps_rules_run(incidents):
    bt = backtest(incidents, rules="cps", n_boot=50)
    assert bt.rules == "cps" and bt.summary["n"] == 18
    # cps: the affected set is the reverse-reachable set
    assert bt.summary["f1"] == pytest.approx(1.0)


# ---------------------------------------------------------------------------------------------
# Metric definitions (docs: semantics 6)
# ---------------------------------------------------------------------------------------------
def test_metric_helpers():
    assert set_scores([], ["a"]) == (0, 0, 1, 0.0, 0.0, 0.0)
    assert set_scores(["a"], []) == (0, 1, 0, 0.0, 0.0, 0.0)
    assert severity_value("major") == 5.0 and severity_value("minor") == 5.0
    assert severity_value("high") == 7.0 and severity_value("low") == 2.0
    assert severity_value("minor", "ordinal") == 3.0
    assert severity_accuracy(0.0, 9.0) == pytest.approx(0.1)
    assert severity_accuracy(20.0, 2.0) == 0.0
    assert confidence(1.0, 1.0, 0.0) == pytest.approx(1.0)
    assert confidence(0.0, 0.0, 600.0) == 0.0
    with pytest.raises(InputError, match="unknown severity map"):
        severity_value("major", "bogus")


def tiny_topology():
    return topology_from_dict({
        "components": [{"id": "web", "type": "web_server"}, {"id": "db", "type": "database"},
                       {"id": "batch", "type": "app_server"}],
        "dependencies": [{"source": "web", "target": "db", "type": "requires"}]})


def test_downtime_falls_back_to_five_minutes_per_down_effect():
    topo = tiny_topology()
    inc = Incident("solo", topo, Fault("batch"), truth=Truth(("batch",), "low", 10.0))
    bt = backtest([inc], n_boot=20)
    row = bt.per_incident.iloc[0]
    assert row["predicted_downtime_minutes"] == 5.0  # one down effect at time 0
    assert row["downtime_error_minutes"] == 5.0
    # web goes down after db's 30 s timeout: 0.5 minute
    inc2 = Incident("db", topo, Fault("db"), truth=Truth(("db", "web"), "low", 10.0))
    assert backtest([inc2], n_boot=20).per_incident.iloc[0]["predicted_downtime_minutes"] == 0.5


def test_unscored_incidents_are_predicted_not_scored():
    topo = tiny_topology()
    scored = Incident("a", topo, Fault("db"), truth=Truth(("db", "web"), "major", 30.0))
    open_ = Incident("b", topo, Fault("db"))
    bt = backtest([scored, open_], n_boot=50)
    assert bt.summary["n"] == 1 and bt.summary["f1"] == 1.0
    row = bt.per_incident.set_index("id").loc["b"]
    assert row["predicted_affected"] == ["db", "web"] and math.isnan(row["f1"])
    d = json.loads(bt.to_json())
    assert d["incidents"][1]["f1"] is None and d["incidents"][1]["tp"] is None
    none = backtest([open_], n_boot=50)
    assert none.summary["n"] == 0 and math.isnan(none.summary["f1"])
    assert json.loads(none.to_json())["summary"]["f1"] is None


def test_bad_arguments():
    with pytest.raises(InputError, match="no incidents"):
        backtest([])
    with pytest.raises(InputError, match="unknown rule set"):
        backtest(str(PAPER), rules="faultray-v12")
    with pytest.raises(InputError, match="n_boot"):
        backtest(str(PAPER), n_boot=0)


# ---------------------------------------------------------------------------------------------
# Properties on random incidents
# ---------------------------------------------------------------------------------------------
@st.composite
def random_incident(draw):
    n = draw(st.integers(2, 9))
    ids = [f"c{i}" for i in range(n)]
    edges = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1),
                                    st.sampled_from(["requires", "optional", "async"])),
                          max_size=16, unique_by=lambda e: (e[0], e[1])))
    topo = topology_from_dict({
        "components": [{"id": c, "replicas": draw(st.integers(1, 2))} for c in ids],
        "dependencies": [{"source": ids[s], "target": ids[t], "type": k}
                         for s, t, k in edges if s != t]})
    target = draw(st.sampled_from(ids))
    truth_ids = draw(st.lists(st.sampled_from(ids), unique=True))
    label = draw(st.sampled_from(["critical", "major", "high", "medium", "minor", "low"]))
    downtime = draw(st.floats(0, 1e4))
    return Incident("r", topo, Fault(target), truth=Truth(tuple(truth_ids), label, downtime))


@settings(max_examples=60, deadline=None)
@given(random_incident())
def test_metrics_bounded_and_baselines_consistent(inc):
    bt = backtest([inc], rules="faultray-v11", n_boot=20)
    row = bt.per_incident.iloc[0]
    for col in ("precision", "recall", "f1", "severity_accuracy", "confidence"):
        assert 0.0 <= row[col] <= 1.0
    assert row["tp"] + row["fn"] == len(inc.truth.affected)
    reach = set(baseline_prediction(inc, "reverse-reachable"))
    assert inc.fault.component in reach
    # faultray-v11 never predicts beyond reachability
    assert set(row["predicted_affected"]) <= reach
    # cps predicts exactly the reverse-reachable set (docs: semantics 3)
    cps = backtest([inc], rules="cps", n_boot=20).per_incident.iloc[0]
    assert set(cps["predicted_affected"]) == reach
    truthed = Incident("t", inc.topology, inc.fault,
                       truth=Truth(tuple(sorted(reach)), "low", 0.0))
    assert backtest([truthed], n_boot=20).baselines.loc["reverse-reachable", "f1"] == 1.0
    assert np.isfinite(bt.intervals["low"]).all()

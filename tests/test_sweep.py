"""Sweeps: executors give identical DataFrames; bad input; the demo and sweep commands."""

from __future__ import annotations

import csv
import json

import pytest

import faultray_lab as fl
from faultray_lab.cli import main
from faultray_lab.importers.synthetic import layered_topology
from faultray_lab.scenarios.evaluate import SWEEP_COLUMNS
from faultray_lab.scenarios.generate import Scenario, count_scenarios, generate_scenarios
from faultray_lab.scenarios.sweep import run_sweep

REPORT_KEYS = ["scenarios", "generated", "critical", "warning", "passed", "distinct_outcomes",
               "resilience_score", "spofs", "top_risks"]


@pytest.fixture(scope="module")
def small() -> fl.Topology:
    return layered_topology(40, seed=3)


@pytest.mark.parametrize("rules", ["faultray-v11", "cps"])
def test_processes_equal_serial(small: fl.Topology, rules: str) -> None:
    serial = run_sweep(small, rules=rules, max_scenarios=None)
    assert len(serial) == count_scenarios(small) > 1000  # several chunks
    assert list(serial.columns) == SWEEP_COLUMNS
    procs = run_sweep(small, rules=rules, max_scenarios=None, executor="processes")
    assert procs.equals(serial)


def test_dask_local_cluster_equals_serial(small: fl.Topology) -> None:
    distributed = pytest.importorskip("distributed")
    serial = run_sweep(small, rules="faultray-v11", max_scenarios=1500)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        got = run_sweep(small, rules="faultray-v11", max_scenarios=1500, executor="dask",
                        scheduler=cluster.scheduler_address)
        with distributed.Client(cluster) as client:  # a Client works as well as an address
            got_cps = run_sweep(small, rules="cps", max_scenarios=600, executor="dask",
                                scheduler=client)
    assert got.equals(serial)
    assert got_cps.equals(run_sweep(small, rules="cps", max_scenarios=600))


def test_explicit_scenarios_and_cap(small: fl.Topology) -> None:
    full = generate_scenarios(small)
    df = run_sweep(small, max_scenarios=7)
    assert list(df["id"]) == [s.id for s in full[:7]]
    picked = [full[3], full[-1], full[len(full) // 2]]
    df2 = run_sweep(small, scenarios=picked, max_scenarios=None)
    assert list(df2["id"]) == [s.id for s in picked]
    ref = run_sweep(small, max_scenarios=None).set_index("id")
    assert list(df2["risk"]) == [ref.loc[s.id, "risk"] for s in picked]


def test_distinct_outcomes_fingerprint(small: fl.Topology) -> None:
    df = run_sweep(small, rules="faultray-v11", max_scenarios=None).set_index("id")
    lb = next(c.id for c in small.components if c.type == "load_balancer")
    # a down fault and a network partition of the same component have identical cascades
    assert df.loc[f"single-failure-{lb}", "outcome"] == df.loc[f"net-partition-{lb}", "outcome"]
    assert df.loc[f"single-failure-{lb}", "outcome"] != df.loc[f"cpu-saturation-{lb}", "outcome"]


@pytest.mark.parametrize("kwargs, problem", [
    ({"executor": "threads"}, "unknown executor"),
    ({"max_scenarios": 0}, "max_scenarios"),
    ({"max_scenarios": -5}, "max_scenarios"),
    ({"rules": "v12"}, "unknown rule set"),
])
def test_bad_input(kwargs: dict, problem: str) -> None:
    topo = fl.load_topology(fl.demo_topology_path())
    with pytest.raises(fl.InputError, match=problem):
        run_sweep(topo, **kwargs)


@pytest.mark.parametrize("scenario, problem", [
    (Scenario("x", (("nginz", "component_down"),)), "unknown component id 'nginz'"),
    (Scenario("x", (("nginx", "explode"),)), "unknown fault type 'explode'"),
    (Scenario("x", (), float("nan")), "traffic_multiplier"),
    (Scenario("x", (), -2.0), "traffic_multiplier"),
])
def test_bad_scenarios(scenario: Scenario, problem: str) -> None:
    topo = fl.load_topology(fl.demo_topology_path())
    with pytest.raises(fl.InputError, match=problem):
        run_sweep(topo, scenarios=[scenario])


def test_custom_rule_set_sweep_and_spofs() -> None:
    topo = fl.load_topology(fl.demo_topology_path())
    rs = fl.get_ruleset("cps").without("R7")
    # the demo has no edge latency, so R7 never fires: the slow path must agree with the fast one
    assert run_sweep(topo, rules=rs).equals(run_sweep(topo, rules="cps"))
    assert fl.spofs(topo, rules=rs).equals(fl.spofs(topo, rules="cps"))


def test_unreachable_scheduler(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("distributed")
    monkeypatch.setenv("FAULTRAY_LAB_DASK_TIMEOUT", "1")
    topo = fl.load_topology(fl.demo_topology_path())
    with pytest.raises(fl.InputError, match="cannot reach the Dask scheduler"):
        run_sweep(topo, executor="dask", scheduler="tcp://127.0.0.1:9")


def test_cli_demo_json_golden(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--rules", "faultray-v11", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out) == REPORT_KEYS
    assert (out["scenarios"], out["generated"], out["critical"], out["warning"],
            out["passed"], out["resilience_score"]) == (255, 255, 21, 84, 150, 50.0)
    assert out["top_risks"][0]["id"] == "traffic-10x" and out["top_risks"][0]["risk"] == 10.0
    assert [s["component"] for s in out["spofs"]] == ["app-1", "app-2", "postgres",
                                                      "tool-db-query"]
    assert 1 <= out["distinct_outcomes"] <= 255


def test_cli_demo_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--rules", "faultray-v11"]) == 0
    text = capsys.readouterr().out
    assert "resilience score: 50.0" in text and "critical: 21" in text
    assert "single points of failure" in text


def test_cli_sweep_json_and_csv(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    topo = tmp_path / "topo.yaml"
    topo.write_text(fl.demo_topology_path().read_text())
    out_csv = tmp_path / "out.csv"
    assert main(["sweep", str(topo), "--rules", "faultray-v11", "--max-scenarios", "20",
                 "--json", "--csv", str(out_csv)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out) == [*REPORT_KEYS, "results"]
    assert out["scenarios"] == 20 and out["generated"] == 255 and len(out["results"]) == 20
    assert list(out["results"][0]) == SWEEP_COLUMNS
    rows = list(csv.DictReader(out_csv.open()))
    assert [r["id"] for r in rows] == [r["id"] for r in out["results"]]
    assert main(["sweep", str(topo), "--max-scenarios", "all"]) == 0
    assert "scenarios tested: 255" in capsys.readouterr().out


@pytest.mark.parametrize("extra, problem", [
    (["--executor", "threads"], "unknown executor"),
    (["--max-scenarios", "0"], "--max-scenarios"),
    (["--max-scenarios", "many"], "--max-scenarios"),
])
def test_cli_bad_input_exit_2(extra: list[str], problem: str,
                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sweep", str(fl.demo_topology_path()), *extra]) == 2
    captured = capsys.readouterr()
    assert problem in captured.err and "Traceback" not in captured.err
    assert captured.out == ""


def test_cli_unreachable_scheduler_exit_2(monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("distributed")
    monkeypatch.setenv("FAULTRAY_LAB_DASK_TIMEOUT", "1")
    code = main(["sweep", str(fl.demo_topology_path()), "--executor", "dask",
                 "--scheduler", "tcp://127.0.0.1:9"])
    assert code == 2
    assert "cannot reach the Dask scheduler" in capsys.readouterr().err


def test_cli_missing_file_exit_2(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sweep", str(tmp_path / "nope.yaml")]) == 2
    assert "file not found" in capsys.readouterr().err


def test_plot_risk_distribution() -> None:
    import matplotlib

    matplotlib.use("agg")
    df = run_sweep(fl.load_topology(fl.demo_topology_path()), rules="faultray-v11")
    fig = fl.plot_risk_distribution(df)
    heights = sum(p.get_height() for p in fig.axes[0].patches)
    assert heights == 255
    with pytest.raises(fl.InputError):
        fl.plot_risk_distribution(df.drop(columns=["class"]))

"""The `faultray-lab simulate` command."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

import faultray_lab as fl
from faultray_lab.cli import main


def test_simulate_json_postgres_v11(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["simulate", str(fl.demo_topology_path()), "--fault", "postgres",
                 "--rules", "faultray-v11", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert sorted(out["health"]) == sorted(["postgres", "tool-db-query", "support-agent",
                                            "app-1", "nginx", "app-2"])
    assert set(out["health"].values()) == {"down"}
    assert out["severity"] == 5.3 and out["likelihood"] == 0.8
    assert out["trace"][0] == {"step": 0, "rule": "R1", "source": None, "component": "postgres",
                               "health": "down", "time_s": 0.0, "latency_ms": None}


def test_simulate_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", str(fl.demo_topology_path()), "--fault", "redis"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["component", "health", "time_s", "latency_ms",
                                           "rule", "source"]
    assert "severity 1.8" in out and "redis" in out


@pytest.mark.skipif(shutil.which("faultray-lab") is None, reason="console script not installed")
def test_console_script() -> None:
    proc = subprocess.run(["faultray-lab", "simulate", str(fl.demo_topology_path()), "--fault",
                           "nginx", "--rules", "faultray-v11", "--json"],
                          capture_output=True, text=True, check=True)
    assert json.loads(proc.stdout)["severity"] == 0.9

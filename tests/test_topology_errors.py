"""Bad input: one clear message (file, location, line, fix) through the API and the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import faultray_lab as fl
from faultray_lab.cli import main

GOOD = """\
components:
  - id: web
    type: web_server
  - id: db
    type: database
    replicas: 2
dependencies:
  - {source: web, target: db, type: requires}
"""

# (name, file suffix, content, substrings the message must hold)
CASES = [
    ("unknown key", ".yaml", GOOD.replace("    replicas: 2", "    replicaz: 2"),
     ["unknown key 'replicaz'", "did you mean 'replicas'", ":6:", "components[1] (id 'db')"]),
    ("unknown nested key", ".yaml", GOOD.replace("    replicas: 2",
                                                 "    capacity: {timeout_secs: 3}"),
     ["unknown key 'timeout_secs'", "did you mean 'timeout_seconds'", "capacity.timeout_secs"]),
    ("duplicate id", ".yaml", GOOD.replace("id: db", "id: web"),
     ["duplicate component id 'web'", "unique"]),
    ("edge to unknown id", ".yaml", GOOD.replace("target: db", "target: dbb"),
     ["target 'dbb' is not a component id", "did you mean 'db'", "dependencies[0]", ":8:"]),
    ("unknown component type", ".yaml", GOOD.replace("type: database", "type: databse"),
     ["unknown component type 'databse'", "did you mean 'database'"]),
    ("unknown edge type", ".yaml", GOOD.replace("type: requires", "type: required"),
     ["unknown dependency type 'required'", "did you mean 'requires'"]),
    ("replicas below 1", ".yaml", GOOD.replace("replicas: 2", "replicas: 0"),
     ["replicas must be a whole number >= 1", "components[1] (id 'db')"]),
    ("negative number", ".yaml", GOOD.replace("    replicas: 2", "    metrics: {cpu_percent: -5}"),
     ["'cpu_percent' is negative", "use a value >= 0"]),
    ("NaN", ".yaml", GOOD.replace("    replicas: 2", "    metrics: {cpu_percent: .nan}"),
     ["'cpu_percent' is NaN", "finite"]),
    ("wrong type", ".yaml", GOOD.replace("    replicas: 2", "    metrics: {cpu_percent: high}"),
     ["'cpu_percent' must be a number", "'high'"]),
    ("empty file", ".yaml", "  \n", ["the file is empty"]),
    ("malformed YAML", ".yaml", "components:\n  - id: [web\n", ["malformed YAML", ":"]),
    ("malformed JSON", ".json", '{"components": [}', ["malformed JSON", ":1:"]),
    ("duplicate YAML key", ".yaml",
     GOOD.replace("    replicas: 2", "    replicas: 2\n    replicas: 3"),
     ["duplicate key 'replicas' in one mapping", ":7:", "keep one of them"]),
    ("duplicate JSON key", ".json", '{"components": [{"id": "a", "id": "b"}]}',
     ["duplicate key 'id' in one object", "keep one of them"]),
    ("top level not a mapping", ".yaml", "- a\n- b\n", ["not a mapping"]),
    ("no components", ".yaml", "components: []\n", ["no components"]),
]


def _write(tmp_path: Path, suffix: str, content: str) -> Path:
    p = tmp_path / f"topo{suffix}"
    p.write_text(content)
    return p


@pytest.mark.parametrize(("name", "suffix", "content", "expected"), CASES,
                         ids=[c[0] for c in CASES])
def test_api_and_cli_reject_bad_topologies(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           name: str, suffix: str, content: str,
                                           expected: list[str]) -> None:
    path = _write(tmp_path, suffix, content)
    with pytest.raises(fl.InputError) as info:
        fl.load_topology(path)
    msg = str(info.value)
    assert str(path) in msg and "Fix:" in msg
    for part in expected:
        assert part in msg, (part, msg)
    code = main(["simulate", str(path), "--fault", "web"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err and str(path) in err


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(fl.InputError, match="file not found"):
        fl.load_topology(tmp_path / "nope.yaml")
    with pytest.raises(fl.InputError, match="is a directory"):
        fl.load_topology(tmp_path)


def test_cycles_allowed_unless_strict_dag(tmp_path: Path) -> None:
    text = GOOD + "  - {source: db, target: web, type: optional}\n"
    path = _write(tmp_path, ".yaml", text)
    topo = fl.load_topology(path)
    assert topo.find_cycle() is not None
    with pytest.raises(fl.InputError, match="dependency cycle .*--strict-dag"):
        fl.load_topology(path, strict_dag=True)
    assert main(["simulate", str(path), "--fault", "db", "--strict-dag"]) == 2


def test_unknown_fault_component_and_type(capsys: pytest.CaptureFixture[str]) -> None:
    demo = str(fl.demo_topology_path())
    assert main(["simulate", demo, "--fault", "postgress"]) == 2
    assert "did you mean 'postgres'" in capsys.readouterr().err
    assert main(["simulate", demo, "--fault", "postgres", "--type", "component_dwn"]) == 2
    assert "did you mean 'component_down'" in capsys.readouterr().err
    topo = fl.load_topology(demo)
    with pytest.raises(fl.InputError, match="max_depth"):
        fl.simulate_fault(topo, "postgres", max_depth=-1)
    with pytest.raises(fl.InputError, match="unknown rule set"):
        fl.simulate_fault(topo, "postgres", rules="cpss")


def test_cli_subprocess_exit_code_without_traceback(tmp_path: Path) -> None:
    path = _write(tmp_path, ".yaml", GOOD.replace("replicas: 2", "replicas: -1"))
    proc = subprocess.run([sys.executable, "-m", "faultray_lab.cli", "simulate", str(path),
                           "--fault", "web"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "replicas" in proc.stderr


def test_demo_and_compact_schema_load() -> None:
    topo = fl.load_topology(fl.demo_topology_path())
    assert len(topo) == 9 and len(topo.dependencies) == 12
    # edge insertion order is kept (the reference breaks ties by it)
    assert [(e.source, e.target) for e in topo.dependencies][:2] == [
        ("support-agent", "llm-endpoint"), ("support-agent", "tool-db-query")]
    assert list(topo.graph.predecessors("postgres")) == ["tool-db-query", "app-1", "app-2"]
    app = topo.component("app-1")
    assert app.utilization == 90.0  # 450 / 500 connections
    compact = fl.topology_from_dict({"components": [
        {"id": "a", "timeout_seconds": 5, "utilization": 80},
        {"id": "b", "utilization": 80, "metrics": {"cpu_percent": 10}}]})
    assert compact.components[0].timeout_seconds == 5.0
    assert compact.components[0].cpu_percent == 80.0
    assert compact.components[1].cpu_percent == 10.0  # an explicit metrics block wins
    again = fl.topology_from_dict(topo.to_dict())
    assert again.components == topo.components and again.dependencies == topo.dependencies

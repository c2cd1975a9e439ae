"""Issue 14, input side: the command line. Bad options exit 2 with one message, ``main``
never raises, every option of simulate/demo/sweep/tf-check/reproduce/figures/report has help
and shows its default, ``--type`` lists the fault types and an unknown ``--fault`` id lists ids.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

import faultray_lab as fl
from faultray_lab.cli import build_parser, main
from faultray_lab.common.errors import InputError
from faultray_lab.engine.faults import FAULT_TYPES

DEMO = str(fl.demo_topology_path())
OWN_COMMANDS = ("simulate", "demo", "sweep", "tf-check", "reproduce", "figures", "report")


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


@pytest.mark.parametrize("command", OWN_COMMANDS)
def test_every_option_has_help_and_shows_its_default(command: str) -> None:
    sub = _subparsers()[command]
    for action in sub._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        assert action.help, (command, action.dest)
    text = sub.format_help()
    for action in sub._actions:
        if action.option_strings and action.default not in (None, False, argparse.SUPPRESS):
            assert "default" in (action.help or "").lower() or \
                f"(default: {action.default})" in " ".join(text.split()), (command, action.dest)


def test_type_lists_the_fault_types(capsys: pytest.CaptureFixture[str]) -> None:
    help_text = " ".join(_subparsers()["simulate"].format_help().split())
    for fault in FAULT_TYPES:
        assert fault in help_text
    assert main(["simulate", DEMO, "--fault", "nginx", "--type", "explode"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "unknown fault type 'explode'" in err
    assert "component_down" in err and "llm_rate_limit" in err
    assert main(["simulate", DEMO, "--fault", "nginx", "--type", "component_dwn"]) == 2
    assert "did you mean 'component_down'?" in capsys.readouterr().err


def test_an_unknown_fault_id_names_the_nearest_and_lists_ids(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", DEMO, "--fault", "zzzz"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown component id 'zzzz'" in err
    assert "use one of nginx, app-1, app-2, postgres" in err
    assert main(["simulate", DEMO, "--fault", "postgress"]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'postgres'? (ids: nginx, app-1" in err


@pytest.mark.parametrize(("argv", "message"), [
    (["simulate", DEMO, "--fault", "nginx", "--max-depth", "1" + "0" * 30], "--max-depth"),
    (["simulate", DEMO, "--fault", "nginx", "--max-depth", "-1"], "--max-depth"),
    (["simulate", DEMO, "--fault", "nginx", "--type", "latency_spike", "--multiplier", "nan"],
     "--multiplier"),
    (["simulate", DEMO, "--fault", "nginx", "--type", "latency_spike", "--multiplier", "-1"],
     "--multiplier"),
    (["simulate", DEMO, "--fault", "nginx", "--type", "latency_spike", "--multiplier", "inf"],
     "--multiplier"),
    (["sweep", DEMO, "--max-scenarios", "9" * 400], "--max-scenarios"),
    (["sweep", DEMO, "--max-scenarios", "0"], "--max-scenarios"),
    (["figures", "--bootstrap", "1000000000"], "--bootstrap"),
    (["figures", "--seed", "-5"], "--seed"),
    (["report", DEMO, "--top", "0"], "--top"),
    (["simulate"], "the following arguments are required"),
    (["no-such-command"], "invalid choice"),
])
def test_bad_options_exit_2_with_one_message(capsys: pytest.CaptureFixture[str],
                                             argv: list[str], message: str) -> None:
    assert main(argv) == 2  # returned, not raised
    err = capsys.readouterr().err
    assert "Traceback" not in err and message in err
    assert len([line for line in err.splitlines() if "error" in line]) == 1


def test_help_and_version_return_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert main(["simulate", "--help"]) == 0
    assert main(["--version"]) == 0
    assert "faultray-lab" in capsys.readouterr().out


def test_sweep_csv_to_a_folder_is_refused_before_the_sweep(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sweep", DEMO, "--csv", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {tmp_path}: --csv names a folder") and "Fix:" in err
    afile = tmp_path / "a-file"
    afile.write_text("x")
    assert main(["sweep", DEMO, "--csv", str(afile / "out.csv")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert main(["sweep", DEMO, "--max-scenarios", "3", "--csv", str(tmp_path / "s.csv")]) == 0
    assert (tmp_path / "s.csv").read_text().count("\n") == 4


def test_a_real_process_exits_2_without_a_traceback_on_dev_zero() -> None:
    proc = subprocess.run([sys.executable, "-m", "faultray_lab.cli", "simulate", "/dev/zero",
                           "--fault", "a"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: /dev/zero: a character device, not a regular file")


# ---------------------------------------------------------------------------------------------
# needed outside these files (the engine's entry points check the topology's type)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("topology", ["demo.yaml", 123, None])
def test_simulate_fault_checks_the_topology_type(topology: object) -> None:
    with pytest.raises(InputError, match="topology must be a Topology"):
        fl.simulate_fault(topology, "nginx")  # type: ignore[arg-type]


def test_the_engine_already_refuses_bad_multipliers_and_depths() -> None:
    topo = fl.load_topology(DEMO)
    for m in (float("nan"), -1.0, 0.0, float("inf")):
        with pytest.raises(InputError, match="multiplier"):
            fl.simulate_fault(topo, "nginx", "latency_spike", multiplier=m)
    with pytest.raises(InputError, match="max_depth"):
        fl.simulate_fault(topo, "nginx", rules="faultray-v11", max_depth=-1)

"""``demo``, ``sweep`` and ``tf-check``: scenario sweeps and the Terraform plan gate."""

from __future__ import annotations

import argparse
from typing import Any

from ..common.errors import InputError
from ..common.validate import MAX_INT
from .common import RULE_CHOICES, format_table, print_json

_RULES_HELP = "rule set: cps (the toolkit's semantics) or faultray-v11 (the reference)"


def add_demo(sub: Any) -> None:
    p = sub.add_parser("demo", help="sweep the built-in demo topology",
                       description="Run the default scenario sweep on the 9-component demo "
                       "topology shipped with the package and print the resilience score, the "
                       "critical / warning / passed counts, the top risks and the SPOFs.")
    p.add_argument("--rules", default="cps", choices=RULE_CHOICES, help=_RULES_HELP)
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=_cmd_demo)


def add_sweep(sub: Any) -> None:
    p = sub.add_parser("sweep", help="run the default scenario sweep on a topology",
                       description="Run the reference's default failure scenarios on a "
                       "topology (the first 2000 unless --max-scenarios says otherwise).")
    p.add_argument("topology", help="topology file (.yaml or .json)")
    p.add_argument("--rules", default="cps", choices=RULE_CHOICES, help=_RULES_HELP)
    p.add_argument("--max-scenarios", default="2000", metavar="N|all",
                   help="run the first N scenarios in generation order (default 2000), or all")
    p.add_argument("--executor", default="serial", metavar="serial|processes|dask",
                   help="where chunks of scenarios run: serial, processes (a local process "
                   "pool) or dask (default serial)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="Dask scheduler address, e.g. tcp://HOST:8786 (default: a local cluster)")
    p.add_argument("--strict-dag", action="store_true", help="reject dependency cycles")
    p.add_argument("--json", action="store_true", help="print JSON (with one result per "
                   "scenario) instead of text")
    p.add_argument("--csv", default=None, metavar="FILE", help="also write one row per "
                   "scenario to FILE")
    p.set_defaults(func=_cmd_sweep)


def _parse_max_scenarios(text: str) -> int | None:
    if text.strip().lower() == "all":
        return None
    digits = text.strip()
    value = int(digits) if digits.isdigit() and len(digits) <= 19 else 0
    if not 1 <= value <= MAX_INT:
        shown = text if len(text) <= 24 else text[:20] + "..."
        raise InputError(None, "--max-scenarios", f"must be a whole number from 1 to 2**63 or "
                         f"'all', not '{shown}'", "use for example --max-scenarios 2000 or all")
    return value


def _check_csv_target(path: str) -> None:
    """Refuse a --csv path that cannot be written, before the sweep runs."""
    import os

    if os.path.isdir(path):
        raise InputError(path, None, "--csv names a folder, not a file",
                         f"name a file, e.g. {os.path.join(path, 'sweep.csv')}")
    parent = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise InputError(path, None, f"cannot write here: {parent} is a file, not a folder",
                         "choose a path inside a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(path, None, f"cannot write into {parent} (permission denied)",
                         "choose a folder you can write to")


def _print_sweep_report(report: dict[str, Any], topo: Any, rules: str) -> None:
    print(f"components: {len(topo)}   dependencies: {len(topo.dependencies)}   rules: {rules}")
    print(f"resilience score: {report['resilience_score']:.1f} / 100")
    print(f"scenarios tested: {report['scenarios']} (of {report['generated']} generated), "
          f"{report['distinct_outcomes']} distinct outcomes")
    print(f"critical: {report['critical']}   warning: {report['warning']}   "
          f"passed: {report['passed']}")
    if report["top_risks"]:
        print("\ntop risks:")
        rows = [(r["id"], f"{r['risk']:.1f}", r["class"],
                 ", ".join(f"{c} {h}" for c, h in r["cascade"][:8])
                 + (" ..." if len(r["cascade"]) > 8 else "")) for r in report["top_risks"]]
        print(format_table(rows, ["scenario", "risk", "class", "cascade"]))
    print("\nsingle points of failure:" if report["spofs"] else "\nno single points of failure")
    if report["spofs"]:
        rows = [(s["component"], s["type"], s["requires_dependents"], s["down"],
                 f"{100 * s['share_down']:.1f}%") for s in report["spofs"]]
        print(format_table(rows, ["component", "type", "requires_dependents", "takes_down",
                                  "share"]))


def _cmd_demo(args: argparse.Namespace) -> int:
    from ..common.files import package_data
    from ..importers.native import load_topology
    from ..scenarios.sweep import sweep_report

    topo = load_topology(package_data("demo.yaml"))
    report = sweep_report(topo, rules=args.rules)
    if args.json:
        print_json(report)
    else:
        _print_sweep_report(report, topo, args.rules)
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    from ..importers.native import load_topology
    from ..scenarios.evaluate import SWEEP_COLUMNS
    from ..scenarios.sweep import sweep_report

    max_scenarios = _parse_max_scenarios(args.max_scenarios)
    if args.csv is not None:
        _check_csv_target(args.csv)
    topo = load_topology(args.topology, strict_dag=args.strict_dag)
    want_rows = args.json or args.csv is not None
    report = sweep_report(topo, rules=args.rules, max_scenarios=max_scenarios,
                          executor=args.executor, scheduler=args.scheduler,
                          include_results=want_rows)
    if args.csv is not None:
        import csv
        import io

        from ..common.files import atomic_write_text

        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=SWEEP_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(report["results"])
        try:
            atomic_write_text(args.csv, buf.getvalue())
        except OSError as exc:
            raise InputError(args.csv, None, f"cannot write the CSV file ({exc.strerror or exc})",
                             "choose a writable file path") from None
    if args.json:
        print_json(report)
    else:
        report.pop("results", None)
        _print_sweep_report(report, topo, args.rules)
    return 0


def _score_arg(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 100.0:  # also rejects nan
        raise argparse.ArgumentTypeError(f"must be from 0 to 100, not {text}")
    return value


def add_tf_check(sub: Any) -> None:
    p = sub.add_parser("tf-check", help="resilience of a Terraform plan, before and after",
                       description="Score a Terraform plan's before and after topologies and "
                       "gate CI on the change. Exit 0 pass, 1 gate failed, 2 bad input.")
    p.add_argument("plan", help="plan JSON from `terraform show -json plan.out > plan.json`")
    p.add_argument("--rules", default="cps", choices=RULE_CHOICES, help=_RULES_HELP)
    p.add_argument("--fail-on-regression", action="store_true",
                   help="fail when the score drops or a SPOF or critical scenario is added")
    p.add_argument("--min-score", type=_score_arg, default=None, metavar="N",
                   help="fail when the score after the change is below N (0-100)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=_cmd_tf_check)


def _cmd_tf_check(args: argparse.Namespace) -> int:
    from ..scenarios.plan_gate import check_plan

    r = check_plan(args.plan, rules=args.rules, fail_on_regression=args.fail_on_regression,
                   min_score=args.min_score)
    if args.json:
        print_json(r.to_dict())
        return r.exit_code
    print(f"resilience score ({r.rules}): {r.score_before:.1f} -> {r.score_after:.1f} "
          f"(delta {r.score_delta:+.1f})")
    for label, items in (("SPOFs added", r.spofs_added), ("SPOFs removed", r.spofs_removed),
                         ("critical scenarios added", r.critical_added),
                         ("critical scenarios removed", r.critical_removed)):
        print(f"{label}: {len(items)}" + (f" ({', '.join(items[:10])}"
                                           f"{', ...' if len(items) > 10 else ''})"
                                           if items else ""))
    if r.changes:
        rows = [(c["address"], c["action"],
                 "" if c["component"] is None else f"{c['replicas_before'] or '-'} -> "
                 f"{c['replicas_after'] or '-'}", c["risk"], c["reason"]) for c in r.changes]
        print()
        print(format_table(rows, ["resource", "action", "replicas", "risk", "reason"]))
    if r.skipped_resources:
        print(f"\nnot modelled: {len(r.skipped_resources)} resource(s) of unmapped types "
              f"({', '.join(sorted({s['type'] for s in r.skipped_resources}))})")
    print(f"\nrecommendation: {r.recommendation['level']}: {r.recommendation['reason']}")
    gate = "passed" if r.passed else "FAILED: " + "; ".join(r.gate["reasons"])
    print(f"gate: {gate}")
    return r.exit_code


#: The subcommands this module adds, in help order.
ADDERS = (add_demo, add_sweep, add_tf_check,)

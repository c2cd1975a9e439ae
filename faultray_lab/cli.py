"""The ``faultray-lab`` command line.

Every subcommand parses its arguments here and calls the library; bad input (an
:class:`~faultray_lab.errors.InputError`) prints one message and exits with code 2, without a
traceback. Output files are written atomically.

Examples
--------
>>> from faultray_lab import demo_topology_path
>>> main(["simulate", str(demo_topology_path()), "--fault", "nginx", "--rules", "faultray-v11"])
... # doctest: +ELLIPSIS
component  health  time_s  latency_ms  rule  source
...
0
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from .errors import InputError

RULE_CHOICES = ("cps", "faultray-v11")


class _Parser(argparse.ArgumentParser):
    """argparse with exit code 2 and a one-line message (argparse's own default, made explicit)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _dump_json(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n"


def _json_default(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, set | frozenset | tuple):
        return list(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def format_table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    """A plain fixed-width text table (no pandas import on the fast path).

    >>> print(format_table([["a", 1.5]], ["name", "value"]))
    name  value
    a     1.5
    """
    cells = [[str(h) for h in header]] + [["" if v is None else str(v) for v in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                     for r in cells)


def _num(v: Any, nd: int = 3) -> str:
    return "" if v is None or v != v else f"{v:.{nd}f}"


def _method_table(summary: Any, baselines: Any, intervals: Any, keys: Sequence[str]) -> str:
    """The engine's and each baseline's averages with their bootstrap 95% intervals."""
    iv = intervals.set_index(["method", "metric"])
    table = []
    for method, summ in [("engine", summary), *baselines.to_dict(orient="index").items()]:
        cells: list[Any] = [method, int(summ["n"])]
        for k in keys:
            nd = 2 if k == "downtime_mae_minutes" else 3
            cell = _num(summ[k], nd)
            if (method, k) in iv.index:
                lo, hi = iv.loc[(method, k), "low"], iv.loc[(method, k), "high"]
                cell += f" [{_num(lo, nd)}, {_num(hi, nd)}]"
            cells.append(cell)
        table.append(cells)
    return format_table(table, ["method", "n", *keys])


# ---------------------------------------------------------------------------------------------
# simulate (engine)
# ---------------------------------------------------------------------------------------------
def _add_simulate(sub: Any) -> None:
    p = sub.add_parser("simulate", help="simulate one fault and print its cascade",
                       description="Simulate one fault on one component and print the affected "
                       "components (health, time, latency, rule) and the severity.")
    p.add_argument("topology", help="topology file (.yaml or .json)")
    p.add_argument("--fault", required=True, metavar="COMPONENT", help="the faulted component id")
    p.add_argument("--type", default="component_down", help="fault type (default component_down)")
    p.add_argument("--rules", default="cps", choices=RULE_CHOICES)
    p.add_argument("--max-depth", type=int, default=20, help="faultray-v11 depth bound")
    p.add_argument("--multiplier", type=float, default=10.0,
                   help="latency multiplier for latency_spike (cps)")
    p.add_argument("--strict-dag", action="store_true", help="reject dependency cycles")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=_cmd_simulate)


def _cmd_simulate(args: argparse.Namespace) -> int:
    from .cascade import simulate_fault
    from .topology import load_topology

    topo = load_topology(args.topology, strict_dag=args.strict_dag)
    c = simulate_fault(topo, args.fault, args.type, rules=args.rules, max_depth=args.max_depth,
                       multiplier=args.multiplier)
    if args.json:
        sys.stdout.write(_dump_json(c.to_dict()))
        return 0
    rows = [(e.component, e.health, f"{e.time_s:g}",
             "" if e.latency_ms is None else f"{e.latency_ms:g}", e.rule, e.source or "")
            for e in c.effects]
    print(format_table(rows, ["component", "health", "time_s", "latency_ms", "rule", "source"]))
    print(f"\n{args.type} on {args.fault} ({c.rules}): {len(c.health)} affected, "
          f"{len(c.down)} down; severity {c.severity:.1f}, likelihood {c.likelihood:g}")
    return 0


# ---------------------------------------------------------------------------------------------
# Subcommands of later modules register here: (name, adder). Each adder defines its parser and
# sets ``func`` to a handler below.
# ---------------------------------------------------------------------------------------------
COMMANDS: list[Callable[[Any], None]] = [_add_simulate]

# <<cli:sweep>> (demo, sweep: issue 6)
def _add_demo(sub: Any) -> None:
    p = sub.add_parser("demo", help="sweep the built-in demo topology",
                       description="Run the default scenario sweep on the 9-component demo "
                       "topology shipped with the package and print the resilience score, the "
                       "critical / warning / passed counts, the top risks and the SPOFs.")
    p.add_argument("--rules", default="cps", choices=RULE_CHOICES)
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=_cmd_demo)


def _add_sweep(sub: Any) -> None:
    p = sub.add_parser("sweep", help="run the default scenario sweep on a topology",
                       description="Run the reference's default failure scenarios on a "
                       "topology (the first 2000 unless --max-scenarios says otherwise).")
    p.add_argument("topology", help="topology file (.yaml or .json)")
    p.add_argument("--rules", default="cps", choices=RULE_CHOICES)
    p.add_argument("--max-scenarios", default="2000", metavar="N|all",
                   help="run the first N scenarios in generation order (default 2000), or all")
    p.add_argument("--executor", default="serial", metavar="serial|processes|dask",
                   help="where chunks of scenarios run (default serial)")
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
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise InputError(None, "--max-scenarios", f"must be a whole number >= 1 or 'all', not "
                         f"'{text}'", "use for example --max-scenarios 2000 or all")
    return value


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
    from . import demo_topology_path
    from .scenarios import sweep_report
    from .topology import load_topology

    topo = load_topology(demo_topology_path())
    report = sweep_report(topo, rules=args.rules)
    if args.json:
        sys.stdout.write(_dump_json(report))
    else:
        _print_sweep_report(report, topo, args.rules)
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    from .scenarios import SWEEP_COLUMNS, sweep_report
    from .topology import load_topology

    max_scenarios = _parse_max_scenarios(args.max_scenarios)
    topo = load_topology(args.topology, strict_dag=args.strict_dag)
    want_rows = args.json or args.csv is not None
    report = sweep_report(topo, rules=args.rules, max_scenarios=max_scenarios,
                          executor=args.executor, scheduler=args.scheduler,
                          include_results=want_rows)
    if args.csv is not None:
        import csv
        import io

        from .fileio import atomic_write_text

        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=SWEEP_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(report["results"])
        atomic_write_text(args.csv, buf.getvalue())
    if args.json:
        sys.stdout.write(_dump_json(report))
    else:
        report.pop("results", None)
        _print_sweep_report(report, topo, args.rules)
    return 0


COMMANDS += [_add_demo, _add_sweep]

# <<cli:backtest>> (backtest, reproduce: issue 5)
def _add_backtest(sub: Any) -> None:
    p = sub.add_parser("backtest", help="score the engine on incident files, beside baselines",
                       description="Run the engine on every incident (a file or a folder of "
                       "incident YAML files), score it with the published metrics and beside "
                       "the all-components, root-only and reverse-reachable baselines, with "
                       "seeded bootstrap 95%% intervals. Incidents without truth are predicted "
                       "but not scored.")
    p.add_argument("path", help="incident file or folder, e.g. incidents/paper-18")
    p.add_argument("--rules", default="faultray-v11", choices=RULE_CHOICES)
    p.add_argument("--severity-map", default="published", choices=("published", "ordinal"),
                   help="label values: published (major counts 5.0) or ordinal (major 7)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.add_argument("--bootstrap", type=int, default=2000, metavar="N",
                   help="bootstrap resamples (default 2000)")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.set_defaults(func=_cmd_backtest)


def _cmd_backtest(args: argparse.Namespace) -> int:
    from .backtest import backtest
    from .incidents import load_incidents

    bt = backtest(load_incidents(args.path), rules=args.rules, severity_map=args.severity_map,
                  seed=args.seed, n_boot=args.bootstrap)
    if args.json:
        sys.stdout.write(bt.to_json())
        return 0

    f = _num
    rows = [(r["id"], len(r["predicted_affected"]), f(r["tp"], 0), f(r["fp"], 0), f(r["fn"], 0),
             f(r["f1"]), f"{r['predicted_severity']:.1f}", r["severity_label"] or "",
             f(r["severity_accuracy"]), f"{r['predicted_downtime_minutes']:g}",
             f(r["downtime_error_minutes"], 1), f(r["confidence"]))
            for r in bt.per_incident.to_dict(orient="records")]
    print(format_table(rows, ["incident", "predicted", "tp", "fp", "fn", "f1", "severity",
                              "label", "sev_acc", "downtime_min", "dt_error", "confidence"]))
    print(f"\n{args.rules}, severity map {args.severity_map}; 95% bootstrap intervals "
          f"(seed {args.seed}, {args.bootstrap} resamples)")
    print(_method_table(bt.summary, bt.baselines, bt.intervals,
                        ("precision", "recall", "f1", "severity_accuracy",
                         "downtime_mae_minutes", "confidence")))
    print(f"\ndiscrimination margin: engine F1 - {bt.best_baseline} F1 = {bt.margin:+.3f}")
    return 0


def _add_reproduce(sub: Any) -> None:
    p = sub.add_parser("reproduce", help="execute every notebook with papermill",
                       description="Execute every notebook of --notebooks (sorted by name) with "
                       "papermill, in its own folder as working directory. Writes the executed "
                       "notebooks to OUTPUT/notebooks, figures to OUTPUT/figures (passed as "
                       "output_dir to notebooks that declare it) and OUTPUT/summary.json (status "
                       "of each notebook and the JSON output of cells tagged 'summary'). Exit "
                       "code 1 if a notebook fails.")
    p.add_argument("--output", default="results", help="output folder (default results/)")
    p.add_argument("--notebooks", default="notebooks", help="notebook folder (default notebooks/)")
    p.add_argument("--kernel", default="python3", help="Jupyter kernel name (default python3)")
    p.set_defaults(func=_cmd_reproduce)


def _cmd_reproduce(args: argparse.Namespace) -> int:
    import time
    from pathlib import Path

    t0 = time.perf_counter()
    from .notebooks import run_notebooks

    summary = run_notebooks(args.notebooks, args.output, kernel=args.kernel)
    n_ok = sum(r["status"] == "ok" for r in summary["notebooks"])
    target = Path(args.output) / "summary.json"
    print(f"{n_ok} of {len(summary['notebooks'])} notebooks ok, {len(summary['figures'])} "
          f"figure files; wrote {target} in {time.perf_counter() - t0:.1f} s")
    for r in summary["notebooks"]:
        if r["status"] != "ok":
            print(f"  {r['notebook']}: {r['error']}")
    return 0 if summary["ok"] else 1


COMMANDS.extend([_add_backtest, _add_reproduce])

# <<cli:availability>> (availability: issue 7)
def _add_availability(sub: Any) -> None:
    p = sub.add_parser("availability", help="five-layer availability ceiling and floor",
                       description="The five-layer availability model (software, hardware, "
                       "theoretical, operational, external): each layer's availability, nines "
                       "and downtime per year, the ceiling (min) with its binding layer, and "
                       "the floor (product). --system adds the probability that the entry "
                       "points can serve (exact or Monte Carlo).")
    p.add_argument("topology", help="topology file (.yaml or .json)")
    p.add_argument("--layers", type=int, default=5, choices=[5], help="the layer model (5)")
    p.add_argument("--deploys-per-month", type=float, default=8.0)
    p.add_argument("--human-error-rate", type=float, default=0.001)
    p.add_argument("--config-drift-rate", type=float, default=0.0005)
    p.add_argument("--incidents-per-year", type=float, default=12.0)
    p.add_argument("--mean-response-minutes", type=float, default=30.0)
    p.add_argument("--oncall-coverage-percent", type=float, default=100.0)
    p.add_argument("--system", action="store_true",
                   help="also compute the system availability of the entry points")
    p.add_argument("--method", default="exact", choices=("exact", "montecarlo"),
                   help="method for --system (default exact)")
    p.add_argument("--trials", type=int, default=200_000, help="Monte Carlo trials (--system)")
    p.add_argument("--seed", type=int, default=0, help="Monte Carlo seed (--system)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=_cmd_availability)


def _cmd_availability(args: argparse.Namespace) -> int:
    from .availability import availability_layers, system_availability
    from .topology import load_topology

    topo = load_topology(args.topology)
    s = availability_layers(
        topo, deploys_per_month=args.deploys_per_month, human_error_rate=args.human_error_rate,
        config_drift_rate=args.config_drift_rate, incidents_per_year=args.incidents_per_year,
        mean_response_minutes=args.mean_response_minutes,
        oncall_coverage_percent=args.oncall_coverage_percent)
    out = s.to_dict()
    system = None
    if args.system:
        system = system_availability(topo, method=args.method, trials=args.trials,
                                     seed=args.seed)
        out["system"] = system.to_dict()
    if args.json:
        sys.stdout.write(_dump_json(out))
        return 0
    rows = [(name, f"{v['availability']:.8f}",
             "inf" if v["nines"] is None else f"{v['nines']:.2f}",
             f"{v['downtime_seconds_per_year']:.0f}", "<- binding" if name == s.binding_layer
             else "") for name, v in out["layers"].items()]
    print(format_table(rows, ["layer", "availability", "nines", "downtime_s_per_year", ""]))
    print(f"\nceiling {s.ceiling:.8f} (binding layer: {s.binding_layer}); "
          f"floor {s.floor:.8f} (product of the layers)")
    if system is not None:
        se = f" +/- {system.standard_error:.2g}" if system.method == "montecarlo" else ""
        print(f"system availability of {', '.join(system.targets)} ({system.method}): "
              f"{system.availability:.8f}{se}")
    return 0


COMMANDS.append(_add_availability)

# <<cli:prospective>> (predict, score: issue 4)
def _add_predict(sub: Any) -> None:
    p = sub.add_parser("predict", help="pre-register predictions in a tamper-evident ledger",
                       description="Run the engine on incident files (with or without truth) "
                       "and append one record per new incident to the ledger: toolkit version, "
                       "rule set and parameters, sha256 of the topology and fault, predicted "
                       "affected set, severity and downtime, UTC time and the previous record's "
                       "hash. Already registered incidents are skipped; one whose topology or "
                       "fault changed is refused (exit 2). The ledger is replaced atomically.")
    p.add_argument("path", help="incident file or folder")
    p.add_argument("--rules", default="faultray-v11", choices=RULE_CHOICES)
    p.add_argument("--ledger", default="predictions/ledger.jsonl",
                   help="ledger file (default predictions/ledger.jsonl)")
    p.add_argument("--recovery-train", nargs="+", default=None, metavar="PATH",
                   help="also register a recovery-time prediction from the fault's declared "
                   "recovery mechanism, with the model fitted now on these incident folders' "
                   "truths (e.g. incidents/remodeled-18 incidents/independent)")
    p.set_defaults(func=_cmd_predict)


def _cmd_predict(args: argparse.Namespace) -> int:
    from .prospective import register

    reg = register(args.path, args.ledger, rules=args.rules,
                   recovery_train=args.recovery_train)
    rows = [(r["id"], r["status"], r["seq"], "yes" if r["truth_known_at_registration"] else "no",
             r["registered_at"], r["hash"][:12]) for r in reg.to_dict(orient="records")]
    print(format_table(rows, ["incident", "status", "seq", "truth_known", "registered_at",
                              "hash"]))
    n_new = int((reg["status"] == "registered").sum())
    print(f"\n{n_new} registered, {len(reg) - n_new} already registered; ledger {args.ledger}")
    return 0


def _add_score(sub: Any) -> None:
    p = sub.add_parser("score", help="score registered predictions against the truth",
                       description="Score the incidents that now have truth against their "
                       "registered prediction only, with the backtest's metrics, baselines and "
                       "bootstrap intervals. Refuses (exit 2) an incident without registration, "
                       "one whose topology or fault changed after registration, and a ledger "
                       "whose hash chain is broken.")
    p.add_argument("path", help="incident file or folder")
    p.add_argument("--ledger", default="predictions/ledger.jsonl",
                   help="ledger file (default predictions/ledger.jsonl)")
    p.add_argument("--rules", default=None, choices=RULE_CHOICES,
                   help="registered rule set to score (needed only if several were registered)")
    p.add_argument("--severity-map", default="published", choices=("published", "ordinal"))
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.add_argument("--bootstrap", type=int, default=2000, metavar="N",
                   help="bootstrap resamples (default 2000)")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.set_defaults(func=_cmd_score)


def _cmd_score(args: argparse.Namespace) -> int:
    from .prospective import score

    if args.bootstrap < 1:
        raise InputError(None, "--bootstrap", "must be >= 1", "use e.g. 2000")
    sc = score(args.path, args.ledger, rules=args.rules, severity_map=args.severity_map,
               seed=args.seed, n_boot=args.bootstrap)
    if args.json:
        sys.stdout.write(_dump_json(sc.to_dict()))
        return 0

    f = _num
    rows = [(r["id"], r["seq"], "post hoc" if r["truth_known_at_registration"] else "prospective",
             f(r["precision"]), f(r["recall"]), f(r["f1"]), f"{r['predicted_severity']:.1f}",
             f(r["severity_accuracy"]), f"{r['predicted_downtime_minutes']:g}",
             f(r["downtime_error_minutes"], 1))
            for r in sc.per_incident.to_dict(orient="records")]
    print(format_table(rows, ["incident", "seq", "registration", "precision", "recall", "f1",
                              "severity", "sev_acc", "downtime_min", "dt_error"]))
    print(f"\nregistered predictions ({sc.rules}); {sc.summary['n_prospective']} of "
          f"{sc.summary['n']} registered before their truth was known; 95% bootstrap intervals")
    print(_method_table(sc.summary, sc.baselines, sc.intervals,
                        ("precision", "recall", "f1", "severity_accuracy",
                         "downtime_mae_minutes")))
    print(f"\ndiscrimination margin: engine F1 - {sc.best_baseline} F1 = {sc.margin:+.3f}")
    if "n_recovery" in sc.summary:
        s = sc.summary
        print(f"recovery time as registered ({s['n_recovery']} incidents), mean absolute error "
              f"of log10 minutes: model {s['recovery_mae_log10']:.3f}, registered training "
              f"median {s['recovery_median_mae_log10']:.3f}, propagation estimate "
              f"{s['propagation_mae_log10']:.3f}")
    return 0


COMMANDS.extend([_add_predict, _add_score])

# <<cli:terraform>> (tf-check: issue 8)
def _score_arg(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 100.0:  # also rejects nan
        raise argparse.ArgumentTypeError(f"must be from 0 to 100, not {text}")
    return value


def _add_tf_check(sub: Any) -> None:
    p = sub.add_parser("tf-check", help="resilience of a Terraform plan, before and after",
                       description="Score a Terraform plan's before and after topologies and "
                       "gate CI on the change. Exit 0 pass, 1 gate failed, 2 bad input.")
    p.add_argument("plan", help="plan JSON from `terraform show -json plan.out > plan.json`")
    p.add_argument("--rules", default="cps", choices=RULE_CHOICES)
    p.add_argument("--fail-on-regression", action="store_true",
                   help="fail when the score drops or a SPOF or critical scenario is added")
    p.add_argument("--min-score", type=_score_arg, default=None, metavar="N",
                   help="fail when the score after the change is below N (0-100)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=_cmd_tf_check)


def _cmd_tf_check(args: argparse.Namespace) -> int:
    from .terraform import check_plan

    r = check_plan(args.plan, rules=args.rules, fail_on_regression=args.fail_on_regression,
                   min_score=args.min_score)
    if args.json:
        sys.stdout.write(_dump_json(r.to_dict()))
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


COMMANDS.append(_add_tf_check)


# <<cli:figures>> (figures, report: issue 3)
def _add_figures(sub: Any) -> None:
    p = sub.add_parser("figures", help="regenerate every figure and table of the paper",
                       description="Run the backtest (faultray-v11 and cps, with baselines), "
                       "the demo sweep, the availability layers, the what-if sequence and the "
                       "prospective-validation analyses, and write every figure (PDF, PNG, "
                       "SVG) under OUTPUT/figures and every table (LaTeX and CSV) under "
                       "OUTPUT/tables. Outputs are byte-deterministic.")
    p.add_argument("--output", default="paper", help="paper folder (default paper/)")
    p.add_argument("--incidents", default="incidents/paper-18",
                   help="incident folder of the backtest (default incidents/paper-18)")
    p.add_argument("--published", default="incidents/paper-18-published.json",
                   help="published backtest results compared against ('none' to omit)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.add_argument("--bootstrap", type=int, default=2000, metavar="N",
                   help="bootstrap resamples (default 2000)")
    p.add_argument("--prospective", default="incidents/remodeled-18",
                   help="remodeled incident folder of the prospective-validation figures "
                   "(default incidents/remodeled-18; 'none' to skip)")
    p.add_argument("--tables-only", action="store_true", help="skip the figures")
    p.set_defaults(func=_cmd_figures)


def _cmd_figures(args: argparse.Namespace) -> int:
    from .paper import build_paper

    published = None if args.published.lower() == "none" else args.published
    prospective = None if args.prospective.lower() == "none" else args.prospective
    out = build_paper(args.output, incidents=args.incidents, published=published,
                      seed=args.seed, n_boot=args.bootstrap, figures=not args.tables_only,
                      prospective=prospective)
    for path in [*out["tables"], *out["figures"]]:
        print(path)
    for note in out["notes"]:
        print(f"note: {note}")
    print(f"{len(out['tables'])} table files, {len(out['figures'])} figure files")
    return 0


def _add_report(sub: Any) -> None:
    p = sub.add_parser("report", help="write a one-file HTML report of a topology",
                       description="Execute the report notebook for TOPOLOGY with papermill "
                       "(worst single failure and its cascade, resilience score, top risks, "
                       "SPOFs, availability layers, every single failure) and convert it with "
                       "nbconvert into one self-contained HTML file (images embedded).")
    p.add_argument("topology", help="topology file (.yaml or .json)")
    p.add_argument("-o", "--output", default="report.html", help="HTML file (default report.html)")
    p.add_argument("--rules", default="cps", choices=RULE_CHOICES)
    p.add_argument("--top", type=int, default=10, help="how many top risks (default 10)")
    p.add_argument("--kernel", default="python3", help="Jupyter kernel name (default python3)")
    p.set_defaults(func=_cmd_report)


def _cmd_report(args: argparse.Namespace) -> int:
    from .report import build_report

    path = build_report(args.topology, args.output, rules=args.rules, top_n=args.top,
                        kernel=args.kernel)
    print(f"wrote {path}")
    return 0


COMMANDS.extend([_add_figures, _add_report])


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    from . import __version__

    parser = _Parser(prog="faultray-lab",
                     description="Cascade-failure simulation, availability bounds and honest "
                     "backtests of infrastructure dependency graphs.")
    parser.add_argument("--version", action="version", version=f"faultray-lab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 gate failed, 2 bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. piped into `head`
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _entry() -> None:  # pragma: no cover - console script wrapper
    raise SystemExit(main())


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

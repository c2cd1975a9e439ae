"""``backtest``, ``predict`` and ``score``: incidents, baselines and pre-registered predictions."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..common.errors import InputError
from .common import RULE_CHOICES, format_table, method_table, num, print_json


def add_backtest(sub: Any) -> None:
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
    from ..evaluation.backtest import backtest
    from ..evaluation.incidents import load_incidents

    bt = backtest(load_incidents(args.path), rules=args.rules, severity_map=args.severity_map,
                  seed=args.seed, n_boot=args.bootstrap)
    if args.json:
        sys.stdout.write(bt.to_json())
        return 0

    f = num
    rows = [(r["id"], len(r["predicted_affected"]), f(r["tp"], 0), f(r["fp"], 0), f(r["fn"], 0),
             f(r["f1"]), f"{r['predicted_severity']:.1f}", r["severity_label"] or "",
             f(r["severity_accuracy"]), f"{r['predicted_downtime_minutes']:g}",
             f(r["downtime_error_minutes"], 1), f(r["confidence"]))
            for r in bt.per_incident.to_dict(orient="records")]
    print(format_table(rows, ["incident", "predicted", "tp", "fp", "fn", "f1", "severity",
                              "label", "sev_acc", "downtime_min", "dt_error", "confidence"]))
    print(f"\n{args.rules}, severity map {args.severity_map}; 95% bootstrap intervals "
          f"(seed {args.seed}, {args.bootstrap} resamples)")
    print(method_table(bt.summary, bt.baselines, bt.intervals,
                        ("precision", "recall", "f1", "severity_accuracy",
                         "downtime_mae_minutes", "confidence")))
    print(f"\ndiscrimination margin: engine F1 - {bt.best_baseline} F1 = {bt.margin:+.3f}")
    return 0


def add_predict(sub: Any) -> None:
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
    from ..evaluation.prospective import register

    reg = register(args.path, args.ledger, rules=args.rules,
                   recovery_train=args.recovery_train)
    rows = [(r["id"], r["status"], r["seq"], "yes" if r["truth_known_at_registration"] else "no",
             r["registered_at"], r["hash"][:12]) for r in reg.to_dict(orient="records")]
    print(format_table(rows, ["incident", "status", "seq", "truth_known", "registered_at",
                              "hash"]))
    n_new = int((reg["status"] == "registered").sum())
    print(f"\n{n_new} registered, {len(reg) - n_new} already registered; ledger {args.ledger}")
    return 0


def add_score(sub: Any) -> None:
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
    from ..evaluation.prospective import score

    if args.bootstrap < 1:
        raise InputError(None, "--bootstrap", "must be >= 1", "use e.g. 2000")
    sc = score(args.path, args.ledger, rules=args.rules, severity_map=args.severity_map,
               seed=args.seed, n_boot=args.bootstrap)
    if args.json:
        print_json(sc.to_dict())
        return 0

    f = num
    rows = [(r["id"], r["seq"], "post hoc" if r["truth_known_at_registration"] else "prospective",
             f(r["precision"]), f(r["recall"]), f(r["f1"]), f"{r['predicted_severity']:.1f}",
             f(r["severity_accuracy"]), f"{r['predicted_downtime_minutes']:g}",
             f(r["downtime_error_minutes"], 1))
            for r in sc.per_incident.to_dict(orient="records")]
    print(format_table(rows, ["incident", "seq", "registration", "precision", "recall", "f1",
                              "severity", "sev_acc", "downtime_min", "dt_error"]))
    print(f"\nregistered predictions ({sc.rules}); {sc.summary['n_prospective']} of "
          f"{sc.summary['n']} registered before their truth was known; 95% bootstrap intervals")
    print(method_table(sc.summary, sc.baselines, sc.intervals,
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




#: The subcommands this module adds, in help order.
ADDERS = (add_backtest, add_predict, add_score,)

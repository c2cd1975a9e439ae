"""``backtest``, ``predict``, ``score`` and ``ledger``: incidents, baselines and pre-registered
predictions in an anchored, hash-chained ledger."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .common import RULE_CHOICES, add_seed_bootstrap, format_table, method_table, num, print_json

_LEDGER_HELP = "ledger file (default predictions/ledger.jsonl; its head is <ledger>.head)"
_EXPECT_HELP = ("a head hash published earlier (`faultray-lab ledger head`): refuse unless the "
                "ledger still contains that record (default: not checked)")


def _add_bootstrap(p: Any) -> None:
    p.add_argument("--severity-map", default="published", choices=("published", "ordinal"),
                   help="label values: published (major counts 5.0) or ordinal (major 7) "
                   "(default published)")
    add_seed_bootstrap(p)
    p.add_argument("--json", action="store_true",
                   help="print JSON instead of tables (default: tables)")


def add_backtest(sub: Any) -> None:
    p = sub.add_parser("backtest", help="score the engine on incident files, beside baselines",
                       description="Run the engine on every incident (a file or a folder of "
                       "incident YAML files), score it with the published metrics and beside "
                       "the all-components, root-only and reverse-reachable baselines, with "
                       "seeded bootstrap 95% intervals. Incidents without truth are predicted "
                       "but not scored.")
    p.add_argument("path", help="incident file or folder, e.g. incidents/paper-18")
    p.add_argument("--rules", default="faultray-v11", choices=RULE_CHOICES,
                   help="rule set of the engine (default faultray-v11)")
    _add_bootstrap(p)
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
                       "fault changed is refused (exit 2). The ledger is replaced atomically, "
                       "then its head (<ledger>.head: record count and last hash); a ledger "
                       "that does not end at its head (records removed, or edited and "
                       "re-chained) or has none is refused (exit 2).")
    p.add_argument("path", help="incident file or folder")
    p.add_argument("--rules", default="faultray-v11", choices=RULE_CHOICES,
                   help="rule set of the engine (default faultray-v11)")
    p.add_argument("--ledger", default="predictions/ledger.jsonl", help=_LEDGER_HELP)
    p.add_argument("--expect-head", default=None, metavar="HASH", help=_EXPECT_HELP)
    p.add_argument("--recovery-train", nargs="+", default=None, metavar="PATH",
                   help="also register a recovery-time prediction from the fault's declared "
                   "recovery mechanism, with the model fitted now on these incident folders' "
                   "truths, e.g. incidents/remodeled-18 incidents/independent (default: none)")
    p.set_defaults(func=_cmd_predict)


def _cmd_predict(args: argparse.Namespace) -> int:
    from ..evaluation.ledger import ledger_head
    from ..evaluation.prospective import register

    reg = register(args.path, args.ledger, rules=args.rules,
                   recovery_train=args.recovery_train, expect_head=args.expect_head)
    rows = [(r["id"], r["status"], r["seq"], "yes" if r["truth_known_at_registration"] else "no",
             r["registered_at"], r["hash"][:12]) for r in reg.to_dict(orient="records")]
    print(format_table(rows, ["incident", "status", "seq", "truth_known", "registered_at",
                              "hash"]))
    n_new = int((reg["status"] == "registered").sum())
    head = ledger_head(args.ledger)
    print(f"\n{n_new} registered, {len(reg) - n_new} already registered; ledger {args.ledger}"
          f"\nhead {head.hash} ({head.records} records; publish it to anchor the ledger)")
    return 0


def add_score(sub: Any) -> None:
    p = sub.add_parser("score", help="score registered predictions against the truth",
                       description="Score the incidents that now have truth against their "
                       "registered prediction only, with the backtest's metrics, baselines and "
                       "bootstrap intervals. Refuses (exit 2) an incident without registration, "
                       "one whose topology or fault changed after registration, a ledger "
                       "whose hash chain is broken, and one that does not end at its head "
                       "(<ledger>.head) or has none.")
    p.add_argument("path", help="incident file or folder")
    p.add_argument("--ledger", default="predictions/ledger.jsonl", help=_LEDGER_HELP)
    p.add_argument("--expect-head", default=None, metavar="HASH", help=_EXPECT_HELP)
    p.add_argument("--rules", default=None, choices=RULE_CHOICES,
                   help="registered rule set to score, needed only if several were registered "
                   "(default: the one registered)")
    _add_bootstrap(p)
    p.set_defaults(func=_cmd_score)


def _cmd_score(args: argparse.Namespace) -> int:
    from ..evaluation.prospective import score

    sc = score(args.path, args.ledger, rules=args.rules, severity_map=args.severity_map,
               seed=args.seed, n_boot=args.bootstrap, expect_head=args.expect_head)
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


def add_ledger(sub: Any) -> None:
    p = sub.add_parser("ledger", help="the ledger's head: print, check or initialise it",
                       description="Commands on a prediction ledger.")
    cmds = p.add_subparsers(dest="ledger_command", metavar="LEDGER_COMMAND",
                            parser_class=type(p))
    cmds.required = True
    h = cmds.add_parser("head", help="print the verified head of a ledger (to publish it)",
                        description="Verify the ledger's hash chain and that it ends at its "
                        "head file (<ledger>.head), then print the head: the hash of the last "
                        "record and the number of records. Publish the hash elsewhere (a "
                        "commit, a paper, an e-mail); later `predict`, `score` and `ledger "
                        "head` runs given --expect-head HASH refuse a ledger that no longer "
                        "contains that record. --init writes the head of a ledger that has "
                        "none (written by faultray-lab 0.1) or whose last append was "
                        "interrupted, after verifying the chain; it never overwrites a head "
                        "the ledger does not extend.")
    h.add_argument("ledger", help="ledger file, e.g. predictions/ledger.jsonl")
    h.add_argument("--init", action="store_true",
                   help="verify the chain and write the head file (default: only check it)")
    h.add_argument("--expect-head", default=None, metavar="HASH", help=_EXPECT_HELP)
    h.add_argument("--json", action="store_true",
                   help="print JSON instead of text (default: text)")
    h.set_defaults(func=_cmd_ledger_head)


def _cmd_ledger_head(args: argparse.Namespace) -> int:
    from ..evaluation.ledger import head_path, init_head, ledger_head

    if args.init:
        head, status = init_head(args.ledger, expect_head=args.expect_head)
    else:
        head, status = ledger_head(args.ledger, expect_head=args.expect_head), "verified"
    if args.json:
        print_json({"ledger": args.ledger, "head_file": str(head_path(args.ledger)),
                    "records": head.records, "hash": head.hash, "status": status,
                    "expect_head": args.expect_head})
        return 0
    print(f"head {head.hash}")
    print(f"records {head.records}")
    note = {"verified": "chain verified; the ledger ends at its head file",
            "unchanged": "chain verified; the head file was already up to date",
            "written": "chain verified; head file written",
            "extended": "chain verified; head file moved to the ledger's last record"}[status]
    extra = "; it extends the expected head" if args.expect_head else ""
    print(f"{note}{extra} ({head_path(args.ledger)})")
    return 0


def add_corpus(sub: Any) -> None:
    p = sub.add_parser("corpus", help="the blind incident corpus: assemble it, describe it",
                       description="Commands on the incident corpus (incidents/corpus, written "
                       "in blind passes kept in incidents/corpus-audit).")
    cmds = p.add_subparsers(dest="corpus_command", metavar="CORPUS_COMMAND",
                            parser_class=type(p))
    cmds.required = True
    st = cmds.add_parser("stats", help="what a folder of labelled incidents can show",
                         description="Incidents, components, labels, contested components "
                         "(reverse-reachable from the failed one, not it, labelled) and how "
                         "many of them were unaffected, edge-type outcome rates, labeller and "
                         "edge-typer agreement (Cohen's kappa, with --audit), incidents per "
                         "provider, the best F1 gain any model could have over reverse "
                         "reachability and the incidents needed to detect a 0.03 F1 margin "
                         "at 80% power.")
    st.add_argument("folder", help="incident folder, e.g. incidents/corpus")
    st.add_argument("--audit", default=None,
                    help="the pass files' folder, for the kappas (default: none)")
    st.add_argument("--json", action="store_true",
                    help="print JSON instead of text (default: text)")
    st.set_defaults(func=_cmd_corpus_stats)
    sp = cmds.add_parser("split", help="the corpus's pre-registered train/test split",
                         description="Print the train and test ids of an incident folder by "
                         "the split rule fixed in incidents/PREREGISTRATION.md (a hash of each "
                         "id: incidents added later keep the earlier sides) and the sha256 of "
                         "the test id list.")
    sp.add_argument("folder", help="incident folder, e.g. incidents/corpus")
    sp.add_argument("--json", action="store_true",
                    help="print JSON instead of text (default: text)")
    sp.set_defaults(func=_cmd_corpus_split)
    asm = cmds.add_parser("assemble", help="write incident files from the pass files",
                          description="For every model pass file with a label pass file of "
                          "the same id, write one validated incident file to --output "
                          "(atomically; byte-identical for the same pass files). Pairs that "
                          "do not validate are listed and skipped.")
    asm.add_argument("audit", help="the pass files' folder (holds model/ and label/)")
    asm.add_argument("--output", required=True, help="the incident folder to write")
    asm.set_defaults(func=_cmd_corpus_assemble)


def _cmd_corpus_stats(args: argparse.Namespace) -> int:
    from ..evaluation.corpus import corpus_stats

    stats = corpus_stats(args.folder, audit=args.audit)
    if args.json:
        print_json(stats)
        return 0
    for key in ("incidents", "components", "labels", "unknown", "labels_without_evidence",
                "contested", "contested_unaffected"):
        print(f"{key:<24} {stats[key]}")
    for kind in ("truth", "edges"):
        k = stats[f"kappa_{kind}"]
        print(f"{'kappa_' + kind:<24} " + ("no second pass" if k is None else
                                           f"{k['kappa']:.3f} over {k['n']} items"))
    print("edge type: dependents affected when the upstream was")
    for t, r in stats["edge_outcomes"].items():
        print(f"  {t:<10} {r['affected']} of {r['n']}")
    p = stats["power"]
    print(f"best_f1_gain             {stats['best_f1_gain']:.3f} (mean per incident, over "
          "reverse reachability)")
    print(f"incidents needed for a {p['margin']} F1 margin at 80% power: "
          f"{p['n_needed_assumed']} (paired SD {p['sd_assumed']} assumed)"
          + ("" if p["n_needed_observed"] is None else
             f", {p['n_needed_observed']} (SD {p['sd_observed']:.3f} observed here)"))
    return 0


def _cmd_corpus_split(args: argparse.Namespace) -> int:
    from ..evaluation.corpus import corpus_split
    from ..evaluation.incidents import load_incidents

    split = corpus_split([i.id for i in load_incidents(args.folder)])
    if args.json:
        print_json(split)
        return 0
    print(f"rule: sha256('{split['seed']}:<id>') < {split['test_share']} of the range")
    print(f"train ({len(split['train'])}): {' '.join(split['train'])}")
    print(f"test ({len(split['test'])}): {' '.join(split['test'])}")
    print(f"test_sha256 {split['test_sha256']}")
    return 0


def _cmd_corpus_assemble(args: argparse.Namespace) -> int:
    from ..evaluation.corpus import assemble

    res = assemble(args.audit, args.output)
    for line in res["skipped"]:
        print(f"skipped {line}")
    print(f"wrote {len(res['written'])} incident files to {args.output}")
    return 0


#: The subcommands this module adds, in help order.
ADDERS = (add_backtest, add_predict, add_score, add_ledger, add_corpus)

"""``simulate``: one fault and its cascade."""

from __future__ import annotations

import argparse
from typing import Any

from ..engine.faults import FAULT_TYPES
from .common import RULE_CHOICES, choice_arg, float_arg, format_table, int_arg, print_json


def add_simulate(sub: Any) -> None:
    p = sub.add_parser("simulate", help="simulate one fault and print its cascade",
                       description="Simulate one fault on one component and print the affected "
                       "components (health, time, latency, rule) and the severity.")
    p.add_argument("topology", help="topology file (.yaml or .json)")
    p.add_argument("--fault", required=True, metavar="COMPONENT", help="the faulted component id")
    p.add_argument("--type", default="component_down", metavar="TYPE",
                   type=choice_arg(FAULT_TYPES, "fault type"),
                   help=f"fault type, one of {', '.join(FAULT_TYPES)}")
    p.add_argument("--rules", default="cps", choices=RULE_CHOICES,
                   help="rule set: cps (the toolkit's semantics) or faultray-v11 (the reference)")
    p.add_argument("--max-depth", type=int_arg(0, 1_000_000), default=20, metavar="N",
                   help="faultray-v11 depth bound: effects reach N + 1 hops")
    p.add_argument("--multiplier", type=float_arg(0.0, 1e6, low_open=True), default=10.0,
                   metavar="M", help="latency multiplier for latency_spike (cps), above 0")
    p.add_argument("--strict-dag", action="store_true", help="reject dependency cycles")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=_cmd_simulate)


def _cmd_simulate(args: argparse.Namespace) -> int:
    from ..engine.cascade import simulate_fault
    from ..importers.native import load_topology

    topo = load_topology(args.topology, strict_dag=args.strict_dag)
    c = simulate_fault(topo, args.fault, args.type, rules=args.rules, max_depth=args.max_depth,
                       multiplier=args.multiplier)
    if args.json:
        print_json(c.to_dict())
        return 0
    rows = [(e.component, e.health, f"{e.time_s:g}",
             "" if e.latency_ms is None else f"{e.latency_ms:g}", e.rule, e.source or "")
            for e in c.effects]
    print(format_table(rows, ["component", "health", "time_s", "latency_ms", "rule", "source"]))
    print(f"\n{args.type} on {args.fault} ({c.rules}): {len(c.health)} affected, "
          f"{len(c.down)} down; severity {c.severity:.1f}, likelihood {c.likelihood:g}")
    return 0


#: The subcommands this module adds, in help order.
ADDERS = (add_simulate,)

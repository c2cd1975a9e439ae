"""``availability``: the five-layer ceiling and system availability."""

from __future__ import annotations

import argparse
from typing import Any

from .common import format_table, print_json


def add_availability(sub: Any) -> None:
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
    from ..availability.layers import availability_layers
    from ..availability.system import system_availability
    from ..importers.native import load_topology

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
        print_json(out)
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




#: The subcommands this module adds, in help order.
ADDERS = (add_availability,)

"""``availability``: the five-layer ceiling and system availability, each labelled with its
model."""

from __future__ import annotations

import argparse
import textwrap
from typing import Any

from ..common.errors import InputError
from .common import SEED_MAX, float_arg, format_table, int_arg, print_json


def add_availability(sub: Any) -> None:
    p = sub.add_parser("availability", help="five-layer availability ceiling and floor",
                       description="The five-layer availability model (software, hardware, "
                       "theoretical, operational, external): each layer's availability, nines "
                       "and downtime per year, the ceiling (min) with its binding layer, and "
                       "the floor (product). --system (or --serve) adds the system model: the "
                       "probability that the targets can serve from hardware failures alone "
                       "(exact or Monte Carlo). The two are different models: the system "
                       "figure leaves out the software, network, operational and external "
                       "losses of the layers, so it can be above the ceiling; the output says "
                       "why and gives the like-for-like hardware layer.")
    p.add_argument("topology", help="topology file (.yaml or .json)")
    p.add_argument("--layers", type=int, default=5, choices=[5],
                   help="the layer model (default 5, the only one)")
    p.add_argument("--deploys-per-month", type=float_arg(0.0, 1e6), default=8.0,
                   help="software layer: deploys per month (default 8)")
    p.add_argument("--human-error-rate", type=float_arg(0.0, 1.0), default=0.001,
                   help="software layer: fraction of time lost to human error (default 0.001)")
    p.add_argument("--config-drift-rate", type=float_arg(0.0, 1.0), default=0.0005,
                   help="software layer: fraction of time lost to configuration drift "
                   "(default 0.0005)")
    p.add_argument("--incidents-per-year", type=float_arg(0.0, 1e6), default=12.0,
                   help="operational layer: incidents per year (default 12)")
    p.add_argument("--mean-response-minutes", type=float_arg(0.0, 1e9), default=30.0,
                   help="operational layer: mean response time in minutes (default 30)")
    p.add_argument("--oncall-coverage-percent", type=float_arg(0.0, 100.0), default=100.0,
                   help="operational layer: on-call coverage in percent (default 100)")
    p.add_argument("--system", action="store_true",
                   help="also compute the system availability of the targets (default: the "
                   "entry points, components nothing depends on)")
    p.add_argument("--serve", default=None, metavar="IDS",
                   help="comma-separated component ids that must all serve: the targets of "
                   "the system availability (implies --system; default: the entry points)")
    p.add_argument("--method", default="exact", choices=("exact", "montecarlo"),
                   help="method for the system availability (default exact)")
    p.add_argument("--trials", type=int_arg(1, 100_000_000), default=200_000,
                   help="Monte Carlo trials, 1 to 100,000,000 (default 200000)")
    p.add_argument("--seed", type=int_arg(0, SEED_MAX), default=0,
                   help="Monte Carlo seed, a whole number >= 0 (default 0)")
    p.add_argument("--json", action="store_true",
                   help="print JSON instead of a table (default: table)")
    p.set_defaults(func=_cmd_availability)


def parse_serve(text: str, topology: Any) -> tuple[str, ...]:
    """The component ids of ``--serve``: comma-separated, each known (an unknown id suggests
    the nearest), none empty or repeated.

    >>> from faultray_lab import load_topology, demo_topology_path
    >>> parse_serve("app-1, app-2", load_topology(demo_topology_path()))
    ('app-1', 'app-2')
    """
    ids = [part.strip() for part in text.split(",")]
    if not any(ids):
        raise InputError(None, "--serve", "no component ids", "name the components that must "
                         "serve, e.g. --serve nginx,support-agent")
    for n, cid in enumerate(ids, start=1):
        if not cid:
            raise InputError(None, "--serve", f"id {n} of {len(ids)} is empty",
                             "separate ids with single commas, e.g. --serve a,b")
        try:
            topology.component(cid)
        except InputError as exc:
            raise InputError(topology.source, "--serve", exc.problem, exc.fix) from None
    if len(set(ids)) != len(ids):
        twice = next(i for i in ids if ids.count(i) > 1)
        raise InputError(None, "--serve", f"'{twice}' is named twice", "name each id once")
    return tuple(ids)


def _cmd_availability(args: argparse.Namespace) -> int:
    from ..availability.layers import LAYER_MODEL, availability_layers
    from ..availability.system import compare_models, system_availability
    from ..importers.native import load_topology

    topo = load_topology(args.topology)
    targets = parse_serve(args.serve, topo) if args.serve is not None else None
    s = availability_layers(
        topo, deploys_per_month=args.deploys_per_month, human_error_rate=args.human_error_rate,
        config_drift_rate=args.config_drift_rate, incidents_per_year=args.incidents_per_year,
        mean_response_minutes=args.mean_response_minutes,
        oncall_coverage_percent=args.oncall_coverage_percent)
    out = s.to_dict()
    out["model"] = LAYER_MODEL
    system = comparison = None
    if args.system or targets is not None:
        system = system_availability(topo, targets, method=args.method, trials=args.trials,
                                     seed=args.seed)
        comparison = compare_models(system, s, topo)
        out["system"] = {**system.to_dict(), "model": comparison["system_model"]}
        out["comparison"] = {k: v for k, v in comparison.items()
                             if k not in ("layer_model", "system_model")}
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
    _note(f"from the {LAYER_MODEL}")
    if system is not None and comparison is not None:
        se = f" +/- {system.standard_error:.2g}" if system.method == "montecarlo" else ""
        print(f"system availability of {', '.join(system.targets)} ({system.method}): "
              f"{system.availability:.8f}{se}")
        _note(f"from the {comparison['system_model']}")
        _note(comparison["ceiling_note"])
        _note(comparison["hardware_note"])
    return 0


def _note(text: str) -> None:
    print(textwrap.fill(text, width=100, initial_indent="  ", subsequent_indent="    "))


#: The subcommands this module adds, in help order.
ADDERS = (add_availability,)

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

# <<cli:backtest>> (backtest, reproduce: issue 5)

# <<cli:availability>> (availability: issue 7)

# <<cli:prospective>> (predict, score: issue 4)

# <<cli:terraform>> (tf-check: issue 8)

# <<cli:figures>> (figures, report: issue 3)


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

"""The ``faultray-lab`` command line.

Every subcommand parses its arguments in one module of this package (``engine``,
``scenarios``, ``evaluation``, ``availability``, ``outputs``) and calls the library; bad input
(an :class:`~faultray_lab.common.errors.InputError`) prints one message and exits with code 2,
without a traceback; so does a bad option (argparse's usage line and message). An
:class:`~faultray_lab.common.errors.InputWarning` (input that loads but is probably a mistake)
prints one ``warning:`` line. Output files are written atomically. :func:`main` returns the exit
code and never raises ``SystemExit``, so it can be called in-process.

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
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from ..common.errors import InputError, InputWarning
from . import availability, engine, evaluation, outputs, scenarios
from .common import Parser

#: Command modules, in help order.
MODULES = (engine, scenarios, evaluation, availability, outputs)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    from .. import __version__

    parser = Parser(prog="faultray-lab",
                    description="Cascade-failure simulation, availability bounds and honest "
                    "backtests of infrastructure dependency graphs.")
    parser.add_argument("--version", action="version", version=f"faultray-lab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    for module in MODULES:
        for add in module.ADDERS:
            add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 gate failed, 2 bad input)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version or a bad option (argparse printed it)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    with warnings.catch_warnings():
        warnings.simplefilter("always", InputWarning)
        default_show = warnings.showwarning

        def show(message: Any, category: type[Warning], *rest: Any, **kw: Any) -> None:
            if issubclass(category, InputWarning):
                print(f"warning: {message}", file=sys.stderr)
            else:
                default_show(message, category, *rest, **kw)

        warnings.showwarning = show
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


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

"""What every command shares: the parser class, argument types, table printing, JSON output.

Examples
--------
>>> int_arg(1, 100)("7")
7
>>> int_arg(1, 100)("1" * 40)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
argparse.ArgumentTypeError: must be a whole number from 1 to 100, not '11111111111111111111...'
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from ..common.jsonutil import dumps
from ..engine.rules import RULESET_NAMES

#: The ``--rules`` choices: the built-in rule sets.
RULE_CHOICES = RULESET_NAMES


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default, unless its help already names it or it is a plain flag."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "default" in text.lower() or action.default in (None, False, argparse.SUPPRESS) \
                or action.option_strings == [] or isinstance(action, argparse._VersionAction):
            return text
        return text + " (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """argparse with exit code 2 and a one-line message (argparse's own default, made explicit),
    and every option's default shown in ``--help``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _short(text: str) -> str:
    return repr(text if len(text) <= 24 else text[:20] + "...")


def int_arg(low: int, high: int) -> Any:
    """An argparse ``type``: a whole number from ``low`` to ``high`` (no 400-digit counts)."""

    def parse(text: str) -> int:
        t = text.strip().replace("_", "")
        if len(t) > 20 or not t.lstrip("+-").isdigit() or not low <= int(t) <= high:
            raise argparse.ArgumentTypeError(f"must be a whole number from {low:,} to "
                                             f"{high:,}, not {_short(text)}")
        return int(t)

    parse.__name__ = "whole number"
    return parse


def float_arg(low: float, high: float, *, low_open: bool = False) -> Any:
    """An argparse ``type``: a finite number in ``[low, high]`` (``(low, high]`` if low_open)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {_short(text)}") from None
        if not (low < value if low_open else low <= value) or not value <= high:  # and NaN
            lo = "above" if low_open else "from"
            raise argparse.ArgumentTypeError(f"must be a number {lo} {low:g} to {high:g}, not "
                                             f"{_short(text)}")
        return value

    parse.__name__ = "number"
    return parse


#: Largest seed the commands accept.
SEED_MAX = 2**63 - 1


def add_seed_bootstrap(p: argparse.ArgumentParser) -> None:
    """The ``--seed`` and ``--bootstrap`` options of every command that bootstraps."""
    from ..common.validate import MAX_BOOTSTRAP

    p.add_argument("--seed", type=int_arg(0, SEED_MAX), default=0,
                   help="bootstrap seed, a whole number >= 0 (default 0)")
    p.add_argument("--bootstrap", type=int_arg(1, MAX_BOOTSTRAP), default=2000, metavar="N",
                   help=f"bootstrap resamples, 1 to {MAX_BOOTSTRAP:,} (default 2000)")


def choice_arg(choices: Sequence[str], what: str) -> Any:
    """An argparse ``type``: one of ``choices``, else the nearest and the list of them."""
    from ..common.suggest import one_of, suggest

    def parse(text: str) -> str:
        if text not in choices:
            near = suggest(text, choices, "")
            raise argparse.ArgumentTypeError(
                f"unknown {what} {_short(text)}; " + (f"{near} ({one_of(choices, 40)[4:]})"
                                                     if near else one_of(choices, 40)))
        return text

    parse.__name__ = what
    return parse


def print_json(obj: Any) -> None:
    """Write ``obj`` to stdout as indented JSON (numpy values, NaN and sets cleaned)."""
    sys.stdout.write(dumps(obj))


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


def num(v: Any, nd: int = 3) -> str:
    return "" if v is None or v != v else f"{v:.{nd}f}"


def method_table(summary: Any, baselines: Any, intervals: Any, keys: Sequence[str]) -> str:
    """The engine's and each baseline's averages with their bootstrap 95% intervals."""
    iv = intervals.set_index(["method", "metric"])
    table = []
    for method, summ in [("engine", summary), *baselines.to_dict(orient="index").items()]:
        cells: list[Any] = [method, int(summ["n"])]
        for k in keys:
            nd = 2 if k == "downtime_mae_minutes" else 3
            cell = num(summ[k], nd)
            if (method, k) in iv.index:
                lo, hi = iv.loc[(method, k), "low"], iv.loc[(method, k), "high"]
                cell += f" [{num(lo, nd)}, {num(hi, nd)}]"
            cells.append(cell)
        table.append(cells)
    return format_table(table, ["method", "n", *keys])

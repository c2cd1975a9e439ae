"""What every command shares: the parser class, table printing and JSON output."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from ..common.jsonutil import dumps
from ..engine.rules import RULESET_NAMES

#: The ``--rules`` choices: the built-in rule sets.
RULE_CHOICES = RULESET_NAMES


class Parser(argparse.ArgumentParser):
    """argparse with exit code 2 and a one-line message (argparse's own default, made explicit)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


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

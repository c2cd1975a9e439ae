"""Helpers of the topology validator: error building with lines, short cycles, parameters.

Examples
--------
>>> cycle_text(["a", "b"])
'dependency cycle a -> b -> a'
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any

from ..common.errors import InputError, InputWarning, show
from ..common.parsing import LineLocator
from ..common.validate import MAX_INT, plain_data_problem
from .topology import PARAMETER_RANGES


def cycle_text(cycle: list[str], head: int = 10) -> str:
    """``dependency cycle a -> b -> a``, shortened to the first ``head`` ids and the last one.

    >>> cycle_text(["a", "b"])
    'dependency cycle a -> b -> a'
    >>> cycle_text([f"c{i}" for i in range(100)], head=3)
    'dependency cycle of 100 components c0 -> c1 -> c2 -> ... -> c99 -> c0'
    """
    if len(cycle) <= head + 1:
        return "dependency cycle " + " -> ".join(cycle + [cycle[0]])
    return (f"dependency cycle of {len(cycle):,} components " + " -> ".join(cycle[:head])
            + f" -> ... -> {cycle[-1]} -> {cycle[0]}")


class FileErrors:
    """Builds the InputError of a topology file: the file, the key path, the line, the fix."""

    def __init__(self, source: str, loc: LineLocator, prefix: tuple[Any, ...]) -> None:
        self.source, self.loc, self.prefix = source, loc, prefix
        self.pre = "".join(f".{p}" if isinstance(p, str) else f"[{p}]"
                           for p in prefix).lstrip(".")

    def __call__(self, path: tuple[Any, ...], where: str, problem: str, fix: str) -> InputError:
        pre = self.pre
        full = f"{pre}.{where}" if pre and where else (pre or where)
        return InputError(self.source, full or None, problem, fix,
                          line=self.loc.line(self.prefix + path))

    def read_as(self, path: tuple[Any, ...], key: str, value: Any) -> tuple[str, str]:
        """(how YAML read a value that should be text, the fix): suggests quotes."""
        raw = self.loc.scalar(self.prefix + path)
        if isinstance(value, bool):
            what = f"the boolean {str(value).lower()}"
        elif isinstance(value, int | float):
            what = f"the number {show(value)}"
        else:
            what = f"a {type(value).__name__}"
        shown = raw if raw is not None else str(value).lower() if isinstance(value, bool) \
            else show(value)
        return (f"YAML read `{key}: {shown}` as {what}, not text",
                f'quote it: {key}: "{shown}"')


def build(cls: Any, path: tuple[Any, ...], where: str, fail: Any, **fields: Any) -> Any:
    """``cls(**fields)``, its construction check's error given the file and the line."""
    try:
        return cls(**fields)
    except InputError as exc:
        field = (exc.location or "").rsplit(".", 1)[-1]
        raise fail(path + ((field,) if field in fields else ()), where, exc.problem,
                   exc.fix or "fix the value") from None


def number_fix(value: Any) -> str:
    """The fix for a value that should be a number: YAML 1.1 reads ``1e5`` as text."""
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if math.isfinite(number):
            plain = int(number) if number.is_integer() and abs(number) < 1e15 else number
            return (f"YAML 1.1 reads {value} as text (a float needs a dot and a signed "
                    f"exponent, e.g. 1.0e+5); write the plain number {plain}")
    return "write a plain number without quotes or units"


def check_parameters(params: Mapping[str, Any], path: tuple[Any, ...], where: str,
                      fail: Any) -> None:
    if not params:
        return
    ppath, pwhere = path + ("parameters",), f"{where}.parameters"
    bad = plain_data_problem(params)
    if bad is not None:
        sub, problem, fix = bad
        keys = tuple(k for k in sub.replace("[", ".[").split(".") if k)
        raise fail(ppath + keys[:1], f"{pwhere}.{sub}" if sub else pwhere, problem, fix)
    for key, (low, high) in PARAMETER_RANGES.items():
        v = params.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)
                              or not low <= v <= high):
            rng = f"in [{low:g}, {high:g}]" if high < MAX_INT else ">= 0"
            raise fail(ppath + (key,), f"{pwhere}.{key}", f"'{key}' must be a number {rng}, "
                       f"not {show(v)}", f"write a number {rng}")
    g = params.get("requires_grounding")
    if g is not None and not (isinstance(g, bool) or g in (0, 1)):
        # read by truthiness, as the reference does: warn, do not refuse (reference files)
        warnings.warn(str(fail(ppath + ("requires_grounding",), f"{pwhere}.requires_grounding",
                               f"'requires_grounding' is {show(g)}, which counts as "
                               f"{'true' if g else 'false'} (any non-empty value does)",
                               "write true or false")), InputWarning, stacklevel=4)

"""Argument validation shared by the public functions: numbers, probabilities, counts.

Examples
--------
>>> check_probability(0.25, "beta")
0.25
>>> check_number(-1, "trials", low=1)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
faultray_lab.common.errors.InputError: <input>: trials: trials must be in >= 1, not -1...
"""

from __future__ import annotations

import contextlib
import gc
import math
import numbers
from collections.abc import Iterator, Mapping
from typing import Any

from .errors import InputError, show


def check_number(value: Any, name: str, *, low: float = 0.0, high: float = math.inf,
            fix: str = "") -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(None, name, f"{name} must be a number, not {value!r}",
                         fix or "pass a plain number")
    v = float(value)
    if math.isnan(v) or v < low or v > high:
        rng = f"[{low:g}, {high:g}]" if math.isfinite(high) else f">= {low:g}"
        raise InputError(None, name, f"{name} must be in {rng}, not {value!r}",
                         fix or f"pass a value in {rng}")
    return v


def check_probability(value: Any, name: str) -> float:
    return check_number(value, name, low=0.0, high=1.0, fix="a probability is between 0 and 1")


def check_count(value: Any, name: str, *, low: int = 1, high: int | None = None,
                fix: str = "") -> int:
    """A whole number in ``[low, high]`` (``high`` None: no upper bound), else an InputError.

    >>> check_count(2000, "n_boot", high=1_000_000)
    2000
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputError(None, name, f"{name} must be a whole number, not {value!r}",
                         fix or f"pass a whole number >= {low}")
    v = int(value)
    if v < low or (high is not None and v > high):
        rng = f">= {low}" if high is None else f"from {low} to {high:,}"
        raise InputError(None, name, f"{name} must be {rng}, not {v:,}",
                         fix or f"pass a whole number {rng}")
    return v


#: Largest whole number accepted where a count or an integer is expected (2**63 - 1).
MAX_INT = 2**63 - 1


def plain_data_problem(value: Any, max_depth: int = 100) -> tuple[str, str, str] | None:
    """The first part of ``value`` that is not plain data, as ``(path, problem, fix)``, or None.

    Plain data is what JSON can hold: None, booleans, text, whole numbers up to
    :data:`MAX_INT` in size, finite floats, lists, and mappings with text keys, nested at most
    ``max_depth`` levels. Dates, bytes, NaN, infinities and huge integers (which YAML can write
    and the engine, the JSON outputs and the ledger cannot use) are not.

    Examples
    --------
    >>> plain_data_problem({"a": [1, "x", None, 2.5]}) is None
    True
    >>> plain_data_problem({"a": [1, float("nan")]})[:2]
    ('a[1]', 'NaN is not a usable value')
    """
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        obj, where, depth = stack.pop()
        if obj is None or isinstance(obj, bool | str):
            continue
        if isinstance(obj, int):
            if abs(obj) > MAX_INT:
                return where, f"{show(obj)} is too large", "write a number below 2**63"
            continue
        if isinstance(obj, float):
            if obj != obj:
                return where, "NaN is not a usable value", "write a number, or leave the key out"
            if obj in (math.inf, -math.inf):
                return where, f"{obj} is not a usable value", "write a finite number"
            continue
        if isinstance(obj, list | tuple | Mapping):
            if depth >= max_depth:
                return where, f"nested deeper than {max_depth} levels", "flatten the value"
            if isinstance(obj, Mapping):
                for k, v in obj.items():
                    if not isinstance(k, str):
                        return (where, f"the key {show(k)} is not text", "quote the key")
                    stack.append((v, f"{where}.{k}" if where else k, depth + 1))
            else:
                stack.extend((v, f"{where}[{i}]", depth + 1) for i, v in enumerate(obj))
            continue
        kind = {"date": "a date", "datetime": "a date and time", "bytes": "binary data"}.get(
            type(obj).__name__, f"a {type(obj).__name__}")
        return where, f"{kind} ({show(obj)}) is not plain data", \
            "write it as text in quotes, or as a plain number"
    return None


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a large topology is built.

    Building creates millions of objects and no reference cycles; the collector's full passes
    over them cost a large share of the time for 100,000 components. Restored on exit.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


#: Largest number of bootstrap resamples any function or command accepts (memory grows with it
#: times the number of incidents).
MAX_BOOTSTRAP = 100_000

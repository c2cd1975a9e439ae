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

import math
from typing import Any

import numpy as np

from .errors import InputError


def check_number(value: Any, name: str, *, low: float = 0.0, high: float = math.inf,
            fix: str = "") -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
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
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise InputError(None, name, f"{name} must be a whole number, not {value!r}",
                         fix or f"pass a whole number >= {low}")
    v = int(value)
    if v < low or (high is not None and v > high):
        rng = f">= {low}" if high is None else f"from {low} to {high:,}"
        raise InputError(None, name, f"{name} must be {rng}, not {v:,}",
                         fix or f"pass a whole number {rng}")
    return v

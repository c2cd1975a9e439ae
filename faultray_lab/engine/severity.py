"""Severity of a chain, 0 to 10 (docs: semantics, "severity").

Examples
--------
>>> severity_from_counts(6, 0, 0, 9, 0.8)
5.3
>>> chain_severity(["down"], 9, 0.8)
0.9
"""

from __future__ import annotations

from collections.abc import Sequence

from ..model.topology import DEGRADED, DOWN, OVERLOADED


def chain_severity(healths: Sequence[str], total_components: int, likelihood: float) -> float:
    """Severity of a chain from its raw effect healths (docs: semantics 2.2).

    >>> chain_severity(["down"], 9, 0.8)
    0.9
    """
    down = sum(1 for h in healths if h == DOWN)
    over = sum(1 for h in healths if h == OVERLOADED)
    deg = sum(1 for h in healths if h == DEGRADED)
    return severity_from_counts(down, over, deg, total_components, likelihood)


def severity_from_counts(down: int, overloaded: int, degraded: int, total_components: int,
                         likelihood: float) -> float:
    """Severity (docs: semantics 2.2) from the effect counts of a chain's raw effect list.

    >>> severity_from_counts(6, 0, 0, 9, 0.8)
    5.3
    """
    n = down + overloaded + degraded
    if n == 0:
        return 0.0
    total = max(total_components, n, 1)
    impact = (down * 1.0 + overloaded * 0.5 + degraded * 0.25) / n
    spread = n / total
    raw = impact * spread * 10
    if n <= 1:
        raw = min(raw, 3.0 if down else 2.0 if overloaded else 1.5)
    elif spread < 0.3:
        raw = min(raw, 6.0)
    if down == 0 and overloaded == 0 and degraded > 0:
        raw = min(raw, 4.0)
    return max(0.0, min(10.0, round(raw * likelihood, 1)))


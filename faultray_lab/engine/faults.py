"""Faults: the direct effect of each fault type on its target (R1) and the chain likelihoods.

Every fault type the toolkit knows is a row of :data:`FAULT_EFFECTS` (health and time of the
direct effect); :func:`fault_likelihood` gives the likelihood of a fault's chain from the
target's metrics (docs: semantics, "faults and likelihoods").

Examples
--------
>>> FAULT_EFFECTS["cpu_saturation"]
('overloaded', 0.0)
>>> fault_likelihood(Component("db", "database", memory_percent=80), "memory_exhaustion")
0.6
"""

from __future__ import annotations

from ..common.errors import InputError
from ..common.suggest import suggest
from ..model.topology import DEGRADED, DOWN, OVERLOADED, Component

# ---------------------------------------------------------------------------------------------
# R1: the direct effect of a fault on its target (semantics 2.1 step 1 and section 7):
# fault type -> (health, time in seconds)
# ---------------------------------------------------------------------------------------------
FAULT_EFFECTS: dict[str, tuple[str, float]] = {
    "component_down": (DOWN, 0.0),
    "network_partition": (DOWN, 0.0),
    "memory_exhaustion": (DOWN, 0.0),
    "disk_full": (DOWN, 0.0),
    "connection_pool_exhaustion": (DOWN, 0.0),
    "cpu_saturation": (OVERLOADED, 0.0),
    "traffic_spike": (OVERLOADED, 0.0),
    "latency_spike": (DEGRADED, 0.0),
    # agent faults (section 7)
    "hallucination": (DEGRADED, 0.0),
    "prompt_injection": (DEGRADED, 0.0),
    "confidence_miscalibration": (DEGRADED, 0.0),
    "cot_collapse": (DEGRADED, 0.0),
    "output_amplification": (DEGRADED, 0.0),
    "tool_failure": (DEGRADED, 30.0),
    "grounding_staleness": (DEGRADED, 300.0),
    "context_overflow": (DOWN, 5.0),
    "token_exhaustion": (DOWN, 0.0),
    "agent_loop": (DOWN, 0.0),
    "llm_rate_limit": (OVERLOADED, 60.0),
}
FAULT_TYPES = tuple(FAULT_EFFECTS)


def check_fault_type(fault: str, source: str | None = None) -> None:
    """Raise an InputError naming the nearest known fault type for an unknown one.

    >>> check_fault_type("component_dwn")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    faultray_lab.common.errors.InputError: ... Fix: did you mean 'component_down'?
    """
    if fault not in FAULT_EFFECTS:
        raise InputError(source, None, f"unknown fault type '{fault}'",
                         suggest(fault, FAULT_TYPES, f"use one of {', '.join(FAULT_TYPES)}"))


def _step(value: float, steps: tuple[tuple[float, float], ...], default: float) -> float:
    for threshold, result in steps:
        if value > threshold:
            return result
    return default


def fault_likelihood(component: Component, fault: str) -> float:
    """The likelihood of a fault's chain (semantics 2.1 step 2 and the agent likelihoods of 7).

    >>> fault_likelihood(Component("db", "database", memory_percent=80), "memory_exhaustion")
    0.6
    """
    if fault in ("component_down", "network_partition"):
        return 0.8
    if fault == "latency_spike":
        return 0.7
    if fault == "cpu_saturation":
        return _step(component.cpu_percent, ((85, 1.0), (60, 0.6)), 0.3)
    if fault == "memory_exhaustion":
        return _step(component.memory_percent, ((85, 1.0), (60, 0.6)), 0.3)
    if fault == "disk_full":
        return _step(component.disk_percent, ((90, 1.0), (75, 0.7), (50, 0.4)), 0.2)
    if fault == "connection_pool_exhaustion":
        pool = component.connection_pool_size
        if pool == 0:
            return 0.3
        return _step(component.network_connections / pool, ((0.9, 1.0), (0.7, 0.7), (0.4, 0.4)),
                     0.2)
    params = component.parameters
    if fault == "hallucination":
        h0 = float(params.get("hallucination_risk", 0.05))
        if not params.get("requires_grounding"):
            h0 *= 2
        return min(max(10 * h0, 0.2), 1.0)
    if fault == "context_overflow":
        tokens = float(params.get("max_context_tokens", 200_000))
        return 0.2 if tokens >= 200_000 else 0.4 if tokens >= 100_000 else (
            0.6 if tokens >= 32_000 else 0.8)
    if fault == "llm_rate_limit":
        return 0.5
    if fault in ("token_exhaustion", "agent_loop"):
        return 0.3
    if fault == "prompt_injection":
        return 0.4
    if fault == "tool_failure":
        return min(max(20 * float(params.get("failure_rate", 0.01)), 0.2), 1.0)
    return 0.5


def traffic_likelihood(multiplier: float) -> float:
    """Likelihood of a traffic-spike chain (semantics 2.3): ``min(1, 0.3 + (m - 1) * 0.1)``."""
    return min(1.0, 0.3 + (multiplier - 1) * 0.1)


def latency_cascade_likelihood(multiplier: float) -> float:
    """Likelihood of the latency cascade (docs: semantics 2.4): ``min(1, 0.4 + (m - 1) * 0.05)``."""
    return min(1.0, 0.4 + (multiplier - 1) * 0.05)

"""What a simulation returns: labeled effects and the :class:`Cascade` that holds them.

Examples
--------
>>> from faultray_lab import load_topology, demo_topology_path, simulate_fault
>>> c = simulate_fault(load_topology(demo_topology_path()), "postgres", rules="faultray-v11")
>>> c.effects[1].component, c.effects[1].rule, c.effects[1].source
('tool-db-query', 'R2', 'postgres')
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

from ..model.topology import DOWN, HEALTH_RANK
from .severity import chain_severity

TRACE_COLUMNS = ["step", "rule", "source", "component", "health", "time_s", "latency_ms"]


class Effect(NamedTuple):
    """One labeled transition: ``component`` becomes ``health`` by ``rule`` from ``source``."""

    component: str
    health: str
    time_s: float
    latency_ms: float | None
    rule: str
    source: str | None


@dataclass(frozen=True)
class Cascade:
    """The outcome of one fault (or one merged scenario).

    ``effects`` is the chain's effect list: under ``faultray-v11`` the raw list (a component may
    appear twice and then counts twice in the severity); under ``cps`` one effect per affected
    component with its final H, T and L. ``steps`` is the full transition trace (every health
    rise, in order).

    Examples
    --------
    >>> from faultray_lab import load_topology, demo_topology_path, simulate_fault
    >>> c = simulate_fault(load_topology(demo_topology_path()), "redis", rules="faultray-v11")
    >>> c.health["redis"], c.health["app-1"], c.severity
    ('down', 'degraded', 1.6)
    """

    targets: tuple[str, ...]
    fault: str
    rules: str
    effects: tuple[Effect, ...]
    likelihood: float
    total_components: int
    steps: tuple[Effect, ...] = ()
    tripped_breakers: tuple[tuple[str, str], ...] = ()
    multiplier: float | None = None
    agent_hallucination: dict[str, float] | None = None

    @property
    def target(self) -> str | None:
        """The single target (None for a traffic spike or a multi-fault merge)."""
        return self.targets[0] if len(self.targets) == 1 else None

    @cached_property
    def health(self) -> dict[str, str]:
        """Component id -> worst health, for every affected component (first-appearance order)."""
        out: dict[str, str] = {}
        for e in self.effects:
            cur = out.get(e.component)
            if cur is None or HEALTH_RANK[e.health] > HEALTH_RANK[cur]:
                out[e.component] = e.health
        return out

    @cached_property
    def time_s(self) -> dict[str, float]:
        """Component id -> time (s) of the effect that set its worst health."""
        out: dict[str, float] = {}
        best: dict[str, int] = {}
        for e in self.effects:
            r = HEALTH_RANK[e.health]
            if e.component not in best or r > best[e.component]:
                best[e.component] = r
                out[e.component] = e.time_s
        return out

    @cached_property
    def latency_ms(self) -> dict[str, float]:
        """Component id -> accumulated latency L (ms), where defined."""
        return {e.component: e.latency_ms for e in self.effects if e.latency_ms is not None}

    @property
    def affected(self) -> list[str]:
        """Affected component ids (V), in first-appearance order."""
        return list(self.health)

    @property
    def down(self) -> list[str]:
        """Components whose worst health is down."""
        return [c for c, h in self.health.items() if h == DOWN]

    @cached_property
    def severity(self) -> float:
        """Severity of the chain's effect list, 0-10 (docs: semantics 2.2)."""
        return chain_severity([e.health for e in self.effects], self.total_components,
                              self.likelihood)

    @cached_property
    def trace(self) -> Any:
        """The labeled transition trace as a DataFrame (columns: TRACE_COLUMNS)."""
        import pandas as pd

        rows = [(i, s.rule, s.source, s.component, s.health, s.time_s, s.latency_ms)
                for i, s in enumerate(self.steps or self.effects)]
        return pd.DataFrame(rows, columns=TRACE_COLUMNS)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (health, severity, likelihood, time_s, latency_ms, trace)."""
        return {
            "targets": list(self.targets), "fault": self.fault, "rules": self.rules,
            "health": dict(self.health), "severity": self.severity,
            "likelihood": self.likelihood, "time_s": dict(self.time_s),
            "latency_ms": dict(self.latency_ms),
            "tripped_breakers": [list(e) for e in self.tripped_breakers],
            "trace": [
                {"step": i, "rule": s.rule, "source": s.source, "component": s.component,
                 "health": s.health, "time_s": s.time_s, "latency_ms": s.latency_ms}
                for i, s in enumerate(self.steps or self.effects)],
        }


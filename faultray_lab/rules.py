"""Rule sets as data: the R1 injection table, the likelihood formulas and the transition tables.

A :class:`RuleSet` is a table of :class:`Rule` rows read by one small interpreter
(:func:`first_match`); the traversals in :mod:`faultray_lab.cascade` never look at rule names.
To ablate a rule, drop its row; to add one, insert a row. Names follow SEMANTICS.md
(R1 injection, R2 requires-down, R3 requires-degraded, R4 optional, R5 async, R6 breaker,
R7 timeout).

Examples
--------
>>> cps = get_ruleset("cps")
>>> [r.name for r in cps.rules]
['R6-trip', 'R6', 'R4', 'R5', 'R2', 'R7', 'R3']
>>> no_timeouts = cps.without("R7")
>>> "R7" in [r.name for r in no_timeouts.rules]
False
>>> attenuated = cps.with_rule(Rule("A0", upstream=("degraded",), then=None), before="R6-trip")
>>> attenuated.rules[0].name
'A0'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, NamedTuple

from .errors import InputError
from .topology import Component, Dependency

DOWN, OVERLOADED, DEGRADED, HEALTHY = "down", "overloaded", "degraded", "healthy"
ANY_EDGE = ("requires", "optional", "async")
ANY_HEALTH = (DEGRADED, OVERLOADED, DOWN)

# ---------------------------------------------------------------------------------------------
# R1: the direct effect of a fault on its target (SEMANTICS 2.1 step 1 and section 7):
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
    """Raise an InputError naming the nearest known fault type for an unknown one."""
    if fault not in FAULT_EFFECTS:
        import difflib

        near = difflib.get_close_matches(str(fault), FAULT_TYPES, n=1, cutoff=0.5)
        raise InputError(source, None, f"unknown fault type '{fault}'",
                         f"did you mean '{near[0]}'?" if near else
                         f"use one of {', '.join(FAULT_TYPES)}")


def _step(value: float, steps: tuple[tuple[float, float], ...], default: float) -> float:
    for threshold, result in steps:
        if value > threshold:
            return result
    return default


def fault_likelihood(component: Component, fault: str) -> float:
    """The likelihood of a fault's chain (SEMANTICS 2.1 step 2 and the agent likelihoods of 7).

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


def merged_likelihood(likelihoods: list[float], n_faults: int, n_components: int) -> float:
    """Likelihood of a scenario's merged chains (SEMANTICS 2.5).

    The least likelihood among the chains that have effects (1.0 if none); on topologies of 10
    or more components, capped at 0.3 when half or more of them are faulted and at 0.05 from
    90 %.

    >>> merged_likelihood([0.8, 0.7], n_faults=6, n_components=10)
    0.3
    """
    like = min(likelihoods) if likelihoods else 1.0
    if n_components >= 10:
        r = n_faults / n_components
        if r >= 0.9:
            like = min(like, 0.05)
        elif r >= 0.5:
            like = min(like, 0.3)
    return like


def traffic_likelihood(multiplier: float) -> float:
    """Likelihood of a traffic-spike chain (SEMANTICS 2.3): ``min(1, 0.3 + (m - 1) * 0.1)``."""
    return min(1.0, 0.3 + (multiplier - 1) * 0.1)


def latency_cascade_likelihood(multiplier: float) -> float:
    """Likelihood of the latency cascade (SEMANTICS 2.4): ``min(1, 0.4 + (m - 1) * 0.05)``."""
    return min(1.0, 0.4 + (multiplier - 1) * 0.05)


# ---------------------------------------------------------------------------------------------
# Transition predicates. Each takes the edge context and returns a bool. ``lat_u`` is the
# upstream's accumulated latency L(u) in ms, or None when undefined.
# ---------------------------------------------------------------------------------------------
class EdgeContext(NamedTuple):
    """What a predicate may read about one edge ``dependent -> upstream``."""

    dependent: Component
    upstream: Component
    edge: Dependency
    upstream_health: str
    upstream_latency_ms: float | None


def _exceeds_timeout(c: EdgeContext) -> bool:
    timeout_ms = 1000.0 * c.dependent.timeout_seconds
    lat = c.upstream_latency_ms
    return lat is not None and timeout_ms > 0 and lat + c.edge.latency_ms > timeout_ms


PREDICATES: dict[str, Callable[[EdgeContext], bool]] = {
    "always": lambda c: True,
    "dependent_replicas>1": lambda c: c.dependent.replicas > 1,
    "upstream_replicas==1": lambda c: c.upstream.replicas == 1,
    "dependent_utilization>70": lambda c: c.dependent.utilization > 70,
    "latency_exceeds_dependent_timeout": _exceeds_timeout,
    "breaker_trips": lambda c: c.upstream_health == DOWN or _exceeds_timeout(c),
}

#: Time expressions (seconds) a rule may add to the upstream's time (faultray-v11 only).
TIME_EXPRESSIONS: dict[str, Callable[[EdgeContext], float]] = {
    "0": lambda c: 0.0,
    "5": lambda c: 5.0,
    "10": lambda c: 10.0,
    "15": lambda c: 15.0,
    "60": lambda c: 60.0,
    "dependent_timeout": lambda c: float(int(c.dependent.timeout_seconds)),
}


@dataclass(frozen=True)
class Rule:
    """One row of a transition table: first matching row wins for an edge.

    Parameters
    ----------
    name : str
        The label written to the trace (``R2``, ``R6-trip``...).
    edge : tuple of str
        Edge types the row matches.
    upstream : tuple of str
        Upstream healths the row matches.
    when : str
        A predicate name from :data:`PREDICATES`.
    then : str or None
        The dependent's new health, or None for "no effect" (the edge carries nothing).
    dt : str
        A time expression from :data:`TIME_EXPRESSIONS` (faultray-v11's propagation time).
    breaker : bool or None
        Match only edges with (True) or without (False) a circuit breaker; None matches both.
    """

    name: str
    edge: tuple[str, ...] = ANY_EDGE
    upstream: tuple[str, ...] = ANY_HEALTH
    when: str = "always"
    then: str | None = DEGRADED
    dt: str = "0"
    breaker: bool | None = None
    doc: str = ""

    def __post_init__(self) -> None:
        if self.when not in PREDICATES:
            raise InputError(None, f"rule {self.name}", f"unknown predicate '{self.when}'",
                             f"use one of {', '.join(PREDICATES)}")
        if self.dt not in TIME_EXPRESSIONS:
            raise InputError(None, f"rule {self.name}", f"unknown time expression '{self.dt}'",
                             f"use one of {', '.join(TIME_EXPRESSIONS)}")
        if self.then not in (None, DEGRADED, OVERLOADED, DOWN):
            raise InputError(None, f"rule {self.name}", f"unknown health '{self.then}'",
                             "use degraded, overloaded, down or None")


@dataclass(frozen=True)
class RuleSet:
    """A named transition table and the traversal that reads it.

    ``traversal`` is ``"first-come-dfs"`` (faultray-v11, SEMANTICS 2.1 step 3) or ``"fixpoint"``
    (cps, SEMANTICS 3).
    """

    name: str
    traversal: str
    rules: tuple[Rule, ...]
    description: str = ""

    def without(self, *names: str) -> RuleSet:
        """This rule set with the named rows removed (an ablation)."""
        unknown = set(names) - {r.name for r in self.rules}
        if unknown:
            raise InputError(None, f"rule set {self.name}", f"no rule named {sorted(unknown)}",
                             f"rules are {', '.join(r.name for r in self.rules)}")
        return replace(self, name=f"{self.name}-without-{'-'.join(names)}",
                       rules=tuple(r for r in self.rules if r.name not in names))

    def with_rule(self, rule: Rule, before: str | None = None) -> RuleSet:
        """This rule set with ``rule`` inserted before the named row (or appended)."""
        rows = list(self.rules)
        pos = len(rows)
        if before is not None:
            names = [r.name for r in rows]
            if before not in names:
                raise InputError(None, f"rule set {self.name}", f"no rule named '{before}'",
                                 f"rules are {', '.join(names)}")
            pos = names.index(before)
        rows.insert(pos, rule)
        return replace(self, name=f"{self.name}+{rule.name}", rules=tuple(rows))

    def table(self) -> Any:
        """The rule table as a pandas DataFrame, for reading in a notebook."""
        import pandas as pd

        return pd.DataFrame([{
            "rule": r.name, "edge": "|".join(r.edge), "upstream": "|".join(r.upstream),
            "breaker": {None: "any", True: "yes", False: "no"}[r.breaker], "when": r.when,
            "then": r.then or "no effect", "dt_s": r.dt, "doc": r.doc} for r in self.rules])

    @cached_property
    def compiled(self) -> dict[tuple[str, bool, str], tuple[tuple[str, Any, str | None, Any], ...]]:
        """(edge type, has breaker, upstream health) -> candidate rows, in table order."""
        out: dict[tuple[str, bool, str], tuple[tuple[str, Any, str | None, Any], ...]] = {}
        for et in ANY_EDGE:
            for br in (False, True):
                for uh in ANY_HEALTH:
                    out[(et, br, uh)] = tuple(
                        (r.name, PREDICATES[r.when], r.then, TIME_EXPRESSIONS[r.dt])
                        for r in self.rules
                        if et in r.edge and uh in r.upstream and r.breaker in (None, br))
        return out


def first_match(ruleset: RuleSet, ctx: EdgeContext) -> tuple[str, str | None, float] | None:
    """The interpreter: the first row matching this edge, as ``(rule, health, dt)``; None if none.

    >>> from faultray_lab.topology import Component, Dependency
    >>> ctx = EdgeContext(Component("app"), Component("db"), Dependency("app", "db"), "down", None)
    >>> first_match(get_ruleset("faultray-v11"), ctx)
    ('R2', 'down', 30.0)
    """
    for name, pred, then, dt in ruleset.compiled[(ctx.edge.type, ctx.edge.circuit_breaker,
                                                  ctx.upstream_health)]:
        if pred(ctx):
            return name, then, dt(ctx)
    return None


FAULTRAY_V11 = RuleSet(
    name="faultray-v11",
    traversal="first-come-dfs",
    description="The released faultray 11.1.0 engine (SEMANTICS 2.1 step 4). Edge weight, "
                "breakers, retries and failover do not change the outcome.",
    rules=(
        Rule("R4", ("optional",), (DOWN,), then=DEGRADED, dt="10", doc="optional dep down"),
        Rule("R4-block", ("optional",), (DEGRADED, OVERLOADED), then=None,
             doc="optional dep only slow: no effect"),
        Rule("R5", ("async",), (DOWN,), then=DEGRADED, dt="60", doc="async dep down"),
        Rule("R5-block", ("async",), (DEGRADED, OVERLOADED), then=None,
             doc="async dep only slow: no effect"),
        Rule("R3-replicas", ("requires",), (DOWN,), when="dependent_replicas>1",
             then=DEGRADED, dt="5", doc="reads the DEPENDENT's replicas (as released)"),
        Rule("R2", ("requires",), (DOWN,), then=DOWN, dt="dependent_timeout",
             doc="required dep down"),
        Rule("R2-overload", ("requires",), (OVERLOADED,), when="dependent_utilization>70",
             then=OVERLOADED, dt="15", doc="busy dependent of an overloaded dep"),
        Rule("R3-overload", ("requires",), (OVERLOADED,), then=DEGRADED, dt="10",
             doc="overloaded required dep"),
        Rule("R3", ("requires",), (DEGRADED,), then=DEGRADED, dt="5",
             doc="degraded required dep"),
    ),
)

CPS = RuleSet(
    name="cps",
    traversal="fixpoint",
    description="The paper's Cascade Propagation Semantics as a least fixpoint (SEMANTICS 3).",
    rules=(
        Rule("R6-trip", breaker=True, when="breaker_trips", then=DEGRADED,
             doc="breaker trips: upstream down or too slow; only degraded crosses"),
        Rule("R6", breaker=True, then=DEGRADED,
             doc="breaker closed: the slow call degrades (requires acts as optional)"),
        Rule("R4", ("optional",), then=DEGRADED, doc="optional dependency affected"),
        Rule("R5", ("async",), then=DEGRADED, doc="async dependency affected"),
        Rule("R2", ("requires",), (DOWN,), when="upstream_replicas==1", then=DOWN,
             doc="required single-replica dependency down"),
        Rule("R7", ("requires",), when="latency_exceeds_dependent_timeout", then=DOWN,
             doc="L(u) + latency(e) > timeout(d): the call times out"),
        Rule("R3", ("requires",), then=DEGRADED,
             doc="required dependency degraded, overloaded, or down with replicas > 1"),
    ),
)

RULESETS: dict[str, RuleSet] = {r.name: r for r in (FAULTRAY_V11, CPS)}


def get_ruleset(rules: str | RuleSet) -> RuleSet:
    """A rule set by name (``"cps"`` or ``"faultray-v11"``), or the RuleSet itself."""
    if isinstance(rules, RuleSet):
        return rules
    rs = RULESETS.get(rules)
    if rs is None:
        raise InputError(None, None, f"unknown rule set '{rules}'",
                         f"use one of {', '.join(RULESETS)}")
    return rs

"""Rule sets as data: transition tables, the predicates they use, and one interpreter.

A :class:`RuleSet` is a table of :class:`Rule` rows. For an edge ``dependent -> upstream``
whose upstream is affected, the interpreter (:func:`first_match`) takes the first row whose edge
type, upstream health and breaker flag match and whose predicate holds, and returns the
dependent's new health (or "no effect"). The traversals in :mod:`faultray_lab.engine.traversal`
never look at rule names, and the vectorized paths are compiled from the same table
(:mod:`faultray_lab.engine.compile`): ablate a rule by dropping its row, add one by inserting a
row, and every path changes at once.

Each :class:`Predicate` (and each :class:`TimeExpression`) declares the fields it reads, such as
``dependent.replicas`` or ``upstream_latency_ms``. The compiler evaluates the table once per
distinct combination of those fields, and refuses a predicate that reads a field it did not
declare, so a fast path can never silently disagree with the interpreter.

Rule names follow the documented semantics (R1 injection, R2 requires-down, R3
requires-degraded, R4 optional, R5 async, R6 breaker, R7 timeout).

Examples
--------
>>> cps = get_ruleset("cps")
>>> [r.name for r in cps.rules]
['R6-trip', 'R6', 'R4', 'R5', 'R2', 'R7', 'R3']
>>> "R7" in [r.name for r in cps.without("R7").rules]
False
>>> failover = Predicate("dependent_failover", ("dependent.failover",),
...                      lambda c: c.dependent.failover)
>>> v11 = get_ruleset("faultray-v11").with_rule(
...     Rule("R2-failover", ("requires",), ("down",), when=failover, then="degraded"),
...     before="R2")
>>> v11.table().loc[5, ["rule", "when"]].tolist()
['R2-failover', 'dependent_failover']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from types import MappingProxyType
from typing import Any, NamedTuple

from ..common.errors import InputError
from ..common.suggest import suggest
from ..model.topology import DEGRADED, DOWN, EDGE_TYPES, OVERLOADED, Component, Dependency

ANY_EDGE = EDGE_TYPES
ANY_HEALTH = (DEGRADED, OVERLOADED, DOWN)
#: Merge policies of a rule set (how the chains of a multi-fault scenario combine).
MERGES = ("concatenate", "worst")
TRAVERSALS = ("first-come-dfs", "fixpoint")


class EdgeContext(NamedTuple):
    """What a predicate may read about one edge ``dependent -> upstream``."""

    dependent: Component
    upstream: Component
    edge: Dependency
    upstream_health: str
    upstream_latency_ms: float | None


#: The context fields a predicate may declare: ``dependent.<attr>``, ``upstream.<attr>`` and
#: ``edge.<attr>`` (any attribute of a Component or Dependency) and these two state fields.
STATE_FIELDS = ("upstream_health", "upstream_latency_ms")
_OBJECT_PREFIXES = ("dependent.", "upstream.", "edge.")


def _check_reads(kind: str, name: str, reads: tuple[str, ...]) -> None:
    for field in reads:
        if field in STATE_FIELDS:
            continue
        prefix, _, attr = field.partition(".")
        if f"{prefix}." not in _OBJECT_PREFIXES or not attr:
            raise InputError(None, f"{kind} {name}", f"cannot read '{field}'",
                             "declare fields as dependent.<attr>, upstream.<attr>, edge.<attr>, "
                             "upstream_health or upstream_latency_ms")
        owner = Dependency if prefix == "edge" else Component
        if not hasattr(owner("a", "b") if owner is Dependency else owner("a"), attr):
            choices = [f"{prefix}.{a}" for a in (Dependency if prefix == "edge"
                                                else Component).__dataclass_fields__]
            raise InputError(None, f"{kind} {name}", f"'{field}' is not a field",
                             suggest(field, choices))


@dataclass(frozen=True)
class Predicate:
    """A named condition on an edge context, with the fields it reads.

    Parameters
    ----------
    name : str
        Shown in the rule table.
    reads : tuple of str
        Every field ``fn`` reads (see :data:`STATE_FIELDS`); the compiler refuses a predicate
        that reads anything else.
    fn : callable
        ``EdgeContext -> bool``.
    """

    name: str
    reads: tuple[str, ...]
    fn: Callable[[EdgeContext], bool]
    doc: str = ""

    def __post_init__(self) -> None:
        _check_reads("predicate", self.name, tuple(self.reads))


@dataclass(frozen=True)
class TimeExpression:
    """A named propagation time (seconds) added by a rule, with the fields it reads."""

    name: str
    reads: tuple[str, ...]
    fn: Callable[[EdgeContext], float]

    def __post_init__(self) -> None:
        _check_reads("time expression", self.name, tuple(self.reads))


def _exceeds_timeout(c: EdgeContext) -> bool:
    timeout_ms = 1000.0 * c.dependent.timeout_seconds
    lat = c.upstream_latency_ms
    return lat is not None and timeout_ms > 0 and lat + c.edge.latency_ms > timeout_ms


_TIMEOUT_READS = ("dependent.timeout_seconds", "edge.latency_ms", "upstream_latency_ms")

#: The built-in predicates, by name.
PREDICATES: Mapping[str, Predicate] = MappingProxyType({p.name: p for p in (
    Predicate("always", (), lambda c: True),
    Predicate("dependent_replicas>1", ("dependent.replicas",), lambda c: c.dependent.replicas > 1),
    Predicate("upstream_replicas==1", ("upstream.replicas",), lambda c: c.upstream.replicas == 1),
    Predicate("dependent_utilization>70", ("dependent.utilization",),
              lambda c: c.dependent.utilization > 70),
    Predicate("latency_exceeds_dependent_timeout", _TIMEOUT_READS, _exceeds_timeout,
              "L(u) + latency(e) > timeout(d), with L(u) defined and timeout(d) > 0"),
    Predicate("breaker_trips", ("upstream_health", *_TIMEOUT_READS),
              lambda c: c.upstream_health == DOWN or _exceeds_timeout(c),
              "upstream down, or the call would time out"),
)})

#: The built-in time expressions (seconds a rule adds to the upstream's time), by name.
TIME_EXPRESSIONS: Mapping[str, TimeExpression] = MappingProxyType({t.name: t for t in (
    *(TimeExpression(str(s), (), lambda c, s=s: float(s)) for s in (0, 5, 10, 15, 60)),
    TimeExpression("dependent_timeout", ("dependent.timeout_seconds",),
                   lambda c: float(int(c.dependent.timeout_seconds))),
)})


def _lookup(kind: str, value: Any, table: Mapping[str, Any], cls: type, rule: str) -> Any:
    if isinstance(value, cls):
        return value
    if isinstance(value, str) and value in table:
        return table[value]
    raise InputError(None, f"rule {rule}", f"unknown {kind} {value!r}",
                     suggest(value, list(table), f"use one of {', '.join(table)} or a "
                             f"{cls.__name__}"))


@dataclass(frozen=True)
class Rule:
    """One row of a transition table: the first matching row wins for an edge.

    Parameters
    ----------
    name : str
        The label written to the trace (``R2``, ``R6-trip``...).
    edge : tuple of str
        Edge types the row matches.
    upstream : tuple of str
        Upstream healths the row matches.
    when : str or Predicate
        A built-in predicate name (:data:`PREDICATES`) or a :class:`Predicate`.
    then : str or None
        The dependent's new health, or None for "no effect" (the edge carries nothing).
    dt : str or TimeExpression
        The propagation time the row adds (faultray-v11's times; cps keeps 0).
    breaker : bool or None
        Match only edges with (True) or without (False) a circuit breaker; None matches both.
    """

    name: str
    edge: tuple[str, ...] = ANY_EDGE
    upstream: tuple[str, ...] = ANY_HEALTH
    when: Predicate | str = "always"
    then: str | None = DEGRADED
    dt: TimeExpression | str = "0"
    breaker: bool | None = None
    doc: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "when", _lookup("predicate", self.when, PREDICATES, Predicate,
                                                 self.name))
        object.__setattr__(self, "dt", _lookup("time expression", self.dt, TIME_EXPRESSIONS,
                                               TimeExpression, self.name))
        if self.then not in (None, DEGRADED, OVERLOADED, DOWN):
            raise InputError(None, f"rule {self.name}", f"unknown health '{self.then}'",
                             "use degraded, overloaded, down or None")
        for et in self.edge:
            if et not in ANY_EDGE:
                raise InputError(None, f"rule {self.name}", f"unknown edge type '{et}'",
                                 suggest(et, ANY_EDGE))
        for h in self.upstream:
            if h not in ANY_HEALTH:
                raise InputError(None, f"rule {self.name}", f"unknown upstream health '{h}'",
                                 suggest(h, ANY_HEALTH))

    @property
    def reads(self) -> tuple[str, ...]:
        """Every field this row's predicate and time expression read."""
        return tuple(dict.fromkeys((*self.when.reads, *self.dt.reads)))  # type: ignore[union-attr]


@dataclass(frozen=True)
class RuleSet:
    """A named transition table, the traversal that reads it and how chains merge.

    ``traversal`` is ``"first-come-dfs"`` (faultray-v11) or ``"fixpoint"`` (cps); ``merge`` is
    ``"concatenate"`` (a scenario's effect lists are joined, duplicates kept, as the reference
    does) or ``"worst"`` (per component the worst health wins, then the least time).
    """

    name: str
    traversal: str
    rules: tuple[Rule, ...]
    merge: str = "worst"
    description: str = ""

    def __post_init__(self) -> None:
        if self.traversal not in TRAVERSALS:
            raise InputError(None, f"rule set {self.name}",
                             f"unknown traversal '{self.traversal}'", suggest(self.traversal,
                                                                             TRAVERSALS))
        if self.merge not in MERGES:
            raise InputError(None, f"rule set {self.name}", f"unknown merge '{self.merge}'",
                             suggest(self.merge, MERGES))

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
            "breaker": {None: "any", True: "yes", False: "no"}[r.breaker],
            "when": r.when.name, "then": r.then or "no effect",  # type: ignore[union-attr]
            "dt_s": r.dt.name, "reads": ", ".join(r.reads),  # type: ignore[union-attr]
            "doc": r.doc} for r in self.rules])

    @cached_property
    def reads(self) -> tuple[str, ...]:
        """Every field any row reads, in table order."""
        return tuple(dict.fromkeys(f for r in self.rules for f in r.reads))

    @cached_property
    def dispatch(self) -> dict[tuple[str, bool, str], tuple[tuple[Any, ...], ...]]:
        """:attr:`candidates` as ``(index, when function, name, then, dt function)`` tuples, the
        form the interpreter walks."""
        return {key: tuple((i, r.when.fn, r.name, r.then, r.dt.fn)  # type: ignore[union-attr]
                           for i, r in rows) for key, rows in self.candidates.items()}

    @cached_property
    def candidates(self) -> dict[tuple[str, bool, str], tuple[tuple[int, Rule], ...]]:
        """(edge type, has breaker, upstream health) -> (row index, row) in table order."""
        return {(et, br, uh): tuple((i, r) for i, r in enumerate(self.rules)
                                    if et in r.edge and uh in r.upstream
                                    and r.breaker in (None, br))
                for et in ANY_EDGE for br in (False, True) for uh in ANY_HEALTH}


def first_match(ruleset: RuleSet, ctx: EdgeContext) -> tuple[str, str | None, float] | None:
    """The interpreter: the first row matching this edge, as ``(rule, health, dt)``; None if none.

    >>> from faultray_lab.model.topology import Component, Dependency
    >>> ctx = EdgeContext(Component("app"), Component("db"), Dependency("app", "db"), "down", None)
    >>> first_match(get_ruleset("faultray-v11"), ctx)
    ('R2', 'down', 30.0)
    """
    row = _first(ruleset, ctx)
    return None if row is None else (row[2], row[3], row[4](ctx))


def match_index(ruleset: RuleSet, ctx: EdgeContext) -> int | None:
    """The position of the first row matching this edge in ``ruleset.rules``, or None."""
    row = _first(ruleset, ctx)
    return None if row is None else row[0]


def _first(ruleset: RuleSet, ctx: EdgeContext) -> tuple[Any, ...] | None:
    """The first candidate row whose predicate holds: ``(index, when, name, then, dt)``."""
    for row in ruleset.dispatch[(ctx.edge.type, ctx.edge.circuit_breaker, ctx.upstream_health)]:
        if row[1](ctx):
            return row
    return None


FAULTRAY_V11 = RuleSet(
    name="faultray-v11",
    traversal="first-come-dfs",
    merge="concatenate",
    description="The released faultray 11.1.0 engine. Edge weight, breakers, retries and "
                "failover do not change the outcome.",
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
    merge="worst",
    description="The paper's Cascade Propagation Semantics as a least fixpoint.",
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

#: The built-in rule sets by name: the one registry every command and widget reads.
RULESETS: Mapping[str, RuleSet] = MappingProxyType({r.name: r for r in (CPS, FAULTRAY_V11)})
RULESET_NAMES = tuple(RULESETS)


def get_ruleset(rules: str | RuleSet) -> RuleSet:
    """A rule set by name (``"cps"`` or ``"faultray-v11"``), or the RuleSet itself.

    >>> get_ruleset("faultray-v11").traversal
    'first-come-dfs'
    """
    if isinstance(rules, RuleSet):
        return rules
    rs = RULESETS.get(rules) if isinstance(rules, str) else None
    if rs is None:
        raise InputError(None, None, f"unknown rule set {rules!r}",
                         suggest(rules, RULESET_NAMES))
    return rs


def ruleset_name(rules: str | RuleSet) -> str:
    """The name of a rule set given by name or object (validated).

    >>> ruleset_name("cps")
    'cps'
    """
    return get_ruleset(rules).name

"""The cascade engine: state S = (H, L, T, V) and a labeled transition trace.

Two traversals read a :class:`~faultray_lab.rules.RuleSet`:

* ``first-come-dfs`` (rule set ``faultray-v11``): the released reference, SEMANTICS 2.1 step 3:
  one visited set shared by the whole run, dependents in edge order, effects appended (a
  component reached as degraded may get a second effect), depth bound ``max_depth``.
* ``fixpoint`` (rule set ``cps``): SEMANTICS 3. H is the least fixpoint of the rules computed by
  a worklist; L (latency, ms) and T (time, s) are least values over chains, by Dijkstra.

Also here: severity (2.2), the traffic spike (2.3), the latency cascade (2.4) and the agent
cross-layer rule (2.1 step 5).

Examples
--------
>>> from faultray_lab import load_topology, demo_topology_path
>>> topo = load_topology(demo_topology_path())
>>> c = simulate_fault(topo, "postgres", rules="faultray-v11")
>>> sorted(c.health), c.severity
(['app-1', 'app-2', 'nginx', 'postgres', 'support-agent', 'tool-db-query'], 5.3)
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

from .errors import InputError
from .rules import (
    DEGRADED,
    DOWN,
    FAULT_EFFECTS,
    OVERLOADED,
    PREDICATES,
    EdgeContext,
    RuleSet,
    check_fault_type,
    fault_likelihood,
    first_match,
    get_ruleset,
    latency_cascade_likelihood,
    traffic_likelihood,
)
from .topology import HEALTH_RANK, Topology

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
    >>> from faultray_lab import load_topology, demo_topology_path
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
        """Severity of the chain's effect list, 0-10 (SEMANTICS 2.2)."""
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


def chain_severity(healths: Sequence[str], total_components: int, likelihood: float) -> float:
    """Severity of a chain from its raw effect healths (SEMANTICS 2.2).

    >>> chain_severity(["down"], 9, 0.8)
    0.9
    """
    down = sum(1 for h in healths if h == DOWN)
    over = sum(1 for h in healths if h == OVERLOADED)
    deg = sum(1 for h in healths if h == DEGRADED)
    return severity_from_counts(down, over, deg, total_components, likelihood)


def severity_from_counts(down: int, overloaded: int, degraded: int, total_components: int,
                         likelihood: float) -> float:
    """Severity (SEMANTICS 2.2) from the effect counts of a chain's raw effect list.

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


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------
def simulate_fault(
    topology: Topology,
    component_id: str,
    fault: str = "component_down",
    rules: str | RuleSet = "cps",
    max_depth: int = 20,
    multiplier: float = 10.0,
    annotate_agents: bool = False,
) -> Cascade:
    """Simulate one fault on one component and return its :class:`Cascade`.

    Parameters
    ----------
    topology : Topology
    component_id : str
        The faulted component.
    fault : str
        A fault type of :data:`faultray_lab.rules.FAULT_TYPES`.
    rules : str or RuleSet
        ``"cps"`` (default, SEMANTICS 3) or ``"faultray-v11"`` (the released reference).
    max_depth : int
        faultray-v11's depth bound (effects reach ``max_depth + 1`` hops); cps has none.
    multiplier : float
        For ``latency_spike`` under cps: L(target) = 100 * multiplier * timeout_seconds ms.
    annotate_agents : bool
        Add each affected ai_agent's hallucination probability H (SEMANTICS 5) as
        ``Cascade.agent_hallucination`` (see :mod:`faultray_lab.agents`).

    Returns
    -------
    Cascade

    Raises
    ------
    InputError
        Unknown component id, fault type or rule set; negative max_depth.

    Examples
    --------
    >>> from faultray_lab import load_topology, demo_topology_path
    >>> topo = load_topology(demo_topology_path())
    >>> simulate_fault(topo, "nginx", rules="faultray-v11").severity
    0.9
    >>> simulate_fault(topo, "postgres").health["nginx"]
    'down'
    """
    if annotate_agents:
        from .agents import annotate_agents as _annotate

        plain = simulate_fault(topology, component_id, fault, rules, max_depth, multiplier)
        return _annotate(topology, plain)
    rs = get_ruleset(rules)
    check_fault_type(fault, topology.source)
    t = topology.index.get(component_id)
    if t is None:
        topology.component(component_id)  # raises with a suggestion
    if isinstance(max_depth, bool) or not isinstance(max_depth, int) or max_depth < 0:
        raise InputError(None, "max_depth", f"max_depth must be a whole number >= 0, not "
                         f"{max_depth!r}", "use the default 20")
    comp = topology.components[t]  # type: ignore[index]
    health, t0 = FAULT_EFFECTS[fault]
    likelihood = fault_likelihood(comp, fault)
    if rs.traversal == "first-come-dfs":
        effects = _first_come_dfs(topology, rs, t, health, t0, max_depth)  # type: ignore[arg-type]
        _agent_cross_layer(topology, t, effects)  # type: ignore[arg-type]
        return Cascade((component_id,), fault, rs.name, tuple(effects), likelihood,
                       len(topology), tuple(effects))
    if rs.traversal == "fixpoint":
        lat0 = None
        if fault == "latency_spike":
            lat0 = 100.0 * multiplier * comp.timeout_seconds
        effects, steps, tripped = _fixpoint(topology, rs, t, health, lat0)  # type: ignore
        return Cascade((component_id,), fault, rs.name, effects, likelihood, len(topology),
                       steps, tripped, multiplier if fault == "latency_spike" else None)
    raise InputError(None, f"rule set {rs.name}", f"unknown traversal '{rs.traversal}'",
                     "use 'first-come-dfs' or 'fixpoint'")


def simulate_latency_cascade(
    topology: Topology, component_id: str, multiplier: float = 10.0,
    rules: str | RuleSet = "cps",
) -> Cascade:
    """A slow component's latency cascade (SEMANTICS 2.4; under cps, a latency_spike fault).

    Examples
    --------
    >>> from faultray_lab import load_topology, demo_topology_path
    >>> topo = load_topology(demo_topology_path())
    >>> c = simulate_latency_cascade(topo, "postgres", rules="faultray-v11")
    >>> c.health["postgres"], c.latency_ms["postgres"]
    ('degraded', 30000.0)
    """
    rs = get_ruleset(rules)
    _check_multiplier(multiplier)
    t = topology.index.get(component_id)
    if t is None:
        topology.component(component_id)
    like = latency_cascade_likelihood(multiplier)
    if rs.traversal == "fixpoint":
        c = simulate_fault(topology, component_id, "latency_spike", rs, multiplier=multiplier)
        return Cascade(c.targets, "latency_cascade", rs.name, c.effects, like, c.total_components,
                       c.steps, c.tripped_breakers, multiplier)
    effects, tripped = _latency_bfs(topology, t, multiplier)  # type: ignore[arg-type]
    return Cascade((component_id,), "latency_cascade", rs.name, tuple(effects), like,
                   len(topology), tuple(effects), tuple(tripped), multiplier)


def simulate_traffic_spike(
    topology: Topology, multiplier: float, rules: str | RuleSet = "cps",
) -> Cascade:
    """A traffic spike of ``multiplier`` times the current load (SEMANTICS 2.3).

    Each component with ``utilization * m`` above 100 / 90 / 70 percent becomes down /
    overloaded / degraded, in component order. faultray-v11 stops there; cps then propagates
    each directly hit component's health as an injection of its own (worst health wins).

    Examples
    --------
    >>> from faultray_lab import load_topology, demo_topology_path
    >>> topo = load_topology(demo_topology_path())
    >>> simulate_traffic_spike(topo, 5.0, rules="faultray-v11").severity
    7.0
    """
    rs = get_ruleset(rules)
    _check_multiplier(multiplier)
    direct: list[Effect] = []
    for c in topology.components:
        u = c.utilization * multiplier
        h = DOWN if u > 100 else OVERLOADED if u > 90 else DEGRADED if u > 70 else None
        if h is not None:
            direct.append(Effect(c.id, h, 0.0, None, "R1-traffic", None))
    like = traffic_likelihood(multiplier)
    if rs.traversal == "first-come-dfs" or not direct:
        return Cascade((), "traffic_spike", rs.name, tuple(direct), like, len(topology),
                       tuple(direct), (), multiplier)
    parts = []
    for e in direct:
        effects, steps, tripped = _fixpoint(topology, rs, topology.index[e.component], e.health,
                                            None, rule="R1-traffic")
        parts.append(Cascade((e.component,), "traffic_spike", rs.name, effects, like,
                             len(topology), steps, tripped))
    merged = merge_worst(parts, likelihood=like, fault="traffic_spike")
    return Cascade((), "traffic_spike", rs.name, merged.effects, like, len(topology),
                   merged.steps, merged.tripped_breakers, multiplier)


def merge_worst(cascades: Sequence[Cascade], likelihood: float, fault: str = "scenario",
                targets: tuple[str, ...] | None = None) -> Cascade:
    """Merge faults that each ran alone: per component the worst health wins, then the least T.

    This is cps's merge (SEMANTICS 3, "Several faults"). Effects keep first-appearance order.

    Examples
    --------
    >>> from faultray_lab import load_topology, demo_topology_path
    >>> topo = load_topology(demo_topology_path())
    >>> a, b = simulate_fault(topo, "redis"), simulate_fault(topo, "rabbitmq")
    >>> sorted(merge_worst([a, b], likelihood=0.8).health.items())[:2]
    [('app-1', 'degraded'), ('app-2', 'degraded')]
    """
    best: dict[str, Effect] = {}
    steps: list[Effect] = []
    tripped: dict[tuple[str, str], None] = {}
    for c in cascades:
        steps.extend(c.steps)
        tripped.update(dict.fromkeys(c.tripped_breakers))
        for e in c.effects:
            cur = best.get(e.component)
            if cur is None:
                best[e.component] = e
                continue
            r, rc = HEALTH_RANK[e.health], HEALTH_RANK[cur.health]
            if r > rc or (r == rc and e.time_s < cur.time_s):
                best[e.component] = e
    if targets is None:
        targets = tuple(t for c in cascades for t in c.targets)
    total = cascades[0].total_components if cascades else 0
    rules = cascades[0].rules if cascades else "cps"
    return Cascade(targets, fault, rules, tuple(best.values()), likelihood, total, tuple(steps),
                   tuple(tripped))


# ---------------------------------------------------------------------------------------------
# Traversals
# ---------------------------------------------------------------------------------------------
def _first_come_dfs(topo: Topology, rs: RuleSet, target: int, health: str, t0: float,
                    max_depth: int) -> list[Effect]:
    """faultray-v11 propagation (SEMANTICS 2.1 step 3), iterative but step-for-step recursive."""
    comps, deps, ids, dependents = topo.components, topo.dependencies, topo.ids, topo.dependents
    effects = [Effect(ids[target], health, t0, None, "R1", None)]
    visited: set[int] = set()
    if max_depth < 0:
        return effects
    visited.add(target)
    stack = [(target, health, 0, t0, iter(dependents[target]))]
    while stack:
        x, hx, depth, t, it = stack[-1]
        cx = comps[x]
        for d, k in it:
            if d in visited:
                continue
            m = first_match(rs, EdgeContext(comps[d], cx, deps[k], hx, None))
            if m is None or m[1] is None:
                continue
            name, h, dt = m
            effects.append(Effect(ids[d], h, t + dt, None, name, ids[x]))
            if (h == DOWN or h == OVERLOADED) and depth + 1 <= max_depth:
                visited.add(d)
                stack.append((d, h, depth + 1, t + dt, iter(dependents[d])))
                break
        else:
            stack.pop()
    return effects


def _agent_cross_layer(topo: Topology, target: int, effects: list[Effect]) -> None:
    """SEMANTICS 2.1 step 5: degrade ai_agents that (transitively) depend on a data target."""
    if not topo.agent_positions:
        return
    ttype = topo.components[target].type
    data_target = ttype in ("database", "cache", "storage")
    if not data_target and ttype != "external_api":
        return
    have = {e.component for e in effects}
    reach = set(topo.dependents_closure(target))
    for a in topo.agent_positions:
        agent = topo.components[a]
        if a == target or a not in reach or agent.id in have:
            continue
        if ttype == "external_api" or agent.parameters.get("requires_grounding"):
            effects.append(Effect(agent.id, DEGRADED, 0.0, None, "R-agent",
                                  topo.ids[target]))


def _dijkstra(topo: Topology, start: int, weight: Sequence[float | None]) -> dict[int, float]:
    """Least path weight from ``start`` to each reachable dependent (self-edges skipped)."""
    dist = {start: 0.0}
    heap = [(0.0, start)]
    dependents = topo.dependents
    while heap:
        du, u = heapq.heappop(heap)
        if du > dist[u]:
            continue
        for v, k in dependents[u]:
            w = weight[k]
            if w is None or v == u:
                continue
            nd = du + w
            if nd < dist.get(v, math.inf):
                dist[v] = nd
                heapq.heappush(heap, (nd, v))
    return dist


def _fixpoint(topo: Topology, rs: RuleSet, target: int, health: str, lat0: float | None,
              rule: str = "R1") -> tuple[tuple[Effect, ...], tuple[Effect, ...],
                                         tuple[tuple[str, str], ...]]:
    """cps: H as the least fixpoint by a worklist; L and T by Dijkstra (SEMANTICS 3)."""
    comps, deps, ids, dependents = topo.components, topo.dependencies, topo.ids, topo.dependents
    lat: dict[int, float] = {}
    if lat0 is not None:
        w = [e.latency_ms if e.type == "requires" and not e.circuit_breaker else None
             for e in deps]
        lat = {c: lat0 + v for c, v in _dijkstra(topo, target, w).items()}
    rank = {target: HEALTH_RANK[health]}
    rule_of = {target: rule}
    source_of: dict[int, int | None] = {target: None}
    raw_steps = [(target, health, rule, None)]
    queue = deque([target])
    names = ("healthy", DEGRADED, OVERLOADED, DOWN)
    while queue:
        u = queue.popleft()
        hu = names[rank[u]]
        cu = comps[u]
        lu = lat.get(u)
        for d, k in dependents[u]:
            if d == u:
                continue
            m = first_match(rs, EdgeContext(comps[d], cu, deps[k], hu, lu))
            if m is None or m[1] is None:
                continue
            r = HEALTH_RANK[m[1]]
            if r <= rank.get(d, 0):
                continue
            rank[d] = r
            rule_of[d] = m[0]
            source_of[d] = u
            raw_steps.append((d, m[1], m[0], u))
            queue.append(d)
    times: dict[int, float] = {}
    if topo.has_async_delay:
        times = _dijkstra(topo, target, topo.async_delay_s)
    effects = tuple(
        Effect(ids[c], names[r], times.get(c, 0.0), lat.get(c), rule_of[c],
               None if source_of[c] is None else ids[source_of[c]])  # type: ignore[index]
        for c, r in rank.items())
    steps = tuple(
        Effect(ids[c], h, times.get(c, 0.0), lat.get(c), name, None if s is None else ids[s])
        for c, h, name, s in raw_steps)
    tripped: list[tuple[str, str]] = []
    if topo.has_breakers and any(r.when == "breaker_trips" for r in rs.rules):
        for u in rank:
            for d, k in dependents[u]:
                e = deps[k]
                if e.circuit_breaker and d != u:
                    ctx = EdgeContext(comps[d], comps[u], e, names[rank[u]], lat.get(u))
                    if PREDICATES["breaker_trips"](ctx):
                        tripped.append((ids[d], ids[u]))
    return effects, steps, tuple(tripped)


def _latency_bfs(topo: Topology, slow: int, m: float) -> tuple[list[Effect],
                                                               list[tuple[str, str]]]:
    """faultray-v11's latency cascade (SEMANTICS 2.4): breadth-first, Rules 6 and 7."""
    comps, deps, ids, dependents = topo.components, topo.dependencies, topo.ids, topo.dependents
    slow_lat = comps[slow].timeout_seconds * 1000 * 0.1 * m
    effects = [Effect(ids[slow], DEGRADED, 0.0, slow_lat, "R1", None)]
    tripped: list[tuple[str, str]] = []
    visited = {slow}
    queue: deque[tuple[int, float, int]] = deque()

    def offer(d: int, acc: float, k: int, up: int) -> None:
        timeout_ms = comps[d].timeout_seconds * 1000
        if deps[k].circuit_breaker and acc > timeout_ms:
            effects.append(Effect(ids[d], DEGRADED, 0.0, acc, "R6-trip", ids[up]))
            tripped.append((ids[d], ids[up]))
            visited.add(d)
        else:
            queue.append((d, acc, up))
            visited.add(d)

    for d, k in dependents[slow]:
        if d not in visited:
            offer(d, slow_lat + deps[k].latency_ms, k, slow)
    while queue:
        c, acc, up = queue.popleft()
        timeout_ms = comps[c].timeout_seconds * 1000
        if acc > timeout_ms:
            effects.append(Effect(ids[c], DOWN, 0.0, acc, "R7", ids[up]))
        elif acc > 0.8 * timeout_ms:
            effects.append(Effect(ids[c], DEGRADED, 0.0, acc, "R7-slow", ids[up]))
        else:
            continue
        for n, k in dependents[c]:
            if n not in visited:
                offer(n, acc + deps[k].latency_ms, k, c)
    return effects, tripped


def _check_multiplier(m: float) -> None:
    if isinstance(m, bool) or not isinstance(m, int | float) or not math.isfinite(m) or m <= 0:
        raise InputError(None, "multiplier", f"multiplier must be a positive number, not {m!r}",
                         "use for example 10.0")

"""The traversals that read a rule set: first-come depth-first and least fixpoint.

* :func:`first_come_dfs` (``faultray-v11``, docs: semantics 2.1): one visited set shared by the
  whole run, dependents in edge order, effects appended (a component reached as degraded may get
  a second effect), depth bound ``max_depth``. It walks the rule table compiled onto the edges
  (:func:`~faultray_lab.engine.compile.compile_rules`) and is the same code for one fault
  (:func:`~faultray_lab.engine.cascade.simulate_fault`) and for every fault at once
  (:mod:`faultray_lab.engine.fastpath`).
* :func:`fixpoint` (``cps``, docs: semantics 3): H is the least fixpoint of the rules, computed
  by a worklist that asks the interpreter about each edge; L (latency, ms) and T (time, s) are
  least values over chains, by Dijkstra.
* :func:`agent_cross_layer`: the reference's agent rule (semantics 2.1 step 5), and
  :func:`latency_bfs`: its latency cascade (semantics 2.4).

Components are positions (ints) here; :mod:`faultray_lab.engine.cascade` turns them into ids.

Examples
--------
>>> from faultray_lab import load_topology, demo_topology_path
>>> from faultray_lab.engine.compile import compile_rules, compiled_topology
>>> from faultray_lab.engine.rules import get_ruleset
>>> topo = load_topology(demo_topology_path())
>>> walk = first_come_dfs(compiled_topology(topo),
...                       compile_rules(topo, get_ruleset("faultray-v11")).rank,
...                       topo.index["postgres"], 3, 20)
>>> [topo.ids[c] for c in walk.component]
['postgres', 'tool-db-query', 'support-agent', 'app-1', 'nginx', 'app-2']
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Sequence
from typing import Any, NamedTuple

from ..model.topology import DEGRADED, DOWN, HEALTH_ORDER, HEALTH_RANK, Topology
from .compile import CompiledTopology, topology_cache
from .rules import PREDICATES, EdgeContext, RuleSet, first_match

DATA_TYPES = ("database", "cache", "storage")


class Walk(NamedTuple):
    """The effects of a first-come traversal, in order, as parallel lists.

    Effect 0 is the target's own (``position`` -1); effect ``i`` was produced by the edge at CSR
    position ``position[i]``, from the upstream component's latest effect of rank 2 or more
    before it (the one that expanded it; the target's own for its direct dependents).
    """

    component: list[int]
    rank: list[int]
    position: list[int]


def first_come_dfs(cg: CompiledTopology, rank: Sequence[Sequence[int]], target: int, h0: int,
                   max_depth: int) -> Walk:
    """faultray-v11 propagation from ``target`` injected with rank ``h0`` (1..3).

    ``rank[h][p]`` is the compiled rule table (the dependent's new rank when the upstream of CSR
    position ``p`` has rank ``h``; 0 no effect). A dependent reached as down or overloaded is
    marked visited and expanded (if within ``max_depth`` hops); one reached as degraded is not,
    so a later path may append a second effect for it.
    """
    ptr, dep = cg.ptr, cg.dep
    comp, ranks, pos = [target], [h0], [-1]
    if max_depth < 0:
        return Walk(comp, ranks, pos)
    visited = {target}
    # one stack frame per expanded component: id, rank, depth, next CSR position
    sx, sh, sd, sp = [target], [h0], [0], [ptr[target]]
    while sx:
        p, end, out = sp[-1], ptr[sx[-1] + 1], rank[sh[-1]]
        pushed = False
        while p < end:
            d = dep[p]
            h = out[p]
            p += 1
            if h == 0 or d in visited:
                continue
            comp.append(d)
            ranks.append(h)
            pos.append(p - 1)
            depth = sd[-1] + 1
            if h >= 2 and depth <= max_depth:
                visited.add(d)
                sp[-1] = p
                sx.append(d)
                sh.append(h)
                sd.append(depth)
                sp.append(ptr[d])
                pushed = True
                break
        if not pushed:
            sx.pop()
            sh.pop()
            sd.pop()
            sp.pop()
    return Walk(comp, ranks, pos)


def agent_reach(topology: Topology) -> list[tuple[int, frozenset[int], bool]]:
    """Per ai_agent (cached): its position, every component it reaches over edges of any type,
    and whether its ``requires_grounding`` parameter is set (Python truthiness)."""
    cache = topology_cache(topology)
    if "agents" not in cache:
        out = []
        dof = topology.dependencies_of if topology.agent_positions else ()
        for a in topology.agent_positions:
            seen = {a}
            stack = [a]
            while stack:
                for v, _ in dof[stack.pop()]:
                    if v not in seen:
                        seen.add(v)
                        stack.append(v)
            grounded = bool(topology.components[a].parameters.get("requires_grounding"))
            out.append((a, frozenset(seen), grounded))
        cache["agents"] = out
    return cache["agents"]


def agent_cross_layer(topology: Topology, target: int, affected: Any) -> list[int]:
    """The ai_agents the reference degrades after a fault on ``target`` (semantics 2.1 step 5).

    An agent that reaches the target over any edges and has no effect yet (not in
    ``affected``) is degraded when the target is an external_api, or when it is a database,
    cache or storage and the agent requires grounding. Returned in component order.
    """
    ttype = topology.components[target].type
    if ttype not in DATA_TYPES and ttype != "external_api":
        return []
    return [a for a, reach, grounded in agent_reach(topology)
            if a != target and a not in affected and target in reach
            and (grounded or ttype == "external_api")]


def dijkstra(topo: Topology, start: int, weight: Sequence[float | None]) -> dict[int, float]:
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


class Fixpoint(NamedTuple):
    """The cps state after a fault, by component position.

    ``rank`` (H as ranks, in the order components were first reached), ``rule`` and ``source``
    (the rule and upstream that set each final health), ``steps`` (every rise of H, in order, as
    ``(component, rank, rule, source)``), ``time_s`` (T, where positive), ``latency_ms`` (L, where
    defined) and ``tripped`` (breaker edges as ``(dependent, upstream)``).
    """

    rank: dict[int, int]
    rule: dict[int, str]
    source: dict[int, int | None]
    steps: list[tuple[int, int, str, int | None]]
    time_s: dict[int, float]
    latency_ms: dict[int, float]
    tripped: list[tuple[int, int]]


def fixpoint(topo: Topology, rs: RuleSet, target: int, h0: int, lat0: float | None,
             rule: str = "R1") -> Fixpoint:
    """cps: H as the least fixpoint by a worklist; L and T by Dijkstra (docs: semantics 3).

    Each time a component's health rises, the interpreter (:func:`first_match`) is asked about
    each of its dependent edges (self-edges are ignored); the dependent takes the new health if
    it is worse than its current one.
    """
    comps, deps, dependents = topo.components, topo.dependencies, topo.dependents
    lat: dict[int, float] = {}
    if lat0 is not None:
        w = [e.latency_ms if e.type == "requires" and not e.circuit_breaker else None
             for e in deps]
        lat = {c: lat0 + v for c, v in dijkstra(topo, target, w).items()}
    rank = {target: h0}
    rule_of = {target: rule}
    source_of: dict[int, int | None] = {target: None}
    steps: list[tuple[int, int, str, int | None]] = [(target, h0, rule, None)]
    queue = deque([target])
    while queue:
        u = queue.popleft()
        hu = HEALTH_ORDER[rank[u]]
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
            steps.append((d, r, m[0], u))
            queue.append(d)
    times = dijkstra(topo, target, topo.async_delay_s) if topo.has_async_delay else {}
    return Fixpoint(rank, rule_of, source_of, steps, times, lat,
                    _tripped(topo, rs, rank, lat))


def _tripped(topo: Topology, rs: RuleSet, rank: dict[int, int],
             lat: dict[int, float]) -> list[tuple[int, int]]:
    """Breaker edges out of affected components whose trip condition holds."""
    trips = PREDICATES["breaker_trips"]
    if not topo.has_breakers or not any(r.when is trips for r in rs.rules):
        return []
    comps, deps = topo.components, topo.dependencies
    out = []
    for u in rank:
        for d, k in topo.dependents[u]:
            e = deps[k]
            if e.circuit_breaker and d != u:
                ctx = EdgeContext(comps[d], comps[u], e, HEALTH_ORDER[rank[u]], lat.get(u))
                if trips.fn(ctx):
                    out.append((d, u))
    return out


def latency_bfs(topo: Topology, slow: int, m: float) -> tuple[
        list[tuple[int, int, float, str, int | None]], list[tuple[int, int]]]:
    """faultray-v11's latency cascade (docs: semantics 2.4): breadth-first, Rules 6 and 7.

    Returns the effects as ``(component, rank, latency_ms, rule, source)`` and the tripped
    breakers as ``(dependent, upstream)``.
    """
    comps, deps, dependents = topo.components, topo.dependencies, topo.dependents
    slow_lat = comps[slow].timeout_seconds * 1000 * 0.1 * m
    deg, down = HEALTH_RANK[DEGRADED], HEALTH_RANK[DOWN]
    effects: list[tuple[int, int, float, str, int | None]] = [(slow, deg, slow_lat, "R1", None)]
    tripped: list[tuple[int, int]] = []
    visited = {slow}
    queue: deque[tuple[int, float, int]] = deque()

    def offer(d: int, acc: float, k: int, up: int) -> None:
        visited.add(d)
        if deps[k].circuit_breaker and acc > comps[d].timeout_seconds * 1000:
            effects.append((d, deg, acc, "R6-trip", up))
            tripped.append((d, up))
        else:
            queue.append((d, acc, up))

    for d, k in dependents[slow]:
        if d not in visited:
            offer(d, slow_lat + deps[k].latency_ms, k, slow)
    while queue:
        c, acc, up = queue.popleft()
        timeout_ms = comps[c].timeout_seconds * 1000
        if acc > timeout_ms:
            effects.append((c, down, acc, "R7", up))
        elif acc > 0.8 * timeout_ms:
            effects.append((c, deg, acc, "R7-slow", up))
        else:
            continue
        for n, k in dependents[c]:
            if n not in visited:
                offer(n, acc + deps[k].latency_ms, k, c)
    return effects, tripped

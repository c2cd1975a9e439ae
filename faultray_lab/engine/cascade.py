"""The cascade engine: simulate a fault, a latency cascade or a traffic spike.

The state after a fault is S = (H, L, T, V): health, accumulated latency (ms), time (s) and
the affected set. Two traversals read a rule set (:mod:`faultray_lab.engine.traversal`):
``first-come-dfs`` (rule set ``faultray-v11``, the released reference, docs: semantics 2) and
``fixpoint`` (rule set ``cps``, docs: semantics 3). The result is a
:class:`~faultray_lab.engine.effects.Cascade` with its labeled transition trace.

Examples
--------
>>> from faultray_lab import load_topology, demo_topology_path
>>> topo = load_topology(demo_topology_path())
>>> c = simulate_fault(topo, "postgres", rules="faultray-v11")
>>> sorted(c.health), c.severity
(['app-1', 'app-2', 'nginx', 'postgres', 'support-agent', 'tool-db-query'], 5.3)
"""

from __future__ import annotations

import math

from ..common.errors import InputError
from ..model.topology import (
    DEGRADED,
    DOWN,
    HEALTH_ORDER,
    HEALTH_RANK,
    OVERLOADED,
    Topology,
    check_topology,
)
from .compile import compile_rules, compiled_topology
from .effects import Cascade, Effect
from .faults import (
    FAULT_EFFECTS,
    check_fault_type,
    fault_likelihood,
    latency_cascade_likelihood,
    traffic_likelihood,
)
from .merge import merge_worst
from .rules import RuleSet, get_ruleset
from .traversal import Fixpoint, agent_cross_layer, first_come_dfs, fixpoint, latency_bfs


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
        A fault type of :data:`faultray_lab.engine.faults.FAULT_TYPES`.
    rules : str or RuleSet
        ``"cps"`` (default, semantics 3) or ``"faultray-v11"`` (the released reference).
    max_depth : int
        faultray-v11's depth bound (effects reach ``max_depth + 1`` hops); cps has none.
    multiplier : float
        For ``latency_spike`` under cps: L(target) = 100 * multiplier * timeout_seconds ms.
    annotate_agents : bool
        Add each affected ai_agent's hallucination probability H (docs: semantics 5) as
        ``Cascade.agent_hallucination`` (see :mod:`faultray_lab.engine.agents`).

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
    check_topology(topology)
    rs = get_ruleset(rules)
    check_fault_type(fault, topology.source)
    t = _position(topology, component_id)
    if isinstance(max_depth, bool) or not isinstance(max_depth, int) or max_depth < 0:
        raise InputError(None, "max_depth", f"max_depth must be a whole number >= 0, not "
                         f"{max_depth!r}", "use the default 20")
    comp = topology.components[t]
    health, t0 = FAULT_EFFECTS[fault]
    likelihood = fault_likelihood(comp, fault)
    if rs.traversal == "first-come-dfs":
        effects = _first_come_effects(topology, rs, t, HEALTH_RANK[health], t0, max_depth)
        return Cascade((component_id,), fault, rs.name, effects, likelihood, len(topology),
                       effects)
    lat0 = None
    if fault == "latency_spike":
        _check_multiplier(multiplier)
        lat0 = 100.0 * multiplier * comp.timeout_seconds
    effects, steps, tripped = _fixpoint_effects(
        topology, fixpoint(topology, rs, t, HEALTH_RANK[health], lat0))
    return Cascade((component_id,), fault, rs.name, effects, likelihood, len(topology),
                   steps, tripped, multiplier if fault == "latency_spike" else None)


def _position(topology: Topology, component_id: str) -> int:
    t = topology.index.get(component_id) if isinstance(component_id, str) else None
    if t is None:
        topology.component(component_id)  # raises with a suggestion
    return t  # type: ignore[return-value]


def _first_come_effects(topo: Topology, rs: RuleSet, t: int, h0: int, t0: float,
                        max_depth: int) -> tuple[Effect, ...]:
    """faultray-v11: the compiled traversal's walk as labeled effects, then the agent rule."""
    table = compile_rules(topo, rs)
    walk = first_come_dfs(compiled_topology(topo), table.rank, t, h0, max_depth)
    ids, edge_src = topo.ids, compiled_topology(topo).src
    times = [t0]
    expanded = {t: 0}  # component -> its latest effect that can expand it (see Walk)
    effects = [Effect(ids[t], HEALTH_ORDER[h0], t0, None, "R1", None)]
    for i in range(1, len(walk.component)):
        p = walk.position[i]
        up = int(edge_src[p])
        par = expanded[up]
        hp = walk.rank[par]
        times.append(times[par] + table.dt[hp][p])
        effects.append(Effect(ids[walk.component[i]], HEALTH_ORDER[walk.rank[i]], times[i],
                              None, table.rule_name(hp, p), ids[up]))
        if walk.rank[i] >= 2:
            expanded[walk.component[i]] = i
    for a in agent_cross_layer(topo, t, set(walk.component)):
        effects.append(Effect(ids[a], DEGRADED, 0.0, None, "R-agent", ids[t]))
    return tuple(effects)


def _fixpoint_effects(topo: Topology, fp: Fixpoint) -> tuple[
        tuple[Effect, ...], tuple[Effect, ...], tuple[tuple[str, str], ...]]:
    """cps: one effect per affected component (final H, T, L), the trace and the breakers."""
    ids = topo.ids

    def name(c: int | None) -> str | None:
        return None if c is None else ids[c]

    effects = tuple(Effect(ids[c], HEALTH_ORDER[r], fp.time_s.get(c, 0.0), fp.latency_ms.get(c),
                           fp.rule[c], name(fp.source[c])) for c, r in fp.rank.items())
    steps = tuple(Effect(ids[c], HEALTH_ORDER[r], fp.time_s.get(c, 0.0), fp.latency_ms.get(c),
                         rule, name(s)) for c, r, rule, s in fp.steps)
    return effects, steps, tuple((ids[d], ids[u]) for d, u in fp.tripped)


def simulate_latency_cascade(
    topology: Topology, component_id: str, multiplier: float = 10.0,
    rules: str | RuleSet = "cps",
) -> Cascade:
    """A slow component's latency cascade (semantics 2.4; under cps, a latency_spike fault).

    Examples
    --------
    >>> from faultray_lab import load_topology, demo_topology_path
    >>> topo = load_topology(demo_topology_path())
    >>> c = simulate_latency_cascade(topo, "postgres", rules="faultray-v11")
    >>> c.health["postgres"], c.latency_ms["postgres"]
    ('degraded', 30000.0)
    """
    check_topology(topology)
    rs = get_ruleset(rules)
    _check_multiplier(multiplier)
    t = _position(topology, component_id)
    like = latency_cascade_likelihood(multiplier)
    if rs.traversal == "fixpoint":
        c = simulate_fault(topology, component_id, "latency_spike", rs, multiplier=multiplier)
        return Cascade(c.targets, "latency_cascade", rs.name, c.effects, like, c.total_components,
                       c.steps, c.tripped_breakers, multiplier)
    raw, tripped = latency_bfs(topology, t, multiplier)
    ids = topology.ids
    effects = tuple(Effect(ids[c], HEALTH_ORDER[r], 0.0, lat, rule, None if s is None else ids[s])
                    for c, r, lat, rule, s in raw)
    return Cascade((component_id,), "latency_cascade", rs.name, effects, like, len(topology),
                   effects, tuple((ids[d], ids[u]) for d, u in tripped), multiplier)


def simulate_traffic_spike(
    topology: Topology, multiplier: float, rules: str | RuleSet = "cps",
) -> Cascade:
    """A traffic spike of ``multiplier`` times the current load (docs: semantics 2.3).

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
    check_topology(topology)
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
        effects, steps, tripped = _fixpoint_effects(topology, fixpoint(
            topology, rs, topology.index[e.component], HEALTH_RANK[e.health], None,
            rule="R1-traffic"))
        parts.append(Cascade((e.component,), "traffic_spike", rs.name, effects, like,
                             len(topology), steps, tripped))
    merged = merge_worst(parts, likelihood=like, fault="traffic_spike")
    return Cascade((), "traffic_spike", rs.name, merged.effects, like, len(topology),
                   merged.steps, merged.tripped_breakers, multiplier)



def _check_multiplier(m: float) -> None:
    if isinstance(m, bool) or not isinstance(m, int | float) or not math.isfinite(m) or m <= 0:
        raise InputError(None, "multiplier", f"multiplier must be a positive number, not {m!r}",
                         "use for example 10.0")

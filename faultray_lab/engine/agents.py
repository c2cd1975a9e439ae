"""The hallucination model H(a, D, I) of AI agents (docs: semantics 5), as pure functions.

An agent with base risk ``h0`` (its ``hallucination_risk`` parameter, default 0.05) reads data
sources; an unhealthy source ``d`` with weight ``w`` contributes ``h_d = h0 + (1 - h0) w f`` with
``f`` = 1 (down), ``delta`` = 0.5 (degraded) or ``omega`` = 0.3 (overloaded), and
``H = 1 - prod(1 - h_d)`` over the unhealthy sources (``h0`` when all are healthy). An agent fed
by another agent: ``H_eff = 1 - (1 - H_target)(1 - gamma H_source)``; a chain of agents:
``1 - prod(1 - p_i)``.

:func:`annotate_agents` puts each affected agent's H on a
:class:`~faultray_lab.engine.effects.Cascade` (``simulate_fault(..., annotate_agents=True)``
calls it): under ``cps`` from the health and edge weight of the agent's own data sources (its
direct dependencies); under ``faultray-v11`` as the reference's cross-layer rule.

Examples
--------
>>> round(hallucination_probability(0.05, [("down", 0.6)]), 6)
0.62
>>> round(agent_to_agent(0.05, 0.3, gamma=0.5), 6)
0.1925
>>> round(chain_hallucination([0.05, 0.05, 0.05]), 6)
0.142625
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from ..common.errors import InputError
from ..model.topology import Component, Topology

DEFAULT_H0 = 0.05
DELTA = 0.5   # degraded source factor
OMEGA = 0.3   # overloaded source factor
#: faultray-v11 cross-layer rule: weight of a failed grounding store / external API.
CROSS_LAYER_WEIGHTS = {"grounding": 1.0, "external_api": 0.8}
GROUNDING_TYPES = ("database", "cache", "storage")
_HEALTHS = ("healthy", "degraded", "overloaded", "down")


def _prob(value: Any, name: str, where: str | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(where, name, f"{name} must be a number in [0, 1], not {value!r}",
                         "a probability is between 0 and 1")
    v = float(value)
    if math.isnan(v) or not 0.0 <= v <= 1.0:
        raise InputError(where, name, f"{name} must be in [0, 1], not {value!r}",
                         "a probability is between 0 and 1")
    return v


def source_hallucination(h0: float, health: str, weight: float = 1.0, *,
                         delta: float = DELTA, omega: float = OMEGA) -> float | None:
    """``h_d`` of one data source (None for a healthy one). The weight is clamped to [0, 1].

    >>> round(source_hallucination(0.05, "degraded", 0.6), 6)
    0.335
    >>> source_hallucination(0.05, "healthy") is None
    True
    """
    h0 = _prob(h0, "h0")
    if health not in _HEALTHS:
        raise InputError(None, "health", f"unknown health {health!r}",
                         f"use one of {', '.join(_HEALTHS)}")
    if isinstance(weight, bool) or not isinstance(weight, int | float) or math.isnan(weight):
        raise InputError(None, "weight", f"weight must be a number, not {weight!r}",
                         "use a weight in [0, 1]")
    w = min(1.0, max(0.0, float(weight)))
    factor = {"healthy": None, "down": 1.0, "degraded": _prob(delta, "delta"),
              "overloaded": _prob(omega, "omega")}[health]
    if factor is None:
        return None
    return h0 + (1.0 - h0) * w * factor


def hallucination_probability(h0: float, sources: Iterable[tuple[str, float]], *,
                              delta: float = DELTA, omega: float = OMEGA) -> float:
    """H(a, D, I) from ``(health, weight)`` pairs of the agent's data sources.

    Parameters
    ----------
    h0 : float
        The agent's base hallucination risk, in [0, 1].
    sources : iterable of (health, weight)
    delta, omega : float
        Factors of degraded and overloaded sources.

    Returns
    -------
    float
        ``1 - prod(1 - h_d)`` over the unhealthy sources, or ``h0`` when all are healthy.

    Examples
    --------
    >>> hallucination_probability(0.05, [("down", 1.0)])
    1.0
    >>> round(hallucination_probability(0.05, [("degraded", 0.0), ("degraded", 0.0)]), 6)
    0.0975
    >>> hallucination_probability(0.05, [("healthy", 1.0)])
    0.05
    """
    h0 = _prob(h0, "h0")
    terms = [h for health, w in sources
             if (h := source_hallucination(h0, health, w, delta=delta, omega=omega)) is not None]
    if not terms:
        return h0
    return min(1.0, max(0.0, 1.0 - math.prod(1.0 - h for h in terms)))


def agent_to_agent(h_target: float, h_source: float, gamma: float = 1.0) -> float:
    """Effective H of an agent that consumes another agent's output.

    ``H_eff = 1 - (1 - H_target)(1 - H_source * gamma)``; ``gamma`` in [0, 1] is the share of
    the source's hallucinations that pass unchecked.

    >>> round(agent_to_agent(0.05, 0.3), 6)
    0.335
    """
    t = _prob(h_target, "h_target")
    s = _prob(h_source, "h_source")
    g = _prob(gamma, "gamma")
    return min(1.0, max(0.0, 1.0 - (1.0 - t) * (1.0 - s * g)))


def chain_hallucination(probabilities: Iterable[float]) -> float:
    """Probability that at least one agent of a chain hallucinates, ``1 - prod(1 - p_i)``.

    >>> chain_hallucination([])
    0.0
    """
    ps = [_prob(p, f"probabilities[{i}]") for i, p in enumerate(probabilities)]
    return min(1.0, max(0.0, 1.0 - math.prod(1.0 - p for p in ps)))


def base_risk(agent: Component, source: str | None = None) -> float:
    """The agent's ``hallucination_risk`` parameter (default 0.05), validated."""
    raw = agent.parameters.get("hallucination_risk", DEFAULT_H0)
    return _prob(raw, f"components (id '{agent.id}').parameters.hallucination_risk", source)


def agent_hallucination(topology: Topology, agent_id: str, health: Mapping[str, str], *,
                        delta: float = DELTA, omega: float = OMEGA) -> float:
    """H of one agent from the health of its direct dependencies and their edge weights.

    Components absent from ``health`` are healthy; self-edges are ignored.

    Examples
    --------
    >>> from faultray_lab import load_topology, demo_topology_path
    >>> topo = load_topology(demo_topology_path())
    >>> round(agent_hallucination(topo, "support-agent", {"tool-db-query": "down"}), 6)
    0.81
    """
    agent = topology.component(agent_id)
    a = topology.index[agent_id]
    sources = [(health.get(topology.ids[d], "healthy"), topology.dependencies[k].weight)
               for d, k in topology.dependencies_of[a] if d != a]
    return hallucination_probability(base_risk(agent, topology.source), sources,
                                     delta=delta, omega=omega)


def cross_layer_hallucination(topology: Topology, target_id: str) -> dict[str, float]:
    """faultray-v11's cross-layer rule: H of the agents that (transitively, over edges of any
    type) depend on a failed component.

    An agent with ``requires_grounding`` set (Python truthiness of the raw parameter) and a failed
    database, cache or storage gets ``h0 + (1 - h0) * 1.0``; any agent above a failed
    external_api gets ``h0 + (1 - h0) * 0.8``; other agents get nothing.

    >>> from faultray_lab import load_topology, demo_topology_path
    >>> cross_layer_hallucination(load_topology(demo_topology_path()), "postgres")
    {'support-agent': 1.0}
    """
    target = topology.component(target_id)
    t = topology.index[target_id]
    reach: set[int] = set()
    stack = [t]
    while stack:
        u = stack.pop()
        for d, _ in topology.dependents[u]:
            if d not in reach:
                reach.add(d)
                stack.append(d)
    out: dict[str, float] = {}
    for a in topology.agent_positions:
        if a not in reach:
            continue
        agent = topology.components[a]
        h0 = base_risk(agent, topology.source)
        if target.type in GROUNDING_TYPES and agent.parameters.get("requires_grounding"):
            w = CROSS_LAYER_WEIGHTS["grounding"]
        elif target.type == "external_api":
            w = CROSS_LAYER_WEIGHTS["external_api"]
        else:
            continue
        out[agent.id] = min(1.0, h0 + (1.0 - h0) * w)
    return out


def propagate_agent_hallucination(topology: Topology, hallucination: Mapping[str, float], *,
                                  gamma: float | None = None, tol: float = 1e-15,
                                  max_rounds: int = 10_000) -> dict[str, float]:
    """Agent-to-agent propagation over agent -> agent edges, to a fixpoint.

    ``H_eff(a) = 1 - (1 - H(a)) * prod over agents b that a depends on and that appear in
    ``hallucination`` of (1 - gamma_a H_eff(b))``, with ``gamma_a`` the agent's
    ``amplification_factor`` parameter (default 1) unless ``gamma`` is given. On a chain this is
    :func:`chain_hallucination`; on a cycle the values rise monotonically to the least fixpoint.

    >>> from faultray_lab import topology_from_dict
    >>> t = topology_from_dict({"components": [{"id": i, "type": "ai_agent"} for i in "abc"],
    ...     "dependencies": [{"source": "b", "target": "a"}, {"source": "c", "target": "b"}]})
    >>> round(propagate_agent_hallucination(t, {"a": .05, "b": .05, "c": .05})["c"], 6)
    0.142625
    """
    base = {a: _prob(h, f"hallucination[{a!r}]") for a, h in hallucination.items()}
    for a in base:
        topology.component(a)
    g_fixed = None if gamma is None else _prob(gamma, "gamma")
    ups: dict[str, list[str]] = {}
    gam: dict[str, float] = {}
    for a in base:
        i = topology.index[a]
        ups[a] = [topology.ids[d] for d, _ in topology.dependencies_of[i]
                  if d != i and topology.ids[d] in base
                  and topology.components[d].type in ("ai_agent", "agent_orchestrator")]
        comp = topology.components[i]
        gam[a] = g_fixed if g_fixed is not None else _prob(
            comp.parameters.get("amplification_factor", 1.0),
            f"components (id '{a}').parameters.amplification_factor", topology.source)
    cur = dict(base)
    for _ in range(max_rounds):
        nxt = {a: 1.0 - (1.0 - base[a]) * math.prod(1.0 - gam[a] * cur[b] for b in ups[a])
               for a in base}
        if max((abs(nxt[a] - cur[a]) for a in base), default=0.0) <= tol:
            return {a: min(1.0, max(0.0, v)) for a, v in nxt.items()}
        cur = nxt
    return {a: min(1.0, max(0.0, v)) for a, v in cur.items()}


def annotate_agents(topology: Topology, cascade: Any) -> Any:
    """Return ``cascade`` with ``agent_hallucination = {agent id: H}`` for its affected agents.

    Under ``cps``: H of each affected ai_agent from the health and edge weight of its direct
    dependencies (:func:`agent_hallucination`). Under ``faultray-v11``: the reference's
    cross-layer rule (:func:`cross_layer_hallucination`) for the fault's target; an affected
    agent the rule does not cover keeps its base risk ``h0``.

    Examples
    --------
    >>> from faultray_lab import load_topology, demo_topology_path, simulate_fault
    >>> topo = load_topology(demo_topology_path())
    >>> simulate_fault(topo, "postgres", annotate_agents=True).agent_hallucination
    {'support-agent': 0.81}
    >>> simulate_fault(topo, "postgres", rules="faultray-v11",
    ...                annotate_agents=True).agent_hallucination
    {'support-agent': 1.0}
    """
    health = cascade.health
    agents = [topology.ids[a] for a in topology.agent_positions if topology.ids[a] in health]
    out: dict[str, float] = {}
    if cascade.rules == "faultray-v11":
        cross: dict[str, float] = {}
        for t in cascade.targets:
            for a, h in cross_layer_hallucination(topology, t).items():
                cross[a] = max(h, cross.get(a, 0.0))
        for a in agents:
            out[a] = cross.get(a, base_risk(topology.component(a), topology.source))
    else:
        for a in agents:
            out[a] = agent_hallucination(topology, a, health)
    return replace(cascade, agent_hallucination=out)

"""The default failure scenarios of the reference generator, generated lazily.

The generator reproduces the reference's default scenario list in its exact order and naming
(docs: semantics 2.5 and 7, agent scenarios included). It is lazy: :func:`iter_scenarios` walks
the categories as blocks of known size, so a capped sweep never builds the full pair list and a
worker can start at any scenario index.

Examples
--------
>>> from faultray_lab import load_topology, demo_topology_path
>>> topo = load_topology(demo_topology_path())
>>> scenarios = generate_scenarios(topo)
>>> len(scenarios), scenarios[0].id, scenarios[-1].id
(255, 'single-failure-nginx', 'cascade-ratelimit-llm-endpoint')
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..model.topology import Topology

#: Scenario classes by risk (docs: semantics 2.5).
CRITICAL_RISK = 7.0
WARNING_RISK = 4.0


@dataclass(frozen=True)
class Scenario:
    """One failure scenario: faults injected together, optionally under a traffic spike.

    Parameters
    ----------
    id : str
        The reference's scenario id, e.g. ``single-failure-postgres``.
    faults : tuple of (component id, fault type)
        Each runs alone from an all-healthy state; the chains are then merged.
    traffic_multiplier : float
        A traffic-spike chain runs first when this is above 1.

    Examples
    --------
    >>> Scenario("pair-a-b", (("a", "component_down"), ("b", "component_down"))).targets
    ('a', 'b')
    """

    id: str
    faults: tuple[tuple[str, str], ...] = ()
    traffic_multiplier: float = 1.0

    @property
    def targets(self) -> tuple[str, ...]:
        """The faulted component ids, in fault order."""
        return tuple(c for c, _ in self.faults)

    def describe(self) -> str:
        """The faults as ``fault:component`` joined by ``+`` (``-`` for none)."""
        return "+".join(f"{f}:{c}" for c, f in self.faults) or "-"


def risk_class(risk: float) -> str:
    """``critical`` (>= 7), ``warning`` (>= 4) or ``passed`` (docs: semantics 2.5).

    >>> risk_class(7.0), risk_class(6.9), risk_class(3.99)
    ('critical', 'warning', 'passed')
    """
    return "critical" if risk >= CRITICAL_RISK else "warning" if risk >= WARNING_RISK else "passed"


# ---------------------------------------------------------------------------------------------
# The generator: categories as blocks of known size (docs: semantics 7)
# ---------------------------------------------------------------------------------------------
_Block = tuple[int, Callable[[int, int], Iterator[Scenario]]]

_TYPE_RANK = {"database": 6, "cache": 5, "dns": 5, "queue": 4, "storage": 4, "app_server": 3,
              "web_server": 3, "load_balancer": 2}


def _list_block(items: Callable[[], list[Scenario]], count: int) -> _Block:
    return count, lambda a, b: iter(items()[a:b])


def _single(prefix: str, fault: str, ids: Sequence[str], mult: float = 1.0) -> _Block:
    def make(a: int, b: int) -> Iterator[Scenario]:
        for c in ids[a:b]:
            yield Scenario(f"{prefix}-{c}", ((c, fault),), mult)
    return len(ids), make


def _pairs(ids: Sequence[str]) -> _Block:
    n = len(ids)

    def make(a: int, b: int) -> Iterator[Scenario]:
        # unrank a -> (i, j) in itertools.combinations order
        i, rest = 0, a
        while i < n and rest >= n - 1 - i:
            rest -= n - 1 - i
            i += 1
        j = i + 1 + rest
        for _ in range(b - a):
            x, y = ids[i], ids[j]
            yield Scenario(f"pair-{x}-{y}", ((x, "component_down"), (y, "component_down")))
            j += 1
            if j >= n:
                i += 1
                j = i + 1
    return n * (n - 1) // 2, make


class _Groups(NamedTuple):
    """The component groups the categories iterate over (docs: semantics 7)."""

    comps: tuple[Any, ...]
    ids: list[str]
    dbs: list[str]
    caches: list[str]
    lbs: list[str]
    queues: list[str]
    stores: list[str]
    dnss: list[str]
    exts: list[str]
    apps: list[str]  # app servers, then web servers
    db_rep: list[str]
    zones: list[tuple[str, list[str]]]  # hosts holding two or more components


def _groups(topology: Topology) -> _Groups:
    comps = topology.components

    def of(*types: str) -> list[str]:
        return [c.id for c in comps if c.type in types]

    hosts: dict[str, list[str]] = {}
    for c in comps:
        hosts.setdefault(c.host or "unknown", []).append(c.id)
    return _Groups(comps, list(topology.ids), of("database"), of("cache"), of("load_balancer"),
                   of("queue"), of("storage"), of("dns"), of("external_api"),
                   of("app_server") + of("web_server"),
                   [c.id for c in comps if c.type == "database" and c.replicas > 1],
                   [(h, m) for h, m in hosts.items() if len(m) >= 2])


def _scenario(sid: str, faults: Sequence[tuple[str, str]], mult: float = 1.0) -> Scenario:
    return Scenario(sid, tuple(faults), mult)


def _fault_blocks(g: _Groups) -> list[_Block]:
    """Categories 1-10: single faults of each kind, traffic spikes, pairs, small triples."""
    ids = g.ids
    blocks: list[_Block] = [
        _single("single-failure", "component_down", ids),
        _single("cpu-saturation", "cpu_saturation", ids),
        _single("oom", "memory_exhaustion", ids),
        _single("pool-exhaustion", "connection_pool_exhaustion", g.dbs + g.apps + g.caches),
        _single("disk-full", "disk_full", g.dbs + g.stores + g.apps + g.queues),
        _single("net-partition", "network_partition", ids),
        _single("latency-5x", "latency_spike", ids),
        _single("latency-20x", "latency_spike", g.dbs),
        _list_block(lambda: [_scenario(f"traffic-{m}x", (), float(m))
                             for m in ("1.5", "2", "3", "5", "10")], 5),
        _pairs(ids),
    ]
    if len(ids) <= 10:
        triples = list(itertools.combinations(ids, 3))
        blocks.append(_list_block(lambda: [
            _scenario(f"triple-{a}-{b}-{c}", [(x, "component_down") for x in (a, b, c)])
            for a, b, c in triples], len(triples)))
    return blocks


def _per_type_blocks(g: _Groups) -> list[_Block]:
    """Categories 11-20: traffic on failures, zones, and the per-type scenarios."""
    def per(items: Sequence[str], kinds: Sequence[tuple[str, str]]) -> _Block:
        return _list_block(lambda: [_scenario(f"{name}-{x}", [(x, fault)]) for x in items
                                    for name, fault in kinds], len(items) * len(kinds))

    return [
        _list_block(lambda: [_scenario(f"stampede-{c}-{m:.1f}x", [(c, "component_down")], m)
                             for c in g.caches for m in (2.0, 5.0)], 2 * len(g.caches)),
        _list_block(lambda: [_scenario(f"down-traffic-{c}-{m:.1f}x", [(c, "component_down")], m)
                             for c in g.ids for m in (2.0, 3.0)], 2 * len(g.ids)),
        _list_block(lambda: [_scenario(f"zone-failure-{h}", [(c, "component_down") for c in m])
                             for h, m in g.zones], len(g.zones)),
        per(g.dbs, (("log-explosion", "disk_full"), ("replication-lag", "latency_spike"),
                    ("connection-storm", "connection_pool_exhaustion"),
                    ("lock-contention", "latency_spike"))),
        per(g.queues, (("queue-backpressure", "disk_full"),
                       ("poison-message", "latency_spike"))),
        per(g.lbs, (("healthcheck-fail", "component_down"), ("tls-expiry", "component_down"),
                    ("config-reload", "component_down"))),
        per(g.apps, (("memory-leak", "memory_exhaustion"),
                     ("thread-exhaustion", "connection_pool_exhaustion"),
                     ("gc-pause", "latency_spike"), ("bad-deploy", "component_down"))),
        per(g.caches, (("eviction-storm", "memory_exhaustion"),
                       ("cache-split-brain", "network_partition"))),
        per(g.dnss, (("dns-failure", "component_down"), ("dns-latency", "latency_spike"))),
        per(g.stores, (("io-throttle", "latency_spike"), ("data-corruption", "component_down"))),
    ]


def _partitions(g: _Groups) -> list[Scenario]:
    """Category 27: network partitions between the tiers."""
    out = []
    if g.apps and g.dbs:
        out.append(_scenario("partition-app-db", [(d, "network_partition") for d in g.dbs]))
    if g.apps and g.caches:
        out.append(_scenario("partition-app-cache",
                             [(c, "network_partition") for c in g.caches]))
    if g.lbs and g.apps:
        if len(g.lbs) > 1:
            out += [_scenario(f"partition-{lb}-app", [(lb, "component_down")]) for lb in g.lbs]
        out.append(_scenario("partition-lb-app", [(a, "network_partition") for a in g.apps]))
    return out


def _tail_scenarios(g: _Groups, topology: Topology) -> list[list[Scenario]]:
    """Categories 21-32 and the agent scenarios, each category as a list."""
    s, apps, dbs, n = _scenario, g.apps, g.dbs, len(g.ids)
    tail: list[list[Scenario]] = []
    if dbs and apps:
        tail.append([s("cascading-timeout", [(d, "latency_spike") for d in dbs])])
    if n >= 3:
        k = min(3, max(2, n // 3))
        ranked = sorted(g.comps, key=lambda c: _TYPE_RANK.get(c.type, 1), reverse=True)[:k]
        tail.append([s("total-meltdown", [(c, "component_down") for c in g.ids]),
                     s("cascading-meltdown", [(c.id, "component_down") for c in ranked])])
    tail.append([s(f"noisy-neighbor-{a}", [(a, "cpu_saturation")]) for a in apps])
    tail.append([s(f"slow-db-peak-{d}", [(d, "latency_spike")], 3.0) for d in dbs])
    if len(apps) >= 2:
        k = min(max(1, len(apps) // 4), len(apps) - 1)
        tail.append([s("rolling-restart-fail", [(a, "component_down") for a in apps[:k]])])
    tail.append([s(f"{name}-{x}", [(x, fault)]) for x in g.exts for name, fault in
                 (("external-timeout", "latency_spike"), ("external-down", "component_down"))])
    tail.append(_partitions(g))
    tail.append([s(f"resource-exhaustion-{a}", [(a, "cpu_saturation"),
                                                 (a, "memory_exhaustion")]) for a in apps])
    tail.append([s(f"cascading-timeout-{c.id}", [(c.id, "latency_spike")])
                 for c in g.comps if c.timeout_seconds > 0])
    tail.append([s(f"sustained-degradation-{a}", [(a, "cpu_saturation"),
                                                   (a, "memory_exhaustion")]) for a in apps])
    tail.append([s(f"primary-failover-{d}", [(d, "component_down")]) for d in g.db_rep])
    if n >= 1:
        tail.append([s("black-friday", [(c, "memory_exhaustion") for c in g.caches], 10.0)])
    tail.append(_agent_scenarios(topology))
    return tail


def _blocks(topology: Topology) -> list[_Block]:
    """The categories of the default generator in order, each as (count, make(start, stop))."""
    g = _groups(topology)
    tail = [_list_block(lambda items=items: items, len(items))
            for items in _tail_scenarios(g, topology)]
    return _fault_blocks(g) + _per_type_blocks(g) + tail


_AGENT_FAULTS = {
    "ai_agent": ("agent", ("hallucination", "context_overflow", "agent_loop")),
    "llm_endpoint": ("llm", ("llm_rate_limit", "token_exhaustion", "component_down")),
    "tool_service": ("tool", ("tool_failure", "component_down", "latency_spike")),
    "agent_orchestrator": ("orch", ("agent_loop", "component_down", "context_overflow")),
}


def _agent_scenarios(topology: Topology) -> list[Scenario]:
    """Agent scenarios (docs: semantics 7), only when an agent-type component exists."""
    comps = topology.components
    if not any(c.type in _AGENT_FAULTS for c in comps):
        return []
    out = []
    for c in comps:
        if c.type in _AGENT_FAULTS:
            prefix, faults = _AGENT_FAULTS[c.type]
            out += [Scenario(f"{prefix}-{f}-{c.id}", ((c.id, f),)) for f in faults]
    out += [Scenario(f"cross-layer-{c.id}-down", ((c.id, "component_down"),))
            for c in comps if c.type in ("database", "cache", "storage")]
    llms = [c.id for c in comps if c.type == "llm_endpoint"]
    if len(llms) >= 2:
        out.append(Scenario("all-llm-down", tuple((x, "component_down") for x in llms)))
    agents = [c.id for c in comps if c.type == "ai_agent"]
    out += [Scenario(f"prompt-injection-{a}", ((a, "prompt_injection"),)) for a in agents]
    idx = topology.index
    targeted = {e.target for e in topology.dependencies
                if comps[idx[e.source]].type == "ai_agent"}
    out += [Scenario(f"cascade-ratelimit-{x}", ((x, "llm_rate_limit"),))
            for x in llms if x in targeted]
    return out


def count_scenarios(topology: Topology) -> int:
    """The number of default scenarios, without generating them.

    >>> from faultray_lab import load_topology, demo_topology_path
    >>> count_scenarios(load_topology(demo_topology_path()))
    255
    """
    return sum(count for count, _ in _blocks(topology))


def iter_scenarios(topology: Topology, start: int = 0,
                   stop: int | None = None) -> Iterator[Scenario]:
    """The default scenarios ``start <= i < stop`` in generation order, generated lazily.

    Blocks before ``start`` are skipped without being generated, so any slice is cheap.

    >>> from faultray_lab import load_topology, demo_topology_path
    >>> [s.id for s in iter_scenarios(load_topology(demo_topology_path()), 54, 56)]
    ['traffic-1.5x', 'traffic-2x']
    """
    pos = 0
    for count, make in _blocks(topology):
        lo, hi = pos, pos + count
        pos = hi
        if stop is not None and lo >= stop:
            return
        if hi <= start:
            continue
        a = max(start, lo) - lo
        b = (count if stop is None else min(stop, hi) - lo)
        yield from make(a, b)


def generate_scenarios(topology: Topology) -> list[Scenario]:
    """All default scenarios of the reference generator, in its exact order and naming.

    Parameters
    ----------
    topology : Topology

    Returns
    -------
    list of Scenario
        The 32 default categories (docs: semantics 7) followed by the agent scenarios.

    Examples
    --------
    >>> from faultray_lab import load_topology, demo_topology_path
    >>> s = generate_scenarios(load_topology(demo_topology_path()))
    >>> s[9].id, s[9].faults
    ('cpu-saturation-nginx', (('nginx', 'cpu_saturation'),))
    """
    return list(iter_scenarios(topology))

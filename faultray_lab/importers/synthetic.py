"""Seeded synthetic layered topologies for benchmarks and scaling experiments.

Layers, from the entry points down: load balancers -> web servers -> app servers -> data stores
(databases, caches, queues, storage, external APIs) -> shared infrastructure (platform services,
then DNS). Edges only go to later layers, so the graph is a DAG; the shared layer has a large
fan-in, as real platforms do. The average out-degree is ``degree`` (default 3).

Examples
--------
>>> topo = layered_topology(200, seed=1)
>>> len(topo), round(len(topo.dependencies) / len(topo), 1)
(200, 3.0)
>>> layered_topology(200, seed=1) == topo
True
"""

from __future__ import annotations

import random

from ..common.validate import MAX_INT, check_count, check_number, check_probability
from ..model.topology import Component, Dependency, Topology

#: Largest synthetic topology (components).
MAX_COMPONENTS = 1_000_000

# (id prefix, component type, share of n)
LAYERS: tuple[tuple[str, str, float], ...] = (
    ("lb", "load_balancer", 0.03),
    ("web", "web_server", 0.15),
    ("app", "app_server", 0.35),
    ("db", "database", 0.10),
    ("cache", "cache", 0.09),
    ("queue", "queue", 0.06),
    ("stor", "storage", 0.06),
    ("ext", "external_api", 0.04),
    ("infra", "custom", 0.10),
    ("dns", "dns", 0.02),
)
# for each source type: (target types, edge type) options, tried in order of preference
_TARGETS: dict[str, tuple[tuple[tuple[str, ...], str], ...]] = {
    "load_balancer": ((("web_server",), "requires"),),
    "web_server": ((("app_server",), "requires"), (("cache",), "optional")),
    "app_server": ((("database",), "requires"), (("cache",), "optional"),
                   (("queue",), "async"), (("storage", "external_api"), "optional")),
    "database": ((("storage",), "optional"),),
    "cache": (),
    "queue": (),
    "storage": (),
    "external_api": (),
    "custom": ((("dns",), "requires"),),
    "dns": (),
}


def layered_topology(n: int, seed: int = 0, degree: float = 3.0, p_single: float = 0.5,
                     async_latency_ms: float = 2500.0) -> Topology:
    """A seeded layered topology of ``n`` components and about ``degree * n`` edges.

    Parameters
    ----------
    n : int
        Number of components, from 10 to :data:`MAX_COMPONENTS`.
    seed : int
        Random seed; the same arguments give an identical topology.
    degree : float
        Average out-degree (number of dependencies per component).
    p_single : float
        Probability that a component has one replica (else 2 or 3).
    async_latency_ms : float
        Latency of async edges (exercises T under cps).

    Raises
    ------
    InputError
        An argument of the wrong type or out of range (``degree`` is at most 50).
    """
    check_count(n, "n", low=10, high=MAX_COMPONENTS)
    check_count(seed, "seed", low=-MAX_INT, high=MAX_INT)
    check_number(degree, "degree", low=0.0, high=50.0)
    check_probability(p_single, "p_single")
    check_number(async_latency_ms, "async_latency_ms", low=0.0, high=1e9)
    rng = random.Random(seed)
    counts = [max(1, int(round(share * n))) for _, _, share in LAYERS]
    counts[2] += n - sum(counts)  # app servers absorb rounding
    comps: list[Component] = []
    by_type: dict[str, list[str]] = {}
    for (prefix, ctype, _), count in zip(LAYERS, counts, strict=True):
        for i in range(count):
            cid = f"{prefix}-{i}"
            r = rng.random()
            replicas = 1 if r < p_single else (2 if r < p_single + (1 - p_single) * 0.6 else 3)
            comps.append(Component(
                cid, ctype, replicas=replicas, timeout_seconds=rng.choice((5.0, 10.0, 30.0, 60.0)),
                cpu_percent=float(rng.randint(5, 95))))
            by_type.setdefault(ctype, []).append(cid)
    edges: dict[tuple[str, str], Dependency] = {}
    target_edges = int(round(degree * n))
    infra = by_type["custom"]
    pools: dict[tuple[str, ...], list[str]] = {}

    def pool_of(targets: tuple[str, ...]) -> list[str]:
        pool = pools.get(targets)
        if pool is None:
            pool = pools[targets] = [x for t in targets for x in by_type.get(t, ())]
        return pool

    def add(s: str, t: str, etype: str) -> None:
        if s != t and (s, t) not in edges:
            lat = async_latency_ms if etype == "async" else float(rng.choice((0, 1, 5, 20)))
            edges[(s, t)] = Dependency(s, t, etype, latency_ms=lat)

    # structural edges: every component gets its layer's dependencies
    for c in comps:
        for targets, etype in _TARGETS[c.type]:
            pool = pool_of(targets)
            if pool:
                add(c.id, rng.choice(pool), etype)
        if c.type in ("load_balancer", "web_server", "app_server", "database"):
            add(c.id, rng.choice(infra), "requires")
    # extra edges up to the target degree, chosen among the same layer rules
    sources = [c for c in comps if _TARGETS[c.type] or c.type in ("cache", "queue", "storage")]
    guard = 0
    while len(edges) < target_edges and guard < 20 * target_edges:
        guard += 1
        c = rng.choice(sources)
        options = list(_TARGETS[c.type]) + [(("custom",), "requires")]
        targets, etype = rng.choice(options)
        pool = pool_of(targets)
        if pool:
            add(c.id, rng.choice(pool), etype)
    return Topology(tuple(comps), tuple(edges.values()), f"<layered n={n} seed={seed}>")

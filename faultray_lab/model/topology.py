"""The topology model: components, dependency edges and an immutable graph of them.

An edge ``source -> target`` means *source depends on target*; failures flow backwards, from a
target to its dependents. A :class:`Topology` keeps the file's edge order (the reference breaks
ties by it) and offers derived indexes and a networkx view. Files are read by
:func:`faultray_lab.importers.load_topology`; the schema and its validation live in
:mod:`faultray_lab.model.schema`.

Examples
--------
>>> t = Topology((Component("web", "web_server"), Component("db", "database")),
...              (Dependency("web", "db"),))
>>> t.ids
('web', 'db')
>>> list(t.graph.predecessors("db"))
['web']
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from types import MappingProxyType
from typing import Any

from ..common.errors import InputError
from ..common.suggest import suggest

#: Component types of the 11.1.0 reference, plus later ones (which behave as ``custom``).
COMPONENT_TYPES = (
    "load_balancer", "web_server", "app_server", "database", "cache", "queue", "storage", "dns",
    "external_api", "custom", "ai_agent", "llm_endpoint", "tool_service", "agent_orchestrator",
    "automation", "serverless", "scheduled_job",
)
EDGE_TYPES = ("requires", "optional", "async")
#: The health lattice, healthy < degraded < overloaded < down.
HEALTH_ORDER = ("healthy", "degraded", "overloaded", "down")
HEALTHY, DEGRADED, OVERLOADED, DOWN = HEALTH_ORDER
HEALTH_RANK = {h: i for i, h in enumerate(HEALTH_ORDER)}


@dataclass(frozen=True)
class Component:
    """One infrastructure component, with the fields the engine and the availability model read.

    Examples
    --------
    >>> Component("db", "database", cpu_percent=40.0, memory_percent=80.0).utilization
    80.0
    """

    id: str
    type: str = "custom"
    replicas: int = 1
    name: str = ""
    host: str = ""
    timeout_seconds: float = 30.0
    max_connections: float = 1000.0
    connection_pool_size: float = 100.0
    cpu_percent: float = 0.0
    memory_percent: float = 0.0
    disk_percent: float = 0.0
    network_connections: float = 0.0
    failover: bool = False
    failover_promotion_seconds: float = 30.0
    failover_health_check_interval_seconds: float = 10.0
    failover_threshold: float = 3.0
    autoscaling: bool = False
    mtbf_hours: float = 0.0
    mttr_minutes: float = 30.0
    deploy_downtime_seconds: float = 30.0
    provider_sla: float | None = None
    packet_loss_rate: float = 1e-4
    gc_pause_ms: float = 0.0
    gc_pause_frequency: float = 0.0
    runbook_coverage_percent: float = 50.0
    automation_percent: float = 20.0
    parameters: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def utilization(self) -> float:
        """Max of connection share, cpu, memory and disk percent over values > 0 (semantics 1)."""
        values = [self.cpu_percent, self.memory_percent, self.disk_percent]
        if self.max_connections > 0 and self.network_connections > 0:
            values.append(self.network_connections / self.max_connections * 100.0)
        positive = [v for v in values if v > 0]
        return max(positive) if positive else 0.0


@dataclass(frozen=True)
class Dependency:
    """A dependency edge: ``source`` depends on ``target``.

    Examples
    --------
    >>> Dependency("app", "db", "requires", latency_ms=5.0).circuit_breaker
    False
    """

    source: str
    target: str
    type: str = "requires"
    weight: float = 1.0
    latency_ms: float = 0.0
    circuit_breaker: bool = False


@dataclass(frozen=True)
class Topology:
    """An immutable dependency graph. Edge order is kept: the reference breaks ties by it.

    Derived indexes (``index``, ``dependents``, ``graph``) are computed once, on first use.

    Examples
    --------
    >>> t = Topology((Component("a"), Component("b")), (Dependency("a", "b"),))
    >>> t.dependents[t.index["b"]]
    ((0, 0),)
    """

    components: tuple[Component, ...]
    dependencies: tuple[Dependency, ...] = ()
    source: str = "<memory>"

    def __len__(self) -> int:
        return len(self.components)

    def __hash__(self) -> int:
        # consistent with the generated __eq__ (equal topologies share ids and edge count);
        # the generated hash would fail on the components' parameter mappings
        return hash((self.ids, len(self.dependencies)))

    @cached_property
    def ids(self) -> tuple[str, ...]:
        """Component ids in file order."""
        return tuple(c.id for c in self.components)

    @cached_property
    def index(self) -> dict[str, int]:
        """Component id -> position."""
        return {c.id: i for i, c in enumerate(self.components)}

    def component(self, component_id: str) -> Component:
        """The component with this id, or an :class:`InputError` suggesting the nearest id."""
        i = self.index.get(component_id)
        if i is None:
            raise InputError(self.source, None, f"unknown component id '{component_id}'",
                             suggest(component_id, self.ids, "use one of the topology's ids"))
        return self.components[i]

    @cached_property
    def dependents(self) -> tuple[tuple[tuple[int, int], ...], ...]:
        """Per component position: ``(dependent position, edge position)`` in edge order.

        Self-edges are kept here (faultray-v11 sees them as networkx does); the ``cps`` engine
        skips them.
        """
        out: list[list[tuple[int, int]]] = [[] for _ in self.components]
        idx = self.index
        for k, e in enumerate(self.dependencies):
            out[idx[e.target]].append((idx[e.source], k))
        return tuple(tuple(x) for x in out)

    @cached_property
    def dependencies_of(self) -> tuple[tuple[tuple[int, int], ...], ...]:
        """Per component position: ``(dependency position, edge position)`` in edge order."""
        out: list[list[tuple[int, int]]] = [[] for _ in self.components]
        idx = self.index
        for k, e in enumerate(self.dependencies):
            out[idx[e.source]].append((idx[e.target], k))
        return tuple(tuple(x) for x in out)

    @cached_property
    def graph(self) -> Any:
        """A networkx ``DiGraph`` view (node and edge attributes are the dataclass fields).

        Built on first use, so loading and simulating never pay for it.
        """
        import networkx as nx

        g = nx.DiGraph()
        for c in self.components:
            g.add_node(c.id, component=c, type=c.type, replicas=c.replicas)
        for e in self.dependencies:
            g.add_edge(e.source, e.target, dependency=e, type=e.type, weight=e.weight,
                       latency_ms=e.latency_ms, circuit_breaker=e.circuit_breaker)
        return g

    @cached_property
    def has_breakers(self) -> bool:
        """Whether any edge has a circuit breaker."""
        return any(e.circuit_breaker for e in self.dependencies)

    @cached_property
    def async_delay_s(self) -> tuple[float, ...]:
        """Per edge: latency_ms / 1000 for async edges, else 0 (the only edges that advance T)."""
        return tuple(e.latency_ms / 1000.0 if e.type == "async" else 0.0
                     for e in self.dependencies)

    @cached_property
    def has_async_delay(self) -> bool:
        """Whether any async edge has a positive latency (else T is 0 everywhere under cps)."""
        return any(self.async_delay_s)

    @cached_property
    def agent_positions(self) -> tuple[int, ...]:
        """Positions of the ai_agent components, in component order."""
        return tuple(i for i, c in enumerate(self.components) if c.type == "ai_agent")

    def dependents_closure(self, position: int) -> list[int]:
        """Positions of ``position`` and every component that depends on it, directly or not,
        in breadth-first order (plain reverse reachability, all edge types).

        >>> t = Topology((Component("a"), Component("b"), Component("c")), (Dependency("b", "a"),))
        >>> t.dependents_closure(0)
        [0, 1]
        """
        seen = {position}
        order = [position]
        dependents = self.dependents
        for i in order:  # the list grows while we walk it
            for d, _ in dependents[i]:
                if d not in seen:
                    seen.add(d)
                    order.append(d)
        return order

    def reverse_reachable(self, component_id: str) -> list[str]:
        """Ids of ``component_id`` and everything that (transitively) depends on it, BFS order."""
        self.component(component_id)
        return [self.ids[i] for i in self.dependents_closure(self.index[component_id])]

    def find_cycle(self) -> list[str] | None:
        """One dependency cycle as a list of ids (self-edges included), or None for a DAG."""
        import networkx as nx

        try:
            return [u for u, _ in nx.find_cycle(self.graph)]
        except nx.NetworkXNoCycle:
            return None

    # ---- what-if helpers (return new topologies) -------------------------------------------
    def with_component(self, component_id: str, **changes: Any) -> Topology:
        """A copy with one component's fields changed, e.g. ``replicas=2``.

        >>> t = Topology((Component("a"),))
        >>> t.with_component("a", replicas=3).components[0].replicas
        3
        """
        i = self.index.get(component_id)
        if i is None:
            self.component(component_id)  # raises with a suggestion
        comps = list(self.components)
        comps[i] = replace(comps[i], **changes)  # type: ignore[index]
        return Topology(tuple(comps), self.dependencies, self.source)

    def with_dependency(self, source: str, target: str, **changes: Any) -> Topology:
        """A copy with the edge ``source -> target`` changed, e.g. ``circuit_breaker=True``.

        >>> t = Topology((Component("a"), Component("b")), (Dependency("a", "b"),))
        >>> t.with_dependency("a", "b", circuit_breaker=True).dependencies[0].circuit_breaker
        True
        """
        deps = list(self.dependencies)
        for k, e in enumerate(deps):
            if e.source == source and e.target == target:
                deps[k] = replace(e, **changes)
                return Topology(self.components, tuple(deps), self.source)
        raise InputError(self.source, None, f"no dependency {source} -> {target}",
                         "name an existing edge (source depends on target)")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict in the compact schema; ``topology_from_dict`` reads it back."""
        comps = []
        for c in self.components:
            d: dict[str, Any] = {"id": c.id, "type": c.type, "replicas": c.replicas}
            for f, default in _COMPONENT_DEFAULTS.items():
                v = getattr(c, f)
                if v != default and f not in ("id", "type", "replicas"):
                    d.setdefault("_fields", {})[f] = v
            if "_fields" in d:
                d.update(_nest_component_fields(d.pop("_fields")))
            comps.append(d)
        deps = []
        for e in self.dependencies:
            d = {"source": e.source, "target": e.target, "type": e.type, "weight": e.weight}
            if e.latency_ms:
                d["latency_ms"] = e.latency_ms
            if e.circuit_breaker:
                d["circuit_breaker"] = {"enabled": True}
            deps.append(d)
        return {"components": comps, "dependencies": deps}


_COMPONENT_DEFAULTS = {f: getattr(Component("x"), f) for f in Component.__dataclass_fields__}

# where each Component field lives in the nested schema (for to_dict and for loading)
_FIELD_PATHS: dict[str, tuple[str, ...]] = {
    "name": ("name",), "host": ("host",),
    "timeout_seconds": ("capacity", "timeout_seconds"),
    "max_connections": ("capacity", "max_connections"),
    "connection_pool_size": ("capacity", "connection_pool_size"),
    "cpu_percent": ("metrics", "cpu_percent"), "memory_percent": ("metrics", "memory_percent"),
    "disk_percent": ("metrics", "disk_percent"),
    "network_connections": ("metrics", "network_connections"),
    "failover": ("failover", "enabled"),
    "failover_promotion_seconds": ("failover", "promotion_time_seconds"),
    "failover_health_check_interval_seconds": ("failover", "health_check_interval_seconds"),
    "failover_threshold": ("failover", "failover_threshold"),
    "autoscaling": ("autoscaling", "enabled"),
    "mtbf_hours": ("operational_profile", "mtbf_hours"),
    "mttr_minutes": ("operational_profile", "mttr_minutes"),
    "deploy_downtime_seconds": ("operational_profile", "deploy_downtime_seconds"),
    "provider_sla": ("external_sla", "provider_sla"),
    "packet_loss_rate": ("network", "packet_loss_rate"),
    "gc_pause_ms": ("runtime_jitter", "gc_pause_ms"),
    "gc_pause_frequency": ("runtime_jitter", "gc_pause_frequency"),
    "runbook_coverage_percent": ("team", "runbook_coverage_percent"),
    "automation_percent": ("team", "automation_percent"),
    "parameters": ("parameters",),
}


def _nest_component_fields(flat: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f, v in flat.items():
        path = _FIELD_PATHS[f]
        node = out
        for p in path[:-1]:
            node = node.setdefault(p, {})
        node[path[-1]] = dict(v) if isinstance(v, Mapping) else v
    return out


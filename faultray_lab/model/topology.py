"""The topology model: components, dependency edges and an immutable graph of them.

An edge ``source -> target`` means *source depends on target*; failures flow backwards, from a
target to its dependents. :class:`Component`, :class:`Dependency` and :class:`Topology` check
their fields when they are built (an :class:`~faultray_lab.common.errors.InputError` names the
field and the fix), so a topology built in Python is as valid as one loaded from a file: ids are
non-empty text, types are known, replicas are whole numbers >= 1, numbers are finite and >= 0,
edges name existing components and each pair appears once. A self-dependency (``a -> a``) is
allowed here (the engines define it); the file loader warns about it. A :class:`Topology`
keeps the file's edge order (the reference breaks ties by it) and offers derived indexes and a
networkx view. Files are read by
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
from operator import attrgetter
from types import MappingProxyType
from typing import Any

from ..common.errors import InputError, show
from ..common.suggest import one_of, suggest
from ..common.validate import MAX_INT, no_gc, plain_data_problem

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

    def __post_init__(self) -> None:
        _check_component(self)

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

    def __post_init__(self) -> None:
        _check_dependency(self)


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

    def __post_init__(self) -> None:
        with no_gc():
            _check_topology(self)

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
        i = self.index.get(component_id) if isinstance(component_id, str) else None
        if i is None:
            raise InputError(self.source, None, f"unknown component id {show(component_id)}",
                             unknown_id_fix(component_id, self.ids))
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


def check_topology(obj: Any, name: str = "topology") -> Topology:
    """``obj`` if it is a :class:`Topology`, else an InputError saying how to get one.

    >>> check_topology("demo.yaml")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    faultray_lab.common.errors.InputError: <input>: topology: topology must be a Topology, ...
    """
    if not isinstance(obj, Topology):
        raise InputError(None, name, f"{name} must be a Topology, not {type(obj).__name__}",
                         "load one first: faultray_lab.load_topology(path)")
    return obj


def _nest_component_fields(flat: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f, v in flat.items():
        path = _FIELD_PATHS[f]
        node = out
        for p in path[:-1]:
            node = node.setdefault(p, {})
        node[path[-1]] = dict(v) if isinstance(v, Mapping) else v
    return out



def unknown_id_fix(word: object, ids: tuple[str, ...]) -> str:
    """The fix for an unknown component id: the nearest id and a list of (up to 12) ids.

    >>> unknown_id_fix("postgress", ("nginx", "postgres"))
    "did you mean 'postgres'? (ids: nginx, postgres)"
    >>> unknown_id_fix("zzz", ("nginx", "postgres"))
    'use one of nginx, postgres'
    """
    listed = one_of(ids)
    near = suggest(word, ids, "")
    return f"{near} (ids: {listed[len('use one of '):]})" if near else listed


# ---------------------------------------------------------------------------------------------
# Validation on construction: cheap checks, a detailed message only when one fails
# ---------------------------------------------------------------------------------------------
_TYPES = frozenset(COMPONENT_TYPES)
_EDGE_TYPES = frozenset(EDGE_TYPES)
_INF = float("inf")
_NUMBER_FIELDS = (
    "timeout_seconds", "max_connections", "connection_pool_size", "cpu_percent",
    "memory_percent", "disk_percent", "network_connections", "failover_promotion_seconds",
    "failover_health_check_interval_seconds", "failover_threshold", "mtbf_hours", "mttr_minutes",
    "deploy_downtime_seconds", "packet_loss_rate", "gc_pause_ms", "gc_pause_frequency",
    "runbook_coverage_percent", "automation_percent")
_NUMBER_TYPES = frozenset({int, float})
_numbers_of = attrgetter(*_NUMBER_FIELDS)
_source_of, _target_of = attrgetter("source"), attrgetter("target")
#: Parameters the engine reads as numbers, with the range accepted on construction (the
#: engine checks its own tighter ranges where it reads them, e.g. hallucination_risk <= 1).
PARAMETER_RANGES: dict[str, tuple[float, float]] = {
    "hallucination_risk": (0.0, float(MAX_INT)), "failure_rate": (0.0, float(MAX_INT)),
    "max_context_tokens": (0.0, float(MAX_INT)),
}


def _where(obj: Any, name: str) -> str:
    if isinstance(obj, Component):
        return f"Component {show(obj.id)}.{name}"
    return f"Dependency {show(obj.source)} -> {show(obj.target)}.{name}"


def _bad_number(obj: Any, name: str, low: float = 0.0, high: float = _INF) -> InputError:
    v = getattr(obj, name)
    if isinstance(v, bool) or not isinstance(v, int | float):
        problem = f"{name} must be a number, not {type(v).__name__} {show(v)}"
    elif v != v:
        problem = f"{name} is NaN"
    elif v in (_INF, -_INF):
        problem = f"{name} is infinite"
    elif abs(v) >= 1e300 or (isinstance(v, int) and abs(v) > MAX_INT):
        problem = f"{name} is too large ({show(v)})"
    else:
        rng = f">= {low:g}" if high == _INF else f"in [{low:g}, {high:g}]"
        problem = f"{name} must be {rng}, not {show(v)}"
    rng = "a finite number >= 0" if high == _INF else f"a number in [{low:g}, {high:g}]"
    return InputError(None, _where(obj, name), problem, f"pass {rng}")


def _numbers_ok(values: tuple[Any, ...]) -> bool:
    """All plain ints/floats, finite, >= 0 and not huge (fast: no per-value Python branch)."""
    try:
        return (set(map(type, values)) <= _NUMBER_TYPES and min(values) >= 0
                and sum(values) < 1e300)
    except (TypeError, OverflowError):
        return False


def _check_component(c: Component) -> None:
    cid = c.id
    if type(cid) is not str or not cid:
        raise InputError(None, "Component.id", f"id must be non-empty text, not {show(cid)}",
                         "pass a string id, e.g. Component('db', 'database')")
    if type(c.type) is not str or c.type not in _TYPES:
        raise InputError(None, _where(c, "type"), f"unknown component type {show(c.type)}",
                         suggest(str(c.type), COMPONENT_TYPES))
    r = c.replicas
    if type(r) is not int or not 1 <= r <= MAX_INT:
        if hasattr(r, "__index__") and not isinstance(r, bool) and 1 <= int(r) <= MAX_INT:
            object.__setattr__(c, "replicas", int(r))  # a numpy integer
        else:
            raise InputError(None, _where(c, "replicas"), f"replicas must be a whole number "
                             f">= 1, not {show(r)}", "set replicas to 1 or more")
    if not _numbers_ok(_numbers_of(c)):
        for f in _NUMBER_FIELDS:
            if not _numbers_ok((getattr(c, f),)):
                raise _bad_number(c, f)
    if type(c.name) is not str or type(c.host) is not str:
        f = "name" if type(c.name) is not str else "host"
        raise InputError(None, _where(c, f), f"{f} must be text, not {show(getattr(c, f))}",
                         "pass a string")
    if type(c.failover) is not bool or type(c.autoscaling) is not bool:
        f = "failover" if type(c.failover) is not bool else "autoscaling"
        raise InputError(None, _where(c, f), f"{f} must be True or False, not "
                         f"{show(getattr(c, f))}", "pass a bool")
    if c.provider_sla is not None and not (_numbers_ok((c.provider_sla,))
                                           and c.provider_sla <= 100):
        raise _bad_number(c, "provider_sla", 0.0, 100.0)
    params = c.parameters
    if not isinstance(params, Mapping):
        raise InputError(None, _where(c, "parameters"), f"parameters must be a mapping, not "
                         f"{type(params).__name__}", "pass a dict of plain values")
    if params:
        _check_parameters(c, params)


def _check_parameters(c: Component, params: Mapping[str, Any]) -> None:
    bad = plain_data_problem(params)
    if bad is not None:
        path, problem, fix = bad
        raise InputError(None, _where(c, "parameters") + (f".{path}" if path else ""), problem,
                         fix)
    for key, (low, high) in PARAMETER_RANGES.items():
        v = params.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)
                              or not low <= v <= high):
            rng = f"in [{low:g}, {high:g}]" if high < MAX_INT else ">= 0"
            raise InputError(None, _where(c, f"parameters.{key}"), f"{key} must be a number "
                             f"{rng}, not {show(v)}", f"write a number {rng}")


def _check_dependency(d: Dependency) -> None:
    s, t = d.source, d.target
    if type(s) is not str or not s or type(t) is not str or not t:
        f = "source" if type(s) is not str or not s else "target"
        raise InputError(None, f"Dependency.{f}", f"{f} must be a component id (non-empty "
                         f"text), not {show(getattr(d, f))}", "pass the component's id")
    if type(d.type) is not str or d.type not in _EDGE_TYPES:
        raise InputError(None, _where(d, "type"), f"unknown dependency type {show(d.type)}",
                         suggest(str(d.type), EDGE_TYPES))
    w, lat = d.weight, d.latency_ms
    # fast path: plain floats/ints in range (NaN fails every comparison)
    if not ((type(w) is float or type(w) is int) and (type(lat) is float or type(lat) is int)
            and 0 <= w <= 1 and 0 <= lat < 1e300):
        if not _numbers_ok((lat,)):
            raise _bad_number(d, "latency_ms")
        raise _bad_number(d, "weight", 0.0, 1.0)
    if type(d.circuit_breaker) is not bool:
        raise InputError(None, _where(d, "circuit_breaker"), "circuit_breaker must be True or "
                         f"False, not {show(d.circuit_breaker)}", "pass a bool")


def _as_tuple(topo: Topology, name: str, kind: type) -> tuple[Any, ...]:
    value = getattr(topo, name)
    if type(value) is not tuple:
        if isinstance(value, str | bytes | Mapping) or not hasattr(value, "__iter__"):
            raise InputError(topo.source, name, f"{name} must be a tuple of {kind.__name__}, "
                             f"not {type(value).__name__}",
                             f"pass a tuple, e.g. ({kind.__name__}(...), ...)")
        value = tuple(value)
        object.__setattr__(topo, name, value)
    return value


def _check_topology(topo: Topology) -> None:
    if not isinstance(topo.source, str):
        raise InputError(None, "Topology.source", f"source must be text, not "
                         f"{show(topo.source)}", "pass a file name or a label")
    comps = _as_tuple(topo, "components", Component)
    deps = _as_tuple(topo, "dependencies", Dependency)
    if not all(type(c) is Component for c in comps):
        i, c = next((i, c) for i, c in enumerate(comps) if not isinstance(c, Component))
        raise InputError(topo.source, f"components[{i}]", f"not a Component but "
                         f"{type(c).__name__} {show(c)}", "build each with Component(id, type)")
    index = {c.id: i for i, c in enumerate(comps)}
    if len(index) != len(comps):
        seen: dict[str, int] = {}
        for i, c in enumerate(comps):
            if c.id in seen:
                raise InputError(topo.source, f"components[{i}]", f"duplicate component id "
                                 f"{show(c.id)} (also components[{seen[c.id]}])",
                                 "give every component a unique id")
            seen[c.id] = i
    topo.__dict__["index"] = index  # the cached property, computed once here
    if not all(type(e) is Dependency for e in deps):
        k, e = next((k, e) for k, e in enumerate(deps) if not isinstance(e, Dependency))
        raise InputError(topo.source, f"dependencies[{k}]", f"not a Dependency but "
                         f"{type(e).__name__} {show(e)}", "build each with Dependency(source, "
                         "target, type)")
    sources, targets = list(map(_source_of, deps)), list(map(_target_of, deps))
    known = index.__contains__
    if not (all(map(known, sources)) and all(map(known, targets))
            and len(set(zip(sources, targets, strict=True))) == len(deps)):
        seen_pairs: dict[tuple[str, str], int] = {}
        ids = tuple(index)
        for k, e in enumerate(deps):
            for f, v in (("source", e.source), ("target", e.target)):
                if v not in index:
                    raise InputError(topo.source, f"dependencies[{k}] ({show(e.source)} -> "
                                     f"{show(e.target)})", f"{f} {show(v)} is not a component "
                                     "id", unknown_id_fix(v, ids))
            pair = (e.source, e.target)
            if pair in seen_pairs:
                raise InputError(topo.source, f"dependencies[{k}]", f"duplicate dependency "
                                 f"{e.source} -> {e.target} (also dependencies"
                                 f"[{seen_pairs[pair]}])", "keep one edge per pair")
            seen_pairs[pair] = k


_COMPONENT_DEFAULTS = {f: getattr(Component("x"), f) for f in Component.__dataclass_fields__}

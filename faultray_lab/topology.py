"""Topology model: components, dependencies and strict loading from YAML or JSON.

An edge ``source -> target`` means *source depends on target*; failures flow backwards, from a
target to its dependents. The schema is the reference's (SEMANTICS.md section 1); unknown keys,
wrong types and impossible values are rejected with an :class:`~faultray_lab.errors.InputError`
that names the file, the location, the line and the fix.

Examples
--------
>>> topo = topology_from_dict({
...     "components": [{"id": "web", "type": "web_server"}, {"id": "db", "type": "database"}],
...     "dependencies": [{"source": "web", "target": "db", "type": "requires"}],
... })
>>> topo.ids
('web', 'db')
>>> list(topo.graph.predecessors("db"))
['web']
"""

from __future__ import annotations

import difflib
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from .errors import InputError
from .yamlio import DuplicateKeyError, load_yaml

try:  # the C loader is ~10x faster; fall back to the pure-Python one
    _YamlLoader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _YamlLoader = yaml.SafeLoader

#: Component types of the 11.1.0 reference, plus later ones (which behave as ``custom``).
COMPONENT_TYPES = (
    "load_balancer", "web_server", "app_server", "database", "cache", "queue", "storage", "dns",
    "external_api", "custom", "ai_agent", "llm_endpoint", "tool_service", "agent_orchestrator",
    "automation", "serverless", "scheduled_job",
)
EDGE_TYPES = ("requires", "optional", "async")
HEALTH_ORDER = ("healthy", "degraded", "overloaded", "down")
HEALTH_RANK = {h: i for i, h in enumerate(HEALTH_ORDER)}

# --------------------------------------------------------------------------------------------
# Schema: key -> kind. Kinds: "str", "num" (finite, >= 0), "snum" (finite, any sign), "int",
# "bool", "any" (free value), "list", or a nested dict schema.
# --------------------------------------------------------------------------------------------
_METRICS = {k: "num" for k in (
    "cpu_percent", "memory_percent", "memory_used_mb", "memory_total_mb", "disk_percent",
    "disk_used_gb", "disk_total_gb", "network_connections", "open_files")}
_CAPACITY = {k: "num" for k in (
    "max_connections", "max_rps", "connection_pool_size", "max_memory_mb", "max_disk_gb",
    "timeout_seconds", "retry_multiplier")}
_AUTOSCALING = {"enabled": "bool", "min_replicas": "num", "max_replicas": "num",
                "scale_up_threshold": "num", "scale_down_threshold": "num",
                "scale_up_delay_seconds": "num", "scale_down_delay_seconds": "num",
                "scale_up_step": "num"}
_FAILOVER = {"enabled": "bool", "promotion_time_seconds": "num",
             "health_check_interval_seconds": "num", "failover_threshold": "num"}
_OPERATIONAL = {"mtbf_hours": "num", "mttr_minutes": "num", "deploy_downtime_seconds": "num",
                "maintenance_downtime_minutes": "num",
                "degradation": {"memory_leak_mb_per_hour": "num", "disk_fill_gb_per_hour": "num",
                                "connection_leak_per_hour": "num"}}
_NETWORK = {"rtt_ms": "num", "packet_loss_rate": "num", "jitter_ms": "num",
            "dns_resolution_ms": "num", "tls_handshake_ms": "num"}
_JITTER = {"gc_pause_ms": "num", "gc_pause_frequency": "num", "scheduling_jitter_ms": "num"}
_TEAM = {"team_size": "num", "oncall_coverage_hours": "num", "timezone_coverage": "num",
         "mean_acknowledge_time_minutes": "num", "mean_diagnosis_time_minutes": "num",
         "runbook_coverage_percent": "num", "automation_percent": "num"}
_COMPONENT_SCHEMA: dict[str, Any] = {
    "id": "str", "name": "str", "type": "str", "host": "str", "port": "num", "replicas": "int",
    "metrics": _METRICS, "capacity": _CAPACITY, "health": "str", "autoscaling": _AUTOSCALING,
    "failover": _FAILOVER,
    "cache_warming": {"enabled": "bool", "initial_hit_ratio": "num",
                      "warm_duration_seconds": "num", "warming_curve": "str"},
    "singleflight": {"enabled": "bool", "coalesce_ratio": "num"},
    "slo_targets": "list", "external_sla": {"provider_sla": "num"}, "cost_profile": "any",
    "operational_profile": _OPERATIONAL, "region": "any", "network": _NETWORK,
    "runtime_jitter": _JITTER, "security": "any", "compliance_tags": "any", "team": _TEAM,
    "parameters": "any", "tags": "list",
    # compact forms of paper-18-incidents.json and the neutral JSON schema
    "timeout_seconds": "num", "utilization": "num",
}
_EDGE_SCHEMA: dict[str, Any] = {
    "source": "str", "target": "str", "type": "str", "protocol": "str", "port": "num",
    "latency_ms": "num", "weight": "num",
    "circuit_breaker": {"enabled": "bool", "failure_threshold": "num",
                        "recovery_timeout_seconds": "num", "half_open_max_requests": "num",
                        "success_threshold": "num"},
    "retry_strategy": {"enabled": "bool", "max_retries": "num", "initial_delay_ms": "num",
                       "max_delay_ms": "num", "multiplier": "num", "jitter": "bool",
                       "retry_budget_per_second": "num"},
}
_TOP_SCHEMA = {"schema_version": "any", "components": "list", "dependencies": "list",
               "generator": "any", "name": "str", "description": "str"}


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
        """Max of connection share, cpu, memory and disk percent over values > 0 (SEMANTICS 1)."""
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


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------
def load_topology(path: str | os.PathLike[str], *, strict_dag: bool = False) -> Topology:
    """Load and validate a topology from a YAML or JSON file.

    Parameters
    ----------
    path : str or PathLike
        A ``.yaml``/``.yml`` or ``.json`` file in the reference schema.
    strict_dag : bool
        Reject dependency cycles (cycles are allowed by default).

    Returns
    -------
    Topology

    Raises
    ------
    InputError
        Missing or empty file, malformed YAML/JSON, unknown keys (with the nearest valid key),
        duplicate ids, edges to unknown ids, unknown types, replicas < 1, negative or NaN numbers,
        or a cycle with ``strict_dag``.

    Examples
    --------
    >>> from faultray_lab import demo_topology_path
    >>> topo = load_topology(demo_topology_path())
    >>> len(topo), len(topo.dependencies)
    (9, 12)
    """
    name = str(path)
    text = read_text(name)
    data = parse_text(text, name)
    return topology_from_dict(data, source=name, text=text, strict_dag=strict_dag)


def read_text(name: str) -> str:
    """Read a file's text, or raise an InputError for a missing, unreadable or empty file."""
    p = Path(name)
    if not p.exists():
        raise InputError(name, None, "file not found", "check the path (relative paths start "
                         f"at the current directory, {os.getcwd()})")
    if p.is_dir():
        raise InputError(name, None, "is a directory, not a file", "pass a .yaml or .json file")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(name, None, f"cannot read the file ({exc})",
                         "check the permissions and that it is UTF-8 text") from None
    if not text.strip():
        raise InputError(name, None, "the file is empty",
                         "write a mapping with 'components' and 'dependencies'")
    return text


def parse_text(text: str, name: str) -> Any:
    """Parse JSON (``.json``) or YAML text, turning parser errors into one InputError."""
    if name.endswith(".json"):
        try:
            return json.loads(text, object_pairs_hook=_unique_keys)
        except _DuplicateJSONKey as exc:
            raise InputError(name, None, f"duplicate key '{exc.args[0]}' in one object",
                             "keep one of them (a JSON reader would silently keep the last)"
                             ) from None
        except json.JSONDecodeError as exc:
            raise InputError(name, f"column {exc.colno}", f"malformed JSON: {exc.msg}",
                             "fix the JSON syntax at that line (a validator such as "
                             "`python -m json.tool` shows it)", line=exc.lineno) from None
    try:
        data = load_yaml(text)
    except DuplicateKeyError as exc:
        mark = exc.problem_mark
        raise InputError(name, f"column {mark.column + 1}" if mark else None,
                         exc.problem.replace("found duplicate", "duplicate") + " in one mapping",
                         "keep one of them (YAML readers silently keep the last)",
                         line=mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(name, f"column {mark.column + 1}" if mark else None,
                         f"malformed YAML: {problem}",
                         "fix the YAML syntax at that line (indentation, quotes, colons)",
                         line=mark.line + 1 if mark else None) from None
    if data is None:
        raise InputError(name, None, "the file holds no data",
                         "write a mapping with 'components' and 'dependencies'")
    return data


class _DuplicateJSONKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _DuplicateJSONKey(k)
        out[k] = v
    return out


class LineLocator:
    """Find the line of a key path in YAML/JSON text, parsing the node tree only when needed."""

    def __init__(self, text: str | None) -> None:
        self.text = text
        self._root: Any = None
        self._parsed = False

    def line(self, path: tuple[Any, ...]) -> int | None:
        if self.text is None:
            return None
        if not self._parsed:
            self._parsed = True
            try:
                self._root = yaml.compose(self.text, Loader=_YamlLoader)
            except yaml.YAMLError:
                self._root = None
        node = self._root
        best = None
        for key in path:
            if node is None:
                break
            best = node.start_mark.line + 1
            if isinstance(node, yaml.MappingNode):
                nxt = None
                for k, v in node.value:
                    if k.value == key:
                        best = k.start_mark.line + 1
                        nxt = v
                        break
                node = nxt
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
                node = node.value[key] if key < len(node.value) else None
            else:
                node = None
        if node is not None:
            best = node.start_mark.line + 1
        return best


def suggest(word: str, choices: tuple[str, ...] | list[str], otherwise: str) -> str:
    near = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.5)
    if near:
        return f"did you mean '{near[0]}'?"
    return otherwise


def topology_from_dict(
    data: Any,
    *,
    source: str = "<memory>",
    text: str | None = None,
    strict_dag: bool = False,
    path_prefix: tuple[Any, ...] = (),
) -> Topology:
    """Validate a parsed topology mapping and build a :class:`Topology`.

    ``text`` (the file's text) lets error messages carry line numbers; ``path_prefix`` locates
    a topology nested inside a larger file (an incident's ``topology`` key).

    Examples
    --------
    >>> t = topology_from_dict({"components": [{"id": "a", "type": "cache", "replicas": 2}]})
    >>> t.components[0].replicas
    2
    """
    loc = LineLocator(text)
    pre = "".join(f".{p}" if isinstance(p, str) else f"[{p}]" for p in path_prefix).lstrip(".")

    def fail(path: tuple[Any, ...], where: str, problem: str, fix: str) -> InputError:
        full = f"{pre}.{where}" if pre and where else (pre or where)
        return InputError(source, full or None, problem, fix, line=loc.line(path_prefix + path))

    if not isinstance(data, Mapping):
        raise fail((), "", f"the top level is a {type(data).__name__}, not a mapping",
                   "write a mapping with 'components' and 'dependencies' keys")
    _check_keys(data, _TOP_SCHEMA, (), "", fail)
    raw_components = data.get("components")
    if not isinstance(raw_components, list) or not raw_components:
        raise fail(("components",), "components", "no components",
                   "add a non-empty 'components' list")
    raw_deps = data.get("dependencies") or []
    if not isinstance(raw_deps, list):
        raise fail(("dependencies",), "dependencies", "'dependencies' is not a list",
                   "write dependencies as a list of {source, target, type} mappings")

    comps: list[Component] = []
    seen: dict[str, int] = {}
    for i, rc in enumerate(raw_components):
        path = ("components", i)
        if not isinstance(rc, Mapping):
            raise fail(path, f"components[{i}]", "a component is not a mapping",
                       "write each component as a mapping with at least 'id' and 'type'")
        cid = rc.get("id")
        where = f"components[{i}]" + (f" (id '{cid}')" if isinstance(cid, str) else "")
        if not isinstance(cid, str) or not cid:
            raise fail(path, where, "missing or non-string 'id'", "give every component an id")
        _check_keys(rc, _COMPONENT_SCHEMA, path, where, fail)
        if cid in seen:
            raise fail(path, where,
                       f"duplicate component id '{cid}' (also components[{seen[cid]}])",
                       "give every component a unique id")
        seen[cid] = i
        comps.append(_component(rc, path, where, fail))

    ids = tuple(seen)
    deps: list[Dependency] = []
    pairs: dict[tuple[str, str], int] = {}
    for k, rd in enumerate(raw_deps):
        path = ("dependencies", k)
        where = f"dependencies[{k}]"
        if not isinstance(rd, Mapping):
            raise fail(path, where, "a dependency is not a mapping",
                       "write each dependency as {source, target, type}")
        _check_keys(rd, _EDGE_SCHEMA, path, where, fail)
        s, t = rd.get("source"), rd.get("target")
        where = f"dependencies[{k}] ({s} -> {t})"
        for key, v in (("source", s), ("target", t)):
            if v is None:
                raise fail(path, where, f"missing '{key}'", f"add the {key} component id")
            if v not in seen:
                raise fail(path + (key,), where, f"{key} '{v}' is not a component id",
                           suggest(v, ids, "add that component or fix the id"))
        et = rd.get("type", "requires")
        if et not in EDGE_TYPES:
            raise fail(path + ("type",), where, f"unknown dependency type '{et}'",
                       suggest(et, EDGE_TYPES, f"use one of {', '.join(EDGE_TYPES)}"))
        if (s, t) in pairs:
            raise fail(path, where, f"duplicate dependency {s} -> {t} "
                       f"(also dependencies[{pairs[(s, t)]}])", "keep one edge per pair")
        pairs[(s, t)] = k
        cb = rd.get("circuit_breaker") or {}
        deps.append(Dependency(
            source=s, target=t, type=et,
            weight=float(rd.get("weight", 1.0)),
            latency_ms=float(rd.get("latency_ms", 0.0)),
            circuit_breaker=bool(cb.get("enabled", False)),
        ))

    topo = Topology(tuple(comps), tuple(deps), source)
    if strict_dag:
        cycle = topo.find_cycle()
        if cycle:
            raise fail(("dependencies",), "dependencies",
                       "dependency cycle " + " -> ".join(cycle + [cycle[0]]),
                       "remove one edge of the cycle, or load without --strict-dag")
    return topo


def _check_keys(obj: Mapping[str, Any], schema: Mapping[str, Any], path: tuple[Any, ...],
                where: str, fail: Any) -> None:
    """Reject unknown keys, wrong types, NaN and negative numbers, recursively."""
    for key, value in obj.items():
        kpath = path + (key,)
        kwhere = f"{where}.{key}" if where else str(key)
        kind = schema.get(key)
        if kind is None:
            raise fail(kpath, kwhere, f"unknown key '{key}'",
                       suggest(key, tuple(schema), f"valid keys here: {', '.join(schema)}"))
        if value is None:
            continue
        if isinstance(kind, dict):
            if not isinstance(value, Mapping):
                if key == "circuit_breaker" and isinstance(value, bool):
                    continue
                raise fail(kpath, kwhere, f"'{key}' must be a mapping, not "
                           f"{type(value).__name__}", f"write it as {key}: {{...}}")
            _check_keys(value, kind, kpath, kwhere, fail)
        elif kind in ("num", "snum", "int"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise fail(kpath, kwhere, f"'{key}' must be a number, not {value!r}",
                           "write a plain number without quotes or units")
            if isinstance(value, float) and math.isnan(value):
                raise fail(kpath, kwhere, f"'{key}' is NaN", "write a finite number")
            if kind != "snum" and value < 0:
                raise fail(kpath, kwhere, f"'{key}' is negative ({value})",
                           "use a value >= 0")
            if math.isinf(value):
                raise fail(kpath, kwhere, f"'{key}' is infinite", "write a finite number")
        elif kind == "bool":
            if not isinstance(value, bool | int):
                raise fail(kpath, kwhere, f"'{key}' must be true or false, not {value!r}",
                           "write true or false")
        elif kind == "str":
            if not isinstance(value, str | int | float) or isinstance(value, bool):
                raise fail(kpath, kwhere, f"'{key}' must be a string, not "
                           f"{type(value).__name__}", "write it as text")
        elif kind == "list":
            if not isinstance(value, list):
                raise fail(kpath, kwhere, f"'{key}' must be a list", "write it as a list")


def _get(d: Mapping[str, Any], *keys: str, default: Any = None) -> Any:
    for k in keys[:-1]:
        d = d.get(k) or {}
    v = d.get(keys[-1])
    return default if v is None else v


def _component(rc: Mapping[str, Any], path: tuple[Any, ...], where: str, fail: Any) -> Component:
    ctype = rc.get("type", "custom")
    if ctype not in COMPONENT_TYPES:
        raise fail(path + ("type",), where, f"unknown component type '{ctype}'",
                   suggest(ctype, COMPONENT_TYPES,
                            f"use one of {', '.join(COMPONENT_TYPES)}"))
    replicas = rc.get("replicas", 1)
    if isinstance(replicas, float) and replicas.is_integer():
        replicas = int(replicas)
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 1:
        raise fail(path + ("replicas",), where, f"replicas must be a whole number >= 1, "
                   f"not {replicas!r}", "set replicas to 1 or more")
    metrics = rc.get("metrics") or {}
    cpu = metrics.get("cpu_percent")
    if cpu is None:
        cpu = rc.get("utilization", 0.0)
    timeout = _get(rc, "capacity", "timeout_seconds", default=None)
    if timeout is None:
        timeout = rc.get("timeout_seconds", 30.0)
    params = rc.get("parameters") or {}
    if not isinstance(params, Mapping):
        raise fail(path + ("parameters",), where, "'parameters' must be a mapping",
                   "write parameters as key: value pairs")
    sla = _get(rc, "external_sla", "provider_sla")
    return Component(
        id=rc["id"], type=ctype, replicas=replicas, name=str(rc.get("name") or ""),
        host=str(rc.get("host") or ""), timeout_seconds=float(timeout),
        max_connections=float(_get(rc, "capacity", "max_connections", default=1000)),
        connection_pool_size=float(_get(rc, "capacity", "connection_pool_size", default=100)),
        cpu_percent=float(cpu), memory_percent=float(metrics.get("memory_percent") or 0.0),
        disk_percent=float(metrics.get("disk_percent") or 0.0),
        network_connections=float(metrics.get("network_connections") or 0.0),
        failover=bool(_get(rc, "failover", "enabled", default=False)),
        failover_promotion_seconds=float(_get(rc, "failover", "promotion_time_seconds",
                                              default=30.0)),
        failover_health_check_interval_seconds=float(
            _get(rc, "failover", "health_check_interval_seconds", default=10.0)),
        failover_threshold=float(_get(rc, "failover", "failover_threshold", default=3)),
        autoscaling=bool(_get(rc, "autoscaling", "enabled", default=False)),
        mtbf_hours=float(_get(rc, "operational_profile", "mtbf_hours", default=0.0)),
        mttr_minutes=float(_get(rc, "operational_profile", "mttr_minutes", default=30.0)),
        deploy_downtime_seconds=float(_get(rc, "operational_profile", "deploy_downtime_seconds",
                                           default=30.0)),
        provider_sla=None if sla is None else float(sla),
        packet_loss_rate=float(_get(rc, "network", "packet_loss_rate", default=1e-4)),
        gc_pause_ms=float(_get(rc, "runtime_jitter", "gc_pause_ms", default=0.0)),
        gc_pause_frequency=float(_get(rc, "runtime_jitter", "gc_pause_frequency", default=0.0)),
        runbook_coverage_percent=float(_get(rc, "team", "runbook_coverage_percent",
                                            default=50.0)),
        automation_percent=float(_get(rc, "team", "automation_percent", default=20.0)),
        parameters=MappingProxyType(dict(params)),
    )

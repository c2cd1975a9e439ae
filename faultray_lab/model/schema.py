"""The topology file schema as one table, and the validator that reads it.

Every key a topology file may hold is a :class:`Key` row of :data:`TOP_KEYS`,
:data:`COMPONENT_KEYS` or :data:`EDGE_KEYS`: its kind, its default and what it means. The
validator (:func:`topology_from_dict`) rejects anything the table does not list (naming the
nearest valid key), and the documentation's schema reference is generated from the same table
(:func:`schema_rows`), so the two cannot drift.

Kinds: ``str``; ``num`` (a finite number >= 0); ``int`` (a whole number); ``bool``; ``list``;
``map`` (a nested mapping whose keys are listed too); ``any`` (a free value, kept but not
read). Keys whose ``default`` is :data:`NOT_READ` load but change nothing.

Rules beyond the table: a key set to ``null`` takes its default (``weight: null`` is weight
1.0); ``circuit_breaker: true`` is short for ``circuit_breaker: {enabled: true}``; numbers are
finite, >= 0 and below 2**63 (an edge's weight is at most 1); ``any`` and ``list`` values and
``parameters`` hold plain data only (text, numbers, booleans, null, lists and mappings, nested
at most 100 levels; no dates or binary values), and the parameters the engine reads are checked
(``hallucination_risk``, ``failure_rate`` and ``max_context_tokens`` are numbers >= 0; a
``requires_grounding`` that is not true or false, such as the text ``"false"``, which counts
as true, loads with a warning). An id, a source or a target that YAML reads as a number
or a boolean (``id: no``, ``id: 123``) is refused with a hint to quote it.

A self-dependency (an edge ``a -> a``) loads with an
:class:`~faultray_lab.common.errors.InputWarning` naming the edge and its line: ``faultray-v11``
applies its rules to it like to any edge and ``cps`` ignores it, so it is almost always a typo.
With ``strict_dag`` it is an error, like any other cycle.

Examples
--------
>>> t = topology_from_dict({"components": [{"id": "a", "type": "cache", "replicas": 2}]})
>>> t.components[0].replicas
2
>>> COMPONENT_KEYS["replicas"].default
1
>>> [r["key"] for r in schema_rows("edge")][:3]
['source', 'target', 'type']
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ..common.errors import InputError, InputWarning, show
from ..common.parsing import LineLocator
from ..common.suggest import suggest
from ..common.validate import MAX_INT, no_gc, plain_data_problem
from .checks import FileErrors, build, check_parameters, cycle_text, number_fix
from .topology import COMPONENT_TYPES, EDGE_TYPES, Component, Dependency, Topology, unknown_id_fix

#: The default of a key the engine and the availability model never read.
NOT_READ = "(accepted, not read)"
KINDS = ("str", "num", "int", "bool", "list", "map", "any")


@dataclass(frozen=True)
class Key:
    """One key of the schema: its kind, default and meaning (and nested keys for a map)."""

    kind: str
    doc: str
    default: Any = NOT_READ
    keys: Mapping[str, Key] | None = None


def _num(doc: str, default: Any = NOT_READ) -> Key:
    return Key("num", doc, default)


def _map(doc: str, keys: Mapping[str, Key]) -> Key:
    return Key("map", doc, "{}", MappingProxyType(dict(keys)))


def _unread(*names: str, kind: str = "num") -> dict[str, Key]:
    return {n: Key(kind, "kept for compatibility with the reference schema") for n in names}


_METRICS = {
    "cpu_percent": _num("CPU use, percent; part of utilization", 0),
    "memory_percent": _num("memory use, percent; part of utilization", 0),
    "disk_percent": _num("disk use, percent; part of utilization", 0),
    "network_connections": _num("open connections; utilization counts them as a share of "
                                "capacity.max_connections", 0),
    **_unread("memory_used_mb", "memory_total_mb", "disk_used_gb", "disk_total_gb",
              "open_files"),
}
_CAPACITY = {
    "timeout_seconds": _num("how long a caller waits (s); R7's timeout is 1000 x this in ms "
                            "(0: no timeout)", 30),
    "max_connections": _num("connection capacity; divides network_connections in "
                            "utilization", 1000),
    "connection_pool_size": _num("pool size; sets the likelihood of "
                                 "connection_pool_exhaustion", 100),
    **_unread("max_rps", "max_memory_mb", "max_disk_gb", "retry_multiplier"),
}
_AUTOSCALING = {
    "enabled": Key("bool", "autoscaling on: halves the component's SPOF penalty in the "
                   "resilience score", False),
    **_unread("min_replicas", "max_replicas", "scale_up_threshold", "scale_down_threshold",
              "scale_up_delay_seconds", "scale_down_delay_seconds", "scale_up_step"),
}
_FAILOVER = {
    "enabled": Key("bool", "automatic failover: lowers the SPOF penalty and the hardware "
                   "layer's failover cost", False),
    "promotion_time_seconds": _num("time to promote a standby (s), hardware layer", 30),
    "health_check_interval_seconds": _num("health-check interval (s), hardware layer", 10),
    "failover_threshold": _num("failed checks before failover, hardware layer", 3),
}
_OPERATIONAL = {
    "mtbf_hours": _num("mean time between failures (h); 0 uses the type's default", 0),
    "mttr_minutes": _num("mean time to repair (min)", 30),
    "deploy_downtime_seconds": _num("downtime per deploy (s), software layer", 30),
    "maintenance_downtime_minutes": Key("num", "kept for compatibility with the reference "
                                        "schema"),
    "degradation": _map("leak rates (kept, not read)", _unread(
        "memory_leak_mb_per_hour", "disk_fill_gb_per_hour", "connection_leak_per_hour")),
}
_NETWORK = {
    "packet_loss_rate": _num("packet loss probability, theoretical layer", 1e-4),
    **_unread("rtt_ms", "jitter_ms", "dns_resolution_ms", "tls_handshake_ms"),
}
_JITTER = {
    "gc_pause_ms": _num("garbage-collection pause (ms), theoretical layer", 0),
    "gc_pause_frequency": _num("GC pauses per second, theoretical layer", 0),
    **_unread("scheduling_jitter_ms"),
}
_TEAM = {
    "runbook_coverage_percent": _num("share of incidents with a runbook, operational layer",
                                     50),
    "automation_percent": _num("share of the response that is automated, operational layer",
                               20),
    **_unread("team_size", "oncall_coverage_hours", "timezone_coverage",
              "mean_acknowledge_time_minutes", "mean_diagnosis_time_minutes"),
}

#: Keys of one component.
COMPONENT_KEYS: Mapping[str, Key] = MappingProxyType({
    "id": Key("str", "unique component id (quote ids YAML would read as numbers or booleans)",
              "(required)"),
    "type": Key("str", f"one of {', '.join(COMPONENT_TYPES)}; the last three behave as "
                "custom", "custom"),
    "replicas": Key("int", "number of replicas, >= 1", 1),
    "name": Key("str", "display name", ""),
    "host": Key("str", "host name: components sharing one host fail together in zone "
                "scenarios", ""),
    "metrics": _map("observed load", _METRICS),
    "capacity": _map("capacity limits", _CAPACITY),
    "failover": _map("failover settings", _FAILOVER),
    "autoscaling": _map("autoscaling settings", _AUTOSCALING),
    "operational_profile": _map("reliability figures", _OPERATIONAL),
    "external_sla": _map("a provider's availability promise", {
        "provider_sla": _num("provider SLA in percent, external layer", "(none)")}),
    "network": _map("network quality", _NETWORK),
    "runtime_jitter": _map("runtime pauses", _JITTER),
    "team": _map("the owning team", _TEAM),
    "parameters": Key("any", "free mapping; agents read hallucination_risk (0.05), "
                      "requires_grounding, max_context_tokens, failure_rate", "{}"),
    "timeout_seconds": _num("compact form of capacity.timeout_seconds (the capacity block "
                            "wins)", 30),
    "utilization": _num("compact form of metrics.cpu_percent (the metrics block wins)", 0),
    "port": Key("num", "kept for compatibility with the reference schema"),
    "health": Key("str", "kept for compatibility with the reference schema"),
    "cache_warming": _map("cache warm-up (kept, not read)", {
        "enabled": Key("bool", "kept"), **_unread("initial_hit_ratio", "warm_duration_seconds"),
        "warming_curve": Key("str", "kept")}),
    "singleflight": _map("request coalescing (kept, not read)", {
        "enabled": Key("bool", "kept"), **_unread("coalesce_ratio")}),
    "slo_targets": Key("list", "kept for compatibility with the reference schema"),
    "tags": Key("list", "kept for compatibility with the reference schema"),
    "region": Key("any", "kept for compatibility with the reference schema"),
    "cost_profile": Key("any", "kept for compatibility with the reference schema"),
    "security": Key("any", "kept for compatibility with the reference schema"),
    "compliance_tags": Key("any", "kept for compatibility with the reference schema"),
})

#: Keys of one dependency edge (``source`` depends on ``target``).
EDGE_KEYS: Mapping[str, Key] = MappingProxyType({
    "source": Key("str", "the dependent component's id", "(required)"),
    "target": Key("str", "the id of the component it depends on", "(required)"),
    "type": Key("str", "requires, optional or async", "requires"),
    "latency_ms": _num("call latency (ms): adds to L over requires edges (cps), to T over "
                       "async edges", 0),
    "weight": _num("importance of the edge, in [0, 1]; agents weigh data sources by it", 1.0),
    "circuit_breaker": _map("circuit breaker on the edge; `circuit_breaker: true` is short for "
                            "enabled", {
                                "enabled": Key("bool", "breaker present (rule R6 under cps)",
                                               False),
                                **_unread("failure_threshold", "recovery_timeout_seconds",
                                          "half_open_max_requests", "success_threshold")}),
    "retry_strategy": _map("retries (kept, not read)", {
        "enabled": Key("bool", "kept"), "jitter": Key("bool", "kept"),
        **_unread("max_retries", "initial_delay_ms", "max_delay_ms", "multiplier",
                  "retry_budget_per_second")}),
    "protocol": Key("str", "kept for compatibility with the reference schema"),
    "port": Key("num", "kept for compatibility with the reference schema"),
})

#: Keys of the top level of a topology file.
TOP_KEYS: Mapping[str, Key] = MappingProxyType({
    "components": Key("list", "the components (at least one)", "(required)"),
    "dependencies": Key("list", "the dependency edges", "[]"),
    "schema_version": Key("any", "the reference schema's version tag"),
    "name": Key("str", "a name for the topology"),
    "description": Key("str", "free text"),
    "generator": Key("any", "what generated the file (synthetic topologies)"),
})

_TABLES = {"top": TOP_KEYS, "component": COMPONENT_KEYS, "edge": EDGE_KEYS}


def schema_rows(table: str | Mapping[str, Key] = "component") -> list[dict[str, str]]:
    """A schema table flattened for documentation: one row per key (nested keys dotted).

    Parameters
    ----------
    table : {"top", "component", "edge"} or mapping of Key
        One of this module's tables, or any other table of :class:`Key` rows (the incident
        schema's, for example).

    Returns
    -------
    list of dict
        ``key``, ``kind``, ``default`` and ``meaning``, in table order.

    Examples
    --------
    >>> schema_rows("edge")[2]
    {'key': 'type', 'kind': 'str', 'default': 'requires', 'meaning': 'requires, optional or async'}
    """
    if isinstance(table, str):
        if table not in _TABLES:
            raise InputError(None, "table", f"unknown schema table '{table}'",
                             suggest(table, list(_TABLES)))
        table = _TABLES[table]
    rows: list[dict[str, str]] = []

    def walk(keys: Mapping[str, Key], prefix: str) -> None:
        for name, key in keys.items():
            rows.append({"key": prefix + name, "kind": key.kind, "default": str(key.default),
                         "meaning": key.doc})
            if key.keys is not None:
                walk(key.keys, f"{prefix}{name}.")

    walk(table, "")
    return rows


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------
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

    Raises
    ------
    InputError
        Unknown keys (with the nearest valid key), wrong types, NaN or negative numbers,
        duplicate ids or edges, edges to unknown ids, unknown types, replicas < 1, and a
        dependency cycle when ``strict_dag``.

    Examples
    --------
    >>> t = topology_from_dict({
    ...     "components": [{"id": "web", "type": "web_server"}, {"id": "db", "type": "database"}],
    ...     "dependencies": [{"source": "web", "target": "db", "type": "requires"}]})
    >>> t.ids
    ('web', 'db')
    """
    if not isinstance(source, str):
        raise InputError(None, "source", f"source must be text, not {show(source)}",
                         "pass the file name or a label")
    if text is not None and not isinstance(text, str):
        raise InputError(source, "text", f"text must be the file's text, not "
                         f"{type(text).__name__}", "pass the text the data was parsed from, "
                         "or None")
    fail = FileErrors(source, LineLocator(text), tuple(path_prefix))

    if not isinstance(data, Mapping):
        raise fail((), "", f"the top level is a {type(data).__name__}, not a mapping",
                   "write a mapping with 'components' and 'dependencies' keys")
    check_keys(data, TOP_KEYS, (), "", fail)
    raw_components = data.get("components")
    if not isinstance(raw_components, list) or not raw_components:
        raise fail(("components",), "components", "no components",
                   "add a non-empty 'components' list")
    raw_deps = data.get("dependencies") or []
    if not isinstance(raw_deps, list):
        raise fail(("dependencies",), "dependencies", "'dependencies' is not a list",
                   "write dependencies as a list of {source, target, type} mappings")
    with no_gc():
        comps = _components(raw_components, fail)
        deps = _dependencies(raw_deps, {c.id for c in comps}, tuple(c.id for c in comps), fail)
        topo = Topology(tuple(comps), tuple(deps), source)
    if strict_dag:
        cycle = topo.find_cycle()
        if cycle:
            raise fail(("dependencies",), "dependencies", cycle_text(cycle),
                       "remove one edge of the cycle, or load without --strict-dag")
    for k, e in enumerate(deps):
        if e.source == e.target:
            warnings.warn(str(fail(("dependencies", k), f"dependencies[{k}] ({e.source} -> "
                                   f"{e.target})", f"component '{e.source}' depends on itself",
                                   "remove the edge (faultray-v11 applies its rules to it like "
                                   "to any edge, cps ignores it); --strict-dag refuses it")),
                          InputWarning, stacklevel=2)
    return topo


def _components(raw_components: list[Any], fail: Any) -> list[Component]:
    comps: list[Component] = []
    seen: dict[str, int] = {}
    for i, rc in enumerate(raw_components):
        path = ("components", i)
        if not isinstance(rc, Mapping):
            raise fail(path, f"components[{i}]", "a component is not a mapping",
                       "write each component as a mapping with at least 'id' and 'type'")
        cid = rc.get("id")
        where = f"components[{i}]" + (f" (id '{cid}')" if isinstance(cid, str) else "")
        if cid is None or cid == "":
            raise fail(path, where, "missing or non-string 'id'", "give every component an id")
        if not isinstance(cid, str):
            if isinstance(cid, bool | int | float):
                read, fix = fail.read_as(path + ("id",), "id", cid)
                raise fail(path + ("id",), where, f"missing or non-string 'id': {read}", fix)
            raise fail(path + ("id",), where, f"missing or non-string 'id': a "
                       f"{type(cid).__name__}", "write the id as text")
        check_keys(rc, COMPONENT_KEYS, path, where, fail)
        if cid in seen:
            raise fail(path, where,
                       f"duplicate component id '{cid}' (also components[{seen[cid]}])",
                       "give every component a unique id")
        seen[cid] = i
        comps.append(_component(rc, path, where, fail))
    return comps


def _dependencies(raw_deps: list[Any], seen: set[str], ids: tuple[str, ...],
                  fail: Any) -> list[Dependency]:
    deps: list[Dependency] = []
    pairs: dict[tuple[str, str], int] = {}
    for k, rd in enumerate(raw_deps):
        path = ("dependencies", k)
        where = f"dependencies[{k}]"
        if not isinstance(rd, Mapping):
            raise fail(path, where, "a dependency is not a mapping",
                       "write each dependency as {source, target, type}")
        check_keys(rd, EDGE_KEYS, path, where, fail)
        s, t = rd.get("source"), rd.get("target")
        where = f"dependencies[{k}] ({s} -> {t})"
        for key, v in (("source", s), ("target", t)):
            if v is None:
                raise fail(path, where, f"missing '{key}'", f"add the {key} component id")
            if not isinstance(v, str):
                read, fix = fail.read_as(path + (key,), key, v)
                raise fail(path + (key,), where, f"{key} is not a component id: {read}", fix)
            if v not in seen:
                raise fail(path + (key,), where, f"{key} '{v}' is not a component id",
                           unknown_id_fix(v, ids) if len(ids) <= 12 or suggest(v, ids, "")
                           else "add that component or fix the id")
        et = rd.get("type")
        et = "requires" if et is None else et
        if et not in EDGE_TYPES:
            raise fail(path + ("type",), where, f"unknown dependency type '{et}'",
                       suggest(et, EDGE_TYPES))
        if (s, t) in pairs:
            raise fail(path, where, f"duplicate dependency {s} -> {t} "
                       f"(also dependencies[{pairs[(s, t)]}])", "keep one edge per pair")
        pairs[(s, t)] = k
        cb = rd.get("circuit_breaker")
        enabled = cb if isinstance(cb, bool) else bool((cb or {}).get("enabled") or False)
        weight = float(_value(rd, "weight", default=1.0))
        if weight > 1:
            raise fail(path + ("weight",), f"{where}.weight", f"'weight' is {weight:g}, above "
                       "1", "write a weight in [0, 1] (1: the edge matters fully)")
        deps.append(build(Dependency, path, where, fail,
                           source=s, target=t, type=et, weight=weight,
                           latency_ms=float(_value(rd, "latency_ms", default=0.0)),
                           circuit_breaker=enabled))
    return deps


def check_keys(obj: Mapping[str, Any], schema: Mapping[str, Key], path: tuple[Any, ...],
               where: str, fail: Any) -> None:
    """Reject unknown keys, wrong types, NaN and negative numbers, recursively.

    ``fail(path, where, problem, fix)`` builds the error (it knows the file and the lines).
    """
    for key, value in obj.items():
        spec = schema.get(key) if type(key) is str else None
        if spec is not None:
            if value is None:
                continue
            # fast path for the common valid cases (NaN fails the comparisons)
            kind, t = spec.kind, type(value)
            if kind == "num" or kind == "int":
                if (t is float or t is int) and 0 <= value <= MAX_INT:
                    continue
            elif kind == "str":
                if t is str:
                    continue
            elif kind == "bool" and t is bool:
                continue
        kpath = path + (key,)
        kwhere = f"{where}.{key}" if where else str(key)
        if spec is None:
            raise fail(kpath, kwhere, f"unknown key '{key}'",
                       suggest(str(key), tuple(schema),
                               f"valid keys here: {', '.join(schema)}"))
        _check_value(key, value, spec, kpath, kwhere, fail)


def _check_value(key: str, value: Any, spec: Key, kpath: tuple[Any, ...], kwhere: str,
                 fail: Any) -> None:
    kind = spec.kind
    if kind == "map":
        if not isinstance(value, Mapping):
            if key == "circuit_breaker" and isinstance(value, bool):
                return
            raise fail(kpath, kwhere, f"'{key}' must be a mapping, not "
                       f"{type(value).__name__}", f"write it as {key}: {{...}}")
        check_keys(value, spec.keys or {}, kpath, kwhere, fail)
    elif kind in ("num", "int"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise fail(kpath, kwhere, f"'{key}' must be a number, not {show(value)}",
                       number_fix(value))
        if isinstance(value, float) and math.isnan(value):
            raise fail(kpath, kwhere, f"'{key}' is NaN", "write a finite number")
        if value < 0:
            raise fail(kpath, kwhere, f"'{key}' is negative ({show(value)})",
                       "use a value >= 0")
        if math.isinf(value):
            raise fail(kpath, kwhere, f"'{key}' is infinite", "write a finite number")
        if value > MAX_INT:
            raise fail(kpath, kwhere, f"'{key}' is too large ({show(value)})",
                       "write a number below 2**63 (about 9.2e18)")
    elif kind == "bool":
        if not isinstance(value, bool) and value not in (0, 1):
            raise fail(kpath, kwhere, f"'{key}' must be true or false, not {show(value)}",
                       "write true or false")
    elif kind == "str":
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            if isinstance(value, bool) and hasattr(fail, "read_as"):
                read, fix = fail.read_as(kpath, key, value)
                raise fail(kpath, kwhere, f"'{key}' must be a string: {read}", fix)
            raise fail(kpath, kwhere, f"'{key}' must be a string, not "
                       f"{type(value).__name__}", "write it as text")
    elif kind == "list" and not isinstance(value, list):
        raise fail(kpath, kwhere, f"'{key}' must be a list", "write it as a list")
    if kind in ("list", "any") and key not in _CHECKED_ELSEWHERE:
        bad = plain_data_problem(value)
        if bad is not None:
            sub, problem, fix = bad
            raise fail(kpath, kwhere + (f".{sub}" if sub and sub[0] != "[" else sub),
                       problem, fix)


# list and free values validated by their own code, not as plain data
_CHECKED_ELSEWHERE = frozenset({"components", "dependencies", "parameters"})


def _value(d: Mapping[str, Any], *keys: str, default: Any = None) -> Any:
    for k in keys[:-1]:
        d = d.get(k) or {}
    v = d.get(keys[-1])
    return default if v is None else v


def _component(rc: Mapping[str, Any], path: tuple[Any, ...], where: str, fail: Any) -> Component:
    ctype = rc.get("type")
    ctype = "custom" if ctype is None else ctype
    if ctype not in COMPONENT_TYPES:
        raise fail(path + ("type",), where, f"unknown component type '{ctype}'",
                   suggest(ctype, COMPONENT_TYPES))
    replicas = rc.get("replicas")
    replicas = 1 if replicas is None else replicas
    if isinstance(replicas, float) and replicas.is_integer():
        replicas = int(replicas)
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 1:
        raise fail(path + ("replicas",), where, f"replicas must be a whole number >= 1, "
                   f"not {replicas!r}", "set replicas to 1 or more")
    metrics = rc.get("metrics") or {}
    cpu = metrics.get("cpu_percent")
    if cpu is None:
        cpu = rc.get("utilization", 0.0)
    timeout = _value(rc, "capacity", "timeout_seconds", default=None)
    if timeout is None:
        timeout = rc.get("timeout_seconds", 30.0)
    params = rc.get("parameters") or {}
    if not isinstance(params, Mapping):
        raise fail(path + ("parameters",), where, "'parameters' must be a mapping",
                   "write parameters as key: value pairs")
    check_parameters(params, path, where, fail)
    sla = _value(rc, "external_sla", "provider_sla")
    return build(Component, path, where, fail,
        id=rc["id"], type=ctype, replicas=replicas, name=str(rc.get("name") or ""),
        host=str(rc.get("host") or ""), timeout_seconds=float(timeout),
        max_connections=float(_value(rc, "capacity", "max_connections", default=1000)),
        connection_pool_size=float(_value(rc, "capacity", "connection_pool_size", default=100)),
        cpu_percent=float(cpu), memory_percent=float(metrics.get("memory_percent") or 0.0),
        disk_percent=float(metrics.get("disk_percent") or 0.0),
        network_connections=float(metrics.get("network_connections") or 0.0),
        failover=bool(_value(rc, "failover", "enabled", default=False)),
        failover_promotion_seconds=float(_value(rc, "failover", "promotion_time_seconds",
                                                default=30.0)),
        failover_health_check_interval_seconds=float(
            _value(rc, "failover", "health_check_interval_seconds", default=10.0)),
        failover_threshold=float(_value(rc, "failover", "failover_threshold", default=3)),
        autoscaling=bool(_value(rc, "autoscaling", "enabled", default=False)),
        mtbf_hours=float(_value(rc, "operational_profile", "mtbf_hours", default=0.0)),
        mttr_minutes=float(_value(rc, "operational_profile", "mttr_minutes", default=30.0)),
        deploy_downtime_seconds=float(_value(rc, "operational_profile",
                                             "deploy_downtime_seconds", default=30.0)),
        provider_sla=None if sla is None else float(sla),
        packet_loss_rate=float(_value(rc, "network", "packet_loss_rate", default=1e-4)),
        gc_pause_ms=float(_value(rc, "runtime_jitter", "gc_pause_ms", default=0.0)),
        gc_pause_frequency=float(_value(rc, "runtime_jitter", "gc_pause_frequency",
                                        default=0.0)),
        runbook_coverage_percent=float(_value(rc, "team", "runbook_coverage_percent",
                                              default=50.0)),
        automation_percent=float(_value(rc, "team", "automation_percent", default=20.0)),
        parameters=MappingProxyType(dict(params)),
    )

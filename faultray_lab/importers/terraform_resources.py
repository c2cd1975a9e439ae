"""Terraform resources as components: type mapping, capacity, and the edges between them.

Resource types of AWS, Google Cloud and Azure map to component types; replicas, failover and
autoscaling come from a resource's attributes (:func:`capacity`); edges come from type rules
and from references between resources (the plan's ``configuration`` and attribute values
carrying another resource's id, ARN or endpoint). :func:`side_topology` puts them together
for one side (before or after) of a plan; :mod:`faultray_lab.importers.terraform` reads the
plan.

Examples
--------
>>> component_type("aws_db_instance"), component_type("aws_iam_role") is None
('database', True)
>>> capacity("aws_db_instance", {"multi_az": True})[:2]
(2, True)
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ..common.errors import InputError, show
from ..common.validate import MAX_INT
from ..model.topology import Component, Dependency, Topology


class BadCount(ValueError):
    """A count attribute holds a number that cannot be a count (negative, fractional, huge)."""

    def __init__(self, path: tuple[Any, ...], value: Any) -> None:
        super().__init__(f"{path}: {value!r}")
        self.path, self.value = path, value

# ---------------------------------------------------------------------------------------------
# Resource type -> component type (AWS, Google Cloud, Azure, plus Kubernetes workloads)
# ---------------------------------------------------------------------------------------------
_TYPES_BY_COMPONENT: dict[str, tuple[str, ...]] = {
    "load_balancer": (
        "aws_lb", "aws_alb", "aws_elb", "aws_api_gateway_rest_api", "aws_apigatewayv2_api",
        "aws_cloudfront_distribution", "aws_globalaccelerator_accelerator",
        "google_compute_forwarding_rule", "google_compute_global_forwarding_rule",
        "azurerm_lb", "azurerm_application_gateway", "azurerm_frontdoor",
        "azurerm_cdn_frontdoor_profile", "azurerm_api_management", "kubernetes_ingress_v1",
    ),
    "app_server": (
        "aws_instance", "aws_ecs_service", "aws_autoscaling_group", "aws_eks_node_group",
        "aws_elastic_beanstalk_environment", "aws_apprunner_service",
        "google_compute_instance", "google_compute_instance_group_manager",
        "google_compute_region_instance_group_manager", "google_container_node_pool",
        "google_cloud_run_service", "google_cloud_run_v2_service", "google_app_engine_application",
        "azurerm_linux_virtual_machine", "azurerm_windows_virtual_machine",
        "azurerm_virtual_machine", "azurerm_linux_virtual_machine_scale_set",
        "azurerm_windows_virtual_machine_scale_set", "azurerm_kubernetes_cluster",
        "azurerm_kubernetes_cluster_node_pool", "azurerm_linux_web_app",
        "azurerm_windows_web_app", "azurerm_app_service", "azurerm_container_app",
        "azurerm_container_group", "kubernetes_deployment", "kubernetes_deployment_v1",
    ),
    "serverless": (
        "aws_lambda_function", "google_cloudfunctions_function",
        "google_cloudfunctions2_function", "azurerm_linux_function_app",
        "azurerm_windows_function_app", "azurerm_function_app",
    ),
    "database": (
        "aws_db_instance", "aws_rds_cluster", "aws_rds_cluster_instance", "aws_dynamodb_table",
        "aws_docdb_cluster", "aws_neptune_cluster", "aws_redshift_cluster",
        "aws_opensearch_domain", "aws_elasticsearch_domain",
        "google_sql_database_instance", "google_spanner_instance", "google_bigtable_instance",
        "google_firestore_database", "google_alloydb_cluster",
        "azurerm_mssql_server", "azurerm_mssql_database", "azurerm_postgresql_server",
        "azurerm_postgresql_flexible_server", "azurerm_mysql_flexible_server",
        "azurerm_cosmosdb_account", "azurerm_sql_database",
    ),
    "cache": (
        "aws_elasticache_cluster", "aws_elasticache_replication_group", "aws_memorydb_cluster",
        "aws_dax_cluster", "google_redis_instance", "google_memcache_instance",
        "azurerm_redis_cache",
    ),
    "queue": (
        "aws_sqs_queue", "aws_sns_topic", "aws_kinesis_stream", "aws_msk_cluster",
        "aws_mq_broker", "google_pubsub_topic", "google_pubsub_subscription",
        "google_cloud_tasks_queue", "azurerm_servicebus_namespace", "azurerm_servicebus_queue",
        "azurerm_servicebus_topic", "azurerm_eventhub", "azurerm_eventhub_namespace",
        "azurerm_storage_queue",
    ),
    "storage": (
        "aws_s3_bucket", "aws_efs_file_system", "aws_ebs_volume", "google_storage_bucket",
        "google_filestore_instance", "azurerm_storage_account", "azurerm_storage_container",
    ),
    "dns": (
        "aws_route53_record", "aws_route53_zone", "google_dns_record_set",
        "google_dns_managed_zone", "azurerm_dns_zone", "azurerm_dns_a_record",
        "azurerm_dns_cname_record", "azurerm_traffic_manager_profile",
    ),
}
_TYPE_MAP: dict[str, str] = {t: c for c, ts in _TYPES_BY_COMPONENT.items() for t in ts}

#: Regional managed services that are replicated across zones by the provider: 2 replicas with
#: failover unless an attribute says otherwise (a bucket or a queue is not a single point of
#: failure the way one VM is).
MANAGED_HA = frozenset({
    "aws_s3_bucket", "aws_sqs_queue", "aws_sns_topic", "aws_dynamodb_table", "aws_route53_record",
    "aws_route53_zone", "aws_lambda_function", "aws_cloudfront_distribution",
    "aws_api_gateway_rest_api", "aws_apigatewayv2_api", "aws_kinesis_stream",
    "google_storage_bucket", "google_pubsub_topic", "google_pubsub_subscription",
    "google_cloud_tasks_queue", "google_dns_record_set", "google_dns_managed_zone",
    "google_compute_global_forwarding_rule", "google_cloudfunctions_function",
    "google_cloudfunctions2_function", "google_firestore_database",
    "azurerm_storage_account", "azurerm_storage_container", "azurerm_storage_queue",
    "azurerm_dns_zone", "azurerm_dns_a_record", "azurerm_dns_cname_record",
    "azurerm_traffic_manager_profile", "azurerm_frontdoor", "azurerm_cdn_frontdoor_profile",
})

#: Component types that play the "app" role of the type rules.
APP_TYPES = ("app_server", "web_server", "serverless")

#: Type rules: (dependent role, dependency type, edge type). "app" means any of APP_TYPES.
TYPE_RULES: tuple[tuple[str, str, str], ...] = (
    ("load_balancer", "app", "requires"),
    ("app", "database", "requires"),
    ("app", "cache", "optional"),
    ("app", "queue", "async"),
    ("dns", "load_balancer", "requires"),
)

KNOWN_ACTIONS = ("no-op", "create", "read", "update", "delete", "forget")
_BEFORE_ACTIONS = frozenset({"no-op", "update", "delete", "read", "forget"})
_AFTER_ACTIONS = frozenset({"no-op", "update", "create", "read", "forget"})


def component_type(resource_type: str) -> str | None:
    """The component type of a Terraform resource type, or None when it is not modelled.

    Examples
    --------
    >>> component_type("aws_db_instance"), component_type("azurerm_redis_cache")
    ('database', 'cache')
    >>> component_type("aws_iam_role") is None
    True
    """
    return _TYPE_MAP.get(resource_type)


def _role(ctype: str) -> str:
    return "app" if ctype in APP_TYPES else ctype


def _rule_edge(dependent: str, dependency: str) -> str | None:
    """The edge type a type rule gives ``dependent -> dependency``, or None."""
    a, b = _role(dependent), _role(dependency)
    for src, dst, etype in TYPE_RULES:
        if src == a and dst == b:
            return etype
    return None


# ---------------------------------------------------------------------------------------------
# Parsed plan
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ResourceChange:
    """One entry of the plan's ``resource_changes``.

    ``component_id`` is the address without the resource's own instance key (instances of one
    ``count``/``for_each`` block form one component); ``config_key`` also drops module instance
    keys (the key of the resource block in the plan's ``configuration``). ``deposed`` is the key
    of a stale object left by a create-before-destroy replacement (not a component).
    """

    address: str
    resource_type: str
    mode: str
    actions: tuple[str, ...]
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    component_id: str
    module_path: str
    config_key: str
    component_type: str | None
    deposed: str | None = None

    @property
    def in_before(self) -> bool:
        """Whether the resource exists before the apply."""
        return bool(_BEFORE_ACTIONS.intersection(self.actions)) or self.is_replace

    @property
    def in_after(self) -> bool:
        """Whether the resource exists after the apply."""
        return bool(_AFTER_ACTIONS.intersection(self.actions)) or self.is_replace

    @property
    def is_replace(self) -> bool:
        """Whether the resource is destroyed and created again."""
        return "delete" in self.actions and "create" in self.actions

    @property
    def action(self) -> str:
        """One word: no-op, create, read, update, delete, replace or forget."""
        return "replace" if self.is_replace else self.actions[0]

    def values(self, side: str) -> Mapping[str, Any]:
        """The attribute values on one side (``"before"`` or ``"after"``); ``{}`` if unknown.

        A data source being read has no ``before`` values; its ``after`` values stand for both.
        """
        first, second = (self.before, self.after) if side == "before" else (self.after,
                                                                             self.before)
        return first if first is not None else (second or {})


INDEX_KEY = re.compile(r'\[(?:"(?:[^"\\]|\\.)*"|[^\]"]*)\]')


# ---------------------------------------------------------------------------------------------
# Replicas, failover and autoscaling from attributes
# ---------------------------------------------------------------------------------------------
_COUNT_PATHS: tuple[tuple[Any, ...], ...] = (
    ("desired_count",), ("desired_capacity",), ("num_cache_nodes",), ("num_cache_clusters",),
    ("number_cache_clusters",), ("instance_count",), ("node_count",), ("target_size",),
    ("instances",), ("worker_count",), ("number_of_broker_nodes",), ("initial_node_count",),
    ("replicas",), ("scaling_config", 0, "desired_size"), ("default_node_pool", 0, "node_count"),
    ("cluster_config", 0, "instance_count"), ("sku", 0, "capacity"),
    ("autoscaling", 0, "min_node_count"), ("template", 0, "scaling", 0, "min_instance_count"),
    ("spec", 0, "replicas"), ("min_size",),
)
# counts of replicas in addition to the primary
_EXTRA_PATHS: tuple[tuple[Any, ...], ...] = (("replica_count",), ("replicas_per_node_group",))


def _dig(values: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        if isinstance(key, int):
            if not isinstance(values, list) or len(values) <= key:
                return None
        elif not isinstance(values, Mapping):
            return None
        values = values[key] if isinstance(key, int) else values.get(key)
    return values


def _count(v: Any, path: tuple[Any, ...] = ()) -> int | None:
    """A count attribute's value; None for a value that is not a number (the attribute names
    are shared across resource types, some of which hold lists or text under them).

    Raises
    ------
    BadCount
        A number that is negative, not whole, not finite or above 2**63.
    """
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    if isinstance(v, float) and not (math.isfinite(v) and v.is_integer()):
        raise BadCount(path, v)
    if not 0 <= v <= MAX_INT:
        raise BadCount(path, v)
    return int(v)


def capacity(rtype: str, values: Mapping[str, Any]) -> tuple[int, bool, bool, str]:
    """(replicas, failover, autoscaling, where the replicas came from) of one resource."""
    replicas, source = 1, "default"
    failover = autoscaling = False
    if rtype in MANAGED_HA:
        replicas, failover, source = 2, True, "managed regional service"
    for path in _COUNT_PATHS:
        n = _count(_dig(values, path), path)
        if n is not None:
            replicas, source = n, ".".join(str(k) for k in path)
            break
    else:
        for path in _EXTRA_PATHS:
            n = _count(_dig(values, path), path)
            if n is not None:
                replicas, source = 1 + n, f"1 + {'.'.join(str(k) for k in path)}"
                break
    if rtype in ("aws_lb", "aws_alb", "aws_elb") and source == "default":
        zones = values.get("subnets") or values.get("subnet_mapping") \
            or values.get("availability_zones")
        if isinstance(zones, list) and zones:
            replicas, source = len(zones), "subnets"
    ha = [
        values.get("multi_az") is True and "multi_az",
        values.get("multi_az_enabled") is True and "multi_az_enabled",
        _dig(values, ("settings", 0, "availability_type")) == "REGIONAL" and "availability_type",
        values.get("tier") == "STANDARD_HA" and "tier",
        bool(_dig(values, ("high_availability", 0, "mode"))) and "high_availability",
        values.get("zone_redundant") is True and "zone_redundant",
        values.get("deployment_mode") in ("ACTIVE_STANDBY_MULTI_AZ", "CLUSTER_MULTI_AZ")
        and "deployment_mode",
    ]
    geo = values.get("geo_location")
    if isinstance(geo, list) and len(geo) >= 2:
        ha.append("geo_location")
        replicas, source = max(replicas, len(geo)), "geo_location"
    flags = [h for h in ha if h]
    if flags:
        failover = True
        if replicas < 2:
            replicas, source = 2, flags[0]
    if values.get("automatic_failover_enabled") is True:
        failover = True
    lo, hi = _count(values.get("min_size"), ("min_size",)), \
        _count(values.get("max_size"), ("max_size",))
    auto = _dig(values, ("autoscaling", 0))
    if (lo is not None and hi is not None and hi > lo) or values.get("enable_auto_scaling") \
            is True or _dig(values, ("default_node_pool", 0, "enable_auto_scaling")) is True \
            or (isinstance(auto, Mapping)
                and (_count(auto.get("max_node_count"), ("autoscaling", 0, "max_node_count"))
                     or 0) > (_count(auto.get("min_node_count"),
                                     ("autoscaling", 0, "min_node_count")) or 0)):
        autoscaling = True
    return max(1, replicas), failover, autoscaling, source


# ---------------------------------------------------------------------------------------------
# References between resources
# ---------------------------------------------------------------------------------------------
_NON_RESOURCE = frozenset({"var", "local", "each", "count", "path", "self", "terraform"})


def config_references(config: Any, source: str | None = None) -> dict[str, set[str]]:
    """config key -> config keys of the resources its expressions refer to.

    Resolves module outputs (``module.db.endpoint``) and module input variables (``var.x``
    inside a module) to the resources behind them. ``source`` names the plan in errors.

    Raises
    ------
    InputError
        A module's ``resources`` that is not a list.
    """
    out: dict[str, set[str]] = {}
    if not isinstance(config, Mapping) or not isinstance(config.get("root_module"), Mapping):
        return out
    modules: dict[str, Mapping[str, Any]] = {}  # module prefix ("" for root) -> module body
    calls: dict[str, Mapping[str, Any]] = {}  # module prefix -> its module_call (in the parent)

    def collect(prefix: str, body: Mapping[str, Any]) -> None:
        modules[prefix] = body
        mc = body.get("module_calls")
        if isinstance(mc, Mapping):
            for name, call in mc.items():
                if isinstance(call, Mapping) and isinstance(call.get("module"), Mapping):
                    child = f"{prefix}module.{name}."
                    calls[child] = call
                    collect(child, call["module"])

    collect("", config["root_module"])
    for prefix, body in modules.items():
        if not isinstance(body.get("resources") or [], list):
            where = "configuration.root_module" + "".join(
                f".module_calls.{p}.module" for p in prefix.split("module.")[1:])
            raise InputError(source, f"{where.replace('..', '.').rstrip('.')}.resources",
                             f"must be a list, not {type(body['resources']).__name__}",
                             "pass the plan as `terraform show -json` writes it")
    known = set()
    for prefix, body in modules.items():
        for r in body.get("resources") or ():
            if isinstance(r, Mapping) and isinstance(r.get("address"), str):
                known.add(prefix + r["address"])

    def resolve(ref: str, prefix: str, depth: int) -> set[str]:
        if depth > 20:
            return set()
        parts = INDEX_KEY.sub("", ref).split(".")
        if parts[0] == "module" and len(parts) >= 3:
            child = f"{prefix}module.{parts[1]}."
            outputs = (modules.get(child) or {}).get("outputs") or {}
            expr = outputs.get(parts[2]) if isinstance(outputs, Mapping) else None
            return _resolve_all(_refs_in(expr), child, depth + 1)
        if parts[0] == "var" and len(parts) >= 2 and prefix in calls:
            parent = prefix[: prefix.rstrip(".").rfind("module.")]
            exprs = calls[prefix].get("expressions") or {}
            expr = exprs.get(parts[1]) if isinstance(exprs, Mapping) else None
            return _resolve_all(_refs_in(expr), parent, depth + 1)
        if parts[0] in _NON_RESOURCE or parts[0] == "module":
            return set()
        n = 3 if parts[0] == "data" else 2
        key = prefix + ".".join(parts[:n])
        return {key} if len(parts) >= n and key in known else set()

    def _resolve_all(refs: Iterable[str], prefix: str, depth: int) -> set[str]:
        found: set[str] = set()
        for ref in refs:
            found |= resolve(ref, prefix, depth)
        return found

    for prefix, body in modules.items():
        for r in body.get("resources") or ():
            if not isinstance(r, Mapping) or not isinstance(r.get("address"), str):
                continue
            key = prefix + r["address"]
            targets = _resolve_all(_refs_in(r), prefix, 0) - {key}
            if targets:
                out.setdefault(key, set()).update(targets)
    return out


def _refs_in(obj: Any) -> Iterator[str]:
    """Every string of every ``references`` list inside a configuration fragment."""
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            if k == "references" and isinstance(v, list):
                yield from (x for x in v if isinstance(x, str))
            else:
                yield from _refs_in(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _refs_in(v)


# attributes that identify a resource when another resource's attribute carries them
_ID_KEYS = ("id", "arn", "endpoint", "address", "dns_name", "fqdn", "self_link", "hostname",
            "invoke_arn", "primary_endpoint_address", "configuration_endpoint_address",
            "reader_endpoint", "connection_name", "default_hostname", "uri", "url")


def _strings(obj: Any) -> Iterator[str]:
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, Mapping):
        for v in obj.values():
            yield from _strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)


def _value_references(members: dict[str, list[ResourceChange]], side: str) -> list[tuple[str,
                                                                                        str]]:
    """(referrer, referred) component pairs: an attribute holds the other's id or endpoint.

    Exact matches for identifiers of 8 or more characters; host-like identifiers (with a dot)
    also match inside longer strings such as connection strings.
    """
    exact: dict[str, str] = {}
    hosts: list[tuple[str, str]] = []
    for cid, rcs in members.items():
        for rc in rcs:
            vals = rc.values(side)
            for k in _ID_KEYS:
                v = vals.get(k)
                if isinstance(v, str) and len(v) >= 8:
                    exact.setdefault(v, cid)
                    if "." in v and "/" not in v:
                        hosts.append((v, cid))
    order = {cid: k for k, cid in enumerate(members)}
    pairs: list[tuple[str, str]] = []
    for cid, rcs in members.items():
        found: set[str] = set()
        for rc in rcs:
            for s in _strings(rc.values(side)):
                hit = exact.get(s)
                if hit is not None and hit != cid:
                    found.add(hit)
                elif len(s) > 8:
                    found.update(h for host, h in hosts if h != cid and host in s)
        pairs.extend((cid, other) for other in sorted(found, key=order.__getitem__))
    return pairs


# ---------------------------------------------------------------------------------------------
# Building one side
# ---------------------------------------------------------------------------------------------
def side_topology(changes: tuple[ResourceChange, ...], side: str,
                   refs: Mapping[str, set[str]], source: str) -> Topology:
    members: dict[str, list[ResourceChange]] = {}
    for rc in changes:
        present = rc.in_before if side == "before" else rc.in_after
        if rc.component_type is not None and rc.deposed is None and present:
            members.setdefault(rc.component_id, []).append(rc)
    comps: list[Component] = []
    for cid, rcs in members.items():
        replicas = 0
        failover = autoscaling = False
        sources = []
        for rc in rcs:
            try:
                r, f, a, src = capacity(rc.resource_type, rc.values(side))
            except BadCount as exc:
                attr = ".".join(str(k) if isinstance(k, str) else f"[{k}]" for k in exc.path)
                raise InputError(source, f"resource_changes ({rc.address}).change.{side}."
                                 f"{attr.replace('.[', '[')}", f"{show(exc.value)} is not a "
                                 "count (a whole number from 0 to 2**63)", "fix the plan: "
                                 "Terraform writes counts as whole numbers") from None
            replicas += r
            failover |= f
            autoscaling |= a
            sources.append(src)
        if replicas > MAX_INT:
            raise InputError(source, f"{cid} ({side})", f"{len(rcs)} instances add up to "
                             f"{show(replicas)} replicas", "fix the counts of the plan")
        first = rcs[0]
        params = {"terraform_type": first.resource_type, "terraform_instances": len(rcs),
                  "replicas_from": sources[0]}
        comps.append(Component(cid, first.component_type or "custom", replicas=replicas,
                               failover=failover, autoscaling=autoscaling,
                               parameters=MappingProxyType(params)))
    edges: dict[tuple[str, str], str] = {}
    # 1. type rules, in component order
    for a in comps:
        for b in comps:
            if a.id != b.id:
                etype = _rule_edge(a.type, b.type)
                if etype is not None:
                    edges.setdefault((a.id, b.id), etype)
    # 2. references: configuration expressions, then attribute values
    by_key: dict[str, list[str]] = {}
    for cid, rcs in members.items():
        for rc in rcs:
            if cid not in by_key.setdefault(rc.config_key, []):
                by_key[rc.config_key].append(cid)
    pairs: list[tuple[str, str]] = []
    for cid, rcs in members.items():
        for rc in rcs:
            for key in sorted(refs.get(rc.config_key, ())):
                for other in by_key.get(key, ()):
                    if _same_module(members[other][0], rc):
                        pairs.append((cid, other))
    pairs.extend(_value_references(members, side))
    # a pair of types with a rule is already joined, in the rule's direction, so a reference
    # (an ECS service naming its load balancer's target group) never reverses it
    for a, b in pairs:
        if a != b and (a, b) not in edges and (b, a) not in edges:
            edges[(a, b)] = "requires"
    deps = tuple(Dependency(s, t, e) for (s, t), e in edges.items())
    return Topology(tuple(comps), deps, f"{source} ({side})")


def _same_module(a: ResourceChange, b: ResourceChange) -> bool:
    """Whether a configuration reference between the two can hold between these instances.

    References inside one module instance stay inside it; across modules (through outputs and
    variables) any instances match.
    """
    return a.module_path == b.module_path or INDEX_KEY.sub("", a.module_path) != INDEX_KEY.sub(
        "", b.module_path)

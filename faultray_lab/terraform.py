"""Terraform plan guard: the resilience of a planned change, before and after.

Reads the JSON form of a Terraform plan (``terraform show -json plan.out > plan.json``) and builds
two topologies on the same footing:

* ``before``: every resource that exists before the apply (actions ``no-op``, ``update``,
  ``delete``, a replace, ``read``, ``forget``);
* ``after``: every resource that exists after it (``no-op``, ``update``, ``create``, a replace,
  ``read``, ``forget``).

A resource the plan leaves alone is therefore in both, with the same attributes and edges, so the
two scores compare the same component set (the reference put no-op resources in ``after`` only and
reported an improvement as a regression). Instances of one resource block (``count`` /
``for_each``) are one component whose replicas add up. Edges come from type rules (a load
balancer requires the apps, an app requires the databases, optionally uses the caches and
publishes asynchronously to the queues, DNS requires the load balancers) and from references
between resources (the plan's ``configuration`` section, and attribute values that carry another
resource's id, ARN or endpoint). Resource types without a mapping are listed as skipped.

:func:`check_plan` scores both sides with :mod:`faultray_lab.scenarios` and returns a
:class:`PlanCheck`: the score delta, the SPOFs and critical scenarios the change adds and
removes, the risk of each changed resource, a recommendation and the CI gate.

Examples
--------
>>> plan = {"resource_changes": [
...     {"address": "aws_lb.web", "type": "aws_lb",
...      "change": {"actions": ["no-op"], "before": {"subnets": ["a", "b"]},
...                 "after": {"subnets": ["a", "b"]}}},
...     {"address": "aws_ecs_service.api", "type": "aws_ecs_service",
...      "change": {"actions": ["update"], "before": {"desired_count": 2},
...                 "after": {"desired_count": 1}}}]}
>>> before, after = plan_to_topologies(plan)
>>> [(c.id, c.replicas) for c in after.components]
[('aws_lb.web', 2), ('aws_ecs_service.api', 1)]
>>> [(d.source, d.target, d.type) for d in after.dependencies]
[('aws_lb.web', 'aws_ecs_service.api', 'requires')]
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .errors import InputError
from .topology import Component, Dependency, Topology

__all__ = [
    "APP_TYPES", "MANAGED_HA", "TYPE_RULES", "PlanCheck", "ResourceChange", "TerraformPlan",
    "check_plan", "component_type", "load_plan", "plan_to_topologies",
]

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

_KNOWN_ACTIONS = ("no-op", "create", "read", "update", "delete", "forget")
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


@dataclass(frozen=True)
class TerraformPlan:
    """A parsed plan: its resource changes, the two topologies and the skipped resources.

    Examples
    --------
    >>> p = load_plan({"resource_changes": [{"address": "aws_iam_role.r", "type": "aws_iam_role",
    ...                                      "change": {"actions": ["create"]}}]})
    >>> len(p.after), p.skipped[0]["address"]
    (0, 'aws_iam_role.r')
    """

    source: str
    changes: tuple[ResourceChange, ...]
    before: Topology
    after: Topology
    skipped: tuple[dict[str, Any], ...] = field(default=())


def plan_to_topologies(plan_json: Any) -> tuple[Topology, Topology]:
    """The ``(before, after)`` topologies of a Terraform plan.

    Parameters
    ----------
    plan_json : dict, str or PathLike
        The output of ``terraform show -json plan.out``: a parsed dict, the JSON text, or the
        path of a file holding it.

    Returns
    -------
    (Topology, Topology)
        Components are the modelled resources (ids are Terraform addresses without the
        instance key), in plan order; a resource the plan does not touch is in both.

    Raises
    ------
    InputError
        For input that is not a readable JSON Terraform plan.

    Examples
    --------
    >>> plan = {"resource_changes": [
    ...     {"address": "aws_db_instance.db", "type": "aws_db_instance",
    ...      "change": {"actions": ["delete"], "before": {"multi_az": False}, "after": None}}]}
    >>> before, after = plan_to_topologies(plan)
    >>> before.ids, after.ids
    (('aws_db_instance.db',), ())
    """
    p = load_plan(plan_json)
    return p.before, p.after


def load_plan(plan_json: Any) -> TerraformPlan:
    """Parse and validate a plan and build both topologies (see :func:`plan_to_topologies`).

    Examples
    --------
    >>> load_plan('{"resource_changes": []}').changes
    ()
    """
    data, source = _read_plan(plan_json)
    changes = _parse_changes(data, source)
    refs = _config_references(data.get("configuration"))
    skipped = tuple(
        {"address": c.address, "type": c.resource_type, "action": c.action,
         "reason": f"resource type '{c.resource_type}' is not mapped to a component type"
         if c.deposed is None else f"deposed object {c.deposed} (a stale copy left by a "
         "create-before-destroy replacement)"}
        for c in changes if c.component_type is None or c.deposed is not None)
    before = _side_topology(changes, "before", refs, source)
    after = _side_topology(changes, "after", refs, source)
    return TerraformPlan(source, changes, before, after, skipped)


# ---------------------------------------------------------------------------------------------
# Reading and validating
# ---------------------------------------------------------------------------------------------
_HOW = "create it with `terraform plan -out plan.out && terraform show -json plan.out > plan.json`"


def _read_plan(plan: Any) -> tuple[Mapping[str, Any], str]:
    """(parsed plan dict, source name) from a dict, JSON text/bytes or a path."""
    if isinstance(plan, Mapping):
        return _check_top(plan, "<plan>"), "<plan>"
    if isinstance(plan, bytes | bytearray):
        try:
            plan = bytes(plan).decode("utf-8")
        except UnicodeDecodeError:
            raise InputError("<plan>", None, "the plan is not UTF-8 text", _HOW) from None
    if isinstance(plan, str) and plan.lstrip()[:1] in ("{", "["):
        return _check_top(_parse_json(plan, "<plan>"), "<plan>"), "<plan>"
    if isinstance(plan, str | os.PathLike):
        name = os.fspath(plan)
        p = Path(name)
        if not p.exists():
            raise InputError(name, None, "file not found",
                             f"check the path (relative to {os.getcwd()}); {_HOW}")
        if p.is_dir():
            raise InputError(name, None, "is a directory, not a plan file", _HOW)
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(name, None, f"cannot read the file ({exc.__class__.__name__})",
                             "check its permissions; the plan must be UTF-8 JSON text, from "
                             "`terraform show -json plan.out` (not the binary plan.out)") from None
        if not text.strip():
            raise InputError(name, None, "the file is empty", _HOW)
        return _check_top(_parse_json(text, name), name), name
    raise InputError("<plan>", None, f"cannot read a plan from a {type(plan).__name__}",
                     "pass a dict, JSON text or the path of a plan.json file")


def _parse_json(text: str, name: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip()):
            problem = f"the JSON ends early ({exc.msg}): the file looks truncated"
            fix = f"write the whole plan again; {_HOW}"
        else:
            problem = f"not valid JSON: {exc.msg}"
            fix = "pass the JSON plan, not the binary plan.out or the text of `terraform plan`; " \
                  + _HOW
        raise InputError(name, f"column {exc.colno}", problem, fix, line=exc.lineno) from None


def _check_top(data: Any, name: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise InputError(name, None, f"a plan is a JSON object, not a {_json_type(data)}", _HOW)
    if "resource_changes" not in data:
        if "values" in data or ("resources" in data and "lineage" in data):
            raise InputError(name, None, "this is a Terraform state file, not a plan "
                             "(it has no 'resource_changes')", _HOW)
        if "planned_values" in data or "configuration" in data:
            return {**data, "resource_changes": []}  # Terraform omits an empty list
        raise InputError(name, None, "not a Terraform plan: no 'resource_changes' key", _HOW)
    if data.get("errored") is True:
        raise InputError(name, "errored", "Terraform reported errors while planning, so the "
                         "plan is incomplete", "fix the errors and plan again")
    rc = data["resource_changes"]
    if not isinstance(rc, list):
        raise InputError(name, "resource_changes", f"must be a list, not a {_json_type(rc)}",
                         _HOW)
    return data


def _json_type(v: Any) -> str:
    return {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null",
            int: "number", float: "number"}.get(type(v), type(v).__name__)


_INDEX = re.compile(r'\[(?:"(?:[^"\\]|\\.)*"|[^\]"]*)\]')


def _parse_changes(data: Mapping[str, Any], name: str) -> tuple[ResourceChange, ...]:
    out: list[ResourceChange] = []
    seen: set[tuple[str, Any]] = set()
    for i, rc in enumerate(data["resource_changes"]):
        where = f"resource_changes[{i}]"
        if not isinstance(rc, Mapping):
            raise InputError(name, where, f"must be an object, not a {_json_type(rc)}", _HOW)
        address = rc.get("address")
        if not isinstance(address, str) or not address:
            raise InputError(name, where, "missing 'address'",
                             "every resource change needs its address, e.g. 'aws_lb.web'")
        where = f"{where} ({address})"
        deposed = rc.get("deposed")
        if (address, deposed) in seen:
            raise InputError(name, where, "duplicate address",
                             "each resource appears once in resource_changes")
        seen.add((address, deposed))
        rtype = rc.get("type")
        if not isinstance(rtype, str) or not rtype:
            raise InputError(name, where, "missing 'type'", "add the resource type, e.g. 'aws_lb'")
        change = rc.get("change")
        if not isinstance(change, Mapping):
            raise InputError(name, f"{where}.change", "missing or not an object",
                             "give change.actions, change.before and change.after")
        actions = change.get("actions")
        if (not isinstance(actions, list) or not actions
                or any(a not in _KNOWN_ACTIONS for a in actions)):
            raise InputError(name, f"{where}.change.actions",
                             f"must be a non-empty list of {', '.join(_KNOWN_ACTIONS)}, "
                             f"not {actions!r}", "use the actions Terraform writes, e.g. "
                             '["no-op"], ["update"] or ["delete", "create"]')
        sides = {}
        for side in ("before", "after"):
            v = change.get(side)
            if v is not None and not isinstance(v, Mapping):
                raise InputError(name, f"{where}.change.{side}",
                                 f"must be an object or null, not a {_json_type(v)}", _HOW)
            sides[side] = v
        after = _fill_unknown(sides["after"], sides["before"], change.get("after_unknown"))
        mode = rc.get("mode", "managed")
        module = rc.get("module_address") or ""
        if not isinstance(module, str):
            raise InputError(name, f"{where}.module_address", "must be a string", _HOW)
        rname = rc.get("name")
        if isinstance(rname, str) and rname:
            local = ("data." if mode == "data" else "") + f"{rtype}.{rname}"
            comp_id = f"{module}.{local}" if module else local
        else:
            comp_id = _strip_last_index(address)
            local = comp_id[len(module) + 1:] if module and comp_id.startswith(module) else comp_id
        module_key = _INDEX.sub("", module)
        config_key = f"{module_key}.{local}" if module_key else local
        out.append(ResourceChange(address, rtype, str(mode), tuple(actions), sides["before"],
                                  after, comp_id, module, config_key, component_type(rtype),
                                  None if deposed is None else str(deposed)))
    return tuple(out)


def _strip_last_index(address: str) -> str:
    m = list(_INDEX.finditer(address))
    if m and m[-1].end() == len(address):
        return address[:m[-1].start()]
    return address


def _fill_unknown(after: Mapping[str, Any] | None, before: Mapping[str, Any] | None,
                  unknown: Any) -> Mapping[str, Any] | None:
    """Top-level attributes unknown until apply keep their before value (a best guess)."""
    if after is None or not before or not isinstance(unknown, Mapping):
        return after
    filled = dict(after)
    for k, flag in unknown.items():
        if flag is True and filled.get(k) is None and before.get(k) is not None:
            filled[k] = before[k]
    return filled


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


def _count(v: Any) -> int | None:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < 0:
        return None
    return int(v)


def _capacity(rtype: str, values: Mapping[str, Any]) -> tuple[int, bool, bool, str]:
    """(replicas, failover, autoscaling, where the replicas came from) of one resource."""
    replicas, source = 1, "default"
    failover = autoscaling = False
    if rtype in MANAGED_HA:
        replicas, failover, source = 2, True, "managed regional service"
    for path in _COUNT_PATHS:
        n = _count(_dig(values, path))
        if n is not None:
            replicas, source = n, ".".join(str(k) for k in path)
            break
    else:
        for path in _EXTRA_PATHS:
            n = _count(_dig(values, path))
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
    lo, hi = _count(values.get("min_size")), _count(values.get("max_size"))
    auto = _dig(values, ("autoscaling", 0))
    if (lo is not None and hi is not None and hi > lo) or values.get("enable_auto_scaling") \
            is True or _dig(values, ("default_node_pool", 0, "enable_auto_scaling")) is True \
            or (isinstance(auto, Mapping) and (_count(auto.get("max_node_count")) or 0)
                > (_count(auto.get("min_node_count")) or 0)):
        autoscaling = True
    return max(1, replicas), failover, autoscaling, source


# ---------------------------------------------------------------------------------------------
# References between resources
# ---------------------------------------------------------------------------------------------
_NON_RESOURCE = frozenset({"var", "local", "each", "count", "path", "self", "terraform"})


def _config_references(config: Any) -> dict[str, set[str]]:
    """config key -> config keys of the resources its expressions refer to.

    Resolves module outputs (``module.db.endpoint``) and module input variables (``var.x``
    inside a module) to the resources behind them.
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
    known = set()
    for prefix, body in modules.items():
        for r in body.get("resources") or ():
            if isinstance(r, Mapping) and isinstance(r.get("address"), str):
                known.add(prefix + r["address"])

    def resolve(ref: str, prefix: str, depth: int) -> set[str]:
        if depth > 20:
            return set()
        parts = _INDEX.sub("", ref).split(".")
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
def _side_topology(changes: tuple[ResourceChange, ...], side: str,
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
            r, f, a, src = _capacity(rc.resource_type, rc.values(side))
            replicas += r
            failover |= f
            autoscaling |= a
            sources.append(src)
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
    return a.module_path == b.module_path or _INDEX.sub("", a.module_path) != _INDEX.sub(
        "", b.module_path)


# ---------------------------------------------------------------------------------------------
# The check: scores, SPOFs, critical scenarios, per-change risk, recommendation and gate
# ---------------------------------------------------------------------------------------------
RISK_LEVELS = ("low", "medium", "high")
#: Scenarios per side (the reference's cap); the first ones in generation order run.
MAX_SCENARIOS = 2000
RECOMMENDATIONS = ("safe", "review", "high risk")


@dataclass(frozen=True)
class PlanCheck:
    """The result of :func:`check_plan`; ``to_dict()`` gives the JSON of ``tf-check --json``.

    ``changes`` holds one entry per resource the plan creates, updates, replaces, deletes or
    forgets; ``recommendation`` is ``{"level": safe | review | high risk, "reason": ...}`` and
    ``gate`` is ``{"passed": ..., "reasons": [...], ...}``.
    """

    source: str
    rules: str
    score_before: float
    score_after: float
    spofs_added: tuple[str, ...]
    spofs_removed: tuple[str, ...]
    critical_added: tuple[str, ...]
    critical_removed: tuple[str, ...]
    changes: tuple[Mapping[str, Any], ...]
    skipped_resources: tuple[Mapping[str, Any], ...]
    recommendation: Mapping[str, str]
    gate: Mapping[str, Any]
    plan: TerraformPlan | None = field(default=None, repr=False, compare=False)

    @property
    def score_delta(self) -> float:
        """score_after - score_before (rounded to 1e-9 so equal topologies give exactly 0)."""
        return round(self.score_after - self.score_before, 9) + 0.0

    @property
    def passed(self) -> bool:
        """Whether the gate passed."""
        return bool(self.gate["passed"])

    @property
    def exit_code(self) -> int:
        """0 when the gate passed, 1 when it failed (the ``tf-check`` exit code)."""
        return 0 if self.passed else 1

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with the keys of ``tf-check --json``."""
        return {
            "source": self.source, "rules": self.rules,
            "score_before": self.score_before, "score_after": self.score_after,
            "score_delta": self.score_delta,
            "spofs_added": list(self.spofs_added), "spofs_removed": list(self.spofs_removed),
            "critical_added": list(self.critical_added),
            "critical_removed": list(self.critical_removed),
            "changes": [dict(c) for c in self.changes],
            "skipped_resources": [dict(s) for s in self.skipped_resources],
            "recommendation": dict(self.recommendation),
            "gate": {k: list(v) if isinstance(v, tuple) else v for k, v in self.gate.items()},
        }


def check_plan(plan: Any, rules: str = "cps", fail_on_regression: bool = False,
               min_score: float | None = None) -> PlanCheck:
    """Compare the resilience of a Terraform plan's before and after topologies.

    Parameters
    ----------
    plan : dict, str, PathLike or TerraformPlan
        A plan as :func:`plan_to_topologies` accepts it, or an already loaded plan.
    rules : str
        Rule set of the scenario sweeps (``"cps"`` or ``"faultray-v11"``).
    fail_on_regression : bool
        Fail the gate when the change is a regression: the score drops, or it adds a single
        point of failure or a critical scenario.
    min_score : float, optional
        Fail the gate when the score after the change is below this (0-100).

    Returns
    -------
    PlanCheck

    Raises
    ------
    InputError
        For a bad plan, an unknown rule set or a min_score outside 0-100.

    Examples
    --------
    >>> rc = lambda a, t, act, b, f: {"address": a, "type": t,
    ...                               "change": {"actions": [act], "before": b, "after": f}}
    >>> plan = {"resource_changes": [
    ...     rc("aws_lb.web", "aws_lb", "no-op", {"subnets": ["a", "b"]}, {"subnets": ["a", "b"]}),
    ...     rc("aws_ecs_service.api", "aws_ecs_service", "update",
    ...        {"desired_count": 2}, {"desired_count": 1})]}
    >>> result = check_plan(plan, fail_on_regression=True)
    >>> result.spofs_added, result.score_delta < 0, result.exit_code
    (('aws_ecs_service.api',), True, 1)
    """
    if min_score is not None:
        if isinstance(min_score, bool) or not isinstance(min_score, int | float) \
                or not math.isfinite(min_score) or not 0 <= min_score <= 100:
            raise InputError(None, "min_score", f"must be a number from 0 to 100, not "
                             f"{min_score!r}", "pass e.g. --min-score 60")
    from .rules import get_ruleset

    get_ruleset(rules)  # an unknown rule set is bad input before any work
    p = plan if isinstance(plan, TerraformPlan) else load_plan(plan)
    sides = {side: _assess(getattr(p, side), rules) for side in ("before", "after")}
    b, a = sides["before"], sides["after"]
    spofs_added = tuple(c for c in a["spofs"] if c not in b["spofs"])
    spofs_removed = tuple(c for c in b["spofs"] if c not in a["spofs"])
    critical_added = _critical_diff(a, b, p.before.ids)
    critical_removed = _critical_diff(b, a, p.after.ids)
    changes = tuple(_change_risk(rc, p, b, a, rules) for rc in p.changes
                    if rc.action not in ("no-op", "read"))
    delta = round(a["score"] - b["score"], 9) + 0.0
    recommendation = _recommend(delta, spofs_added, critical_added, changes)
    reasons = []
    regression = []
    if delta < 0:
        regression.append(f"the resilience score drops by {-delta:g}")
    if spofs_added:
        regression.append(f"{len(spofs_added)} single point(s) of failure added")
    if critical_added:
        regression.append(f"{len(critical_added)} critical scenario(s) added")
    if fail_on_regression:
        reasons.extend(regression)
    if min_score is not None and a["score"] < min_score:
        reasons.append(f"the score after the change ({a['score']:g}) is below the minimum "
                       f"{min_score:g}")
    gate = {"passed": not reasons, "fail_on_regression": bool(fail_on_regression),
            "min_score": None if min_score is None else float(min_score),
            "regression": bool(regression), "reasons": tuple(reasons)}
    return PlanCheck(p.source, rules if isinstance(rules, str) else str(rules),
                     float(b["score"]), float(a["score"]), spofs_added, spofs_removed,
                     critical_added, critical_removed, changes, p.skipped, recommendation,
                     gate, p)


def _assess(topo: Topology, rules: str) -> dict[str, Any]:
    """Score, SPOF ids, the scenarios run (id -> components) and the critical ids of one side."""
    from .scenarios import iter_scenarios, resilience_score, run_sweep, spofs

    score = float(resilience_score(topo))
    if not len(topo):
        return {"score": score, "spofs": (), "scenarios": {}, "critical": ()}
    spof_ids = tuple(str(c) for c in spofs(topo, rules=rules)["component"])
    scenarios = list(itertools.islice(iter_scenarios(topo), MAX_SCENARIOS))
    sweep = run_sweep(topo, scenarios=scenarios, rules=rules, progress=False)
    critical = tuple(str(s) for s in sweep.loc[sweep["class"] == "critical", "id"])
    return {"score": score, "spofs": spof_ids, "critical": critical,
            "scenarios": {s.id: frozenset(s.faults) for s in scenarios}}


def _critical_diff(new: Mapping[str, Any], old: Mapping[str, Any],
                   old_ids: Iterable[str]) -> tuple[str, ...]:
    """Scenarios critical in ``new`` but not in ``old``.

    A scenario that also ran on the old side counts when it was not critical there. One that
    could not run there (it faults a component the old side does not have) counts unless a
    scenario critical on the old side faults a subset of its faults: a new triple that contains
    an already critical pair adds no risk. A scenario that the old side's cap of
    :data:`MAX_SCENARIOS` merely cut off is not compared.
    """
    have = set(old_ids)
    old_critical = set(old["critical"])
    implied = [old["scenarios"][s] for s in old["critical"] if old["scenarios"][s]]
    out = []
    for s in new["critical"]:
        if s in old_critical:
            continue
        faults = new["scenarios"][s]
        if s in old["scenarios"]:
            out.append(s)
        elif not {c for c, _ in faults} <= have and not any(f <= faults for f in implied):
            out.append(s)
    return tuple(out)


def _dependents(topo: Topology, cid: str) -> int:
    i = topo.index.get(cid)
    return 0 if i is None else len({d for d, _ in topo.dependents[i]})


def _change_risk(rc: ResourceChange, p: TerraformPlan, b: Mapping[str, Any],
                 a: Mapping[str, Any], rules: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"address": rc.address, "type": rc.resource_type,
                             "action": rc.action, "component": None}
    if rc.deposed is not None:
        entry.update(risk="low", reason=f"removes deposed object {rc.deposed}, a stale copy "
                     "left by an earlier create-before-destroy replacement")
        return entry
    if rc.component_type is None:
        entry.update(risk="unmodelled", reason=f"resource type '{rc.resource_type}' is not "
                     "mapped to a component, so its effect on resilience is not simulated")
        return entry
    from .cascade import simulate_fault

    cid = rc.component_id
    rb = p.before.component(cid).replicas if cid in p.before.index else None
    ra = p.after.component(cid).replicas if cid in p.after.index else None
    dep_b, dep_a = _dependents(p.before, cid), _dependents(p.after, cid)
    spof_b, spof_a = cid in b["spofs"], cid in a["spofs"]
    side = p.after if ra is not None else p.before
    severity = simulate_fault(side, cid, "component_down", rules=rules).severity
    found: list[tuple[int, str]] = []
    if rc.action == "delete" and ra is None and dep_b:
        found.append((2, f"deletes a component {dep_b} component(s) depend on"))
    if spof_a and not spof_b:
        found.append((2, "becomes a single point of failure"))
    if rc.is_replace and dep_b and (rb or 1) <= 1:
        found.append((2, f"is destroyed and recreated with one replica: its {dep_b} "
                         "dependent(s) lose it during the apply"))
    if rb is not None and ra is not None and ra < rb:
        found.append((1, f"replicas drop from {rb} to {ra}"))
    if rc.is_replace:
        found.append((1, "is destroyed and recreated"))
    if spof_a and spof_b:
        found.append((1, "changes a component that is a single point of failure"))
    if severity >= 7.0:
        found.append((1, f"its failure is critical (severity {severity:g})"))
    if rb is not None and ra is not None and ra > rb:
        found.append((0, f"replicas rise from {rb} to {ra}"))
    if spof_b and not spof_a and ra is not None:
        found.append((0, "is no longer a single point of failure"))
    level = max((lvl for lvl, _ in found), default=0)
    reasons = [text for _, text in sorted(found, key=lambda f: -f[0])] \
        or ["no loss of redundancy"]
    entry.update(component=cid, replicas_before=rb, replicas_after=ra, dependents_before=dep_b,
                 dependents_after=dep_a, spof_before=spof_b, spof_after=spof_a,
                 severity=severity, risk=RISK_LEVELS[level], reason="; ".join(reasons))
    return entry


def _recommend(delta: float, spofs_added: tuple[str, ...], critical_added: tuple[str, ...],
               changes: tuple[Mapping[str, Any], ...]) -> dict[str, str]:
    high, review = [], []
    if spofs_added:
        high.append(f"adds single point(s) of failure: {', '.join(spofs_added)}")
    if critical_added:
        high.append(f"adds {len(critical_added)} critical scenario(s)")
    risky = [c["address"] for c in changes if c["risk"] == "high"]
    if risky:
        high.append(f"high-risk change(s): {', '.join(risky)}")
    if delta < 0:
        review.append(f"the resilience score drops by {-delta:g}")
    medium = [c["address"] for c in changes if c["risk"] == "medium"]
    if medium:
        review.append(f"medium-risk change(s): {', '.join(medium)}")
    unmodelled = [c["address"] for c in changes if c["risk"] == "unmodelled"]
    if unmodelled:
        review.append(f"{len(unmodelled)} changed resource(s) not modelled")
    if high:
        return {"level": "high risk", "reason": "; ".join(high + review)}
    if review:
        return {"level": "review", "reason": "; ".join(review)}
    return {"level": "safe", "reason": "no resilience lost: the score does not drop and no "
            "single point of failure or critical scenario is added"}

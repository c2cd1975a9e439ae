"""Terraform plans as topologies: the infrastructure before and after a planned change.

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

:func:`faultray_lab.scenarios.plan_gate.check_plan` scores both sides and gates CI on the
change.

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

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..common.errors import InputError, show
from ..common.parsing import MAX_DEPTH, parse_json, read_text
from ..model.topology import Topology
from .terraform_resources import (
    INDEX_KEY,
    KNOWN_ACTIONS,
    ResourceChange,
    component_type,
    config_references,
    side_topology,
)


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
    refs = config_references(data.get("configuration"), source)
    skipped = tuple(
        {"address": c.address, "type": c.resource_type, "action": c.action,
         "reason": f"resource type '{c.resource_type}' is not mapped to a component type"
         if c.deposed is None else f"deposed object {c.deposed} (a stale copy left by a "
         "create-before-destroy replacement)"}
        for c in changes if c.component_type is None or c.deposed is not None)
    before = side_topology(changes, "before", refs, source)
    after = side_topology(changes, "after", refs, source)
    return TerraformPlan(source, changes, before, after, skipped)


# ---------------------------------------------------------------------------------------------
# Reading and validating
# ---------------------------------------------------------------------------------------------
_HOW = "create it with `terraform plan -out plan.out && terraform show -json plan.out > plan.json`"


def _read_plan(plan: Any) -> tuple[Mapping[str, Any], str]:
    """(parsed plan dict, source name) from a dict, JSON text/bytes or a path."""
    if isinstance(plan, Mapping):
        _check_depth(plan, "<plan>")
        return _check_top(plan, "<plan>"), "<plan>"
    if isinstance(plan, bytes | bytearray):
        if bytes(plan[:4]) == _ZIP_MAGIC:
            raise InputError("<plan>", None, _BINARY, _HOW)
        try:
            plan = bytes(plan).decode("utf-8")
        except UnicodeDecodeError:
            raise InputError("<plan>", None, "the plan is not UTF-8 text", _HOW) from None
    if isinstance(plan, str) and plan.lstrip()[:1] in ("{", "["):
        return _check_top(_parse_json(plan, "<plan>"), "<plan>"), "<plan>"
    if isinstance(plan, str | os.PathLike) and not isinstance(os.fspath(plan), bytes):
        name = os.fspath(plan)
        if not name.strip():
            raise InputError("<plan>", None, "the plan is an empty string",
                             "pass a dict, JSON text or the path of a plan.json file")
        p = Path(name)
        if p.is_file():
            with open(p, "rb") as fh:
                if fh.read(4) == _ZIP_MAGIC:
                    raise InputError(name, None, _BINARY, _HOW)
        text = read_text(name, empty_fix=_HOW, binary_fix="the plan must be UTF-8 JSON text, "
                         "from `terraform show -json plan.out` (not the binary plan.out)")
        return _check_top(_parse_json(text, name), name), name
    raise InputError("<plan>", None, f"cannot read a plan from a {type(plan).__name__}",
                     "pass a dict, JSON text or the path of a plan.json file")


_ZIP_MAGIC = b"PK\x03\x04"
_BINARY = "this is a binary plan file (plan.out, a zip archive), not its JSON form"


def _parse_json(text: str, name: str) -> Any:
    def decode_error(exc: json.JSONDecodeError) -> InputError:
        stripped = text.rstrip()
        unclosed = exc.msg.startswith("Unterminated string") and '"' not in text[exc.pos + 1:]
        if exc.pos >= len(stripped) or unclosed or (
                stripped.lstrip().startswith("{") and not stripped.endswith("}")):
            problem = f"the JSON ends early ({exc.msg}): the file looks truncated"
            fix = f"write the whole plan again; {_HOW}"
        else:
            problem = f"not valid JSON: {exc.msg}"
            fix = "pass the JSON plan, not the binary plan.out or the text of `terraform plan`; " \
                  + _HOW
        return InputError(name, f"column {exc.colno}", problem, fix, line=exc.lineno)

    data = parse_json(text, name, decode_error=decode_error)
    _check_depth(data, name)
    return data


def _check_depth(data: Any, name: str) -> None:
    """Refuse a plan nested deeper than MAX_DEPTH (its walkers recurse)."""
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        obj, where, depth = stack.pop()
        if isinstance(obj, Mapping | list):
            if depth >= MAX_DEPTH:
                raise InputError(name, where or None, f"the plan nests deeper than {MAX_DEPTH} "
                                 "levels", f"pass the plan as Terraform writes it; {_HOW}")
            items = obj.items() if isinstance(obj, Mapping) else enumerate(obj)
            stack.extend((v, f"{where}.{k}" if isinstance(k, str) else f"{where}[{k}]",
                          depth + 1) for k, v in items)


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
        for key in ("deposed", "mode", "name"):
            v = rc.get(key)
            if v is not None and not isinstance(v, str):
                raise InputError(name, f"{where}.{key}", f"must be a string, not a "
                                 f"{_json_type(v)}", _HOW)
        deposed = rc.get("deposed")
        if rc.get("mode", "managed") not in ("managed", "data"):
            raise InputError(name, f"{where}.mode", f"unknown mode {show(rc.get('mode'))}",
                             "use managed or data, as Terraform writes it")
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
                or any(a not in KNOWN_ACTIONS for a in actions)):
            raise InputError(name, f"{where}.change.actions",
                             f"must be a non-empty list of {', '.join(KNOWN_ACTIONS)}, "
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
        module_key = INDEX_KEY.sub("", module)
        config_key = f"{module_key}.{local}" if module_key else local
        out.append(ResourceChange(address, rtype, str(mode), tuple(actions), sides["before"],
                                  after, comp_id, module, config_key, component_type(rtype),
                                  None if deposed is None else str(deposed)))
    return tuple(out)


def _strip_last_index(address: str) -> str:
    m = list(INDEX_KEY.finditer(address))
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

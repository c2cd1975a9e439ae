"""The Jaeger importer: a service dependency graph from Jaeger's dependencies output.

Examples
--------
>>> from faultray_lab.availability.failstop import dsb_path
>>> topo = import_jaeger_dependencies(dsb_path())
>>> len(topo), len(topo.dependencies), topo.ids[0]
(12, 19, 'nginx-web-server')
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ..common.errors import InputError, show
from ..common.parsing import parse_json, read_text
from ..common.suggest import suggest
from ..common.validate import MAX_INT
from ..model.topology import COMPONENT_TYPES, Component, Dependency, Topology

_JAEGER_LINK_KEYS = ("parent", "child", "callCount", "call_count", "source")


def import_jaeger_dependencies(path: str | Path, *, replicas: Mapping[str, int] | None = None,
                               component_type: str = "custom") -> Topology:
    """Read a Jaeger dependencies file (``deps.json``) into a topology.

    Accepted forms: a list of links ``{"parent", "child", "callCount"}``; the Jaeger query API
    envelope ``{"data": [links], ...}``; or a bundle with an ``"edges"`` list (as in
    ``dsb-social-network.json``). A link ``parent -> child`` means the parent calls, so depends
    on, the child: it becomes a ``requires`` edge ``parent -> child``. Services appear in
    first-mention order; repeated links are merged; self-calls are dropped.

    Parameters
    ----------
    path : str or Path
    replicas : mapping, optional
        Replica counts by service (default 1).
    component_type : str
        The type given to every service (default ``custom``).

    Raises
    ------
    InputError
        A path that is not a string or PathLike, ``replicas`` that is not a mapping, a missing,
        special or malformed file, a link without parent or child, unknown link keys, a
        negative call count, replicas for an unknown service or < 1.

    Examples
    --------
    >>> from faultray_lab.availability.failstop import dsb_path
    >>> import_jaeger_dependencies(dsb_path(), replicas={"nginx-web-server": 2}).components[0]
    ... # doctest: +ELLIPSIS
    Component(id='nginx-web-server', type='custom', replicas=2, ...)
    """
    if component_type not in COMPONENT_TYPES:
        raise InputError(None, "component_type", f"unknown component type "
                         f"{show(component_type)}", suggest(str(component_type),
                                                            COMPONENT_TYPES))
    if replicas is not None and not isinstance(replicas, Mapping):
        raise InputError(None, "replicas", f"replicas must be a mapping of service -> count, "
                         f"not {type(replicas).__name__}", "pass e.g. replicas={'db': 2}")
    text = read_text(path, empty_fix="write a list of {parent, child, callCount} links")
    name = os.fspath(path)
    data = parse_json(text, name)
    if isinstance(data, Mapping):
        key = "data" if "data" in data else "edges" if "edges" in data else None
        if key is None:
            raise InputError(name, None, "no 'data' or 'edges' list of dependency links",
                             "pass Jaeger's /api/dependencies output or a list of links")
        links = data[key]
        where0 = key
    else:
        links, where0 = data, ""
    if not isinstance(links, list) or not links:
        raise InputError(name, where0 or None, "the dependency links are not a non-empty list",
                         "write a list of {parent, child, callCount} links")
    order: dict[str, None] = {}
    edges: dict[tuple[str, str], None] = {}
    for i, link in enumerate(links):
        where = f"{where0}[{i}]"
        if not isinstance(link, Mapping):
            raise InputError(name, where, "a link is not a mapping",
                             "write each link as {parent, child, callCount}")
        for k in link:
            if k not in _JAEGER_LINK_KEYS:
                raise InputError(name, f"{where}.{k}", f"unknown key '{k}'",
                                 suggest(k, _JAEGER_LINK_KEYS,
                                         f"valid keys: {', '.join(_JAEGER_LINK_KEYS)}"))
        parent, child = link.get("parent"), link.get("child")
        for key, v in (("parent", parent), ("child", child)):
            if not isinstance(v, str) or not v:
                raise InputError(name, where, f"missing or non-string '{key}'",
                                 f"give every link a {key} service name")
        count = link.get("callCount", link.get("call_count", 0))
        if isinstance(count, bool) or not isinstance(count, int | float) or not (
                0 <= count <= MAX_INT):
            raise InputError(name, f"{where}.callCount", f"call count must be a number from 0 "
                             f"to 2**63, not {show(count)}", "write a non-negative count")
        order.setdefault(parent)
        order.setdefault(child)
        if parent != child:
            edges.setdefault((parent, child))
    reps = dict(replicas or {})
    for sid, r in reps.items():
        if sid not in order:
            raise InputError(name, f"replicas[{sid!r}]", f"'{sid}' is not a service of the file",
                             "name a service that appears as a parent or child")
        if isinstance(r, bool) or not isinstance(r, int) or not 1 <= r <= MAX_INT:
            raise InputError(name, f"replicas[{sid!r}]", f"replicas must be a whole number "
                             f">= 1, not {show(r)}", "use 1 or more")
    comps = tuple(Component(s, component_type, replicas=reps.get(s, 1)) for s in order)
    deps = tuple(Dependency(p, c, "requires") for p, c in edges)
    return Topology(comps, deps, name)

"""Incident files: one YAML file per incident, validated strictly.

An incident is a topology, the fault injected into it and, once the outcome is known, the ground
truth (affected components, severity label, downtime). Files live under
``incidents/<cohort>/<id>.yaml`` in this schema (other tools write it too, so the key names are
fixed)::

    id: aws-s3-2017-02            # unique; equals the file name without .yaml
    title: Amazon S3 us-east-1 outage
    provider: aws
    date: 2017-02-28
    cohort: paper-18              # optional: defaults to the folder name
    sources: [https://aws.amazon.com/message/41926/]
    topology: {components: [...], dependencies: [...]}   # the topology schema
    fault: {component: shared_network, type: component_down}   # optional key: recovery
    truth:                        # optional: absent until the outcome is known
      affected: [...]             # component ids
      severity: critical          # critical, major, high, medium, minor or low
      downtime_minutes: 300
    timeline: [...]               # optional: offset_minutes, event_type, affected

Every problem (an unknown key, a truth or fault id missing from the topology, an unknown fault type
or severity label, a negative downtime, an id that differs from the file name...) raises one
:class:`~faultray_lab.common.errors.InputError` naming the file, the key path, the line and the fix.

Examples
--------
>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "tiny.yaml").write_text('''
... id: tiny
... topology:
...   components: [{id: web, type: web_server}, {id: db, type: database}]
...   dependencies: [{source: web, target: db, type: requires}]
... fault: {component: db, type: component_down}
... truth: {affected: [db, web], severity: major, downtime_minutes: 30}
... ''')
>>> [inc] = load_incidents(d)
>>> inc.id, inc.fault.component, inc.truth.affected, inc.cohort == d.name
('tiny', 'db', ('db', 'web'), True)
"""

from __future__ import annotations

import datetime as _dt
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..common.errors import InputError, show
from ..common.parsing import LineLocator, parse_text, read_text
from ..common.suggest import suggest
from ..common.validate import MAX_INT
from ..engine.faults import FAULT_TYPES
from ..model.schema import Key, topology_from_dict
from ..model.topology import Topology
from .labels import LABEL_TRUTH_SCHEMA, Labels, parse_labels

#: Severity labels an incident's truth may carry (as published).
SEVERITY_LABELS = ("critical", "major", "high", "medium", "minor", "low")

#: Declared recovery mechanisms of a fault, in order of expected effort (see :data:`RECOVERY_RANK`).
RECOVERY_MECHANISMS = {
    "revert": "a change or bad input is undone (roll back a deploy or configuration, restore a "
              "route, disable a feature); persistent state is intact",
    "mitigate": "the fault is external load; service returns when the traffic is filtered, "
                "absorbed or subsides",
    "restart": "components must be restarted, re-scaled or re-synchronised (cold start, backlog "
               "drain, capacity added); persistent state is intact",
    "restore": "persistent state must be rebuilt, re-replicated, repaired or restored from backup",
    "replace": "hardware, a site or every affected machine needs physical or hands-on, "
               "per-machine work",
}
#: Rank of each recovery mechanism (1 = least effort), the ordinal feature of the recovery model.
RECOVERY_RANK = {m: i + 1 for i, m in enumerate(RECOVERY_MECHANISMS)}

#: Keys of the ``fault`` mapping.
FAULT_SCHEMA: Mapping[str, Key] = MappingProxyType({
    "component": Key("str", "the faulted component's id", "(required)"),
    "type": Key("str", "a fault type (docs: semantics 2.1 and 7)", "component_down"),
    "recovery": Key("str", "the declared recovery mechanism, written from what is known when "
                    f"the incident starts: one of {', '.join(RECOVERY_MECHANISMS)}", "(none)"),
    "scope": Key("str", "how far the fault reaches: instance, zone, region, or logical "
                 "(configuration, software, DNS, data, control plane: every replica); recorded "
                 "with the fault, not yet read by the rule sets", "(none)"),
})
#: Keys of the ``truth`` mapping (all required when ``truth`` is given).
TRUTH_SCHEMA: Mapping[str, Key] = MappingProxyType({
    "affected": Key("list", "ids of the components the postmortem reports as affected",
                    "(required unless states are given)"),
    "severity": Key("str", f"one of {', '.join(SEVERITY_LABELS)}", "(required)"),
    "downtime_minutes": Key("num", "minutes from the start to full recovery (null, with "
                            "states, when the sources give none: left out of downtime metrics)",
                            "(required)"),
    **LABEL_TRUTH_SCHEMA,
})
#: Keys of one ``timeline`` event.
TIMELINE_SCHEMA: Mapping[str, Key] = MappingProxyType({
    "offset_minutes": Key("num", "minutes after the start", "(required)"),
    "event_type": Key("str", "what happened (free text)", "(required)"),
    "affected": Key("list", "component ids involved", "[]"),
})
#: Keys of an incident file.
INCIDENT_SCHEMA: Mapping[str, Key] = MappingProxyType({
    "id": Key("str", "unique id, equal to the file name without .yaml", "(required)"),
    "topology": Key("map", "the topology, in the topology schema", "(required)"),
    "fault": Key("map", "the injected fault", "(required)", FAULT_SCHEMA),
    "title": Key("str", "a one-line title", ""),
    "provider": Key("str", "the provider or company", ""),
    "date": Key("str", "the start date, YYYY-MM-DD", "(none)"),
    "cohort": Key("str", "the cohort", "the folder name"),
    "sources": Key("list", "URLs of the postmortems and reports the file was written from",
                   "[]"),
    "truth": Key("map", "the observed outcome; absent until it is known", "(none)",
                 TRUTH_SCHEMA),
    "timeline": Key("list", "events after the start (each a mapping of the keys below)", "[]"),
    "provenance": Key("map", "where the file came from (pass files, workers: text values); "
                      "kept, not read", "{}"),
})
INCIDENT_KEYS = tuple(INCIDENT_SCHEMA)
REQUIRED_KEYS = ("id", "topology", "fault")
FAULT_KEYS = tuple(FAULT_SCHEMA)
TRUTH_KEYS = tuple(TRUTH_SCHEMA)
#: How far a fault reaches (``fault.scope``).
FAULT_SCOPES = ("instance", "zone", "region", "logical")
TIMELINE_KEYS = tuple(TIMELINE_SCHEMA)

INCIDENT_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Fault:
    """The injected fault: a component id, a fault type of ``FAULT_TYPES`` and, optionally, the
    declared recovery mechanism (one of :data:`RECOVERY_MECHANISMS`).

    ``recovery`` is written with the fault, from what is known when the incident starts (the
    trigger and the damage), never from how the recovery went; it is part of the registered
    fault, so it cannot change after registration.
    """

    component: str
    type: str = "component_down"
    recovery: str | None = None
    scope: str | None = None

    def to_dict(self) -> dict[str, str]:
        """The fault in the file schema (``recovery`` only when declared).

        >>> Fault("db", recovery="restore").to_dict()
        {'component': 'db', 'type': 'component_down', 'recovery': 'restore'}
        """
        out = {"component": self.component, "type": self.type}
        if self.recovery is not None:
            out["recovery"] = self.recovery
        if self.scope is not None:
            out["scope"] = self.scope
        return out


@dataclass(frozen=True)
class Truth:
    """The observed outcome: affected component ids, severity label, downtime and, where
    labelled per component (:mod:`~faultray_lab.evaluation.labels`), every component's state
    with its evidence; components labelled ``unknown`` are left out of scoring."""

    affected: tuple[str, ...]
    severity: str
    downtime_minutes: float
    labels: Labels | None = None

    @property
    def unknown(self) -> frozenset[str]:
        """Components whose state the sources do not give (not scored)."""
        return frozenset() if self.labels is None else self.labels.unknown

    def to_dict(self) -> dict[str, Any]:
        """The truth in the file schema."""
        out: dict[str, Any] = {"affected": list(self.affected), "severity": self.severity,
                               "downtime_minutes": (None if math.isnan(self.downtime_minutes)
                                                    else self.downtime_minutes)}
        if self.labels is not None:
            out.update(self.labels.to_dict())
        return out


@dataclass(frozen=True)
class TimelineEvent:
    """One timeline entry: minutes after the start, an event type and the affected ids."""

    offset_minutes: float
    event_type: str
    affected: tuple[str, ...] = ()


@dataclass(frozen=True)
class Incident:
    """One incident: topology, fault and (optionally) the ground truth.

    Examples
    --------
    >>> from faultray_lab.model.topology import Component
    >>> inc = Incident("x", Topology((Component("a"),)), Fault("a"))
    >>> inc.scored
    False
    """

    id: str
    topology: Topology
    fault: Fault
    title: str = ""
    provider: str = ""
    date: _dt.date | None = None
    cohort: str = ""
    sources: tuple[str, ...] = ()
    truth: Truth | None = None
    timeline: tuple[TimelineEvent, ...] = ()
    path: str = ""
    provenance: tuple[tuple[str, str], ...] = ()

    @property
    def scored(self) -> bool:
        """Whether the incident has a ground truth (and so gets metrics in a backtest)."""
        return self.truth is not None

    def to_dict(self) -> dict[str, Any]:
        """The incident in the file schema (the topology in its compact form).

        >>> from faultray_lab.model.topology import Component
        >>> Incident("x", Topology((Component("a"),)), Fault("a")).to_dict()["fault"]
        {'component': 'a', 'type': 'component_down'}
        """
        out: dict[str, Any] = {"id": self.id}
        for key in ("title", "provider", "cohort"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        if self.date is not None:
            out["date"] = self.date
        if self.sources:
            out["sources"] = list(self.sources)
        out["topology"] = self.topology.to_dict()
        out["fault"] = self.fault.to_dict()
        if self.truth is not None:
            out["truth"] = self.truth.to_dict()
        if self.timeline:
            out["timeline"] = [{"offset_minutes": e.offset_minutes, "event_type": e.event_type,
                                "affected": list(e.affected)} for e in self.timeline]
        if self.provenance:
            out["provenance"] = dict(self.provenance)
        return out


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------
def load_incidents(path_or_dir: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
                   ) -> list[Incident]:
    """Load and validate incident files.

    Parameters
    ----------
    path_or_dir : path, folder or iterable of paths
        One incident file, a folder (every ``*.yaml``/``*.yml`` below it, sorted by relative
        path) or several files.

    Returns
    -------
    list of Incident
        In file order (sorted paths for a folder).

    Raises
    ------
    InputError
        Missing path or empty folder, malformed YAML, unknown or missing keys, wrong types,
        NaN or negative numbers, an unknown fault type or severity label, truth or fault
        components missing from the topology, an id that differs from the file name, or the
        same id in two files.

    Examples
    --------
    >>> incs = load_incidents("incidents/paper-18")  # doctest: +SKIP
    >>> len(incs)  # doctest: +SKIP
    18
    """
    files = _incident_files(path_or_dir)
    incidents: list[Incident] = []
    seen: dict[str, str] = {}
    for f in files:
        inc = load_incident(f)
        if inc.id in seen:
            raise InputError(str(f), "id", f"duplicate incident id '{inc.id}' (also in "
                             f"{seen[inc.id]})", "give every incident a unique id")
        seen[inc.id] = str(f)
        incidents.append(inc)
    return incidents


def _incident_files(path_or_dir: Any) -> list[Path]:
    if isinstance(path_or_dir, str | os.PathLike):
        p = Path(path_or_dir)
        if not p.exists() and not p.is_symlink():
            raise InputError(str(p), None, "no such file or folder",
                             f"check the path (relative to {os.getcwd()})")
        if p.is_dir():
            files = sorted(f for f in p.rglob("*") if f.suffix in INCIDENT_SUFFIXES
                           and f.is_file() and not f.name.startswith("."))
            if not files:
                raise InputError(str(p), None, "no incident files (*.yaml) in this folder",
                                 "point at a folder of incident YAML files, e.g. "
                                 "incidents/paper-18")
            return files
        return [p]
    if isinstance(path_or_dir, bytes | Mapping) or not isinstance(path_or_dir, Iterable):
        raise InputError(None, "path_or_dir", f"expected a path, a folder or a list of paths, "
                         f"not {type(path_or_dir).__name__} {show(path_or_dir)}",
                         "pass e.g. 'incidents/paper-18' or ['a.yaml', 'b.yaml']")
    files = []
    for i, f in enumerate(path_or_dir):
        if not isinstance(f, str | os.PathLike):
            raise InputError(None, f"path_or_dir[{i}]", f"expected a path, not "
                             f"{type(f).__name__} {show(f)}", "pass file paths")
        files.append(Path(f))
    if not files:
        raise InputError(None, None, "no incident files given", "pass at least one file")
    return files


def load_incident(path: str | os.PathLike[str]) -> Incident:
    """Load and validate one incident file (see :func:`load_incidents`)."""
    text = read_text(path, empty_fix="write an incident: id, topology and fault")
    name = os.fspath(path)
    data = parse_text(text, name)
    return incident_from_dict(data, source=name, text=text, expected_id=Path(name).stem)


def incident_from_dict(data: Any, *, source: str = "<memory>", text: str | None = None,
                       expected_id: str | None = None) -> Incident:
    """Validate a parsed incident mapping and build an :class:`Incident`.

    ``expected_id`` (the file name without suffix) must equal the ``id`` key when given.

    Examples
    --------
    >>> inc = incident_from_dict({
    ...     "id": "a", "topology": {"components": [{"id": "db", "type": "database"}]},
    ...     "fault": {"component": "db"}})
    >>> inc.fault
    Fault(component='db', type='component_down', recovery=None, scope=None)
    """
    if not isinstance(source, str) or (text is not None and not isinstance(text, str)):
        raise InputError(None, "source", "source and text must be strings",
                         "pass the file name and its text (or leave them out)")
    if expected_id is not None and not isinstance(expected_id, str):
        raise InputError(source, "expected_id", f"expected_id must be text, not "
                         f"{show(expected_id)}", "pass the file name without .yaml")
    loc = LineLocator(text)

    def fail(path: tuple[Any, ...], problem: str, fix: str) -> InputError:
        where = "".join(f".{p}" if isinstance(p, str) else f"[{p}]" for p in path).lstrip(".")
        return InputError(source, where or None, problem, fix, line=loc.line(path))

    if not isinstance(data, Mapping):
        raise fail((), f"the top level is a {type(data).__name__}, not a mapping",
                   "write an incident as a mapping with id, topology and fault")
    _check_keys(data, INCIDENT_KEYS, (), fail)
    for key in REQUIRED_KEYS:
        if data.get(key) is None:
            raise fail((), f"missing '{key}'", f"add the '{key}' key (required keys: "
                       f"{', '.join(REQUIRED_KEYS)})")

    iid = _text(data, "id", (), fail)
    if not iid:
        raise fail(("id",), "empty id", "give the incident an id equal to its file name")
    if expected_id is not None and iid != expected_id:
        raise fail(("id",), f"id '{iid}' does not match the file name '{expected_id}'",
                   f"rename the file to {iid}.yaml or set id: {expected_id}")

    topo = topology_from_dict(data["topology"], source=source, text=text,
                              path_prefix=("topology",))
    fault = _fault(data["fault"], topo, fail)
    sources = data.get("sources") or []
    if isinstance(sources, str):
        sources = [sources]
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        raise fail(("sources",), "'sources' must be a list of strings (URLs)",
                   "write sources: [https://...]")
    truth = None if data.get("truth") is None else _truth(data["truth"], topo, sources, fail)
    timeline = _timeline(data.get("timeline"), topo, fail)
    prov = data.get("provenance") or {}
    if not isinstance(prov, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in prov.items()):
        raise fail(("provenance",), "'provenance' must be a mapping of text to text",
                   "write provenance: {model: passes/model/<id>.yaml, ...}")
    cohort = _text(data, "cohort", (), fail) if data.get("cohort") is not None else None
    if cohort is None:
        cohort = Path(source).parent.name if expected_id is not None else ""
    return Incident(
        id=iid, topology=topo, fault=fault,
        title=_text(data, "title", (), fail), provider=_text(data, "provider", (), fail),
        date=_date(data.get("date"), fail), cohort=str(cohort),
        sources=tuple(sources), truth=truth, timeline=timeline, path=source,
        provenance=tuple(prov.items()),
    )


def _check_keys(obj: Mapping[str, Any], keys: tuple[str, ...], path: tuple[Any, ...],
                fail: Any) -> None:
    for key in obj:
        if key not in keys:
            raise fail(path + (key,), f"unknown key '{key}'",
                       suggest(str(key), keys, f"valid keys here: {', '.join(keys)}"))


def _text(obj: Mapping[str, Any], key: str, path: tuple[Any, ...], fail: Any) -> str:
    v = obj.get(key)
    if v is None:
        return ""
    if isinstance(v, bool):
        raise fail(path + (key,), f"'{key}' must be text, not the boolean {str(v).lower()} "
                   "(YAML reads yes, no, on, off, true and false as booleans)",
                   f'quote it, e.g. {key}: "{"yes" if v else "no"}"')
    if not isinstance(v, str | int | float):
        raise fail(path + (key,), f"'{key}' must be text, not {type(v).__name__}",
                   "write it as a plain string")
    return str(v)


def _number(v: Any, path: tuple[Any, ...], key: str, fail: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise fail(path, f"'{key}' must be a number, not {show(v)}",
                   "write a plain number without quotes or units")
    if isinstance(v, int) and abs(v) > MAX_INT:
        raise fail(path, f"'{key}' is too large ({show(v)})", "write a number below 2**63")
    if not math.isfinite(v):
        raise fail(path, f"'{key}' is not finite ({v})", "write a finite number")
    if v < 0:
        raise fail(path, f"'{key}' is negative ({v})", "use a value >= 0")
    return float(v)


def _date(v: Any, fail: Any) -> _dt.date | None:
    if v is None:
        return None
    if isinstance(v, _dt.datetime):
        return v.date()
    if isinstance(v, _dt.date):
        return v
    why = ""
    if isinstance(v, str):
        try:
            return _dt.date.fromisoformat(v)
        except ValueError as exc:
            why = f" ({exc})" if str(exc) and "Invalid isoformat" not in str(exc) else ""
    raise fail(("date",), f"'date' must be an ISO date, not {show(v)}{why}",
               "write a real date as YYYY-MM-DD")


def _component_id(v: Any, topo: Topology, path: tuple[Any, ...], what: str, fail: Any) -> str:
    if not isinstance(v, str) or not v:
        raise fail(path, f"{what} must be a component id (text), not {v!r}",
                   "write one of the topology's component ids")
    if v not in topo.index:
        raise fail(path, f"{what} '{v}' is not a component of the topology",
                   suggest(v, topo.ids, f"use one of {', '.join(topo.ids)}"))
    return v


def _fault(raw: Any, topo: Topology, fail: Any) -> Fault:
    if not isinstance(raw, Mapping):
        raise fail(("fault",), "'fault' must be a mapping",
                   "write fault: {component: <id>, type: component_down}")
    _check_keys(raw, FAULT_KEYS, ("fault",), fail)
    comp = _component_id(raw.get("component"), topo, ("fault", "component"), "the fault component",
                         fail)
    ftype = raw.get("type", "component_down")
    if not isinstance(ftype, str):
        raise fail(("fault", "type"), f"'type' must be a fault type name, not "
                   f"{type(ftype).__name__} {show(ftype)}",
                   f"use one of {', '.join(FAULT_TYPES)}")
    if ftype not in FAULT_TYPES:
        raise fail(("fault", "type"), f"unknown fault type {ftype!r}",
                   suggest(str(ftype), FAULT_TYPES, f"use one of {', '.join(FAULT_TYPES)}"))
    rec = raw.get("recovery")
    if rec is not None and not isinstance(rec, str):
        raise fail(("fault", "recovery"), f"'recovery' must be one mechanism (text), not "
                   f"{type(rec).__name__} {show(rec)}",
                   f"write one of {', '.join(RECOVERY_MECHANISMS)}, e.g. recovery: revert")
    if rec is not None and rec not in RECOVERY_MECHANISMS:
        raise fail(("fault", "recovery"), f"unknown recovery mechanism {rec!r}",
                   suggest(str(rec), tuple(RECOVERY_MECHANISMS),
                           f"use one of {', '.join(RECOVERY_MECHANISMS)}"))
    scope = raw.get("scope")
    if scope is not None and scope not in FAULT_SCOPES:
        raise fail(("fault", "scope"), f"unknown fault scope {show(scope)}",
                   suggest(str(scope), FAULT_SCOPES, f"use one of {', '.join(FAULT_SCOPES)}"))
    return Fault(comp, ftype, rec, scope)


def _id_list(raw: Any, topo: Topology, path: tuple[Any, ...], what: str, fail: Any,
             ) -> tuple[str, ...]:
    if not isinstance(raw, list):
        raise fail(path, f"'{path[-1]}' must be a list of component ids",
                   "write it as [id, id, ...]")
    out: list[str] = []
    for i, v in enumerate(raw):
        cid = _component_id(v, topo, path + (i,), what, fail)
        if cid in out:
            raise fail(path + (i,), f"'{cid}' is listed twice", "list each component once")
        out.append(cid)
    return tuple(out)


def _truth(raw: Any, topo: Topology, sources: list[str], fail: Any) -> Truth:
    path = ("truth",)
    if not isinstance(raw, Mapping):
        raise fail(path, "'truth' must be a mapping",
                   "write truth: {affected: [...], severity: ..., downtime_minutes: ...}")
    _check_keys(raw, TRUTH_KEYS, path, fail)
    labels = parse_labels(raw, topo.ids, sources, fail)
    for key in ("affected", "severity", "downtime_minutes"):
        if raw.get(key) is None and not (key != "severity" and labels is not None):
            raise fail(path, f"missing 'truth.{key}'",
                       f"add {key} (or drop 'truth' while the outcome is unknown)")
    if raw.get("affected") is None:
        affected = labels.affected  # type: ignore[union-attr]
    else:
        affected = _id_list(raw["affected"], topo, path + ("affected",), "the truth component",
                            fail)
        if labels is not None and set(affected) != set(labels.affected):
            raise fail(path + ("affected",), "'affected' disagrees with the down and degraded "
                       f"states ({', '.join(sorted(set(affected) ^ set(labels.affected)))})",
                       "leave 'affected' out when states are given, or make them agree")
    label = raw["severity"]
    if not isinstance(label, str):
        raise fail(path + ("severity",), f"'severity' must be a label (text), not "
                   f"{type(label).__name__} {show(label)}",
                   f"use one of {', '.join(SEVERITY_LABELS)}")
    if label not in SEVERITY_LABELS:
        raise fail(path + ("severity",), f"unknown severity label {label!r}",
                   suggest(str(label), SEVERITY_LABELS,
                            f"use one of {', '.join(SEVERITY_LABELS)}"))
    # a labelled incident whose sources state no duration: left out of downtime metrics
    downtime = math.nan if raw.get("downtime_minutes") is None else _number(
        raw["downtime_minutes"], path + ("downtime_minutes",), "downtime_minutes", fail)
    return Truth(affected, label, downtime, labels)


def _timeline(raw: Any, topo: Topology, fail: Any) -> tuple[TimelineEvent, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise fail(("timeline",), "'timeline' must be a list",
                   "write timeline: [{offset_minutes: 0, event_type: ..., affected: [...]}]")
    events = []
    for i, ev in enumerate(raw):
        path = ("timeline", i)
        if not isinstance(ev, Mapping):
            raise fail(path, "a timeline event is not a mapping",
                       "write {offset_minutes: ..., event_type: ..., affected: [...]}")
        _check_keys(ev, TIMELINE_KEYS, path, fail)
        if ev.get("offset_minutes") is None or ev.get("event_type") is None:
            raise fail(path, "a timeline event needs offset_minutes and event_type",
                       "add both keys")
        off = _number(ev["offset_minutes"], path + ("offset_minutes",), "offset_minutes", fail)
        affected = _id_list(ev.get("affected") or [], topo, path + ("affected",),
                            "the timeline component", fail)
        events.append(TimelineEvent(off, _text(ev, "event_type", path, fail), affected))
    return tuple(events)

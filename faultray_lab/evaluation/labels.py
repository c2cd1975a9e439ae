"""Per-component ground truth: each component's state, when it was hit and the evidence.

The corpus (``incidents/corpus``) labels every component of an incident ``down`` (it did not do
its job), ``degraded`` (partly working), ``unaffected`` (the sources show it kept working) or
``unknown`` (the sources do not say; left out of scoring). Each label other than ``unknown``
carries a verbatim quote and the URL it was read at, which must be one of the incident's
``sources``. Where the sources state them, the incident window and per-component times are
kept too; times must lie inside the window.

In an incident file these are optional keys of ``truth``::

    truth:
      severity: major
      downtime_minutes: 59
      window: {start: "2021-07-22T15:46:00Z", end: "2021-07-22T16:45:00Z"}
      states: {dns: down, sites: degraded, origins: unaffected, deploy: unknown}
      evidence:
        dns: {quote: "...", source: "https://..."}
      times:
        dns: {first_affected: "2021-07-22T15:46:00Z", recovered: "2021-07-22T16:45:00Z"}

With ``states`` the ``affected`` list may be left out (it is the ``down`` and ``degraded``
components); when both are given they must agree.

Examples
--------
>>> lab = parse_labels({"states": {"a": "down", "b": "unknown"},
...                     "evidence": {"a": {"quote": "a was down", "source": "https://x"}}},
...                    ("a", "b"), ("https://x",), _raise)
>>> lab.affected, sorted(lab.unknown)
(('a',), ['b'])
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ..common.errors import InputError, show
from ..common.suggest import suggest
from ..model.schema import Key

#: A component's observed state in an incident, from worst to best; ``unknown`` is not scored.
STATES = ("down", "degraded", "unaffected", "unknown")
#: The states that count as affected.
AFFECTED_STATES = ("down", "degraded")
#: Longest quote kept as evidence (characters).
MAX_QUOTE = 600

#: Keys of ``truth.window``.
WINDOW_SCHEMA: Mapping[str, Key] = MappingProxyType({
    "start": Key("str", "when the incident started (ISO 8601 with a time zone, e.g. "
                 "2021-07-22T15:46:00Z)", "(required)"),
    "end": Key("str", "when service was fully restored (ISO 8601 with a time zone)", "(none)"),
})
#: Keys of one ``truth.evidence`` entry.
EVIDENCE_SCHEMA: Mapping[str, Key] = MappingProxyType({
    "quote": Key("str", f"the sentence of the source behind the label, verbatim (at most "
                 f"{MAX_QUOTE} characters)", "(required)"),
    "source": Key("str", "the URL the quote was read at; one of the incident's sources",
                  "(required)"),
})
#: Keys of one ``truth.times`` entry.
TIMES_SCHEMA: Mapping[str, Key] = MappingProxyType({
    "first_affected": Key("str", "when the component was first affected (ISO 8601)", "(none)"),
    "recovered": Key("str", "when the component recovered (ISO 8601)", "(none)"),
})
#: The optional per-component keys of ``truth`` (beside affected, severity, downtime_minutes).
LABEL_TRUTH_SCHEMA: Mapping[str, Key] = MappingProxyType({
    "states": Key("map", f"component id -> {', '.join(STATES)}; with it every component is "
                  "labelled and `affected` may be left out", "(none)"),
    "evidence": Key("map", "component id -> the quote and source behind its label (required "
                    "for every state but unknown)", "{}", EVIDENCE_SCHEMA),
    "times": Key("map", "component id -> when it was first affected and recovered", "{}",
                 TIMES_SCHEMA),
    "window": Key("map", "the incident window; label times must lie inside it", "(none)",
                  WINDOW_SCHEMA),
})

Fail = Callable[[tuple[Any, ...], str, str], InputError]


def _raise(path: tuple[Any, ...], problem: str, fix: str) -> InputError:
    return InputError(None, ".".join(map(str, path)) or None, problem, fix)


@dataclass(frozen=True)
class ComponentLabel:
    """One component's label: state, evidence (quote and source) and times where stated."""

    component: str
    state: str
    quote: str = ""
    source: str = ""
    first_affected: _dt.datetime | None = None
    recovered: _dt.datetime | None = None


@dataclass(frozen=True)
class Labels:
    """Every component's label and the incident window (see the module docstring)."""

    labels: tuple[ComponentLabel, ...]
    window: tuple[_dt.datetime, _dt.datetime | None] | None = None

    @property
    def states(self) -> dict[str, str]:
        """Component id -> state."""
        return {lab.component: lab.state for lab in self.labels}

    @property
    def affected(self) -> tuple[str, ...]:
        """The ``down`` and ``degraded`` components, in label order."""
        return tuple(lab.component for lab in self.labels if lab.state in AFFECTED_STATES)

    @property
    def unknown(self) -> frozenset[str]:
        """The components left out of scoring."""
        return frozenset(lab.component for lab in self.labels if lab.state == "unknown")

    def to_dict(self) -> dict[str, Any]:
        """The labels in the file schema (``states``, ``evidence``, ``times``, ``window``)."""
        out: dict[str, Any] = {}
        if self.window is not None:
            out["window"] = {"start": _iso(self.window[0])}
            if self.window[1] is not None:
                out["window"]["end"] = _iso(self.window[1])
        out["states"] = self.states
        out["evidence"] = {lab.component: {"quote": lab.quote, "source": lab.source}
                           for lab in self.labels if lab.quote}
        times = {lab.component: {k: _iso(v) for k, v in (("first_affected", lab.first_affected),
                                                         ("recovered", lab.recovered))
                                 if v is not None}
                 for lab in self.labels if lab.first_affected or lab.recovered}
        if times:
            out["times"] = times
        return out


def _iso(t: _dt.datetime) -> str:
    return t.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _time(v: Any, path: tuple[Any, ...], fail: Fail) -> _dt.datetime:
    if isinstance(v, _dt.datetime):
        t = v
    elif isinstance(v, str):
        try:
            t = _dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
        except ValueError:
            raise fail(path, f"not an ISO 8601 time: {show(v)}",
                       'write e.g. "2021-07-22T15:46:00Z"') from None
    else:
        raise fail(path, f"a time must be ISO 8601 text, not {type(v).__name__} {show(v)}",
                   'write e.g. "2021-07-22T15:46:00Z" (quoted)')
    if t.tzinfo is None:
        raise fail(path, f"the time {show(v)} has no time zone",
                   "add Z for UTC (or an offset such as +00:00)")
    return t


def _mapping(raw: Any, path: tuple[Any, ...], fail: Fail, example: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise fail(path, f"'{path[-1]}' must be a mapping, not {type(raw).__name__}", example)
    return raw


def _keys(obj: Mapping[str, Any], keys: Sequence[str], path: tuple[Any, ...],
          fail: Fail) -> None:
    for k in obj:
        if k not in keys:
            raise fail(path + (k,), f"unknown key '{k}'",
                       suggest(str(k), tuple(keys), f"valid keys here: {', '.join(keys)}"))


def _ids(obj: Mapping[str, Any], ids: Sequence[str], path: tuple[Any, ...], fail: Fail) -> None:
    for k in obj:
        if k not in ids:
            raise fail(path + (k,), f"'{k}' is not a component of the topology",
                       suggest(str(k), tuple(ids), f"use one of {', '.join(ids)}"))


def parse_labels(raw: Mapping[str, Any], ids: Sequence[str], sources: Sequence[str],
                 fail: Fail) -> Labels | None:
    """Validate the per-component keys of a ``truth`` mapping (None when it has none).

    ``ids`` are the topology's component ids, ``sources`` the incident's source URLs. Refused,
    each naming the place: an unknown id or key, a state outside :data:`STATES`, a component
    without a state, a label without evidence, a quote that is empty or too long, a source that
    is not one of the incident's, a time without a time zone, outside the window or recovered
    before it was affected.
    """
    if not any(k in raw for k in LABEL_TRUTH_SCHEMA):
        return None
    path = ("truth",)
    if raw.get("states") is None:
        raise fail(path, "'evidence', 'times' and 'window' need 'truth.states'",
                   f"label every component: states: {{id: {' | '.join(STATES)}}}")
    states = _mapping(raw["states"], path + ("states",), fail, "write states: {id: down, ...}")
    _ids(states, ids, path + ("states",), fail)
    missing = [c for c in ids if c not in states]
    if missing:
        raise fail(path + ("states",), f"no state for {', '.join(missing)}",
                   "label every component; write unknown where the sources do not say")
    evidence = _mapping(raw.get("evidence") or {}, path + ("evidence",), fail,
                        "write evidence: {id: {quote: ..., source: ...}}")
    _ids(evidence, ids, path + ("evidence",), fail)
    times = _mapping(raw.get("times") or {}, path + ("times",), fail,
                     "write times: {id: {first_affected: ..., recovered: ...}}")
    _ids(times, ids, path + ("times",), fail)
    window = None
    if raw.get("window") is not None:
        w = _mapping(raw["window"], path + ("window",), fail,
                     "write window: {start: ..., end: ...}")
        _keys(w, tuple(WINDOW_SCHEMA), path + ("window",), fail)
        if w.get("start") is None:
            raise fail(path + ("window",), "the window has no start", "add start: <ISO time>")
        start = _time(w["start"], path + ("window", "start"), fail)
        end = None if w.get("end") is None else _time(w["end"], path + ("window", "end"), fail)
        if end is not None and end < start:
            raise fail(path + ("window", "end"), "the window ends before it starts",
                       "swap start and end, or fix the date")
        window = (start, end)
    labels = []
    for cid in ids:
        state = states[cid]
        if state not in STATES:
            raise fail(path + ("states", cid), f"unknown state {show(state)}",
                       suggest(str(state), STATES, f"use one of {', '.join(STATES)}"))
        labels.append(_label(cid, state, evidence.get(cid), times.get(cid), window, sources,
                             path, fail))
    return Labels(tuple(labels), window)


def _label(cid: str, state: str, ev: Any, tm: Any, window: Any, sources: Sequence[str],
           path: tuple[Any, ...], fail: Fail) -> ComponentLabel:
    quote = source = ""
    if ev is None:
        if state != "unknown":
            raise fail(path + ("states", cid), f"the label '{state}' of '{cid}' has no evidence",
                       f"add evidence: {{{cid}: {{quote: ..., source: ...}}}} or write unknown")
    else:
        ep = path + ("evidence", cid)
        ev = _mapping(ev, ep, fail, "write {quote: ..., source: ...}")
        _keys(ev, tuple(EVIDENCE_SCHEMA), ep, fail)
        quote, source = ev.get("quote"), ev.get("source")
        if not isinstance(quote, str) or not quote.strip():
            raise fail(ep + ("quote",), "the evidence has no quote",
                       "copy the source's sentence behind the label")
        if len(quote) > MAX_QUOTE:
            raise fail(ep + ("quote",), f"the quote is {len(quote)} characters (at most "
                       f"{MAX_QUOTE})", "keep the sentence that shows the state")
        if not isinstance(source, str) or source not in sources:
            raise fail(ep + ("source",), f"the source {show(source)} is not one of the "
                       "incident's sources", "add the URL to sources, or cite one listed there")
    first = recovered = None
    if tm is not None:
        tp = path + ("times", cid)
        tm = _mapping(tm, tp, fail, "write {first_affected: ..., recovered: ...}")
        _keys(tm, tuple(TIMES_SCHEMA), tp, fail)
        if tm.get("first_affected") is not None:
            first = _time(tm["first_affected"], tp + ("first_affected",), fail)
        if tm.get("recovered") is not None:
            recovered = _time(tm["recovered"], tp + ("recovered",), fail)
        if first and recovered and recovered < first:
            raise fail(tp + ("recovered",), f"'{cid}' recovered before it was affected",
                       "fix the times")
        for key, t in (("first_affected", first), ("recovered", recovered)):
            if t is not None and window is not None and (
                    t < window[0] or (window[1] is not None and t > window[1])):
                raise fail(tp + (key,), f"{_iso(t)} is outside the incident window",
                           "fix the time or widen truth.window")
    return ComponentLabel(cid, state, quote, source, first, recovered)

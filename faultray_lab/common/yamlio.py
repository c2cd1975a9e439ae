"""Fast YAML reading with the same result as PyYAML's ``safe_load``.

PyYAML's C loader parses quickly but resolves and constructs every node in Python, which makes
a 10,000-component topology take seconds. :func:`load_yaml` builds the Python objects straight
from libyaml's event stream and resolves the common plain scalars (decimal integers and floats,
booleans, nulls, words) itself. Anything unusual (explicit tags, merge keys, complex keys, other
scalar forms such as dates, octal or sexagesimal numbers) is resolved by PyYAML's own safe
resolver and constructor, so the result equals ``yaml.safe_load``; a test checks it on every
YAML file of the repository and on generated documents. One deliberate difference: a key that
appears twice in one mapping is an error (:class:`DuplicateKeyError`), where PyYAML silently
keeps the last value, which hides typos in hand-written topologies.

Examples
--------
>>> load_yaml("a: [1, 2.5, true, null, x, '3', 2017-02-28]")
{'a': [1, 2.5, True, None, 'x', '3', datetime.date(2017, 2, 28)]}
"""

from __future__ import annotations

import re
from typing import Any

import yaml

try:
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    _Loader = yaml.SafeLoader

_WORDS: dict[str, Any] = {}
for _w in ("yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"):
    _WORDS[_w] = True
for _w in ("no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"):
    _WORDS[_w] = False
for _w in ("~", "null", "Null", "NULL", ""):
    _WORDS[_w] = None
_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")
_FLOAT = re.compile(r"-?(?:0|[1-9][0-9]*)\.[0-9]+")
_LETTER = re.compile(r"[A-Za-z]")


class DuplicateKeyError(yaml.MarkedYAMLError):
    """A mapping holds the same key twice (``problem_mark`` points at the second one)."""


class _Fallback(Exception):
    """The document uses a feature the fast path leaves to PyYAML."""


class _SlowScalars:
    """PyYAML's own resolver and constructor, for the rare scalars the fast path does not decide."""

    def __init__(self) -> None:
        self.loader = yaml.SafeLoader("")

    def __call__(self, value: str) -> Any:
        tag = self.loader.resolve(yaml.ScalarNode, value, (True, False))
        return self.loader.construct_object(yaml.ScalarNode(tag, value))


def _plain(value: str, slow: _SlowScalars) -> Any:
    if value in _WORDS:
        return _WORDS[value]
    if _INT.fullmatch(value):
        return int(value)
    if _FLOAT.fullmatch(value):
        return float(value)
    if _LETTER.match(value):
        return value  # a word: no YAML 1.1 resolver but bool/null (handled above) starts so
    if value == "<<":
        raise _Fallback  # a merge key
    return slow(value)


def load_yaml(text: str) -> Any:
    """Parse one YAML document like ``yaml.safe_load`` (errors are PyYAML's ``YAMLError``)."""
    try:
        return _from_events(text)
    except _Fallback:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader


def _from_events(text: str) -> Any:
    slow = _SlowScalars()
    anchors: dict[str, Any] = {}
    stack: list[list[Any]] = []  # [container, pending key or _NOKEY, typed keys seen]
    nokey = _NOKEY
    root: list[Any] = []

    def add(value: Any, mark: Any = None) -> None:
        if not stack:
            if root:
                raise _Fallback  # several documents: let PyYAML report it
            root.append(value)
            return
        top = stack[-1]
        container = top[0]
        if type(container) is list:
            container.append(value)
        elif top[1] is nokey:
            if isinstance(value, dict | list):
                raise _Fallback  # complex keys
            typed = (type(value), value)  # 1 and True are equal keys but not duplicates
            if typed in top[2]:
                raise DuplicateKeyError("while reading a mapping", None,
                                        f"found duplicate key {value!r}", mark)
            top[2].add(typed)
            top[1] = value
        else:
            container[top[1]] = value
            top[1] = nokey

    scalar_event, mapping_start, sequence_start = (
        yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent)
    ends = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    for ev in yaml.parse(text, Loader=_Loader):
        kind = type(ev)
        if kind is scalar_event:
            if ev.tag is not None and ev.tag != "!":
                raise _Fallback
            if not ev.style and ev.implicit[0]:
                value = _plain(ev.value, slow)
            else:
                value = ev.value
            if ev.anchor:
                anchors[ev.anchor] = value
            add(value, ev.start_mark)
        elif kind is mapping_start or kind is sequence_start:
            if ev.tag is not None and ev.tag != "!" and not ev.implicit:
                raise _Fallback
            new: Any = {} if kind is mapping_start else []
            if ev.anchor:
                anchors[ev.anchor] = new
            add(new)
            stack.append([new, nokey, set()])
        elif kind in ends:
            stack.pop()
        elif kind is yaml.AliasEvent:
            add(anchors[ev.anchor], ev.start_mark)
    return root[0] if root else None


_NOKEY = object()

"""Fast, bounded YAML reading with the same result as PyYAML's ``safe_load``.

PyYAML's C loader parses quickly but resolves and constructs every node in Python, which makes
a 10,000-component topology take seconds. :func:`load_yaml` builds the Python objects straight
from libyaml's event stream and resolves the common plain scalars (decimal integers and floats,
booleans, nulls, words) itself. Anything unusual (explicit tags, merge keys, complex keys, other
scalar forms such as dates, octal or sexagesimal numbers) is resolved by PyYAML's own safe
resolver and constructor, so the result equals ``yaml.safe_load``; a test checks it on every
YAML file of the repository and on generated documents.

Deliberate differences, each a :class:`YamlInputError` with the line and a fix:

* a key that appears twice in one mapping (:class:`DuplicateKeyError`), where PyYAML silently
  keeps the last value, which hides typos in hand-written files; merge keys (``<<``) may still
  override merged values;
* nesting deeper than :data:`MAX_DEPTH` levels;
* aliases that stand for more than :data:`MAX_ALIAS_NODES` nodes in all (an "alias bomb" that
  would expand to billions of values when written out), or for a node that contains them;
* an integer literal of more than :data:`MAX_INT_DIGITS` digits;
* a scalar PyYAML cannot construct (a date such as ``2017-02-30``);
* with ``strict=True`` (how input files are read): YAML 1.1 number forms that surprise, a
  sexagesimal number (``1:30`` is 90) and a leading-zero octal number (``010`` is 8).

Examples
--------
>>> load_yaml("a: [1, 2.5, true, null, x, '3', 2017-02-28]")
{'a': [1, 2.5, True, None, 'x', '3', datetime.date(2017, 2, 28)]}
>>> load_yaml("replicas: 1:30")
{'replicas': 90}
>>> load_yaml("replicas: 1:30", strict=True)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
faultray_lab.common.yamlio.YamlInputError: YAML 1.1 reads 1:30 as the sexagesimal number 90 ...
"""

from __future__ import annotations

import re
from typing import Any

import yaml

try:
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    _Loader = yaml.SafeLoader

#: Deepest nesting of mappings and lists a document may have.
MAX_DEPTH = 100
#: Most nodes that aliases may stand for in one document, counted as if written out.
MAX_ALIAS_NODES = 1_000_000
#: Most digits of an integer literal (a count needs at most 19).
MAX_INT_DIGITS = 100

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
_SEXAGESIMAL = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")
_OCTAL = re.compile(r"[-+]?0[0-7_]+")
_INT_TAG, _FLOAT_TAG = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_PLAIN_TAGS = frozenset(f"tag:yaml.org,2002:{t}" for t in ("str", "null", "bool", "merge"))


class YamlInputError(yaml.MarkedYAMLError):
    """A document PyYAML would read but this toolkit refuses (``fix`` says what to do)."""

    def __init__(self, problem: str, fix: str, mark: Any = None) -> None:
        super().__init__(None, None, problem, mark)
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.problem} ({self.fix})"


class DuplicateKeyError(YamlInputError):
    """A mapping holds the same key twice (``problem_mark`` points at the second one)."""

    def __init__(self, key: Any, mark: Any = None) -> None:
        super().__init__(f"duplicate key {key!r} in one mapping",
                         "keep one of them (YAML readers silently keep the last)", mark)


class _Fallback(Exception):
    """The document uses a feature the fast path leaves to PyYAML."""


def _surprise(value: str, tag: str, result: Any) -> str | None:
    """Why a plain scalar PyYAML read as a number would surprise, or None."""
    if tag == _INT_TAG or tag == _FLOAT_TAG:
        if ":" in value and _SEXAGESIMAL.fullmatch(value):
            return f"YAML 1.1 reads {value} as the sexagesimal number {result:g}"
        if tag == _INT_TAG and _OCTAL.fullmatch(value):
            return f"YAML 1.1 reads {value} as the octal number {result}"
    return None


class _SlowScalars:
    """PyYAML's own resolver and constructor, for the rare scalars the fast path does not decide."""

    def __init__(self, strict: bool) -> None:
        self.loader = yaml.SafeLoader("")
        self.strict = strict

    def __call__(self, value: str, mark: Any) -> Any:
        tag = self.loader.resolve(yaml.ScalarNode, value, (True, False))
        return _construct_scalar(self.loader, yaml.ScalarNode(tag, value), self.strict, mark)


def _construct_scalar(loader: Any, node: Any, strict: bool, mark: Any) -> Any:
    tag, value = node.tag, node.value
    if tag == _INT_TAG and len(value.lstrip("+-")) > MAX_INT_DIGITS:
        raise YamlInputError(f"an integer of {len(value.lstrip('+-'))} digits, above the limit "
                             f"of {MAX_INT_DIGITS}", "write the number you meant (no value here "
                             "needs more than 19 digits), or quote it if it is text", mark)
    try:
        result = loader.construct_object(node)
    except (ValueError, OverflowError, TypeError) as exc:
        what = "a date" if tag.endswith(":timestamp") else f"a {tag.rsplit(':', 1)[-1]}"
        raise YamlInputError(f"cannot read {value!r} as {what} ({exc})",
                             "write a valid value (dates as YYYY-MM-DD), or quote it to keep "
                             "it as text", mark) from None
    if strict and not node.style:
        why = _surprise(value, tag, result)
        if why:
            raise YamlInputError(why, f"write the plain number ({result}) if you meant it, or "
                                 f"quote it ('{value}') if it is text", mark)
    return result


def _plain(value: str, slow: _SlowScalars, mark: Any) -> Any:
    if value in _WORDS:
        return _WORDS[value]
    if _INT.fullmatch(value):
        if len(value) > MAX_INT_DIGITS + 1:
            return slow(value, mark)  # raises the integer-size error
        return int(value)
    if _FLOAT.fullmatch(value):
        return float(value)
    if _LETTER.match(value):
        return value  # a word: no YAML 1.1 resolver but bool/null (handled above) starts so
    if value == "<<":
        raise _Fallback  # a merge key
    return slow(value, mark)


def load_yaml(text: str, *, strict: bool = False) -> Any:
    """Parse one YAML document like ``yaml.safe_load``, within the limits of this module.

    Parameters
    ----------
    text : str
        The document.
    strict : bool
        Also refuse the YAML 1.1 number forms that surprise (sexagesimal, leading-zero octal).

    Raises
    ------
    YamlInputError
        Duplicate keys, too deep or alias-heavy documents, huge integers, unreadable scalars
        (and, when ``strict``, surprising numbers); other errors are PyYAML's ``YAMLError``.
    """
    try:
        return _from_events(text, strict)
    except _Fallback:
        return _from_nodes(text, strict)


def _from_events(text: str, strict: bool) -> Any:
    slow = _SlowScalars(strict)
    anchors: dict[str, tuple[Any, int]] = {}  # anchor -> (value, nodes it stands for)
    stack: list[list[Any]] = []  # [container, pending key or _NOKEY, typed keys seen, anchor,
    #                               node count at its start]
    nokey = _NOKEY
    root: list[Any] = []
    count = 0  # nodes so far, aliases counted as written out
    alias_nodes = 0

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
                raise DuplicateKeyError(value, mark)
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
            count += 1
            if ev.tag is not None and ev.tag != "!":
                raise _Fallback
            if not ev.style and ev.implicit[0]:
                value = _plain(ev.value, slow, ev.start_mark)
            else:
                value = ev.value
            if ev.anchor:
                anchors[ev.anchor] = (value, 1)
            add(value, ev.start_mark)
        elif kind is mapping_start or kind is sequence_start:
            if ev.tag is not None and ev.tag != "!" and not ev.implicit:
                raise _Fallback
            if len(stack) >= MAX_DEPTH:
                raise _too_deep(ev.start_mark)
            new: Any = {} if kind is mapping_start else []
            add(new)
            stack.append([new, nokey, set(), ev.anchor, count])
            count += 1
            if ev.anchor:
                anchors[ev.anchor] = (new, -1)  # -1: still open
        elif kind in ends:
            top = stack.pop()
            if top[3]:
                anchors[top[3]] = (top[0], count - top[4])
        elif kind is yaml.AliasEvent:
            if ev.anchor not in anchors:
                raise YamlInputError(f"the alias *{ev.anchor} names no anchor defined before it",
                                     f"define &{ev.anchor} on an earlier node, or fix the name",
                                     ev.start_mark)
            value, size = anchors[ev.anchor]
            if size < 0:
                raise _recursive(ev.anchor, ev.start_mark)
            alias_nodes += size
            count += size
            if alias_nodes > MAX_ALIAS_NODES:
                raise _alias_bomb(ev.start_mark)
            add(value, ev.start_mark)
    return root[0] if root else None


def _too_deep(mark: Any) -> YamlInputError:
    return YamlInputError(f"the document nests deeper than {MAX_DEPTH} levels",
                          "flatten the document: no input of this toolkit nests that deep", mark)


def _recursive(anchor: str | None, mark: Any) -> YamlInputError:
    alias = f"the alias *{anchor}" if anchor else "an alias"
    return YamlInputError(f"{alias} is inside the node it names (a recursive "
                          "structure)", "write the values out instead of a self-reference",
                          mark)


def _alias_bomb(mark: Any) -> YamlInputError:
    return YamlInputError(f"aliases here stand for more than {MAX_ALIAS_NODES:,} nodes (an "
                          "alias bomb: the document would expand to more values than it could "
                          "mean)", "write the values out, or use fewer nested aliases", mark)


def _from_nodes(text: str, strict: bool) -> Any:
    """PyYAML's composer and safe constructor, after the checks the fast path makes."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_nodes(node, strict, loader)
        try:
            return loader.construct_document(node)
        except (ValueError, OverflowError, TypeError) as exc:  # pragma: no cover - checked above
            raise YamlInputError(f"cannot read the document ({exc})", "fix the value it names",
                                 node.start_mark) from None
    finally:
        loader.dispose()


def _check_nodes(root: Any, strict: bool, loader: Any) -> None:
    """Depth, alias budget, recursion, duplicate keys and scalars of a composed node graph."""
    size: dict[int, int] = {}  # id(node) -> nodes it stands for, written out
    open_: set[int] = set()
    distinct = 0
    stack: list[tuple[Any, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        if done:
            open_.discard(key)
            children = _children(node)
            size[key] = 1 + sum(size[id(c)] for c in children)
            continue
        if key in size:
            continue  # an alias of a finished node: counted by its size
        if key in open_:
            raise _recursive(None, node.start_mark)
        distinct += 1
        if isinstance(node, yaml.ScalarNode):
            if node.tag not in _PLAIN_TAGS:
                _construct_scalar(loader, node, strict, node.start_mark)
            size[key] = 1
            continue
        if depth > MAX_DEPTH:
            raise _too_deep(node.start_mark)
        if isinstance(node, yaml.MappingNode):
            _check_duplicates(node)
        open_.add(key)
        stack.append((node, depth, True))
        for child in reversed(_children(node)):
            stack.append((child, depth + 1, False))
    if size[id(root)] - distinct > MAX_ALIAS_NODES:
        raise _alias_bomb(root.start_mark)


def _children(node: Any) -> list[Any]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_duplicates(node: Any) -> None:
    seen: set[tuple[str, str]] = set()
    for k, _ in node.value:
        if not isinstance(k, yaml.ScalarNode) or k.tag == _MERGE_TAG:
            continue
        typed = (k.tag, k.value)
        if typed in seen:
            raise DuplicateKeyError(k.value, k.start_mark)
        seen.add(typed)


_NOKEY = object()

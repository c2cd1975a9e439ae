"""Reading input files: text with clear errors, JSON or YAML parsing, and line numbers.

Every importer and loader reads its file through :func:`read_text` and :func:`parse_text`, so
a missing, unreadable or malformed file gives the same kind of message everywhere: the file,
the line and column when the parser knows them, and the fix. :class:`LineLocator` finds the line
of a key path afterwards, for validation errors found after parsing.

Examples
--------
>>> parse_text('{"a": [1, 2]}', "x.json")
{'a': [1, 2]}
>>> LineLocator("a:\\n  b: 1\\n").line(("a", "b"))
2
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml

from .errors import InputError
from .yamlio import DuplicateKeyError, load_yaml

try:  # the C loader is ~10x faster; fall back to the pure-Python one
    _YamlLoader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _YamlLoader = yaml.SafeLoader


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
    """Parse JSON (a ``.json`` file, any case) or YAML text into one InputError on failure."""
    if name.lower().endswith(".json"):
        return parse_json(text, name)
    return parse_yaml(text, name)


def parse_json(text: str, name: str) -> Any:
    """Parse JSON text; a key written twice in one object is an error (json keeps the last)."""
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


def parse_yaml(text: str, name: str) -> Any:
    """Parse one YAML document like ``yaml.safe_load``; a repeated key is an error."""
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


"""Reading input files: text with clear errors, JSON or YAML parsing, and line numbers.

Every importer and loader reads its file through :func:`read_text` and :func:`parse_text`, so
a missing, unreadable or malformed file gives the same kind of message everywhere: the file,
the line and column when the parser knows them, and the fix. :class:`LineLocator` finds the line
of a key path afterwards, for validation errors found after parsing.

The work an input can cause is bounded:

* a file must be a regular file (a FIFO, a device such as ``/dev/zero`` or a socket is refused
  before it is opened for reading) of at most :data:`MAX_INPUT_BYTES` (64 MiB; the environment
  variable ``FAULTRAY_LAB_MAX_INPUT_MB`` raises it);
* a document nests at most :data:`MAX_DEPTH` levels (YAML; JSON topologies and plans are
  checked where they are read, and JSON deeper than the parser's own limit is refused too);
* YAML aliases may stand for at most :data:`~faultray_lab.common.yamlio.MAX_ALIAS_NODES` nodes
  in all (no "billion laughs");
* an integer literal has at most :data:`MAX_INT_DIGITS` digits; JSON ``NaN`` and ``Infinity``
  (not JSON) and strings with a lone surrogate (not Unicode) are refused.

Examples
--------
>>> parse_text('{"a": [1, 2]}', "x.json")
{'a': [1, 2]}
>>> LineLocator("a:\\n  b: 1\\n").line(("a", "b"))
2
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from collections.abc import Callable
from typing import Any

import numpy as np
import yaml

from .errors import InputError, show
from .yamlio import MAX_DEPTH, MAX_INT_DIGITS, YamlInputError, load_yaml

__all__ = ["MAX_DEPTH", "MAX_INPUT_BYTES", "MAX_INT_DIGITS", "LineLocator", "max_input_bytes",
           "parse_json", "parse_text", "parse_yaml", "read_text"]

try:  # the C loader is ~10x faster; fall back to the pure-Python one
    _YamlLoader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _YamlLoader = yaml.SafeLoader

#: Largest input file read, in bytes (64 MiB), unless ``FAULTRAY_LAB_MAX_INPUT_MB`` says more.
MAX_INPUT_BYTES = 64 * 2**20
#: The environment variable that raises :data:`MAX_INPUT_BYTES` (a whole number of MiB).
MAX_INPUT_ENV = "FAULTRAY_LAB_MAX_INPUT_MB"

_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
_DEFAULT_EMPTY_FIX = "write a mapping with 'components' and 'dependencies'"


def max_input_bytes() -> int:
    """The input size limit in bytes: :data:`MAX_INPUT_BYTES`, or ``FAULTRAY_LAB_MAX_INPUT_MB``.

    >>> max_input_bytes() >= MAX_INPUT_BYTES
    True
    """
    raw = os.environ.get(MAX_INPUT_ENV, "").strip()
    if not raw:
        return MAX_INPUT_BYTES
    if not raw.isdigit() or len(raw) > 7 or int(raw) < 1:
        raise InputError(None, MAX_INPUT_ENV, f"must be a whole number of MiB, not {show(raw)}",
                         f"set for example {MAX_INPUT_ENV}=256, or unset it for the default "
                         f"{MAX_INPUT_BYTES >> 20} MiB")
    return max(MAX_INPUT_BYTES, int(raw) * 2**20)


def _check_path(name: Any) -> str:
    if isinstance(name, bytes) or not isinstance(name, str | os.PathLike):
        raise InputError(None, "path", f"a file path must be a string or a path, not "
                         f"{type(name).__name__} {show(name)}",
                         "pass the file's path, e.g. 'topology.yaml'")
    text = os.fspath(name)
    if not isinstance(text, str):
        raise InputError(None, "path", "a file path must be text, not bytes",
                         "pass the path as a string")
    if not text:
        raise InputError(None, "path", "the file path is empty", "pass the file's path")
    if "\x00" in text:
        raise InputError(show(text), None, "the file path holds a NUL character",
                         "pass the file's real path")
    return text


def _stat(name: str) -> os.stat_result:
    try:
        return os.stat(name)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError(name, None, "a loop of symbolic links (the link points, directly "
                             "or not, at itself)", "point the link at a real file, or pass "
                             "the file's own path") from None
        if exc.errno == errno.ENOENT:
            if os.path.islink(name):
                raise InputError(name, None, f"a symbolic link to a missing file "
                                 f"({os.readlink(name)})",
                                 "fix the link or pass the file's own path") from None
            raise InputError(name, None, "file not found", "check the path (relative paths "
                             f"start at the current directory, {os.getcwd()})") from None
        if exc.errno == errno.ENOTDIR:
            raise InputError(name, None, "file not found (a part of the path is a file, not a "
                             "folder)", "check the path") from None
        if exc.errno == errno.EACCES:
            raise InputError(name, None, "permission denied",
                             "check the permissions of the file and its folders") from None
        raise InputError(name, None, f"cannot read the file ({exc.strerror or exc})",
                         "check the path") from None


def read_text(name: str | os.PathLike[str], *, empty_fix: str = _DEFAULT_EMPTY_FIX,
              binary_fix: str | None = None) -> str:
    """Read a file's UTF-8 text, or raise an InputError that says what is wrong and the fix.

    Refused: a missing path (a dangling symbolic link and a loop of links are named as such), a
    folder, anything but a regular file (checked before the file is opened, so a FIFO never
    blocks and ``/dev/zero`` is never read), a file above :func:`max_input_bytes`, text that is
    not UTF-8 (with the line of the first bad byte) and an empty file. A UTF-8 byte order mark
    is dropped.

    Parameters
    ----------
    name : str or PathLike
        The file.
    empty_fix : str
        The fix shown for an empty file (what the file should hold).
    binary_fix : str, optional
        The fix shown for a file that is not UTF-8 text (default: save it as UTF-8).

    Examples
    --------
    >>> read_text("/dev/null")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    faultray_lab.common.errors.InputError: /dev/null: a character device, not a regular file...
    """
    name = _check_path(name)
    st = _stat(name)
    if stat.S_ISDIR(st.st_mode):
        raise InputError(name, None, "is a directory, not a file", "pass a .yaml or .json file")
    if not stat.S_ISREG(st.st_mode):
        kind = next((k for test, k in _KINDS if test(st.st_mode)), "a special file")
        raise InputError(name, None, f"{kind}, not a regular file", "save the input to a "
                         "regular file first and pass that file (special files are refused, "
                         "as they can block or never end)")
    limit = max_input_bytes()
    if st.st_size > limit:
        raise _too_big(name, st.st_size, limit)
    try:
        # O_NONBLOCK: even if the path was swapped for a FIFO since the stat, open returns
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise InputError(name, None, f"cannot open the file ({exc.strerror or exc})",
                         "check the permissions of the file and its folders") from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InputError(name, None, "not a regular file", "pass a regular file")
        try:
            data = fh.read(limit + 1)
        except OSError as exc:
            raise InputError(name, None, f"cannot read the file ({exc.strerror or exc})",
                             "check that the file is readable") from None
    if len(data) > limit:
        raise _too_big(name, len(data), limit)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(name, None, f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset "
                         f"{exc.start})", binary_fix or "save the file as UTF-8 text",
                         line=line) from None
    if not text.strip():
        raise InputError(name, None, "the file is empty", empty_fix)
    return text


def _too_big(name: str, size: int, limit: int) -> InputError:
    def mib(n: int) -> str:
        return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n:,} bytes"

    return InputError(name, None, f"the file is {mib(size)}, above the input limit of "
                      f"{mib(limit)}", f"pass a smaller file, or raise the limit with the "
                      f"environment variable {MAX_INPUT_ENV} (e.g. "
                      f"{MAX_INPUT_ENV}={max(2 * (limit >> 20), 128)})")


def parse_text(text: str, name: str) -> Any:
    """Parse JSON (a ``.json`` file, any case) or YAML text into one InputError on failure.

    >>> parse_text('{"a": 1}', "X.JSON")
    {'a': 1}
    """
    if name.lower().endswith(".json"):
        return parse_json(text, name)
    return parse_yaml(text, name)


class _JSONValueError(ValueError):
    def __init__(self, literal: str, problem: str, fix: str) -> None:
        super().__init__(problem)
        self.literal, self.problem, self.fix = literal, problem, fix


def _json_int(literal: str) -> int:
    if len(literal) > MAX_INT_DIGITS + 1:
        raise _JSONValueError(literal, f"an integer of {len(literal.lstrip('-'))} digits, "
                              f"above the limit of {MAX_INT_DIGITS}",
                              "write the number you meant (no value here needs more than 19 "
                              "digits), or quote it if it is text")
    return int(literal)


def _json_constant(literal: str) -> float:
    raise _JSONValueError(literal, f"{literal} is not valid JSON (and not a usable number)",
                          "write a finite number, or null for the default")


# a \uXXXX escape of a surrogate: a lone one is not Unicode (checked after parsing)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")

#: Bracket nesting refused before the JSON parser runs. The parser's own limit is the
#: interpreter's recursion limit less the caller's stack, which differs between runs (test
#: tools raise it), so the refusal must not depend on it. Inputs are held to MAX_DEPTH later,
#: with a message naming the place; this bound only keeps the parser itself safe.
JSON_PARSE_DEPTH = 500

# a JSON string literal, escapes included (brackets inside strings do not nest)
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)


def json_nesting(text: str) -> int:
    """Return the deepest bracket nesting of a JSON text (brackets inside strings ignored).

    Linear in the text; exact for well-formed JSON and a safe over-estimate otherwise.

    >>> json_nesting('{"a": [1, {"b": "[[["}]}')
    3
    """
    if text.count("[") + text.count("{") == 0:
        return 0
    brackets = re.sub(r"[^\[\]{}]+", "", _JSON_STRING.sub("", text)).encode("ascii")
    steps = np.frombuffer(brackets, dtype=np.uint8)
    depth = np.where((steps == ord("[")) | (steps == ord("{")), 1, -1).cumsum()
    return max(int(depth.max()), 0)


def json_too_deep(text: str) -> bool:
    """Whether a JSON text nests deeper than :data:`JSON_PARSE_DEPTH` (cheap when it cannot).

    >>> json_too_deep("[" * 501 + "]" * 501), json_too_deep('["[[[[["]')
    (True, False)
    """
    return (text.count("[") + text.count("{") > JSON_PARSE_DEPTH
            and json_nesting(text) > JSON_PARSE_DEPTH)


def parse_json(text: str, name: str, *,
               decode_error: Callable[[json.JSONDecodeError], InputError] | None = None) -> Any:
    """Parse JSON text; a key written twice in one object is an error (json keeps the last).

    Also refused: ``NaN`` and ``Infinity`` (not JSON), integers above :data:`MAX_INT_DIGITS`
    digits, a string with a lone surrogate and nesting deeper than the parser can follow.
    ``decode_error`` builds the error for malformed JSON, for a format-specific message.

    >>> parse_json('{"a": NaN}', "x.json")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    faultray_lab.common.errors.InputError: x.json:1: NaN is not valid JSON ...
    """
    if json_too_deep(text):
        raise _too_deep(name)
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys, parse_int=_json_int,
                          parse_constant=_json_constant)
    except _DuplicateJSONKey as exc:
        raise InputError(name, None, f"duplicate key '{exc.args[0]}' in one object",
                         "keep one of them (a JSON reader would silently keep the last)"
                         ) from None
    except _JSONValueError as exc:
        pos = text.find(exc.literal)
        raise InputError(name, None, exc.problem, exc.fix,
                         line=text.count("\n", 0, pos) + 1 if pos >= 0 else None) from None
    except json.JSONDecodeError as exc:
        if decode_error is not None:
            raise decode_error(exc) from None
        raise InputError(name, f"column {exc.colno}", f"malformed JSON: {exc.msg}",
                         "fix the JSON syntax at that line (a validator such as "
                         "`python -m json.tool` shows it)", line=exc.lineno) from None
    except RecursionError:
        raise _too_deep(name) from None
    if _SURROGATE_ESCAPE.search(text):
        _check_unicode(data, name)
    return data


def _too_deep(name: str) -> InputError:
    return InputError(name, None, f"the JSON is nested too deeply (more than the parser "
                      f"follows; the limit for inputs is {MAX_DEPTH} levels)",
                      "flatten the document: no input of this toolkit nests that deep")


def _check_unicode(data: Any, name: str) -> None:
    """Refuse a string (or key) holding a lone surrogate, naming where it is."""
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        obj, where = stack.pop()
        if isinstance(obj, str):
            try:
                obj.encode("utf-8")
            except UnicodeEncodeError:
                raise InputError(name, where or None, f"the text {show(obj)} holds a lone "
                                 "surrogate (a \\ud800-\\udfff escape without its pair), which "
                                 "is not Unicode", "write the character itself, or a complete "
                                 "surrogate pair") from None
        elif isinstance(obj, dict):
            for k, v in obj.items():
                stack.append((k, where))
                stack.append((v, f"{where}.{k}" if where else str(k)))
        elif isinstance(obj, list):
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(obj))


def parse_yaml(text: str, name: str) -> Any:
    """Parse one YAML document like ``yaml.safe_load``; a repeated key is an error.

    Also refused, each with its line: nesting deeper than :data:`MAX_DEPTH`, aliases that
    expand to too many nodes or to themselves, YAML 1.1 number forms that surprise
    (``1:30`` read as 90, ``010`` read as 8), dates that do not exist and integers above
    :data:`MAX_INT_DIGITS` digits.

    >>> parse_yaml("replicas: 1:30", "t.yaml")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    faultray_lab.common.errors.InputError: t.yaml:1: column 11: YAML 1.1 reads 1:30 as ...
    """
    try:
        data = load_yaml(text, strict=True)
    except YamlInputError as exc:
        mark = exc.problem_mark
        raise InputError(name, f"column {mark.column + 1}" if mark else None,
                         exc.problem or "bad YAML", exc.fix,
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
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen:
                raise _DuplicateJSONKey(k)
            seen.add(k)
    return out


class LineLocator:
    """Find the line of a key path in YAML/JSON text, parsing the node tree only when needed.

    >>> loc = LineLocator("components:\\n  - id: no\\n")
    >>> loc.line(("components", 0, "id")), loc.scalar(("components", 0, "id"))
    (2, 'no')
    """

    def __init__(self, text: str | None) -> None:
        self.text = text
        self._root: Any = None
        self._parsed = False

    def _find(self, path: tuple[Any, ...]) -> tuple[Any, int | None]:
        """(the node at ``path`` or None, the line of the deepest part of it found)."""
        if self.text is None:
            return None, None
        if not self._parsed:
            self._parsed = True
            try:
                self._root = yaml.compose(self.text, Loader=_YamlLoader)
            except (yaml.YAMLError, RecursionError):
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
                    if k.value == key or (not isinstance(key, str) and k.value == str(key)):
                        best = k.start_mark.line + 1
                        nxt = v
                        break
                node = nxt
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
                node = node.value[key] if 0 <= key < len(node.value) else None
            else:
                node = None
        if node is not None:
            best = node.start_mark.line + 1
        return node, best

    def line(self, path: tuple[Any, ...]) -> int | None:
        """The line (1-based) of ``path``, or of the deepest part of it that exists."""
        return self._find(path)[1]

    def scalar(self, path: tuple[Any, ...]) -> str | None:
        """The text of the scalar at ``path`` as written (``no`` for a value read as False)."""
        node = self._find(path)[0]
        return node.value if isinstance(node, yaml.ScalarNode) else None

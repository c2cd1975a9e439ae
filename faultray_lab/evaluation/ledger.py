"""The pre-registration ledger: a tamper-evident, hash-chained JSON-lines file with an anchored
head.

Each record holds one registered prediction and the sha256 of the previous record
(``prev_hash``; the first one :data:`GENESIS_HASH`), so editing, removing, inserting or
reordering a record breaks the chain (:func:`verify_chain`). Hashes are over canonical JSON
(:func:`~faultray_lab.common.jsonutil.canonical_json`).

A chain alone cannot tell that its last records were removed, or that a record was edited and
every later hash recomputed. So every append also writes the ledger's *head* (the number of
records and the hash of the last one) to ``<ledger>.head``, atomically and after the ledger, and
:func:`verify_ledger` refuses a ledger that does not end exactly at its head. Whoever can rewrite
both files can still rewrite history; against that, publish the head elsewhere
(``faultray-lab ledger head LEDGER``) and pass it back as ``expect_head``
(``--expect-head HASH``): the ledger must still contain the record with that hash.

A ledger written before heads existed (faultray-lab 0.1) is refused until
:func:`init_head` (``faultray-lab ledger head --init LEDGER``) has verified its chain and written
its head.

Examples
--------
>>> sha256_text("")[:12]
'e3b0c44298fc'
>>> verify_ledger("no-such-ledger.jsonl")
[]
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..common.errors import InputError
from ..common.files import atomic_write_text, exclusive_lock, real_path
from ..common.jsonutil import canonical_json
from ..common.parsing import json_too_deep
from ..model.topology import Topology
from .incidents import Incident

#: Format tag written into every ledger record.
LEDGER_FORMAT = "faultray-lab-ledger/1"
#: Format tag of the head file ``<ledger>.head``.
HEAD_FORMAT = "faultray-lab-ledger-head/1"
#: ``prev_hash`` of the first record (and the hash of an empty ledger's head).
GENESIS_HASH = "0" * 64
#: Default ledger path of the command line.
DEFAULT_LEDGER = "predictions/ledger.jsonl"
RECORD_KEYS = ("format", "seq", "incident", "cohort", "registered_at", "toolkit_version",
               "rules", "parameters", "topology_sha256", "fault_sha256",
               "truth_known_at_registration", "prediction", "features", "prev_hash", "hash")
#: Largest ``max_depth`` a record may carry (the engine's depth bound).
MAX_DEPTH_LIMIT = 1_000_000

_HEX64 = re.compile(r"[0-9a-f]{64}")
_RESTORE = "restore the ledger from its last good copy; records are never edited by hand"


def sha256_text(text: str) -> str:
    """Hex sha256 of UTF-8 text.

    >>> sha256_text("")[:12]
    'e3b0c44298fc'
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def topology_sha256(topology: Topology) -> str:
    """sha256 of the canonical form of a topology (every field the engine reads, edge order kept).

    >>> from faultray_lab.model.topology import Component
    >>> a = Topology((Component("a"),))
    >>> topology_sha256(a) == topology_sha256(a.with_component("a", replicas=2))
    False
    """
    return sha256_text(canonical_json(topology.to_dict()))


def fault_sha256(incident: Incident) -> str:
    """sha256 of the canonical fault (component id, fault type and, when declared, the recovery
    mechanism)."""
    return sha256_text(canonical_json(incident.fault.to_dict()))


def record_hash(record: Mapping[str, Any]) -> str:
    """The hash of a ledger record: sha256 of its canonical JSON without the ``hash`` key."""
    return sha256_text(canonical_json({k: v for k, v in record.items() if k != "hash"}))


# ---------------------------------------------------------------------------------------------
# Records and the chain
# ---------------------------------------------------------------------------------------------
def _broken(path: str | os.PathLike[str], n: int, detail: str,
            fix: str = _RESTORE) -> InputError:
    return InputError(str(path), None, f"chain broken at record {n}: {detail}", fix, line=n)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def read_ledger(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read a ledger's records without checking the chain (see :func:`verify_ledger`).

    A missing ledger reads as no records. A last line without its newline (a half-written
    record), a line that is not a JSON object with the ledger's keys (including ``NaN``,
    numbers too long to read and nesting too deep to parse) is an :class:`InputError`
    ("chain broken at record N").
    """
    p = Path(path)
    if not p.exists():
        return []
    if p.is_dir():
        raise InputError(str(p), None, "the ledger path is a folder", "give a .jsonl file path")
    if not p.is_file():  # a device or FIFO would be read forever, or as an empty ledger
        raise InputError(str(p), None, "the ledger is not a regular file (a device, FIFO or "
                         "socket)", "give the path of a .jsonl file")
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise InputError(str(p), None, f"cannot read the ledger ({exc.strerror or exc})",
                         "check the path and its permissions") from None
    if not raw:
        return []
    lines = raw.split(b"\n")
    if lines[-1]:
        raise _broken(p, len(lines), "the last record is incomplete (no newline)")
    records = []
    for n, line in enumerate(lines[:-1], start=1):
        try:
            text = line.decode("utf-8")
            if json_too_deep(text):
                raise RecursionError
            rec = json.loads(text, parse_constant=_reject_constant)
        except UnicodeDecodeError:
            raise _broken(p, n, "not UTF-8 text") from None
        except json.JSONDecodeError as exc:
            raise _broken(p, n, f"not valid JSON ({exc.msg})") from None
        except (ValueError, RecursionError) as exc:
            reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            raise _broken(p, n, f"not a readable record ({reason[:120]})") from None
        if not isinstance(rec, dict) or set(rec) != set(RECORD_KEYS):
            raise _broken(p, n, "not a ledger record (keys differ)")
        records.append(rec)
    return records


def _finite(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return True
    return isinstance(v, float) and math.isfinite(v)


def _record_problem(rec: Mapping[str, Any]) -> str | None:
    """Why a record cannot be a registered prediction (wrong types), or None."""
    def texts(v: Any) -> bool:
        return isinstance(v, list) and all(isinstance(x, str) for x in v)

    def scalar(v: Any) -> bool:
        return v is None or isinstance(v, str | bool) or _finite(v)

    for key in ("format", "incident", "cohort", "registered_at", "toolkit_version", "rules"):
        if not isinstance(rec[key], str):
            return f"{key} is not a string"
    if not rec["incident"]:
        return "incident is empty"
    if isinstance(rec["seq"], bool) or not isinstance(rec["seq"], int):
        return "seq is not a whole number"
    for key in ("topology_sha256", "fault_sha256", "prev_hash", "hash"):
        if not isinstance(rec[key], str) or not _HEX64.fullmatch(rec[key]):
            return f"{key} is not a sha256 hex digest"
    if not isinstance(rec["truth_known_at_registration"], bool):
        return "truth_known_at_registration is not true or false"
    params = rec["parameters"]
    if not isinstance(params, dict):
        return "parameters is not an object"
    depth = params.get("max_depth")
    if isinstance(depth, bool) or not isinstance(depth, int) \
            or not 0 <= depth <= MAX_DEPTH_LIMIT:
        return f"parameters.max_depth is not a whole number in [0, {MAX_DEPTH_LIMIT}]"
    if not _finite(params.get("multiplier")):
        return "parameters.multiplier is not a finite number"
    model = params.get("recovery_model")
    if model is not None and (not isinstance(model, dict)
                              or not all(scalar(v) for v in model.values())
                              or not _finite(model.get("median_minutes"))):
        return "parameters.recovery_model is not a fitted model's description"
    pred = rec["prediction"]
    if not isinstance(pred, dict):
        return "prediction is not an object"
    for key in ("affected", "down"):
        if not texts(pred.get(key)):
            return f"prediction.{key} is not a list of component ids"
    for key in ("severity", "downtime_minutes"):
        if not _finite(pred.get(key)):
            return f"prediction.{key} is not a finite number"
    if "recovery_minutes" in pred and not _finite(pred["recovery_minutes"]):
        return "prediction.recovery_minutes is not a finite number"
    feats = rec["features"]
    if not isinstance(feats, dict) or not all(scalar(v) for v in feats.values()):
        return "features is not an object of plain values"
    return None


def verify_chain(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Check the ledger's hash chain and every record's form, and return its records.

    Every record must carry its position (``seq``), the hash of the previous record
    (``prev_hash``; the first one :data:`GENESIS_HASH`), its own hash (:func:`record_hash`) and
    values of the right types. The head file is not read (see :func:`verify_ledger`).

    Raises
    ------
    InputError
        "chain broken at record N": a malformed or incomplete record, an edited record (its hash
        no longer matches), a removed, inserted or reordered record (``seq`` or ``prev_hash``
        mismatch).

    Examples
    --------
    >>> verify_chain("no-such-ledger.jsonl")
    []
    """
    records = read_ledger(path)
    prev = GENESIS_HASH
    for n, rec in enumerate(records, start=1):
        if rec["format"] != LEDGER_FORMAT:
            shown = rec["format"] if isinstance(rec["format"], str) else "(not a string)"
            raise _broken(path, n, f"unknown ledger format {shown[:60]!r}")
        problem = _record_problem(rec)
        if problem is not None:
            raise _broken(path, n, problem)
        if rec["seq"] != n:
            raise _broken(path, n, f"sequence number {rec['seq']} where {n} was expected (a "
                          "record was removed, inserted or reordered)")
        if rec["prev_hash"] != prev:
            raise _broken(path, n, "prev_hash does not match the previous record")
        try:
            digest = record_hash(rec)
        except (ValueError, TypeError, RecursionError):
            raise _broken(path, n, "the record cannot be hashed") from None
        if digest != rec["hash"]:
            raise _broken(path, n, f"the hash of the record (incident {rec['incident'][:80]!r}) "
                          "does not match its content (edited after registration)")
        prev = rec["hash"]
    return records


# ---------------------------------------------------------------------------------------------
# The head
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LedgerHead:
    """A ledger's head: how many records it has and the hash of the last one
    (:data:`GENESIS_HASH` for none).

    >>> LedgerHead(0, GENESIS_HASH).to_text()[:44]
    '{"format":"faultray-lab-ledger-head/1","hash'
    """

    records: int
    hash: str

    def to_dict(self) -> dict[str, Any]:
        """``format``, ``records`` and ``hash``."""
        return {"format": HEAD_FORMAT, "records": self.records, "hash": self.hash}

    def to_text(self) -> str:
        """The head file's content: one line of canonical JSON."""
        return canonical_json(self.to_dict()) + "\n"


def head_path(ledger: str | os.PathLike[str]) -> Path:
    """The head file of a ledger: ``<real ledger path>.head`` (symbolic links resolved).

    >>> head_path("ledger.jsonl").name
    'ledger.jsonl.head'
    """
    return Path(f"{real_path(ledger)}.head")


def chain_head(records: Sequence[Mapping[str, Any]]) -> LedgerHead:
    """The head of a list of (verified) records."""
    return LedgerHead(len(records), records[-1]["hash"] if records else GENESIS_HASH)


def parse_head_hash(value: Any, where: str = "--expect-head") -> str:
    """A published head hash, checked: 64 hex digits (case ignored).

    >>> parse_head_hash("AB" * 32) == "ab" * 32
    True
    """
    text = value.strip().lower() if isinstance(value, str) else ""
    if not _HEX64.fullmatch(text):
        raise InputError(None, where, f"not a head hash: {str(value)[:80]!r}",
                         "give the 64 hex digits that `faultray-lab ledger head LEDGER` printed")
    return text


def read_head(ledger: str | os.PathLike[str]) -> LedgerHead | None:
    """The ledger's head file, or None when there is none.

    Raises
    ------
    InputError
        A head file that is not a ledger head.
    """
    hp = head_path(ledger)
    fix = ("restore the head file from the same good copy as the ledger; if you trust the "
           f"ledger, delete {hp.name} and run `faultray-lab ledger head --init {ledger}`")
    if not hp.exists() and not hp.is_symlink():
        return None
    if hp.exists() and not hp.is_file():
        raise InputError(str(hp), None, "the ledger's head file is not a regular file", fix)
    try:
        with open(hp, "rb") as fh:
            raw = fh.read(4097)
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (OSError, ValueError, RecursionError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not JSON"
        raise InputError(str(hp), None, f"the ledger's head file cannot be read ({reason})",
                         fix) from None
    if (len(raw) > 4096 or not isinstance(data, dict)
            or set(data) != {"format", "records", "hash"} or data["format"] != HEAD_FORMAT
            or isinstance(data["records"], bool) or not isinstance(data["records"], int)
            or data["records"] < 0 or not isinstance(data["hash"], str)
            or not _HEX64.fullmatch(data["hash"])
            or (data["records"] == 0) != (data["hash"] == GENESIS_HASH)):
        raise InputError(str(hp), None, "not a ledger head (format, records and hash expected)",
                         fix)
    return LedgerHead(data["records"], data["hash"])


def write_head(ledger: str | os.PathLike[str], head: LedgerHead) -> Path:
    """Write the ledger's head file atomically (after the ledger itself)."""
    return atomic_write_text(head_path(ledger), head.to_text())


def _check_head(ledger: str | os.PathLike[str], records: Sequence[Mapping[str, Any]],
                head: LedgerHead | None) -> None:
    """Refuse a ledger that does not end exactly at its head."""
    n = len(records)
    hp = head_path(ledger)
    init = f"`faultray-lab ledger head --init {ledger}`"
    if head is None:
        if n == 0:
            return  # a new (or empty, never anchored) ledger
        raise InputError(str(ledger), None, f"the ledger has {n} records but no head file "
                         f"({hp.name}): its end is not anchored (a ledger from faultray-lab "
                         "0.1, or the head was deleted), so removed records could not be told",
                         f"if this is the ledger as you registered it, run {init} to verify "
                         "its chain and write its head (add --expect-head HASH to check a head "
                         "you published)")
    restore = ("restore the ledger and its head from their last good copy; a registered "
               "record is never removed or edited")
    if n < head.records:
        what = "is missing or empty" if n == 0 else f"has {n} records"
        raise InputError(str(ledger), None, f"the ledger {what} but its head ({hp.name}) "
                         f"records {head.records}: records were removed after registration "
                         "(truncated)", restore)
    at = records[head.records - 1]["hash"] if head.records else GENESIS_HASH
    if at != head.hash:
        raise InputError(str(ledger), f"record {head.records}" if head.records else None,
                         f"the ledger does not match its head ({hp.name}: record "
                         f"{head.records} has hash {head.hash[:12]}..., the ledger's has "
                         f"{at[:12]}...): records were edited and the chain recomputed, or the "
                         "head file was changed", restore)
    if n > head.records:
        raise InputError(str(ledger), f"records {head.records + 1}..{n}",
                         f"the ledger has {n} records but its head ({hp.name}) records "
                         f"{head.records}: the last append was interrupted before its head was "
                         "written, or records were appended by hand",
                         f"check those records, then run {init} to anchor them")


def _check_expected(ledger: str | os.PathLike[str], records: Sequence[Mapping[str, Any]],
                    expect_head: str | None) -> None:
    if expect_head is None:
        return
    want = parse_head_hash(expect_head)
    if want == GENESIS_HASH or any(r["hash"] == want for r in records):
        return
    raise InputError(str(ledger), "--expect-head", f"no record of the ledger has the published "
                     f"head hash {want[:12]}...: the ledger does not extend the head you "
                     "published (records were removed or edited since)",
                     "restore the ledger from the copy whose head you published")


def verify_ledger(path: str | os.PathLike[str], *,
                  expect_head: str | None = None) -> list[dict[str, Any]]:
    """Check the ledger's chain (:func:`verify_chain`) and that it ends exactly at its head
    (``<ledger>.head``), and return its records. Read under a shared lock, so a concurrent
    append is seen whole or not at all.

    Parameters
    ----------
    path : path
        The ledger; a missing one (without a head file) has no records.
    expect_head : str, optional
        A head hash published earlier (``faultray-lab ledger head``): the ledger must contain
        the record with this hash (it extends the published head).

    Raises
    ------
    InputError
        A broken chain ("chain broken at record N"); a missing, unreadable or different head
        file (records removed, or edited and re-chained; a ledger from 0.1 without a head); an
        ``expect_head`` the ledger does not contain.

    Examples
    --------
    >>> verify_ledger("no-such-ledger.jsonl")
    []
    """
    with exclusive_lock(path, shared=True):
        return verify_under_lock(path, expect_head)


def verify_under_lock(path: str | os.PathLike[str],
                     expect_head: str | None = None) -> list[dict[str, Any]]:
    """:func:`verify_ledger` for a caller that already holds the ledger's lock."""
    if expect_head is not None:
        parse_head_hash(expect_head)
    records = verify_chain(path)
    _check_head(path, records, read_head(path))
    _check_expected(path, records, expect_head)
    return records


def require_ledger(path: str | os.PathLike[str]) -> None:
    """Refuse a ledger that was never written ("no such ledger"); a missing ledger whose head
    file exists was removed after registration, which :func:`verify_ledger` reports."""
    if not Path(path).exists() and not head_path(path).exists():
        raise InputError(str(path), None, "no such ledger",
                         "register predictions first with `faultray-lab predict`")


def ledger_head(path: str | os.PathLike[str], *, expect_head: str | None = None) -> LedgerHead:
    """The verified head of an existing ledger (see :func:`verify_ledger`); the number to
    publish so that later readers can check that the ledger still extends it."""
    require_ledger(path)
    return chain_head(verify_ledger(path, expect_head=expect_head))


def init_head(path: str | os.PathLike[str], *,
              expect_head: str | None = None) -> tuple[LedgerHead, str]:
    """Verify the ledger's chain and write its head file, under the ledger's lock.

    For a ledger without a head (written by faultray-lab 0.1, or whose head was lost) and for
    one whose last append was interrupted before its head was written (the ledger extends its
    head). A head the ledger does not extend (records removed, or edited and re-chained) is
    never overwritten.

    Returns
    -------
    (LedgerHead, str)
        The head and what was done: ``"written"``, ``"extended"`` or ``"unchanged"``.
    """
    require_ledger(path)
    if expect_head is not None:
        parse_head_hash(expect_head)
    with exclusive_lock(path):
        records = verify_chain(path)
        if not records:
            raise InputError(str(path), None, "the ledger has no records: there is nothing to "
                             "anchor", "register predictions with `faultray-lab predict`")
        _check_expected(path, records, expect_head)
        old = read_head(path)
        new = chain_head(records)
        if old == new:
            return new, "unchanged"
        if old is not None and (old.records > len(records) or old.hash != (
                records[old.records - 1]["hash"] if old.records else GENESIS_HASH)):
            _check_head(path, records, old)  # not extended: raises the precise refusal
        write_head(path, new)
        return new, "written" if old is None else "extended"


def utc_now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


def timestamp(clock: Callable[[], _dt.datetime]) -> str:
    t = clock()
    if t.tzinfo is None:
        raise InputError(None, "clock", "the clock returned a naive datetime",
                         "return an aware UTC datetime")
    return t.astimezone(_dt.UTC).isoformat(timespec="microseconds").replace(
        "+00:00", "Z")


def registration_table(ledger: str | os.PathLike[str]) -> pd.DataFrame:
    """The verified ledger as a table: one row per record (prediction fields flattened)."""
    records = verify_ledger(ledger)
    rows = [{"seq": r["seq"], "id": r["incident"], "cohort": r["cohort"],
             "registered_at": r["registered_at"], "rules": r["rules"],
             "truth_known_at_registration": r["truth_known_at_registration"],
             "predicted_affected": len(r["prediction"]["affected"]),
             "predicted_down": len(r["prediction"]["down"]),
             "predicted_severity": r["prediction"]["severity"],
             "predicted_downtime_minutes": r["prediction"]["downtime_minutes"],
             "hash": r["hash"][:12]} for r in records]
    return pd.DataFrame(rows, columns=["seq", "id", "cohort", "registered_at", "rules",
                                       "truth_known_at_registration", "predicted_affected",
                                       "predicted_down", "predicted_severity",
                                       "predicted_downtime_minutes", "hash"])

"""The pre-registration ledger: a tamper-evident, hash-chained JSON-lines file.

Each record holds one registered prediction and the sha256 of the previous record
(``prev_hash``; the first one :data:`GENESIS_HASH`), so editing, removing, inserting or
reordering a record breaks the chain (:func:`verify_ledger`). Hashes are over canonical JSON
(:func:`~faultray_lab.common.jsonutil.canonical_json`).

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
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..common.errors import InputError
from ..common.jsonutil import canonical_json
from ..model.topology import Topology
from .incidents import Incident

#: Format tag written into every ledger record.
LEDGER_FORMAT = "faultray-lab-ledger/1"
#: ``prev_hash`` of the first record.
GENESIS_HASH = "0" * 64
#: Default ledger path of the command line.
DEFAULT_LEDGER = "predictions/ledger.jsonl"
RECORD_KEYS = ("format", "seq", "incident", "cohort", "registered_at", "toolkit_version",
               "rules", "parameters", "topology_sha256", "fault_sha256",
               "truth_known_at_registration", "prediction", "features", "prev_hash", "hash")


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
# The ledger
# ---------------------------------------------------------------------------------------------
def read_ledger(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read a ledger's records without checking the chain (see :func:`verify_ledger`).

    A missing ledger reads as no records. A last line without its newline (a half-written
    record) or a malformed line is an :class:`InputError`.
    """
    p = Path(path)
    if not p.exists():
        return []
    if p.is_dir():
        raise InputError(str(p), None, "the ledger path is a folder", "give a .jsonl file path")
    raw = p.read_bytes()
    if raw and not raw.endswith(b"\n"):
        n = raw.count(b"\n") + 1
        raise InputError(str(p), f"record {n}", "the last record is incomplete (no newline): "
                         "the ledger's chain is broken", "restore the ledger from its last "
                         "good copy; records are never edited by hand", line=n)
    records = []
    for n, line in enumerate(raw.decode("utf-8", errors="replace").splitlines(), start=1):
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(str(p), f"record {n}", f"not valid JSON ({exc.msg}): the ledger's "
                             "chain is broken", "restore the ledger from its last good copy",
                             line=n) from None
        if not isinstance(rec, dict) or set(rec) != set(RECORD_KEYS):
            raise InputError(str(p), f"record {n}", "not a ledger record (keys differ): the "
                             "ledger's chain is broken", "restore the ledger from its last good "
                             "copy", line=n)
        records.append(rec)
    return records


def verify_ledger(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Check the ledger's hash chain and return its records.

    Every record must carry its position (``seq``), the hash of the previous record
    (``prev_hash``; the first one :data:`GENESIS_HASH`) and its own hash (:func:`record_hash`).

    Raises
    ------
    InputError
        A malformed or incomplete record, an edited record (its hash no longer matches), a
        removed, inserted or reordered record (``seq`` or ``prev_hash`` mismatch).

    Examples
    --------
    >>> verify_ledger("no-such-ledger.jsonl")
    []
    """
    records = read_ledger(path)
    prev = GENESIS_HASH
    for n, rec in enumerate(records, start=1):
        where = f"record {n} (incident {rec.get('incident')!r})"
        fix = "restore the ledger from its last good copy; records are never edited by hand"
        if rec["format"] != LEDGER_FORMAT:
            raise InputError(str(path), where, f"unknown ledger format {rec['format']!r}", fix,
                             line=n)
        if rec["seq"] != n:
            raise InputError(str(path), where, f"sequence number {rec['seq']!r} where {n} was "
                             "expected: a record was removed, inserted or reordered; the "
                             "ledger's chain is broken", fix, line=n)
        if rec["prev_hash"] != prev:
            raise InputError(str(path), where, "prev_hash does not match the previous record: "
                             "the ledger's chain is broken", fix, line=n)
        if record_hash(rec) != rec["hash"]:
            raise InputError(str(path), where, "the record's hash does not match its content "
                             "(edited after registration): the ledger's chain is broken", fix,
                             line=n)
        prev = rec["hash"]
    return records


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

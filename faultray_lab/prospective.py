"""Prospective validation: a pre-registration ledger, recovery-time and severity models, robustness.

The published backtest is post hoc. This module makes prospective validation routine:

* :func:`register` appends one record per incident to a JSON-lines *ledger* before the outcome is
  known: toolkit version, rule set and parameters, the sha256 of the canonical topology and of the
  fault, the predicted affected and down sets, severity and downtime, the pre-outage features of
  the recovery-time model, a UTC timestamp and the hash of the previous record (a tamper-evident
  chain). Appends are atomic: the whole new ledger is written to a temporary file and renamed.
* :func:`score` scores incidents that now have a ``truth`` against their registered prediction
  only, with the backtest's metrics, baselines and bootstrap intervals
  (:mod:`faultray_lab.backtest`). It refuses (:class:`~faultray_lab.errors.InputError`) when an
  incident has no registration, when its topology or fault changed after registration, or when
  the ledger's chain is broken.
* :func:`recovery_time_loo`: a transparent log-linear (ridge) model of the downtime from facts
  known before the outage, evaluated by leave-one-out beside the published propagation-time
  estimate, a constant-median baseline and per-class medians. :func:`recovery_candidates` lists
  every recovery-time model tried (:data:`RECOVERY_CANDIDATES`) with its leave-one-out errors.
* :func:`severity_ordinal_loo`: an ordinal label predicted from the severity score with
  thresholds fitted by leave-one-out; accuracy and a confusion matrix.
* :func:`robustness`: F1 under perturbed topologies (edges dropped or added, replicas changed) at
  rate ``r``, with bootstrap intervals, per cohort.

Examples
--------
>>> import tempfile, pathlib, datetime
>>> from faultray_lab.incidents import Fault, Incident
>>> from faultray_lab.topology import topology_from_dict
>>> topo = topology_from_dict({
...     "components": [{"id": "web", "type": "web_server"}, {"id": "db", "type": "database"}],
...     "dependencies": [{"source": "web", "target": "db", "type": "requires"}]})
>>> ledger = pathlib.Path(tempfile.mkdtemp()) / "ledger.jsonl"
>>> clock = lambda: datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
>>> reg = register([Incident("i1", topo, Fault("db"))], ledger, clock=clock)
>>> reg.loc[0, ["id", "status"]].tolist()
['i1', 'registered']
>>> len(verify_ledger(ledger))
1
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .backtest import (
    BASELINES,
    ORDINAL_SEVERITY,
    SUMMARY_METRICS,
    averages,
    backtest,
    bootstrap_intervals,
    predicted_downtime_minutes,
    score_prediction,
)
from .cascade import simulate_fault
from .errors import InputError
from .fileio import atomic_write_bytes
from .incidents import Incident
from .rules import RuleSet
from .topology import Dependency, Topology

#: Format tag written into every ledger record.
LEDGER_FORMAT = "faultray-lab-ledger/1"
#: ``prev_hash`` of the first record.
GENESIS_HASH = "0" * 64
#: Default ledger path of the command line.
DEFAULT_LEDGER = "predictions/ledger.jsonl"
RECORD_KEYS = ("format", "seq", "incident", "cohort", "registered_at", "toolkit_version",
               "rules", "parameters", "topology_sha256", "fault_sha256",
               "truth_known_at_registration", "prediction", "features", "prev_hash", "hash")

#: Component types whose state must be restored or re-synchronised after an outage.
STATEFUL_TYPES = ("database", "storage", "queue", "cache")
#: Fault types of the overload class (floods and saturation rather than a lost component).
LOAD_FAULTS = ("traffic_spike", "cpu_saturation", "latency_spike", "llm_rate_limit")
#: Features of the default recovery-time model (all known before the outage).
RECOVERY_FEATURES = ("log10_affected", "stateful_affected", "load_fault", "log10_max_replicas")
#: Predictions below this many minutes are floored for the log10 error (log of 0 is undefined).
LOG_FLOOR_MINUTES = 1.0


# ---------------------------------------------------------------------------------------------
# Canonical hashing
# ---------------------------------------------------------------------------------------------
def canonical_json(obj: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8, finite numbers only.

    >>> canonical_json({"b": 1, "a": [1.5, "x"]})
    '{"a":[1.5,"x"],"b":1}'
    """
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False, default=_json_default)


def _json_default(o: Any) -> Any:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, tuple | set | frozenset):
        return sorted(o) if isinstance(o, set | frozenset) else list(o)
    if isinstance(o, Mapping):
        return dict(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def sha256_text(text: str) -> str:
    """Hex sha256 of UTF-8 text.

    >>> sha256_text("")[:12]
    'e3b0c44298fc'
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def topology_sha256(topology: Topology) -> str:
    """sha256 of the canonical form of a topology (every field the engine reads, edge order kept).

    >>> from faultray_lab.topology import Component
    >>> a = Topology((Component("a"),))
    >>> topology_sha256(a) == topology_sha256(a.with_component("a", replicas=2))
    False
    """
    return sha256_text(canonical_json(topology.to_dict()))


def fault_sha256(incident: Incident) -> str:
    """sha256 of the canonical fault (component id and fault type)."""
    return sha256_text(canonical_json({"component": incident.fault.component,
                                       "type": incident.fault.type}))


def record_hash(record: Mapping[str, Any]) -> str:
    """The hash of a ledger record: sha256 of its canonical JSON without the ``hash`` key."""
    return sha256_text(canonical_json({k: v for k, v in record.items() if k != "hash"}))


# ---------------------------------------------------------------------------------------------
# Predictions and pre-outage features
# ---------------------------------------------------------------------------------------------
def _rules_name(rules: str | RuleSet) -> str:
    return rules.name if isinstance(rules, RuleSet) else str(rules)


def predict_incident(incident: Incident, rules: str | RuleSet = "faultray-v11",
                     max_depth: int = 20, multiplier: float = 10.0) -> dict[str, Any]:
    """The engine's prediction for one incident, as registered in the ledger.

    Returns ``affected`` and ``down`` (sorted ids), ``severity`` (0-10) and ``downtime_minutes``
    (the published propagation-time estimate, SEMANTICS 6).

    Examples
    --------
    >>> from faultray_lab.incidents import Fault, Incident
    >>> from faultray_lab.topology import topology_from_dict
    >>> t = topology_from_dict({"components": [{"id": "a"}, {"id": "b"}],
    ...                         "dependencies": [{"source": "b", "target": "a"}]})
    >>> predict_incident(Incident("x", t, Fault("a")))["affected"]
    ['a', 'b']
    """
    c = simulate_fault(incident.topology, incident.fault.component, incident.fault.type,
                       rules=rules, max_depth=max_depth, multiplier=multiplier)
    return {"affected": sorted(c.affected), "down": sorted(c.down),
            "severity": float(c.severity), "downtime_minutes": float(predicted_downtime_minutes(c))}


def recovery_features(incident: Incident, prediction: Mapping[str, Any] | None = None,
                      rules: str | RuleSet = "faultray-v11") -> dict[str, Any]:
    """Facts known before the outage that the recovery-time model reads.

    Numeric: ``log10_affected`` (log10 of the predicted cascade size), ``stateful_affected``
    (1 if a database, storage, queue or cache is in the predicted affected set: state may have to
    be restored), ``load_fault`` (1 for an overload-class fault such as a traffic flood),
    ``log10_max_replicas`` (log10 of the largest replica count in the predicted affected set),
    ``n_components``, ``n_down``. Descriptive: ``fault_type``, ``fault_component_type``,
    ``provider``.

    Examples
    --------
    >>> from faultray_lab.incidents import Fault, Incident
    >>> from faultray_lab.topology import topology_from_dict
    >>> t = topology_from_dict({"components": [{"id": "db", "type": "database"}]})
    >>> recovery_features(Incident("x", t, Fault("db")))["stateful_affected"]
    1
    """
    pred = prediction if prediction is not None else predict_incident(incident, rules)
    topo = incident.topology
    affected = [topo.component(i) for i in pred["affected"]]
    return {
        "log10_affected": math.log10(max(1, len(affected))),
        "stateful_affected": int(any(c.type in STATEFUL_TYPES for c in affected)),
        "load_fault": int(incident.fault.type in LOAD_FAULTS),
        "log10_max_replicas": math.log10(max([c.replicas for c in affected] or [1])),
        "n_components": len(topo),
        "n_down": len(pred["down"]),
        "fault_type": incident.fault.type,
        "fault_component_type": topo.component(incident.fault.component).type,
        "provider": incident.provider,
    }


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


def _utc_now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


def _timestamp(clock: Callable[[], _dt.datetime]) -> str:
    t = clock()
    if t.tzinfo is None:
        raise InputError(None, "clock", "the clock returned a naive datetime",
                         "return an aware UTC datetime")
    return t.astimezone(_dt.UTC).isoformat(timespec="microseconds").replace(
        "+00:00", "Z")


def register(
    incidents: Sequence[Incident] | str | os.PathLike[str],
    ledger: str | os.PathLike[str] = DEFAULT_LEDGER,
    rules: str | RuleSet = "faultray-v11",
    *,
    max_depth: int = 20,
    multiplier: float = 10.0,
    clock: Callable[[], _dt.datetime] | None = None,
) -> pd.DataFrame:
    """Pre-register the engine's predictions: append one ledger record per new incident.

    An incident already registered under the same rule set with the same topology and fault is
    skipped (``status`` ``already-registered``); one registered with a different topology or
    fault is refused, since a registered prediction is never replaced (use a new incident id).
    Incidents that already carry ``truth`` are registered too, flagged
    ``truth_known_at_registration`` (a post hoc registration). Nothing is written unless every
    incident is valid; the new ledger replaces the old one atomically.

    Parameters
    ----------
    incidents : sequence of Incident, or a file or folder of incident files
    ledger : path
        The JSON-lines ledger (created with its folder if missing).
    rules : str or RuleSet
        Rule set of the engine (default ``faultray-v11``).
    max_depth, multiplier
        Engine parameters (recorded in every record).
    clock : callable, optional
        Returns the registration time as an aware datetime (default: now, UTC); for tests.

    Returns
    -------
    DataFrame
        ``id``, ``status`` (``registered`` or ``already-registered``), ``seq``, ``rules``,
        ``truth_known_at_registration``, ``registered_at``, ``hash``.

    Raises
    ------
    InputError
        A broken ledger chain, bad incidents, or an incident registered with another topology
        or fault.
    """
    from . import __version__
    from .incidents import load_incidents

    if isinstance(incidents, str | os.PathLike):
        incidents = load_incidents(incidents)
    incidents = list(incidents)
    if not incidents:
        raise InputError(None, "incidents", "no incidents to register", "pass incident files")
    clock = clock or _utc_now
    path = Path(ledger)
    records = verify_ledger(path)
    rules_name = _rules_name(rules)
    index = {(r["incident"], r["rules"]): r for r in records}
    prev = records[-1]["hash"] if records else GENESIS_HASH
    params = {"max_depth": max_depth, "multiplier": multiplier,
              "severity": "chain severity (SEMANTICS 2.2)",
              "downtime": "propagation-time estimate (SEMANTICS 6)"}
    new_lines: list[str] = []
    rows = []
    for inc in incidents:
        th, fh = topology_sha256(inc.topology), fault_sha256(inc)
        old = index.get((inc.id, rules_name))
        if old is not None:
            if (old["topology_sha256"], old["fault_sha256"]) != (th, fh):
                raise InputError(inc.path or None, f"incident {inc.id!r}",
                                 f"already registered (record {old['seq']}) with a different "
                                 "topology or fault; a registered prediction is never replaced",
                                 "restore the registered topology and fault, or register the "
                                 "changed model under a new incident id")
            rows.append({"id": inc.id, "status": "already-registered", "seq": old["seq"],
                         "rules": rules_name,
                         "truth_known_at_registration": old["truth_known_at_registration"],
                         "registered_at": old["registered_at"], "hash": old["hash"]})
            continue
        pred = predict_incident(inc, rules, max_depth, multiplier)
        feats = recovery_features(inc, pred)
        rec: dict[str, Any] = {
            "format": LEDGER_FORMAT, "seq": len(records) + len(new_lines) + 1,
            "incident": inc.id, "cohort": inc.cohort, "registered_at": _timestamp(clock),
            "toolkit_version": __version__, "rules": rules_name, "parameters": params,
            "topology_sha256": th, "fault_sha256": fh,
            "truth_known_at_registration": inc.truth is not None,
            "prediction": pred, "features": feats, "prev_hash": prev,
        }
        rec["hash"] = record_hash(rec)
        prev = rec["hash"]
        index[(inc.id, rules_name)] = rec
        new_lines.append(canonical_json({k: rec[k] for k in RECORD_KEYS}) + "\n")
        rows.append({"id": inc.id, "status": "registered", "seq": rec["seq"],
                     "rules": rules_name, "truth_known_at_registration": inc.truth is not None,
                     "registered_at": rec["registered_at"], "hash": rec["hash"]})
    if new_lines:
        old_bytes = path.read_bytes() if path.exists() else b""
        atomic_write_bytes(path, old_bytes + "".join(new_lines).encode("utf-8"))
        verify_ledger(path)
    return pd.DataFrame(rows, columns=["id", "status", "seq", "rules",
                                       "truth_known_at_registration", "registered_at", "hash"])


# ---------------------------------------------------------------------------------------------
# Scoring registered predictions
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ProspectiveScore:
    """The outcome of :func:`score`.

    Attributes
    ----------
    per_incident : DataFrame
        The backtest's per-incident columns computed from the *registered* prediction, plus
        ``seq``, ``registered_at``, ``truth_known_at_registration`` (False: a genuine
        pre-registration) and ``reproduced`` (the current engine still gives the registered
        prediction).
    summary : dict
        ``n`` and the published averages (SEMANTICS 6) of the registered predictions;
        ``n_prospective`` counts the incidents registered before their truth was known.
    baselines, intervals, margin, best_baseline
        As in :class:`~faultray_lab.backtest.Backtest`, on the same incidents and resamples.
    rules : str
        The rule set the predictions were registered with.
    """

    per_incident: pd.DataFrame
    summary: dict[str, float]
    baselines: pd.DataFrame
    baseline_incidents: pd.DataFrame
    intervals: pd.DataFrame
    margin: float
    best_baseline: str
    rules: str

    def comparison(self) -> pd.DataFrame:
        """The registered predictions' summary beside every baseline's."""
        engine = pd.DataFrame([{k: v for k, v in self.summary.items() if k != "n_prospective"}],
                              index=["registered engine"])
        return pd.concat([engine, self.baselines])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``rules``, ``summary``, ``incidents``, ``baselines``, ``intervals``."""
        cols = ["id", "seq", "registered_at", "truth_known_at_registration", "reproduced",
                "predicted_affected", "tp", "fp", "fn", "precision", "recall", "f1",
                "predicted_severity", "severity_accuracy", "predicted_downtime_minutes",
                "downtime_error_minutes", "confidence"]
        intervals: dict[str, dict[str, list[float]]] = {}
        for rec in self.intervals.to_dict(orient="records"):
            intervals.setdefault(rec["method"], {})[rec["metric"]] = [rec["low"], rec["high"]]
        return {
            "rules": self.rules, "summary": self.summary,
            "incidents": [{k: _plain(r[k]) for k in cols}
                          for r in self.per_incident.to_dict(orient="records")],
            "baselines": {n: {k: _plain(v) for k, v in row.items()}
                          for n, row in self.baselines.to_dict(orient="index").items()},
            "discrimination_margin": {"f1": self.margin, "best_baseline": self.best_baseline},
            "intervals": intervals,
        }


def _plain(v: Any) -> Any:
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return None if math.isnan(v) else float(v)
    return v


def _registration_for(inc: Incident, by_id: Mapping[str, list[dict[str, Any]]],
                      rules: str | None, ledger: str) -> dict[str, Any]:
    regs = by_id.get(inc.id, [])
    if rules is not None:
        regs = [r for r in regs if r["rules"] == rules]
    if not regs:
        extra = f" under rules {rules!r}" if rules is not None else ""
        raise InputError(inc.path or None, f"incident {inc.id!r}",
                         f"no registered prediction in {ledger}{extra}",
                         "register it with `faultray-lab predict` before its outcome is known; "
                         "only registered predictions are scored")
    if len(regs) > 1:
        raise InputError(inc.path or None, f"incident {inc.id!r}",
                         "registered under several rule sets "
                         f"({', '.join(r['rules'] for r in regs)})",
                         "choose one with rules=... (CLI: --rules)")
    reg = regs[0]
    if reg["topology_sha256"] != topology_sha256(inc.topology):
        raise InputError(inc.path or None, f"incident {inc.id!r}.topology",
                         f"the topology changed after registration (record {reg['seq']}, "
                         f"{reg['registered_at']})", "restore the registered topology; a "
                         "changed model must be registered under a new id before its outcome "
                         "is known")
    if reg["fault_sha256"] != fault_sha256(inc):
        raise InputError(inc.path or None, f"incident {inc.id!r}.fault",
                         f"the fault changed after registration (record {reg['seq']}, "
                         f"{reg['registered_at']})", "restore the registered fault")
    return reg


def score(
    incidents: Sequence[Incident] | str | os.PathLike[str],
    ledger: str | os.PathLike[str] = DEFAULT_LEDGER,
    rules: str | None = None,
    severity_map: str | Mapping[str, float] = "published",
    seed: int = 0,
    n_boot: int = 2000,
) -> ProspectiveScore:
    """Score incidents that have a ``truth`` against their registered predictions only.

    Incidents without truth are ignored. Metrics, baselines and intervals are those of
    :func:`faultray_lab.backtest.backtest` (the baselines are recomputed from the verified,
    unchanged topologies; the engine's numbers come from the ledger, never from a new run).

    Raises
    ------
    InputError
        A broken ledger chain; an incident with truth that has no registration, or whose
        topology or fault changed after registration; no incident with truth.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from faultray_lab.incidents import Fault, Incident, Truth
    >>> from faultray_lab.topology import topology_from_dict
    >>> t = topology_from_dict({"components": [{"id": "a"}, {"id": "b"}],
    ...                         "dependencies": [{"source": "b", "target": "a"}]})
    >>> led = pathlib.Path(tempfile.mkdtemp()) / "l.jsonl"
    >>> _ = register([Incident("x", t, Fault("a"))], led)
    >>> s = score([Incident("x", t, Fault("a"), truth=Truth(("a", "b"), "major", 60.0))], led,
    ...           n_boot=100)
    >>> s.summary["f1"], s.summary["n_prospective"]
    (1.0, 1)
    """
    from .incidents import load_incidents

    if isinstance(incidents, str | os.PathLike):
        incidents = load_incidents(incidents)
    scored = [inc for inc in incidents if inc.truth is not None]
    if not scored:
        raise InputError(None, "incidents", "no incident has a truth yet: nothing to score",
                         "add truth (affected, severity, downtime_minutes) once the outcome is "
                         "known")
    path = Path(ledger)
    if not path.exists():
        raise InputError(str(path), None, "no such ledger",
                         "register predictions first with `faultray-lab predict`")
    records = verify_ledger(path)
    by_id: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        by_id.setdefault(r["incident"], []).append(r)
    regs = [_registration_for(inc, by_id, rules, str(path)) for inc in scored]
    rule_sets = sorted({r["rules"] for r in regs})
    if len(rule_sets) > 1:
        raise InputError(str(path), None, f"the incidents were registered under several rule "
                         f"sets ({', '.join(rule_sets)})", "score one rule set at a time "
                         "(CLI: --rules)")

    rows = []
    for inc, reg in zip(scored, regs, strict=True):
        p = reg["prediction"]
        row = score_prediction(p["affected"], p["down"], p["severity"], p["downtime_minutes"],
                               inc.truth, severity_map)
        now = predict_incident(inc, reg["rules"], reg["parameters"]["max_depth"],
                               reg["parameters"]["multiplier"])
        rows.append({"id": inc.id, **row, "seq": reg["seq"],
                     "registered_at": reg["registered_at"],
                     "truth_known_at_registration": reg["truth_known_at_registration"],
                     "reproduced": now == p})
    per = pd.DataFrame(rows)
    # the baselines: the backtest's own, on the same (verified) incidents
    bt = backtest(scored, rules=reg["rules"], severity_map=severity_map, seed=seed, n_boot=1)
    base, baselines = bt.baseline_incidents, bt.baselines
    summary = averages(per, SUMMARY_METRICS)
    summary["n_prospective"] = int((~per["truth_known_at_registration"].astype(bool)).sum())
    best = max(BASELINES, key=lambda b: (baselines.loc[b, "f1"], -BASELINES.index(b)))
    margin = summary["f1"] - float(baselines.loc[best, "f1"])
    intervals = bootstrap_intervals(per, base, best, seed, n_boot)
    return ProspectiveScore(per_incident=per, summary=summary, baselines=baselines,
                            baseline_incidents=base, intervals=intervals, margin=margin,
                            best_baseline=best, rules=reg["rules"])


def baseline_margins(per_incident: pd.DataFrame, baseline_incidents: pd.DataFrame,
                     seed: int = 0, n_boot: int = 2000, metric: str = "f1") -> pd.DataFrame:
    """The engine's margin over *each* baseline (engine metric minus baseline metric), with a
    paired, seeded percentile-bootstrap 95% interval over the scored incidents.

    Works on a :class:`~faultray_lab.backtest.Backtest` or a :class:`ProspectiveScore`
    (``per_incident`` and ``baseline_incidents``). The headline numbers of a cohort are the
    margins over ``all-components`` and ``root-only``.

    Returns
    -------
    DataFrame
        Index: baseline name; columns ``margin``, ``low``, ``high``, ``n``.
    """
    scored = per_incident[per_incident["severity_label"].notna()]
    ids = scored["id"].tolist()
    eng = scored.set_index("id").loc[ids, metric].to_numpy(float)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(ids), size=(n_boot, len(ids))) if ids else None
    rows = {}
    for b in BASELINES:
        sel = baseline_incidents[baseline_incidents["method"] == b].set_index("id")
        if not ids:
            rows[b] = {"margin": float("nan"), "low": float("nan"), "high": float("nan"), "n": 0}
            continue
        diff = eng - sel.loc[ids, metric].to_numpy(float)
        lo, hi = np.percentile(diff[idx].mean(axis=1), [2.5, 97.5])
        rows[b] = {"margin": float(diff.mean()), "low": float(lo), "high": float(hi),
                   "n": len(ids)}
    return pd.DataFrame(rows).T.astype({"n": int})


# ---------------------------------------------------------------------------------------------
# Recovery-time model
# ---------------------------------------------------------------------------------------------
def recovery_table(incidents: Sequence[Incident], rules: str | RuleSet = "faultray-v11",
                   ) -> pd.DataFrame:
    """Per incident: id, cohort, the pre-outage features, the published propagation-time estimate
    (``propagation_minutes``) and, when known, the true ``downtime_minutes`` (else NaN)."""
    rows = []
    for inc in incidents:
        pred = predict_incident(inc, rules)
        rows.append({"id": inc.id, "cohort": inc.cohort, **recovery_features(inc, pred),
                     "propagation_minutes": pred["downtime_minutes"],
                     "downtime_minutes": (inc.truth.downtime_minutes if inc.truth is not None
                                          else float("nan"))})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class RecoveryModel:
    """A fitted log-linear ridge model: ``log10(minutes) = intercept + x . coef``.

    Features are standardised with the training mean and standard deviation (a feature constant
    in training is dropped); the intercept is not penalised.

    Examples
    --------
    >>> df = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "downtime_minutes": [10, 100, 1e3, 1e4]})
    >>> m = fit_recovery_model(df, features=("x",), alpha=0.0)
    >>> round(float(m.predict(pd.DataFrame({"x": [4.0]}))[0]))
    100000
    """

    features: tuple[str, ...]
    intercept: float
    coef: tuple[float, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    alpha: float

    def predict(self, df: pd.DataFrame) -> np.ndarray:
        """Predicted downtime in minutes for each row of ``df``."""
        if not self.features:
            return np.full(len(df), 10.0 ** self.intercept)
        x = (df[list(self.features)].to_numpy(dtype=float) - np.array(self.mean)) / np.array(
            self.scale)
        return 10.0 ** (self.intercept + x @ np.array(self.coef))

    def table(self) -> pd.DataFrame:
        """The coefficients (per standard deviation of each feature, in log10 minutes)."""
        return pd.DataFrame({"feature": ["(intercept)", *self.features],
                             "coef_log10_minutes": [self.intercept, *self.coef]})


def fit_recovery_model(train: pd.DataFrame, features: Sequence[str] = RECOVERY_FEATURES,
                       alpha: float = 1.0) -> RecoveryModel:
    """Fit the log-linear ridge recovery-time model on rows with ``downtime_minutes`` > 0.

    Parameters
    ----------
    train : DataFrame
        The rows of :func:`recovery_table` (with truth).
    features : sequence of str
        Numeric feature columns (default :data:`RECOVERY_FEATURES`).
    alpha : float
        Ridge penalty on the standardised coefficients (>= 0).
    """
    df = train[train["downtime_minutes"].astype(float) > 0]
    if len(df) == 0:
        raise InputError(None, "train", "no incident with a positive downtime to fit on",
                         "add incidents with truth.downtime_minutes > 0")
    if not (isinstance(alpha, int | float) and math.isfinite(alpha) and alpha >= 0):
        raise InputError(None, "alpha", f"alpha must be a finite number >= 0, not {alpha!r}",
                         "use the default 1.0")
    y = np.log10(df["downtime_minutes"].to_numpy(dtype=float))
    x = df[list(features)].to_numpy(dtype=float) if features else np.zeros((len(df), 0))
    mean, std = x.mean(axis=0), x.std(axis=0)
    keep = [i for i in range(x.shape[1]) if std[i] > 1e-12]
    feats = tuple(features[i] for i in keep)
    xs = (x[:, keep] - mean[keep]) / std[keep]
    ym = y.mean()
    if keep:
        coef = np.linalg.solve(xs.T @ xs + alpha * np.eye(len(keep)), xs.T @ (y - ym))
    else:
        coef = np.zeros(0)
    return RecoveryModel(feats, float(ym), tuple(float(c) for c in coef),
                         tuple(float(m) for m in mean[keep]), tuple(float(s) for s in std[keep]),
                         float(alpha))


def downtime_errors(predicted: Sequence[float], actual: Sequence[float]) -> dict[str, float]:
    """MAE and median absolute error (minutes), mean absolute log10 error and share within x2.

    Predictions below :data:`LOG_FLOOR_MINUTES` are floored for the log10 error and the ratio.

    >>> downtime_errors([10, 100], [20, 100])["within_factor_2"]
    1.0
    """
    p = np.asarray(predicted, dtype=float)
    a = np.asarray(actual, dtype=float)
    pf, af = np.maximum(p, LOG_FLOOR_MINUTES), np.maximum(a, LOG_FLOOR_MINUTES)
    ratio = pf / af
    return {"n": int(len(a)), "mae_minutes": float(np.mean(np.abs(p - a))),
            "median_ae_minutes": float(np.median(np.abs(p - a))),
            "mae_log10": float(np.mean(np.abs(np.log10(pf) - np.log10(af)))),
            "within_factor_2": float(np.mean((ratio >= 0.5) & (ratio <= 2.0)))}


def _class_median_predict(train: pd.DataFrame, row: Mapping[str, Any], keys: Sequence[str],
                          min_class: int) -> float:
    cls = train
    for k in keys:
        cls = cls[cls[k] == row[k]]
    use = cls if len(cls) >= min_class else train
    return float(np.median(use["downtime_minutes"].to_numpy(dtype=float)))


@dataclass(frozen=True)
class RecoveryResult:
    """Leave-one-out results of the recovery-time models.

    ``predictions``: per incident the true downtime and each method's prediction; ``metrics``:
    one row per method (:func:`downtime_errors`); ``model``: the model fitted on all incidents.
    """

    predictions: pd.DataFrame
    metrics: pd.DataFrame
    model: RecoveryModel | None


RECOVERY_METHODS = ("recovery model (log-linear)", "per-class median", "constant median",
                    "published propagation estimate")


def recovery_time_loo(
    incidents: Sequence[Incident] | pd.DataFrame,
    rules: str | RuleSet = "faultray-v11",
    features: Sequence[str] = RECOVERY_FEATURES,
    alpha: float = 1.0,
    class_keys: Sequence[str] = ("stateful_affected", "load_fault"),
    min_class: int = 3,
) -> RecoveryResult:
    """Leave-one-out evaluation of the recovery-time model over every incident with truth.

    Methods: the log-linear ridge model (:func:`fit_recovery_model`), per-class medians (the
    median downtime of the training incidents of the same class, ``class_keys``; the overall
    median when the class has fewer than ``min_class`` members), the constant median of the
    training incidents, and the published propagation-time estimate (no fitting).

    Examples
    --------
    >>> df = pd.DataFrame({"id": list("abcd"), "log10_affected": [0.0, 0.3, 0.6, 0.9],
    ...     "stateful_affected": [0, 0, 1, 1], "load_fault": [0, 0, 0, 0],
    ...     "log10_max_replicas": [0.0] * 4, "propagation_minutes": [1.0] * 4,
    ...     "downtime_minutes": [10.0, 20.0, 400.0, 800.0]})
    >>> r = recovery_time_loo(df)
    >>> list(r.metrics.index)[:2]
    ['recovery model (log-linear)', 'per-class median']
    """
    table = incidents if isinstance(incidents, pd.DataFrame) else recovery_table(incidents, rules)
    df = table[table["downtime_minutes"].notna()].reset_index(drop=True)
    cols = ["id", "downtime_minutes", *RECOVERY_METHODS]
    if len(df) < 2:
        empty = pd.DataFrame(columns=["n", "mae_minutes", "median_ae_minutes", "mae_log10",
                                      "within_factor_2"], index=list(RECOVERY_METHODS))
        return RecoveryResult(pd.DataFrame(columns=cols), empty, None)
    rows = []
    for i in range(len(df)):
        train = df.drop(index=i)
        test = df.iloc[[i]]
        model = fit_recovery_model(train, features, alpha)
        rows.append({
            "id": df.loc[i, "id"], "downtime_minutes": float(df.loc[i, "downtime_minutes"]),
            RECOVERY_METHODS[0]: float(model.predict(test)[0]),
            RECOVERY_METHODS[1]: _class_median_predict(train, df.loc[i], class_keys, min_class),
            RECOVERY_METHODS[2]: float(np.median(train["downtime_minutes"].to_numpy(float))),
            RECOVERY_METHODS[3]: float(df.loc[i, "propagation_minutes"]),
        })
    pred = pd.DataFrame(rows, columns=cols)
    metrics = pd.DataFrame({m: downtime_errors(pred[m], pred["downtime_minutes"])
                            for m in RECOVERY_METHODS}).T
    metrics["n"] = metrics["n"].astype(int)
    return RecoveryResult(pred, metrics, fit_recovery_model(df, features, alpha))


# ---------------------------------------------------------------------------------------------
# Recovery-time candidates: every model tried, with its leave-one-out numbers (forking paths)
# ---------------------------------------------------------------------------------------------
#: Class keys of the per-class and partial-pooling candidates.
RECOVERY_CLASS_KEYS = ("stateful_affected", "load_fault")
#: Features of the median (LAD) regression candidate: overload-class fault, state to restore.
LAD_FEATURES = ("load_fault", "stateful_affected")
#: Weights of the ridge model (against the constant median, in log space) tried by the blend.
BLEND_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)


def _log_minutes(df: pd.DataFrame) -> np.ndarray:
    return np.log10(np.maximum(df["downtime_minutes"].to_numpy(dtype=float), LOG_FLOOR_MINUTES))


def shrinkage_weights(train: pd.DataFrame, keys: Sequence[str] = RECOVERY_CLASS_KEYS,
                      ) -> dict[tuple[Any, ...], tuple[int, float, float]]:
    """Empirical-Bayes shrinkage of per-class means of log10 minutes, estimated on ``train``.

    One-way random-effects model: class means scatter around the overall level with variance
    ``tau2`` (method-of-moments estimate, floored at 0), incidents around their class mean with
    the pooled within-class variance ``s2``. A class with ``n`` incidents keeps the weight
    ``B = tau2 / (tau2 + s2 / n)`` on its own mean (0: all pooled, 1: no pooling).

    Returns ``{class: (n, mean_log10, B)}``.

    Examples
    --------
    >>> df = pd.DataFrame({"k": [0, 0, 0, 1, 1, 1],
    ...                    "downtime_minutes": [10, 12, 8, 1000, 1200, 800]})
    >>> w = shrinkage_weights(df, ("k",))
    >>> round(w[(1,)][2], 2)      # classes far apart, tight within: little shrinkage
    1.0
    >>> flat = df.assign(k=[0, 1, 0, 1, 0, 1])
    >>> shrinkage_weights(flat, ("k",))[(0,)][2]   # no between-class signal: fully pooled
    0.0
    """
    y = _log_minutes(train)
    groups: dict[tuple[Any, ...], list[float]] = {}
    for key, v in zip(train[list(keys)].itertuples(index=False, name=None), y, strict=True):
        groups.setdefault(tuple(key), []).append(float(v))
    n_tot, k = len(y), len(groups)
    if k < 2 or n_tot <= k:
        return {g: (len(v), float(np.mean(v)), 0.0) for g, v in groups.items()}
    s2 = sum(float(np.sum((np.array(v) - np.mean(v)) ** 2)) for v in groups.values()) / (
        n_tot - k)
    grand = float(np.mean(y))
    between = sum(len(v) * (float(np.mean(v)) - grand) ** 2 for v in groups.values())
    denom = n_tot - sum(len(v) ** 2 for v in groups.values()) / n_tot
    tau2 = max(0.0, (between - (k - 1) * s2) / denom)
    out = {}
    for g, v in groups.items():
        b = 0.0 if tau2 == 0.0 else tau2 / (tau2 + s2 / len(v))
        out[g] = (len(v), float(np.mean(v)), float(b))
    return out


def partial_pooling_predict(train: pd.DataFrame, row: Mapping[str, Any],
                            keys: Sequence[str] = RECOVERY_CLASS_KEYS,
                            deviations: bool = False) -> float:
    """Downtime (minutes) of ``row``: its class mean in log10 minutes shrunk toward the training
    median by :func:`shrinkage_weights`; an unseen class gets the training median.

    With ``deviations`` the median is moved by the shrunk deviation of the class mean from the
    overall mean instead (``median + B (class mean - overall mean)``), which removes the upward
    pull of a right-skewed class mean.

    >>> df = pd.DataFrame({"k": [0, 0, 0, 1, 1, 1],
    ...                    "downtime_minutes": [10, 10, 10, 1000, 1000, 1000]})
    >>> round(partial_pooling_predict(df, {"k": 1}, ("k",)))
    1000
    """
    y = _log_minutes(train)
    center = float(np.median(y))
    ref = float(np.mean(y)) if deviations else center
    n, mean, b = shrinkage_weights(train, keys).get(tuple(row[k] for k in keys), (0, ref, 0.0))
    return float(10.0 ** (center + b * (mean - ref)))


def fit_lad(train: pd.DataFrame, features: Sequence[str] = LAD_FEATURES,
            ) -> tuple[tuple[str, ...], np.ndarray]:
    """Least-absolute-deviation (median) regression of log10 minutes, by linear programming.

    Features constant in ``train`` are dropped. Returns ``(features kept, coefficients)`` with
    the intercept first.

    >>> df = pd.DataFrame({"x": [0, 0, 0, 1, 1, 1], "downtime_minutes": [10, 10, 1e4, 1e3, 1e3, 1]})
    >>> feats, b = fit_lad(df, ("x",))
    >>> [round(float(v), 6) for v in b]
    [1.0, 2.0]
    """
    from scipy.optimize import linprog

    y = _log_minutes(train)
    keep = tuple(f for f in features if train[f].astype(float).nunique() > 1)
    x = np.column_stack([np.ones(len(y)), train[list(keep)].to_numpy(dtype=float)])
    n, p = x.shape
    # minimise sum(u + v) subject to x b + u - v = y, u, v >= 0, b free
    cost = np.concatenate([np.zeros(p), np.ones(2 * n)])
    a_eq = np.hstack([x, np.eye(n), -np.eye(n)])
    bounds = [(None, None)] * p + [(0, None)] * (2 * n)
    res = linprog(cost, A_eq=a_eq, b_eq=y, bounds=bounds, method="highs")
    return keep, np.asarray(res.x[:p], dtype=float)


def _lad_predict(train: pd.DataFrame, test: pd.DataFrame) -> float:
    feats, b = fit_lad(train)
    x = np.concatenate([[1.0], test[list(feats)].to_numpy(dtype=float)[0]])
    return float(10.0 ** (x @ b))


def _blend_log(train: pd.DataFrame, test: pd.DataFrame, w: float) -> float:
    ridge = math.log10(float(fit_recovery_model(train).predict(test)[0]))
    med = float(np.median(_log_minutes(train)))
    return w * ridge + (1.0 - w) * med


def blend_weight(train: pd.DataFrame, weights: Sequence[float] = BLEND_WEIGHTS) -> float:
    """The ridge weight of the median/ridge blend with the smallest inner leave-one-out mean
    absolute log10 error on ``train`` (ties go to the smaller weight, i.e. toward the median).

    >>> df = pd.DataFrame({"log10_affected": [0.0, 0.2, 0.4, 0.6, 0.8],
    ...     "stateful_affected": [0] * 5, "load_fault": [0] * 5, "log10_max_replicas": [0.0] * 5,
    ...     "downtime_minutes": [10.0, 40.0, 160.0, 640.0, 2560.0]})
    >>> blend_weight(df)
    1.0
    """
    if len(train) < 2:
        return 0.0
    y = _log_minutes(train)
    errs = []
    for w in weights:
        e = [abs(_blend_log(train.drop(index=train.index[j]), train.iloc[[j]], w) - y[j])
             for j in range(len(train))]
        errs.append(float(np.mean(e)))
    return float(weights[int(np.argmin(errs))])


def _blend_predict(train: pd.DataFrame, test: pd.DataFrame) -> float:
    return float(10.0 ** _blend_log(train, test, blend_weight(train)))


@dataclass(frozen=True)
class RecoveryCandidate:
    """One recovery-time model evaluated by leave-one-out.

    ``predict(train, test)`` returns the downtime in minutes of the single row ``test`` from the
    rows ``train`` only; ``kind`` is ``baseline``, ``earlier`` (tried before this list was
    fixed) or ``pre-registered`` (chosen, with its settings, before its score was seen).
    """

    name: str
    kind: str
    description: str
    predict: Callable[[pd.DataFrame, pd.DataFrame], float]


#: Every recovery-time model evaluated so far, in the order they were tried.
RECOVERY_CANDIDATES = (
    RecoveryCandidate("constant median", "baseline",
                      "median downtime of the training incidents",
                      lambda tr, te: float(np.median(tr["downtime_minutes"].to_numpy(float)))),
    RecoveryCandidate("published propagation estimate", "baseline",
                      "the cascade's propagation time (no fitting)",
                      lambda tr, te: float(te["propagation_minutes"].iloc[0])),
    RecoveryCandidate("recovery model (log-linear)", "earlier",
                      "ridge (alpha 1) of log10 minutes on " + ", ".join(RECOVERY_FEATURES),
                      lambda tr, te: float(fit_recovery_model(tr).predict(te)[0])),
    RecoveryCandidate("per-class median", "earlier",
                      "median of the same class (stateful_affected, load_fault), >= 3 members",
                      lambda tr, te: _class_median_predict(tr, te.iloc[0], RECOVERY_CLASS_KEYS,
                                                           3)),
    RecoveryCandidate("partial pooling (empirical Bayes)", "pre-registered",
                      "class means of log10 minutes shrunk toward the median, shrinkage "
                      "estimated per fold", lambda tr, te: partial_pooling_predict(tr, te.iloc[0])),
    RecoveryCandidate("median regression (LAD)", "pre-registered",
                      "least absolute deviations of log10 minutes on " + ", ".join(LAD_FEATURES),
                      _lad_predict),
    RecoveryCandidate("median/ridge blend (nested LOO)", "pre-registered",
                      "log-space blend of median and ridge, weight by inner leave-one-out",
                      _blend_predict),
    RecoveryCandidate("partial pooling of deviations", "post hoc",
                      "median + shrunk deviation of the class mean from the overall mean (added "
                      "after the pre-registered pooling lost; never eligible as default)",
                      lambda tr, te: partial_pooling_predict(tr, te.iloc[0], deviations=True)),
)


def candidate_loo(table: pd.DataFrame,
                  candidates: Sequence[RecoveryCandidate] = RECOVERY_CANDIDATES,
                  ) -> pd.DataFrame:
    """Leave-one-out predictions of every candidate over the rows of ``table`` with truth.

    Each prediction is made from the other rows only. Columns: ``id``, ``downtime_minutes`` and
    one per candidate.
    """
    df = table[table["downtime_minutes"].notna()].reset_index(drop=True)
    rows = []
    for i in range(len(df) if len(df) >= 2 else 0):
        train, test = df.drop(index=i).reset_index(drop=True), df.iloc[[i]]
        rows.append({"id": df.loc[i, "id"],
                     "downtime_minutes": float(df.loc[i, "downtime_minutes"]),
                     **{c.name: c.predict(train, test) for c in candidates}})
    return pd.DataFrame(rows, columns=["id", "downtime_minutes", *(c.name for c in candidates)])


def recovery_candidates(
    cohorts: Mapping[str, Sequence[Incident] | pd.DataFrame],
    rules: str | RuleSet = "faultray-v11",
    candidates: Sequence[RecoveryCandidate] = RECOVERY_CANDIDATES,
) -> pd.DataFrame:
    """Every recovery-time candidate's leave-one-out errors on each cohort (the forking paths).

    One row per candidate and cohort: ``candidate``, ``kind``, ``description``, ``cohort``, the
    :func:`downtime_errors` columns and ``beats_baselines`` (mean absolute log10 error below both
    the constant median's and the published estimate's on that cohort).

    Examples
    --------
    >>> df = pd.DataFrame({"id": list("abcde"), "log10_affected": [0.0, 0.3, 0.6, 0.9, 1.2],
    ...     "stateful_affected": [0, 0, 1, 1, 1], "load_fault": [1, 0, 0, 0, 0],
    ...     "log10_max_replicas": [0.0] * 5, "propagation_minutes": [1.0] * 5,
    ...     "downtime_minutes": [10.0, 20.0, 400.0, 800.0, 900.0]})
    >>> t = recovery_candidates({"toy": df})
    >>> len(t) == len(RECOVERY_CANDIDATES)
    True
    """
    out = []
    for cohort, incs in cohorts.items():
        table = incs if isinstance(incs, pd.DataFrame) else recovery_table(incs, rules)
        pred = candidate_loo(table, candidates)
        errs = {c.name: (downtime_errors(pred[c.name], pred["downtime_minutes"]) if len(pred)
                         else {"n": 0}) for c in candidates}
        bar = min(errs.get("constant median", {}).get("mae_log10", math.inf),
                  errs.get("published propagation estimate", {}).get("mae_log10", math.inf))
        for c in candidates:
            e = errs[c.name]
            out.append({"candidate": c.name, "kind": c.kind, "description": c.description,
                        "cohort": cohort, **e,
                        "beats_baselines": bool(e.get("mae_log10", math.inf) < bar)})
    cols = ["candidate", "kind", "description", "cohort", "n", "mae_minutes",
            "median_ae_minutes", "mae_log10", "within_factor_2", "beats_baselines"]
    return pd.DataFrame(out).reindex(columns=cols)


# ---------------------------------------------------------------------------------------------
# Ordinal severity
# ---------------------------------------------------------------------------------------------
def fit_thresholds(scores: Sequence[float], classes: Sequence[float],
                   ) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Monotone thresholds on a score that maximise the accuracy of an ordinal classifier.

    Returns ``(levels, cuts)``: the ordered class values present and ``len(levels) - 1``
    thresholds; a score ``s`` gets ``levels[k]`` with ``k`` the number of cuts ``<= s``. Cuts
    lie half-way between adjacent distinct scores; ties in accuracy go to the lowest cut.

    Examples
    --------
    >>> fit_thresholds([1.0, 2.0, 5.0, 6.0], [5, 5, 9, 9])
    ((5.0, 9.0), (3.5,))
    """
    s = np.asarray(scores, dtype=float)
    c = np.asarray(classes, dtype=float)
    levels = tuple(float(v) for v in sorted(set(c.tolist())))
    if len(levels) <= 1:
        return levels, ()
    order = np.argsort(s, kind="stable")
    s, c = s[order], c[order]
    n, k = len(s), len(levels)
    # prefix[j][i] = count of class j among the first i points
    prefix = np.zeros((k, n + 1), dtype=int)
    for j, lv in enumerate(levels):
        prefix[j, 1:] = np.cumsum(c == lv)
    valid = np.array([i == 0 or i == n or s[i - 1] < s[i] for i in range(n + 1)])
    neg = -10 ** 9
    best = np.full((k, n + 1), neg, dtype=np.int64)
    arg = np.zeros((k, n + 1), dtype=int)
    # class 0 covers points [0, i)
    best[0] = np.where(valid, prefix[0], neg)
    for j in range(1, k):
        run_val, run_arg = neg, 0
        for i in range(n + 1):
            if valid[i] and best[j - 1, i] > neg:
                cand = best[j - 1, i] - prefix[j, i]
                if cand > run_val:
                    run_val, run_arg = cand, i
            if valid[i] and run_val > neg:
                best[j, i] = run_val + prefix[j, i]
                arg[j, i] = run_arg
    # walk back from the full range
    cuts_idx = []
    i = n
    for j in range(k - 1, 0, -1):
        i = arg[j, i]
        cuts_idx.append(i)
    cuts_idx.reverse()

    def cut_value(i: int) -> float:
        if i == 0:
            return -math.inf
        if i == n:
            return math.inf
        return float((s[i - 1] + s[i]) / 2.0)

    return levels, tuple(cut_value(i) for i in cuts_idx)


def apply_thresholds(score_value: float, levels: Sequence[float], cuts: Sequence[float]) -> float:
    """The class value of a score under fitted thresholds (see :func:`fit_thresholds`).

    >>> apply_thresholds(4.0, (5.0, 9.0), (3.5,))
    9.0
    """
    k = sum(1 for t in cuts if score_value >= t)
    return float(levels[k])


@dataclass(frozen=True)
class SeverityResult:
    """Leave-one-out ordinal severity: per-incident predictions, accuracy and confusion matrix.

    ``metrics`` rows: ``ordinal thresholds (LOO)`` and ``majority class (LOO)`` with their
    accuracy, and ``published continuous measure`` (mean severity accuracy of SEMANTICS 6).
    """

    predictions: pd.DataFrame
    confusion: pd.DataFrame
    metrics: pd.DataFrame


def _label_of(value: float) -> str:
    names = [lb for lb, v in ORDINAL_SEVERITY.items() if v == value]
    return "/".join(names)


def severity_ordinal_loo(incidents: Sequence[Incident], rules: str | RuleSet = "faultray-v11",
                         severity_map: str | Mapping[str, float] = "published") -> SeverityResult:
    """Predict each incident's ordinal severity class from the engine's severity score, with
    thresholds fitted on the other incidents (leave-one-out).

    Classes are the ordinal values of the labels (critical 9, major/high 7, medium 5, minor 3,
    low 2). Shown beside a leave-one-out majority-class baseline and the published continuous
    measure (mean severity accuracy, computed by :func:`~faultray_lab.backtest.backtest`).
    """
    scored = [inc for inc in incidents if inc.truth is not None]
    cols = ["id", "severity_score", "true_class", "predicted_class", "majority_class"]
    if not scored:
        empty = pd.DataFrame(columns=["accuracy", "n"])
        return SeverityResult(pd.DataFrame(columns=cols), pd.DataFrame(), empty)
    bt = backtest(scored, rules=rules, severity_map=severity_map, n_boot=1)
    per = bt.per_incident.set_index("id")
    scores = np.array([float(per.loc[inc.id, "predicted_severity"]) for inc in scored])
    truth = np.array([ORDINAL_SEVERITY[inc.truth.severity] for inc in scored])  # type: ignore
    rows = []
    for i, inc in enumerate(scored):
        mask = np.arange(len(scored)) != i
        if mask.sum() == 0:
            pred = maj = float("nan")
        else:
            levels, cuts = fit_thresholds(scores[mask], truth[mask])
            pred = apply_thresholds(scores[i], levels, cuts)
            vals, counts = np.unique(truth[mask], return_counts=True)
            maj = float(vals[np.argmax(counts)])
        rows.append({"id": inc.id, "severity_score": scores[i], "true_class": truth[i],
                     "predicted_class": pred, "majority_class": maj})
    pred_df = pd.DataFrame(rows, columns=cols)
    ok = pred_df["predicted_class"].notna()
    labels = [_label_of(v) for v in sorted(set(truth.tolist()) | set(
        pred_df.loc[ok, "predicted_class"].tolist()))]
    conf = pd.crosstab(pred_df.loc[ok, "true_class"].map(_label_of).rename("true"),
                       pred_df.loc[ok, "predicted_class"].map(_label_of).rename("predicted"))
    n = int(ok.sum())
    conf = conf.reindex(index=labels, columns=labels, fill_value=0) if n else pd.DataFrame()
    metrics = pd.DataFrame({
        "accuracy": [
            float((pred_df.loc[ok, "predicted_class"] == pred_df.loc[ok, "true_class"]).mean())
            if n else float("nan"),
            float((pred_df.loc[ok, "majority_class"] == pred_df.loc[ok, "true_class"]).mean())
            if n else float("nan"),
            float(bt.summary["severity_accuracy"])],
        "n": [n, n, int(bt.summary["n"])],
    }, index=["ordinal thresholds (LOO)", "majority class (LOO)",
              "published continuous measure"])
    return SeverityResult(pred_df, conf, metrics)


# ---------------------------------------------------------------------------------------------
# Robustness to topology errors
# ---------------------------------------------------------------------------------------------
PERTURBATIONS = ("drop-edges", "add-edges", "replicas")


def perturb_topology(topology: Topology, kind: str, rate: float,
                     rng: np.random.Generator) -> Topology:
    """A perturbed copy of a topology.

    ``drop-edges``: every edge is removed with probability ``rate``; ``add-edges``:
    ``round(rate * |E|)`` (at least 1 when ``rate > 0``) new ``requires`` edges between random
    distinct unconnected pairs; ``replicas``: every component's replicas is redrawn from
    {1, 2, 3} with probability ``rate``. Components are kept, so truth ids stay valid.

    Examples
    --------
    >>> from faultray_lab.topology import Component
    >>> t = Topology((Component("a"), Component("b")), (Dependency("a", "b"),))
    >>> len(perturb_topology(t, "drop-edges", 1.0, np.random.default_rng(0)).dependencies)
    0
    """
    if not (isinstance(rate, int | float) and 0.0 <= rate <= 1.0):
        raise InputError(None, "rate", f"rate must be in [0, 1], not {rate!r}",
                         "use a share such as 0.1")
    deps = list(topology.dependencies)
    comps = list(topology.components)
    if kind == "drop-edges":
        keep = rng.random(len(deps)) >= rate
        deps = [d for d, k in zip(deps, keep, strict=True) if k]
    elif kind == "add-edges":
        n_add = int(round(rate * len(deps)))
        if rate > 0:
            n_add = max(1, n_add)
        present = {(d.source, d.target) for d in deps}
        ids = topology.ids
        candidates = [(a, b) for a in ids for b in ids if a != b and (a, b) not in present]
        if candidates and n_add:
            pick = rng.choice(len(candidates), size=min(n_add, len(candidates)), replace=False)
            deps += [Dependency(*candidates[int(i)], type="requires") for i in sorted(pick)]
    elif kind == "replicas":
        redraw = rng.random(len(comps)) < rate
        new = rng.integers(1, 4, size=len(comps))
        comps = [replace(c, replicas=int(r)) if f else c
                 for c, f, r in zip(comps, redraw, new, strict=True)]
    else:
        raise InputError(None, "kind", f"unknown perturbation {kind!r}",
                         f"use one of {', '.join(PERTURBATIONS)}")
    return Topology(tuple(comps), tuple(deps), topology.source)


def robustness(
    incidents: Sequence[Incident],
    rates: Sequence[float] = (0.0, 0.1, 0.2, 0.3),
    kinds: Sequence[str] = PERTURBATIONS,
    n_draws: int = 10,
    rules: str | RuleSet = "faultray-v11",
    seed: int = 0,
    n_boot: int = 1000,
) -> pd.DataFrame:
    """F1 of the engine and the baselines on perturbed topologies, per cohort, kind and rate.

    For each draw every incident's topology is perturbed (:func:`perturb_topology`) and the
    backtest is rerun; a method's per-incident F1 is averaged over the draws, and the interval
    is a seeded percentile bootstrap (95%) over incidents of that average.

    Returns
    -------
    DataFrame
        ``cohort``, ``kind``, ``rate``, ``method`` (``engine`` and each baseline), ``f1``,
        ``low``, ``high``, ``n`` (incidents), ``draws``.
    """
    scored = [inc for inc in incidents if inc.truth is not None]
    cols = ["cohort", "kind", "rate", "method", "f1", "low", "high", "n", "draws"]
    if not scored:
        return pd.DataFrame(columns=cols)
    if isinstance(n_draws, bool) or not isinstance(n_draws, int) or n_draws < 1:
        raise InputError(None, "n_draws", f"n_draws must be a whole number >= 1, not {n_draws!r}",
                         "use e.g. 10")
    cohorts = sorted({inc.cohort for inc in scored})
    methods = ("engine", *BASELINES)
    out = []
    for ci, cohort in enumerate(cohorts):
        group = [inc for inc in scored if inc.cohort == cohort]
        for ki, kind in enumerate(kinds):
            for ri, rate in enumerate(rates):
                f1 = {m: np.zeros((n_draws, len(group))) for m in methods}
                draws = 1 if rate == 0 else n_draws
                for d in range(draws):
                    rng = np.random.default_rng([seed, ci, ki, ri, d])
                    pert = [replace(inc, topology=perturb_topology(inc.topology, kind, rate, rng))
                            for inc in group]
                    bt = backtest(pert, rules=rules, n_boot=1)
                    f1["engine"][d] = bt.per_incident["f1"].to_numpy(float)
                    for b in BASELINES:
                        sel = bt.baseline_incidents[bt.baseline_incidents["method"] == b]
                        f1[b][d] = sel["f1"].to_numpy(float)
                boot_rng = np.random.default_rng([seed, ci, ki, ri, 10**6])
                idx = boot_rng.integers(0, len(group), size=(n_boot, len(group)))
                for m in methods:
                    per_inc = f1[m][:draws].mean(axis=0)
                    lo, hi = np.percentile(per_inc[idx].mean(axis=1), [2.5, 97.5])
                    out.append((cohort, kind, float(rate), m, float(per_inc.mean()), float(lo),
                                float(hi), len(group), draws))
    return pd.DataFrame(out, columns=cols)


def project_path(relative: str, start: str | os.PathLike[str] | None = None) -> Path:
    """``relative`` resolved against the project root: the nearest folder at or above ``start``
    (default: the working directory) that holds ``pyproject.toml`` and ``faultray_lab/``; the
    working directory itself when there is none. Lets a notebook find the repository's folders
    whether it runs from ``notebooks/`` (nbval, ``faultray-lab reproduce``) or from the root
    (``papermill notebooks/...``).

    >>> project_path("incidents").name
    'incidents'
    """
    here = Path(start) if start is not None else Path.cwd()
    for d in (here, *here.resolve().parents):
        if (d / "pyproject.toml").is_file() and (d / "faultray_lab").is_dir():
            return d / relative
    return here / relative


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

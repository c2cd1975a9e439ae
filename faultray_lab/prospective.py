"""Prospective validation: a pre-registration ledger, scoring against it, robustness.

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
* The recovery-time and ordinal-severity models live in :mod:`faultray_lab.recovery`.
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
    SUMMARY_METRICS,
    averages,
    backtest,
    bootstrap_intervals,
    score_prediction,
)
from .errors import InputError
from .fileio import atomic_write_bytes, exclusive_lock
from .incidents import Incident
from .recovery import predict_incident, recovery_features, ruleset_name
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
    recovery_train: Sequence[Incident] | str | os.PathLike[str]
    | Sequence[str | os.PathLike[str]] | None = None,
) -> pd.DataFrame:
    """Pre-register the engine's predictions: append one ledger record per new incident.

    An incident already registered under the same rule set with the same topology and fault is
    skipped (``status`` ``already-registered``); one registered with a different topology or
    fault is refused, since a registered prediction is never replaced (use a new incident id).
    Incidents that already carry ``truth`` are registered too, flagged
    ``truth_known_at_registration`` (a post hoc registration). Nothing is written unless every
    incident is valid; the new ledger replaces the old one atomically, under an exclusive lock
    on ``<ledger>.lock`` (:func:`~faultray_lab.fileio.exclusive_lock`), so concurrent writers
    take turns.

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
    recovery_train : incidents, or one or more incident files or folders, optional
        Also register a recovery-time prediction: the default recovery-time model
        (:class:`~faultray_lab.recovery.MechanismModel`, from the fault's declared mechanism)
        fitted now on these incidents' truths (incidents being registered are left out). The
        record's ``prediction`` gains ``recovery_minutes`` and its ``parameters`` the fitted
        model (``recovery_model``: coefficients, training median, training size and a sha256 of
        the training ids and downtimes), so :func:`score` can score the recovery time as
        registered, beside the registered training median.

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
    # one writer at a time: read, append and rename under the ledger's lock
    with exclusive_lock(path):
        records = verify_ledger(path)
        rules_name = ruleset_name(rules)
        index = {(r["incident"], r["rules"]): r for r in records}
        prev = records[-1]["hash"] if records else GENESIS_HASH
        params = {"max_depth": max_depth, "multiplier": multiplier,
                  "severity": "chain severity (SEMANTICS 2.2)",
                  "downtime": "propagation-time estimate (SEMANTICS 6)"}
        model = None
        if recovery_train is not None:
            model, params["recovery_model"] = _recovery_model(recovery_train,
                                                              {inc.id for inc in incidents}, rules)
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
            if model is not None:
                pred["recovery_minutes"] = float(model.predict(pd.DataFrame([feats]))[0])
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


def _recovery_model(train: Any, exclude: set[str], rules: str | RuleSet,
                    ) -> tuple[Any, dict[str, Any]]:
    """The recovery-time model fitted on ``train`` (incidents or paths) without ``exclude``,
    and its description for the ledger."""
    from .incidents import load_incidents
    from .recovery import RECOVERY_METHODS, fit_mechanism_model, recovery_table

    if isinstance(train, str | os.PathLike):
        train = [train]
    incs: list[Incident] = []
    for item in train:
        incs += load_incidents(item) if isinstance(item, str | os.PathLike) else [item]
    incs = [i for i in incs if i.truth is not None and i.id not in exclude]
    if not incs:
        raise InputError(None, "recovery_train", "no training incident with a truth (other than "
                         "the incidents being registered)", "pass folders of incidents whose "
                         "outcome is known, e.g. incidents/remodeled-18")
    table = recovery_table(incs, rules)
    model = fit_mechanism_model(table)
    ids = sorted(zip(table["id"], table["downtime_minutes"].astype(float), strict=True))
    return model, {"name": RECOVERY_METHODS[0], "intercept": model.intercept,
                   "slope": model.slope, "median_minutes": model.fallback_minutes,
                   "n_train": len(table), "n_declared": model.n_declared,
                   "train_sha256": sha256_text(canonical_json(ids))}


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
        ``n_prospective`` counts the incidents registered before their truth was known. When
        recovery-time predictions were registered (``register(..., recovery_train=...)``):
        ``n_recovery`` and the mean absolute log10 and minute errors of the registered model
        (``recovery_*``), of the registered training median (``recovery_median_*``) and of the
        propagation-time estimate (``propagation_*``) on those incidents.
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
        engine = pd.DataFrame([{k: v for k, v in self.summary.items()
                                if k in self.baselines.columns}], index=["registered engine"])
        return pd.concat([engine, self.baselines])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``rules``, ``summary``, ``incidents``, ``baselines``, ``intervals``."""
        cols = ["id", "seq", "registered_at", "truth_known_at_registration", "reproduced",
                "predicted_affected", "tp", "fp", "fn", "precision", "recall", "f1",
                "predicted_severity", "severity_accuracy", "predicted_downtime_minutes",
                "downtime_error_minutes", "confidence", "registered_recovery_minutes",
                "registered_median_minutes"]
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
        rec_model = reg["parameters"].get("recovery_model")
        rows.append({"id": inc.id, **row, "seq": reg["seq"],
                     "registered_at": reg["registered_at"],
                     "truth_known_at_registration": reg["truth_known_at_registration"],
                     "reproduced": now == {k: p[k] for k in now},
                     "registered_recovery_minutes": p.get("recovery_minutes", math.nan),
                     "registered_median_minutes": (rec_model["median_minutes"] if rec_model
                                                   else math.nan)})
    per = pd.DataFrame(rows)
    # the baselines: the backtest's own, on the same (verified) incidents
    bt = backtest(scored, rules=reg["rules"], severity_map=severity_map, seed=seed, n_boot=1)
    base, baselines = bt.baseline_incidents, bt.baselines
    summary = averages(per, SUMMARY_METRICS)
    summary["n_prospective"] = int((~per["truth_known_at_registration"].astype(bool)).sum())
    summary.update(_recovery_summary(per, [inc.truth.downtime_minutes for inc in scored]))
    best = max(BASELINES, key=lambda b: (baselines.loc[b, "f1"], -BASELINES.index(b)))
    margin = summary["f1"] - float(baselines.loc[best, "f1"])
    intervals = bootstrap_intervals(per, base, best, seed, n_boot)
    return ProspectiveScore(per_incident=per, summary=summary, baselines=baselines,
                            baseline_incidents=base, intervals=intervals, margin=margin,
                            best_baseline=best, rules=reg["rules"])


def _recovery_summary(per: pd.DataFrame, actual: Sequence[float]) -> dict[str, float]:
    """Recovery-time errors of the registered recovery predictions (incidents registered with
    ``recovery_train`` only), beside the registered training median and the registered
    propagation-time estimate on the same incidents."""
    from .recovery import downtime_errors

    has = per["registered_recovery_minutes"].notna().to_numpy()
    if not has.any():
        return {}
    a = np.asarray(actual, dtype=float)[has]
    sel = per[has]
    out: dict[str, float] = {"n_recovery": int(has.sum())}
    for key, col in (("recovery", "registered_recovery_minutes"),
                     ("recovery_median", "registered_median_minutes"),
                     ("propagation", "predicted_downtime_minutes")):
        e = downtime_errors(sel[col].to_numpy(float), a)
        out[f"{key}_mae_log10"] = e["mae_log10"]
        out[f"{key}_mae_minutes"] = e["mae_minutes"]
    return out


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

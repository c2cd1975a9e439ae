"""Prospective validation: a pre-registration ledger, scoring against it, robustness.

The published backtest is post hoc. This module makes prospective validation routine:

* :func:`register` appends one record per incident to a JSON-lines *ledger* before the outcome is
  known: toolkit version, rule set and parameters, the sha256 of the canonical topology and of the
  fault, the predicted affected and down sets, severity and downtime, the pre-outage features of
  the recovery-time model, a UTC timestamp and the hash of the previous record (a tamper-evident
  chain). Appends are atomic: the whole new ledger is written to a temporary file and renamed,
  then its head (``<ledger>.head``: record count and last hash), which every later
  :func:`register` and :func:`score` checks, so removed or re-chained records are refused.
* :func:`score` scores incidents that now have a ``truth`` against their registered prediction
  only, with the backtest's metrics, baselines and bootstrap intervals
  (:mod:`faultray_lab.evaluation.backtest`). It refuses
  (:class:`~faultray_lab.common.errors.InputError`) when an incident has no registration, when
  its topology or fault changed after registration, or when the ledger's chain is broken.
* The recovery-time and ordinal-severity models live in :mod:`faultray_lab.evaluation.recovery`
  and :mod:`faultray_lab.evaluation.severity`.
* :func:`robustness`: F1 under perturbed topologies (edges dropped or added, replicas changed) at
  rate ``r``, with bootstrap intervals, per cohort.

Examples
--------
>>> import tempfile, pathlib, datetime
>>> from faultray_lab.evaluation.incidents import Fault, Incident
>>> from faultray_lab.model.schema import topology_from_dict
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
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..common.errors import InputError
from ..common.files import atomic_write_bytes, exclusive_lock
from ..common.jsonutil import canonical_json, to_jsonable
from ..common.validate import MAX_BOOTSTRAP, check_count
from ..engine.rules import RuleSet, ruleset_name
from .backtest import backtest, best_baseline, bootstrap_intervals
from .baselines import BASELINES
from .incidents import Incident, load_incidents
from .ledger import (
    DEFAULT_LEDGER,
    GENESIS_HASH,
    LEDGER_FORMAT,
    RECORD_KEYS,
    chain_head,
    fault_sha256,
    record_hash,
    require_ledger,
    sha256_text,
    timestamp,
    topology_sha256,
    utc_now,
    verify_chain,
    verify_ledger,
    verify_under_lock,
    write_head,
)
from .metrics import SUMMARY_METRICS, averages, score_prediction
from .recovery.features import predict_incident, recovery_features

#: Most bootstrap resamples :func:`score` (and the CLI's ``--bootstrap``) accepts: far more than
#: a 95% percentile interval needs, and small enough that the resample matrix fits in memory.


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
    expect_head: str | None = None,
) -> pd.DataFrame:
    """Pre-register the engine's predictions: append one ledger record per new incident.

    An incident already registered under the same rule set with the same topology and fault is
    skipped (``status`` ``already-registered``); one registered with a different topology or
    fault is refused, since a registered prediction is never replaced (use a new incident id).
    Incidents that already carry ``truth`` are registered too, flagged
    ``truth_known_at_registration`` (a post hoc registration). Nothing is written unless every
    incident is valid; the new ledger replaces the old one atomically, then its head
    (``<ledger>.head``: record count and last hash) is written, both under an exclusive lock on
    ``<ledger>.lock`` (:func:`~faultray_lab.common.files.exclusive_lock`), so concurrent writers
    take turns. The ledger must end exactly at its head before anything is appended
    (:func:`~faultray_lab.evaluation.ledger.verify_ledger`): a truncated or re-chained ledger is
    refused, so removed registrations cannot be registered again.

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
        (:class:`~faultray_lab.evaluation.recovery.models.MechanismModel`, from the fault's
        declared mechanism)
        fitted now on these incidents' truths (incidents being registered are left out). The
        record's ``prediction`` gains ``recovery_minutes`` and its ``parameters`` the fitted
        model (``recovery_model``: coefficients, training median, training size and a sha256 of
        the training ids and downtimes), so :func:`score` can score the recovery time as
        registered, beside the registered training median.
    expect_head : str, optional
        A head hash published earlier (``faultray-lab ledger head``): the ledger must still
        contain the record with this hash.

    Returns
    -------
    DataFrame
        ``id``, ``status`` (``registered`` or ``already-registered``), ``seq``, ``rules``,
        ``truth_known_at_registration``, ``registered_at``, ``hash``.

    Raises
    ------
    InputError
        A broken ledger chain, a ledger that does not end at its head (or has none), an
        ``expect_head`` it does not contain, bad incidents, or an incident registered with
        another topology or fault.
    """
    from .. import __version__

    if isinstance(incidents, str | os.PathLike):
        incidents = load_incidents(incidents)
    incidents = list(incidents)
    if not incidents:
        raise InputError(None, "incidents", "no incidents to register", "pass incident files")
    clock = clock or utc_now
    path = Path(ledger)
    # one writer at a time: read, append and rename under the ledger's lock
    with exclusive_lock(path):
        records = verify_under_lock(path, expect_head)
        rules_name = ruleset_name(rules)
        index = {(r["incident"], r["rules"]): r for r in records}
        prev = records[-1]["hash"] if records else GENESIS_HASH
        params = {"max_depth": max_depth, "multiplier": multiplier,
                  "severity": "chain severity (docs: semantics 2.2)",
                  "downtime": "propagation-time estimate (docs: semantics 6)"}
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
                "incident": inc.id, "cohort": inc.cohort, "registered_at": timestamp(clock),
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
            write_head(path, chain_head(verify_chain(path)))
    return pd.DataFrame(rows, columns=["id", "status", "seq", "rules",
                                       "truth_known_at_registration", "registered_at", "hash"])


def _recovery_model(train: Any, exclude: set[str], rules: str | RuleSet,
                    ) -> tuple[Any, dict[str, Any]]:
    """The recovery-time model fitted on ``train`` (incidents or paths) without ``exclude``,
    and its description for the ledger."""
    from .recovery.candidates import RECOVERY_METHODS
    from .recovery.features import recovery_table
    from .recovery.models import fit_mechanism_model

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
        ``n`` and the published averages (docs: semantics 6) of the registered predictions;
        ``n_prospective`` counts the incidents registered before their truth was known. When
        recovery-time predictions were registered (``register(..., recovery_train=...)``):
        ``n_recovery`` and the mean absolute log10 and minute errors of the registered model
        (``recovery_*``), of the registered training median (``recovery_median_*``) and of the
        propagation-time estimate (``propagation_*``) on those incidents.
    baselines, intervals, margin, best_baseline
        As in :class:`~faultray_lab.evaluation.backtest.Backtest`, on the same incidents and
        resamples.
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
        return to_jsonable({
            "rules": self.rules, "summary": self.summary,
            "incidents": [{k: r[k] for k in cols}
                          for r in self.per_incident.to_dict(orient="records")],
            "baselines": self.baselines.to_dict(orient="index"),
            "discrimination_margin": {"f1": self.margin, "best_baseline": self.best_baseline},
            "intervals": intervals,
        })


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
    expect_head: str | None = None,
) -> ProspectiveScore:
    """Score incidents that have a ``truth`` against their registered predictions only.

    Incidents without truth are ignored. Metrics, baselines and intervals are those of
    :func:`faultray_lab.evaluation.backtest.backtest` (the baselines are recomputed from the
    verified, unchanged topologies; the engine's numbers come from the ledger, never from a new
    run).
    The ledger must end exactly at its head (``<ledger>.head``) and, with ``expect_head``,
    contain the record of a head published earlier.

    Raises
    ------
    InputError
        A broken ledger chain, a ledger that does not end at its head (or has none), an
        ``expect_head`` it does not contain; an incident with truth that has no registration,
        or whose topology or fault changed after registration; no incident with truth;
        ``n_boot`` outside [1, MAX_BOOTSTRAP].

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from faultray_lab.evaluation.incidents import Fault, Incident, Truth
    >>> from faultray_lab.model.schema import topology_from_dict
    >>> t = topology_from_dict({"components": [{"id": "a"}, {"id": "b"}],
    ...                         "dependencies": [{"source": "b", "target": "a"}]})
    >>> led = pathlib.Path(tempfile.mkdtemp()) / "l.jsonl"
    >>> _ = register([Incident("x", t, Fault("a"))], led)
    >>> s = score([Incident("x", t, Fault("a"), truth=Truth(("a", "b"), "major", 60.0))], led,
    ...           n_boot=100)
    >>> s.summary["f1"], s.summary["n_prospective"]
    (1.0, 1)
    """
    check_count(n_boot, "n_boot", low=1, high=MAX_BOOTSTRAP, fix="use for example 2000")
    if isinstance(incidents, str | os.PathLike):
        incidents = load_incidents(incidents)
    scored = [inc for inc in incidents if inc.truth is not None]
    if not scored:
        raise InputError(None, "incidents", "no incident has a truth yet: nothing to score",
                         "add truth (affected, severity, downtime_minutes) once the outcome is "
                         "known")
    path = Path(ledger)
    require_ledger(path)
    records = verify_ledger(path, expect_head=expect_head)
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
    best = best_baseline(baselines)
    margin = summary["f1"] - float(baselines.loc[best, "f1"])
    intervals = bootstrap_intervals(per, base, best, seed, n_boot)
    return ProspectiveScore(per_incident=per, summary=summary, baselines=baselines,
                            baseline_incidents=base, intervals=intervals, margin=margin,
                            best_baseline=best, rules=reg["rules"])


def _recovery_summary(per: pd.DataFrame, actual: Sequence[float]) -> dict[str, float]:
    """Recovery-time errors of the registered recovery predictions (incidents registered with
    ``recovery_train`` only), beside the registered training median and the registered
    propagation-time estimate on the same incidents."""
    from .recovery.models import downtime_errors

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

    Works on a :class:`~faultray_lab.evaluation.backtest.Backtest` or a :class:`ProspectiveScore`
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

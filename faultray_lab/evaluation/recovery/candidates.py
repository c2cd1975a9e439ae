"""Every recovery-time model tried, evaluated the same way: leave-one-out, held-out cohorts and
the pre-registered endpoints (incidents/PREREGISTRATION.md).

:func:`recovery_time_loo` evaluates the default model beside the simplest rivals;
:func:`recovery_candidates` lists every model tried (:data:`RECOVERY_CANDIDATES`), so the
forking paths are visible; :func:`recovery_evaluation` computes the pre-registered endpoints.

Examples
--------
>>> [c.name for c in RECOVERY_CANDIDATES][:2]
['constant median', 'published propagation estimate']
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ...common.errors import InputError
from ...engine.rules import RuleSet
from ..incidents import Incident
from .features import LOG_FLOOR_MINUTES, RECOVERY_FEATURES, recovery_table
from .models import (
    LAD_FEATURES,
    RECOVERY_CLASS_KEYS,
    MechanismModel,
    RecoveryModel,
    blend_predict,
    class_median_predict,
    downtime_errors,
    fit_mechanism_model,
    fit_recovery_model,
    lad_predict,
    mechanism_lad_predict,
    partial_pooling_predict,
)


@dataclass(frozen=True)
class RecoveryResult:
    """Leave-one-out results of the recovery-time models.

    ``predictions``: per incident the true downtime and each method's prediction; ``metrics``:
    one row per method (:func:`downtime_errors`); ``model``: the default (declared-mechanism)
    model fitted on all incidents; ``ridge``: the log-linear ridge on the other pre-outage facts,
    fitted on all incidents.
    """

    predictions: pd.DataFrame
    metrics: pd.DataFrame
    model: MechanismModel | None
    ridge: RecoveryModel | None = None


#: The methods of :func:`recovery_time_loo`; the first is the default recovery-time model
#: (pre-registered, incidents/PREREGISTRATION.md). Names as in :data:`RECOVERY_CANDIDATES`.
RECOVERY_METHODS = ("declared recovery mechanism (LAD)", "recovery model (log-linear)",
                    "per-class median", "constant median", "published propagation estimate")


def recovery_time_loo(
    incidents: Sequence[Incident] | pd.DataFrame,
    rules: str | RuleSet = "faultray-v11",
    features: Sequence[str] = RECOVERY_FEATURES,
    alpha: float = 1.0,
    class_keys: Sequence[str] = ("stateful_affected", "load_fault"),
    min_class: int = 3,
) -> RecoveryResult:
    """Leave-one-out evaluation of the recovery-time model over every incident with truth.

    Methods: the default model, a median (LAD) regression on the rank of the fault's declared
    recovery mechanism (:class:`MechanismModel`; the training median for an incident that
    declares none), the log-linear ridge model on the other pre-outage facts
    (:func:`fit_recovery_model`), per-class medians (the
    median downtime of the training incidents of the same class, ``class_keys``; the overall
    median when the class has fewer than ``min_class`` members), the constant median of the
    training incidents, and the published propagation-time estimate (no fitting).

    Examples
    --------
    >>> df = pd.DataFrame({"id": list("abcd"), "log10_affected": [0.0, 0.3, 0.6, 0.9],
    ...     "stateful_affected": [0, 0, 1, 1], "load_fault": [0, 0, 0, 0],
    ...     "log10_max_replicas": [0.0] * 4, "propagation_minutes": [1.0] * 4,
    ...     "downtime_minutes": [10.0, 20.0, 400.0, 800.0]})
    >>> r = recovery_time_loo(df.assign(recovery_rank=[1, 1, 4, 4]))
    >>> list(r.metrics.index)[:2]
    ['declared recovery mechanism (LAD)', 'recovery model (log-linear)']
    >>> round(r.predictions.set_index("id").loc["c", "declared recovery mechanism (LAD)"])
    800
    """
    table = incidents if isinstance(incidents, pd.DataFrame) else recovery_table(incidents, rules)
    df = table[table["downtime_minutes"].notna()].reset_index(drop=True)
    cols = ["id", "downtime_minutes", *RECOVERY_METHODS]
    if len(df) < 2:
        empty = pd.DataFrame(columns=["n", "mae_minutes", "median_ae_minutes", "mae_log10",
                                      "within_factor_2"], index=list(RECOVERY_METHODS))
        return RecoveryResult(pd.DataFrame(columns=cols), empty, None, None)
    rows = []
    for i in range(len(df)):
        train = df.drop(index=i)
        test = df.iloc[[i]]
        model = fit_recovery_model(train, features, alpha)
        rows.append({
            "id": df.loc[i, "id"], "downtime_minutes": float(df.loc[i, "downtime_minutes"]),
            RECOVERY_METHODS[0]: mechanism_lad_predict(train, test),
            RECOVERY_METHODS[1]: float(model.predict(test)[0]),
            RECOVERY_METHODS[2]: class_median_predict(train, df.loc[i], class_keys, min_class),
            RECOVERY_METHODS[3]: float(np.median(train["downtime_minutes"].to_numpy(float))),
            RECOVERY_METHODS[4]: float(df.loc[i, "propagation_minutes"]),
        })
    pred = pd.DataFrame(rows, columns=cols)
    metrics = pd.DataFrame({m: downtime_errors(pred[m], pred["downtime_minutes"])
                            for m in RECOVERY_METHODS}).T
    metrics["n"] = metrics["n"].astype(int)
    return RecoveryResult(pred, metrics, fit_mechanism_model(df),
                          fit_recovery_model(df, features, alpha))


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
                      lambda tr, te: class_median_predict(tr, te.iloc[0], RECOVERY_CLASS_KEYS,
                                                           3)),
    RecoveryCandidate("partial pooling (empirical Bayes)", "pre-registered",
                      "class means of log10 minutes shrunk toward the median, shrinkage "
                      "estimated per fold", lambda tr, te: partial_pooling_predict(tr, te.iloc[0])),
    RecoveryCandidate("median regression (LAD)", "pre-registered",
                      "least absolute deviations of log10 minutes on " + ", ".join(LAD_FEATURES),
                      lad_predict),
    RecoveryCandidate("median/ridge blend (nested LOO)", "pre-registered",
                      "log-space blend of median and ridge, weight by inner leave-one-out",
                      blend_predict),
    RecoveryCandidate("partial pooling of deviations", "post hoc",
                      "median + shrunk deviation of the class mean from the overall mean (added "
                      "after the pre-registered pooling lost; never eligible as default)",
                      lambda tr, te: partial_pooling_predict(tr, te.iloc[0], deviations=True)),
    RecoveryCandidate("declared recovery mechanism (LAD)", "pre-registered",
                      "median regression of log10 minutes on the rank of the fault's declared "
                      "recovery mechanism (incidents/PREREGISTRATION.md)", mechanism_lad_predict),
)


def candidate_loo(table: pd.DataFrame,
                  candidates: Sequence[RecoveryCandidate] = RECOVERY_CANDIDATES,
                  ) -> pd.DataFrame:
    """Leave-one-out predictions of every candidate over the rows of ``table`` with truth.

    Each prediction is made from the rows of the other incidents only (rows sharing the held-out
    row's ``id`` are left out too). Columns: ``id``, ``downtime_minutes`` and one per candidate.
    """
    df = table[table["downtime_minutes"].notna()].reset_index(drop=True)
    rows = []
    for i in range(len(df) if len(df) >= 2 else 0):
        # leave the whole incident out (a pooled table may hold one incident twice)
        train = df[df["id"] != df.loc[i, "id"]].reset_index(drop=True)
        test = df.iloc[[i]]
        if train.empty:
            continue
        rows.append({"id": df.loc[i, "id"],
                     "downtime_minutes": float(df.loc[i, "downtime_minutes"]),
                     **{c.name: c.predict(train, test) for c in candidates}})
    return pd.DataFrame(rows, columns=["id", "downtime_minutes", *(c.name for c in candidates)])


def _candidate_errors(pred: pd.DataFrame, candidates: Sequence[RecoveryCandidate],
                      ) -> dict[str, dict[str, Any]]:
    """Per candidate: :func:`downtime_errors` of its column of ``pred`` and ``beats_baselines``
    (mean absolute log10 error below both the constant median's and the published estimate's).
    An empty ``pred`` gives ``n`` 0 and never beats the baselines."""
    errs: dict[str, dict[str, Any]] = {
        c.name: (downtime_errors(pred[c.name], pred["downtime_minutes"]) if len(pred)
                 else {"n": 0}) for c in candidates}
    bar = min(errs.get("constant median", {}).get("mae_log10", math.inf),
              errs.get("published propagation estimate", {}).get("mae_log10", math.inf))
    for e in errs.values():
        e["beats_baselines"] = bool(e.get("mae_log10", math.inf) < bar)
    return errs


def candidates_named(*names: str) -> tuple[RecoveryCandidate, ...]:
    """The candidates of :data:`RECOVERY_CANDIDATES` with these names, in that list's order.

    >>> [c.name for c in candidates_named("published propagation estimate", "constant median")]
    ['constant median', 'published propagation estimate']
    """
    unknown = set(names) - {c.name for c in RECOVERY_CANDIDATES}
    if unknown:
        raise InputError(None, "names", f"unknown candidates {sorted(unknown)}",
                         "use names of RECOVERY_CANDIDATES")
    return tuple(c for c in RECOVERY_CANDIDATES if c.name in names)


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
        errs = _candidate_errors(candidate_loo(table, candidates), candidates)
        for c in candidates:
            out.append({"candidate": c.name, "kind": c.kind, "description": c.description,
                        "cohort": cohort, **errs[c.name]})
    cols = ["candidate", "kind", "description", "cohort", "n", "mae_minutes",
            "median_ae_minutes", "mae_log10", "within_factor_2", "beats_baselines"]
    return pd.DataFrame(out).reindex(columns=cols)


def candidate_heldout(train: pd.DataFrame, test: pd.DataFrame,
                      candidates: Sequence[RecoveryCandidate] = RECOVERY_CANDIDATES,
                      ) -> pd.DataFrame:
    """Held-out predictions: every candidate fitted on the rows of ``train`` with truth, predicting
    each row of ``test`` with truth (same columns as :func:`candidate_loo`).

    >>> tr = pd.DataFrame({"id": list("abcd"), "recovery_rank": [1, 1, 5, 5],
    ...     "downtime_minutes": [10.0, 10.0, 1e4, 1e4], "propagation_minutes": [1.0] * 4})
    >>> te = tr.assign(id=["e", "f", "g", "h"])
    >>> p = candidate_heldout(tr, te, RECOVERY_CANDIDATES[:1])
    >>> p["constant median"].tolist()
    [5005.0, 5005.0, 5005.0, 5005.0]
    """
    tr = train[train["downtime_minutes"].notna()].reset_index(drop=True)
    te = test[test["downtime_minutes"].notna()].reset_index(drop=True)
    rows = []
    for i in range(len(te) if len(tr) else 0):
        row = te.iloc[[i]]
        rows.append({"id": te.loc[i, "id"],
                     "downtime_minutes": float(te.loc[i, "downtime_minutes"]),
                     **{c.name: c.predict(tr, row) for c in candidates}})
    return pd.DataFrame(rows, columns=["id", "downtime_minutes", *(c.name for c in candidates)])


def paired_log_difference(pred: pd.DataFrame, method: str, baseline: str = "constant median",
                          n_boot: int = 10_000, seed: int = 0) -> dict[str, float]:
    """Mean difference in absolute log10 error, ``method`` minus ``baseline`` (negative: the
    method is better), with a paired percentile bootstrap 95% interval over incidents.

    >>> p = pd.DataFrame({"downtime_minutes": [10.0, 100.0, 1000.0],
    ...                   "m": [10.0, 100.0, 1000.0], "constant median": [100.0] * 3})
    >>> paired_log_difference(p, "m", n_boot=200)["diff"]
    -0.6666666666666666
    """
    a = np.log10(np.maximum(pred["downtime_minutes"].to_numpy(float), LOG_FLOOR_MINUTES))

    def err(col: str) -> np.ndarray:
        return np.abs(np.log10(np.maximum(pred[col].to_numpy(float), LOG_FLOOR_MINUTES)) - a)

    d = err(method) - err(baseline)
    if len(d) == 0:
        return {"diff": float("nan"), "lo": float("nan"), "hi": float("nan")}
    idx = np.random.default_rng(seed).integers(0, len(d), size=(n_boot, len(d)))
    boots = d[idx].mean(axis=1)
    return {"diff": float(d.mean()), "lo": float(np.quantile(boots, 0.025)),
            "hi": float(np.quantile(boots, 0.975))}


def recovery_evaluation(
    cohorts: Mapping[str, Sequence[Incident] | pd.DataFrame],
    train_cohort: str | None = None,
    rules: str | RuleSet = "faultray-v11",
    candidates: Sequence[RecoveryCandidate] = RECOVERY_CANDIDATES,
    n_boot: int = 10_000,
    seed: int = 0,
) -> pd.DataFrame:
    """The endpoints of incidents/PREREGISTRATION.md for every candidate.

    Endpoints: ``pooled LOO`` (leave-one-out over every incident with truth of all cohorts),
    ``LOO <cohort>`` for each cohort, and, when ``train_cohort`` is given, ``held-out <cohort>``
    (fitted on ``train_cohort`` only, predicting each other cohort). One row per endpoint and
    candidate: the :func:`downtime_errors` columns, the paired bootstrap difference in absolute
    log10 error against the constant median (``diff_vs_median``, ``diff_lo``, ``diff_hi``;
    :func:`paired_log_difference`) and ``beats_baselines`` (mean absolute log10 error below both
    the constant median's and the published estimate's on that endpoint).

    Examples
    --------
    >>> df = pd.DataFrame({"id": list("abcdef"), "recovery_rank": [1, 5, 1, 5, 1, 5],
    ...     "propagation_minutes": [1.0] * 6,
    ...     "downtime_minutes": [10.0, 2000.0, 20.0, 5000.0, 15.0, 3000.0]})
    >>> mech = candidates_named("constant median", "published propagation estimate",
    ...                         "declared recovery mechanism (LAD)")
    >>> ev = recovery_evaluation({"a": df.iloc[:4], "b": df.iloc[4:]}, train_cohort="a",
    ...                          candidates=mech, n_boot=100)
    >>> sorted(set(ev["endpoint"]))
    ['LOO a', 'LOO b', 'held-out b', 'pooled LOO']
    >>> bool(ev.set_index(["endpoint", "candidate"]).loc[("held-out b",
    ...     "declared recovery mechanism (LAD)"), "beats_baselines"])
    True
    """
    tables = {name: (incs if isinstance(incs, pd.DataFrame) else recovery_table(incs, rules))
              .assign(cohort=name) for name, incs in cohorts.items()}
    preds = {"pooled LOO": candidate_loo(pd.concat(tables.values(), ignore_index=True),
                                         candidates)}
    for name, table in tables.items():
        preds[f"LOO {name}"] = candidate_loo(table, candidates)
    if train_cohort is not None:
        if train_cohort not in tables:
            raise InputError(None, "train_cohort", f"unknown cohort {train_cohort!r}",
                             f"use one of {', '.join(tables)}")
        for name, table in tables.items():
            if name != train_cohort:
                preds[f"held-out {name}"] = candidate_heldout(tables[train_cohort], table,
                                                              candidates)
    out = []
    for endpoint, pred in preds.items():
        if pred.empty:
            continue
        errs = _candidate_errors(pred, candidates)
        for c in candidates:
            diff = (paired_log_difference(pred, c.name, n_boot=n_boot, seed=seed)
                    if "constant median" in pred else {"diff": math.nan, "lo": math.nan,
                                                       "hi": math.nan})
            out.append({"endpoint": endpoint, "candidate": c.name, "kind": c.kind,
                        **errs[c.name], "diff_vs_median": diff["diff"], "diff_lo": diff["lo"],
                        "diff_hi": diff["hi"]})
    cols = ["endpoint", "candidate", "kind", "n", "mae_minutes", "median_ae_minutes", "mae_log10",
            "within_factor_2", "diff_vs_median", "diff_lo", "diff_hi", "beats_baselines"]
    return pd.DataFrame(out).reindex(columns=cols)

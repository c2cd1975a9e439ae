"""Outcome models from pre-outage facts: recovery time (downtime) and ordinal severity.

The published backtest's downtime estimate is the cascade's propagation time, not a recovery
time. Here:

* :func:`predict_incident` and :func:`recovery_features`: the engine's prediction for an incident
  and the facts known before the outage that the models read (cascade size, stateful components,
  overload-class fault, replicas, and the fault's declared recovery mechanism).
* :func:`recovery_time_loo`: the default recovery-time model, a median (LAD) regression of log10
  minutes on the rank of the declared recovery mechanism (:class:`MechanismModel`,
  pre-registered in incidents/PREREGISTRATION.md), evaluated by leave-one-out beside a
  log-linear ridge on the other facts, per-class medians, a constant-median baseline and the
  published propagation-time estimate.
* :func:`recovery_candidates` lists every recovery-time model tried (:data:`RECOVERY_CANDIDATES`)
  with its leave-one-out errors, so the forking paths are visible; :func:`recovery_evaluation`
  computes the pre-registered endpoints (pooled and per-cohort leave-one-out, held-out cohorts,
  paired bootstrap intervals against the median).
* :func:`severity_ordinal_loo`: an ordinal label predicted from the severity score with
  thresholds fitted by leave-one-out; accuracy and a confusion matrix.

Examples
--------
>>> [c.name for c in RECOVERY_CANDIDATES][:2]
['constant median', 'published propagation estimate']
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .backtest import ORDINAL_SEVERITY, backtest, predicted_downtime_minutes
from .cascade import simulate_fault
from .errors import InputError
from .incidents import RECOVERY_RANK, Incident
from .rules import RuleSet

#: Component types whose state must be restored or re-synchronised after an outage.
STATEFUL_TYPES = ("database", "storage", "queue", "cache")
#: Fault types of the overload class (floods and saturation rather than a lost component).
LOAD_FAULTS = ("traffic_spike", "cpu_saturation", "latency_spike", "llm_rate_limit")
#: Features of the default recovery-time model (all known before the outage).
RECOVERY_FEATURES = ("log10_affected", "stateful_affected", "load_fault", "log10_max_replicas")
#: Predictions below this many minutes are floored for the log10 error (log of 0 is undefined).
LOG_FLOOR_MINUTES = 1.0


# ---------------------------------------------------------------------------------------------
# Predictions and pre-outage features
# ---------------------------------------------------------------------------------------------
def ruleset_name(rules: str | RuleSet) -> str:
    """The name of a rule set given by name or as a RuleSet."""
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
    ``n_components``, ``n_down``, ``recovery_rank`` (rank 1-5 of the declared recovery mechanism
    of :data:`~faultray_lab.incidents.RECOVERY_MECHANISMS`, None when not declared).
    Descriptive: ``recovery_mechanism``, ``fault_type``, ``fault_component_type``, ``provider``.

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
        "recovery_mechanism": incident.fault.recovery,
        "recovery_rank": RECOVERY_RANK.get(incident.fault.recovery or ""),
        "fault_type": incident.fault.type,
        "fault_component_type": topo.component(incident.fault.component).type,
        "provider": incident.provider,
    }


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
class MechanismModel:
    """The default recovery-time model (pre-registered, incidents/PREREGISTRATION.md):
    ``log10(minutes) = intercept + slope * rank`` of the fault's declared recovery mechanism,
    fitted by least absolute deviations; ``fallback_minutes`` (the training median) for an
    incident that declares no mechanism.

    Examples
    --------
    >>> tr = pd.DataFrame({"recovery_rank": [1, 1, 3, 3, 5, 5],
    ...                    "downtime_minutes": [10, 10, 100, 100, 1000, 1000]})
    >>> m = fit_mechanism_model(tr)
    >>> [round(float(v)) for v in m.predict(pd.DataFrame({"recovery_rank": [1, 5, None]}))]
    [10, 1000, 100]
    >>> m.table()["predicted_minutes"].round().tolist()
    [10.0, 32.0, 100.0, 316.0, 1000.0]
    """

    intercept: float
    slope: float
    fallback_minutes: float
    n_declared: int

    def predict(self, df: pd.DataFrame) -> np.ndarray:
        """Predicted downtime in minutes for each row of ``df`` (column ``recovery_rank``)."""
        ranks = declared_ranks(df)
        out = 10.0 ** (self.intercept + self.slope * np.nan_to_num(ranks))
        return np.where(np.isnan(ranks), self.fallback_minutes, out)

    def table(self) -> pd.DataFrame:
        """Predicted minutes for each declared mechanism."""
        from .incidents import RECOVERY_MECHANISMS

        ranks = pd.DataFrame({"recovery_rank": [RECOVERY_RANK[m] for m in RECOVERY_MECHANISMS]})
        return pd.DataFrame({"mechanism": list(RECOVERY_MECHANISMS),
                             "rank": ranks["recovery_rank"],
                             "predicted_minutes": self.predict(ranks)})


def fit_mechanism_model(train: pd.DataFrame) -> MechanismModel:
    """Fit :class:`MechanismModel` on the rows of ``train`` with truth (LAD on the declared
    mechanism's rank; with fewer than two declared rows, or a single rank, the line is flat at
    the median of the declared rows or, failing that, of all rows)."""
    df = train[train["downtime_minutes"].notna()]
    if len(df) == 0:
        raise InputError(None, "train", "no incident with a downtime to fit on",
                         "add incidents with truth.downtime_minutes")
    median = float(np.median(df["downtime_minutes"].to_numpy(float)))
    ranks = declared_ranks(df)
    labelled = df[~np.isnan(ranks)].assign(recovery_rank=ranks[~np.isnan(ranks)])
    if len(labelled) < 2:
        return MechanismModel(math.log10(max(median, LOG_FLOOR_MINUTES)), 0.0, median,
                              len(labelled))
    feats, b = fit_lad(labelled, ("recovery_rank",))
    slope = float(b[1]) if feats else 0.0
    return MechanismModel(float(b[0]), slope, median, len(labelled))


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
            RECOVERY_METHODS[2]: _class_median_predict(train, df.loc[i], class_keys, min_class),
            RECOVERY_METHODS[3]: float(np.median(train["downtime_minutes"].to_numpy(float))),
            RECOVERY_METHODS[4]: float(df.loc[i, "propagation_minutes"]),
        })
    pred = pd.DataFrame(rows, columns=cols)
    metrics = pd.DataFrame({m: downtime_errors(pred[m], pred["downtime_minutes"])
                            for m in RECOVERY_METHODS}).T
    metrics["n"] = metrics["n"].astype(int)
    return RecoveryResult(pred, metrics, fit_mechanism_model(df),
                          fit_recovery_model(df, features, alpha))


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


def declared_ranks(df: pd.DataFrame) -> np.ndarray:
    """The ``recovery_rank`` column as floats (NaN where no mechanism was declared).

    >>> declared_ranks(pd.DataFrame({"recovery_rank": [1, None, 5]})).tolist()
    [1.0, nan, 5.0]
    """
    if "recovery_rank" not in df:
        return np.full(len(df), np.nan)
    return pd.to_numeric(df["recovery_rank"], errors="coerce").to_numpy(dtype=float)


def mechanism_lad_predict(train: pd.DataFrame, test: pd.DataFrame) -> float:
    """Downtime (minutes) of the single row ``test`` from the declared recovery mechanism:
    least-absolute-deviation regression ``log10 minutes = a + b * recovery_rank`` fitted on the
    training rows that declare a mechanism (:func:`fit_mechanism_model`).

    Falls back to the training median when ``test`` declares no mechanism or fewer than two
    training rows do.

    >>> tr = pd.DataFrame({"recovery_rank": [1, 1, 3, 3, 5, 5],
    ...                    "downtime_minutes": [10, 10, 100, 100, 1000, 1000]})
    >>> round(mechanism_lad_predict(tr, pd.DataFrame({"recovery_rank": [2]})))
    32
    """
    model = fit_mechanism_model(train)
    if model.n_declared < 2:
        return model.fallback_minutes
    return float(model.predict(test)[0])


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


def read_labels(path: str | os.PathLike[str], column: str = "recovery") -> dict[str, str]:
    r"""One column of a labels file (incidents/recovery-labels.csv) by incident id, empty cells
    skipped: ``recovery`` (default) the labels used, ``alternative`` the labellers' named
    alternatives for close calls (for :func:`label_sensitivity`), ``second_labeller`` the
    second labeller's labels (for :func:`label_agreement`).

    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "labels.csv"
    >>> _ = f.write_text("id,recovery,alternative,reason\na,revert,restart,x\nb,restore,,y\n")
    >>> read_labels(f)
    {'a': 'revert', 'b': 'restore'}
    >>> read_labels(f, "alternative")
    {'a': 'restart'}
    """
    import csv

    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except FileNotFoundError:
        raise InputError(str(path), None, "no such labels file",
                         "pass incidents/recovery-labels.csv") from None
    if rows and not {"id", column} <= set(rows[0]):
        raise InputError(str(path), "header", f"columns 'id' and {column!r} are required",
                         "write a header id,recovery,alternative,reason")
    return {r["id"]: r[column].strip() for r in rows if (r[column] or "").strip()}


def mechanism_permutation_test(
    cohorts: Mapping[str, Sequence[Incident] | pd.DataFrame],
    n_perm: int = 1000,
    seed: int = 0,
    rules: str | RuleSet = "faultray-v11",
    progress: bool | None = None,
) -> dict[str, float]:
    """Do the declared mechanisms carry information? A permutation test of the pooled
    leave-one-out error of the default model.

    The declared ranks are shuffled across the pooled incidents (``n_perm`` seeded shuffles, the
    downtimes and everything else kept), and the pooled leave-one-out mean absolute log10 error
    of :func:`mechanism_lad_predict` is recomputed each time. ``p_value`` is the share of
    shuffles at least as good as the labels as given, counted as ``(k + 1) / (n_perm + 1)``.
    Returns ``observed``, ``null_median``, ``null_low`` and ``null_high`` (2.5% and 97.5%
    quantiles), ``p_value`` and ``n_perm``. ``progress``: a tqdm bar (None: only on a terminal).

    Examples
    --------
    >>> df = pd.DataFrame({"id": list("abcdefgh"), "recovery_rank": [1, 1, 2, 2, 4, 4, 5, 5],
    ...     "propagation_minutes": [1.0] * 8,
    ...     "downtime_minutes": [10.0, 12, 60, 50, 2000, 2500, 9000, 8000]})
    >>> r = mechanism_permutation_test({"toy": df}, n_perm=50)
    >>> r["observed"] < r["null_low"], round(r["p_value"], 3)
    (True, 0.02)
    """
    from tqdm.auto import tqdm

    if not (isinstance(n_perm, int) and n_perm >= 1):
        raise InputError(None, "n_perm", f"n_perm must be an integer >= 1, not {n_perm!r}",
                         "use e.g. 1000")
    tables = [(incs if isinstance(incs, pd.DataFrame) else recovery_table(incs, rules))
              for incs in cohorts.values()]
    df = pd.concat(tables, ignore_index=True)
    df = df[df["downtime_minutes"].notna()].reset_index(drop=True)
    model = candidates_named(RECOVERY_METHODS[0])

    def pooled_error(table: pd.DataFrame) -> float:
        pred = candidate_loo(table, model)
        return downtime_errors(pred[model[0].name], pred["downtime_minutes"])["mae_log10"]

    observed = pooled_error(df)
    ranks = declared_ranks(df)
    rng = np.random.default_rng(seed)
    null = np.empty(n_perm)
    for k in tqdm(range(n_perm), desc="permutations", disable=None if progress is None
                  else not progress):
        null[k] = pooled_error(df.assign(recovery_rank=rng.permutation(ranks)))
    return {"observed": float(observed), "null_median": float(np.median(null)),
            "null_low": float(np.quantile(null, 0.025)),
            "null_high": float(np.quantile(null, 0.975)),
            "p_value": float((np.sum(null <= observed) + 1) / (n_perm + 1)), "n_perm": n_perm}


def label_agreement(first: Mapping[str, str], second: Mapping[str, str]) -> dict[str, float]:
    """Agreement of two labellers on the incidents both labelled: share of equal labels,
    Cohen's kappa and the linearly weighted kappa on the mechanisms' ranks (disagreeing by one
    rank costs less than by four).

    Examples
    --------
    >>> a = {"x": "revert", "y": "restart", "z": "replace", "w": "revert"}
    >>> b = {"x": "revert", "y": "restore", "z": "replace", "w": "revert"}
    >>> r = label_agreement(a, b)
    >>> r["n"], r["agreement"], round(r["kappa"], 3), round(r["weighted_kappa"], 3)
    (4, 0.75, 0.636, 0.867)
    """
    from .incidents import RECOVERY_MECHANISMS

    ids = sorted(set(first) & set(second))
    k = len(RECOVERY_MECHANISMS)
    if not ids:
        return {"n": 0, "agreement": math.nan, "kappa": math.nan, "weighted_kappa": math.nan}
    for lab in (first, second):
        bad = sorted({lab[i] for i in ids} - set(RECOVERY_MECHANISMS))
        if bad:
            raise InputError(None, "labels", f"unknown mechanisms {bad}",
                             f"use {', '.join(RECOVERY_MECHANISMS)}")
    table = np.zeros((k, k))
    for i in ids:
        table[RECOVERY_RANK[first[i]] - 1, RECOVERY_RANK[second[i]] - 1] += 1
    table /= len(ids)
    expected = np.outer(table.sum(axis=1), table.sum(axis=0))
    ranks = np.arange(k)
    weight = np.abs(ranks[:, None] - ranks[None, :]) / (k - 1)     # linear disagreement cost

    def kappa(cost: np.ndarray) -> float:
        exp = float((cost * expected).sum())
        return math.nan if exp == 0 else 1.0 - float((cost * table).sum()) / exp

    return {"n": len(ids), "agreement": float(np.trace(table)),
            "kappa": kappa(1.0 - np.eye(k)), "weighted_kappa": kappa(weight)}


def label_sensitivity(
    cohorts: Mapping[str, Sequence[Incident] | pd.DataFrame],
    alternatives: Mapping[str, str],
    train_cohort: str | None = None,
    rules: str | RuleSet = "faultray-v11",
) -> pd.DataFrame:
    """How the declared-mechanism model's endpoints move when close-call labels change.

    ``alternatives`` maps incident ids to the mechanism a labeller named as the other plausible
    choice (``incidents/recovery-labels.csv``, column ``alternative``). One row for the labels
    as given, one per single switch and one with every switch at once; columns: ``switched``,
    then the mean absolute log10 error of the model per endpoint of
    :func:`recovery_evaluation` and, for reference, the constant median's.

    Examples
    --------
    >>> df = pd.DataFrame({"id": list("abcdef"), "recovery_rank": [1, 5, 1, 5, 1, 5],
    ...     "propagation_minutes": [1.0] * 6,
    ...     "downtime_minutes": [10.0, 2000.0, 20.0, 5000.0, 15.0, 3000.0]})
    >>> t = label_sensitivity({"a": df}, {"b": "revert", "c": "replace"})
    >>> t["switched"].tolist()
    ['(labels as given)', 'b -> revert', 'c -> replace', '(all switches)']
    >>> bool(t.loc[0, "pooled LOO"] < t.loc[3, "pooled LOO"])
    True
    """
    from .incidents import RECOVERY_MECHANISMS

    tables = {name: (incs if isinstance(incs, pd.DataFrame) else recovery_table(incs, rules))
              for name, incs in cohorts.items()}
    known = set().union(*(set(t["id"]) for t in tables.values()))
    for iid, mech in alternatives.items():
        if iid not in known:
            raise InputError(None, f"alternatives[{iid!r}]", "unknown incident id",
                             "use ids of the cohorts given")
        if mech not in RECOVERY_MECHANISMS:
            raise InputError(None, f"alternatives[{iid!r}]", f"unknown mechanism {mech!r}",
                             f"use one of {', '.join(RECOVERY_MECHANISMS)}")
    keep = candidates_named("constant median", RECOVERY_METHODS[0])

    def switched(switches: Mapping[str, str]) -> dict[str, pd.DataFrame]:
        out = {}
        for name, t in tables.items():
            t = t.copy()
            for iid, mech in switches.items():
                hit = t["id"] == iid
                t.loc[hit, "recovery_rank"] = RECOVERY_RANK[mech]
                t.loc[hit, "recovery_mechanism"] = mech
            out[name] = t
        return out

    runs = [("(labels as given)", {})]
    runs += [(f"{iid} -> {mech}", {iid: mech}) for iid, mech in alternatives.items()]
    if len(alternatives) > 1:
        runs.append(("(all switches)", dict(alternatives)))
    rows = []
    for label, switches in runs:
        ev = recovery_evaluation(switched(switches), train_cohort=train_cohort, rules=rules,
                                 candidates=keep, n_boot=1)
        err = ev.set_index(["endpoint", "candidate"])["mae_log10"]
        row: dict[str, Any] = {"switched": label}
        for endpoint in dict.fromkeys(ev["endpoint"]):
            row[endpoint] = float(err[(endpoint, RECOVERY_METHODS[0])])
            row[f"{endpoint} (median)"] = float(err[(endpoint, "constant median")])
        rows.append(row)
    return pd.DataFrame(rows)


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

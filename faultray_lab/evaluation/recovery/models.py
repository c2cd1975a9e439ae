"""Recovery-time models: the declared-mechanism LAD (the default), a log-linear ridge, class
medians, partial pooling, LAD on other facts and a blend; and their error measures.

Examples
--------
>>> downtime_errors([10, 100], [20, 100])["within_factor_2"]
1.0
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ...common.errors import InputError
from ..incidents import RECOVERY_RANK
from .features import LOG_FLOOR_MINUTES, RECOVERY_FEATURES


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
        return self._predict(df[list(self.features)].to_numpy(dtype=float))

    def _predict(self, x: np.ndarray) -> np.ndarray:
        """:meth:`predict` on the kept features' columns as an array."""
        x = (x - np.array(self.mean)) / np.array(self.scale)
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
    if not (isinstance(alpha, int | float) and math.isfinite(alpha) and alpha >= 0):
        raise InputError(None, "alpha", f"alpha must be a finite number >= 0, not {alpha!r}",
                         "use the default 1.0")
    x = train[list(features)].to_numpy(dtype=float) if features else np.zeros((len(train), 0))
    return _ridge(x, train["downtime_minutes"].to_numpy(dtype=float), tuple(features),
                  float(alpha))


def _ridge(x: np.ndarray, minutes: np.ndarray, features: tuple[str, ...],
           alpha: float) -> RecoveryModel:
    """The ridge fit of :func:`fit_recovery_model` on arrays (rows with minutes > 0 only)."""
    pos = minutes > 0
    if not pos.any():
        raise InputError(None, "train", "no incident with a positive downtime to fit on",
                         "add incidents with truth.downtime_minutes > 0")
    x, y = x[pos], np.log10(minutes[pos])
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
                         alpha)


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


def class_median_predict(train: pd.DataFrame, row: Mapping[str, Any], keys: Sequence[str],
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
        from ..incidents import RECOVERY_MECHANISMS

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


def lad_predict(train: pd.DataFrame, test: pd.DataFrame) -> float:
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

    Each inner fold fits the ridge and takes the median once; the weights only mix them.

    >>> df = pd.DataFrame({"log10_affected": [0.0, 0.2, 0.4, 0.6, 0.8],
    ...     "stateful_affected": [0] * 5, "load_fault": [0] * 5, "log10_max_replicas": [0.0] * 5,
    ...     "downtime_minutes": [10.0, 40.0, 160.0, 640.0, 2560.0]})
    >>> blend_weight(df)
    1.0
    """
    n = len(train)
    if n < 2:
        return 0.0
    y = _log_minutes(train)
    x = train[list(RECOVERY_FEATURES)].to_numpy(dtype=float)
    minutes = train["downtime_minutes"].to_numpy(dtype=float)
    ridge, med = np.empty(n), np.empty(n)
    for j in range(n):
        rest = np.arange(n) != j
        model = _ridge(x[rest], minutes[rest], RECOVERY_FEATURES, 1.0)
        keep = [RECOVERY_FEATURES.index(f) for f in model.features]
        pred = model._predict(x[j:j + 1, keep]) if keep else np.array([10.0 ** model.intercept])
        ridge[j] = math.log10(float(pred[0]))
        med[j] = float(np.median(y[rest]))
    errs = [float(np.mean([abs(w * ridge[j] + (1.0 - w) * med[j] - y[j]) for j in range(n)]))
            for w in weights]
    return float(weights[int(np.argmin(errs))])


def blend_predict(train: pd.DataFrame, test: pd.DataFrame) -> float:
    return float(10.0 ** _blend_log(train, test, blend_weight(train)))

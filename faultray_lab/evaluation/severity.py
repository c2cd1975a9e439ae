"""Ordinal severity: a label predicted from the engine's severity score with thresholds fitted
by leave-one-out.

Examples
--------
>>> apply_thresholds(5.0, [2.0, 5.0, 9.0], [3.5, 7.0])
5.0
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..engine.rules import RuleSet
from .backtest import backtest
from .incidents import Incident
from .metrics import ORDINAL_SEVERITY


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
    accuracy, and ``published continuous measure`` (mean severity accuracy of semantics 6).
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
    measure (mean severity accuracy, computed by
    :func:`~faultray_lab.evaluation.backtest.backtest`).
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

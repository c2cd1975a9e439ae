"""The backtest's metrics, exactly as published (docs: semantics 6).

Per incident, the predicted set is every component with an effect (the target included);
precision, recall and F1 over component ids (0 for a zero denominator); severity accuracy
``max(0, 1 - |predicted - label value| / 10)``; predicted downtime ``max effect time / 60``
minutes if positive, else 5 minutes per down effect; confidence ``0.5 F1 + 0.3 severity
accuracy + 0.2 max(0, 1 - downtime error / 60)``; averages are plain means over the incidents
that have a ground truth.

Examples
--------
>>> set_scores(["a", "b"], ["b", "c"])
(1, 1, 1, 0.5, 0.5, 0.5)
>>> severity_value("major"), severity_value("major", "ordinal")
(5.0, 7.0)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..common.errors import InputError
from ..engine.effects import Cascade
from ..model.topology import DOWN
from .incidents import Truth

#: Label values of the published backtest: any other label (major, minor) counts as 5.0.
PUBLISHED_SEVERITY = {"critical": 9.0, "high": 7.0, "medium": 5.0, "low": 2.0}
PUBLISHED_DEFAULT = 5.0
#: An ordinal map in which every label has its own value.
ORDINAL_SEVERITY = {"critical": 9.0, "major": 7.0, "high": 7.0, "medium": 5.0, "minor": 3.0,
                    "low": 2.0}
SEVERITY_MAPS = ("published", "ordinal")

#: Summary keys (JSON names) -> per-incident column averaged into them.
SUMMARY_METRICS = {
    "precision": "precision", "recall": "recall", "f1": "f1",
    "severity_accuracy": "severity_accuracy",
    "downtime_mae_minutes": "downtime_error_minutes", "confidence": "confidence",
}
DOWN_METRICS = {"precision": "down_precision", "recall": "down_recall", "f1": "down_f1"}
#: Per-incident columns of a backtest (JSON output keys).
INCIDENT_COLUMNS = ("id", "predicted_affected", "tp", "fp", "fn", "precision", "recall", "f1",
                 "predicted_severity", "severity_accuracy", "predicted_downtime_minutes",
                 "downtime_error_minutes", "confidence")


def set_scores(predicted: Sequence[str], actual: Sequence[str]) -> tuple[int, int, int, float,
                                                                         float, float]:
    """TP, FP, FN, precision, recall and F1 of a predicted id set (0 for a zero denominator).

    >>> set_scores(["a", "b"], ["b", "c"])
    (1, 1, 1, 0.5, 0.5, 0.5)
    """
    p, a = set(predicted), set(actual)
    tp, fp, fn = len(p & a), len(p - a), len(a - p)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return tp, fp, fn, precision, recall, f1


def severity_value(label: str, severity_map: str | Mapping[str, float] = "published") -> float:
    """The 0-10 value of a severity label.

    >>> severity_value("major"), severity_value("major", "ordinal")
    (5.0, 7.0)
    """
    if isinstance(severity_map, Mapping):
        if label not in severity_map:
            raise InputError(None, "severity_map", f"no value for the label '{label}'",
                             "give every label a value")
        return float(severity_map[label])
    if severity_map == "published":
        return PUBLISHED_SEVERITY.get(label, PUBLISHED_DEFAULT)
    if severity_map == "ordinal":
        if label not in ORDINAL_SEVERITY:
            raise InputError(None, "severity_map", f"no ordinal value for the label '{label}'",
                             f"use one of {', '.join(ORDINAL_SEVERITY)}")
        return ORDINAL_SEVERITY[label]
    raise InputError(None, "severity_map", f"unknown severity map {severity_map!r}",
                     f"use one of {', '.join(SEVERITY_MAPS)} or a label -> value mapping")


def severity_accuracy(predicted: float, label_value: float) -> float:
    """``max(0, 1 - |predicted - label value| / 10)``.

    >>> round(severity_accuracy(7.1, 9.0), 2)
    0.81
    """
    return max(0.0, 1.0 - abs(predicted - label_value) / 10.0)


def predicted_downtime_minutes(cascade: Cascade) -> float:
    """Max effect time / 60 if positive, else 5 minutes per down effect, else 0.

    >>> from faultray_lab import load_topology, demo_topology_path, simulate_fault
    >>> c = simulate_fault(load_topology(demo_topology_path()), "postgres", rules="faultray-v11")
    >>> predicted_downtime_minutes(c)  # the slowest effect at 60 s
    1.0
    """
    tmax = max((e.time_s for e in cascade.effects), default=0.0)
    if tmax > 0:
        return tmax / 60.0
    return 5.0 * sum(1 for e in cascade.effects if e.health == DOWN)


def confidence(f1: float, sev_acc: float, downtime_error: float) -> float:
    """``0.5 F1 + 0.3 severity accuracy + 0.2 max(0, 1 - downtime error / 60)``.

    >>> round(confidence(1.0, 0.81, 659.0), 3)
    0.743
    """
    return 0.5 * f1 + 0.3 * sev_acc + 0.2 * max(0.0, 1.0 - downtime_error / 60.0)


def score_prediction(predicted: Sequence[str], predicted_down: Sequence[str],
                     predicted_severity: float, predicted_downtime: float, truth: Truth | None,
                     severity_map: str | Mapping[str, float] = "published") -> dict[str, Any]:
    """One row of the per-incident table (metrics are NaN when ``truth`` is None).

    Components the truth labels ``unknown`` are left out of the set scores (a prediction on
    them is neither right nor wrong).
    """
    row: dict[str, Any] = {
        "predicted_affected": sorted(predicted), "predicted_down": sorted(predicted_down),
        "predicted_severity": predicted_severity,
        "predicted_downtime_minutes": predicted_downtime,
    }
    nan = float("nan")
    if truth is None:
        row.update({k: nan for k in ("tp", "fp", "fn", "precision", "recall", "f1",
                                     "severity_label", "severity_accuracy", "downtime_minutes",
                                     "downtime_error_minutes", "confidence", "down_precision",
                                     "down_recall", "down_f1")})
        row["severity_label"] = None
        return row
    unknown = truth.unknown
    tp, fp, fn, p, r, f1 = set_scores([c for c in predicted if c not in unknown], truth.affected)
    acc = severity_accuracy(predicted_severity, severity_value(truth.severity, severity_map))
    err = abs(predicted_downtime - truth.downtime_minutes)
    _, _, _, dp, dr, df1 = set_scores([c for c in predicted_down if c not in unknown],
                                      truth.affected)
    row.update({"tp": tp, "fp": fp, "fn": fn, "precision": p, "recall": r, "f1": f1,
                "severity_label": truth.severity, "severity_accuracy": acc,
                "downtime_minutes": truth.downtime_minutes, "downtime_error_minutes": err,
                "confidence": confidence(f1, acc, err), "down_precision": dp,
                "down_recall": dr, "down_f1": df1})
    return row


def averages(df: pd.DataFrame, metrics: Mapping[str, str]) -> dict[str, float]:
    """Plain means of ``metrics`` (key -> column) over the scored incidents, plus ``n``."""
    scored = df[df["severity_label"].notna()]
    out: dict[str, float] = {"n": int(len(scored))}
    for key, col in metrics.items():
        out[key] = float(scored[col].astype(float).mean()) if len(scored) else float("nan")
    return out


def cohen_kappa(first: Mapping[str, str], second: Mapping[str, str],
                categories: Sequence[str], what: str = "categories") -> dict[str, float]:
    """Agreement of two raters on the items both rated: share of equal ratings, Cohen's kappa
    and the linearly weighted kappa over ``categories`` taken in order (disagreeing by one step
    costs less than by several). ``what`` names the categories in the error for an unknown one.

    >>> a = {"x": "down", "y": "degraded", "z": "unaffected", "w": "down"}
    >>> b = {"x": "down", "y": "down", "z": "unaffected", "w": "down"}
    >>> r = cohen_kappa(a, b, ("down", "degraded", "unaffected"))
    >>> r["n"], r["agreement"], round(r["kappa"], 3)
    (4, 0.75, 0.556)
    """
    ids = sorted(set(first) & set(second))
    k = len(categories)
    if not ids or k < 2:
        return {"n": len(ids), "agreement": math.nan, "kappa": math.nan,
                "weighted_kappa": math.nan}
    index = {c: i for i, c in enumerate(categories)}
    for rating in (first, second):
        bad = sorted({rating[i] for i in ids} - set(index))
        if bad:
            raise InputError(None, "labels", f"unknown {what} {bad}",
                             f"use {', '.join(categories)}")
    table = np.zeros((k, k))
    for i in ids:
        table[index[first[i]], index[second[i]]] += 1
    table /= len(ids)
    expected = np.outer(table.sum(axis=1), table.sum(axis=0))
    steps = np.arange(k)
    weight = np.abs(steps[:, None] - steps[None, :]) / (k - 1)     # linear disagreement cost

    def kappa(cost: np.ndarray) -> float:
        exp = float((cost * expected).sum())
        return math.nan if exp == 0 else 1.0 - float((cost * table).sum()) / exp

    return {"n": len(ids), "agreement": float(np.trace(table)),
            "kappa": kappa(1.0 - np.eye(k)), "weighted_kappa": kappa(weight)}

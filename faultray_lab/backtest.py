"""Backtest: run the engine on incidents, score it as published, and beside trivial baselines.

Metrics are exactly those of the published backtest (SEMANTICS 6): per incident, the predicted set
is every component with an effect (the target included); precision, recall and F1 over component
ids (0 for a zero denominator); severity accuracy ``max(0, 1 - |predicted - label value| / 10)``;
predicted downtime ``max effect time / 60`` minutes if positive, else 5 minutes per down effect;
confidence ``0.5 F1 + 0.3 severity accuracy + 0.2 max(0, 1 - downtime error / 60)``; averages are
plain means over the incidents that have a ground truth.

Every backtest also scores three baselines with the same metrics, so a reader sees what a number
means: ``all-components`` (every component), ``root-only`` (the failed component alone) and
``reverse-reachable`` (plain reverse breadth-first search from the failed component). A baseline
predicts a set in which every component is down and nothing has a time: its severity is the
severity formula (SEMANTICS 2.2) of that set with the fault's likelihood, its downtime 5 minutes per
component (the published rule for effects without a time). The *discrimination margin* is the
engine's F1 minus the best baseline's; every average carries a seeded percentile-bootstrap 95%
interval (incidents resampled with replacement, the same resamples for every method).

Because the affected set of the ``cps`` rules is the reverse-reachable set (SEMANTICS 3), the
table also scores the predicted *down* set against the truth (``down_*`` columns).

Examples
--------
>>> from faultray_lab.incidents import Fault, Incident, Truth
>>> from faultray_lab.topology import topology_from_dict
>>> topo = topology_from_dict({
...     "components": [{"id": "web", "type": "web_server"}, {"id": "db", "type": "database"},
...                    {"id": "batch", "type": "app_server"}],
...     "dependencies": [{"source": "web", "target": "db", "type": "requires"}]})
>>> inc = Incident("i1", topo, Fault("db"), truth=Truth(("db", "web"), "major", 30.0))
>>> bt = backtest([inc], rules="faultray-v11", n_boot=200)
>>> bt.summary["f1"], bt.summary["n"]
(1.0, 1)
>>> float(bt.baselines.loc["all-components", "f1"])
0.8
>>> bt.margin
0.0
"""

from __future__ import annotations

import json
import math
import os
import sys
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .cascade import Cascade, chain_severity, simulate_fault
from .errors import InputError
from .incidents import Incident, Truth, load_incidents
from .rules import DOWN, RuleSet, fault_likelihood

#: Label values of the published backtest: any other label (major, minor) counts as 5.0.
PUBLISHED_SEVERITY = {"critical": 9.0, "high": 7.0, "medium": 5.0, "low": 2.0}
PUBLISHED_DEFAULT = 5.0
#: An ordinal map in which every label has its own value.
ORDINAL_SEVERITY = {"critical": 9.0, "major": 7.0, "high": 7.0, "medium": 5.0, "minor": 3.0,
                    "low": 2.0}
SEVERITY_MAPS = ("published", "ordinal")

BASELINES = ("all-components", "root-only", "reverse-reachable")
ENGINE = "engine"

#: Summary keys (JSON names) -> per-incident column averaged into them.
SUMMARY_METRICS = {
    "precision": "precision", "recall": "recall", "f1": "f1",
    "severity_accuracy": "severity_accuracy",
    "downtime_mae_minutes": "downtime_error_minutes", "confidence": "confidence",
}
DOWN_METRICS = {"precision": "down_precision", "recall": "down_recall", "f1": "down_f1"}
INCIDENT_KEYS = ("id", "predicted_affected", "tp", "fp", "fn", "precision", "recall", "f1",
                 "predicted_severity", "severity_accuracy", "predicted_downtime_minutes",
                 "downtime_error_minutes", "confidence")


# ---------------------------------------------------------------------------------------------
# Metrics (SEMANTICS 6)
# ---------------------------------------------------------------------------------------------
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

    >>> from faultray_lab import load_topology, demo_topology_path
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
    """One row of the per-incident table (metrics are NaN when ``truth`` is None)."""
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
    tp, fp, fn, p, r, f1 = set_scores(predicted, truth.affected)
    acc = severity_accuracy(predicted_severity, severity_value(truth.severity, severity_map))
    err = abs(predicted_downtime - truth.downtime_minutes)
    _, _, _, dp, dr, df1 = set_scores(predicted_down, truth.affected)
    row.update({"tp": tp, "fp": fp, "fn": fn, "precision": p, "recall": r, "f1": f1,
                "severity_label": truth.severity, "severity_accuracy": acc,
                "downtime_minutes": truth.downtime_minutes, "downtime_error_minutes": err,
                "confidence": confidence(f1, acc, err), "down_precision": dp,
                "down_recall": dr, "down_f1": df1})
    return row


# ---------------------------------------------------------------------------------------------
# Baselines
# ---------------------------------------------------------------------------------------------
def baseline_prediction(incident: Incident, name: str) -> list[str]:
    """The component ids a baseline predicts for an incident.

    >>> from faultray_lab.incidents import Fault, Incident
    >>> from faultray_lab.topology import topology_from_dict
    >>> t = topology_from_dict({"components": [{"id": "a"}, {"id": "b"}, {"id": "c"}],
    ...                         "dependencies": [{"source": "b", "target": "a"}]})
    >>> baseline_prediction(Incident("x", t, Fault("a")), "reverse-reachable")
    ['a', 'b']
    """
    topo, target = incident.topology, incident.fault.component
    if name == "all-components":
        return list(topo.ids)
    if name == "root-only":
        return [target]
    if name == "reverse-reachable":
        return topo.reverse_reachable(target)
    raise InputError(None, "baseline", f"unknown baseline '{name}'",
                     f"use one of {', '.join(BASELINES)}")


def _baseline_row(incident: Incident, name: str, severity_map: Any) -> dict[str, Any]:
    pred = baseline_prediction(incident, name)
    comp = incident.topology.component(incident.fault.component)
    like = fault_likelihood(comp, incident.fault.type)
    sev = chain_severity([DOWN] * len(pred), len(incident.topology), like)
    row = score_prediction(pred, pred, sev, 5.0 * len(pred), incident.truth, severity_map)
    return {"method": name, "id": incident.id, **row}


# ---------------------------------------------------------------------------------------------
# The backtest
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Backtest:
    """The outcome of :func:`backtest`.

    Attributes
    ----------
    per_incident : DataFrame
        One row per incident: ``id``, ``predicted_affected``, ``tp``, ``fp``, ``fn``,
        ``precision``, ``recall``, ``f1``, ``predicted_severity``, ``severity_accuracy``,
        ``predicted_downtime_minutes``, ``downtime_error_minutes``, ``confidence`` and the
        down-set scores ``predicted_down``, ``down_precision``, ``down_recall``, ``down_f1``
        (NaN metrics for incidents without truth).
    summary : dict
        ``n`` (scored incidents) and the published averages: ``precision``, ``recall``, ``f1``,
        ``severity_accuracy``, ``downtime_mae_minutes``, ``confidence``.
    baselines : DataFrame
        The same averages per baseline (index: baseline name).
    baseline_incidents : DataFrame
        Per-incident rows of every baseline (column ``method``).
    intervals : DataFrame
        ``method``, ``metric``, ``estimate``, ``low``, ``high``: bootstrap 95% intervals of every
        average, for the engine, each baseline and the ``margin``.
    margin : float
        Discrimination margin: engine F1 minus the best baseline F1 (``best_baseline``).
    down_summary : dict
        Averages of the down-set scores (``n``, ``precision``, ``recall``, ``f1``).
    """

    per_incident: pd.DataFrame
    summary: dict[str, float]
    baselines: pd.DataFrame
    baseline_incidents: pd.DataFrame
    intervals: pd.DataFrame
    margin: float
    best_baseline: str
    down_summary: dict[str, float]
    rules: str
    severity_map: str
    seed: int
    n_boot: int
    cascades: dict[str, Cascade] = field(repr=False, default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``summary``, ``incidents``, ``baselines``, ``intervals`` and more.

        NaN (unscored incidents) becomes None.
        """
        incidents = []
        for rec in self.per_incident.to_dict(orient="records"):
            incidents.append({k: _clean(rec[k]) for k in INCIDENT_KEYS})
        intervals: dict[str, dict[str, list[float | None]]] = {}
        for rec in self.intervals.to_dict(orient="records"):
            intervals.setdefault(rec["method"], {})[rec["metric"]] = [
                _clean(rec["low"]), _clean(rec["high"])]
        margin_iv = intervals.get("margin", {}).get("f1", [None, None])
        return {
            "rules": self.rules, "severity_map": self.severity_map, "seed": self.seed,
            "n_boot": self.n_boot,
            "summary": {k: _clean(v) for k, v in self.summary.items()},
            "incidents": incidents,
            "baselines": {name: {k: _clean(v) for k, v in row.items()}
                          for name, row in self.baselines.to_dict(orient="index").items()},
            "discrimination_margin": {"f1": _clean(self.margin),
                                      "best_baseline": self.best_baseline,
                                      "low": margin_iv[0], "high": margin_iv[1]},
            "down_set": {k: _clean(v) for k, v in self.down_summary.items()},
            "intervals": intervals,
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as indented JSON text (deterministic)."""
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def comparison(self) -> pd.DataFrame:
        """The engine's summary beside every baseline's (rows: method; columns: metrics)."""
        engine = pd.DataFrame([self.summary], index=[ENGINE])
        return pd.concat([engine, self.baselines])


def _clean(v: Any) -> Any:
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return None if math.isnan(v) else float(v)
    if isinstance(v, tuple):
        return list(v)
    return v


def averages(df: pd.DataFrame, metrics: Mapping[str, str]) -> dict[str, float]:
    """Plain means of ``metrics`` (key -> column) over the scored incidents, plus ``n``."""
    scored = df[df["severity_label"].notna()]
    out: dict[str, float] = {"n": int(len(scored))}
    for key, col in metrics.items():
        out[key] = float(scored[col].astype(float).mean()) if len(scored) else float("nan")
    return out


def backtest(
    incidents: Sequence[Incident] | str | os.PathLike[str],
    rules: str | RuleSet = "faultray-v11",
    severity_map: str | Mapping[str, float] = "published",
    seed: int = 0,
    n_boot: int = 2000,
) -> Backtest:
    """Run the engine on every incident and score it beside the baselines.

    Parameters
    ----------
    incidents : sequence of Incident, or a path
        Incidents (see :func:`~faultray_lab.incidents.load_incidents`), or a file or folder to
        load them from. Incidents without ``truth`` are predicted but not scored.
    rules : str or RuleSet
        ``"faultray-v11"`` (default: the published engine) or ``"cps"``.
    severity_map : {"published", "ordinal"} or mapping
        Label values: ``published`` (critical 9, high 7, medium 5, low 2, any other 5.0, so
        ``major`` counts as 5.0) or ``ordinal`` (critical 9, major 7, high 7, medium 5,
        minor 3, low 2).
    seed : int
        Seed of the bootstrap resamples.
    n_boot : int
        Number of bootstrap resamples.

    Returns
    -------
    Backtest

    Raises
    ------
    InputError
        Bad incident files, an unknown rule set or severity map, no incidents.

    Examples
    --------
    >>> bt = backtest("incidents/paper-18")  # doctest: +SKIP
    >>> round(bt.summary["severity_accuracy"], 3)  # doctest: +SKIP
    0.819
    """
    if isinstance(incidents, str | os.PathLike):
        incidents = load_incidents(incidents)
    incidents = list(incidents)
    if not incidents:
        raise InputError(None, "incidents", "no incidents to backtest", "pass incident files")
    if isinstance(severity_map, str):
        severity_value("critical", severity_map)  # validates the name early
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 1:
        raise InputError(None, "n_boot", f"n_boot must be a whole number >= 1, not {n_boot!r}",
                         "use the default 2000")
    rules_name = rules.name if isinstance(rules, RuleSet) else rules

    rows, base_rows, cascades = [], [], {}
    for inc in incidents:
        c = simulate_fault(inc.topology, inc.fault.component, inc.fault.type, rules=rules)
        cascades[inc.id] = c
        row = score_prediction(c.affected, c.down, c.severity, predicted_downtime_minutes(c),
                               inc.truth, severity_map)
        rows.append({"id": inc.id, **row})
        base_rows.extend(_baseline_row(inc, name, severity_map) for name in BASELINES)
    per = pd.DataFrame(rows)
    base = pd.DataFrame(base_rows)

    summary = averages(per, SUMMARY_METRICS)
    baselines = pd.DataFrame(
        {name: averages(base[base["method"] == name], SUMMARY_METRICS) for name in BASELINES}
    ).T
    baselines["n"] = baselines["n"].astype(int)
    best = max(BASELINES, key=lambda b: (baselines.loc[b, "f1"], -BASELINES.index(b)))
    margin = summary["f1"] - float(baselines.loc[best, "f1"])
    intervals = bootstrap_intervals(per, base, best, seed, n_boot)
    return Backtest(
        per_incident=per, summary=summary, baselines=baselines, baseline_incidents=base,
        intervals=intervals, margin=margin, best_baseline=best,
        down_summary=averages(per, DOWN_METRICS),
        rules=str(rules_name),
        severity_map=severity_map if isinstance(severity_map, str) else "custom",
        seed=seed, n_boot=n_boot, cascades=cascades,
    )


def bootstrap_intervals(per: pd.DataFrame, base: pd.DataFrame, best: str, seed: int,
               n_boot: int) -> pd.DataFrame:
    """Percentile bootstrap 95% intervals; one set of resamples shared by every method."""
    scored_ids = per.loc[per["severity_label"].notna(), "id"].tolist()
    n = len(scored_ids)
    cols = ["method", "metric", "estimate", "low", "high"]
    if n == 0:
        return pd.DataFrame(columns=cols)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_boot, n))

    def values(df: pd.DataFrame, col: str) -> np.ndarray:
        s = df.set_index("id").loc[scored_ids, col]
        return s.to_numpy(dtype=float)

    out = []
    means: dict[tuple[str, str], np.ndarray] = {}
    frames = [(ENGINE, per)] + [(b, base[base["method"] == b]) for b in BASELINES]
    for method, df in frames:
        for key, col in SUMMARY_METRICS.items():
            v = values(df, col)
            m = v[idx].mean(axis=1)
            means[(method, key)] = m
            lo, hi = np.percentile(m, [2.5, 97.5])
            out.append((method, key, float(v.mean()), float(lo), float(hi)))
    diff = means[(ENGINE, "f1")] - means[(best, "f1")]
    est = float(values(per, "f1").mean() - values(base[base["method"] == best], "f1").mean())
    lo, hi = np.percentile(diff, [2.5, 97.5])
    out.append(("margin", "f1", est, float(lo), float(hi)))
    return pd.DataFrame(out, columns=cols)


# ---------------------------------------------------------------------------------------------
# Published values (the thing a reproduction is compared against)
# ---------------------------------------------------------------------------------------------
_PUBLISHED_KEYS = {
    "precision": "precision", "recall": "recall", "f1": "f1",
    "predicted_severity": "predicted_severity_0_10", "severity_accuracy": "severity_accuracy",
    "predicted_downtime_minutes": "predicted_downtime_minutes",
    "downtime_error_minutes": "downtime_mae_minutes", "confidence": "confidence",
}


def load_published(path: str | os.PathLike[str]) -> tuple[dict[str, float], pd.DataFrame]:
    """The published summary and per-incident results of a ``paper-18-incidents.json`` file.

    Returns the summary under this module's keys and a DataFrame (``id``,
    ``predicted_affected`` and the per-incident metric columns).

    Examples
    --------
    >>> summary, per = load_published("incidents/paper-18-published.json")  # doctest: +SKIP
    >>> summary["severity_accuracy"]  # doctest: +SKIP
    0.819
    """
    name = str(path)
    try:
        data = json.loads(open(name, encoding="utf-8").read())
        ps = data["published_summary"]
        summary = {"n": len(data["incidents"])}
        summary.update({k: float(ps[f"avg_{k}"]) for k in SUMMARY_METRICS})
        rows = []
        for inc in data["incidents"]:
            pub = inc["backtest"]["published"]
            row = {"id": inc["id"],
                   "predicted_affected": sorted(pub["predicted_affected_components"])}
            row.update({k: float(pub[v]) for k, v in _PUBLISHED_KEYS.items()})
            rows.append(row)
    except FileNotFoundError:
        raise InputError(name, None, "file not found", "check the path") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(name, None, f"not a published backtest file ({exc!r})",
                         "use incidents/paper-18-published.json") from None
    return summary, pd.DataFrame(rows)


def _decimals(x: float) -> int:
    text = repr(float(x))
    return len(text.split(".")[1]) if "." in text and "e" not in text else 0


def matches_published(reproduced: float, published: float) -> bool:
    """Whether ``reproduced`` rounds to ``published`` at the published number of decimals.

    >>> matches_published(0.74333, 0.743), matches_published(0.7446, 0.743)
    (True, False)
    """
    tol = 0.5 * 10.0 ** -_decimals(published) + 1e-9
    return abs(float(reproduced) - float(published)) <= tol


def compare_published(bt: Backtest, published: pd.DataFrame) -> pd.DataFrame:
    """Every per-incident value beside the published one.

    Returns a long DataFrame: ``id``, ``metric``, ``reproduced``, ``published``, ``match``
    (equal at the published precision; for ``predicted_affected``, equal as sets).
    """
    ours = bt.per_incident.set_index("id")
    rows = []
    for _, pub in published.iterrows():
        iid = pub["id"]
        if iid not in ours.index:
            rows.append((iid, "present", False, True, False))
            continue
        mine = ours.loc[iid]
        rows.append((iid, "predicted_affected", list(mine["predicted_affected"]),
                     list(pub["predicted_affected"]),
                     set(mine["predicted_affected"]) == set(pub["predicted_affected"])))
        for col in _PUBLISHED_KEYS:
            rows.append((iid, col, float(mine[col]), float(pub[col]),
                         matches_published(mine[col], pub[col])))
    return pd.DataFrame(rows, columns=["id", "metric", "reproduced", "published", "match"])


# ---------------------------------------------------------------------------------------------
# ``faultray_lab.backtest`` names both this module and the function above. Importing the module
# (``from faultray_lab.backtest import ...``) makes the package attribute the module, so
# ``faultray_lab.backtest(...)`` must work on the module too: calling it calls the function.
# ---------------------------------------------------------------------------------------------
class _CallableModule(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Backtest:
        return backtest(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

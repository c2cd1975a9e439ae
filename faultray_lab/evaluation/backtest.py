"""Backtest: run the engine on incidents, score it as published, and beside trivial baselines.

Metrics are exactly those of the published backtest (:mod:`faultray_lab.evaluation.metrics`).
Every backtest also scores the baselines of :mod:`faultray_lab.evaluation.baselines` with the
same metrics (``all-components``, ``root-only``, ``reverse-reachable``), so a reader sees what a
number means. The *discrimination margin* is the
engine's F1 minus the best baseline's; every average carries a seeded percentile-bootstrap 95%
interval (incidents resampled with replacement, the same resamples for every method).

Because the affected set of the ``cps`` rules is the reverse-reachable set (docs: semantics 3), the
table also scores the predicted *down* set against the truth (``down_*`` columns).

Examples
--------
>>> from faultray_lab.evaluation.incidents import Fault, Incident, Truth
>>> from faultray_lab.model.schema import topology_from_dict
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

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..common.errors import InputError
from ..common.jsonutil import dumps, to_jsonable
from ..common.validate import MAX_BOOTSTRAP, check_count
from ..engine.cascade import simulate_fault
from ..engine.effects import Cascade
from ..engine.rules import RuleSet, ruleset_name
from .baselines import BASELINES, baseline_row
from .incidents import Incident, load_incidents
from .metrics import (
    DOWN_METRICS,
    INCIDENT_COLUMNS,
    SUMMARY_METRICS,
    averages,
    predicted_downtime_minutes,
    score_prediction,
    severity_value,
)

ENGINE = "engine"




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
        intervals: dict[str, dict[str, list[float | None]]] = {}
        for rec in self.intervals.to_dict(orient="records"):
            intervals.setdefault(rec["method"], {})[rec["metric"]] = [rec["low"], rec["high"]]
        margin_iv = intervals.get("margin", {}).get("f1", [None, None])
        return to_jsonable({
            "rules": self.rules, "severity_map": self.severity_map, "seed": self.seed,
            "n_boot": self.n_boot, "summary": self.summary,
            "incidents": [{k: rec[k] for k in INCIDENT_COLUMNS}
                          for rec in self.per_incident.to_dict(orient="records")],
            "baselines": self.baselines.to_dict(orient="index"),
            "discrimination_margin": {"f1": self.margin, "best_baseline": self.best_baseline,
                                      "low": margin_iv[0], "high": margin_iv[1]},
            "down_set": self.down_summary,
            "intervals": intervals,
        })

    def to_json(self) -> str:
        """:meth:`to_dict` as indented JSON text (deterministic)."""
        return dumps(self.to_dict())

    def comparison(self) -> pd.DataFrame:
        """The engine's summary beside every baseline's (rows: method; columns: metrics)."""
        engine = pd.DataFrame([self.summary], index=[ENGINE])
        return pd.concat([engine, self.baselines])


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
        Incidents (see :func:`~faultray_lab.evaluation.incidents.load_incidents`), or a file
        or folder to load them from. Incidents without ``truth`` are predicted but not scored.
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
    check_count(n_boot, "n_boot", high=MAX_BOOTSTRAP)
    rules_name = ruleset_name(rules)

    rows, base_rows, cascades = [], [], {}
    for inc in incidents:
        c = simulate_fault(inc.topology, inc.fault.component, inc.fault.type, rules=rules)
        cascades[inc.id] = c
        row = score_prediction(c.affected, c.down, c.severity, predicted_downtime_minutes(c),
                               inc.truth, severity_map)
        rows.append({"id": inc.id, **row})
        base_rows.extend(baseline_row(inc, name, severity_map) for name in BASELINES)
    per = pd.DataFrame(rows)
    base = pd.DataFrame(base_rows)

    summary = averages(per, SUMMARY_METRICS)
    baselines = pd.DataFrame(
        {name: averages(base[base["method"] == name], SUMMARY_METRICS) for name in BASELINES}
    ).T
    baselines["n"] = baselines["n"].astype(int)
    best = best_baseline(baselines)
    margin = summary["f1"] - float(baselines.loc[best, "f1"])
    intervals = bootstrap_intervals(per, base, best, seed, n_boot)
    return Backtest(
        per_incident=per, summary=summary, baselines=baselines, baseline_incidents=base,
        intervals=intervals, margin=margin, best_baseline=best,
        down_summary=averages(per, DOWN_METRICS),
        rules=rules_name,
        severity_map=severity_map if isinstance(severity_map, str) else "custom",
        seed=seed, n_boot=n_boot, cascades=cascades,
    )


def best_baseline(baselines: pd.DataFrame, metric: str = "f1") -> str:
    """The baseline with the highest average ``metric`` (ties: the earlier in the registry)."""
    names = list(BASELINES)
    return max(names, key=lambda b: (baselines.loc[b, metric], -names.index(b)))


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

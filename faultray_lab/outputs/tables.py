"""The paper's tables: numbers from the analyses, formatted as LaTeX (booktabs) and CSV.

Every table is a :class:`PaperTable` built by one ``table_*`` function from analysis results;
:func:`write_table` writes it. Published values appear only in the columns they are compared
against.

Examples
--------
>>> fmt(0.81944), fmt(None)
('0.819', '')
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..common.files import atomic_write_text
from ..evaluation.published import PUBLISHED_DEMO, PUBLISHED_LAYERS

METRIC_LABELS = {"precision": "precision", "recall": "recall", "f1": "F1",
                 "severity_accuracy": "severity accuracy",
                 "downtime_mae_minutes": "downtime MAE (min)", "confidence": "confidence"}


@dataclass(frozen=True, eq=False)
class PaperTable:
    """One table: numeric ``data`` (written as CSV) and its LaTeX ``tabular`` text."""

    name: str
    data: Any
    latex: str


# ---------------------------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------------------------
_LATEX_SPECIALS = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                   "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                   "^": r"\textasciicircum{}", "<": r"\textless{}", ">": r"\textgreater{}"}


def latex_escape(text: Any) -> str:
    """Escape LaTeX's special characters.

    >>> latex_escape("a_b & 5%")
    'a\\\\_b \\\\& 5\\\\%'
    """
    return "".join(_LATEX_SPECIALS.get(ch, ch) for ch in str(text))


def latex_tabular(header: Sequence[str], rows: Sequence[Sequence[str]],
                  align: str | None = None) -> str:
    """A booktabs ``tabular`` from already formatted cells (cells are escaped here).

    >>> print(latex_tabular(["a", "b"], [["x", "1.0"]]))
    \\begin{tabular}{lr}
    \\toprule
    a & b \\\\
    \\midrule
    x & 1.0 \\\\
    \\bottomrule
    \\end{tabular}
    """
    align = align or "l" + "r" * (len(header) - 1)
    lines = [f"\\begin{{tabular}}{{{align}}}", "\\toprule",
             " & ".join(latex_escape(h) for h in header) + " \\\\", "\\midrule"]
    lines += [" & ".join(latex_escape(c) for c in r) + " \\\\" for r in rows]
    lines += ["\\bottomrule", "\\end{tabular}"]
    return "\n".join(lines)


def fmt(value: Any, decimals: int = 3) -> str:
    """A number with fixed decimals; '' for None or NaN; integers as integers.

    >>> fmt(0.81944), fmt(None), fmt(3), fmt(float("inf"))
    ('0.819', '', '3', 'inf')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    v = float(value)
    if math.isnan(v):
        return ""
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:.{decimals}f}"


def _interval(low: Any, high: Any, decimals: int = 3) -> str:
    return f"[{fmt(low, decimals)}, {fmt(high, decimals)}]"


def _round_frame(df: Any, decimals: int = 10) -> Any:
    """Round float columns so the CSV is stable across platforms."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype.kind == "f":
            out[c] = out[c].round(decimals)
    return out


# ---------------------------------------------------------------------------------------------
def table_backtest_reproduced(bts: Mapping[str, Any],
                              published: Mapping[str, float] | None) -> PaperTable:
    """The published backtest summary beside its reproduction (faultray-v11) and cps."""
    import pandas as pd

    v11, cps = bts["faultray-v11"], bts["cps"]
    iv = v11.intervals.set_index(["method", "metric"])
    rows = []
    for key in METRIC_LABELS:
        rows.append({
            "metric": key,
            "published": None if published is None else float(published[key]),
            "faultray_v11": float(v11.summary[key]),
            "faultray_v11_low": float(iv.loc[("engine", key), "low"]),
            "faultray_v11_high": float(iv.loc[("engine", key), "high"]),
            "cps": float(cps.summary[key]),
        })
    data = pd.DataFrame(rows)
    body = []
    for r in rows:
        d = 2 if r["metric"] == "downtime_mae_minutes" else 3
        body.append([METRIC_LABELS[r["metric"]], fmt(r["published"], d),
                     fmt(r["faultray_v11"], d),
                     _interval(r["faultray_v11_low"], r["faultray_v11_high"], d),
                     fmt(r["cps"], d)])
    header = ["metric", "published", "faultray-v11", "95% interval", "cps"]
    if published is None:
        header, body = header[:1] + header[2:], [b[:1] + b[2:] for b in body]
        data = data.drop(columns="published")
    return PaperTable("backtest_reproduced", data, latex_tabular(header, body))


def table_backtest_baselines(bts: Mapping[str, Any]) -> PaperTable:
    """Engines (both rule sets) beside the trivial baselines, with F1 and confidence intervals."""
    import pandas as pd

    rows = []
    for rules, bt in bts.items():
        iv = bt.intervals.set_index(["method", "metric"])
        methods = [(f"engine ({rules})", "engine", bt.summary)]
        if rules == "faultray-v11":  # baselines do not depend on the rule set
            methods += [(name, name, row) for name, row in
                        bt.baselines.to_dict(orient="index").items()]
        for label, key, summ in methods:
            rows.append({
                "method": label, "precision": float(summ["precision"]),
                "recall": float(summ["recall"]), "f1": float(summ["f1"]),
                "f1_low": float(iv.loc[(key, "f1"), "low"]),
                "f1_high": float(iv.loc[(key, "f1"), "high"]),
                "severity_accuracy": float(summ["severity_accuracy"]),
                "confidence": float(summ["confidence"]),
                "confidence_low": float(iv.loc[(key, "confidence"), "low"]),
                "confidence_high": float(iv.loc[(key, "confidence"), "high"]),
            })
    for rules, bt in bts.items():
        iv = bt.intervals.set_index(["method", "metric"])
        rows.append({"method": f"margin ({rules}) vs {bt.best_baseline}",
                     "precision": math.nan, "recall": math.nan, "f1": float(bt.margin),
                     "f1_low": float(iv.loc[("margin", "f1"), "low"]),
                     "f1_high": float(iv.loc[("margin", "f1"), "high"]),
                     "severity_accuracy": math.nan, "confidence": math.nan,
                     "confidence_low": math.nan, "confidence_high": math.nan})
    data = pd.DataFrame(rows)
    body = [[r["method"], fmt(r["precision"]), fmt(r["recall"]), fmt(r["f1"]),
             _interval(r["f1_low"], r["f1_high"]), fmt(r["severity_accuracy"]),
             fmt(r["confidence"]),
             "" if math.isnan(r["confidence"]) else _interval(r["confidence_low"],
                                                              r["confidence_high"])]
            for r in rows]
    header = ["method", "precision", "recall", "F1", "F1 95% interval", "sev. acc.",
              "confidence", "conf. 95% interval"]
    return PaperTable("backtest_baselines", data, latex_tabular(header, body))


def table_backtest_incidents(bt: Any) -> PaperTable:
    """Per incident (faultray-v11): predicted set size, scores, severity and downtime."""
    df = bt.per_incident
    data = df[["id", "tp", "fp", "fn", "f1", "predicted_severity", "severity_label",
               "severity_accuracy", "predicted_downtime_minutes", "downtime_minutes",
               "confidence", "down_f1"]].copy()
    data.insert(1, "predicted", [len(p) for p in df["predicted_affected"]])
    data.insert(5, "predicted_down", [len(p) for p in df["predicted_down"]])
    for c in ("tp", "fp", "fn"):
        data[c] = data[c].astype(int)
    body = [[r["id"], str(r["predicted"]), str(r["tp"]), str(r["fp"]), str(r["fn"]),
             fmt(r["f1"]), str(r["predicted_down"]), fmt(r["predicted_severity"], 1),
             str(r["severity_label"]), fmt(r["severity_accuracy"]),
             fmt(r["predicted_downtime_minutes"], 1), fmt(r["downtime_minutes"], 1),
             fmt(r["confidence"])]
            for r in data.to_dict(orient="records")]
    header = ["incident", "pred.", "TP", "FP", "FN", "F1", "down", "severity", "label",
              "sev. acc.", "downtime (min)", "actual (min)", "confidence"]
    return PaperTable("backtest_incidents", data, latex_tabular(header, body))


def table_demo_sweep(topology: Any) -> PaperTable:
    """The demo's default scenario sweep under both rule sets beside the published output."""
    import pandas as pd

    from ..scenarios.resilience import resilience_score
    from ..scenarios.sweep import run_sweep

    rows = []
    score = float(resilience_score(topology))
    for rules in ("faultray-v11", "cps"):
        df = run_sweep(topology, rules=rules, progress=False)
        counts = df["class"].value_counts()
        rows.append({"source": f"reproduced ({rules})", "scenarios": int(len(df)),
                     "critical": int(counts.get("critical", 0)),
                     "warning": int(counts.get("warning", 0)),
                     "passed": int(counts.get("passed", 0)),
                     "distinct_outcomes": int(df["outcome"].nunique()),
                     "resilience_score": score})
    rows.append({"source": "published (FaultRay 11.1 demo)", **PUBLISHED_DEMO,
                 "distinct_outcomes": None})
    data = pd.DataFrame(rows)
    body = [[r["source"], str(r["scenarios"]), str(r["critical"]), str(r["warning"]),
             str(r["passed"]),
             "" if r["distinct_outcomes"] is None else str(r["distinct_outcomes"]),
             fmt(r["resilience_score"], 1)] for r in rows]
    header = ["", "scenarios", "critical", "warning", "passed", "distinct outcomes",
              "resilience score"]
    data["distinct_outcomes"] = data["distinct_outcomes"].astype("Int64")
    return PaperTable("demo_sweep", data, latex_tabular(header, body))


def table_availability(topology: Any) -> PaperTable:
    """The demo's five availability layers, ceiling and floor beside the reference's values."""
    import pandas as pd

    from ..availability.layers import availability_layers, downtime_seconds_per_year, nines

    s = availability_layers(topology)
    rows = []
    for name, a in [*s.layers.items(), ("ceiling", s.ceiling), ("floor", s.floor)]:
        rows.append({"layer": name, "availability": float(a), "nines": float(nines(a)),
                     "downtime_s_per_year": float(downtime_seconds_per_year(a)),
                     "binding": name == s.binding_layer,
                     "published": PUBLISHED_LAYERS.get(name)})
    data = pd.DataFrame(rows)
    body = [[r["layer"] + (" (binding)" if r["binding"] else ""), fmt(r["availability"], 8),
             fmt(r["nines"], 2), fmt(r["downtime_s_per_year"], 0), fmt(r["published"], 8)]
            for r in rows]
    header = ["layer", "availability", "nines", "downtime (s/yr)", "published"]
    return PaperTable("availability_layers", data, latex_tabular(header, body))


def table_what_if(runs: Mapping[str, Any]) -> PaperTable:
    """The scripted what-if sequence: affected, down, severity, breakers, availability."""
    import pandas as pd

    rows = [{"what_if": name, "affected": len(r.health), "down": len(r.down),
             "severity": float(r.severity),
             "tripped": ", ".join(f"{a}->{b}" for a, b in r.tripped_breakers),
             "hardware": float(r.layers["hardware"]), "ceiling": float(r.ceiling),
             "binding": r.binding_layer, "floor": float(r.floor)}
            for name, r in runs.items()]
    data = pd.DataFrame(rows)
    body = [[r["what_if"], str(r["affected"]), str(r["down"]), fmt(r["severity"], 1),
             r["tripped"] or "-", fmt(r["hardware"], 6), fmt(r["ceiling"], 6), r["binding"],
             fmt(r["floor"], 6)] for r in rows]
    header = ["what-if (postgres down, cps)", "affected", "down", "severity", "tripped breaker",
              "hardware", "ceiling", "binding", "floor"]
    return PaperTable("what_if", data, latex_tabular(header, body))


def table_recovery_preregistered(cohorts: Mapping[str, Any], train_cohort: str,
                                 seed: int = 0) -> PaperTable:
    """The pre-registered recovery-time endpoints (incidents/PREREGISTRATION.md): mean absolute
    log10 error of the declared-mechanism model, the log-linear ridge, the constant median and the
    published estimate per endpoint, with the paired bootstrap interval against the median."""
    from ..evaluation.recovery.candidates import RECOVERY_METHODS, recovery_evaluation

    ev = recovery_evaluation(cohorts, train_cohort=train_cohort, seed=seed)
    mech, ridge = RECOVERY_METHODS[0], "recovery model (log-linear)"
    rows = []
    for endpoint, grp in ev.groupby("endpoint", sort=False):
        g = grp.set_index("candidate")
        rows.append({"endpoint": endpoint, "n": int(g.loc[mech, "n"]),
                     "mechanism": float(g.loc[mech, "mae_log10"]),
                     "ridge": float(g.loc[ridge, "mae_log10"]),
                     "constant_median": float(g.loc["constant median", "mae_log10"]),
                     "published": float(g.loc["published propagation estimate", "mae_log10"]),
                     "diff_vs_median": float(g.loc[mech, "diff_vs_median"]),
                     "diff_low": float(g.loc[mech, "diff_lo"]),
                     "diff_high": float(g.loc[mech, "diff_hi"])})
    import pandas as pd

    data = pd.DataFrame(rows)
    body = [[r["endpoint"], str(r["n"]), fmt(r["mechanism"]), fmt(r["ridge"]),
             fmt(r["constant_median"]), fmt(r["published"]), fmt(r["diff_vs_median"]),
             _interval(r["diff_low"], r["diff_high"])] for r in rows]
    header = ["endpoint", "n", "declared mechanism", "ridge", "median", "published",
              "diff. vs median", "95% interval"]
    return PaperTable("recovery_preregistered", data, latex_tabular(header, body))


def write_table(table: PaperTable, outdir: str | os.PathLike[str]) -> list[Path]:
    """Write ``<name>.csv`` and ``<name>.tex`` atomically."""
    csv = _round_frame(table.data).to_csv(index=False, lineterminator="\n")
    return [atomic_write_text(Path(outdir) / f"{table.name}.csv", csv),
            atomic_write_text(Path(outdir) / f"{table.name}.tex",
                              "% generated by `faultray-lab figures`: do not edit\n"
                              + table.latex + "\n")]

"""The paper's figures and tables, regenerated from the data files with one call.

:func:`build_paper` (``faultray-lab figures``) runs every analysis the reproduction report
shows and writes each figure as PDF, PNG and SVG under ``<output>/figures`` and each table as
LaTeX (a booktabs ``tabular`` for ``\\input``) and CSV under ``<output>/tables``:

* the published 18-incident backtest, reproduced with ``faultray-v11`` and rerun with ``cps``,
  beside the published values and three trivial baselines, with bootstrap 95% intervals;
* the demo topology's default scenario sweep and resilience score, beside the reference's
  published demo output;
* the demo's five availability layers, beside the reference's values;
* a scripted what-if sequence on the demo (a replica on postgres, a breaker on app-1 -> postgres);
* the prospective-validation figures on ``incidents/remodeled-18`` (recovery time, ordinal
  severity, robustness to topology errors), as ``notebooks/03_prospective_validation.ipynb``
  draws them.

Every number comes from running the engine on the data files; published values appear only in
the columns they are compared against. Outputs are byte-deterministic (seeded bootstrap, fixed
number formats, figures without timestamps), so regenerating them does not churn git; a test
regenerates the tables and compares them with the committed ones.

Examples
--------
>>> import tempfile
>>> out = tempfile.mkdtemp()
>>> written = build_paper(out, figures=False, n_boot=200)  # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InputError

#: The reference's published demo output (the seed article; SEMANTICS 2.5 and 2.6): the values
#: the reproduced sweep is compared against.
PUBLISHED_DEMO = {"scenarios": 255, "critical": 21, "warning": 84, "passed": 150,
                  "resilience_score": 50.0}
#: The reference's availability layers of the demo (SEMANTICS 4), compared against.
PUBLISHED_LAYERS = {"software": 0.99840875, "hardware": 0.99890197, "theoretical": 0.99880208,
                    "operational": 0.99947603, "external": 1.0, "ceiling": 0.99840875,
                    "floor": 0.99559583}
METRIC_LABELS = {"precision": "precision", "recall": "recall", "f1": "F1",
                 "severity_accuracy": "severity accuracy",
                 "downtime_mae_minutes": "downtime MAE (min)", "confidence": "confidence"}
FIGURE_FORMATS = ("pdf", "png", "svg")
DEFAULT_INCIDENTS = "incidents/paper-18"
DEFAULT_PROSPECTIVE = "incidents/remodeled-18"
DEFAULT_PUBLISHED = "incidents/paper-18-published.json"


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
# Analyses
# ---------------------------------------------------------------------------------------------
def run_backtests(incidents: str | os.PathLike[str] = DEFAULT_INCIDENTS, seed: int = 0,
                  n_boot: int = 2000) -> dict[str, Any]:
    """The backtest on the incident folder with ``faultray-v11`` and with ``cps``."""
    from .backtest import backtest
    from .incidents import load_incidents

    inc = load_incidents(incidents)
    return {rules: backtest(inc, rules=rules, seed=seed, n_boot=n_boot)
            for rules in ("faultray-v11", "cps")}


def what_if_sequence(topology: Any) -> dict[str, Any]:
    """The scripted what-ifs of ``notebooks/02_what_if.ipynb``: postgres down (cps), then a
    second postgres replica, a breaker on app-1 -> postgres, and both.

    >>> from faultray_lab import load_topology, demo_topology_path
    >>> runs = what_if_sequence(load_topology(demo_topology_path()))
    >>> [len(r.down) for r in runs.values()]
    [6, 1, 5, 1]
    """
    from .widgets import evaluate

    return {
        "baseline": evaluate(topology, "postgres"),
        "postgres x2": evaluate(topology, "postgres", replicas={"postgres": 2}),
        "breaker app-1 -> postgres": evaluate(topology, "postgres",
                                              breakers={("app-1", "postgres"): True}),
        "both": evaluate(topology, "postgres", replicas={"postgres": 2},
                         breakers={("app-1", "postgres"): True}),
    }


# ---------------------------------------------------------------------------------------------
# Tables
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

    from .scenarios import resilience_score, run_sweep

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

    from .availability import availability_layers, downtime_seconds_per_year, nines

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


# ---------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------
def paper_figures(bts: Mapping[str, Any], topology: Any, runs: Mapping[str, Any],
                  prospective: str | os.PathLike[str] | None = DEFAULT_PROSPECTIVE,
                  seed: int = 0) -> tuple[dict[str, Callable[[], Any]], list[str]]:
    """Figure name -> a function drawing it, and notes on figures skipped.

    ``prospective`` is the remodeled incident folder of the prospective-validation figures
    (the same calls as ``notebooks/03_prospective_validation.ipynb``); None or a missing folder
    skips them.
    """
    from . import plots
    from .availability import (
        SHARED_NETWORK_BETAS,
        availability_layers,
        common_cause_sweep,
        shared_network_example,
    )
    from .cascade import simulate_fault
    from .failstop import reproduce_dsb
    from .scenarios import run_sweep

    shared, members, replica = shared_network_example()
    out: dict[str, Callable[[], Any]] = {
        "cascade_demo": lambda: plots.plot_cascade(topology, simulate_fault(topology,
                                                                             "postgres")),
        "what_if_demo": lambda: plots.plot_what_if([runs["postgres x2"],
                                                    runs["breaker app-1 -> postgres"]]),
        "backtest_metrics": lambda: plots.plot_backtest(bts["faultray-v11"]),
        "backtest_downtime": lambda: plots.plot_downtime_error(bts["faultray-v11"]),
        "availability_layers": lambda: plots.plot_availability_layers(
            availability_layers(topology)),
        "risk_distribution": lambda: plots.plot_risk_distribution(
            run_sweep(topology, rules="faultray-v11", progress=False)),
        # the same calls as notebooks/04_availability.ipynb
        "availability_common_cause": lambda: plots.plot_common_cause(common_cause_sweep(
            shared, members, SHARED_NETWORK_BETAS, trials=200_000, seed=seed,
            availability=replica)),
        "dsb_reproduction": lambda: plots.plot_dsb_reproduction(
            reproduce_dsb(trials=200_000, seed=seed)),
    }
    notes: list[str] = []
    if prospective is not None and Path(prospective).is_dir():
        out.update(_prospective_figures(prospective, seed))
    else:
        notes.append(f"prospective_* skipped: no incident folder {prospective}")
    return out, notes


def _prospective_figures(folder: str | os.PathLike[str], seed: int) -> dict[str,
                                                                          Callable[[], Any]]:
    from . import plots, recovery
    from . import prospective as pv
    from .incidents import load_incidents

    incidents = load_incidents(folder)
    rules = "faultray-v11"
    return {
        "prospective_recovery": lambda: plots.plot_recovery_loo(
            recovery.recovery_time_loo(incidents, rules=rules)),
        "prospective_severity": lambda: plots.plot_severity_confusion(
            recovery.severity_ordinal_loo(incidents, rules=rules)),
        "prospective_robustness": lambda: plots.plot_robustness(
            pv.robustness(incidents, rules=rules, n_draws=10, seed=seed, n_boot=500)),
    }


# ---------------------------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------------------------
def paper_tables(incidents: str | os.PathLike[str] = DEFAULT_INCIDENTS,
                 published: str | os.PathLike[str] | None = DEFAULT_PUBLISHED,
                 seed: int = 0, n_boot: int = 2000) -> list[PaperTable]:
    """Every table of the paper, computed from the data files (nothing is written)."""
    return _analyses(incidents, published, seed, n_boot)[0]


def _analyses(incidents: Any, published: Any, seed: int, n_boot: int) -> tuple[
        list[PaperTable], dict[str, Any], Any, dict[str, Any]]:
    from . import demo_topology_path
    from .topology import load_topology

    if not Path(incidents).exists():
        raise InputError(str(incidents), None, "incident folder not found",
                         f"run from the repository root or pass --incidents (default "
                         f"{DEFAULT_INCIDENTS})")
    pub = None
    if published is not None:
        from .backtest import load_published

        pub = load_published(published)[0]
    bts = run_backtests(incidents, seed=seed, n_boot=n_boot)
    demo = load_topology(demo_topology_path())
    runs = what_if_sequence(demo)
    tables = [table_backtest_reproduced(bts, pub), table_backtest_baselines(bts),
              table_backtest_incidents(bts["faultray-v11"]), table_demo_sweep(demo),
              table_availability(demo), table_what_if(runs)]
    return tables, bts, demo, runs


def table_recovery_preregistered(cohorts: Mapping[str, Any], train_cohort: str,
                                 seed: int = 0) -> PaperTable:
    """The pre-registered recovery-time endpoints (incidents/PREREGISTRATION.md): mean absolute
    log10 error of the declared-mechanism model, the log-linear ridge, the constant median and the
    published estimate per endpoint, with the paired bootstrap interval against the median."""
    from . import recovery

    ev = recovery.recovery_evaluation(cohorts, train_cohort=train_cohort, seed=seed)
    mech, ridge = recovery.RECOVERY_METHODS[0], "recovery model (log-linear)"
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
    from .fileio import atomic_write_text

    csv = _round_frame(table.data).to_csv(index=False, lineterminator="\n")
    return [atomic_write_text(Path(outdir) / f"{table.name}.csv", csv),
            atomic_write_text(Path(outdir) / f"{table.name}.tex",
                              "% generated by `faultray-lab figures`: do not edit\n"
                              + table.latex + "\n")]


def build_paper(output: str | os.PathLike[str] = "paper",
                incidents: str | os.PathLike[str] = DEFAULT_INCIDENTS,
                published: str | os.PathLike[str] | None = DEFAULT_PUBLISHED,
                seed: int = 0, n_boot: int = 2000, figures: bool = True,
                formats: Sequence[str] = FIGURE_FORMATS,
                prospective: str | os.PathLike[str] | None = DEFAULT_PROSPECTIVE
                ) -> dict[str, Any]:
    """Regenerate every table (and figure) of the paper under ``output``.

    Parameters
    ----------
    output : path
        The paper folder; tables go to ``output/tables``, figures to ``output/figures``.
    incidents : path
        The incident folder of the backtest (default ``incidents/paper-18``).
    published : path or None
        The published backtest file compared against (None: no published column).
    seed, n_boot : int
        Bootstrap seed and resamples.
    figures : bool
        Also draw and save the figures.
    formats : sequence of str
        Figure formats (default PDF, PNG and SVG).
    prospective : path or None
        The remodeled incident folder of the prospective-validation figures (None: skip them);
        with an ``independent`` folder beside it, also the pre-registered recovery-time table.

    Returns
    -------
    dict
        ``tables`` and ``figures`` (lists of written paths) and ``notes`` (what was skipped).

    Raises
    ------
    InputError
        A missing incident folder or published file, malformed incidents.
    """
    import matplotlib.pyplot as plt

    from .plots import save_figure

    tables, bts, demo, runs = _analyses(incidents, published, seed, n_boot)
    out: dict[str, Any] = {"tables": [], "figures": [], "notes": []}
    held_out = Path(prospective).parent / "independent" if prospective is not None else None
    if held_out is not None and held_out.is_dir():
        from .incidents import load_incidents

        name = Path(prospective).name
        tables.append(table_recovery_preregistered(
            {name: load_incidents(prospective), "independent": load_incidents(held_out)},
            train_cohort=name, seed=seed))
    elif prospective is not None:
        out["notes"].append(f"no held-out cohort beside {prospective}: "
                            "recovery_preregistered table skipped")
    for t in tables:
        out["tables"] += write_table(t, Path(output) / "tables")
    if figures:
        drawers, notes = paper_figures(bts, demo, runs, prospective, seed)
        out["notes"] += notes
        for name, draw in drawers.items():
            fig = draw()
            out["figures"] += save_figure(fig, name, Path(output) / "figures", formats=formats)
            plt.close(fig)
    return out

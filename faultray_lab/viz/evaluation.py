"""Evaluation figures: the backtest beside its baselines, downtime, recovery time, ordinal
severity and robustness.
"""

from __future__ import annotations

import math
from typing import Any

from ..evaluation.backtest import ENGINE
from ..evaluation.baselines import BASELINES
from ..evaluation.recovery.candidates import RECOVERY_METHODS
from ..evaluation.recovery.features import LOG_FLOOR_MINUTES
from .style import DOUBLE_COLUMN_IN, PALETTE, axes_for, paper_style

_BACKTEST_METRICS = (("precision", "precision"), ("recall", "recall"), ("f1", "F1"),
                     ("severity_accuracy", "severity\naccuracy"), ("confidence", "confidence"))


def plot_backtest(bt: Any, ax: Any = None) -> Any:
    """Per-incident backtest metrics of the engine beside each baseline, with 95% intervals.

    For each metric (precision, recall, F1, severity accuracy, confidence), one column per method
    (engine, all-components, root-only, reverse-reachable): small dots are the incidents, the
    large marker is the mean and the bar its bootstrap 95% interval.

    Parameters
    ----------
    bt : Backtest
        A :func:`faultray_lab.evaluation.backtest.backtest` result.
    ax : matplotlib Axes, optional

    Returns
    -------
    Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("agg")
    >>> from faultray_lab.evaluation.backtest import backtest
    >>> fig = plot_backtest(backtest("incidents/paper-18", n_boot=200))  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt
    import numpy as np

    methods = (ENGINE, *BASELINES)
    colors = [PALETTE[k] for k in ("blue", "orange", "purple", "green")]
    markers = ("o", "s", "v", "D")
    with plt.rc_context(paper_style()):
        fig, ax = axes_for(ax, "double", 2.6)
        frames = {ENGINE: bt.per_incident}
        for b in BASELINES:
            frames[b] = bt.baseline_incidents[bt.baseline_incidents["method"] == b]
        iv = bt.intervals.set_index(["method", "metric"])
        width = 0.8 / len(methods)
        for j, (method, color, marker) in enumerate(zip(methods, colors, markers, strict=True)):
            df = frames[method]
            df = df[df["severity_label"].notna()]
            for i, (col, _) in enumerate(_BACKTEST_METRICS):
                x = i - 0.4 + width * (j + 0.5)
                vals = df[col].to_numpy(dtype=float)
                if len(vals):  # deterministic spread of the incident dots
                    offs = np.linspace(-width * 0.3, width * 0.3, len(vals))
                    ax.scatter(x + offs, vals, s=4, color=color, alpha=0.35, linewidths=0)
                if (method, col) in iv.index:
                    r = iv.loc[(method, col)]
                    ax.errorbar([x], [r["estimate"]],
                                yerr=[[r["estimate"] - r["low"]], [r["high"] - r["estimate"]]],
                                fmt=marker, color=color, ms=4, capsize=2, lw=1,
                                label=method if i == 0 else None)
        ax.set_xticks(range(len(_BACKTEST_METRICS)), [lab for _, lab in _BACKTEST_METRICS])
        ax.set_ylim(-0.03, 1.05)
        ax.set_ylabel("score (per incident; mean, 95% CI)")
        ax.set_title(f"Backtest, {bt.summary['n']} incidents ({bt.rules}): engine vs baselines; "
                     f"F1 margin over {bt.best_baseline} {bt.margin:+.3f}")
        ax.legend(ncol=len(methods), loc="lower center", bbox_to_anchor=(0.5, -0.38),
                  frameon=False)
    return fig


def plot_downtime_error(bt: Any, ax: Any = None) -> Any:
    """Predicted against actual downtime per incident (log scale), engine and baselines.

    Shows why the published downtime MAE is large: the engine predicts minutes, outages last
    hours to days.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("agg")
    >>> from faultray_lab.evaluation.backtest import backtest
    >>> fig = plot_downtime_error(backtest("incidents/paper-18", n_boot=200))  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    with plt.rc_context(paper_style()):
        fig, ax = axes_for(ax)
        frames = [(ENGINE, bt.per_incident)] + [
            (b, bt.baseline_incidents[bt.baseline_incidents["method"] == b]) for b in BASELINES]
        colors = [PALETTE[k] for k in ("blue", "orange", "purple", "green")]
        lo, hi = 0.1, 10.0
        for (method, df), color in zip(frames, colors, strict=True):
            df = df[df["severity_label"].notna()]
            x = df["downtime_minutes"].astype(float).clip(lower=0.1)
            y = df["predicted_downtime_minutes"].astype(float).clip(lower=0.1)
            if len(x):
                lo, hi = min(lo, x.min(), y.min()), max(hi, x.max(), y.max())
            ax.scatter(x, y, s=8, color=color, label=method, alpha=0.8, linewidths=0)
        ax.plot([lo, hi], [lo, hi], color="#888888", lw=0.8, ls="--", label="perfect")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("actual downtime (min)")
        ax.set_ylabel("predicted downtime (min)")
        ax.legend(frameon=False, loc="upper left")
    return fig


def plot_recovery_loo(result: Any, ax: Any = None) -> Any:
    """Leave-one-out downtime predictions against the truth (log-log), one colour per method.

    ``result`` is a :class:`~faultray_lab.evaluation.recovery.candidates.RecoveryResult`;
    predictions below 1 minute are drawn at 1 minute.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("agg")
    >>> import pandas as pd
    >>> from faultray_lab.evaluation.recovery.candidates import recovery_time_loo
    >>> df = pd.DataFrame({"id": list("abcd"), "log10_affected": [0.0, 0.3, 0.6, 0.9],
    ...     "stateful_affected": [0, 0, 1, 1], "load_fault": [0] * 4,
    ...     "log10_max_replicas": [0.0] * 4, "propagation_minutes": [1.0] * 4,
    ...     "downtime_minutes": [10.0, 20.0, 400.0, 800.0]})
    >>> fig = plot_recovery_loo(recovery_time_loo(df))
    """
    import matplotlib.pyplot as plt

    with plt.rc_context(paper_style()):
        fig, ax = axes_for(ax)
        pred = result.predictions
        colors = [PALETTE[k] for k in ("blue", "sky", "green", "orange", "vermillion")]
        lo, hi = LOG_FLOOR_MINUTES, 10.0
        for method, color in zip(RECOVERY_METHODS, colors, strict=True):
            if not len(pred):
                break
            x = pred["downtime_minutes"].astype(float).clip(lower=LOG_FLOOR_MINUTES)
            y = pred[method].astype(float).clip(lower=LOG_FLOOR_MINUTES)
            lo, hi = min(lo, x.min(), y.min()), max(hi, x.max(), y.max())
            mae = result.metrics.loc[method, "mae_log10"]
            ax.scatter(x, y, s=9, color=color, alpha=0.85, linewidths=0,
                       label=f"{method} ({float(mae):.2f})")
        ax.plot([lo, hi], [lo, hi], color="#888888", lw=0.8, ls="--")
        ax.set_xscale("log")
        ax.set_yscale("log")
        # head room above the points for the legend (log scale: a factor, not an offset)
        ax.set_ylim(lo / 1.5, hi * 10 ** (0.2 + 0.12 * len(RECOVERY_METHODS) * math.log10(
            max(hi / lo, 10.0))))
        ax.set_xlabel("actual downtime (min)")
        ax.set_ylabel("predicted downtime, leave-one-out (min)")
        ax.legend(frameon=False, loc="upper left", title="method (MAE of log10 min)",
                  fontsize=6, title_fontsize=6)
    return fig


def plot_severity_confusion(result: Any, ax: Any = None) -> Any:
    """The confusion matrix of the leave-one-out ordinal severity classes.

    ``result`` is a :class:`~faultray_lab.evaluation.severity.SeverityResult`.
    """
    import matplotlib.pyplot as plt

    with plt.rc_context(paper_style()):
        fig, ax = axes_for(ax, height=2.4)
        cm = result.confusion
        if cm.size:
            ax.imshow(cm.to_numpy(), cmap="Blues")
            values = cm.to_numpy()
            for i in range(values.shape[0]):
                for j in range(values.shape[1]):
                    ax.text(j, i, str(int(values[i, j])), ha="center", va="center", fontsize=7)
            ax.set_xticks(range(len(cm.columns)), list(cm.columns))
            ax.set_yticks(range(len(cm.index)), list(cm.index))
        ax.set_xlabel("predicted class (leave-one-out thresholds)")
        ax.set_ylabel("true class")
    return fig


def plot_robustness(frame: Any, axes: Any = None) -> Any:
    """F1 against the perturbation rate, one panel per perturbation kind, with 95% intervals.

    ``frame`` is the output of :func:`~faultray_lab.evaluation.robustness.robustness`; each
    cohort and method is one line (engine solid, baselines dashed).
    """
    import matplotlib.pyplot as plt

    kinds = list(dict.fromkeys(frame["kind"])) if len(frame) else ["(none)"]
    with plt.rc_context(paper_style()):
        if axes is None:
            fig, axes = plt.subplots(1, len(kinds), figsize=(DOUBLE_COLUMN_IN, 2.3),
                                     sharey=True, squeeze=False)
            axes = axes[0]
        else:
            fig = axes[0].figure
        colors = [PALETTE[k] for k in ("blue", "orange", "purple", "green", "vermillion",
                                       "sky", "black")]
        groups = list(dict.fromkeys(zip(frame["cohort"], frame["method"], strict=True)))
        for ax, kind in zip(axes, kinds, strict=False):
            sub = frame[frame["kind"] == kind]
            for k, (cohort, method) in enumerate(groups):
                g = sub[(sub["cohort"] == cohort) & (sub["method"] == method)].sort_values("rate")
                if not len(g):
                    continue
                color = colors[k % len(colors)]
                ax.plot(g["rate"], g["f1"], color=color, lw=1.0, marker="o", ms=2.5,
                        ls="-" if method == "engine" else "--", label=f"{cohort}: {method}")
                ax.fill_between(g["rate"], g["low"], g["high"], color=color, alpha=0.15,
                                linewidth=0)
            ax.set_title(kind)
            ax.set_xlabel("perturbation rate r")
        axes[0].set_ylabel("F1")
        axes[0].set_ylim(0, 1.02)
        axes[-1].legend(frameon=False, fontsize=5, loc="lower left")
    return fig



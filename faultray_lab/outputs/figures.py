"""The figures registry: every figure of the paper, by name, in one place.

Each :class:`FigureSpec` names a figure, the function that draws it from data (in
:mod:`faultray_lab.viz`) and how the paper computes that data (from
:class:`~faultray_lab.outputs.analyses.PaperInputs`). :func:`save` is the only code that writes
a file under ``paper/figures``: notebooks call it with their own (parameterized) data,
``faultray-lab figures`` with the paper's (:func:`save_paper_figures`).

To add a figure: write its ``plot_*`` function in :mod:`faultray_lab.viz`, then add one
:class:`FigureSpec` to :data:`FIGURES`.

Examples
--------
>>> import matplotlib, tempfile
>>> matplotlib.use("agg")
>>> from faultray_lab.outputs.analyses import PaperInputs
>>> paths = save("cascade_demo", *FIGURES["cascade_demo"].paper_data(PaperInputs()),
...              output_dir=tempfile.mkdtemp(), formats=("svg",))
>>> [p.name for p in paths]
['cascade_demo.svg']
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..common.errors import InputError
from ..common.suggest import suggest
from .analyses import PaperInputs

FIGURE_FORMATS = ("pdf", "png", "svg")
DEFAULT_OUTPUT = "paper/figures"


@dataclass(frozen=True)
class FigureSpec:
    """One figure: its name, the ``plot`` function (data -> Figure), the paper's data for it
    (``paper_data(inputs) -> tuple of arguments``, None when the inputs lack it) and a caption."""

    name: str
    plot: Callable[..., Any]
    paper_data: Callable[[PaperInputs], tuple[Any, ...] | None]
    caption: str


def _lazy(module: str, name: str) -> Callable[..., Any]:
    """A plot function imported when first called (matplotlib loads only when drawing)."""
    def call(*args: Any, **kwargs: Any) -> Any:
        import importlib

        return getattr(importlib.import_module(module, __package__), name)(*args, **kwargs)
    call.__name__ = name
    return call


def _demo_cascade(a: PaperInputs) -> tuple[Any, ...]:
    from ..engine.cascade import simulate_fault

    return a.demo, simulate_fault(a.demo, "postgres")


def _demo_sweep(a: PaperInputs) -> tuple[Any, ...]:
    from ..scenarios.sweep import run_sweep

    return (run_sweep(a.demo, rules="faultray-v11", progress=False),)


def _demo_layers(a: PaperInputs) -> tuple[Any, ...]:
    from ..availability.layers import availability_layers

    return (availability_layers(a.demo),)


def _common_cause(a: PaperInputs) -> tuple[Any, ...]:
    from ..availability.system import (
        SHARED_NETWORK_BETAS,
        common_cause_sweep,
        shared_network_example,
    )

    shared, members, replica = shared_network_example()
    return (common_cause_sweep(shared, members, SHARED_NETWORK_BETAS, trials=200_000,
                               seed=a.seed, availability=replica),)


def _dsb(a: PaperInputs) -> tuple[Any, ...]:
    from ..availability.failstop import reproduce_dsb

    return (reproduce_dsb(trials=200_000, seed=a.seed),)


def _recovery(a: PaperInputs) -> tuple[Any, ...] | None:
    from ..evaluation.recovery.candidates import recovery_time_loo

    return None if a.prospective is None else (
        recovery_time_loo(a.prospective, rules="faultray-v11"),)


def _severity(a: PaperInputs) -> tuple[Any, ...] | None:
    from ..evaluation.severity import severity_ordinal_loo

    return None if a.prospective is None else (
        severity_ordinal_loo(a.prospective, rules="faultray-v11"),)


def _robustness(a: PaperInputs) -> tuple[Any, ...] | None:
    from ..evaluation.robustness import robustness

    return None if a.prospective is None else (
        robustness(a.prospective, rules="faultray-v11", n_draws=10, seed=a.seed, n_boot=500),)


#: Every figure of the paper, in the order ``faultray-lab figures`` writes them.
FIGURES: Mapping[str, FigureSpec] = MappingProxyType({f.name: f for f in (
    FigureSpec("cascade_demo", _lazy("..viz.cascade", "plot_cascade"), _demo_cascade,
               "postgres down on the demo topology (cps)"),
    FigureSpec("what_if_demo", _lazy("..viz.cascade", "plot_what_if"),
               lambda a: ([a.what_if["postgres x2"], a.what_if["breaker app-1 -> postgres"]],),
               "what-ifs on the demo: a second postgres replica; a breaker on app-1 -> postgres"),
    FigureSpec("backtest_metrics", _lazy("..viz.evaluation", "plot_backtest"),
               lambda a: (a.backtests["faultray-v11"],),
               "the published backtest reproduced, beside the baselines"),
    FigureSpec("backtest_downtime", _lazy("..viz.evaluation", "plot_downtime_error"),
               lambda a: (a.backtests["faultray-v11"],),
               "predicted against actual downtime"),
    FigureSpec("availability_layers", _lazy("..viz.availability", "plot_availability_layers"),
               _demo_layers, "the demo's five availability layers"),
    FigureSpec("risk_distribution", _lazy("..viz.sweep", "plot_risk_distribution"),
               _demo_sweep, "risk of the demo's default scenarios (faultray-v11)"),
    FigureSpec("availability_common_cause", _lazy("..viz.availability", "plot_common_cause"),
               _common_cause, "system availability against the common-cause fraction"),
    FigureSpec("dsb_reproduction", _lazy("..viz.availability", "plot_dsb_reproduction"), _dsb,
               "the DeathStarBench fail-stop table, re-run"),
    FigureSpec("prospective_recovery", _lazy("..viz.evaluation", "plot_recovery_loo"),
               _recovery, "recovery time under leave-one-out"),
    FigureSpec("prospective_severity", _lazy("..viz.evaluation", "plot_severity_confusion"),
               _severity, "ordinal severity under leave-one-out"),
    FigureSpec("prospective_robustness", _lazy("..viz.evaluation", "plot_robustness"),
               _robustness, "F1 under perturbed topologies"),
)})


def save(name: str, *data: Any, output_dir: str | os.PathLike[str] = DEFAULT_OUTPUT,
         formats: Sequence[str] = FIGURE_FORMATS) -> list[Path]:
    """Draw the registered figure ``name`` from ``data`` and write it in each format.

    Parameters
    ----------
    name : str
        A key of :data:`FIGURES`.
    *data
        The arguments of the figure's ``plot`` function.
    output_dir : path
        Folder of the files ``<name>.<format>`` (created if missing).
    formats : sequence of str
        Any of ``pdf``, ``png`` and ``svg``.

    Returns
    -------
    list of Path
        The files written (deterministic bytes, written atomically).
    """
    import matplotlib.pyplot as plt

    from ..viz.style import save_figure

    spec = FIGURES.get(name)
    if spec is None:
        raise InputError(None, "figure", f"no figure named '{name}'", suggest(name, FIGURES))
    for fmt in formats:
        if fmt not in FIGURE_FORMATS:
            raise InputError(None, "formats", f"unknown figure format '{fmt}'",
                             suggest(fmt, FIGURE_FORMATS))
    fig = spec.plot(*data)
    try:
        return save_figure(fig, name, output_dir, formats=formats)
    finally:
        plt.close(fig)


def save_paper_figures(inputs: PaperInputs, output_dir: str | os.PathLike[str],
                       formats: Sequence[str] = FIGURE_FORMATS) -> tuple[list[Path], list[str]]:
    """Every registered figure drawn from the paper's data; returns the files and notes on
    figures skipped (their data is missing, e.g. no prospective cohort)."""
    paths: list[Path] = []
    skipped = []
    for name, spec in FIGURES.items():
        data = spec.paper_data(inputs)
        if data is None:
            skipped.append(name)
            continue
        paths += save(name, *data, output_dir=output_dir, formats=formats)
    notes = [f"{', '.join(skipped)} skipped: no incident folder {inputs.prospective_path}"
             ] if skipped else []
    return paths, notes

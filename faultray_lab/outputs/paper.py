"""The paper's figures and tables, regenerated from the data files with one call.

:func:`build_paper` (``faultray-lab figures``) runs every analysis the reproduction report
shows (:class:`~faultray_lab.outputs.analyses.PaperInputs`) and writes each table as LaTeX (a
booktabs ``tabular`` for ``\\input``) and CSV under ``<output>/tables`` and each registered
figure (:mod:`faultray_lab.outputs.figures`) as PDF, PNG and SVG under ``<output>/figures``:

* the published 18-incident backtest, reproduced with ``faultray-v11`` and rerun with ``cps``,
  beside the published values and the trivial baselines, with bootstrap 95% intervals;
* the demo topology's default scenario sweep and resilience score, beside the reference's
  published demo output, and its five availability layers;
* a scripted what-if sequence on the demo (a replica on postgres, a breaker on app-1 -> postgres);
* the prospective-validation figures on ``incidents/remodeled-18`` and the pre-registered
  recovery-time table (with the held-out ``incidents/independent``).

Outputs are byte-deterministic (seeded bootstrap, fixed number formats, figures without
timestamps), so regenerating them does not churn git; a test regenerates the tables and
compares them with the committed ones.

Examples
--------
>>> import tempfile
>>> written = build_paper(tempfile.mkdtemp(), figures=False, n_boot=200)  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .analyses import DEFAULT_INCIDENTS, DEFAULT_PROSPECTIVE, DEFAULT_PUBLISHED, PaperInputs
from .figures import FIGURE_FORMATS, save_paper_figures
from .tables import (
    PaperTable,
    table_availability,
    table_backtest_baselines,
    table_backtest_incidents,
    table_backtest_reproduced,
    table_demo_sweep,
    table_recovery_preregistered,
    table_what_if,
    write_table,
)


def paper_tables(inputs: PaperInputs) -> tuple[list[PaperTable], list[str]]:
    """Every table of the paper from ``inputs`` (nothing is written), and notes on tables
    skipped."""
    bts = inputs.backtests
    tables = [table_backtest_reproduced(bts, inputs.published), table_backtest_baselines(bts),
              table_backtest_incidents(bts["faultray-v11"]), table_demo_sweep(inputs.demo),
              table_availability(inputs.demo), table_what_if(inputs.what_if)]
    notes = []
    cohorts = inputs.recovery_cohorts
    if cohorts is not None:
        tables.append(table_recovery_preregistered(
            cohorts, train_cohort=Path(inputs.prospective_path).name,  # type: ignore[arg-type]
            seed=inputs.seed))
    elif inputs.prospective_path is not None:
        notes.append(f"no held-out cohort beside {inputs.prospective_path}: "
                     "recovery_preregistered table skipped")
    return tables, notes


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
    inputs = PaperInputs(incidents, published, prospective, seed=seed, n_boot=n_boot)
    tables, notes = paper_tables(inputs)
    out: dict[str, Any] = {"tables": [], "figures": [], "notes": notes}
    for t in tables:
        out["tables"] += write_table(t, Path(output) / "tables")
    if figures:
        paths, fig_notes = save_paper_figures(inputs, Path(output) / "figures", formats)
        out["figures"] += paths
        out["notes"] += fig_notes
    return out

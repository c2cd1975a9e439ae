"""The analyses behind the paper's figures and tables, each run once on first use.

Every number in the paper comes from running the engine on the data files through one
:class:`PaperInputs`; the figures registry (:mod:`faultray_lab.outputs.figures`) and the tables
(:mod:`faultray_lab.outputs.tables`) read their data from it.

Examples
--------
>>> runs = what_if_sequence(PaperInputs().demo)
>>> [len(r.down) for r in runs.values()]
[6, 1, 5, 1]
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Any

from ..common.errors import InputError
from ..common.files import package_data
from ..evaluation.backtest import backtest
from ..evaluation.incidents import Incident, load_incidents
from ..evaluation.published import load_published
from ..importers.native import load_topology
from ..model.topology import Topology
from ..scenarios.whatif import evaluate

DEFAULT_INCIDENTS = "incidents/paper-18"
DEFAULT_PROSPECTIVE = "incidents/remodeled-18"
DEFAULT_PUBLISHED = "incidents/paper-18-published.json"
#: The held-out cohort of the pre-registered recovery-time study, beside the prospective one.
HELD_OUT_COHORT = "independent"


def what_if_sequence(topology: Topology) -> dict[str, Any]:
    """The scripted what-ifs of the what-if notebook: postgres down (cps), then a second
    postgres replica, a breaker on app-1 -> postgres, and both."""
    return {
        "baseline": evaluate(topology, "postgres"),
        "postgres x2": evaluate(topology, "postgres", replicas={"postgres": 2}),
        "breaker app-1 -> postgres": evaluate(topology, "postgres",
                                              breakers={("app-1", "postgres"): True}),
        "both": evaluate(topology, "postgres", replicas={"postgres": 2},
                         breakers={("app-1", "postgres"): True}),
    }


class PaperInputs:
    """The data of the paper: the backtests, the demo topology and its what-ifs, the
    prospective cohorts, the published values; each computed once, when first used.

    Parameters
    ----------
    incidents : path
        The incident folder of the backtest (default ``incidents/paper-18``).
    published : path or None
        The published backtest file compared against (None: no published column).
    prospective : path or None
        The remodeled cohort of the prospective-validation figures (None: skip them); a
        held-out ``independent`` folder beside it adds the pre-registered recovery table.
    seed, n_boot : int
        Bootstrap seed and resamples.
    """

    def __init__(self, incidents: str | os.PathLike[str] = DEFAULT_INCIDENTS,
                 published: str | os.PathLike[str] | None = DEFAULT_PUBLISHED,
                 prospective: str | os.PathLike[str] | None = DEFAULT_PROSPECTIVE,
                 seed: int = 0, n_boot: int = 2000) -> None:
        self.incidents_path = incidents
        self.published_path = published
        self.prospective_path = prospective
        self.seed = seed
        self.n_boot = n_boot

    @cached_property
    def demo(self) -> Topology:
        """The demo topology shipped with the package."""
        return load_topology(package_data("demo.yaml"))

    @cached_property
    def backtests(self) -> dict[str, Any]:
        """The backtest of the incident folder under ``faultray-v11`` and ``cps``."""
        if not Path(self.incidents_path).exists():
            raise InputError(str(self.incidents_path), None, "incident folder not found",
                             "run from the repository root or pass --incidents (default "
                             f"{DEFAULT_INCIDENTS})")
        inc = load_incidents(self.incidents_path)
        return {rules: backtest(inc, rules=rules, seed=self.seed, n_boot=self.n_boot)
                for rules in ("faultray-v11", "cps")}

    @cached_property
    def published(self) -> dict[str, float] | None:
        """The published backtest summary, or None."""
        if self.published_path is None:
            return None
        return load_published(self.published_path)[0]

    @cached_property
    def what_if(self) -> dict[str, Any]:
        """:func:`what_if_sequence` on the demo."""
        return what_if_sequence(self.demo)

    @cached_property
    def prospective(self) -> list[Incident] | None:
        """The prospective cohort's incidents, or None when there is no such folder."""
        p = self.prospective_path
        return load_incidents(p) if p is not None and Path(p).is_dir() else None

    @cached_property
    def recovery_cohorts(self) -> dict[str, list[Incident]] | None:
        """The prospective cohort and the held-out cohort beside it, or None."""
        if self.prospective is None:
            return None
        held_out = Path(self.prospective_path).parent / HELD_OUT_COHORT  # type: ignore[arg-type]
        if not held_out.is_dir():
            return None
        return {Path(self.prospective_path).name: self.prospective,  # type: ignore[arg-type]
                HELD_OUT_COHORT: load_incidents(held_out)}

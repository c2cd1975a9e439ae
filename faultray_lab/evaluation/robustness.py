"""Robustness of a backtest to errors in the topologies: perturb them and score again.

Examples
--------
>>> import numpy as np
>>> from faultray_lab.model.topology import Component, Dependency, Topology
>>> t = Topology((Component("a"), Component("b")), (Dependency("a", "b"),))
>>> len(perturb_topology(t, "drop-edges", 1.0, np.random.default_rng(0)).dependencies)
0
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from ..common.errors import InputError
from ..common.suggest import suggest
from ..common.validate import check_count
from ..engine.rules import RuleSet
from ..model.topology import Dependency, Topology
from .backtest import backtest
from .baselines import BASELINES
from .incidents import Incident

# ---------------------------------------------------------------------------------------------
PERTURBATIONS = ("drop-edges", "add-edges", "replicas")


def perturb_topology(topology: Topology, kind: str, rate: float,
                     rng: np.random.Generator) -> Topology:
    """A perturbed copy of a topology.

    ``drop-edges``: every edge is removed with probability ``rate``; ``add-edges``:
    ``round(rate * |E|)`` (at least 1 when ``rate > 0``) new ``requires`` edges between random
    distinct unconnected pairs; ``replicas``: every component's replicas is redrawn from
    {1, 2, 3} with probability ``rate``. Components are kept, so truth ids stay valid.

    Examples
    --------
    >>> from faultray_lab.model.topology import Component
    >>> t = Topology((Component("a"), Component("b")), (Dependency("a", "b"),))
    >>> len(perturb_topology(t, "replicas", 0.0, np.random.default_rng(0)).dependencies)
    1
    """
    if not (isinstance(rate, int | float) and 0.0 <= rate <= 1.0):
        raise InputError(None, "rate", f"rate must be in [0, 1], not {rate!r}",
                         "use a share such as 0.1")
    deps = list(topology.dependencies)
    comps = list(topology.components)
    if kind == "drop-edges":
        keep = rng.random(len(deps)) >= rate
        deps = [d for d, k in zip(deps, keep, strict=True) if k]
    elif kind == "add-edges":
        n_add = int(round(rate * len(deps)))
        if rate > 0:
            n_add = max(1, n_add)
        present = {(d.source, d.target) for d in deps}
        ids = topology.ids
        candidates = [(a, b) for a in ids for b in ids if a != b and (a, b) not in present]
        if candidates and n_add:
            pick = rng.choice(len(candidates), size=min(n_add, len(candidates)), replace=False)
            deps += [Dependency(*candidates[int(i)], type="requires") for i in sorted(pick)]
    elif kind == "replicas":
        redraw = rng.random(len(comps)) < rate
        new = rng.integers(1, 4, size=len(comps))
        comps = [replace(c, replicas=int(r)) if f else c
                 for c, f, r in zip(comps, redraw, new, strict=True)]
    else:
        raise InputError(None, "kind", f"unknown perturbation {kind!r}",
                         suggest(kind, PERTURBATIONS))
    return Topology(tuple(comps), tuple(deps), topology.source)


def robustness(
    incidents: Sequence[Incident],
    rates: Sequence[float] = (0.0, 0.1, 0.2, 0.3),
    kinds: Sequence[str] = PERTURBATIONS,
    n_draws: int = 10,
    rules: str | RuleSet = "faultray-v11",
    seed: int = 0,
    n_boot: int = 1000,
) -> pd.DataFrame:
    """F1 of the engine and the baselines on perturbed topologies, per cohort, kind and rate.

    For each draw every incident's topology is perturbed (:func:`perturb_topology`) and the
    backtest is rerun; a method's per-incident F1 is averaged over the draws, and the interval
    is a seeded percentile bootstrap (95%) over incidents of that average.

    Returns
    -------
    DataFrame
        ``cohort``, ``kind``, ``rate``, ``method`` (``engine`` and each baseline), ``f1``,
        ``low``, ``high``, ``n`` (incidents), ``draws``.
    """
    scored = [inc for inc in incidents if inc.truth is not None]
    cols = ["cohort", "kind", "rate", "method", "f1", "low", "high", "n", "draws"]
    if not scored:
        return pd.DataFrame(columns=cols)
    check_count(n_draws, "n_draws", high=10_000, fix="use e.g. 10")
    cohorts = sorted({inc.cohort for inc in scored})
    methods = ("engine", *BASELINES)
    out = []
    for ci, cohort in enumerate(cohorts):
        group = [inc for inc in scored if inc.cohort == cohort]
        for ki, kind in enumerate(kinds):
            for ri, rate in enumerate(rates):
                f1 = {m: np.zeros((n_draws, len(group))) for m in methods}
                draws = 1 if rate == 0 else n_draws
                for d in range(draws):
                    rng = np.random.default_rng([seed, ci, ki, ri, d])
                    pert = [replace(inc, topology=perturb_topology(inc.topology, kind, rate, rng))
                            for inc in group]
                    bt = backtest(pert, rules=rules, n_boot=1)
                    f1["engine"][d] = bt.per_incident["f1"].to_numpy(float)
                    for b in BASELINES:
                        sel = bt.baseline_incidents[bt.baseline_incidents["method"] == b]
                        f1[b][d] = sel["f1"].to_numpy(float)
                boot_rng = np.random.default_rng([seed, ci, ki, ri, 10**6])
                idx = boot_rng.integers(0, len(group), size=(n_boot, len(group)))
                for m in methods:
                    per_inc = f1[m][:draws].mean(axis=0)
                    lo, hi = np.percentile(per_inc[idx].mean(axis=1), [2.5, 97.5])
                    out.append((cohort, kind, float(rate), m, float(per_inc.mean()), float(lo),
                                float(hi), len(group), draws))
    return pd.DataFrame(out, columns=cols)

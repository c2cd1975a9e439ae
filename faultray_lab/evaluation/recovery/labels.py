"""Blinded recovery-mechanism labels: reading them, agreement between labellers, sensitivity
of the endpoints to close calls, and a permutation test.

Examples
--------
>>> label_agreement({"a": "revert", "b": "restore"}, {"a": "revert", "b": "restart"})["agreement"]
0.5
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ...common.errors import InputError
from ...engine.rules import RuleSet
from ..incidents import RECOVERY_RANK, Incident
from .candidates import (
    RECOVERY_METHODS,
    candidate_loo,
    candidates_named,
    recovery_evaluation,
)
from .features import recovery_table
from .models import declared_ranks, downtime_errors


def read_labels(path: str | os.PathLike[str], column: str = "recovery") -> dict[str, str]:
    r"""One column of a labels file (incidents/recovery-labels.csv) by incident id, empty cells
    skipped: ``recovery`` (default) the labels used, ``alternative`` the labellers' named
    alternatives for close calls (for :func:`label_sensitivity`), ``second_labeller`` the
    second labeller's labels (for :func:`label_agreement`).

    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "labels.csv"
    >>> _ = f.write_text("id,recovery,alternative,reason\na,revert,restart,x\nb,restore,,y\n")
    >>> read_labels(f)
    {'a': 'revert', 'b': 'restore'}
    >>> read_labels(f, "alternative")
    {'a': 'restart'}
    """
    import csv

    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except FileNotFoundError:
        raise InputError(str(path), None, "no such labels file",
                         "pass incidents/recovery-labels.csv") from None
    if rows and not {"id", column} <= set(rows[0]):
        raise InputError(str(path), "header", f"columns 'id' and {column!r} are required",
                         "write a header id,recovery,alternative,reason")
    return {r["id"]: r[column].strip() for r in rows if (r[column] or "").strip()}


def mechanism_permutation_test(
    cohorts: Mapping[str, Sequence[Incident] | pd.DataFrame],
    n_perm: int = 1000,
    seed: int = 0,
    rules: str | RuleSet = "faultray-v11",
    progress: bool | None = None,
) -> dict[str, float]:
    """Do the declared mechanisms carry information? A permutation test of the pooled
    leave-one-out error of the default model.

    The declared ranks are shuffled across the pooled incidents (``n_perm`` seeded shuffles, the
    downtimes and everything else kept), and the pooled leave-one-out mean absolute log10 error
    of :func:`mechanism_lad_predict` is recomputed each time. ``p_value`` is the share of
    shuffles at least as good as the labels as given, counted as ``(k + 1) / (n_perm + 1)``.
    Returns ``observed``, ``null_median``, ``null_low`` and ``null_high`` (2.5% and 97.5%
    quantiles), ``p_value`` and ``n_perm``. ``progress``: a tqdm bar (None: only on a terminal).

    Examples
    --------
    >>> df = pd.DataFrame({"id": list("abcdefgh"), "recovery_rank": [1, 1, 2, 2, 4, 4, 5, 5],
    ...     "propagation_minutes": [1.0] * 8,
    ...     "downtime_minutes": [10.0, 12, 60, 50, 2000, 2500, 9000, 8000]})
    >>> r = mechanism_permutation_test({"toy": df}, n_perm=50)
    >>> r["observed"] < r["null_low"], round(r["p_value"], 3)
    (True, 0.02)
    """
    from tqdm.auto import tqdm

    if not (isinstance(n_perm, int) and n_perm >= 1):
        raise InputError(None, "n_perm", f"n_perm must be an integer >= 1, not {n_perm!r}",
                         "use e.g. 1000")
    tables = [(incs if isinstance(incs, pd.DataFrame) else recovery_table(incs, rules))
              for incs in cohorts.values()]
    df = pd.concat(tables, ignore_index=True)
    df = df[df["downtime_minutes"].notna()].reset_index(drop=True)
    model = candidates_named(RECOVERY_METHODS[0])

    def pooled_error(table: pd.DataFrame) -> float:
        pred = candidate_loo(table, model)
        return downtime_errors(pred[model[0].name], pred["downtime_minutes"])["mae_log10"]

    observed = pooled_error(df)
    ranks = declared_ranks(df)
    rng = np.random.default_rng(seed)
    null = np.empty(n_perm)
    for k in tqdm(range(n_perm), desc="permutations", disable=None if progress is None
                  else not progress):
        null[k] = pooled_error(df.assign(recovery_rank=rng.permutation(ranks)))
    return {"observed": float(observed), "null_median": float(np.median(null)),
            "null_low": float(np.quantile(null, 0.025)),
            "null_high": float(np.quantile(null, 0.975)),
            "p_value": float((np.sum(null <= observed) + 1) / (n_perm + 1)), "n_perm": n_perm}


def label_agreement(first: Mapping[str, str], second: Mapping[str, str]) -> dict[str, float]:
    """Agreement of two labellers on the incidents both labelled: share of equal labels,
    Cohen's kappa and the linearly weighted kappa on the mechanisms' ranks (disagreeing by one
    rank costs less than by four).

    Examples
    --------
    >>> a = {"x": "revert", "y": "restart", "z": "replace", "w": "revert"}
    >>> b = {"x": "revert", "y": "restore", "z": "replace", "w": "revert"}
    >>> r = label_agreement(a, b)
    >>> r["n"], r["agreement"], round(r["kappa"], 3), round(r["weighted_kappa"], 3)
    (4, 0.75, 0.636, 0.867)
    """
    from ..incidents import RECOVERY_MECHANISMS
    from ..metrics import cohen_kappa

    return cohen_kappa(first, second, tuple(RECOVERY_MECHANISMS), what="mechanisms")


def label_sensitivity(
    cohorts: Mapping[str, Sequence[Incident] | pd.DataFrame],
    alternatives: Mapping[str, str],
    train_cohort: str | None = None,
    rules: str | RuleSet = "faultray-v11",
) -> pd.DataFrame:
    """How the declared-mechanism model's endpoints move when close-call labels change.

    ``alternatives`` maps incident ids to the mechanism a labeller named as the other plausible
    choice (``incidents/recovery-labels.csv``, column ``alternative``). One row for the labels
    as given, one per single switch and one with every switch at once; columns: ``switched``,
    then the mean absolute log10 error of the model per endpoint of
    :func:`recovery_evaluation` and, for reference, the constant median's.

    Examples
    --------
    >>> df = pd.DataFrame({"id": list("abcdef"), "recovery_rank": [1, 5, 1, 5, 1, 5],
    ...     "propagation_minutes": [1.0] * 6,
    ...     "downtime_minutes": [10.0, 2000.0, 20.0, 5000.0, 15.0, 3000.0]})
    >>> t = label_sensitivity({"a": df}, {"b": "revert", "c": "replace"})
    >>> t["switched"].tolist()
    ['(labels as given)', 'b -> revert', 'c -> replace', '(all switches)']
    >>> bool(t.loc[0, "pooled LOO"] < t.loc[3, "pooled LOO"])
    True
    """
    from ..incidents import RECOVERY_MECHANISMS

    tables = {name: (incs if isinstance(incs, pd.DataFrame) else recovery_table(incs, rules))
              for name, incs in cohorts.items()}
    known = set().union(*(set(t["id"]) for t in tables.values()))
    for iid, mech in alternatives.items():
        if iid not in known:
            raise InputError(None, f"alternatives[{iid!r}]", "unknown incident id",
                             "use ids of the cohorts given")
        if mech not in RECOVERY_MECHANISMS:
            raise InputError(None, f"alternatives[{iid!r}]", f"unknown mechanism {mech!r}",
                             f"use one of {', '.join(RECOVERY_MECHANISMS)}")
    keep = candidates_named("constant median", RECOVERY_METHODS[0])

    def switched(switches: Mapping[str, str]) -> dict[str, pd.DataFrame]:
        out = {}
        for name, t in tables.items():
            t = t.copy()
            for iid, mech in switches.items():
                hit = t["id"] == iid
                t.loc[hit, "recovery_rank"] = RECOVERY_RANK[mech]
                t.loc[hit, "recovery_mechanism"] = mech
            out[name] = t
        return out

    runs = [("(labels as given)", {})]
    runs += [(f"{iid} -> {mech}", {iid: mech}) for iid, mech in alternatives.items()]
    if len(alternatives) > 1:
        runs.append(("(all switches)", dict(alternatives)))
    rows = []
    for label, switches in runs:
        ev = recovery_evaluation(switched(switches), train_cohort=train_cohort, rules=rules,
                                 candidates=keep, n_boot=1)
        err = ev.set_index(["endpoint", "candidate"])["mae_log10"]
        row: dict[str, Any] = {"switched": label}
        for endpoint in dict.fromkeys(ev["endpoint"]):
            row[endpoint] = float(err[(endpoint, RECOVERY_METHODS[0])])
            row[f"{endpoint} (median)"] = float(err[(endpoint, "constant median")])
        rows.append(row)
    return pd.DataFrame(rows)

"""The published values a reproduction is compared against, and the comparison.

Published numbers are never computed with: they appear only beside the reproduced ones.

Examples
--------
>>> matches_published(0.74333, 0.743), matches_published(0.7446, 0.743)
(True, False)
>>> PUBLISHED_DEMO["critical"]
21
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from ..common.errors import InputError
from ..common.parsing import parse_json, read_text
from .metrics import SUMMARY_METRICS

#: The reference's published demo output (the seed article; docs: semantics 2.5 and 2.6).
PUBLISHED_DEMO = {"scenarios": 255, "critical": 21, "warning": 84, "passed": 150,
                  "resilience_score": 50.0}
#: The reference's availability layers of the demo (docs: semantics 4).
PUBLISHED_LAYERS = {"software": 0.99840875, "hardware": 0.99890197, "theoretical": 0.99880208,
                    "operational": 0.99947603, "external": 1.0, "ceiling": 0.99840875,
                    "floor": 0.99559583}

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
    name = os.fspath(path)
    data = parse_json(read_text(name), name)
    try:
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


def compare_published(bt: Any, published: pd.DataFrame) -> pd.DataFrame:
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

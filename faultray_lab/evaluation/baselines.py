"""Trivial baselines every backtest scores beside the engine: a registry.

A baseline predicts a set of component ids for an incident, every member down and nothing
timed; it is scored with the engine's metrics (severity by the severity formula of that set with
the fault's likelihood, downtime 5 minutes per component, the published rule for effects
without a time). To add one, add a :class:`Baseline` to :data:`BASELINES`; the backtest, the
prospective score, their intervals, tables and figures pick it up.

Examples
--------
>>> from faultray_lab.evaluation.incidents import Fault, Incident
>>> from faultray_lab.model.schema import topology_from_dict
>>> t = topology_from_dict({"components": [{"id": "a"}, {"id": "b"}, {"id": "c"}],
...                         "dependencies": [{"source": "b", "target": "a"}]})
>>> baseline_prediction(Incident("x", t, Fault("a")), "reverse-reachable")
['a', 'b']
>>> list(BASELINES)
['all-components', 'root-only', 'reverse-reachable']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ..common.errors import InputError
from ..common.suggest import suggest
from ..engine.faults import fault_likelihood
from ..engine.severity import severity_from_counts
from .incidents import Incident
from .metrics import score_prediction


@dataclass(frozen=True)
class Baseline:
    """A named rule that predicts the affected component ids of an incident."""

    name: str
    predict: Callable[[Incident], list[str]]
    doc: str = ""


#: The baselines, in the order tables show them (ties for "best" go to the earlier one).
BASELINES: Mapping[str, Baseline] = MappingProxyType({b.name: b for b in (
    Baseline("all-components", lambda inc: list(inc.topology.ids),
             "every component of the topology"),
    Baseline("root-only", lambda inc: [inc.fault.component], "the failed component alone"),
    Baseline("reverse-reachable",
             lambda inc: inc.topology.reverse_reachable(inc.fault.component),
             "everything with a dependency path to the failed component (reverse BFS)"),
)})


def baseline_prediction(incident: Incident, name: str) -> list[str]:
    """The component ids the baseline ``name`` predicts for an incident."""
    b = BASELINES.get(name)
    if b is None:
        raise InputError(None, "baseline", f"unknown baseline '{name}'",
                         suggest(name, list(BASELINES)))
    return b.predict(incident)


def baseline_row(incident: Incident, name: str, severity_map: Any) -> dict[str, Any]:
    """One per-incident row of a baseline (the backtest's columns, plus ``method``)."""
    pred = baseline_prediction(incident, name)
    comp = incident.topology.component(incident.fault.component)
    like = fault_likelihood(comp, incident.fault.type)
    sev = severity_from_counts(len(pred), 0, 0, len(incident.topology), like)
    row = score_prediction(pred, pred, sev, 5.0 * len(pred), incident.truth, severity_map)
    return {"method": name, "id": incident.id, **row}

"""The engine's prediction for an incident, in the form the ledger registers and scores.

Examples
--------
>>> from faultray_lab.evaluation.incidents import Fault, Incident
>>> from faultray_lab.model.schema import topology_from_dict
>>> t = topology_from_dict({"components": [{"id": "a"}, {"id": "b"}],
...                         "dependencies": [{"source": "b", "target": "a"}]})
>>> predict_incident(Incident("x", t, Fault("a")))["affected"]
['a', 'b']
"""

from __future__ import annotations

from typing import Any

from ..engine.cascade import simulate_fault
from ..engine.rules import RuleSet
from .incidents import Incident
from .metrics import predicted_downtime_minutes


def predict_incident(incident: Incident, rules: str | RuleSet = "faultray-v11",
                     max_depth: int = 20, multiplier: float = 10.0) -> dict[str, Any]:
    """The engine's prediction for one incident, as registered in the ledger.

    Returns ``affected`` and ``down`` (sorted ids), ``severity`` (0-10) and ``downtime_minutes``
    (the published propagation-time estimate).
    """
    c = simulate_fault(incident.topology, incident.fault.component, incident.fault.type,
                       rules=rules, max_depth=max_depth, multiplier=multiplier)
    return {"affected": sorted(c.affected), "down": sorted(c.down),
            "severity": float(c.severity), "downtime_minutes": float(predicted_downtime_minutes(c))}

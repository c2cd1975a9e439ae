"""The facts known before an outage that the recovery-time models read.

Examples
--------
>>> from faultray_lab.evaluation.incidents import Fault, Incident
>>> from faultray_lab.model.schema import topology_from_dict
>>> t = topology_from_dict({"components": [{"id": "db", "type": "database"}]})
>>> recovery_features(Incident("x", t, Fault("db")))["stateful_affected"]
1
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from ...engine.rules import RuleSet
from ..incidents import RECOVERY_RANK, Incident
from ..predict import predict_incident

#: Component types whose state must be restored or re-synchronised after an outage.
STATEFUL_TYPES = ("database", "storage", "queue", "cache")
#: Fault types of the overload class (floods and saturation rather than a lost component).
LOAD_FAULTS = ("traffic_spike", "cpu_saturation", "latency_spike", "llm_rate_limit")
#: Features of the default recovery-time model (all known before the outage).
RECOVERY_FEATURES = ("log10_affected", "stateful_affected", "load_fault", "log10_max_replicas")
#: Predictions below this many minutes are floored for the log10 error (log of 0 is undefined).
LOG_FLOOR_MINUTES = 1.0


def recovery_features(incident: Incident, prediction: Mapping[str, Any] | None = None,
                      rules: str | RuleSet = "faultray-v11") -> dict[str, Any]:
    """Facts known before the outage that the recovery-time model reads.

    Numeric: ``log10_affected`` (log10 of the predicted cascade size), ``stateful_affected``
    (1 if a database, storage, queue or cache is in the predicted affected set: state may have to
    be restored), ``load_fault`` (1 for an overload-class fault such as a traffic flood),
    ``log10_max_replicas`` (log10 of the largest replica count in the predicted affected set),
    ``n_components``, ``n_down``, ``recovery_rank`` (rank 1-5 of the declared recovery mechanism
    of :data:`~faultray_lab.evaluation.incidents.RECOVERY_MECHANISMS`, None when not declared).
    Descriptive: ``recovery_mechanism``, ``fault_type``, ``fault_component_type``, ``provider``.

    Examples
    --------
    >>> from faultray_lab.evaluation.incidents import Fault, Incident
    >>> from faultray_lab.model.schema import topology_from_dict
    >>> t = topology_from_dict({"components": [{"id": "db", "type": "database"}]})
    >>> recovery_features(Incident("x", t, Fault("db")))["stateful_affected"]
    1
    """
    pred = prediction if prediction is not None else predict_incident(incident, rules)
    topo = incident.topology
    affected = [topo.component(i) for i in pred["affected"]]
    return {
        "log10_affected": math.log10(max(1, len(affected))),
        "stateful_affected": int(any(c.type in STATEFUL_TYPES for c in affected)),
        "load_fault": int(incident.fault.type in LOAD_FAULTS),
        "log10_max_replicas": math.log10(max([c.replicas for c in affected] or [1])),
        "n_components": len(topo),
        "n_down": len(pred["down"]),
        "recovery_mechanism": incident.fault.recovery,
        "recovery_rank": RECOVERY_RANK.get(incident.fault.recovery or ""),
        "fault_type": incident.fault.type,
        "fault_component_type": topo.component(incident.fault.component).type,
        "provider": incident.provider,
    }


# ---------------------------------------------------------------------------------------------
# Recovery-time model
# ---------------------------------------------------------------------------------------------
def recovery_table(incidents: Sequence[Incident], rules: str | RuleSet = "faultray-v11",
                   ) -> pd.DataFrame:
    """Per incident: id, cohort, the pre-outage features, the published propagation-time estimate
    (``propagation_minutes``) and, when known, the true ``downtime_minutes`` (else NaN)."""
    rows = []
    for inc in incidents:
        pred = predict_incident(inc, rules)
        rows.append({"id": inc.id, "cohort": inc.cohort, **recovery_features(inc, pred),
                     "propagation_minutes": pred["downtime_minutes"],
                     "downtime_minutes": (inc.truth.downtime_minutes if inc.truth is not None
                                          else float("nan"))})
    return pd.DataFrame(rows)

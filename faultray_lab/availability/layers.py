"""The five-layer availability ceiling of the 11.1.0 reference (docs: semantics 4).

How high can availability possibly go? :func:`availability_layers` computes the software,
hardware, theoretical, operational and external layers, the ceiling ``min(L1..L5)`` with its
binding layer, and the floor (their product). The probability that a system actually serves is
another model, in :mod:`faultray_lab.availability.system`.

Examples
--------
>>> from faultray_lab import load_topology, demo_topology_path
>>> s = availability_layers(load_topology(demo_topology_path()))
>>> s.binding_layer, round(s.ceiling, 8), round(s.floor, 8)
('software', 0.99840875, 0.99559583)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any

from ..common.errors import InputError
from ..common.validate import check_number, check_probability
from ..model.topology import Component, Topology

SECONDS_PER_MONTH = 30.44 * 24 * 3600  # 2,630,016
SECONDS_PER_YEAR = 365.25 * 24 * 3600  # 31,557,600
HOURS_PER_YEAR_FAILOVER = 8766.0        # failures per year = 8766 / MTBF (failover penalty)
HOURS_PER_YEAR_OPERATIONAL = 8760.0     # the operational layer's year

#: MTBF defaults in hours by component type (docs: semantics 4); other types: ``MTBF_OTHER_HOURS``.
MTBF_DEFAULT_HOURS: Mapping[str, float] = MappingProxyType({
    "app_server": 2160.0, "web_server": 2160.0, "database": 4320.0, "cache": 1440.0,
    "load_balancer": 8760.0, "queue": 2160.0, "dns": 43800.0, "storage": 8760.0,
})
MTBF_OTHER_HOURS = 2160.0
LAYERS = ("software", "hardware", "theoretical", "operational", "external")
#: What each layer charges (for output that explains a binding layer).
LAYER_LOSSES: Mapping[str, str] = MappingProxyType({
    "software": "deploy downtime, human error and configuration drift",
    "hardware": "component failures (MTBF and MTTR per replica, failover switch-over time)",
    "theoretical": "hardware failures plus packet loss and GC pauses",
    "operational": "incident response time (incidents per year, response, on-call coverage, "
                   "runbooks and automation)",
    "external": "the SLAs of external providers",
})
#: What the layer model is, for output beside the system model.
LAYER_MODEL = ("layer model (docs: semantics 4): five layers, each an availability with its own "
               "losses; the ceiling is the least layer, the floor their product")
LAYER_COLUMNS = ["layer", "availability", "nines", "downtime_seconds_per_year", "binding"]


def nines(availability: float) -> float:
    """Number of nines, ``-log10(1 - A)``; ``inf`` for A >= 1 and 0 for A <= 0.

    >>> round(nines(0.999), 6)
    3.0
    """
    if availability >= 1.0:
        return math.inf
    if availability <= 0.0:
        return 0.0
    return -math.log10(1.0 - availability)


def downtime_seconds_per_year(availability: float) -> float:
    """Expected downtime per year in seconds, ``(1 - A) * 31,557,600``.

    >>> round(downtime_seconds_per_year(0.999))
    31558
    """
    return (1.0 - availability) * SECONDS_PER_YEAR


def mtbf_hours(component: Component, defaults: Mapping[str, float] | None = None) -> float:
    """The component's MTBF in hours: its own if > 0, else its type's default (docs: semantics 4).

    >>> mtbf_hours(Component("db", "database"))
    4320.0
    """
    if component.mtbf_hours > 0:
        return component.mtbf_hours
    table = MTBF_DEFAULT_HOURS if defaults is None else {**MTBF_DEFAULT_HOURS, **defaults}
    return float(table.get(component.type, table.get("other", MTBF_OTHER_HOURS)))


def replica_availability(component: Component, defaults: Mapping[str, float] | None = None
                         ) -> float:
    """Steady-state availability of one replica, MTBF / (MTBF + MTTR).

    >>> round(replica_availability(Component("a", "app_server")), 8)
    0.99976857
    """
    mtbf = mtbf_hours(component, defaults)
    mttr = component.mttr_minutes / 60.0
    return mtbf / (mtbf + mttr) if mtbf + mttr > 0 else 1.0


# ---------------------------------------------------------------------------------------------
# Five-layer ceiling (docs: semantics 4)
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AvailabilitySummary:
    """The five layers, the ceiling (min) with its binding layer, and the floor (product).

    Examples
    --------
    >>> from faultray_lab import load_topology, demo_topology_path
    >>> s = availability_layers(load_topology(demo_topology_path()))
    >>> list(s.table.layer)
    ['software', 'hardware', 'theoretical', 'operational', 'external']
    >>> s.to_dict()["binding_layer"]
    'software'
    """

    layers: Mapping[str, float]
    parameters: Mapping[str, float]
    tiers: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def ceiling(self) -> float:
        """The paper's system availability bound, ``min(L1..L5)``."""
        return min(self.layers.values())

    @property
    def binding_layer(self) -> str:
        """The layer that attains the ceiling (the first in layer order on a tie)."""
        return min(LAYERS, key=lambda n: (self.layers[n], LAYERS.index(n)))

    @property
    def floor(self) -> float:
        """The product of the layers (all layers' losses added up, as if independent)."""
        return math.prod(self.layers[n] for n in LAYERS)

    @cached_property
    def table(self) -> Any:
        """DataFrame with columns ``LAYER_COLUMNS``, one row per layer in layer order."""
        import pandas as pd

        b = self.binding_layer
        rows = [(n, a, nines(a), downtime_seconds_per_year(a), n == b)
                for n, a in self.layers.items()]
        return pd.DataFrame(rows, columns=LAYER_COLUMNS)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``layers`` {name: {availability, nines, downtime_seconds_per_year}},
        ``ceiling``, ``floor``, ``binding_layer`` and the parameters (infinite nines -> None)."""
        def fin(x: float) -> float | None:
            return x if math.isfinite(x) else None

        return {
            "layers": {n: {"availability": a, "nines": fin(nines(a)),
                           "downtime_seconds_per_year": downtime_seconds_per_year(a)}
                       for n, a in self.layers.items()},
            "ceiling": self.ceiling, "floor": self.floor, "binding_layer": self.binding_layer,
            "ceiling_nines": fin(nines(self.ceiling)), "floor_nines": fin(nines(self.floor)),
            "parameters": dict(self.parameters),
        }


def _mean(values: Iterable[float], default: float) -> float:
    vals = list(values)
    return sum(vals) / len(vals) if vals else default


def availability_layers(
    topology: Topology,
    *,
    deploys_per_month: float = 8.0,
    human_error_rate: float = 0.001,
    config_drift_rate: float = 0.0005,
    incidents_per_year: float = 12.0,
    mean_response_minutes: float = 30.0,
    oncall_coverage_percent: float = 100.0,
    mtbf_defaults: Mapping[str, float] | None = None,
) -> AvailabilitySummary:
    """The five-layer availability ceiling of a topology (docs: semantics 4).

    Parameters
    ----------
    topology : Topology
        Per-component fields read: type, replicas, ``operational_profile`` (mtbf_hours,
        mttr_minutes, deploy_downtime_seconds), ``failover`` (enabled, promotion time, health
        check interval, threshold), ``network.packet_loss_rate``, ``runtime_jitter`` (gc pause
        ms and frequency), ``team`` (runbook coverage and automation percent) and
        ``external_sla.provider_sla``. Change them with ``topology.with_component``.
    deploys_per_month, human_error_rate, config_drift_rate : float
        Layer 1 (software): deploy downtime plus human error and configuration drift.
    incidents_per_year, mean_response_minutes, oncall_coverage_percent : float
        Layer 4 (operational).
    mtbf_defaults : mapping, optional
        Overrides of the MTBF type defaults in hours (key ``"other"`` for every other type).

    Returns
    -------
    AvailabilitySummary
        ``.table`` (DataFrame), ``.ceiling``, ``.binding_layer``, ``.floor``, ``.to_dict()``.

    Raises
    ------
    InputError
        Rates outside [0, 1], negative counts or minutes, coverage outside (0, 100], or
        non-positive MTBF defaults.

    Examples
    --------
    >>> from faultray_lab import load_topology, demo_topology_path
    >>> topo = load_topology(demo_topology_path())
    >>> round(availability_layers(topo).layers["operational"], 8)
    0.99947603
    >>> availability_layers(topo, deploys_per_month=0, human_error_rate=0,
    ...                     config_drift_rate=0).binding_layer
    'theoretical'
    """
    params = {
        "deploys_per_month": check_number(deploys_per_month, "deploys_per_month"),
        "human_error_rate": check_probability(human_error_rate, "human_error_rate"),
        "config_drift_rate": check_probability(config_drift_rate, "config_drift_rate"),
        "incidents_per_year": check_number(incidents_per_year, "incidents_per_year"),
        "mean_response_minutes": check_number(mean_response_minutes, "mean_response_minutes"),
        "oncall_coverage_percent": check_number(oncall_coverage_percent, "oncall_coverage_percent",
                                           high=100.0),
    }
    if params["oncall_coverage_percent"] == 0:
        raise InputError(None, "oncall_coverage_percent", "on-call coverage is 0 percent",
                         "use a coverage in (0, 100]")
    for k, v in (mtbf_defaults or {}).items():
        if check_number(v, f"mtbf_defaults[{k!r}]") <= 0:
            raise InputError(None, f"mtbf_defaults[{k!r}]", "an MTBF default must be > 0",
                             "use a positive number of hours")
    comps = topology.components
    if not comps:
        raise InputError(topology.source, None, "no components", "add components")

    # L2 hardware: components with a requires dependent, or with no dependents at all
    tiers: dict[str, float] = {}
    for i, c in enumerate(comps):
        dependents = topology.dependents[i]
        if dependents and not any(topology.dependencies[k].type == "requires"
                                  for _, k in dependents):
            continue
        mtbf = mtbf_hours(c, mtbf_defaults)
        a = replica_availability(c, mtbf_defaults)
        tier = 1.0 - (1.0 - a) ** c.replicas
        if c.failover:
            switch = c.failover_promotion_seconds + (c.failover_health_check_interval_seconds
                                                     * c.failover_threshold)
            tier *= 1.0 - (HOURS_PER_YEAR_FAILOVER / mtbf * c.replicas) * switch / SECONDS_PER_YEAR
        tiers[c.id] = min(1.0, max(0.0, tier))
    l2 = min(1.0, max(0.0, math.prod(tiers.values())))

    # L1 software
    dd = _mean((c.deploy_downtime_seconds for c in comps if c.deploy_downtime_seconds > 0), 30.0)
    sw = 1.0 - (params["deploys_per_month"] * dd / SECONDS_PER_MONTH
                + params["human_error_rate"] + params["config_drift_rate"])
    l1 = min(max(0.0, sw), l2)

    # L3 theoretical
    loss = _mean((c.packet_loss_rate for c in comps), 0.0)
    gc = _mean((c.gc_pause_ms / 1000.0 * c.gc_pause_frequency if c.gc_pause_frequency else 0.0
                for c in comps), 0.0)
    l3 = min(1.0, max(0.0, l2 * (1.0 - loss) * (1.0 - gc)))

    # L4 operational
    coverage = min(1.0, max(0.01, params["oncall_coverage_percent"] / 100.0))
    runbook = _mean((c.runbook_coverage_percent / 100.0 for c in comps), 0.0)
    automation = _mean((c.automation_percent / 100.0 for c in comps), 0.0)
    hours = ((params["mean_response_minutes"] / 60.0) / coverage
             * (1.0 - 0.3 * runbook) * (1.0 - 0.5 * automation))
    l4 = min(1.0, max(0.0, 1.0 - params["incidents_per_year"] * hours
                      / HOURS_PER_YEAR_OPERATIONAL))

    # L5 external
    l5 = 1.0
    for c in comps:
        if c.provider_sla is not None:
            l5 *= min(1.0, max(0.0, c.provider_sla / 100.0))
        elif c.type == "external_api":
            l5 *= 0.999
    layers = dict(zip(LAYERS, (l1, l2, l3, l4, l5), strict=True))
    return AvailabilitySummary(MappingProxyType(layers), MappingProxyType(params),
                               MappingProxyType(tiers))

"""Availability: the five-layer ceiling, and exact and Monte Carlo system availability.

Two questions, two families of functions (the fail-stop protocol of the DeathStarBench
validation and the Jaeger importer live in :mod:`faultray_lab.failstop`):

* :func:`availability_layers`: how high can availability possibly go? The five-layer model of
  the 11.1.0 reference (SEMANTICS 4): software, hardware, theoretical, operational and external
  layers, the ceiling ``min(L1..L5)`` with its binding layer, and the floor (their product).
* :func:`system_availability`: the probability that the entry points (or named targets) can serve
  when each component is up with probability MTBF / (MTBF + MTTR), replicas are k-of-n,
  ``requires`` edges block and ``optional``/``async`` edges do not. ``exact`` enumerates (or, for
  a series system, factors) the state space; ``montecarlo`` samples it with numpy. Common-cause
  groups (beta-factor style: one shared cause takes every member down) model the correlated
  failures that a product of independent availabilities misses.

Examples
--------
>>> from faultray_lab import load_topology, demo_topology_path
>>> s = availability_layers(load_topology(demo_topology_path()))
>>> s.binding_layer, round(s.ceiling, 8), round(s.floor, 8)
('software', 0.99840875, 0.99559583)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any

import numpy as np

from .errors import InputError
from .topology import Component, Topology

SECONDS_PER_MONTH = 30.44 * 24 * 3600  # 2,630,016
SECONDS_PER_YEAR = 365.25 * 24 * 3600  # 31,557,600
HOURS_PER_YEAR_FAILOVER = 8766.0        # failures per year = 8766 / MTBF (failover penalty)
HOURS_PER_YEAR_OPERATIONAL = 8760.0     # the operational layer's year

#: MTBF defaults in hours by component type (SEMANTICS 4); other types use ``MTBF_OTHER_HOURS``.
MTBF_DEFAULT_HOURS: Mapping[str, float] = MappingProxyType({
    "app_server": 2160.0, "web_server": 2160.0, "database": 4320.0, "cache": 1440.0,
    "load_balancer": 8760.0, "queue": 2160.0, "dns": 43800.0, "storage": 8760.0,
})
MTBF_OTHER_HOURS = 2160.0
LAYERS = ("software", "hardware", "theoretical", "operational", "external")
LAYER_COLUMNS = ["layer", "availability", "nines", "downtime_seconds_per_year", "binding"]
#: Largest number of binary random variables ``exact`` enumerates (2**25 states).
MAX_EXACT_VARIABLES = 25


# ---------------------------------------------------------------------------------------------
# Validation helpers
# ---------------------------------------------------------------------------------------------
def check_number(value: Any, name: str, *, low: float = 0.0, high: float = math.inf,
            fix: str = "") -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise InputError(None, name, f"{name} must be a number, not {value!r}",
                         fix or "pass a plain number")
    v = float(value)
    if math.isnan(v) or v < low or v > high:
        rng = f"[{low:g}, {high:g}]" if math.isfinite(high) else f">= {low:g}"
        raise InputError(None, name, f"{name} must be in {rng}, not {value!r}",
                         fix or f"pass a value in {rng}")
    return v


def check_probability(value: Any, name: str) -> float:
    return check_number(value, name, low=0.0, high=1.0, fix="a probability is between 0 and 1")


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


def _check_component(c: Component) -> None:
    """Reject impossible reliability fields of a component built in code (the loader already
    rejects them in files)."""
    where = f"components (id '{c.id}')"
    for name in ("mtbf_hours", "mttr_minutes", "deploy_downtime_seconds", "packet_loss_rate",
                 "gc_pause_ms", "gc_pause_frequency", "runbook_coverage_percent",
                 "automation_percent"):
        v = getattr(c, name)
        if isinstance(v, bool) or not isinstance(v, int | float) or math.isnan(v) or v < 0:
            raise InputError(None, f"{where}.{name}", f"{name} must be a number >= 0, not {v!r}",
                             "use a non-negative value (0 MTBF means the type default)")
    if isinstance(c.replicas, bool) or not isinstance(c.replicas, int) or c.replicas < 1:
        raise InputError(None, f"{where}.replicas", f"replicas must be a whole number >= 1, "
                         f"not {c.replicas!r}", "set replicas to 1 or more")


def mtbf_hours(component: Component, defaults: Mapping[str, float] | None = None) -> float:
    """The component's MTBF in hours: its own if > 0, else its type's default (SEMANTICS 4).

    >>> mtbf_hours(Component("db", "database"))
    4320.0
    """
    _check_component(component)
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
# Five-layer ceiling (SEMANTICS 4)
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
    """The five-layer availability ceiling of a topology (SEMANTICS 4).

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
    for c in comps:
        _check_component(c)

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


# ---------------------------------------------------------------------------------------------
# System availability: exact and Monte Carlo, with common-cause groups
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CommonCause:
    """A beta-factor common-cause group: one shared cause takes every member down at once.

    With per-replica unavailabilities ``q_i`` of the members, the shared cause is active with
    probability ``q_c = beta * min(q_i)``; each replica's own failures are scaled so that its
    marginal availability is unchanged (``a_i = (1 - q_c) a_i'``). ``beta = 0`` is independence.

    >>> CommonCause(("app-1", "app-2"), 0.1).beta
    0.1
    """

    members: tuple[str, ...]
    beta: float
    name: str = ""


@dataclass(frozen=True)
class SystemAvailability:
    """The result of :func:`system_availability`.

    ``standard_error`` is 0 for ``exact``; for ``montecarlo`` it is the binomial standard error
    ``sqrt(A (1 - A) / trials)``.
    """

    availability: float
    standard_error: float
    method: str
    targets: tuple[str, ...]
    serve: int
    trials: int = 0
    seed: int | None = None
    variables: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {"availability": self.availability, "standard_error": self.standard_error,
                "method": self.method, "targets": list(self.targets), "serve": self.serve,
                "trials": self.trials, "seed": self.seed, "variables": self.variables}


def _as_common_causes(common_cause: Any, topology: Topology) -> list[CommonCause]:
    if common_cause is None:
        return []
    if isinstance(common_cause, CommonCause | Mapping):
        common_cause = [common_cause]
    out: list[CommonCause] = []
    owner: dict[str, int] = {}
    for g, item in enumerate(common_cause):
        where = f"common_cause[{g}]"
        if isinstance(item, Mapping):
            unknown = set(item) - {"members", "beta", "name"}
            if unknown:
                raise InputError(None, where, f"unknown key(s) {sorted(unknown)}",
                                 "use members, beta and optionally name")
            if "members" not in item or "beta" not in item:
                raise InputError(None, where, "a common-cause group needs members and beta",
                                 "write {'members': [ids], 'beta': fraction}")
            members, beta, name = item["members"], item["beta"], item.get("name", "")
        elif isinstance(item, CommonCause):
            members, beta, name = item.members, item.beta, item.name
        else:
            raise InputError(None, where, f"not a common-cause group: {item!r}",
                             "pass CommonCause(members, beta) or {'members': ..., 'beta': ...}")
        if isinstance(members, str) or not members:
            raise InputError(None, where, "members must be a non-empty list of component ids",
                             "write members as a list, e.g. ['app-1', 'app-2']")
        for m in members:
            topology.component(m)  # unknown ids raise with a suggestion
            if m in owner:
                raise InputError(None, where, f"component '{m}' is already in "
                                 f"common_cause[{owner[m]}]", "put each component in at most "
                                 "one common-cause group")
            owner[m] = g
        out.append(CommonCause(tuple(members), check_probability(beta, f"{where}.beta"),
                               str(name or f"group-{g}")))
    return out


def _requires_closure(topology: Topology, start: int) -> list[int]:
    """``start`` and every component reachable from it over ``requires`` edges (self-edges
    ignored), in discovery order."""
    seen = {start}
    order = [start]
    stack = [start]
    deps = topology.dependencies
    while stack:
        u = stack.pop()
        for v, k in topology.dependencies_of[u]:
            if v != u and deps[k].type == "requires" and v not in seen:
                seen.add(v)
                order.append(v)
                stack.append(v)
    return order


def entry_points(topology: Topology) -> tuple[str, ...]:
    """Components that nothing depends on (self-edges ignored), in component order.

    >>> from faultray_lab import load_topology, demo_topology_path
    >>> entry_points(load_topology(demo_topology_path()))
    ('nginx', 'support-agent')
    """
    return tuple(c.id for i, c in enumerate(topology.components)
                 if all(d == i for d, _ in topology.dependents[i]))


def _tier(a: float, n: int, k: int) -> float:
    """P(at least k of n independent replicas up), each up with probability a."""
    from scipy.stats import binom

    if k <= 0:
        return 1.0
    return float(binom.sf(k - 1, n, a))


@dataclass(frozen=True)
class _Model:
    """The random variables of a system-availability question, in compiled form."""

    targets: tuple[str, ...]
    serve: int
    comps: tuple[int, ...]                # relevant component positions (union of closures)
    closures: tuple[tuple[int, ...], ...]  # per target: columns into ``comps``
    up_indep: np.ndarray                  # per column: P(up | no common cause active)
    up_marginal: np.ndarray               # per column: marginal P(up)
    group_of: np.ndarray                  # per column: group index or -1
    shock: np.ndarray                     # per group: P(shared cause active)


def _compile(topology: Topology, targets: Sequence[str] | None, serve: Any,
             availability: Mapping[str, float] | None, quorum: Mapping[str, int] | None,
             common_cause: Any) -> _Model:
    if targets is None:
        targets = entry_points(topology)
        if not targets:
            raise InputError(topology.source, None, "no entry points (every component has a "
                             "dependent)", "name the components that must serve in targets=")
    elif isinstance(targets, str):
        targets = (targets,)
    targets = tuple(targets)
    if not targets:
        raise InputError(None, "targets", "targets is empty", "name at least one component")
    for t in targets:
        topology.component(t)
    if len(set(targets)) != len(targets):
        raise InputError(None, "targets", "a target is named twice", "name each target once")
    if serve == "all":
        k = len(targets)
    elif serve == "any":
        k = 1
    elif isinstance(serve, int) and not isinstance(serve, bool) and 1 <= serve <= len(targets):
        k = serve
    else:
        raise InputError(None, "serve", f"serve must be 'all', 'any' or a whole number in "
                         f"[1, {len(targets)}], not {serve!r}", "use serve='all'")
    avail = dict(availability or {})
    for cid, a in avail.items():
        topology.component(cid)
        check_probability(a, f"availability[{cid!r}]")
    quor = dict(quorum or {})
    for cid, q in quor.items():
        c = topology.component(cid)
        if isinstance(q, bool) or not isinstance(q, int) or not 1 <= q <= c.replicas:
            raise InputError(None, f"quorum[{cid!r}]", f"quorum must be a whole number in "
                             f"[1, {c.replicas}] (the replicas), not {q!r}",
                             "use the number of replicas that must be up")
    groups = _as_common_causes(common_cause, topology)

    closures_pos = [_requires_closure(topology, topology.index[t]) for t in targets]
    comps: list[int] = []
    col: dict[int, int] = {}
    for cl in closures_pos:
        for p in cl:
            if p not in col:
                col[p] = len(comps)
                comps.append(p)
    group_index = {m: g for g, grp in enumerate(groups) for m in grp.members}
    rep = np.empty(len(comps))
    for j, p in enumerate(comps):
        c = topology.components[p]
        rep[j] = avail[c.id] if c.id in avail else replica_availability(c)
    # shared-cause probability per group: beta * min member replica unavailability
    shock = np.zeros(len(groups))
    for g, grp in enumerate(groups):
        q_min = min(1.0 - avail.get(m, replica_availability(topology.component(m)))
                    for m in grp.members)
        shock[g] = grp.beta * q_min
    up_ind = np.empty(len(comps))
    up_mar = np.empty(len(comps))
    group_of = np.full(len(comps), -1, dtype=np.int64)
    for j, p in enumerate(comps):
        c = topology.components[p]
        need = quor.get(c.id, 1)
        g = group_index.get(c.id, -1)
        group_of[j] = g
        a = rep[j]
        a_own = a / (1.0 - shock[g]) if g >= 0 and shock[g] < 1 else a
        up_ind[j] = _tier(min(1.0, a_own), c.replicas, need)
        up_mar[j] = _tier(a, c.replicas, need)
    closures = tuple(tuple(col[p] for p in cl) for cl in closures_pos)
    return _Model(targets, k, tuple(comps), closures, up_ind, up_mar, group_of, shock)


def system_availability(
    topology: Topology,
    targets: Sequence[str] | str | None = None,
    method: str = "exact",
    trials: int = 200_000,
    seed: int = 0,
    common_cause: Any = None,
    *,
    serve: str | int = "all",
    availability: Mapping[str, float] | None = None,
    quorum: Mapping[str, int] | None = None,
) -> SystemAvailability:
    """Probability that the targets can serve, with independent or common-cause failures.

    A component is *up* when at least ``quorum`` (default 1) of its ``replicas`` are up, each
    replica independently with probability MTBF / (MTBF + MTTR) (SEMANTICS 4's MTBF defaults),
    or ``availability[id]``. A target *serves* when it and every component it reaches over
    ``requires`` edges are up; ``optional`` and ``async`` edges never block. The system is up
    when ``serve`` of the targets serve (``"all"``, ``"any"`` or a number k: k-of-n).

    Parameters
    ----------
    topology : Topology
    targets : list of str, optional
        Components that must serve; default the entry points (components nothing depends on).
    method : {"exact", "montecarlo"}
        ``exact`` conditions on the common causes and, per case, multiplies (a series system,
        ``serve="all"``) or enumerates the component states (refused beyond 25 binary
        variables); ``montecarlo`` samples vectorized with numpy.
    trials : int
        Monte Carlo trials.
    seed : int
        Monte Carlo seed (same seed, same result).
    common_cause : list of CommonCause or dict, optional
        Beta-factor groups ``{"members": [...], "beta": fraction}``; disjoint.
    serve : "all", "any" or int
        How many targets must serve.
    availability : mapping, optional
        Per-replica up probability overrides by component id.
    quorum : mapping, optional
        Replicas that must be up, by component id (k of the n replicas).

    Returns
    -------
    SystemAvailability

    Raises
    ------
    InputError
        Unknown ids, probabilities outside [0, 1], a bad quorum or serve, an unknown method,
        too many variables for ``exact``, trials < 1.

    Examples
    --------
    >>> from faultray_lab import topology_from_dict
    >>> t = topology_from_dict({"components": [{"id": "web"}, {"id": "db", "replicas": 2}],
    ...                         "dependencies": [{"source": "web", "target": "db"}]})
    >>> p = {"web": 0.9, "db": 0.9}
    >>> round(system_availability(t, availability=p).availability, 6)   # 0.9 * (1 - 0.1**2)
    0.891
    >>> mc = system_availability(t, method="montecarlo", trials=100_000, availability=p)
    >>> abs(mc.availability - 0.891) < 4 * mc.standard_error
    True
    """
    model = _compile(topology, targets, serve, availability, quorum, common_cause)
    if method == "exact":
        value, nvars = _exact(model)
        return SystemAvailability(value, 0.0, "exact", model.targets, model.serve, 0, None,
                                  nvars)
    if method == "montecarlo":
        if isinstance(trials, bool) or not isinstance(trials, int | np.integer) or trials < 1:
            raise InputError(None, "trials", f"trials must be a whole number >= 1, not "
                             f"{trials!r}", "use for example 200000")
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
            raise InputError(None, "seed", f"seed must be a whole number, not {seed!r}",
                             "use for example 0")
        ok = _montecarlo(model, int(trials), int(seed))
        a = ok / trials
        se = math.sqrt(a * (1.0 - a) / trials)
        return SystemAvailability(a, se, "montecarlo", model.targets, model.serve, int(trials),
                                  int(seed), len(model.comps) + len(model.shock))
    raise InputError(None, "method", f"unknown method {method!r}",
                     "use 'exact' or 'montecarlo'")


def _exact(model: _Model) -> tuple[float, int]:
    """Condition on every combination of active common causes, then solve the independent
    system by a product (series) or by enumerating the component states."""
    used = sorted({int(g) for g in model.group_of if g >= 0})
    m = len(model.comps)
    series = model.serve == len(model.targets)
    nvars = len(used) + (0 if series else m)
    if nvars > MAX_EXACT_VARIABLES:
        raise InputError(None, "method='exact'",
                         f"exact enumeration needs 2^{nvars} states ({m} components in the "
                         f"requires-closure of the targets, {len(used)} common-cause groups); "
                         f"the limit is 2^{MAX_EXACT_VARIABLES}",
                         "use method='montecarlo', or serve='all' (a series system, solved by "
                         "a product at any size)")
    total = 0.0
    for pattern in range(1 << len(used)):
        weight = 1.0
        p = model.up_indep.copy()
        for b, g in enumerate(used):
            if pattern >> b & 1:
                weight *= model.shock[g]
                p[model.group_of == g] = 0.0
            else:
                weight *= 1.0 - model.shock[g]
        if weight == 0.0:
            continue
        total += weight * (float(np.prod(p)) if series else _enumerate(p, model))
    return min(1.0, max(0.0, total)), nvars


def _enumerate(p: np.ndarray, model: _Model) -> float:
    """P(at least ``serve`` targets have every closure component up), by enumerating 2^m states
    in chunks of 2^20 (bit j of a state = component column j up)."""
    m = len(p)
    masks = np.array([sum(1 << j for j in cl) for cl in model.closures], dtype=np.int64)
    low = min(m, 20)
    low_states = np.arange(1 << low, dtype=np.int64)
    low_prob = np.ones(1 << low)
    for j in range(low):
        bit = (low_states >> j) & 1
        low_prob *= np.where(bit == 1, p[j], 1.0 - p[j])
    total = 0.0
    for high in range(1 << (m - low)):
        hp = 1.0
        for j in range(low, m):
            hp *= p[j] if (high >> (j - low)) & 1 else 1.0 - p[j]
        if hp == 0.0:
            continue
        states = (np.int64(high) << low) | low_states
        count = np.zeros(states.shape, dtype=np.int64)
        for mask in masks:
            count += (states & mask) == mask
        total += hp * float(low_prob[count >= model.serve].sum())
    return total


def _bernoulli_positions(rng: np.random.Generator, q: float, n: int) -> np.ndarray:
    """Sorted positions in [0, n) of the successes of n Bernoulli(q) trials.

    Rare events are drawn by geometric gaps (cost proportional to the number of events), common
    ones densely; both give exactly the Bernoulli process.
    """
    if q <= 0.0:
        return np.empty(0, dtype=np.int64)
    if q >= 1.0:
        return np.arange(n, dtype=np.int64)
    if q > 0.05:
        return np.flatnonzero(rng.random(n) < q)
    if q < 1e-9:  # geometric gaps would overflow; draw the count, then the positions
        k = int(rng.binomial(n, q))
        return np.sort(rng.choice(n, size=k, replace=False)) if k else np.empty(0, np.int64)
    out = []
    start = -1
    while True:
        mean = (n - start) * q
        size = int(mean + 6.0 * math.sqrt(mean) + 16)
        pos = start + np.cumsum(rng.geometric(q, size=size))
        out.append(pos)
        if pos[-1] >= n:
            break
        start = int(pos[-1])
    allpos = np.concatenate(out)
    return allpos[allpos < n]


def _montecarlo(model: _Model, trials: int, seed: int) -> int:
    """Number of trials in which the system is up. Each component's down trials are drawn as a
    Bernoulli process (sparse when failures are rare); a shared cause's active trials are added to
    each member's. Only trials with some failure are evaluated against the structure."""
    rng = np.random.default_rng(seed)
    m = len(model.comps)
    series = model.serve == len(model.targets)
    chunk = 1 << 20 if series else max(1 << 12, min(1 << 20, (1 << 24) // max(m, 1)))
    ok = 0
    done = 0
    while done < trials:
        n = min(chunk, trials - done)
        shocks = [_bernoulli_positions(rng, float(q), n) for q in model.shock]
        down = []
        for j in range(m):
            d = _bernoulli_positions(rng, 1.0 - float(model.up_indep[j]), n)
            g = int(model.group_of[j])
            if g >= 0 and shocks[g].size:
                d = np.union1d(d, shocks[g])
            down.append(d)
        failed = np.unique(np.concatenate(down)) if down else np.empty(0, dtype=np.int64)
        if series:
            ok += n - failed.size
        else:
            state = np.zeros((failed.size, m), dtype=bool)
            for j, d in enumerate(down):
                if d.size:
                    state[np.searchsorted(failed, d), j] = True
            count = np.zeros(failed.size, dtype=np.int64)
            for cl in model.closures:
                count += ~state[:, list(cl)].any(axis=1)
            ok += (n - failed.size) + int((count >= model.serve).sum())
        done += n
    return ok


def independent_product(topology: Topology, targets: Sequence[str] | str | None = None, *,
                        availability: Mapping[str, float] | None = None,
                        quorum: Mapping[str, int] | None = None) -> float:
    """The classical block-diagram answer for ``serve="all"``: the product of the marginal
    availabilities of the components in the targets' requires-closure, ignoring common causes.

    >>> from faultray_lab import topology_from_dict
    >>> t = topology_from_dict({"components": [{"id": "a"}, {"id": "b"}],
    ...                         "dependencies": [{"source": "a", "target": "b"}]})
    >>> independent_product(t, availability={"a": 0.9, "b": 0.8})
    0.7200000000000001
    """
    model = _compile(topology, targets, "all", availability, quorum, None)
    return float(np.prod(model.up_marginal))


def common_cause_sweep(topology: Topology, members: Sequence[str], betas: Sequence[float], *,
                       targets: Sequence[str] | str | None = None, trials: int = 200_000,
                       seed: int = 0, availability: Mapping[str, float] | None = None,
                       quorum: Mapping[str, int] | None = None) -> Any:
    """System availability against the common-cause fraction ``beta`` of one group.

    Returns a DataFrame with columns ``beta``, ``independent_product`` (the classical block
    diagram, blind to the shared cause), ``exact``, ``montecarlo`` and ``standard_error``.

    Examples
    --------
    >>> from faultray_lab import topology_from_dict
    >>> t = topology_from_dict({"components": [{"id": "a", "replicas": 2}]})
    >>> df = common_cause_sweep(t, ["a"], [0.0, 0.5], trials=10_000, availability={"a": 0.9})
    >>> [round(x, 4) for x in df.exact]
    [0.99, 0.9474]
    """
    import pandas as pd

    rows = []
    indep = independent_product(topology, targets, availability=availability, quorum=quorum)
    for i, beta in enumerate(betas):
        group = [{"members": list(members), "beta": beta, "name": "shared"}]
        ex = system_availability(topology, targets, "exact", common_cause=group,
                                 availability=availability, quorum=quorum)
        mc = system_availability(topology, targets, "montecarlo", trials=trials, seed=seed + i,
                                 common_cause=group, availability=availability, quorum=quorum)
        rows.append((float(beta), indep, ex.availability, mc.availability, mc.standard_error))
    return pd.DataFrame(rows, columns=["beta", "independent_product", "exact", "montecarlo",
                                       "standard_error"])


#: Common-cause fractions of the shared-network figure (notebook 04, ``faultray-lab figures``).
SHARED_NETWORK_BETAS = (0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5)


def shared_network_example() -> tuple[Topology, tuple[str, ...], dict[str, float]]:
    """The shared-network example: a load balancer in front of ``web``, ``app`` and ``db``, each
    with two replicas on one network (per-replica availability 0.99; the balancer 0.999).

    Returns the topology, the common-cause members and the per-replica availabilities, ready for
    :func:`common_cause_sweep`.

    >>> topo, members, avail = shared_network_example()
    >>> members, independent_product(topo, availability=avail) == 0.999 * (1 - 0.01 ** 2) ** 3
    (('web', 'app', 'db'), True)
    """
    from .topology import topology_from_dict

    topo = topology_from_dict({
        "components": [{"id": "lb", "type": "load_balancer"},
                       {"id": "web", "type": "web_server", "replicas": 2},
                       {"id": "app", "type": "app_server", "replicas": 2},
                       {"id": "db", "type": "database", "replicas": 2}],
        "dependencies": [{"source": "lb", "target": "web"}, {"source": "web", "target": "app"},
                         {"source": "app", "target": "db"}]}, source="<shared-network example>")
    return topo, ("web", "app", "db"), {"lb": 0.999, "web": 0.99, "app": 0.99, "db": 0.99}

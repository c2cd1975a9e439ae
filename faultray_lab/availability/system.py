"""System availability: exact and Monte Carlo, with common-cause groups.

:func:`system_availability` gives the probability that the entry points (or named targets) can
serve when each component is up with probability MTBF / (MTBF + MTTR), replicas are k-of-n,
``requires`` edges block and ``optional``/``async`` edges do not. ``exact`` enumerates (or, for
a series system, factors) the state space; ``montecarlo`` samples it with numpy. Common-cause
groups (beta-factor style: one shared cause takes every member down) model the correlated
failures that a product of independent availabilities misses.

Examples
--------
>>> from faultray_lab import load_topology, demo_topology_path
>>> r = system_availability(load_topology(demo_topology_path()))
>>> r.method, r.targets
('exact', ('nginx', 'support-agent'))
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..common.errors import InputError
from ..common.validate import check_count, check_probability
from ..model.topology import Topology
from .layers import LAYER_LOSSES, LAYER_MODEL, AvailabilitySummary, replica_availability

#: Largest number of binary random variables ``exact`` enumerates (2**25 states).
MAX_EXACT_VARIABLES = 25


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
    replica independently with probability MTBF / (MTBF + MTTR) (semantics 4's MTBF defaults),
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
        check_count(seed, "seed", low=0, fix="use a whole number >= 0, for example 0")
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


#: What the system model counts, for output beside the layer model (:func:`compare_models`).
SYSTEM_MODEL = ("system model: the probability that the targets serve (each target and every "
                "component it reaches over requires edges up), from hardware failures only "
                "(each replica up with probability MTBF / (MTBF + MTTR), replicas k-of-n); no "
                "software, network, operational or external losses")


def compare_models(system: SystemAvailability, layers: AvailabilitySummary,
                   topology: Topology) -> dict[str, Any]:
    """How a system availability relates to the five-layer ceiling of the same topology.

    The two numbers come from different models. The ceiling is the least of five layers; four
    of them charge losses the system model does not include (deploy downtime, human error and
    configuration drift; packet loss and GC pauses; incident response; provider SLAs), so the
    system figure is routinely *above* the ceiling and must not be read against it. The like-for-
    like number is the hardware layer, which still differs: it multiplies the tiers of every
    component with a ``requires`` dependent or with no dependent at all (reachable from the
    targets or not), charges failover switch-over time, and knows no quorum or common cause.

    Returns
    -------
    dict
        ``system``, ``ceiling``, ``binding_layer``, ``hardware_layer``, ``exceeds_ceiling``,
        ``hardware_only_in_layer`` (components the hardware layer counts that the targets do
        not require), ``system_only`` (targets the hardware layer leaves out),
        ``failover_penalised`` (counted in both, charged switch-over time by the layer),
        ``layer_model`` and ``system_model`` (what each model counts), ``ceiling_note`` (why the
        system figure is above or below the ceiling), ``hardware_note`` (how it differs from the
        hardware layer) and ``explanation`` (all of it as sentences).

    Examples
    --------
    >>> from faultray_lab import load_topology, demo_topology_path
    >>> from faultray_lab.availability.layers import availability_layers
    >>> topo = load_topology(demo_topology_path())
    >>> c = compare_models(system_availability(topo), availability_layers(topo), topo)
    >>> c["exceeds_ceiling"], c["binding_layer"], c["system"] == c["hardware_layer"]
    (True, 'software', True)
    """
    required = {topology.components[p].id for p in
                (q for t in system.targets for q in _requires_closure(topology, topology.index[t]))}
    in_layer = set(layers.tiers)
    failover = sorted(c for c in required & in_layer if topology.component(c).failover)
    only_layer = [c.id for c in topology.components if c.id in in_layer - required]
    only_system = [c.id for c in topology.components if c.id in required - in_layer]
    hw = layers.layers["hardware"]
    a, ceiling, binding = float(system.availability), float(layers.ceiling), layers.binding_layer
    if binding == "hardware":
        why = (f"the binding layer is hardware itself, so the system figure "
               f"{'exceeds' if a > ceiling else 'stays within'} it only through the way the "
               "two count hardware (next line)")
    elif a > ceiling:
        why = (f"the system figure is above the ceiling because the binding {binding} layer "
               f"charges {LAYER_LOSSES[binding]}, which the system model leaves out; the "
               "ceiling bounds availability with those losses, not the system figure")
    else:
        why = (f"the system figure is below the ceiling; the binding {binding} layer charges "
               f"{LAYER_LOSSES[binding]}, which the system model leaves out")
    diffs = []
    if only_layer:
        diffs.append(f"also counts {len(only_layer)} component(s) the targets do not require ("
                     f"{', '.join(only_layer[:8])}{', ...' if len(only_layer) > 8 else ''})")
    if only_system:
        diffs.append("leaves out target(s) that have only optional or async dependents ("
                     f"{', '.join(only_system[:8])}{', ...' if len(only_system) > 8 else ''})")
    if failover:
        diffs.append("charges failover switch-over time ("
                     f"{', '.join(failover[:8])}{', ...' if len(failover) > 8 else ''})")
    hardware = (f"compare it with the hardware layer {hw:.8f}, which "
                + ("; ".join(diffs) if diffs else "counts the same components here"))
    return {"system": a, "ceiling": ceiling, "binding_layer": binding, "hardware_layer": hw,
            "exceeds_ceiling": bool(a > ceiling), "hardware_only_in_layer": only_layer,
            "system_only": only_system, "failover_penalised": failover,
            "layer_model": LAYER_MODEL, "system_model": SYSTEM_MODEL,
            "ceiling_note": why, "hardware_note": hardware,
            "explanation": (f"Two models. The ceiling and floor come from the {LAYER_MODEL}. The "
                            f"system figure comes from the {SYSTEM_MODEL}. Hence {why}. Like for "
                            f"like, {hardware}.")}


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
    from ..model.schema import topology_from_dict

    topo = topology_from_dict({
        "components": [{"id": "lb", "type": "load_balancer"},
                       {"id": "web", "type": "web_server", "replicas": 2},
                       {"id": "app", "type": "app_server", "replicas": 2},
                       {"id": "db", "type": "database", "replicas": 2}],
        "dependencies": [{"source": "lb", "target": "web"}, {"source": "web", "target": "app"},
                         {"source": "app", "target": "db"}]}, source="<shared-network example>")
    return topo, ("web", "app", "db"), {"lb": 0.999, "web": 0.99, "app": 0.99, "db": 0.99}

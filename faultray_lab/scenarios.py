"""Default failure scenarios, scenario sweeps, the structural resilience score and SPOFs.

The generator reproduces the reference's default scenario list in its exact order and naming
(SEMANTICS.md 2.5 and 7, agent scenarios included). It is lazy: :func:`iter_scenarios` walks the
categories as blocks of known size, so a capped sweep never builds the full pair list and a
worker can start at any scenario index.

A scenario runs each fault from a fresh all-healthy state (plus a traffic-spike chain when its
multiplier is above 1) and merges the chains:

* ``faultray-v11`` (SEMANTICS 2.5): effects concatenated (duplicates kept), likelihood the least
  among the chains that have effects (1.0 if none), capped when ``|C| >= 10``: with
  ``r = faults / |C|``, ``r >= 0.9 -> min(L, 0.05)``, ``r >= 0.5 -> min(L, 0.3)``.
* ``cps`` (SEMANTICS 3, "several faults"): per component the worst health wins, then the least
  T (:func:`~faultray_lab.cascade.merge_worst`). The likelihood is merged exactly as under
  faultray-v11 (least likelihood among chains with effects, the same ``|C| >= 10`` caps), so the
  two rule sets differ only in their cascades, not in how a scenario's chance is counted.

Risk is the severity (SEMANTICS 2.2) of the merged chain; ``critical`` is risk >= 7,
``warning`` 4 <= risk < 7, ``passed`` otherwise.

Examples
--------
>>> from faultray_lab import load_topology, demo_topology_path
>>> topo = load_topology(demo_topology_path())
>>> scenarios = generate_scenarios(topo)
>>> len(scenarios), scenarios[0].id, scenarios[-1].id
(255, 'single-failure-nginx', 'cascade-ratelimit-llm-endpoint')
>>> df = run_sweep(topo, rules="faultray-v11")
>>> df["class"].value_counts().to_dict()
{'passed': 150, 'warning': 84, 'critical': 21}
>>> resilience_score(topo)
50.0
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import InputError
from .topology import Topology

#: Scenario classes by risk (SEMANTICS 2.5).
CRITICAL_RISK = 7.0
WARNING_RISK = 4.0
EXECUTORS = ("serial", "processes", "dask")
SWEEP_COLUMNS = ["id", "faults", "traffic_multiplier", "likelihood", "risk", "class",
                 "affected", "down", "overloaded", "degraded", "outcome"]


@dataclass(frozen=True)
class Scenario:
    """One failure scenario: faults injected together, optionally under a traffic spike.

    Parameters
    ----------
    id : str
        The reference's scenario id, e.g. ``single-failure-postgres``.
    faults : tuple of (component id, fault type)
        Each runs alone from an all-healthy state; the chains are then merged.
    traffic_multiplier : float
        A traffic-spike chain runs first when this is above 1.

    Examples
    --------
    >>> Scenario("pair-a-b", (("a", "component_down"), ("b", "component_down"))).targets
    ('a', 'b')
    """

    id: str
    faults: tuple[tuple[str, str], ...] = ()
    traffic_multiplier: float = 1.0

    @property
    def targets(self) -> tuple[str, ...]:
        """The faulted component ids, in fault order."""
        return tuple(c for c, _ in self.faults)

    def describe(self) -> str:
        """The faults as ``fault:component`` joined by ``+`` (``-`` for none)."""
        return "+".join(f"{f}:{c}" for c, f in self.faults) or "-"


def risk_class(risk: float) -> str:
    """``critical`` (>= 7), ``warning`` (>= 4) or ``passed`` (SEMANTICS 2.5).

    >>> risk_class(7.0), risk_class(6.9), risk_class(3.99)
    ('critical', 'warning', 'passed')
    """
    return "critical" if risk >= CRITICAL_RISK else "warning" if risk >= WARNING_RISK else "passed"


# ---------------------------------------------------------------------------------------------
# The generator: categories as blocks of known size (SEMANTICS 7)
# ---------------------------------------------------------------------------------------------
_Block = tuple[int, Callable[[int, int], Iterator[Scenario]]]

_TYPE_RANK = {"database": 6, "cache": 5, "dns": 5, "queue": 4, "storage": 4, "app_server": 3,
              "web_server": 3, "load_balancer": 2}


def _list_block(items: Callable[[], list[Scenario]], count: int) -> _Block:
    return count, lambda a, b: iter(items()[a:b])


def _single(prefix: str, fault: str, ids: Sequence[str], mult: float = 1.0) -> _Block:
    def make(a: int, b: int) -> Iterator[Scenario]:
        for c in ids[a:b]:
            yield Scenario(f"{prefix}-{c}", ((c, fault),), mult)
    return len(ids), make


def _pairs(ids: Sequence[str]) -> _Block:
    n = len(ids)

    def make(a: int, b: int) -> Iterator[Scenario]:
        # unrank a -> (i, j) in itertools.combinations order
        i, rest = 0, a
        while i < n and rest >= n - 1 - i:
            rest -= n - 1 - i
            i += 1
        j = i + 1 + rest
        for _ in range(b - a):
            x, y = ids[i], ids[j]
            yield Scenario(f"pair-{x}-{y}", ((x, "component_down"), (y, "component_down")))
            j += 1
            if j >= n:
                i += 1
                j = i + 1
    return n * (n - 1) // 2, make


def _blocks(topology: Topology) -> list[_Block]:
    """The categories of the default generator in order, each as (count, make(start, stop))."""
    comps = topology.components
    ids = list(topology.ids)
    n = len(ids)

    def of(*types: str) -> list[str]:
        return [c.id for c in comps if c.type in types]

    dbs, caches, lbs = of("database"), of("cache"), of("load_balancer")
    queues, stores, dnss, exts = of("queue"), of("storage"), of("dns"), of("external_api")
    apps = of("app_server") + of("web_server")
    db_rep = [c.id for c in comps if c.type == "database" and c.replicas > 1]
    hosts: dict[str, list[str]] = {}
    for c in comps:
        hosts.setdefault(c.host or "unknown", []).append(c.id)
    zones = [(h, m) for h, m in hosts.items() if len(m) >= 2]

    def S(sid: str, faults: Sequence[tuple[str, str]], mult: float = 1.0) -> Scenario:
        return Scenario(sid, tuple(faults), mult)

    blocks: list[_Block] = [
        _single("single-failure", "component_down", ids),
        _single("cpu-saturation", "cpu_saturation", ids),
        _single("oom", "memory_exhaustion", ids),
        _single("pool-exhaustion", "connection_pool_exhaustion", dbs + apps + caches),
        _single("disk-full", "disk_full", dbs + stores + apps + queues),
        _single("net-partition", "network_partition", ids),
        _single("latency-5x", "latency_spike", ids),
        _single("latency-20x", "latency_spike", dbs),
        _list_block(lambda: [S(f"traffic-{m}x", (), float(m)) for m in ("1.5", "2", "3", "5",
                                                                          "10")], 5),
        _pairs(ids),
    ]
    if n <= 10:
        triples = list(itertools.combinations(ids, 3))
        blocks.append(_list_block(lambda: [
            S(f"triple-{a}-{b}-{c}", [(x, "component_down") for x in (a, b, c)])
            for a, b, c in triples], len(triples)))

    def per(items: Sequence[str], kinds: Sequence[tuple[str, str]]) -> _Block:
        return _list_block(lambda: [S(f"{name}-{x}", [(x, fault)]) for x in items
                                    for name, fault in kinds], len(items) * len(kinds))

    blocks += [
        _list_block(lambda: [S(f"stampede-{c}-{m:.1f}x", [(c, "component_down")], m)
                             for c in caches for m in (2.0, 5.0)], 2 * len(caches)),
        _list_block(lambda: [S(f"down-traffic-{c}-{m:.1f}x", [(c, "component_down")], m)
                             for c in ids for m in (2.0, 3.0)], 2 * n),
        _list_block(lambda: [S(f"zone-failure-{h}", [(c, "component_down") for c in m])
                             for h, m in zones], len(zones)),
        per(dbs, (("log-explosion", "disk_full"), ("replication-lag", "latency_spike"),
                  ("connection-storm", "connection_pool_exhaustion"),
                  ("lock-contention", "latency_spike"))),
        per(queues, (("queue-backpressure", "disk_full"), ("poison-message", "latency_spike"))),
        per(lbs, (("healthcheck-fail", "component_down"), ("tls-expiry", "component_down"),
                  ("config-reload", "component_down"))),
        per(apps, (("memory-leak", "memory_exhaustion"),
                   ("thread-exhaustion", "connection_pool_exhaustion"),
                   ("gc-pause", "latency_spike"), ("bad-deploy", "component_down"))),
        per(caches, (("eviction-storm", "memory_exhaustion"),
                     ("cache-split-brain", "network_partition"))),
        per(dnss, (("dns-failure", "component_down"), ("dns-latency", "latency_spike"))),
        per(stores, (("io-throttle", "latency_spike"), ("data-corruption", "component_down"))),
    ]
    tail: list[Callable[[], list[Scenario]]] = []
    if dbs and apps:
        tail.append(lambda: [S("cascading-timeout", [(d, "latency_spike") for d in dbs])])
    if n >= 3:
        k = min(3, max(2, n // 3))
        ranked = sorted(comps, key=lambda c: _TYPE_RANK.get(c.type, 1), reverse=True)[:k]
        tail.append(lambda: [S("total-meltdown", [(c, "component_down") for c in ids]),
                             S("cascading-meltdown", [(c.id, "component_down") for c in ranked])])
    tail.append(lambda: [S(f"noisy-neighbor-{a}", [(a, "cpu_saturation")]) for a in apps])
    tail.append(lambda: [S(f"slow-db-peak-{d}", [(d, "latency_spike")], 3.0) for d in dbs])
    if len(apps) >= 2:
        k = min(max(1, len(apps) // 4), len(apps) - 1)
        tail.append(lambda: [S("rolling-restart-fail", [(a, "component_down")
                                                        for a in apps[:k]])])
    tail.append(lambda: [S(f"{name}-{x}", [(x, fault)]) for x in exts for name, fault in
                         (("external-timeout", "latency_spike"),
                          ("external-down", "component_down"))])

    def partitions() -> list[Scenario]:
        out = []
        if apps and dbs:
            out.append(S("partition-app-db", [(d, "network_partition") for d in dbs]))
        if apps and caches:
            out.append(S("partition-app-cache", [(c, "network_partition") for c in caches]))
        if lbs and apps:
            if len(lbs) > 1:
                out += [S(f"partition-{lb}-app", [(lb, "component_down")]) for lb in lbs]
            out.append(S("partition-lb-app", [(a, "network_partition") for a in apps]))
        return out

    tail.append(partitions)
    tail.append(lambda: [S(f"resource-exhaustion-{a}", [(a, "cpu_saturation"),
                                                         (a, "memory_exhaustion")])
                         for a in apps])
    tail.append(lambda: [S(f"cascading-timeout-{c.id}", [(c.id, "latency_spike")])
                         for c in comps if c.timeout_seconds > 0])
    tail.append(lambda: [S(f"sustained-degradation-{a}", [(a, "cpu_saturation"),
                                                           (a, "memory_exhaustion")])
                         for a in apps])
    tail.append(lambda: [S(f"primary-failover-{d}", [(d, "component_down")]) for d in db_rep])
    if n >= 1:
        tail.append(lambda: [S("black-friday", [(c, "memory_exhaustion") for c in caches],
                               10.0)])
    tail.append(lambda: _agent_scenarios(topology))
    for make in tail:
        items = make()
        blocks.append(_list_block(lambda items=items: items, len(items)))
    return blocks


_AGENT_FAULTS = {
    "ai_agent": ("agent", ("hallucination", "context_overflow", "agent_loop")),
    "llm_endpoint": ("llm", ("llm_rate_limit", "token_exhaustion", "component_down")),
    "tool_service": ("tool", ("tool_failure", "component_down", "latency_spike")),
    "agent_orchestrator": ("orch", ("agent_loop", "component_down", "context_overflow")),
}


def _agent_scenarios(topology: Topology) -> list[Scenario]:
    """Agent scenarios (SEMANTICS 7), only when an agent-type component exists."""
    comps = topology.components
    if not any(c.type in _AGENT_FAULTS for c in comps):
        return []
    out = []
    for c in comps:
        if c.type in _AGENT_FAULTS:
            prefix, faults = _AGENT_FAULTS[c.type]
            out += [Scenario(f"{prefix}-{f}-{c.id}", ((c.id, f),)) for f in faults]
    out += [Scenario(f"cross-layer-{c.id}-down", ((c.id, "component_down"),))
            for c in comps if c.type in ("database", "cache", "storage")]
    llms = [c.id for c in comps if c.type == "llm_endpoint"]
    if len(llms) >= 2:
        out.append(Scenario("all-llm-down", tuple((x, "component_down") for x in llms)))
    agents = [c.id for c in comps if c.type == "ai_agent"]
    out += [Scenario(f"prompt-injection-{a}", ((a, "prompt_injection"),)) for a in agents]
    idx = topology.index
    targeted = {e.target for e in topology.dependencies
                if comps[idx[e.source]].type == "ai_agent"}
    out += [Scenario(f"cascade-ratelimit-{x}", ((x, "llm_rate_limit"),))
            for x in llms if x in targeted]
    return out


def count_scenarios(topology: Topology) -> int:
    """The number of default scenarios, without generating them.

    >>> from faultray_lab import load_topology, demo_topology_path
    >>> count_scenarios(load_topology(demo_topology_path()))
    255
    """
    return sum(count for count, _ in _blocks(topology))


def iter_scenarios(topology: Topology, start: int = 0,
                   stop: int | None = None) -> Iterator[Scenario]:
    """The default scenarios ``start <= i < stop`` in generation order, generated lazily.

    Blocks before ``start`` are skipped without being generated, so any slice is cheap.

    >>> from faultray_lab import load_topology, demo_topology_path
    >>> [s.id for s in iter_scenarios(load_topology(demo_topology_path()), 54, 56)]
    ['traffic-1.5x', 'traffic-2x']
    """
    pos = 0
    for count, make in _blocks(topology):
        lo, hi = pos, pos + count
        pos = hi
        if stop is not None and lo >= stop:
            return
        if hi <= start:
            continue
        a = max(start, lo) - lo
        b = (count if stop is None else min(stop, hi) - lo)
        yield from make(a, b)


def generate_scenarios(topology: Topology) -> list[Scenario]:
    """All default scenarios of the reference generator, in its exact order and naming.

    Parameters
    ----------
    topology : Topology

    Returns
    -------
    list of Scenario
        The 32 default categories (SEMANTICS 7) followed by the agent scenarios.

    Examples
    --------
    >>> from faultray_lab import load_topology, demo_topology_path
    >>> s = generate_scenarios(load_topology(demo_topology_path()))
    >>> s[9].id, s[9].faults
    ('cpu-saturation-nginx', (('nginx', 'cpu_saturation'),))
    """
    return list(iter_scenarios(topology))


# ---------------------------------------------------------------------------------------------
# Resilience score and SPOFs
# ---------------------------------------------------------------------------------------------
def resilience_score(topology: Topology) -> float:
    """The structural resilience score, 0-100 (SEMANTICS 2.6, capped form).

    Penalties: single points of failure (up to 30), co-hosted replicas (20), missing failover
    (15), utilization (25), dependency depth (10).

    Examples
    --------
    >>> from faultray_lab import load_topology, demo_topology_path
    >>> resilience_score(load_topology(demo_topology_path()))
    50.0
    """
    return resilience_breakdown(topology)["score"]


def resilience_breakdown(topology: Topology) -> dict[str, float]:
    """The resilience score with each penalty (spof, host, failover, utilization, depth).

    >>> from faultray_lab import load_topology, demo_topology_path
    >>> resilience_breakdown(load_topology(demo_topology_path()))["failover"]
    12.0
    """
    comps, deps = topology.components, topology.dependencies
    if not comps:
        return {"score": 0.0, "spof": 0.0, "host": 0.0, "failover": 0.0, "utilization": 0.0,
                "depth": 0.0, "depth_nodes": 0}
    edge_w = {"requires": 1.0, "optional": 0.3, "async": 0.1}
    spof = host = failover = util = 0.0
    for i, c in enumerate(comps):
        dependents = topology.dependents[i]
        if dependents:
            if c.replicas <= 1:
                w = sum(edge_w.get(deps[k].type, 1.0) for _, k in dependents)
                p = min(20.0, 5.0 * w)
                if c.failover:
                    p *= 0.3
                if c.autoscaling:
                    p *= 0.5
                spof += p
            if c.replicas >= 2 and c.host:
                host += min(5.0, 2.0 * len(dependents))
            if not c.failover:
                failover += min(3.0, float(len(dependents)))
        for v in (c.cpu_percent, c.memory_percent, c.disk_percent):
            util += 10 if v >= 95 else 7 if v >= 90 else 4 if v >= 80 else 1 if v >= 70 else 0
    d = _longest_entry_leaf_path(topology)
    penalties = {"spof": min(30.0, spof), "host": min(20.0, host),
                 "failover": min(15.0, failover), "utilization": min(25.0, util),
                 "depth": min(10.0, 3.0 * (d - 5)) if d > 5 else 0.0}
    score = 100.0
    for value in penalties.values():  # subtracted one by one, in this order
        score -= value
    return {"score": max(0.0, min(100.0, score)), **penalties, "depth_nodes": d}


def _longest_entry_leaf_path(topology: Topology, limit: int = 100) -> int:
    """Node count of the longest of the first ``limit`` entry-to-leaf simple paths.

    Enumerates as ``networkx.all_simple_paths`` does (depth first over successors in edge
    order) per (entry, leaf) pair, but prunes branches that cannot reach the leaf: they yield
    no path, so the sequence of paths is the same and the search stays polynomial per path.
    """
    n = len(topology)
    succ: list[list[int]] = [[] for _ in range(n)]
    for j, lst in enumerate(topology.dependencies_of):
        seen: set[int] = set()
        for t, _ in lst:
            if t not in seen:  # networkx collapses parallel edges
                seen.add(t)
                succ[j].append(t)
    has_pred = [bool(x) for x in topology.dependents]
    entries = [i for i in range(n) if not has_pred[i]]
    leaves = [i for i in range(n) if not succ[i]]
    best, found = 0, 0
    reach: dict[int, set[int]] = {}
    for e in entries:
        for leaf in leaves:
            if e == leaf:  # an isolated component: networkx yields the one-node path
                best = max(best, 1)
                found += 1
                if found >= limit:
                    return best
                continue
            can = reach.get(leaf)
            if can is None:
                can = reach[leaf] = set(topology.dependents_closure(leaf))
            if e not in can:
                continue
            path = [e]
            on_path = {e}
            stack = [iter(succ[e])]
            while stack:
                nxt = next(stack[-1], None)
                if nxt is None:
                    stack.pop()
                    on_path.discard(path.pop())
                    continue
                if nxt in on_path or nxt not in can:
                    continue
                if nxt == leaf:
                    best = max(best, len(path) + 1)
                    found += 1
                    if found >= limit:
                        return best
                    continue
                path.append(nxt)
                on_path.add(nxt)
                stack.append(iter(succ[nxt]))
    return best


def spofs(topology: Topology, rules: Any = "cps") -> Any:
    """Single points of failure: replicas <= 1, no failover, at least one ``requires`` dependent.

    Parameters
    ----------
    topology : Topology
    rules : str or RuleSet
        The rule set used to measure what each SPOF takes down (its component_down fault).

    Returns
    -------
    DataFrame
        One row per SPOF in component order: ``component``, ``type``,
        ``requires_dependents``, ``dependents``, ``affected`` and ``down`` (components its
        failure affects / takes down, itself included) and ``share_down`` (``down / |C|``).

    Examples
    --------
    >>> from faultray_lab import load_topology, demo_topology_path
    >>> df = spofs(load_topology(demo_topology_path()), rules="faultray-v11")
    >>> round(float(df.set_index("component").loc["postgres", "share_down"]), 3)
    0.667
    """
    import pandas as pd

    return pd.DataFrame(_spof_rows(topology, rules), columns=[
        "component", "type", "requires_dependents", "dependents", "affected", "down",
        "share_down"])


def _spof_rows(topology: Topology, rules: Any) -> list[dict[str, Any]]:
    from .fastpath import evaluator_for

    comps, deps = topology.components, topology.dependencies
    cand = []
    for i, c in enumerate(comps):
        req = sum(1 for _, k in topology.dependents[i] if deps[k].type == "requires")
        if c.replicas <= 1 and not c.failover and req >= 1:
            cand.append((i, req))
    if not cand:
        return []
    ev = evaluator_for(topology, rules)
    n = len(comps)
    rows = []
    for i, req in cand:
        affected, down, _, _ = ev.fault_chain(i, "component_down").counts
        rows.append({"component": comps[i].id, "type": comps[i].type,
                     "requires_dependents": req, "dependents": len(topology.dependents[i]),
                     "affected": affected, "down": down, "share_down": down / n})
    return rows


# ---------------------------------------------------------------------------------------------
# Sweeps
# ---------------------------------------------------------------------------------------------
def _check_sweep_args(topology: Topology, rules: Any, max_scenarios: Any,
                      executor: Any) -> None:
    from .rules import get_ruleset

    if not isinstance(topology, Topology):
        raise InputError(None, "topology", f"expected a Topology, not {type(topology).__name__}",
                         "load one with faultray_lab.load_topology(path)")
    get_ruleset(rules)
    if max_scenarios is not None and (isinstance(max_scenarios, bool)
                                      or not isinstance(max_scenarios, int)
                                      or max_scenarios < 1):
        raise InputError(None, "max_scenarios", f"max_scenarios must be a whole number >= 1 or "
                         f"None (all), not {max_scenarios!r}", "use for example 2000, or None")
    if executor not in EXECUTORS:
        import difflib

        near = difflib.get_close_matches(str(executor), EXECUTORS, n=1, cutoff=0.4)
        raise InputError(None, "executor", f"unknown executor '{executor}'",
                         f"did you mean '{near[0]}'?" if near else
                         f"use one of {', '.join(EXECUTORS)}")


def run_sweep(topology: Topology, scenarios: Sequence[Scenario] | None = None,
              rules: Any = "cps", max_scenarios: int | None = 2000,
              executor: str = "serial", scheduler: Any = None,
              progress: bool | None = None) -> Any:
    """Run a scenario sweep and return one row per scenario.

    Single-fault chains come from the vectorized table of :mod:`faultray_lab.fastpath`
    (exactly what :func:`~faultray_lab.cascade.simulate_fault` gives); other chains (traffic
    spikes, cps latency spikes, custom rule sets) are simulated once each and reused.

    Parameters
    ----------
    topology : Topology
    scenarios : sequence of Scenario, optional
        Default: the reference's default scenarios (:func:`iter_scenarios`), generated lazily.
    rules : str or RuleSet
        ``"cps"`` (default) or ``"faultray-v11"``.
    max_scenarios : int or None
        Keep the first ``max_scenarios`` scenarios in generation order (the reference keeps
        2000); None runs them all.
    executor : {"serial", "processes", "dask"}
        Where chunks of scenarios run. All three give identical DataFrames.
    scheduler : str or distributed.Client, optional
        For ``"dask"``: a scheduler address such as ``tcp://host:8786`` or a Client; None
        starts a LocalCluster.
    progress : bool, optional
        A tqdm progress bar on stderr: None shows it only when the sweep runs longer than a
        second, False never, True always.

    Returns
    -------
    DataFrame
        Columns ``id``, ``faults``, ``traffic_multiplier``, ``likelihood``, ``risk``,
        ``class``, ``affected``, ``down``, ``overloaded``, ``degraded`` (distinct components by
        their worst health) and ``outcome`` (a 128-bit fingerprint of the merged health map:
        scenarios with equal fingerprints have identical merged outcomes).

    Raises
    ------
    InputError
        Unknown rule set or executor, ``max_scenarios < 1``, unreachable Dask scheduler,
        a scenario naming an unknown component or fault type.

    Examples
    --------
    >>> from faultray_lab import load_topology, demo_topology_path
    >>> df = run_sweep(load_topology(demo_topology_path()), rules="faultray-v11")
    >>> df.sort_values("risk", ascending=False, kind="stable").iloc[0]["id"]
    'traffic-10x'
    """
    import pandas as pd

    cols = sweep_columns(topology, scenarios, rules, max_scenarios, executor, scheduler,
                         progress)
    df = pd.DataFrame(cols, columns=SWEEP_COLUMNS)
    return df


def sweep_columns(topology: Topology, scenarios: Sequence[Scenario] | None = None,
                  rules: Any = "cps", max_scenarios: int | None = 2000,
                  executor: str = "serial", scheduler: Any = None,
                  progress: bool | None = None) -> dict[str, list[Any]]:
    """:func:`run_sweep` as a dict of column lists (no pandas import; used by the CLI)."""
    _check_sweep_args(topology, rules, max_scenarios, executor)
    if scenarios is not None:
        scenarios = list(scenarios)
        for s in scenarios:
            if not isinstance(s, Scenario):
                raise InputError(None, "scenarios", f"expected Scenario objects, not "
                                 f"{type(s).__name__}", "build them with Scenario(id, faults)")
            m = s.traffic_multiplier
            if isinstance(m, bool) or not isinstance(m, int | float) or not m > 0 or m == math.inf:
                raise InputError(None, f"scenario {s.id}", f"traffic_multiplier must be a "
                                 f"positive number, not {m!r}", "use 1.0 for no traffic spike")
        total = len(scenarios)
    else:
        total = count_scenarios(topology)
    stop = total if max_scenarios is None else min(total, max_scenarios)
    chunk = _chunk_size(stop, executor)
    ranges = [(a, min(a + chunk, stop)) for a in range(0, stop, chunk)]
    parts = _run_ranges(topology, scenarios, rules, ranges, executor, scheduler, progress)
    out: dict[str, list[Any]] = {c: [] for c in SWEEP_COLUMNS}
    for p in parts:
        for c in SWEEP_COLUMNS:
            out[c].extend(p[c])
    return out


def _chunk_size(stop: int, executor: str) -> int:
    if executor == "serial":
        return max(1, min(20_000, stop))
    return max(256, min(20_000, math.ceil(stop / 32)))


def _eval_range(topology: Topology, scenarios: Sequence[Scenario] | None, rules: Any,
                a: int, b: int) -> dict[str, list[Any]]:
    from .fastpath import evaluator_for

    items = scenarios[a:b] if scenarios is not None else iter_scenarios(topology, a, b)
    return evaluator_for(topology, rules).evaluate(items)


def _progress_bar(total: int, progress: bool | None) -> Any:
    if progress is False:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="scenario", delay=0.0 if progress else 1.0,
                file=None, leave=False, desc="sweep")


def _run_ranges(topology: Topology, scenarios: Sequence[Scenario] | None, rules: Any,
                ranges: list[tuple[int, int]], executor: str, scheduler: Any,
                progress: bool | None) -> list[dict[str, list[Any]]]:
    total = ranges[-1][1] if ranges else 0
    bar = _progress_bar(total, progress) if ranges else None
    try:
        if executor == "serial":
            parts = []
            for a, b in ranges:
                parts.append(_eval_range(topology, scenarios, rules, a, b))
                if bar is not None:
                    bar.update(b - a)
            return parts
        if executor == "processes":
            return _run_processes(topology, scenarios, rules, ranges, bar)
        return _run_dask(topology, scenarios, rules, ranges, scheduler, bar)
    finally:
        if bar is not None:
            bar.close()


_WORKER: dict[str, Any] = {}


def _proc_init(topology: Topology, scenarios: Sequence[Scenario] | None, rules: Any) -> None:
    _WORKER["args"] = (topology, scenarios, rules)


def _proc_task(ab: tuple[int, int]) -> dict[str, list[Any]]:
    topology, scenarios, rules = _WORKER["args"]
    return _eval_range(topology, scenarios, rules, *ab)


def _run_processes(topology: Topology, scenarios: Sequence[Scenario] | None, rules: Any,
                   ranges: list[tuple[int, int]], bar: Any) -> list[dict[str, list[Any]]]:
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    workers = max(1, min(len(ranges), os.cpu_count() or 1))
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_proc_init,
                             initargs=(topology, scenarios, rules)) as pool:
        parts = []
        for (a, b), part in zip(ranges, pool.map(_proc_task, ranges), strict=True):
            parts.append(part)
            if bar is not None:
                bar.update(b - a)
    return parts


def _dask_client(scheduler: Any) -> tuple[Any, list[Any]]:
    """A client for ``scheduler`` (an address, a Client, or None: a new LocalCluster), and
    the objects this call created and must close."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - the extra is not installed
        raise InputError(None, "executor", "executor 'dask' needs dask.distributed",
                         "pip install 'faultray-lab[dask]'") from None
    if scheduler is None:
        cluster = LocalCluster(processes=True, threads_per_worker=1, dashboard_address=None)
        client = Client(cluster)
        return client, [client, cluster]
    if isinstance(scheduler, Client):
        return scheduler, []
    if not isinstance(scheduler, str) or not scheduler:
        raise InputError(None, "scheduler", f"scheduler must be an address string, not "
                         f"{scheduler!r}", "use for example tcp://HOST:8786")
    timeout = float(os.environ.get("FAULTRAY_LAB_DASK_TIMEOUT", "5"))
    try:
        client = Client(scheduler, timeout=timeout)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(None, "scheduler", f"cannot reach the Dask scheduler at "
                         f"'{scheduler}' within {timeout:g} s ({type(exc).__name__})",
                         "start one with `dask scheduler` (and workers with `dask worker "
                         "tcp://HOST:8786`), or omit --scheduler for a local cluster") from None
    return client, [client]


def _run_dask(topology: Topology, scenarios: Sequence[Scenario] | None, rules: Any,
              ranges: list[tuple[int, int]], scheduler: Any,
              bar: Any) -> list[dict[str, list[Any]]]:
    client, owned = _dask_client(scheduler)
    try:
        from distributed import as_completed

        # hash=False: fresh keys, so an earlier sweep releasing its data cannot take ours
        topo_f = client.scatter(topology, broadcast=True, hash=False)
        sc_f = (client.scatter(scenarios, broadcast=True, hash=False)
                if scenarios is not None else None)
        futures = [client.submit(_eval_range, topo_f, sc_f, rules, a, b, pure=False)
                   for a, b in ranges]
        order = {f.key: i for i, f in enumerate(futures)}
        parts: list[Any] = [None] * len(futures)
        for fut in as_completed(futures):
            i = order[fut.key]
            parts[i] = fut.result()
            if bar is not None:
                bar.update(ranges[i][1] - ranges[i][0])
        return parts
    finally:
        for obj in owned:
            obj.close()


# ---------------------------------------------------------------------------------------------
# Reports (shared by `demo --json` and `sweep --json`)
# ---------------------------------------------------------------------------------------------
def sweep_report(topology: Topology, rules: Any = "cps", max_scenarios: int | None = 2000,
                 executor: str = "serial", scheduler: Any = None, progress: bool | None = None,
                 top: int = 10, include_results: bool = False) -> dict[str, Any]:
    """The sweep summary the CLI prints: counts, distinct outcomes, score, SPOFs, top risks.

    >>> from faultray_lab import load_topology, demo_topology_path
    >>> r = sweep_report(load_topology(demo_topology_path()), rules="faultray-v11")
    >>> r["scenarios"], r["critical"], r["warning"], r["passed"], r["resilience_score"]
    (255, 21, 84, 150, 50.0)
    """
    cols = sweep_columns(topology, None, rules, max_scenarios, executor, scheduler, progress)
    classes = cols["class"]
    order = sorted(range(len(classes)), key=lambda i: -cols["risk"][i])[:top]
    stop = len(classes)
    top_risks = []
    if order:
        from .fastpath import evaluator_for

        ev = evaluator_for(topology, rules)
        for i in order:
            s = next(iter_scenarios(topology, i, i + 1))
            top_risks.append({"id": s.id, "risk": cols["risk"][i], "class": classes[i],
                              "faults": [list(f) for f in s.faults],
                              "traffic_multiplier": s.traffic_multiplier,
                              "cascade": ev.merged_health(s)})
    report: dict[str, Any] = {
        "scenarios": stop,
        "generated": count_scenarios(topology),
        "critical": classes.count("critical"),
        "warning": classes.count("warning"),
        "passed": classes.count("passed"),
        "distinct_outcomes": len(set(cols["outcome"])),
        "resilience_score": resilience_score(topology),
        "spofs": _spof_rows(topology, rules),
        "top_risks": top_risks,
    }
    if include_results:
        report["results"] = [dict(zip(SWEEP_COLUMNS, row, strict=True))
                             for row in zip(*(cols[c] for c in SWEEP_COLUMNS), strict=True)]
    return report


def single_fault_table(topology: Topology, rules: Any = "cps",
                       fault: str = "component_down") -> Any:
    """Every single-component fault of one type, in one vectorized pass.

    See :func:`faultray_lab.fastpath.single_fault_table`.

    >>> from faultray_lab import load_topology, demo_topology_path
    >>> df = single_fault_table(load_topology(demo_topology_path()), "faultray-v11")
    >>> float(df.set_index("component").loc["postgres", "severity"])
    5.3
    """
    from .fastpath import single_fault_table as _sft

    return _sft(topology, rules, fault)

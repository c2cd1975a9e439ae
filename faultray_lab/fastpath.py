"""Every single-component fault in one pass, and the chain algebra of scenario sweeps.

The dominant work of a sweep is the single-component fault. This module computes it for every
component at once, giving exactly what :func:`~faultray_lab.cascade.simulate_fault` gives:

* ``cps`` (SEMANTICS 3) without an injected latency: the affected set is the reverse-reachable
  set and the down set is the reverse-reachable set over breaker-free ``requires`` edges whose
  upstream has one replica (R2; R7 needs a latency). Both are computed for all targets together
  by level-synchronous sparse-matrix propagation (``scipy.sparse``): frontier ``F @ A``, minus
  the visited matrix, until no frontier is left. Cycles need no special care.
* ``faultray-v11`` (SEMANTICS 2.1): the first-come depth-first traversal is order dependent
  (a component reached as degraded before it goes down keeps both effects), so each target is
  traversed, but over compact integer arrays with the per-edge transition of every upstream
  health precomputed once from the rule table (shared work). The depth bound and the agent
  cross-layer rule (2.1 step 5) are reproduced.

A chain's outcome depends only on its target and the injected health (and, under cps, on an
injected latency), so a sweep looks each single-fault chain up here and simulates the rest
(traffic spikes, cps latency spikes, custom rule sets) once each with the engine.

Examples
--------
>>> from faultray_lab import load_topology, demo_topology_path
>>> topo = load_topology(demo_topology_path())
>>> t = single_fault_summaries(topo, "faultray-v11", "down")
>>> t.distinct_counts(topo.index["postgres"])
(6, 6, 0, 0)
"""

from __future__ import annotations

import gc
import hashlib
import weakref
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .cascade import (
    Cascade,
    chain_severity,
    severity_from_counts,
    simulate_fault,
    simulate_traffic_spike,
)
from .errors import InputError
from .rules import (
    CPS,
    FAULT_EFFECTS,
    FAULTRAY_V11,
    EdgeContext,
    RuleSet,
    check_fault_type,
    fault_likelihood,
    first_match,
    get_ruleset,
    merged_likelihood,
    traffic_likelihood,
)
from .topology import HEALTH_ORDER, HEALTH_RANK, Topology

RANK_OF = {"degraded": 1, "overloaded": 2, "down": 3}
NAME_OF = {1: "degraded", 2: "overloaded", 3: "down"}


def _builtin(rs: RuleSet) -> str | None:
    if rs == FAULTRAY_V11:
        return "faultray-v11"
    if rs == CPS:
        return "cps"
    return None


def fingerprint(hmap: dict[int, int]) -> str:
    """A 128-bit fingerprint of a health map {component position: rank} (order free).

    >>> fingerprint({1: 3, 0: 1}) == fingerprint({0: 1, 1: 3})
    True
    """
    keys = array("q", sorted(c * 4 + r for c, r in hmap.items()))
    return hashlib.blake2b(keys.tobytes(), digest_size=16).hexdigest()


# ---------------------------------------------------------------------------------------------
# Compiled topology
# ---------------------------------------------------------------------------------------------
@dataclass
class _Compiled:
    """CSR of the dependents lists (upstream -> dependents, in edge order) as plain lists.

    ``ptr[u]:ptr[u + 1]`` indexes upstream ``u``'s dependents ``dep`` and edge positions
    ``edge``; ``out[h][p]`` is the dependent's new rank (0: no effect) when the upstream of
    CSR position ``p`` has rank ``h``.
    """

    n: int
    ptr: list[int]
    dep: list[int]
    edge: list[int]
    src: Any  # numpy: upstream position per CSR position
    dst: Any  # numpy: dependent position per CSR position
    eidx: Any  # numpy: edge position per CSR position


def _compile(topology: Topology) -> _Compiled:
    import numpy as np

    idx = topology.index
    deps = topology.dependencies
    m = len(deps)
    up = np.fromiter((idx[e.target] for e in deps), dtype=np.int64, count=m)
    dn = np.fromiter((idx[e.source] for e in deps), dtype=np.int64, count=m)
    order = np.argsort(up, kind="stable")  # per upstream, edges in insertion order
    src, dst = up[order], dn[order]
    ptr = np.zeros(len(topology) + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=len(topology)), out=ptr[1:])
    return _Compiled(len(topology), ptr.tolist(), dst.tolist(), order.tolist(), src, dst, order)


def _edge_outcomes(topology: Topology, rs: RuleSet, cg: _Compiled) -> list[list[int]]:
    """Per upstream health rank (1..3): per CSR position, the dependent's new rank (0 none).

    The rule table is evaluated once per distinct edge signature (edge type, breaker,
    dependent replicas > 1, dependent utilization > 70, upstream replicas == 1) with no
    upstream latency, which is all the built-in tables' predicates read in that case.
    """
    import numpy as np

    comps, deps = topology.components, topology.dependencies
    n, m = len(comps), len(deps)
    util70 = np.fromiter((c.utilization > 70 for c in comps), dtype=np.int64, count=n)
    rep1 = np.fromiter((c.replicas == 1 for c in comps), dtype=np.int64, count=n)
    etype = np.fromiter((("requires", "optional", "async").index(e.type) for e in deps),
                        dtype=np.int64, count=m)
    brk = np.fromiter((e.circuit_breaker for e in deps), dtype=np.int64, count=m)
    key = (etype[cg.eidx] * 16 + brk[cg.eidx] * 8 + rep1[cg.dst] * 4 + util70[cg.dst] * 2
           + rep1[cg.src])
    uniq, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    table = np.zeros((4, len(uniq)), dtype=np.int64)
    for j, p in enumerate(first.tolist()):
        d, u, e = int(cg.dst[p]), int(cg.src[p]), deps[int(cg.eidx[p])]
        for h, name in ((1, "degraded"), (2, "overloaded"), (3, "down")):
            r = first_match(rs, EdgeContext(comps[d], comps[u], e, name, None))
            table[h, j] = 0 if r is None or r[1] is None else RANK_OF[r[1]]
    return [[]] + [table[h][inverse].tolist() for h in (1, 2, 3)]


# ---------------------------------------------------------------------------------------------
# Single-fault tables
# ---------------------------------------------------------------------------------------------
@dataclass
class SingleFaultTable:
    """The outcome of a fault injecting ``health`` into each component, for all components.

    ``ptr``/``comp``/``rank`` hold each target's health map (component position -> worst
    rank, 1 degraded, 2 overloaded, 3 down) as CSR; ``raw`` the raw effect counts
    (down, overloaded, degraded) that the severity reads (faultray-v11 may count a component
    twice; cps counts each once).
    """

    rules: str
    health: str
    ptr: Any
    comp: Any
    rank: Any
    raw: list[tuple[int, int, int]]
    _maps: dict[int, dict[int, int]] = field(default_factory=dict)

    def health_map(self, i: int) -> dict[int, int]:
        """Target ``i``'s health map {component position: rank}, in first-appearance order."""
        m = self._maps.get(i)
        if m is None:
            a, b = int(self.ptr[i]), int(self.ptr[i + 1])
            m = dict(zip(self.comp[a:b].tolist() if hasattr(self.comp, "tolist")
                         else self.comp[a:b],
                         self.rank[a:b].tolist() if hasattr(self.rank, "tolist")
                         else self.rank[a:b], strict=True))
            self._maps[i] = m
        return m

    def distinct_counts(self, i: int) -> tuple[int, int, int, int]:
        """(affected, down, overloaded, degraded) of target ``i``, by worst health."""
        m = self.health_map(i)
        vals = list(m.values())
        return len(vals), vals.count(3), vals.count(2), vals.count(1)


def single_fault_summaries(topology: Topology, rules: str | RuleSet = "cps",
                           health: str = "down") -> SingleFaultTable:
    """The :class:`SingleFaultTable` of a fault injecting ``health`` into every component.

    Only the built-in rule sets have a fast path; ``health`` is the fault's direct effect
    (SEMANTICS 2.1 step 1), which is all a chain's outcome depends on when no latency is
    injected.

    >>> from faultray_lab import load_topology, demo_topology_path
    >>> topo = load_topology(demo_topology_path())
    >>> single_fault_summaries(topo, "cps", "down").distinct_counts(topo.index["redis"])
    (5, 1, 0, 4)
    """
    rs = get_ruleset(rules)
    name = _builtin(rs)
    if name is None:
        raise InputError(None, f"rule set {rs.name}", "no vectorized path for a custom rule set",
                         "use simulate_fault per component (run_sweep does this itself)")
    if health not in RANK_OF:
        raise InputError(None, "health", f"unknown health '{health}'",
                         "use degraded, overloaded or down")
    cache = _cache_for(topology)
    key = ("table", name, health)
    if key not in cache:
        if name == "cps":
            cache[key] = _cps_table(topology, RANK_OF[health])
        else:
            cache[key] = _v11_table(topology, RANK_OF[health], cache)
    return cache[key]


def _v11_table(topology: Topology, h0: int, cache: dict[Any, Any],
               max_depth: int = 20) -> SingleFaultTable:
    """faultray-v11 for every target: SEMANTICS 2.1 steps 3 and 5 over compact arrays."""
    if ("compiled",) not in cache:
        cache[("compiled",)] = _compile(topology)
    cg: _Compiled = cache[("compiled",)]
    if ("v11-out",) not in cache:
        cache[("v11-out",)] = _edge_outcomes(topology, FAULTRAY_V11, cg)
    outs = cache[("v11-out",)]
    agents = _agent_reach(topology, cache)
    comps = topology.components
    tptr = array("q", [0])
    tcomp: array[int] = array("q")
    trank: array[int] = array("b")
    raw: list[tuple[int, int, int]] = []
    gc_was = gc.isenabled()
    gc.disable()  # many small short-lived containers: the cyclic GC only costs time here
    try:
        _v11_loop(cg, outs, h0, max_depth, agents, comps, tptr, tcomp, trank, raw)
    finally:
        if gc_was:
            gc.enable()
    return SingleFaultTable("faultray-v11", NAME_OF[h0], tptr, tcomp, trank, raw)


def _v11_loop(cg: _Compiled, outs: list[list[int]], h0: int, max_depth: int,
              agents: list[tuple[int, set[int], bool]], comps: Any, tptr: Any, tcomp: Any,
              trank: Any, raw: list[tuple[int, int, int]]) -> None:
    ptr, dep = cg.ptr, cg.dep
    data_types = ("database", "cache", "storage", "external_api")
    leaf = {1: (0, 0, 1), 2: (0, 1, 0), 3: (1, 0, 0)}[h0]
    for t in range(cg.n):
        if ptr[t] == ptr[t + 1] and not agents:  # nothing depends on t
            tcomp.append(t)
            trank.append(h0)
            tptr.append(len(tcomp))
            raw.append(leaf)
            continue
        worst = {t: h0}
        counts = [0, 0, 0, 0]
        counts[h0] += 1
        visited = {t}
        sx, sh, sd, sp = [t], [h0], [0], [ptr[t]]
        while sx:
            x = sx[-1]
            p = sp[-1]
            end = ptr[x + 1]
            o = outs[sh[-1]]
            pushed = False
            while p < end:
                d = dep[p]
                h = o[p]
                p += 1
                if h == 0 or d in visited:
                    continue
                counts[h] += 1
                if h > worst.get(d, 0):
                    worst[d] = h
                depth = sd[-1] + 1
                if h >= 2 and depth <= max_depth:
                    visited.add(d)
                    sp[-1] = p
                    sx.append(d)
                    sh.append(h)
                    sd.append(depth)
                    sp.append(ptr[d])
                    pushed = True
                    break
            if not pushed:
                sx.pop()
                sh.pop()
                sd.pop()
                sp.pop()
        if agents:
            ttype = comps[t].type
            if ttype in data_types:
                for a, reach, grounded in agents:
                    if a != t and a not in worst and t in reach and (
                            grounded or ttype == "external_api"):
                        worst[a] = 1
                        counts[1] += 1
        tcomp.extend(worst.keys())
        trank.extend(worst.values())
        tptr.append(len(tcomp))
        raw.append((counts[3], counts[2], counts[1]))


def _agent_reach(topology: Topology, cache: dict[Any, Any]) -> list[tuple[int, set[int], bool]]:
    """Per ai_agent: (position, components it reaches over any edge, requires_grounding set)."""
    if ("agents",) not in cache:
        out = []
        for a in topology.agent_positions:
            dof = topology.dependencies_of
            seen = {a}
            stack = [a]
            while stack:
                u = stack.pop()
                for v, _ in dof[u]:
                    if v not in seen:
                        seen.add(v)
                        stack.append(v)
            grounded = bool(topology.components[a].parameters.get("requires_grounding"))
            out.append((a, seen, grounded))
        cache[("agents",)] = out
    return cache[("agents",)]


def _reach_matrix(n: int, rows: Any, cols: Any) -> Any:
    """Boolean reachability (targets x components) over edges row -> col, by sparse BFS."""
    import numpy as np
    from scipy import sparse

    a = sparse.csr_matrix((np.ones(len(rows), dtype=np.int32), (rows, cols)), shape=(n, n))
    a.sum_duplicates()
    a.data[:] = 1
    visited = sparse.identity(n, dtype=np.int32, format="csr")
    frontier = visited
    while frontier.nnz:
        nxt = frontier @ a
        nxt.data[:] = 1
        nxt = nxt - nxt.multiply(visited)
        nxt.eliminate_zeros()
        if not nxt.nnz:
            break
        visited = visited + nxt
        frontier = nxt
    visited.sort_indices()
    return visited


def _cps_table(topology: Topology, h0: int) -> SingleFaultTable:
    """cps for every target (no injected latency): reach and down-reach by sparse BFS."""
    import numpy as np

    comps, deps = topology.components, topology.dependencies
    n = len(comps)
    cache = _cache_for(topology)
    if ("cps-reach",) not in cache:
        if ("compiled",) not in cache:
            cache[("compiled",)] = _compile(topology)
        cg: _Compiled = cache[("compiled",)]
        src, dst = cg.src, cg.dst
        keep = src != dst  # a self-edge is ignored
        reach = _reach_matrix(n, src[keep], dst[keep])
        rep1 = np.fromiter((c.replicas == 1 for c in comps), dtype=bool, count=n)
        down_edge = np.fromiter((e.type == "requires" and not e.circuit_breaker for e in deps),
                                dtype=bool, count=len(deps))[cg.eidx]
        keep_d = keep & down_edge & rep1[src]
        down = _reach_matrix(n, src[keep_d], dst[keep_d])
        cache[("cps-reach",)] = (reach, down)
    reach, down = cache[("cps-reach",)]
    ptr = reach.indptr.astype(np.int64)
    comp = reach.indices.astype(np.int64)
    rank = np.ones(len(comp), dtype=np.int8)
    rows = np.repeat(np.arange(n), np.diff(ptr))
    if h0 == 3:
        # positions of down entries inside the reach CSR (down is a subset of reach)
        key_all = rows * n + comp
        drows = np.repeat(np.arange(n), np.diff(down.indptr))
        key_down = drows * n + down.indices.astype(np.int64)
        rank[np.searchsorted(key_all, key_down)] = 3
        ndown = np.diff(down.indptr)
    else:
        rank[np.searchsorted(rows * n + comp, np.arange(n) * n + np.arange(n))] = h0
        ndown = np.zeros(n, dtype=np.int64)
    affected = np.diff(ptr)
    nover = np.full(n, 1 if h0 == 2 else 0, dtype=np.int64)
    ndeg = affected - ndown - nover
    raw = list(zip(ndown.tolist(), nover.tolist(), ndeg.tolist(), strict=True))
    return SingleFaultTable("cps", NAME_OF[h0], ptr, comp, rank, raw)


def single_fault_table(topology: Topology, rules: str | RuleSet = "cps",
                       fault: str = "component_down") -> Any:
    """A DataFrame of every single-component fault of one type, computed in one pass.

    Parameters
    ----------
    topology : Topology
    rules : str or RuleSet
        ``"cps"`` or ``"faultray-v11"``; a custom rule set falls back to the engine per fault.
    fault : str
        A fault type. Under cps a ``latency_spike`` sets a latency, so it runs per fault.

    Returns
    -------
    DataFrame
        ``component``, ``fault``, ``likelihood``, ``affected``, ``down``, ``overloaded``,
        ``degraded`` (distinct components by worst health), ``effects`` (raw effect count) and
        ``severity``: what :func:`~faultray_lab.cascade.simulate_fault` gives for each.

    Examples
    --------
    >>> from faultray_lab import load_topology, demo_topology_path
    >>> df = single_fault_table(load_topology(demo_topology_path()), "cps")
    >>> int(df["down"].max())
    6
    """
    import pandas as pd

    rs = get_ruleset(rules)
    check_fault_type(fault, topology.source)
    ev = evaluator_for(topology, rs)
    rows = []
    for i, c in enumerate(topology.components):
        ch = ev.fault_chain(i, fault)
        a, d, o, g = ch.counts
        rows.append((c.id, fault, ch.likelihood, a, d, o, g, sum(ch.raw),
                     severity_from_counts(*ch.raw, len(topology), ch.likelihood)))
    return pd.DataFrame(rows, columns=["component", "fault", "likelihood", "affected", "down",
                                       "overloaded", "degraded", "effects", "severity"])


# ---------------------------------------------------------------------------------------------
# Chains and scenario evaluation
# ---------------------------------------------------------------------------------------------
@dataclass
class Chain:
    """One chain of a scenario: its health map, raw counts and likelihood."""

    hmap: dict[int, int]
    raw: tuple[int, int, int]
    likelihood: float
    _fp: str | None = None

    @property
    def has_effects(self) -> bool:
        return bool(self.hmap)

    @property
    def counts(self) -> tuple[int, int, int, int]:
        vals = list(self.hmap.values())
        return len(vals), vals.count(3), vals.count(2), vals.count(1)

    @property
    def fp(self) -> str:
        if self._fp is None:
            self._fp = fingerprint(self.hmap)
        return self._fp


def _chain_from_cascade(topology: Topology, c: Cascade) -> Chain:
    idx = topology.index
    hmap: dict[int, int] = {}
    cnt = [0, 0, 0, 0]
    for e in c.effects:
        r = HEALTH_RANK[e.health]
        cnt[r] += 1
        i = idx[e.component]
        if r > hmap.get(i, 0):
            hmap[i] = r
    return Chain(hmap, (cnt[3], cnt[2], cnt[1]), c.likelihood)


class Evaluator:
    """Evaluates scenarios on one topology under one rule set, reusing every chain it builds."""

    def __init__(self, topology: Topology, rules: str | RuleSet) -> None:
        self.topology = topology
        self.rs = get_ruleset(rules)
        self.builtin = _builtin(self.rs)
        self.chains: dict[Any, Chain] = {}

    def fault_chain(self, i: int, fault: str) -> Chain:
        """The chain of ``fault`` on component position ``i``."""
        key = (i, fault)
        ch = self.chains.get(key)
        if ch is not None:
            return ch
        topo = self.topology
        comp = topo.components[i]
        if fault not in FAULT_EFFECTS:
            check_fault_type(fault, topo.source)
        health = FAULT_EFFECTS[fault][0]
        fast = self.builtin is not None and not (self.builtin == "cps"
                                                 and fault == "latency_spike")
        if fast:
            table = single_fault_summaries(topo, self.rs, health)
            ch = Chain(table.health_map(i), table.raw[i], fault_likelihood(comp, fault))
        else:
            ch = _chain_from_cascade(topo, simulate_fault(topo, comp.id, fault, self.rs))
        self.chains[key] = ch
        return ch

    def traffic_chain(self, m: float) -> Chain:
        """The traffic-spike chain of multiplier ``m``."""
        key = ("traffic", m)
        ch = self.chains.get(key)
        if ch is None:
            c = simulate_traffic_spike(self.topology, m, self.rs)
            ch = _chain_from_cascade(self.topology, c)
            ch.likelihood = traffic_likelihood(m)
            self.chains[key] = ch
        return ch

    def scenario_chains(self, s: Any) -> list[Chain]:
        idx = self.topology.index
        chains = []
        if s.traffic_multiplier > 1:
            chains.append(self.traffic_chain(float(s.traffic_multiplier)))
        for cid, fault in s.faults:
            i = idx.get(cid)
            if i is None:
                self.topology.component(cid)  # raises with a suggestion
            chains.append(self.fault_chain(i, fault))  # type: ignore[arg-type]
        return chains

    def merged(self, s: Any) -> tuple[dict[int, int], tuple[int, int, int], float, Chain | None]:
        """(health map, raw counts, likelihood, the single chain if there is only one)."""
        chains = self.scenario_chains(s)
        like = merged_likelihood([c.likelihood for c in chains if c.has_effects],
                                 len(s.faults), len(self.topology))
        if len(chains) == 1:
            c = chains[0]
            return c.hmap, c.raw, like, c
        hmap: dict[int, int] = {}
        raw = [0, 0, 0]
        for c in chains:
            for j in range(3):
                raw[j] += c.raw[j]
            for comp, r in c.hmap.items():
                if r > hmap.get(comp, 0):
                    hmap[comp] = r
        return hmap, (raw[0], raw[1], raw[2]), like, None

    def merged_health(self, s: Any) -> list[list[str]]:
        """The scenario's merged cascade as ``[component id, worst health]`` pairs."""
        hmap = self.merged(s)[0]
        ids = self.topology.ids
        return [[ids[c], HEALTH_ORDER[r]] for c, r in hmap.items()]

    def evaluate(self, scenarios: Iterable[Any]) -> dict[str, list[Any]]:
        """Columns of :data:`faultray_lab.scenarios.SWEEP_COLUMNS` for these scenarios."""
        from .scenarios import SWEEP_COLUMNS, risk_class

        cols: dict[str, list[Any]] = {c: [] for c in SWEEP_COLUMNS}
        n = len(self.topology)
        v11 = self.rs.traversal == "first-come-dfs"
        for s in scenarios:
            hmap, raw, like, single = self.merged(s)
            if single is not None:
                counts, fp = single.counts, single.fp
            else:
                vals = list(hmap.values())
                counts = (len(vals), vals.count(3), vals.count(2), vals.count(1))
                fp = fingerprint(hmap)
            sev_counts = raw if v11 else counts[1:]
            risk = severity_from_counts(*sev_counts, n, like)
            cols["id"].append(s.id)
            cols["faults"].append(s.describe())
            cols["traffic_multiplier"].append(float(s.traffic_multiplier))
            cols["likelihood"].append(like)
            cols["risk"].append(risk)
            cols["class"].append(risk_class(risk))
            cols["affected"].append(counts[0])
            cols["down"].append(counts[1])
            cols["overloaded"].append(counts[2])
            cols["degraded"].append(counts[3])
            cols["outcome"].append(fp)
        return cols


# one cache per topology object (tables, compiled arrays, evaluators), dropped with it
_CACHES: dict[int, tuple[Any, dict[Any, Any]]] = {}


def _cache_for(topology: Topology) -> dict[Any, Any]:
    key = id(topology)
    entry = _CACHES.get(key)
    if entry is not None and entry[0]() is topology:
        return entry[1]
    cache: dict[Any, Any] = {}
    _CACHES[key] = (weakref.ref(topology, _drop_cache(key)), cache)
    return cache


def _drop_cache(key: int) -> Any:
    def drop(ref: Any) -> None:
        caches = _CACHES if isinstance(_CACHES, dict) else None  # None at interpreter exit
        if caches is not None and key in caches and caches[key][0] is ref:
            del caches[key]
    return drop


def evaluator_for(topology: Topology, rules: str | RuleSet) -> Evaluator:
    """The (cached) :class:`Evaluator` of this topology and rule set."""
    rs = get_ruleset(rules)
    cache = _cache_for(topology)
    key = ("evaluator", rs.name, rs.rules)
    ev = cache.get(key)
    if ev is None:
        ev = cache[key] = Evaluator(topology, rs)
    return ev


def chain_check(topology: Topology, component_id: str, fault: str,
                rules: str | RuleSet) -> tuple[dict[str, str], float]:
    """The fast chain's (health by id, severity), for comparing with simulate_fault in tests."""
    ev = evaluator_for(topology, rules)
    ch = ev.fault_chain(topology.index[component_id], fault)
    ids = topology.ids
    sev = chain_severity(["down"] * ch.raw[0] + ["overloaded"] * ch.raw[1]
                         + ["degraded"] * ch.raw[2], len(topology), ch.likelihood)
    return {ids[c]: HEALTH_ORDER[r] for c, r in ch.hmap.items()}, sev

"""Every single-component fault in one pass, compiled from the rule table.

The dominant work of a sweep is the single-component fault. This module computes it for every
component at once, giving exactly what :func:`~faultray_lab.engine.cascade.simulate_fault`
gives. Both paths read the rule table compiled onto the edges
(:func:`~faultray_lab.engine.compile.compile_rules`), so ablating or adding a rule changes them
together:

* ``first-come-dfs`` (faultray-v11): the traversal is order dependent (a component reached as
  degraded before it goes down keeps both effects), so each target runs the very same
  :func:`~faultray_lab.engine.traversal.first_come_dfs` the engine runs, over compact arrays.
* ``fixpoint`` (cps) without an injected latency: when the compiled table is monotone (a worse
  upstream never gives a milder outcome on any edge), the least fixpoint of a target is the set
  of (component, health) states reachable from (target, injected health) in the *state graph*
  whose edges are the compiled outcomes, each component taking its worst reachable health.
  That reachability is computed for all targets together by level-synchronous sparse-matrix
  propagation (``scipy.sparse``). A non-monotone table, or a cps latency spike (which sets L),
  runs the engine per fault instead.

A chain's outcome depends only on its target and the injected health (and, under cps, on an
injected latency), so :func:`fault_chain` looks each single-fault chain up here and the
scenario sweep (:mod:`faultray_lab.scenarios`) merges them.

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
from array import array
from dataclasses import dataclass, field
from typing import Any

from ..common.errors import InputError
from ..model.topology import HEALTH_ORDER, HEALTH_RANK, Topology
from .cascade import simulate_fault, simulate_traffic_spike
from .compile import compile_rules, compiled_topology, ruleset_cache
from .effects import Cascade
from .faults import FAULT_EFFECTS, check_fault_type, fault_likelihood, traffic_likelihood
from .rules import RuleSet, get_ruleset
from .severity import severity_from_counts
from .traversal import agent_cross_layer, agent_reach, first_come_dfs

#: The depth bound of the vectorized faultray-v11 tables (the engine's default).
TABLE_MAX_DEPTH = 20


def fingerprint(hmap: dict[int, int]) -> str:
    """A 128-bit fingerprint of a health map {component position: rank} (order free).

    >>> fingerprint({1: 3, 0: 1}) == fingerprint({0: 1, 1: 3})
    True
    """
    keys = array("q", sorted(c * 4 + r for c, r in hmap.items()))
    return hashlib.blake2b(keys.tobytes(), digest_size=16).hexdigest()


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
        """Target ``i``'s health map {component position: rank}."""
        m = self._maps.get(i)
        if m is None:
            a, b = int(self.ptr[i]), int(self.ptr[i + 1])
            comp, rank = self.comp[a:b], self.rank[a:b]
            m = dict(zip(comp.tolist() if hasattr(comp, "tolist") else comp,
                         rank.tolist() if hasattr(rank, "tolist") else rank, strict=True))
            self._maps[i] = m
        return m

    def distinct_counts(self, i: int) -> tuple[int, int, int, int]:
        """(affected, down, overloaded, degraded) of target ``i``, by worst health."""
        vals = list(self.health_map(i).values())
        return len(vals), vals.count(3), vals.count(2), vals.count(1)


def has_fast_path(topology: Topology, rules: str | RuleSet, fault: str) -> bool:
    """Whether :func:`single_fault_summaries` gives ``fault``'s chains exactly.

    >>> from faultray_lab import load_topology, demo_topology_path
    >>> topo = load_topology(demo_topology_path())
    >>> has_fast_path(topo, "cps", "component_down"), has_fast_path(topo, "cps", "latency_spike")
    (True, False)
    """
    rs = get_ruleset(rules)
    if rs.traversal == "first-come-dfs":
        return True
    return fault != "latency_spike" and compile_rules(topology, rs).fixpoint_ready


def single_fault_summaries(topology: Topology, rules: str | RuleSet = "cps",
                           health: str = "down") -> SingleFaultTable:
    """The :class:`SingleFaultTable` of a fault injecting ``health`` into every component.

    ``health`` is the fault's direct effect (rule R1), which is all a chain's outcome depends
    on when no latency is injected.

    Raises
    ------
    InputError
        An unknown health, or a fixpoint rule set whose compiled table is not monotone
        (:func:`has_fast_path`; run the engine per fault instead).

    Examples
    --------
    >>> from faultray_lab import load_topology, demo_topology_path
    >>> topo = load_topology(demo_topology_path())
    >>> single_fault_summaries(topo, "cps", "down").distinct_counts(topo.index["redis"])
    (5, 1, 0, 4)
    """
    rs = get_ruleset(rules)
    if health not in HEALTH_RANK or health == "healthy":
        raise InputError(None, "health", f"unknown health '{health}'",
                         "use degraded, overloaded or down")
    cache = ruleset_cache(topology, rs, "tables")
    key = health
    if key not in cache:
        h0 = HEALTH_RANK[health]
        if rs.traversal == "first-come-dfs":
            cache[key] = _walk_table(topology, rs, h0)
        elif compile_rules(topology, rs).fixpoint_ready:
            cache[key] = _reach_table(topology, rs, h0)
        else:
            raise InputError(None, f"rule set {rs.name}", "no vectorized path: its table is not "
                             "monotone and non-amplifying on this topology (a worse upstream "
                             "gives a milder outcome, or a dependent ends worse than its "
                             "upstream, on some edge)",
                             "run simulate_fault per component (run_sweep does this itself)")
    return cache[key]


def _walk_table(topology: Topology, rs: RuleSet, h0: int) -> SingleFaultTable:
    """First-come traversal for every target: the engine's own walk, summarized."""
    cg = compiled_topology(topology)
    rank = compile_rules(topology, rs).rank
    has_agents = bool(agent_reach(topology))
    leaf = {1: (0, 0, 1), 2: (0, 1, 0), 3: (1, 0, 0)}[h0]
    ptr = cg.ptr
    tptr = array("q", [0])
    tcomp: array[int] = array("q")
    trank: array[int] = array("b")
    raw: list[tuple[int, int, int]] = []
    gc_was = gc.isenabled()
    gc.disable()  # many small short-lived containers: the cyclic GC only costs time here
    try:
        for t in range(cg.n):
            if ptr[t] == ptr[t + 1] and not has_agents:  # nothing depends on t
                tcomp.append(t)
                trank.append(h0)
                tptr.append(len(tcomp))
                raw.append(leaf)
                continue
            walk = first_come_dfs(cg, rank, t, h0, TABLE_MAX_DEPTH)
            # a component's effects are degraded ones and at most one worse one, which comes
            # last (it is then visited): the last effect per component is its worst
            worst = dict(zip(walk.component, walk.rank, strict=True))
            ranks = walk.rank
            degraded = ranks.count(1)
            for a in agent_cross_layer(topology, t, worst) if has_agents else ():
                worst[a] = 1
                degraded += 1
            tcomp.extend(worst.keys())
            trank.extend(worst.values())
            tptr.append(len(tcomp))
            raw.append((ranks.count(3), ranks.count(2), degraded))
    finally:
        if gc_was:
            gc.enable()
    return SingleFaultTable(rs.name, HEALTH_ORDER[h0], tptr, tcomp, trank, raw)


def _reach_table(topology: Topology, rs: RuleSet, h0: int) -> SingleFaultTable:
    """Least fixpoint for every target, level by level, by sparse reachability.

    With a monotone, non-amplifying table (:attr:`EdgeTable.fixpoint_ready`), "H(d) >= k" holds
    exactly when d is the target injected at k or more, when some edge gives d rank >= k from
    an upstream whose own rank already reaches the edge's threshold ``min{h: rank[h] >= k}``
    (never below k). So the sets ``S_k = {(target, c): H >= k}`` are computed from the top: S_k
    starts from S_(k+1), the targets injected at k or more and one step from S_j over edges
    whose threshold is j > k, and is closed over the edges whose threshold is k. A component's
    rank is the highest k whose set holds it. Self-edges are ignored, as the fixpoint ignores
    them.
    """
    import numpy as np
    from scipy import sparse

    cg = compiled_topology(topology)
    ranks = compile_rules(topology, rs).rank_array
    n = cg.n
    keep = cg.src != cg.dst
    # threshold[k][p]: the least upstream rank with which edge p gives rank >= k (4: never)
    threshold = {k: np.where(ranks[1] >= k, 1, np.where(ranks[2] >= k, 2,
                                                        np.where(ranks[3] >= k, 3, 4)))
                 for k in (1, 2, 3)}

    built: dict[bytes, Any] = {}

    def edges(mask: Any) -> Any:
        """The adjacency (upstream -> dependent) of the edges in ``mask``; None if there are none
        (equal masks share one matrix)."""
        sel = keep & mask
        if not sel.any():
            return None
        key = np.packbits(sel).tobytes()
        if key not in built:
            built[key] = sparse.csr_matrix((np.ones(int(sel.sum()), dtype=bool),
                                            (cg.src[sel], cg.dst[sel])), shape=(n, n))
        return built[key]

    empty = sparse.csr_matrix((n, n), dtype=bool)
    levels: dict[int, Any] = {4: empty}
    for k in (3, 2, 1):
        start = levels[k + 1]
        if h0 >= k:
            start = start + sparse.identity(n, dtype=bool, format="csr")
        for j in range(k + 1, 4):
            step = edges(threshold[k] == j)
            if levels[j].nnz and step is not None:
                start = start + levels[j] @ step
        closure = edges(threshold[k] == k)
        levels[k] = start if closure is None or not start.nnz else _reach(start, closure)
    reach = levels[1]
    reach.sort_indices()
    ptr = reach.indptr.astype(np.int64)
    comp = reach.indices.astype(np.int64)
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(ptr))
    key_all = rows * n + comp
    rank = np.ones(len(comp), dtype=np.int8)
    for k in (2, 3):
        upper = levels[k]
        if upper.nnz:
            upper.sort_indices()
            urows = np.repeat(np.arange(n, dtype=np.int64), np.diff(upper.indptr))
            rank[np.searchsorted(key_all, urows * n + upper.indices)] += 1
    counts = [np.bincount(rows, weights=(rank == r), minlength=n).astype(np.int64)
              for r in (3, 2, 1)]
    raw = list(zip(*(c.tolist() for c in counts), strict=True))
    return SingleFaultTable(rs.name, HEALTH_ORDER[h0], ptr, comp, rank, raw)


def _reach(seeds: Any, graph: Any) -> Any:
    """Rows of ``seeds`` extended by everything reachable over ``graph`` (sparse BFS)."""
    visited = seeds.copy()
    frontier = seeds
    while frontier.nnz:
        nxt = frontier @ graph
        nxt = nxt - nxt.multiply(visited)
        nxt.eliminate_zeros()
        if not nxt.nnz:
            break
        visited = visited + nxt
        frontier = nxt
    visited.sort_indices()
    return visited


# ---------------------------------------------------------------------------------------------
# Chains: one fault's outcome in compact form, from the table or the engine
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
        """(affected, down, overloaded, degraded), by worst health."""
        vals = list(self.hmap.values())
        return len(vals), vals.count(3), vals.count(2), vals.count(1)

    @property
    def fp(self) -> str:
        """The :func:`fingerprint` of the health map."""
        if self._fp is None:
            self._fp = fingerprint(self.hmap)
        return self._fp

    @classmethod
    def from_cascade(cls, topology: Topology, cascade: Cascade) -> Chain:
        """The compact form of an engine result."""
        idx = topology.index
        hmap: dict[int, int] = {}
        cnt = [0, 0, 0, 0]
        for e in cascade.effects:
            r = HEALTH_RANK[e.health]
            cnt[r] += 1
            i = idx[e.component]
            if r > hmap.get(i, 0):
                hmap[i] = r
        return cls(hmap, (cnt[3], cnt[2], cnt[1]), cascade.likelihood)


def fault_chain(topology: Topology, rules: str | RuleSet, i: int, fault: str) -> Chain:
    """The (cached) chain of ``fault`` on component position ``i``.

    >>> from faultray_lab import load_topology, demo_topology_path
    >>> topo = load_topology(demo_topology_path())
    >>> fault_chain(topo, "faultray-v11", topo.index["postgres"], "component_down").counts
    (6, 6, 0, 0)
    """
    rs = get_ruleset(rules)
    cache = ruleset_cache(topology, rs, "chains")
    ch = cache.get((i, fault))
    if ch is None:
        if fault not in FAULT_EFFECTS:
            check_fault_type(fault, topology.source)
        comp = topology.components[i]
        if has_fast_path(topology, rs, fault):
            table = single_fault_summaries(topology, rs, FAULT_EFFECTS[fault][0])
            ch = Chain(table.health_map(i), table.raw[i], fault_likelihood(comp, fault))
        else:
            ch = Chain.from_cascade(topology, simulate_fault(topology, comp.id, fault, rs))
        cache[(i, fault)] = ch
    return ch


def traffic_chain(topology: Topology, rules: str | RuleSet, multiplier: float) -> Chain:
    """The (cached) traffic-spike chain of ``multiplier``."""
    rs = get_ruleset(rules)
    cache = ruleset_cache(topology, rs, "chains")
    ch = cache.get(("traffic", multiplier))
    if ch is None:
        ch = Chain.from_cascade(topology, simulate_traffic_spike(topology, multiplier, rs))
        ch.likelihood = traffic_likelihood(multiplier)
        cache[("traffic", multiplier)] = ch
    return ch


def single_fault_table(topology: Topology, rules: str | RuleSet = "cps",
                       fault: str = "component_down") -> Any:
    """A DataFrame of every single-component fault of one type, computed in one pass.

    Parameters
    ----------
    topology : Topology
    rules : str or RuleSet
        ``"cps"``, ``"faultray-v11"`` or a custom rule set (compiled the same way).
    fault : str
        A fault type. Under cps a ``latency_spike`` sets a latency, so it runs per fault.

    Returns
    -------
    DataFrame
        ``component``, ``fault``, ``likelihood``, ``affected``, ``down``, ``overloaded``,
        ``degraded`` (distinct components by worst health), ``effects`` (raw effect count) and
        ``severity``: what :func:`~faultray_lab.engine.cascade.simulate_fault` gives for each.

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
    rows = []
    for i, c in enumerate(topology.components):
        ch = fault_chain(topology, rs, i, fault)
        a, d, o, g = ch.counts
        rows.append((c.id, fault, ch.likelihood, a, d, o, g, sum(ch.raw),
                     severity_from_counts(*ch.raw, len(topology), ch.likelihood)))
    return pd.DataFrame(rows, columns=["component", "fault", "likelihood", "affected", "down",
                                       "overloaded", "degraded", "effects", "severity"])


def chain_check(topology: Topology, component_id: str, fault: str,
                rules: str | RuleSet) -> tuple[dict[str, str], float]:
    """The fast chain's (health by id, severity), for comparing with simulate_fault in tests."""
    ch = fault_chain(topology, rules, topology.index[component_id], fault)
    ids = topology.ids
    sev = severity_from_counts(*ch.raw, len(topology), ch.likelihood)
    return {ids[c]: HEALTH_ORDER[r] for c, r in ch.hmap.items()}, sev

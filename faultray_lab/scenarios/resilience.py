"""The structural resilience score and single points of failure.

Examples
--------
>>> from faultray_lab import load_topology, demo_topology_path
>>> topo = load_topology(demo_topology_path())
>>> resilience_score(topo)
50.0
>>> spofs(topo, rules="faultray-v11")["component"].tolist()
['app-1', 'app-2', 'postgres', 'tool-db-query']
"""

from __future__ import annotations

from typing import Any

from ..engine.fastpath import fault_chain
from ..model.topology import Topology


def resilience_score(topology: Topology) -> float:
    """The structural resilience score, 0-100 (semantics 2.6, capped form).

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

    return pd.DataFrame(spof_rows(topology, rules), columns=[
        "component", "type", "requires_dependents", "dependents", "affected", "down",
        "share_down"])


def spof_rows(topology: Topology, rules: Any) -> list[dict[str, Any]]:
    """:func:`spofs` as a list of dicts (no pandas; the sweep report's ``spofs``)."""
    comps, deps = topology.components, topology.dependencies
    cand = []
    for i, c in enumerate(comps):
        req = sum(1 for _, k in topology.dependents[i] if deps[k].type == "requires")
        if c.replicas <= 1 and not c.failover and req >= 1:
            cand.append((i, req))
    if not cand:
        return []
    n = len(comps)
    rows = []
    for i, req in cand:
        affected, down, _, _ = fault_chain(topology, rules, i, "component_down").counts
        rows.append({"component": comps[i].id, "type": comps[i].type,
                     "requires_dependents": req, "dependents": len(topology.dependents[i]),
                     "affected": affected, "down": down, "share_down": down / n})
    return rows

"""Evaluating scenarios: their chains looked up once, merged, scored and classed.

Examples
--------
>>> from faultray_lab import load_topology, demo_topology_path
>>> from faultray_lab.scenarios.generate import Scenario
>>> topo = load_topology(demo_topology_path())
>>> ev = evaluator_for(topo, "cps")
>>> ev.merged_health(Scenario("pair", (("redis", "component_down"),
...                                    ("rabbitmq", "component_down"))))[:2]
[['nginx', 'degraded'], ['app-1', 'degraded']]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..engine.compile import ruleset_cache
from ..engine.fastpath import Chain, fault_chain, fingerprint, traffic_chain
from ..engine.merge import merge_health_maps, merged_likelihood
from ..engine.rules import RuleSet, get_ruleset
from ..engine.severity import severity_from_counts
from ..model.topology import HEALTH_ORDER, Topology
from .generate import Scenario, risk_class

SWEEP_COLUMNS = ["id", "faults", "traffic_multiplier", "likelihood", "risk", "class",
                 "affected", "down", "overloaded", "degraded", "outcome"]


class Evaluator:
    """Evaluates scenarios on one topology under one rule set, reusing every chain it builds."""

    def __init__(self, topology: Topology, rules: str | RuleSet) -> None:
        self.topology = topology
        self.rs = get_ruleset(rules)
        self.chains = ruleset_cache(topology, self.rs, "chains")  # filled by fault_chain

    def scenario_chains(self, s: Scenario) -> list[Chain]:
        """The scenario's chains: the traffic spike first (if any), then each fault's."""
        idx = self.topology.index
        chains = []
        if s.traffic_multiplier > 1:
            chains.append(traffic_chain(self.topology, self.rs, float(s.traffic_multiplier)))
        known = self.chains
        for cid, fault in s.faults:
            i = idx.get(cid)
            if i is None:
                self.topology.component(cid)  # raises with a suggestion
            ch = known.get((i, fault))
            if ch is None:
                ch = fault_chain(self.topology, self.rs, i, fault)  # type: ignore[arg-type]
            chains.append(ch)
        return chains

    def merged(self, s: Scenario) -> tuple[dict[int, int], tuple[int, int, int], float,
                                            Chain | None]:
        """(health map, raw counts, likelihood, the single chain if there is only one)."""
        chains = self.scenario_chains(s)
        like = merged_likelihood([c.likelihood for c in chains if c.has_effects],
                                 len(s.faults), len(self.topology))
        if len(chains) == 1:
            c = chains[0]
            return c.hmap, c.raw, like, c
        raw = tuple(sum(c.raw[j] for c in chains) for j in range(3))
        return merge_health_maps(c.hmap for c in chains), raw, like, None  # type: ignore[return-value]

    def merged_health(self, s: Scenario) -> list[list[str]]:
        """The scenario's merged cascade as ``[component id, worst health]`` pairs."""
        hmap = self.merged(s)[0]
        ids = self.topology.ids
        return [[ids[c], HEALTH_ORDER[r]] for c, r in hmap.items()]

    def evaluate(self, scenarios: Iterable[Scenario]) -> dict[str, list[Any]]:
        """Columns of :data:`SWEEP_COLUMNS` for these scenarios.

        The risk reads the raw effect counts under the ``concatenate`` merge (a component hit
        twice counts twice) and the distinct counts under ``worst``.
        """
        cols: dict[str, list[Any]] = {c: [] for c in SWEEP_COLUMNS}
        n = len(self.topology)
        raw_counts = self.rs.merge == "concatenate"
        for s in scenarios:
            hmap, raw, like, single = self.merged(s)
            if single is not None:
                counts, fp = single.counts, single.fp
            else:
                vals = list(hmap.values())
                counts = (len(vals), vals.count(3), vals.count(2), vals.count(1))
                fp = fingerprint(hmap)
            risk = severity_from_counts(*(raw if raw_counts else counts[1:]), n, like)
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


def evaluator_for(topology: Topology, rules: str | RuleSet) -> Evaluator:
    """The (cached) :class:`Evaluator` of this topology and rule set."""
    rs = get_ruleset(rules)
    cache = ruleset_cache(topology, rs, "evaluator")
    ev = cache.get("evaluator")
    if ev is None:
        ev = cache["evaluator"] = Evaluator(topology, rs)
    return ev

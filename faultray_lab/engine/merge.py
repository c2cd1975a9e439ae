"""How the chains of a scenario combine: the one merge, by the rule set's merge policy.

Each fault of a scenario runs alone from an all-healthy state; the chains are then merged
(docs: semantics 2.5 and 3, "several faults"):

* likelihood (both rule sets): the least likelihood among the chains that have effects (1.0 if
  none), capped on topologies of 10 or more components when half or 90 % of them are faulted
  (:func:`merged_likelihood`);
* ``concatenate`` (faultray-v11): the effect lists are joined, duplicates kept, so a component
  hit twice counts twice in the severity;
* ``worst`` (cps): per component the worst health wins, then the least time.

:func:`merge_cascades` does this for :class:`~faultray_lab.engine.effects.Cascade` objects and
:func:`merge_health_maps` for the compact health maps of the vectorized sweep; both keep
first-appearance order.

Examples
--------
>>> from faultray_lab import load_topology, demo_topology_path, simulate_fault
>>> topo = load_topology(demo_topology_path())
>>> a, b = simulate_fault(topo, "redis"), simulate_fault(topo, "rabbitmq")
>>> m = merge_cascades([a, b], "cps", n_faults=2)
>>> m.targets, m.health["app-1"], m.likelihood
(('redis', 'rabbitmq'), 'degraded', 0.8)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..model.topology import HEALTH_RANK
from .effects import Cascade, Effect
from .rules import RuleSet, get_ruleset


def merged_likelihood(likelihoods: Sequence[float], n_faults: int, n_components: int) -> float:
    """Likelihood of a scenario's merged chains.

    The least likelihood among the chains that have effects (1.0 if none); on topologies of 10
    or more components, capped at 0.3 when half or more of them are faulted and at 0.05 from
    90 %.

    >>> merged_likelihood([0.8, 0.7], n_faults=6, n_components=10)
    0.3
    """
    like = min(likelihoods) if likelihoods else 1.0
    if n_components >= 10:
        r = n_faults / n_components
        if r >= 0.9:
            like = min(like, 0.05)
        elif r >= 0.5:
            like = min(like, 0.3)
    return like


def merge_health_maps(maps: Iterable[dict[int, int]]) -> dict[int, int]:
    """Per component position, the worst rank over several health maps (first-appearance order).

    >>> merge_health_maps([{0: 3, 1: 1}, {1: 2, 2: 1}])
    {0: 3, 1: 2, 2: 1}
    """
    out: dict[int, int] = {}
    for m in maps:
        for comp, r in m.items():
            if r > out.get(comp, 0):
                out[comp] = r
    return out


def merge_worst(cascades: Sequence[Cascade], likelihood: float, fault: str = "scenario",
                targets: tuple[str, ...] | None = None) -> Cascade:
    """Merge faults that each ran alone: per component the worst health wins, then the least T.

    >>> from faultray_lab import load_topology, demo_topology_path, simulate_fault
    >>> topo = load_topology(demo_topology_path())
    >>> a, b = simulate_fault(topo, "redis"), simulate_fault(topo, "rabbitmq")
    >>> sorted(merge_worst([a, b], likelihood=0.8).health.items())[:2]
    [('app-1', 'degraded'), ('app-2', 'degraded')]
    """
    best: dict[str, Effect] = {}
    steps: list[Effect] = []
    tripped: dict[tuple[str, str], None] = {}
    for c in cascades:
        steps.extend(c.steps)
        tripped.update(dict.fromkeys(c.tripped_breakers))
        for e in c.effects:
            cur = best.get(e.component)
            if cur is None:
                best[e.component] = e
                continue
            r, rc = HEALTH_RANK[e.health], HEALTH_RANK[cur.health]
            if r > rc or (r == rc and e.time_s < cur.time_s):
                best[e.component] = e
    if targets is None:
        targets = tuple(t for c in cascades for t in c.targets)
    total = cascades[0].total_components if cascades else 0
    rules = cascades[0].rules if cascades else "cps"
    return Cascade(targets, fault, rules, tuple(best.values()), likelihood, total, tuple(steps),
                   tuple(tripped))


def merge_cascades(cascades: Sequence[Cascade], rules: str | RuleSet, *, n_faults: int,
                   fault: str | None = None, targets: tuple[str, ...] | None = None
                   ) -> Cascade:
    """Merge the chains of one scenario by the rule set's merge policy.

    Parameters
    ----------
    cascades : sequence of Cascade
        The chains, each run alone from an all-healthy state, in scenario order.
    rules : str or RuleSet
        Its ``merge`` policy decides: ``worst`` or ``concatenate``.
    n_faults : int
        How many faults the scenario injects (for the likelihood caps).
    fault, targets : optional
        Labels of the merged cascade (default: the first chain's fault, every chain's targets).
    """
    rs = get_ruleset(rules)
    if len(cascades) == 1:
        return cascades[0]
    total = cascades[0].total_components if cascades else 0
    like = merged_likelihood([c.likelihood for c in cascades if c.effects], n_faults, total)
    fault = fault or (cascades[0].fault if cascades else "scenario")
    if targets is None:
        targets = tuple(t for c in cascades for t in c.targets)
    if rs.merge == "worst":
        return merge_worst(cascades, like, fault, targets)
    effects = tuple(e for c in cascades for e in c.effects)
    return Cascade(targets, fault, rs.name, effects, like, total, effects)

"""A CI gate on a Terraform plan: the resilience of the change, before and after.

:func:`check_plan` reads a plan (:mod:`faultray_lab.importers.terraform` builds its before and
after topologies), scores both sides with the default scenario sweep and returns a
:class:`PlanCheck`: the score delta, the SPOFs and critical scenarios the change adds and
removes, the risk of each changed resource, a recommendation and the gate
(``faultray-lab tf-check``).

Examples
--------
>>> plan = {"resource_changes": [
...     {"address": "aws_lb.web", "type": "aws_lb",
...      "change": {"actions": ["no-op"], "before": {"subnets": ["a", "b"]},
...                 "after": {"subnets": ["a", "b"]}}},
...     {"address": "aws_ecs_service.api", "type": "aws_ecs_service",
...      "change": {"actions": ["update"], "before": {"desired_count": 2},
...                 "after": {"desired_count": 1}}}]}
>>> check_plan(plan, fail_on_regression=True).spofs_added
('aws_ecs_service.api',)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..common.errors import InputError
from ..engine.cascade import simulate_fault
from ..engine.rules import get_ruleset
from ..importers.terraform import ResourceChange, TerraformPlan, load_plan
from ..model.topology import Topology
from .generate import iter_scenarios
from .resilience import resilience_score, spofs
from .sweep import run_sweep

RISK_LEVELS = ("low", "medium", "high")
#: Scenarios per side (the reference's cap); the first ones in generation order run.
MAX_SCENARIOS = 2000


@dataclass(frozen=True)
class PlanCheck:
    """The result of :func:`check_plan`; ``to_dict()`` gives the JSON of ``tf-check --json``.

    ``changes`` holds one entry per resource the plan creates, updates, replaces, deletes or
    forgets; ``recommendation`` is ``{"level": safe | review | high risk, "reason": ...}`` and
    ``gate`` is ``{"passed": ..., "reasons": [...], ...}``.
    """

    source: str
    rules: str
    score_before: float
    score_after: float
    spofs_added: tuple[str, ...]
    spofs_removed: tuple[str, ...]
    critical_added: tuple[str, ...]
    critical_removed: tuple[str, ...]
    changes: tuple[Mapping[str, Any], ...]
    skipped_resources: tuple[Mapping[str, Any], ...]
    recommendation: Mapping[str, str]
    gate: Mapping[str, Any]
    plan: TerraformPlan | None = field(default=None, repr=False, compare=False)

    @property
    def score_delta(self) -> float:
        """score_after - score_before (rounded to 1e-9 so equal topologies give exactly 0)."""
        return round(self.score_after - self.score_before, 9) + 0.0

    @property
    def passed(self) -> bool:
        """Whether the gate passed."""
        return bool(self.gate["passed"])

    @property
    def exit_code(self) -> int:
        """0 when the gate passed, 1 when it failed (the ``tf-check`` exit code)."""
        return 0 if self.passed else 1

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with the keys of ``tf-check --json``."""
        return {
            "source": self.source, "rules": self.rules,
            "score_before": self.score_before, "score_after": self.score_after,
            "score_delta": self.score_delta,
            "spofs_added": list(self.spofs_added), "spofs_removed": list(self.spofs_removed),
            "critical_added": list(self.critical_added),
            "critical_removed": list(self.critical_removed),
            "changes": [dict(c) for c in self.changes],
            "skipped_resources": [dict(s) for s in self.skipped_resources],
            "recommendation": dict(self.recommendation),
            "gate": {k: list(v) if isinstance(v, tuple) else v for k, v in self.gate.items()},
        }


def check_plan(plan: Any, rules: str = "cps", fail_on_regression: bool = False,
               min_score: float | None = None) -> PlanCheck:
    """Compare the resilience of a Terraform plan's before and after topologies.

    Parameters
    ----------
    plan : dict, str, PathLike or TerraformPlan
        A plan as :func:`plan_to_topologies` accepts it, or an already loaded plan.
    rules : str
        Rule set of the scenario sweeps (``"cps"`` or ``"faultray-v11"``).
    fail_on_regression : bool
        Fail the gate when the change is a regression: the score drops, or it adds a single
        point of failure or a critical scenario.
    min_score : float, optional
        Fail the gate when the score after the change is below this (0-100).

    Returns
    -------
    PlanCheck

    Raises
    ------
    InputError
        For a bad plan, an unknown rule set or a min_score outside 0-100.

    Examples
    --------
    >>> rc = lambda a, t, act, b, f: {"address": a, "type": t,
    ...                               "change": {"actions": [act], "before": b, "after": f}}
    >>> plan = {"resource_changes": [
    ...     rc("aws_lb.web", "aws_lb", "no-op", {"subnets": ["a", "b"]}, {"subnets": ["a", "b"]}),
    ...     rc("aws_ecs_service.api", "aws_ecs_service", "update",
    ...        {"desired_count": 2}, {"desired_count": 1})]}
    >>> result = check_plan(plan, fail_on_regression=True)
    >>> result.spofs_added, result.score_delta < 0, result.exit_code
    (('aws_ecs_service.api',), True, 1)
    """
    if min_score is not None:
        if isinstance(min_score, bool) or not isinstance(min_score, int | float) \
                or not math.isfinite(min_score) or not 0 <= min_score <= 100:
            raise InputError(None, "min_score", f"must be a number from 0 to 100, not "
                             f"{min_score!r}", "pass e.g. --min-score 60")
    get_ruleset(rules)  # an unknown rule set is bad input before any work
    p = plan if isinstance(plan, TerraformPlan) else load_plan(plan)
    sides = {side: _assess(getattr(p, side), rules) for side in ("before", "after")}
    b, a = sides["before"], sides["after"]
    spofs_added = tuple(c for c in a["spofs"] if c not in b["spofs"])
    spofs_removed = tuple(c for c in b["spofs"] if c not in a["spofs"])
    critical_added = _critical_diff(a, b, p.before.ids)
    critical_removed = _critical_diff(b, a, p.after.ids)
    changes = tuple(_change_risk(rc, p, b, a, rules) for rc in p.changes
                    if rc.action not in ("no-op", "read"))
    delta = round(a["score"] - b["score"], 9) + 0.0
    recommendation = _recommend(delta, spofs_added, critical_added, changes)
    reasons = []
    regression = []
    if delta < 0:
        regression.append(f"the resilience score drops by {-delta:g}")
    if spofs_added:
        regression.append(f"{len(spofs_added)} single point(s) of failure added")
    if critical_added:
        regression.append(f"{len(critical_added)} critical scenario(s) added")
    if fail_on_regression:
        reasons.extend(regression)
    if min_score is not None and a["score"] < min_score:
        reasons.append(f"the score after the change ({a['score']:g}) is below the minimum "
                       f"{min_score:g}")
    gate = {"passed": not reasons, "fail_on_regression": bool(fail_on_regression),
            "min_score": None if min_score is None else float(min_score),
            "regression": bool(regression), "reasons": tuple(reasons)}
    return PlanCheck(p.source, rules if isinstance(rules, str) else str(rules),
                     float(b["score"]), float(a["score"]), spofs_added, spofs_removed,
                     critical_added, critical_removed, changes, p.skipped, recommendation,
                     gate, p)


def _assess(topo: Topology, rules: str) -> dict[str, Any]:
    """Score, SPOF ids, the scenarios run (id -> components) and the critical ids of one side."""
    score = float(resilience_score(topo))
    if not len(topo):
        return {"score": score, "spofs": (), "scenarios": {}, "critical": ()}
    spof_ids = tuple(str(c) for c in spofs(topo, rules=rules)["component"])
    scenarios = list(itertools.islice(iter_scenarios(topo), MAX_SCENARIOS))
    sweep = run_sweep(topo, scenarios=scenarios, rules=rules, progress=False)
    critical = tuple(str(s) for s in sweep.loc[sweep["class"] == "critical", "id"])
    return {"score": score, "spofs": spof_ids, "critical": critical,
            "scenarios": {s.id: frozenset(s.faults) for s in scenarios}}


def _critical_diff(new: Mapping[str, Any], old: Mapping[str, Any],
                   old_ids: Iterable[str]) -> tuple[str, ...]:
    """Scenarios critical in ``new`` but not in ``old``.

    A scenario that also ran on the old side counts when it was not critical there. One that
    could not run there (it faults a component the old side does not have) counts unless a
    scenario critical on the old side faults a subset of its faults: a new triple that contains
    an already critical pair adds no risk. A scenario that the old side's cap of
    :data:`MAX_SCENARIOS` merely cut off is not compared.
    """
    have = set(old_ids)
    old_critical = set(old["critical"])
    implied = [old["scenarios"][s] for s in old["critical"] if old["scenarios"][s]]
    out = []
    for s in new["critical"]:
        if s in old_critical:
            continue
        faults = new["scenarios"][s]
        if s in old["scenarios"]:
            out.append(s)
        elif not {c for c, _ in faults} <= have and not any(f <= faults for f in implied):
            out.append(s)
    return tuple(out)


def _dependents(topo: Topology, cid: str) -> int:
    i = topo.index.get(cid)
    return 0 if i is None else len({d for d, _ in topo.dependents[i]})


def _change_risk(rc: ResourceChange, p: TerraformPlan, b: Mapping[str, Any],
                 a: Mapping[str, Any], rules: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"address": rc.address, "type": rc.resource_type,
                             "action": rc.action, "component": None}
    if rc.deposed is not None:
        entry.update(risk="low", reason=f"removes deposed object {rc.deposed}, a stale copy "
                     "left by an earlier create-before-destroy replacement")
        return entry
    if rc.component_type is None:
        entry.update(risk="unmodelled", reason=f"resource type '{rc.resource_type}' is not "
                     "mapped to a component, so its effect on resilience is not simulated")
        return entry
    cid = rc.component_id
    rb = p.before.component(cid).replicas if cid in p.before.index else None
    ra = p.after.component(cid).replicas if cid in p.after.index else None
    dep_b, dep_a = _dependents(p.before, cid), _dependents(p.after, cid)
    spof_b, spof_a = cid in b["spofs"], cid in a["spofs"]
    side = p.after if ra is not None else p.before
    severity = simulate_fault(side, cid, "component_down", rules=rules).severity
    found: list[tuple[int, str]] = []
    if rc.action == "delete" and ra is None and dep_b:
        found.append((2, f"deletes a component {dep_b} component(s) depend on"))
    if spof_a and not spof_b:
        found.append((2, "becomes a single point of failure"))
    if rc.is_replace and dep_b and (rb or 1) <= 1:
        found.append((2, f"is destroyed and recreated with one replica: its {dep_b} "
                         "dependent(s) lose it during the apply"))
    if rb is not None and ra is not None and ra < rb:
        found.append((1, f"replicas drop from {rb} to {ra}"))
    if rc.is_replace:
        found.append((1, "is destroyed and recreated"))
    if spof_a and spof_b:
        found.append((1, "changes a component that is a single point of failure"))
    if severity >= 7.0:
        found.append((1, f"its failure is critical (severity {severity:g})"))
    if rb is not None and ra is not None and ra > rb:
        found.append((0, f"replicas rise from {rb} to {ra}"))
    if spof_b and not spof_a and ra is not None:
        found.append((0, "is no longer a single point of failure"))
    level = max((lvl for lvl, _ in found), default=0)
    reasons = [text for _, text in sorted(found, key=lambda f: -f[0])] \
        or ["no loss of redundancy"]
    entry.update(component=cid, replicas_before=rb, replicas_after=ra, dependents_before=dep_b,
                 dependents_after=dep_a, spof_before=spof_b, spof_after=spof_a,
                 severity=severity, risk=RISK_LEVELS[level], reason="; ".join(reasons))
    return entry


def _recommend(delta: float, spofs_added: tuple[str, ...], critical_added: tuple[str, ...],
               changes: tuple[Mapping[str, Any], ...]) -> dict[str, str]:
    high, review = [], []
    if spofs_added:
        high.append(f"adds single point(s) of failure: {', '.join(spofs_added)}")
    if critical_added:
        high.append(f"adds {len(critical_added)} critical scenario(s)")
    risky = [c["address"] for c in changes if c["risk"] == "high"]
    if risky:
        high.append(f"high-risk change(s): {', '.join(risky)}")
    if delta < 0:
        review.append(f"the resilience score drops by {-delta:g}")
    medium = [c["address"] for c in changes if c["risk"] == "medium"]
    if medium:
        review.append(f"medium-risk change(s): {', '.join(medium)}")
    unmodelled = [c["address"] for c in changes if c["risk"] == "unmodelled"]
    if unmodelled:
        review.append(f"{len(unmodelled)} changed resource(s) not modelled")
    if high:
        return {"level": "high risk", "reason": "; ".join(high + review)}
    if review:
        return {"level": "review", "reason": "; ".join(review)}
    return {"level": "safe", "reason": "no resilience lost: the score does not drop and no "
            "single point of failure or critical scenario is added"}

"""What-if analysis as plain functions: change one thing and see the cascade and the bounds move.

Fail a component, toggle a circuit breaker, add a replica: :func:`evaluate` applies the changes
(:func:`apply_changes`), runs the fault(s) (:func:`run_faults`) and computes the five-layer
availability of the changed topology. State in, result out, no widgets: the ipywidgets panel
(:func:`faultray_lab.viz.widgets.what_if`) is a thin layer on top.

Examples
--------
>>> from faultray_lab import load_topology, demo_topology_path
>>> topo = load_topology(demo_topology_path())
>>> before = evaluate(topo, "postgres")
>>> after = evaluate(topo, "postgres", replicas={"postgres": 2})
>>> before.health["app-1"], after.health["app-1"]
('down', 'degraded')
>>> after.severity < before.severity
True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..availability.layers import availability_layers
from ..common.errors import InputError
from ..engine.cascade import simulate_fault
from ..engine.effects import Cascade
from ..engine.merge import merge_cascades
from ..engine.rules import RuleSet, get_ruleset
from ..model.topology import HEALTH_RANK, Topology

AFFECTED_COLUMNS = ["component", "type", "replicas", "health", "rule", "source", "time_s",
                    "latency_ms"]

Edge = tuple[str, str]


def apply_changes(topology: Topology, breakers: Mapping[Edge, bool] | Iterable[Edge] | None = None,
                  replicas: Mapping[str, int] | None = None) -> Topology:
    """The what-if topology: circuit breakers set on edges and replicas set on components.

    Parameters
    ----------
    topology : Topology
    breakers : mapping or iterable, optional
        ``{(source, target): enabled}``; a plain iterable of ``(source, target)`` pairs turns
        those breakers on. Edges not named keep their breaker setting.
    replicas : mapping, optional
        ``{component id: replicas}``, each a whole number >= 1.

    Returns
    -------
    Topology
        A new topology (the input is unchanged).

    Raises
    ------
    InputError
        An unknown component id or edge, or replicas that are not a whole number >= 1.

    Examples
    --------
    >>> from faultray_lab import load_topology, demo_topology_path
    >>> t = apply_changes(load_topology(demo_topology_path()), breakers=[("app-1", "postgres")],
    ...                   replicas={"postgres": 2})
    >>> t.component("postgres").replicas, t.graph.edges["app-1", "postgres"]["circuit_breaker"]
    (2, True)
    """
    out = topology
    for (src, tgt), enabled in _breaker_items(breakers):
        if not isinstance(enabled, bool):
            raise InputError(topology.source, f"breaker {src} -> {tgt}",
                             f"the breaker setting must be true or false, not {enabled!r}",
                             "pass True to add a breaker, False to remove it")
        out = out.with_dependency(src, tgt, circuit_breaker=enabled)
    for cid, n in (replicas or {}).items():
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise InputError(topology.source, f"replicas of {cid}",
                             f"replicas must be a whole number >= 1, not {n!r}",
                             "set replicas to 1 or more")
        out = out.with_component(cid, replicas=n)
    return out


def _breaker_items(breakers: Mapping[Edge, bool] | Iterable[Edge] | None) -> list[
        tuple[Edge, Any]]:
    if breakers is None:
        return []
    if isinstance(breakers, Mapping):
        return [(tuple(k), v) for k, v in breakers.items()]  # type: ignore[misc]
    return [(tuple(e), True) for e in breakers]  # type: ignore[misc]


def run_faults(topology: Topology, failed: str | Sequence[str], fault: str = "component_down",
               rules: str | RuleSet = "cps", max_depth: int = 20) -> Cascade | None:
    """Run the same fault on each failed component and merge the chains as a scenario does.

    Each fault runs alone from an all-healthy state and the chains merge by the rule set's merge
    policy (:func:`~faultray_lab.engine.merge.merge_cascades`): under ``cps`` the worst health
    wins per component; under ``faultray-v11`` the effect lists are concatenated, duplicates
    kept, as the reference's severity counts them.

    Returns
    -------
    Cascade or None
        None when nothing failed.

    Examples
    --------
    >>> from faultray_lab import load_topology, demo_topology_path
    >>> c = run_faults(load_topology(demo_topology_path()), ["redis", "rabbitmq"])
    >>> c.targets, c.health["app-1"]
    (('redis', 'rabbitmq'), 'degraded')
    """
    targets = (failed,) if isinstance(failed, str) else tuple(failed)
    for t in targets:
        topology.component(t)  # unknown ids raise with a suggestion
    if not targets:
        return None
    chains = [simulate_fault(topology, t, fault, rules=rules, max_depth=max_depth)
              for t in targets]
    return merge_cascades(chains, rules, n_faults=len(targets), fault=fault, targets=targets)


def affected_table(topology: Topology, cascade: Cascade | None) -> Any:
    """The affected components as a DataFrame, one row each, in the order they were reached.

    Columns: component, type, replicas, health (worst), rule and source (of the effect that set
    the worst health; the source is empty for a failed component), time_s, latency_ms.

    Examples
    --------
    >>> from faultray_lab import load_topology, demo_topology_path, simulate_fault
    >>> topo = load_topology(demo_topology_path())
    >>> df = affected_table(topo, simulate_fault(topo, "redis"))
    >>> df.component.tolist(), df.health.tolist()[:2]
    (['redis', 'support-agent', 'app-1', 'app-2', 'nginx'], ['down', 'degraded'])
    """
    import pandas as pd

    if cascade is None:
        return pd.DataFrame(columns=AFFECTED_COLUMNS)
    worst: dict[str, Any] = {}
    for e in cascade.effects:
        cur = worst.get(e.component)
        if cur is None or HEALTH_RANK[e.health] > HEALTH_RANK[cur.health]:
            worst[e.component] = e
    rows = []
    for cid, e in worst.items():
        comp = topology.component(cid)
        rows.append((cid, comp.type, comp.replicas, e.health, e.rule, e.source or "", e.time_s,
                     cascade.latency_ms.get(cid)))
    df = pd.DataFrame(rows, columns=AFFECTED_COLUMNS)
    df["latency_ms"] = df["latency_ms"].astype(float)
    return df


@dataclass(frozen=True, eq=False)
class WhatIfResult:
    """The outcome of one what-if: the changed topology, the cascade and the bounds.

    ``availability`` is the five-layer summary of the changed topology
    (:func:`faultray_lab.availability.layers.availability_layers`): ``ceiling`` (min of the layers),
    ``floor`` (their product) and ``binding_layer`` (the layer that sets the ceiling).
    ``breakers`` and ``replicas`` record the changes applied.
    """

    topology: Topology
    failed: tuple[str, ...]
    fault: str
    rules: str
    max_depth: int
    cascade: Cascade | None
    affected: Any = field(repr=False)
    availability: Any = field(repr=False)
    breakers: tuple[tuple[Edge, bool], ...] = ()
    replicas: tuple[tuple[str, int], ...] = ()

    @property
    def severity(self) -> float:
        """Severity 0-10 of the (merged) cascade; 0 when nothing failed."""
        return self.cascade.severity if self.cascade is not None else 0.0

    @property
    def health(self) -> dict[str, str]:
        """Component id -> worst health, affected components only."""
        return dict(self.cascade.health) if self.cascade is not None else {}

    @property
    def down(self) -> list[str]:
        """Components that go down."""
        return [c for c, h in self.health.items() if h == "down"]

    @property
    def tripped_breakers(self) -> tuple[Edge, ...]:
        """The breakers the cascade tripped, as (dependent, upstream) pairs."""
        return tuple(self.cascade.tripped_breakers) if self.cascade is not None else ()

    @property
    def ceiling(self) -> float:
        """Availability ceiling: the least of the five layers."""
        return float(self.availability.ceiling)

    @property
    def floor(self) -> float:
        """Availability floor: the product of the five layers."""
        return float(self.availability.floor)

    @property
    def binding_layer(self) -> str:
        """The layer that sets the ceiling."""
        return str(self.availability.binding_layer)

    @property
    def layers(self) -> dict[str, float]:
        """Layer name -> availability."""
        return dict(self.availability.layers)

    def changes_label(self) -> str:
        """The changes as text, e.g. ``breaker app-1->postgres on, postgres x2``."""
        parts = [f"breaker {a}->{b} {'on' if on else 'off'}" for (a, b), on in self.breakers]
        parts += [f"{c} x{n}" for c, n in self.replicas]
        return ", ".join(parts) or "as given"

    def summary(self) -> str:
        """One line: what failed, how many are affected and down, severity, bounds."""
        who = ", ".join(self.failed) or "nothing"
        text = (f"{self.fault} on {who} ({self.rules}): {len(self.health)} affected, "
                f"{len(self.down)} down, severity {self.severity:.1f}")
        if self.tripped_breakers:
            text += ", tripped " + ", ".join(f"{a}->{b}" for a, b in self.tripped_breakers)
        text += (f"; availability ceiling {self.ceiling:.8f} ({self.binding_layer}), "
                 f"floor {self.floor:.8f}")
        return text


def evaluate(topology: Topology, failed: str | Sequence[str] = (), fault: str = "component_down",
             rules: str | RuleSet = "cps", max_depth: int = 20,
             breakers: Mapping[Edge, bool] | Iterable[Edge] | None = None,
             replicas: Mapping[str, int] | None = None) -> WhatIfResult:
    """Evaluate one what-if: apply the changes, run the fault(s), compute the bounds.

    Parameters
    ----------
    topology : Topology
    failed : str or sequence of str
        The failed component(s); each gets ``fault`` (see :func:`run_faults`).
    fault : str
        A fault type of :data:`faultray_lab.engine.faults.FAULT_TYPES`.
    rules : str or RuleSet
        ``"cps"``, ``"faultray-v11"`` or a custom rule set (e.g. an ablation).
    max_depth : int
        faultray-v11's depth bound.
    breakers, replicas : mapping, optional
        The changes, as in :func:`apply_changes`.

    Returns
    -------
    WhatIfResult

    Raises
    ------
    InputError
        Unknown ids, edges, fault types or rule sets; bad replicas or depth.

    Examples
    --------
    >>> from faultray_lab import load_topology, demo_topology_path
    >>> topo = load_topology(demo_topology_path())
    >>> r = evaluate(topo, "postgres", breakers=[("app-1", "postgres")])
    >>> r.health["app-1"], r.tripped_breakers
    ('degraded', (('app-1', 'postgres'),))
    """
    changed = apply_changes(topology, breakers, replicas)
    targets = (failed,) if isinstance(failed, str) else tuple(failed)
    cascade = run_faults(changed, targets, fault, rules=rules, max_depth=max_depth)
    return WhatIfResult(changed, targets, fault, get_ruleset(rules).name, max_depth, cascade,
                        affected_table(changed, cascade), availability_layers(changed),
                        tuple(((a, b), bool(on)) for (a, b), on in _breaker_items(breakers)),
                        tuple((c, int(n)) for c, n in (replicas or {}).items()))


def compare(before: WhatIfResult, after: WhatIfResult) -> Any:
    """Per component, the health before and after a change (changed rows only), as a DataFrame.

    Examples
    --------
    >>> from faultray_lab import load_topology, demo_topology_path
    >>> topo = load_topology(demo_topology_path())
    >>> d = compare(evaluate(topo, "postgres"), evaluate(topo, "postgres",
    ...                                                 replicas={"postgres": 2}))
    >>> d.set_index("component").loc["app-1"].tolist()
    ['down', 'degraded']
    """
    import pandas as pd

    rows = []
    for cid in before.topology.ids:
        a = before.health.get(cid, "healthy")
        b = after.health.get(cid, "healthy")
        if a != b:
            rows.append((cid, a, b))
    return pd.DataFrame(rows, columns=["component", "before", "after"])


def default_failed(topology: Topology) -> str:
    """The component with the most transitive dependents (ties: file order).

    Examples
    --------
    >>> from faultray_lab import load_topology, demo_topology_path
    >>> default_failed(load_topology(demo_topology_path()))
    'postgres'
    """
    import networkx as nx

    g = topology.graph
    return max(topology.ids, key=lambda c: (len(nx.ancestors(g, c)),
                                           -topology.index[c]))

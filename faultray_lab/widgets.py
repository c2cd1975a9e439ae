"""Interactive what-if exploration: plain functions, and an ipywidgets panel on top of them.

Change one thing (fail a component, toggle a circuit breaker, add a replica) and see the
cascade, its severity, the affected components and the availability ceiling and floor change.
The logic lives in :func:`apply_changes` and :func:`evaluate` (state in, result out, no widgets),
so it is unit tested and scriptable; :func:`what_if` only wires widgets to it.

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

import io
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ipywidgets as _w

from .availability import availability_layers
from .cascade import Cascade, merge_worst, simulate_fault
from .errors import InputError
from .rules import FAULT_TYPES, RuleSet, check_fault_type, get_ruleset, merged_likelihood
from .topology import HEALTH_RANK, Topology, load_topology

RULE_SETS = ("cps", "faultray-v11")
AFFECTED_COLUMNS = ["component", "type", "replicas", "health", "rule", "source", "time_s",
                    "latency_ms"]

Edge = tuple[str, str]


# ---------------------------------------------------------------------------------------------
# Plain functions
# ---------------------------------------------------------------------------------------------
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

    Each fault runs alone from an all-healthy state (SEMANTICS 2.5). The likelihood is the least
    likelihood among the chains with effects, capped when many of the components fail
    (>= 10 components: half or more -> 0.3, 90% or more -> 0.05). Under ``cps`` the worst health
    wins per component (SEMANTICS 3); under ``faultray-v11`` the effect lists are concatenated,
    duplicates kept, as the reference's severity counts them.

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
    if len(chains) == 1:
        return chains[0]
    like = merged_likelihood([c.likelihood for c in chains if c.effects], len(targets),
                             len(topology))
    n = len(topology)
    if get_ruleset(rules).traversal == "fixpoint":
        return merge_worst(chains, likelihood=like, fault=fault, targets=targets)
    effects = tuple(e for c in chains for e in c.effects)
    return Cascade(targets, fault, chains[0].rules, effects, like, n, effects)


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
    (:func:`faultray_lab.availability.availability_layers`): ``ceiling`` (min of the layers),
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

    def figure(self, ax: Any = None) -> Any:
        """The cascade drawn on the changed topology (:func:`faultray_lab.plots.plot_cascade`)."""
        from .plots import plot_cascade

        return plot_cascade(self.topology, self.cascade, ax=ax)


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
        A fault type of :data:`faultray_lab.rules.FAULT_TYPES`.
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


def figure_png(fig: Any, dpi: int = 110) -> bytes:
    """A figure as PNG bytes (closed afterwards), for an ``ipywidgets.Image``."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight",
                metadata={"Software": "faultray-lab"})
    plt.close(fig)
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------
# The panel
# ---------------------------------------------------------------------------------------------
def _resolve(topology_or_incident: Any) -> tuple[Topology, str | None, str, str]:
    """(topology, failed component, fault type, title) from a topology, incident or path."""
    obj = topology_or_incident
    if isinstance(obj, str | os.PathLike):
        obj = load_topology(obj)
    if isinstance(obj, Topology):
        return obj, default_failed(obj), "component_down", Path(obj.source).name
    topo = getattr(obj, "topology", None)
    fault = getattr(obj, "fault", None)
    if isinstance(topo, Topology) and fault is not None:
        title = f"{getattr(obj, 'id', 'incident')}: {getattr(obj, 'title', '')}".rstrip(": ")
        return topo, fault.component, fault.type, title
    raise InputError(None, "what_if", f"cannot explore a {type(obj).__name__}",
                     "pass a Topology, an Incident or the path of a topology file")


def what_if(topology_or_incident: Any, *, failed: str | Sequence[str] | None = None,
            fault: str | None = None, rules: str | RuleSet = "cps",
            max_depth: int = 20) -> Any:
    """An ipywidgets panel to explore what-ifs on a topology or an incident.

    Choose the failed component(s), the fault type, the rule set and the depth bound; toggle a
    circuit breaker on any edge and set the replicas of any component. Every change redraws
    the cascade, the severity, the affected-components table and the availability ceiling and
    floor. The panel's ``result`` attribute holds the latest :class:`WhatIfResult`.

    Parameters
    ----------
    topology_or_incident : Topology, Incident or path
        An incident starts with its own fault selected.
    failed, fault, rules, max_depth : optional
        The starting selection (default: the incident's fault, or the component with the
        most dependents, down). A custom rule set (e.g. ``get_ruleset("cps").without("R7")``)
        joins the rule-set buttons.

    Returns
    -------
    WhatIfPanel
        An ``ipywidgets.VBox``; display it in a notebook.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("agg")
    >>> from faultray_lab import load_topology, demo_topology_path
    >>> panel = what_if(load_topology(demo_topology_path()))
    >>> panel.result.failed
    ('postgres',)
    >>> panel.replicas["postgres"].value = 2
    >>> panel.result.health["app-1"]
    'degraded'
    """
    topo, start, start_fault, title = _resolve(topology_or_incident)
    if failed is not None:
        start = failed  # type: ignore[assignment]
    return WhatIfPanel(topo, start, fault or start_fault, rules, max_depth, title)


class WhatIfPanel(_w.VBox):  # type: ignore[misc]
    """The widget panel of :func:`what_if` (an ``ipywidgets.VBox``).

    Attributes ``failed``, ``fault``, ``rules``, ``max_depth`` (controls), ``breakers``
    (edge -> Checkbox), ``replicas`` (component id -> BoundedIntText), ``image``,
    ``summary_html``, ``table_html`` (outputs) and ``result`` (the latest WhatIfResult).
    """

    def __init__(self, topology: Topology, failed: str | Sequence[str] | None, fault: str,
                 rules: str | RuleSet, max_depth: int, title: str = "") -> None:
        w = _w
        self._muted = False
        self.topology = topology
        start = () if failed is None else (failed,) if isinstance(failed, str) else tuple(failed)
        for c in start:
            topology.component(c)
        ids = list(topology.ids)
        self.failed = w.SelectMultiple(options=ids, value=start, rows=min(8, len(ids)),
                                       description="failed")
        check_fault_type(fault, topology.source)
        self.fault = w.Dropdown(options=list(FAULT_TYPES), value=fault, description="fault")
        start_rules = get_ruleset(rules)
        self.rulesets: dict[str, RuleSet] = {n: get_ruleset(n) for n in RULE_SETS}
        self.rulesets[start_rules.name] = start_rules  # e.g. an ablation of cps
        self.rules = w.ToggleButtons(options=list(self.rulesets), value=start_rules.name,
                                     description="rules")
        self.max_depth = w.IntSlider(value=max_depth, min=0, max=max(20, len(ids)),
                                     description="max depth",
                                     disabled=start_rules.traversal == "fixpoint")
        self.breakers = {(e.source, e.target): w.Checkbox(value=e.circuit_breaker,
                                                          description=f"{e.source} -> {e.target}",
                                                          indent=False)
                         for e in topology.dependencies}
        self.replicas = {c.id: w.BoundedIntText(value=c.replicas, min=1, max=1000,
                                                description=c.id,
                                                style={"description_width": "initial"})
                         for c in topology.components}
        self.reset_button = w.Button(description="reset changes")
        self.image = w.Image(format="png")
        self.summary_html = w.HTML()
        self.table_html = w.HTML()
        self.result: WhatIfResult | None = None

        changes = w.Accordion(children=[
            w.VBox(list(self.breakers.values())),
            w.VBox(list(self.replicas.values())),
        ])
        changes.set_title(0, "circuit breakers (dependent -> upstream)")
        changes.set_title(1, "replicas")
        controls = w.VBox([self.failed, self.fault, self.rules, self.max_depth, changes,
                           self.reset_button])
        header = w.HTML(f"<b>what-if: {_escape(title)}</b>") if title else w.HTML()
        super().__init__([header, w.HBox([controls, w.VBox([self.summary_html, self.image])]),
                          self.table_html])
        watched = [self.failed, self.fault, self.rules, self.max_depth,
                   *self.breakers.values(), *self.replicas.values()]
        for ctrl in watched:
            ctrl.observe(self._on_change, names="value")
        self.reset_button.on_click(lambda _b: self.reset())
        self.refresh()

    # state ------------------------------------------------------------------------------------
    def changes(self) -> tuple[dict[Edge, bool], dict[str, int]]:
        """The breaker and replica settings that differ from the topology's."""
        base_cb = {(e.source, e.target): e.circuit_breaker for e in self.topology.dependencies}
        cb = {k: bool(box.value) for k, box in self.breakers.items() if box.value != base_cb[k]}
        rep = {c.id: int(self.replicas[c.id].value) for c in self.topology.components
               if self.replicas[c.id].value != c.replicas}
        return cb, rep

    def evaluate(self) -> WhatIfResult:
        """Evaluate the current widget values (no drawing)."""
        cb, rep = self.changes()
        return evaluate(self.topology, tuple(self.failed.value), self.fault.value,
                        self.rulesets[self.rules.value], int(self.max_depth.value), cb, rep)

    def refresh(self) -> WhatIfResult:
        """Re-evaluate and redraw the outputs; returns the new result."""
        self.max_depth.disabled = self.rulesets[self.rules.value].traversal == "fixpoint"
        try:
            res = self.evaluate()
        except InputError as exc:
            self.summary_html.value = f"<span style='color:#D55E00'>{_escape(str(exc))}</span>"
            return self.result  # type: ignore[return-value]
        self.result = res
        self.image.value = figure_png(res.figure())
        layers = ", ".join(f"{k} {v:.6f}" for k, v in res.layers.items())
        self.summary_html.value = f"{_escape(res.summary())}<br>layers: {_escape(layers)}"
        table = res.affected
        self.table_html.value = (table.to_html(index=False, na_rep="", float_format="{:g}".format)
                                 if len(table) else "<i>no affected components</i>")
        return res

    def reset(self) -> None:
        """Put every breaker and replica back to the topology's own values."""
        self._muted = True
        try:
            for e in self.topology.dependencies:
                self.breakers[(e.source, e.target)].value = e.circuit_breaker
            for c in self.topology.components:
                self.replicas[c.id].value = c.replicas
        finally:
            self._muted = False
        self.refresh()

    def _on_change(self, _change: Any) -> None:
        if not self._muted:
            self.refresh()


def _escape(text: str) -> str:
    import html

    return html.escape(text)

"""The what-if panel: ipywidgets on top of :mod:`faultray_lab.scenarios.whatif`.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("agg")
>>> from faultray_lab import load_topology, demo_topology_path
>>> panel = what_if(load_topology(demo_topology_path()))
>>> panel.result.failed
('postgres',)
"""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ipywidgets as _w

from ..common.errors import InputError
from ..engine.faults import FAULT_TYPES, check_fault_type
from ..engine.rules import RULESET_NAMES, RuleSet, get_ruleset
from ..importers.native import load_topology
from ..model.topology import Topology
from ..scenarios.whatif import Edge, WhatIfResult, default_failed, evaluate
from .cascade import plot_cascade
from .style import figure_png


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
        self.rulesets: dict[str, RuleSet] = {n: get_ruleset(n) for n in RULESET_NAMES}
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
        header = w.HTML(f"<b>what-if: {html.escape(title)}</b>") if title else w.HTML()
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
            self.summary_html.value = f"<span style='color:#D55E00'>{html.escape(str(exc))}</span>"
            return self.result  # type: ignore[return-value]
        self.result = res
        self.image.value = figure_png(plot_cascade(res.topology, res.cascade))
        layers = ", ".join(f"{k} {v:.6f}" for k, v in res.layers.items())
        self.summary_html.value = f"{html.escape(res.summary())}<br>layers: {html.escape(layers)}"
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


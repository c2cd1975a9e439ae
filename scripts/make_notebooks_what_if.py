"""Write notebooks/02_what_if.ipynb and faultray_lab/data/report.ipynb (without outputs).

Run from the repository root: ``python scripts/make_notebooks_what_if.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from nbgen import write  # scripts/nbgen.py, beside this file

ROOT = Path(__file__).resolve().parents[1]

WHAT_IF = [
    ("md", """# What-if exploration

Change one thing and see the cascade and the availability bounds move at once: fail a component,
put a circuit breaker on an edge, add a replica. The panel below redraws the cascade (nodes
coloured by health, tripped breakers crossed), the severity, the affected components and the
availability ceiling and floor. Its logic is the plain function `faultray_lab.widgets.evaluate`,
which the scripted sequence at the end calls directly, so this notebook also runs headless."""),
    ("parameters", """topology_path = None          # None: the 9-component demo topology
incident_dir = "../incidents/paper-18"
incident_id = "aws-s3-2017-02"
output_dir = "../paper/figures"
save = True                   # write the what-if figure (demo only) under output_dir"""),
    ("code", """from pathlib import Path

import pandas as pd

import faultray_lab as fl
from faultray_lab import plots
from faultray_lab.scenarios.whatif import compare, evaluate

pd.set_option("display.width", 160)
topo = fl.load_topology(topology_path or fl.demo_topology_path())
print(f"{Path(topo.source).name}: {len(topo)} components, {len(topo.dependencies)} "
      "dependencies")"""),
    ("md", """## The panel on the demo topology

It starts with the component that has the most dependents failed (`postgres` on the demo). Open
*circuit breakers* to toggle a breaker on any edge, *replicas* to change a component's replicas.
(In a static view of this notebook the panel does not render; run it in Jupyter.)"""),
    ("code", """panel = fl.what_if(topo)
print(panel.result.summary())
panel"""),
    ("md", """## The panel on an incident

An incident opens with its own fault selected: here one of the backtest incidents
(`incidents/paper-18`)."""),
    ("code", """incident = {i.id: i for i in fl.load_incidents(incident_dir)}[incident_id]
incident_panel = fl.what_if(incident)
print(incident_panel.result.summary())
incident_panel"""),
    ("md", """## A scripted sequence of what-ifs

`postgres` goes down (`cps` rules). Then: (1) give `postgres` a second replica; (2) instead put a
circuit breaker on `app-1 -> postgres`; (3) both. The panel runs exactly these calls."""),
    ("code", """runs = {
    "baseline": evaluate(topo, "postgres"),
    "postgres x2": evaluate(topo, "postgres", replicas={"postgres": 2}),
    "breaker app-1 -> postgres": evaluate(topo, "postgres",
                                          breakers={("app-1", "postgres"): True}),
    "both": evaluate(topo, "postgres", replicas={"postgres": 2},
                     breakers={("app-1", "postgres"): True}),
}
for name, r in runs.items():
    print(f"{name:26s} {r.summary()}")
outcomes = pd.DataFrame([{
    "what-if": name, "affected": len(r.health), "down": len(r.down), "severity": r.severity,
    "tripped breakers": ", ".join(f"{a}->{b}" for a, b in r.tripped_breakers),
    "hardware layer": r.layers["hardware"], "ceiling": r.ceiling, "binding": r.binding_layer,
    "floor": r.floor} for name, r in runs.items()])
outcomes"""),
    ("md", """What changed, component by component, against the baseline:"""),
    ("code", """for name in ("postgres x2", "breaker app-1 -> postgres"):
    print(name)
    print(compare(runs["baseline"], runs[name]).to_string(index=False), end="\\n\\n")"""),
    ("md", """What the sequence shows, checked below:

- With one replica, losing `postgres` takes down everything that requires it: six components.
- A second replica turns every `requires` dependent's *down* into *degraded* (rule R3 reads the
  upstream's replicas): only `postgres` itself is down and the severity falls. The hardware layer
  and the availability floor rise, but the ceiling does not move: the software layer (deploys,
  human error, configuration drift) binds it, so more hardware redundancy cannot lift it.
- A breaker on `app-1 -> postgres` trips and saves `app-1` (degraded), but `nginx` still goes
  down through `app-2`: one breaker does not protect the entry point. The availability bounds do
  not model breakers, so they do not move."""),
    ("code", """base, rep = runs["baseline"], runs["postgres x2"]
cb = runs["breaker app-1 -> postgres"]
if topology_path is None:
    assert sorted(base.down) == sorted(["postgres", "tool-db-query", "app-1", "app-2",
                                        "support-agent", "nginx"])
    assert rep.down == ["postgres"] and rep.health["app-1"] == "degraded"
    assert rep.severity < base.severity
    assert cb.tripped_breakers == (("app-1", "postgres"),)
    assert cb.health["app-1"] == "degraded"
    assert cb.health["app-2"] == "down" and cb.health["nginx"] == "down"
    assert rep.severity < cb.severity < base.severity
    assert runs["both"].severity <= min(rep.severity, cb.severity)
    assert rep.layers["hardware"] > base.layers["hardware"] and rep.floor > base.floor
    assert base.binding_layer == rep.binding_layer == "software"
    assert rep.ceiling == base.ceiling
    assert (cb.ceiling, cb.floor) == (base.ceiling, base.floor)
print("what-if outcomes checked")"""),
    ("md", "## The two changes side by side"),
    ("code", """import matplotlib.pyplot as plt

fig = plots.plot_what_if([runs["postgres x2"], runs["breaker app-1 -> postgres"]])
if save and topology_path is None:
    plots.save_figure(fig, "what_if_demo", output_dir, formats=("pdf", "png", "svg"))
plt.show()"""),
]

REPORT = [
    ("parameters", """topology_path = "topology.yaml"
rules = "cps"
top_n = 10"""),
    ("code", """from IPython.display import Markdown, display

import faultray_lab as fl
from faultray_lab import report

topo = fl.load_topology(topology_path)
display(Markdown(report.heading(topo, rules)))"""),
    ("code", """display(Markdown("## Worst single failure"))
worst = report.worst_single_failure(topo, rules)
display(Markdown(report.describe_cascade(worst)))
report.show(fl.plot_cascade(topo, worst), alt=f"cascade of {worst.fault} on {worst.target}")"""),
    ("code", """display(Markdown("## Resilience score"))
display(Markdown(report.score_section(topo)))"""),
    ("code", """display(Markdown(f"## Top {top_n} risks"))
sweep = report.run_report_sweep(topo, rules)
display(Markdown(report.class_counts(sweep)))
display(report.table(report.top_risks(sweep, top_n), 1))
report.show(report.risk_figure(sweep), alt="risk distribution of the default scenarios")"""),
    ("code", """display(Markdown("## Single points of failure"))
table, text = report.spof_section(topo, rules)
display(Markdown(text))
if len(table):
    display(report.table(table))"""),
    ("code", """display(Markdown("## Availability layers"))
table, text = report.availability_section(topo)
display(Markdown(text))
display(report.table(table, 8))
report.show(report.availability_figure(topo), alt="availability layers")"""),
    ("code", """display(Markdown("## Every single failure"))
display(report.table(report.single_failures(topo, rules), 1))
display(Markdown(report.footer(topo)))"""),
]



def main(argv: list[str]) -> int:  # noqa: ARG001 - no arguments
    write(WHAT_IF, ROOT / "notebooks" / "02_what_if.ipynb")
    write(REPORT, ROOT / "faultray_lab" / "data" / "report.ipynb")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

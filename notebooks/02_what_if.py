# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # What-if exploration
#
# Change one thing and see the cascade and the availability bounds move at once: fail a
# component, put a circuit breaker on an edge, add a replica. The panel below redraws the cascade
# (nodes coloured by health, tripped breakers crossed), the severity, the affected components and
# the availability ceiling and floor. Its logic is the plain function
# `faultray_lab.scenarios.whatif.evaluate`, which the scripted sequence at the end calls directly,
# so this notebook also runs headless.

# %% tags=["parameters"]
topology_path = None          # None: the 9-component demo topology
incident_dir = "../incidents/paper-18"
incident_id = "aws-s3-2017-02"
output_dir = "../paper/figures"
save = True                   # write the what-if figure (demo only) under output_dir

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display

import faultray_lab as fl
from faultray_lab.outputs import figures
from faultray_lab.outputs.analyses import what_if_sequence
from faultray_lab.outputs.tables import table_what_if
from faultray_lab.scenarios.whatif import compare

pd.set_option("display.width", 160)
topo = fl.load_topology(topology_path or fl.demo_topology_path())
print(f"{Path(topo.source).name}: {len(topo)} components, {len(topo.dependencies)} "
      "dependencies")

# %% [markdown]
# ## The panel on the demo topology
#
# It starts with the component that has the most dependents failed (`postgres` on the demo). Open
# *circuit breakers* to toggle a breaker on any edge, *replicas* to change a component's
# replicas. (In a static view of this notebook the panel does not render; run it in Jupyter.)

# %%
panel = fl.what_if(topo)
print(panel.result.summary())
display(panel)

# %% [markdown]
# ## The panel on an incident
#
# An incident opens with its own fault selected: here one of the backtest incidents
# (`incidents/paper-18`).

# %%
incident = {i.id: i for i in fl.load_incidents(incident_dir)}[incident_id]
incident_panel = fl.what_if(incident)
print(incident_panel.result.summary())
display(incident_panel)

# %% [markdown]
# ## A scripted sequence of what-ifs
#
# `postgres` goes down (`cps` rules). Then: (1) give `postgres` a second replica; (2) instead put
# a circuit breaker on `app-1 -> postgres`; (3) both. `what_if_sequence` makes exactly the calls
# the panel makes: `evaluate(topo, "postgres")`, then the same with
# `replicas={"postgres": 2}`, with `breakers={("app-1", "postgres"): True}`, and with both. The
# paper's what-if table and figure come from the same sequence.

# %%
runs = what_if_sequence(topo)
for name, r in runs.items():
    print(f"{name:26s} {r.summary()}")
display(table_what_if(runs).data)

# %% [markdown]
# What changed, component by component, against the baseline:

# %%
for name in ("postgres x2", "breaker app-1 -> postgres"):
    print(name)
    print(compare(runs["baseline"], runs[name]).to_string(index=False), end="\n\n")

# %% [markdown]
# What the sequence shows, checked below:
#
# - With one replica, losing `postgres` takes down everything that requires it: six components.
# - A second replica turns every `requires` dependent's *down* into *degraded* (rule R3 reads the
#   upstream's replicas): only `postgres` itself is down and the severity falls. The hardware
#   layer and the availability floor rise, but the ceiling does not move: the software layer
#   (deploys, human error, configuration drift) binds it, so more hardware redundancy cannot lift
#   it.
# - A breaker on `app-1 -> postgres` trips and saves `app-1` (degraded), but `nginx` still goes
#   down through `app-2`: one breaker does not protect the entry point. The availability bounds
#   do not model breakers, so they do not move.

# %%
base, rep = runs["baseline"], runs["postgres x2"]
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
print("what-if outcomes checked")

# %% [markdown]
# ## The two changes side by side
#
# On the demo the figure is also written (`what_if_demo`, by the figures registry) under
# `output_dir`.

# %%
changes = [runs["postgres x2"], runs["breaker app-1 -> postgres"]]
if save and topology_path is None:
    figures.save("what_if_demo", changes, output_dir=output_dir)
figures.FIGURES["what_if_demo"].plot(changes)
plt.show()

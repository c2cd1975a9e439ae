# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The blind incident corpus
#
# `incidents/corpus` holds public incidents written in separate, blind passes
# (`incidents/corpus-audit/PROTOCOL.md`): a modeller wrote each topology and fault from the
# architecture as described, a labeller who saw only the component list and the sources labelled
# every component `down`, `degraded`, `unaffected` or `unknown`, each label with a verbatim quote
# and its source. This notebook says what the corpus can show - how many components any cascade
# model could get wrong (*contested*: reverse-reachable from the failed component, not it), how
# often the edge types coincide with the outcome, the passes' agreement - and runs the backtest
# with every baseline and interval on it.
#
# Parameters: `incident_dir` (empty: the repository's `incidents/corpus`), `audit_dir` (the pass
# files, for the kappas; empty: `incidents/corpus-audit`), `seed` (bootstrap).

# %% tags=["parameters"]
incident_dir = ""
audit_dir = ""
seed = 0

# %%
from pathlib import Path

import pandas as pd
from IPython.display import JSON, display

import faultray_lab as fl
from faultray_lab.common.files import project_path
from faultray_lab.evaluation.backtest import backtest
from faultray_lab.evaluation.corpus import corpus_stats, incident_round

pd.set_option("display.precision", 3)
pd.set_option("display.width", 160)
incident_dir = incident_dir or project_path("incidents/corpus")
audit_dir = audit_dir or project_path("incidents/corpus-audit")
incidents = fl.load_incidents(incident_dir)
stats = corpus_stats(incident_dir, audit=audit_dir)
print(f"{stats['incidents']} incidents, {stats['components']} components from {incident_dir}")

# %% [markdown]
# ## What the corpus can show
#
# Only contested components that were *unaffected* let a cascade model beat "everything that
# depends on the failed part fails"; `best_f1_gain` is the mean F1 an oracle that knew them would
# gain over reverse reachability. The power line says how many incidents a paired test needs to
# see a 0.03 F1 margin.

# %%
keys = ["incidents", "components", "labels", "unknown", "labels_without_evidence", "contested",
        "contested_unaffected", "best_f1_gain"]
display(pd.Series({k: stats[k] for k in keys}, name="corpus"))
display(pd.DataFrame(stats["edge_outcomes"]).T.rename_axis("edge type"))
kappas = {k: (None if stats[k] is None else round(stats[k]["kappa"], 3))
          for k in ("kappa_truth", "kappa_edges")}
print("agreement of the second passes (Cohen's kappa):", kappas)
print("power:", stats["power"])

# %% [markdown]
# Per round of modelling (`incidents/corpus-audit/PROTOCOL.md`): round 3 preferred incidents
# whose postmortem says what kept working, so its share of unaffected contested components is not
# comparable with the other rounds'.

# %%
by_round = {r: corpus_stats([i for i in incidents if incident_round(i) == r])
            for r in sorted({incident_round(i) for i in incidents})}
pd.DataFrame({f"round {r}": {k: st[k] for k in keys} for r, st in by_round.items()})

# %% [markdown]
# ## The backtest on the corpus
#
# Both rule sets beside the three baselines; components labelled `unknown` are not scored.
# The margin is the rule set's F1 minus the best baseline's, with a paired bootstrap interval.

# %%
runs = {rules: backtest(incidents, rules=rules, seed=seed) for rules in ("cps", "faultray-v11")}
margins = pd.DataFrame({rules: bt.to_dict()["discrimination_margin"]
                        for rules, bt in runs.items()}).T
display(margins)
for rules, bt in runs.items():
    print(rules)
    display(bt.comparison())

# %% [markdown]
# On the repository's corpus the README's statements are checked here, so they cannot drift
# from the data: the counts, `cps` equal to reverse reachability, and its margin below the
# all-components baseline with an interval excluding zero.

# %% tags=["summary"]
if Path(incident_dir).resolve() == Path(project_path("incidents/corpus")).resolve():
    cps = runs["cps"]
    assert (stats["incidents"], stats["contested"], stats["contested_unaffected"]) == (86, 249, 7)
    assert round(stats["best_f1_gain"], 3) == 0.007
    assert cps.summary["f1"] == float(cps.baselines.loc["reverse-reachable", "f1"])
    assert round(cps.summary["f1"], 3) == 0.891 and cps.best_baseline == "all-components"
    assert margins.loc["cps", "high"] < 0
assert stats["labels_without_evidence"] == 0
assert stats["incidents"] == len([i for i in incidents if i.truth is not None])
assert 0 <= stats["contested_unaffected"] <= stats["contested"]
JSON({"stats": {k: stats[k] for k in keys},
      "kappa": kappas,
      "margins_f1": margins.to_dict(orient="index")})

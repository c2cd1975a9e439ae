# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Reproducing the published 18-incident backtest
#
# The FaultRay 11.1 paper reports a backtest on 18 public cloud incidents: precision, recall and
# F1 of 1.000, severity accuracy 0.819, downtime MAE 3159.53 minutes and confidence 0.756. This
# notebook runs the `faultray-v11` engine on the incident files in `incidents/paper-18/`, scores
# it with the published metrics (SEMANTICS.md section 6), compares every per-incident value with
# the published one, and puts three trivial baselines beside it, with seeded bootstrap 95%
# intervals.
#
# Run it headless with papermill (`faultray-lab reproduce`) or `pytest --nbval-lax notebooks/`.

# %% tags=["parameters"]
incident_dir = "../incidents/paper-18"
rules = "faultray-v11"
severity_map = "published"
output_dir = "../paper/figures"
seed = 0

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import JSON, display

import faultray_lab as fl
from faultray_lab.common.files import project_path
from faultray_lab.evaluation.backtest import backtest
from faultray_lab.evaluation.published import compare_published, load_published
from faultray_lab.outputs import figures

pd.set_option("display.precision", 3)
pd.set_option("display.width", 160)
is_default = (Path(incident_dir).name == "paper-18" and rules == "faultray-v11"
              and severity_map == "published")
incidents = fl.load_incidents(incident_dir)
bt = backtest(incidents, rules=rules, severity_map=severity_map, seed=seed)
print(f"{len(incidents)} incidents, {bt.summary['n']} with ground truth; rules {rules}, "
      f"severity map {severity_map}, seed {seed}")

# %% [markdown]
# ## Per incident
#
# Predicted affected set against the truth, severity and downtime.

# %%
cols = ["id", "tp", "fp", "fn", "f1", "predicted_severity", "severity_label",
        "severity_accuracy", "predicted_downtime_minutes", "downtime_minutes", "confidence"]
bt.per_incident[cols]

# %% [markdown]
# ## Summary next to the published values
#
# Every per-incident value (predicted set, severity, downtime, each metric) is compared with the
# published one at the published number of decimals.

# %%
published_summary, published_incidents = load_published(
    project_path("incidents/paper-18-published.json"))
checks = compare_published(bt, published_incidents)
print(f"per-incident values equal to the published ones: {int(checks['match'].sum())} of "
      f"{len(checks)}")
display(pd.DataFrame({"reproduced": pd.Series(bt.summary),
                      "published": pd.Series(published_summary)}))

# %% [markdown]
# ## Baselines: what the number means
#
# `all-components` predicts every component of the topology, `root-only` only the failed one,
# `reverse-reachable` everything with a dependency path to the failed component (plain reverse
# breadth-first search). Baselines predict every component down with no times (severity by the
# same severity formula, downtime 5 minutes per component). In all 18 incidents the ground truth
# is exactly the reverse-reachable set, so plain reachability also scores F1 1.000: the published
# F1 cannot tell the engine from a graph search. The discrimination margin is the engine's F1
# minus the best baseline's.

# %%
print(f"discrimination margin (F1): {bt.margin:+.3f} over {bt.best_baseline}")
bt.comparison()

# %% [markdown]
# ## Bootstrap 95% intervals
#
# Incidents resampled with replacement (seeded), the same resamples for every method.

# %%
bt.intervals.pivot(index="method", columns="metric", values=["low", "high"]).round(3)

# %% [markdown]
# ## Scores on the predicted down set
#
# Under the `cps` rules the affected set equals the reverse-reachable set (SEMANTICS 3), so the
# information is in which components go down; these columns score the down set alone.

# %%
pd.Series(bt.down_summary, name="down set")

# %% [markdown]
# ## Figures
#
# Written by the figures registry (`faultray_lab.outputs.figures`) as PDF, PNG and SVG under
# `output_dir`, and drawn here.

# %%
paths = figures.save("backtest_metrics", bt, output_dir=output_dir)
paths += figures.save("backtest_downtime", bt, output_dir=output_dir)
print("\n".join(p.name for p in paths))
figures.FIGURES["backtest_metrics"].plot(bt)
figures.FIGURES["backtest_downtime"].plot(bt)
plt.show()

# %% [markdown]
# ## Checks
#
# With the default parameters the reproduction must equal the publication.

# %%
if is_default:
    for key in ("precision", "recall", "f1", "severity_accuracy", "confidence"):
        assert round(bt.summary[key], 3) == published_summary[key], key
    assert round(bt.summary["downtime_mae_minutes"], 2) == published_summary["downtime_mae_minutes"]
    assert checks["match"].all(), checks[~checks["match"]]
    assert round(float(bt.baselines.loc["reverse-reachable", "f1"]), 3) == 1.000
    assert round(float(bt.baselines.loc["all-components", "f1"]), 3) == 0.942
    assert round(float(bt.baselines.loc["root-only", "f1"]), 3) == 0.405
    assert bt.margin == 0.0
    print("reproduced: all published values match")

# %% tags=["summary"]
result = bt.to_dict()
JSON({"summary": result["summary"], "baselines": result["baselines"],
      "discrimination_margin": result["discrimination_margin"],
      "published_matches": f"{int(checks['match'].sum())}/{len(checks)}"})

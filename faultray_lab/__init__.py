"""faultray-lab: cascade-failure simulation, availability bounds and honest backtests.

The package is layered; each subpackage may import only the ones listed before it:

================ =================================================================
``common``       errors, file reading and writing, JSON, suggestions, validation
``model``        the topology (components, edges, health) and its file schema
``importers``    topology files, Terraform plans, Jaeger graphs, synthetic graphs
``engine``       rule sets, the cascade traversals, the compiled fast path, agents
``availability`` the five-layer ceiling, system availability, fail-stop (DSB)
``scenarios``    scenario generation, sweeps, resilience score, what-ifs, plan gate
``evaluation``   incidents, metrics, baselines, backtest, ledger, prospective scores
``viz``          figures and the what-if widget panel
``outputs``      the figures registry, paper tables, HTML report, notebook runs
``cli``          the ``faultray-lab`` command
================ =================================================================

The public API below is imported lazily, so ``import faultray_lab`` and the command line
start fast.

Examples
--------
>>> import faultray_lab as fl
>>> topo = fl.load_topology(fl.demo_topology_path())
>>> fl.simulate_fault(topo, "postgres", rules="faultray-v11").severity
5.3
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from . import _moved

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "InputError": "common.errors", "InputWarning": "common.errors",
    "Topology": "model.topology", "Component": "model.topology", "Dependency": "model.topology",
    "topology_from_dict": "model.schema",
    "load_topology": "importers.native", "import_jaeger_dependencies": "importers.jaeger",
    "layered_topology": "importers.synthetic",
    "plan_to_topologies": "importers.terraform", "load_plan": "importers.terraform",
    "TerraformPlan": "importers.terraform",
    # engine
    "Rule": "engine.rules", "RuleSet": "engine.rules", "Predicate": "engine.rules",
    "get_ruleset": "engine.rules", "FAULT_TYPES": "engine.faults",
    "Cascade": "engine.effects", "Effect": "engine.effects",
    "simulate_fault": "engine.cascade", "simulate_latency_cascade": "engine.cascade",
    "simulate_traffic_spike": "engine.cascade", "chain_severity": "engine.severity",
    "merge_worst": "engine.merge", "merge_cascades": "engine.merge",
    "single_fault_table": "engine.fastpath",
    "hallucination_probability": "engine.agents", "agent_to_agent": "engine.agents",
    "chain_hallucination": "engine.agents", "agent_hallucination": "engine.agents",
    "cross_layer_hallucination": "engine.agents",
    "propagate_agent_hallucination": "engine.agents", "annotate_agents": "engine.agents",
    # availability
    "availability_layers": "availability.layers", "AvailabilitySummary": "availability.layers",
    "system_availability": "availability.system", "SystemAvailability": "availability.system",
    "CommonCause": "availability.system", "independent_product": "availability.system",
    "common_cause_sweep": "availability.system",
    "failstop_availability": "availability.failstop", "reproduce_dsb": "availability.failstop",
    "dsb_error_statistics": "availability.failstop",
    # scenarios
    "Scenario": "scenarios.generate", "generate_scenarios": "scenarios.generate",
    "iter_scenarios": "scenarios.generate", "count_scenarios": "scenarios.generate",
    "risk_class": "scenarios.generate",
    "run_sweep": "scenarios.sweep", "sweep_report": "scenarios.sweep",
    "resilience_score": "scenarios.resilience", "resilience_breakdown": "scenarios.resilience",
    "spofs": "scenarios.resilience",
    "WhatIfResult": "scenarios.whatif",
    "check_plan": "scenarios.plan_gate", "PlanCheck": "scenarios.plan_gate",
    # evaluation
    "Incident": "evaluation.incidents", "Fault": "evaluation.incidents",
    "Truth": "evaluation.incidents", "load_incidents": "evaluation.incidents",
    "load_incident": "evaluation.incidents",
    "Backtest": "evaluation.backtest", "backtest": "evaluation.backtest",
    "load_published": "evaluation.published",
    "register": "evaluation.prospective", "score": "evaluation.prospective",
    "ProspectiveScore": "evaluation.prospective", "verify_ledger": "evaluation.ledger",
    "robustness": "evaluation.robustness", "perturb_topology": "evaluation.robustness",
    "recovery_time_loo": "evaluation.recovery.candidates",
    "recovery_candidates": "evaluation.recovery.candidates",
    "recovery_evaluation": "evaluation.recovery.candidates",
    "label_sensitivity": "evaluation.recovery.labels",
    "label_agreement": "evaluation.recovery.labels",
    "read_labels": "evaluation.recovery.labels",
    "mechanism_permutation_test": "evaluation.recovery.labels",
    "severity_ordinal_loo": "evaluation.severity",
    # viz and outputs
    "what_if": "viz.widgets", "plot_cascade": "viz.cascade",
    "plot_risk_distribution": "viz.sweep",
    "build_paper": "outputs.paper", "build_report": "outputs.report",
}

__all__ = sorted([*_EXPORTS, "demo_topology_path", "__version__"])

_moved.install(__name__)


def demo_topology_path() -> Path:
    """Path of the 9-component demo topology shipped with the package.

    >>> demo_topology_path().name
    'demo.yaml'
    """
    return Path(__file__).parent / "data" / "demo.yaml"


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'faultray_lab' has no attribute '{name}'")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__

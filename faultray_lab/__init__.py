"""faultray-lab: cascade-failure simulation, availability bounds and honest backtests.

The public API is imported lazily, so ``import faultray_lab`` and the command line start fast.

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

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "InputError": "errors",
    "Topology": "topology", "Component": "topology", "Dependency": "topology",
    "load_topology": "topology", "topology_from_dict": "topology",
    "Rule": "rules", "RuleSet": "rules", "get_ruleset": "rules", "FAULT_TYPES": "rules",
    "Cascade": "cascade", "Effect": "cascade", "simulate_fault": "cascade",
    "simulate_latency_cascade": "cascade", "simulate_traffic_spike": "cascade",
    "chain_severity": "cascade", "merge_worst": "cascade",
    # scenarios and sweeps
    "Scenario": "scenarios", "generate_scenarios": "scenarios", "run_sweep": "scenarios",
    "resilience_score": "scenarios", "spofs": "scenarios", "single_fault_table": "scenarios",
    "iter_scenarios": "scenarios", "count_scenarios": "scenarios", "risk_class": "scenarios",
    "resilience_breakdown": "scenarios", "sweep_report": "scenarios",
    "plot_risk_distribution": "plots",
    # availability and agents
    "availability_layers": "availability", "system_availability": "availability",
    "import_jaeger_dependencies": "failstop",
    "AvailabilitySummary": "availability", "SystemAvailability": "availability",
    "CommonCause": "availability", "independent_product": "availability",
    "common_cause_sweep": "availability", "failstop_availability": "failstop",
    "reproduce_dsb": "failstop", "dsb_error_statistics": "failstop",
    "hallucination_probability": "agents", "agent_to_agent": "agents",
    "chain_hallucination": "agents", "agent_hallucination": "agents",
    "cross_layer_hallucination": "agents", "propagate_agent_hallucination": "agents",
    "annotate_agents": "agents",
    # incidents, backtest, prospective validation
    "Incident": "incidents", "load_incidents": "incidents",
    "Fault": "incidents", "Truth": "incidents", "load_incident": "incidents",
    "Backtest": "backtest", "backtest": "backtest", "load_published": "backtest",
    "register": "prospective", "score": "prospective", "verify_ledger": "prospective",
    "ProspectiveScore": "prospective", "recovery_time_loo": "recovery",
    "recovery_candidates": "recovery", "recovery_evaluation": "recovery",
    "label_sensitivity": "recovery", "label_agreement": "recovery", "read_labels": "recovery",
    "mechanism_permutation_test": "recovery",
    "severity_ordinal_loo": "recovery", "robustness": "prospective",
    "perturb_topology": "prospective",
    # what-if widgets and figures (issue 3)
    "what_if": "widgets", "WhatIfResult": "widgets", "plot_cascade": "plots",
    "build_paper": "paper", "build_report": "report",
    # terraform plan guard
    "plan_to_topologies": "terraform", "check_plan": "terraform", "load_plan": "terraform",
    "PlanCheck": "terraform", "TerraformPlan": "terraform",
}

__all__ = sorted([*_EXPORTS, "demo_topology_path", "__version__"])


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

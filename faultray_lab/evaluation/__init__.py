"""Evaluation against real incidents.

``incidents`` (incident files), ``metrics`` (the published metrics), ``baselines`` (the
registry of trivial rivals; a new baseline goes here), ``backtest``, ``published`` (values
compared against), ``predict`` (the registered prediction), ``ledger`` (the hash-chained
pre-registration file), ``prospective`` (register and score), ``robustness``, ``severity``
(ordinal severity) and ``recovery`` (recovery-time features, models, candidates and labels).
"""

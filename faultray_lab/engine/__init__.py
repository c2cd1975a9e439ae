"""The cascade engine.

``faults`` (what each fault does to its target, and its likelihood), ``rules`` (rule sets as
tables, the predicates they read, the interpreter; a new rule goes here), ``compile`` (a rule
table compiled onto a topology's edges), ``traversal`` (first-come depth-first and least
fixpoint), ``cascade`` (``simulate_*``), ``effects`` (what a simulation returns), ``severity``,
``merge`` (how a scenario's chains combine), ``fastpath`` (every single fault at once) and
``agents`` (the hallucination model).
"""

"""Ways to get a topology: ``native`` (the YAML/JSON schema), ``terraform`` (a plan's before and
after), ``jaeger`` (a service dependency graph) and ``synthetic`` (seeded generated graphs).
A new importer is one module here that returns a :class:`~faultray_lab.model.topology.Topology`.
"""

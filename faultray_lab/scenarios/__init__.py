"""Scenarios: ``generate`` (the reference's default scenarios, lazily), ``evaluate`` (a
scenario's chains merged and scored), ``sweep`` (many scenarios on serial, process or Dask
executors), ``resilience`` (the structural score and SPOFs), ``whatif`` (change one thing, see
what moves) and ``plan_gate`` (the Terraform CI gate).
"""

from .._moved import package_getattr

__getattr__ = package_getattr(__name__.rpartition(".")[0], "scenarios")

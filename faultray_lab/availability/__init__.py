"""Availability: ``layers`` (the five-layer ceiling of the reference), ``system`` (the
probability that a system serves, exact or Monte Carlo, with common causes) and ``failstop``
(the DeathStarBench fail-stop protocol and its reproduction).
"""

from .._moved import package_getattr

__getattr__ = package_getattr(__name__.rpartition(".")[0], "availability")

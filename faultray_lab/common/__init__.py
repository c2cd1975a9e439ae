"""Shared plumbing with no knowledge of topologies: errors, files, parsing, JSON, validation.

``errors`` (the one error type), ``files`` (atomic writes, locks, package data), ``parsing``
(reading and parsing input files, line numbers), ``yamlio`` (fast YAML), ``jsonutil`` (the one
JSON cleaner, canonical JSON), ``suggest`` (the one "did you mean" helper), ``validate``
(argument checks).
"""

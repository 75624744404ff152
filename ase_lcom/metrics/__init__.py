"""Metrics: pure functions of structures shared by the benchmarks.

Structure matching and energy criteria (the CSP benchmark) and the Dismai-Bench fingerprints, distributions and
set distances (fixed-lattice generators) live here; none of them runs a model or writes a file.
"""

"""Evaluation toolkit: one evaluation engine, metrics and reports, throughput, restoration fidelity."""

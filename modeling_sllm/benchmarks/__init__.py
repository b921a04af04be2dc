"""Benchmarks: the efficiency benchmark and the restoration ablation."""

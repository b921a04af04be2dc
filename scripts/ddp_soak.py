#!/usr/bin/env python
# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""Soak test of 2-process data-parallel training: N runs under load, a tally of unclean ends (see
`modeling_sllm/benchmarks/ddp_soak.py`)."""

from modeling_sllm.benchmarks.ddp_soak import cli


if __name__ == "__main__":
    cli()

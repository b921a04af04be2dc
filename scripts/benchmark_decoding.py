#!/usr/bin/env python
# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""Decode + preprocess time of SLLM's kept frames vs a 16-frame baseline (see
`modeling_sllm/benchmarks/decoding.py`)."""

from modeling_sllm.benchmarks.decoding import cli


if __name__ == "__main__":
    cli()

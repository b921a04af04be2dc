#!/usr/bin/env python
# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""The restoration ablation over several seeds (see `modeling_sllm/benchmarks/ablation.py`)."""

from modeling_sllm.benchmarks.ablation import cli


if __name__ == "__main__":
    cli()

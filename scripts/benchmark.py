#!/usr/bin/env python
# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""The efficiency benchmark: SLLM against its baselines and peers (see `modeling_sllm/benchmarks/cli.py`)."""

from modeling_sllm.benchmarks.cli import cli


if __name__ == "__main__":
    cli()

#!/usr/bin/env python
# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""Evaluate a saved SLLM classifier: accuracy, multi-view testing, zero-shot, throughput, fidelity
(see `modeling_sllm/evaluation/cli.py`). Named eval.py, not evaluate.py, so it never shadows the `evaluate` library."""

from modeling_sllm.evaluation.cli import cli


if __name__ == "__main__":
    cli()

#!/usr/bin/env python
# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""Fine-tune SLLM for video classification with the HF Trainer (see `modeling_sllm/training/cli.py`)."""

from modeling_sllm.training.cli import cli


if __name__ == "__main__":
    cli()

#!/usr/bin/env python
# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""Classify many videos (a folder, an annotation list or a `datasets` dataset) with an SLLM model: one JSONL/CSV row
per video, resumable, split between the processes of `accelerate launch` (see `modeling_sllm/inference/cli.py`)."""

from modeling_sllm.inference.cli import cli


if __name__ == "__main__":
    cli()

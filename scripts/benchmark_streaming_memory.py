#!/usr/bin/env python
# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""Peak memory of training on 100 and 1,000 video rows (see `modeling_sllm/benchmarks/streaming_memory.py`)."""

from modeling_sllm.benchmarks.streaming_memory import cli


if __name__ == "__main__":
    cli()

#!/usr/bin/env python
# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""Where SLLM's time goes outside its vision tower (see `modeling_sllm/benchmarks/profile_overhead.py`)."""

from modeling_sllm.benchmarks.profile_overhead import cli


if __name__ == "__main__":
    cli()

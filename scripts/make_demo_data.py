#!/usr/bin/env python
# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""Generate the offline demo videos (see `modeling_sllm/demo/cli.py`)."""

from modeling_sllm.demo.cli import cli


if __name__ == "__main__":
    cli()

#!/usr/bin/env python
# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""Check a model folder, write its model card and upload it to the Hub (see `modeling_sllm/publishing/push_cli.py`)."""

from modeling_sllm.publishing.push_cli import cli


if __name__ == "__main__":
    cli()

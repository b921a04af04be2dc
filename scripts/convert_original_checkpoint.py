#!/usr/bin/env python
# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""Convert an authors' released SLLM checkpoint to a Transformers folder (see
`modeling_sllm/publishing/convert_cli.py`)."""

from modeling_sllm.publishing.convert_cli import cli


if __name__ == "__main__":
    cli()

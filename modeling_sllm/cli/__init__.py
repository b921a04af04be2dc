# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""Command-line parsing shared by every script: dataclass arguments from a YAML file and the command line, and a
readable `--help` (see [`parsing`])."""

# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""Batch inference: `sllm-predict` (many videos -> one JSONL/CSV row each, resumable, several processes), and the
batching pipeline's remote-code files for Hub folders."""

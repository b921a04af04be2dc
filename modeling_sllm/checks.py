# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""Argument checks shared by the configuration, the sampling and the video processor (one home for each rule)."""

import numpy as np


def check_positive_int(name: str, value, minimum: int = 1) -> int:
    """Returns `value` as an `int` if it is an integer (not a bool) `>= minimum`, else raises a `ValueError` naming
    it."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}, got {value!r}")
    return int(value)


__all__ = ["check_positive_int"]

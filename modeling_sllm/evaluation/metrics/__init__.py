# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
Metrics and reports of an evaluation: classification metrics through the shipped local `evaluate` module
`sllm_accuracy/` (the Hub cannot be reached to fetch metrics), the Trainer's `compute_metrics`, and the per-class CSV
and confusion-matrix PNG.
"""

from .classification import (
    SLLM_ACCURACY_PATH,
    classification_metrics,
    compute_accuracy_metrics,
    confusion_matrix,
    load_sllm_accuracy,
)
from .reports import PER_CLASS_FIELDS, plot_confusion_matrix, save_per_class_csv


__all__ = [
    "PER_CLASS_FIELDS",
    "SLLM_ACCURACY_PATH",
    "classification_metrics",
    "compute_accuracy_metrics",
    "confusion_matrix",
    "load_sllm_accuracy",
    "plot_confusion_matrix",
    "save_per_class_csv",
]

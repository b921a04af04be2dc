# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
Classification metrics of video scores: top-1, top-k, mean class and per-class accuracy (computed by the shipped
`evaluate` module `sllm_accuracy`), the confusion matrix, and the one `compute_metrics` of the Trainer.

The evaluation loop ([`engine.evaluate_model`]) and the Trainer's in-training evaluation
([`compute_accuracy_metrics`]) both go through [`average_view_scores`] and [`classification_metrics`]: the same
numbers come out of the same code whichever road a model is evaluated by.
"""

import functools
import os
from collections.abc import Callable, Sequence

import numpy as np
import torch

from modeling_sllm.checks import check_positive_int

from ..views import VIEW_AVERAGING_MODES, average_view_scores


SLLM_ACCURACY_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sllm_accuracy")


def load_sllm_accuracy(**kwargs):
    """`evaluate.load` of the shipped top-1 / top-5 / mean-class-accuracy metric (no network access)."""
    import evaluate

    return evaluate.load(SLLM_ACCURACY_PATH, **kwargs)


@functools.cache
def _accuracy_metric():
    """The shipped `sllm_accuracy` metric, loaded once per process."""
    return load_sllm_accuracy()


def confusion_matrix(labels: Sequence[int], predictions: Sequence[int], num_classes: int) -> np.ndarray:
    """`(num_classes, num_classes)` int64 matrix: entry `[i, j]` counts videos of true class `i` predicted as `j`."""
    labels = np.asarray(labels, dtype=np.int64)
    predictions = np.asarray(predictions, dtype=np.int64)
    if labels.shape != predictions.shape:
        raise ValueError(f"Got {labels.shape[0]} labels for {predictions.shape[0]} predictions.")
    for name, values in (("labels", labels), ("predictions", predictions)):
        if values.size and (values.min() < 0 or values.max() >= num_classes):
            raise ValueError(f"{name} must be in [0, {num_classes}); got min {values.min()}, max {values.max()}.")
    flat = np.bincount(labels * num_classes + predictions, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes)


def classification_metrics(
    scores: np.ndarray | torch.Tensor,
    labels: Sequence[int],
    class_names: Sequence[str] | None = None,
    top_k: int = 5,
) -> tuple[dict[str, float], list[dict]]:
    """
    Top-1, top-k and mean class accuracy (with the shipped `sllm_accuracy` metric) and per-class accuracy.

    Args:
        scores: `(num_videos, num_classes)` per-video class scores (probabilities or logits).
        labels: `(num_videos,)` true class ids.
        class_names: one name per class (defaults to the ids as strings).
        top_k (`int`, defaults to 5): reported as `"top5"` (for `top_k=5`); with fewer classes than `k`, top-k is
            computed over all classes (so it is 1.0).

    Returns:
        `(metrics, per_class)`: `metrics` has `top1`, `top{top_k}`, `mean_class_accuracy` (fractions in [0, 1],
        mean class accuracy over the classes present in `labels`) and `num_videos`; `per_class` is a list of
        `{"id", "name", "accuracy", "support"}` for every class (`accuracy` is `None` for a class without videos).
    """
    scores = scores.detach().float().cpu().numpy() if isinstance(scores, torch.Tensor) else np.asarray(scores)
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    if scores.ndim != 2:
        raise ValueError(f"scores must be (num_videos, num_classes), got shape {scores.shape}.")
    num_classes = scores.shape[1]
    if class_names is None:
        class_names = [str(index) for index in range(num_classes)]
    if len(class_names) != num_classes:
        raise ValueError(f"Got {len(class_names)} class names for scores over {num_classes} classes.")
    result = _accuracy_metric().compute(predictions=scores, references=labels, top_k=top_k, return_per_class=True)
    effective_k = max(1, min(int(top_k), num_classes))
    metrics = {
        "top1": result["top1"],
        f"top{top_k}": result[f"top{effective_k}"],
        "mean_class_accuracy": result["mean_class_accuracy"],
        "num_videos": result["num_samples"],
    }
    support = np.bincount(labels, minlength=num_classes)
    per_class = [
        {
            "id": class_id,
            "name": class_names[class_id],
            "accuracy": None if support[class_id] == 0 else float(result["per_class_accuracy"][class_id]),
            "support": int(support[class_id]),
        }
        for class_id in range(num_classes)
    ]
    return metrics, per_class


def compute_accuracy_metrics(top_k: int = 5, view_averaging: str = "softmax") -> Callable[..., dict[str, float]]:
    """
    The `compute_metrics` of the Trainer (train.py's in-training evaluation): the metrics of [`classification_metrics`]
    (`top1`, `top{top_k}`, `mean_class_accuracy`, `num_videos`; the Trainer prefixes them with `eval_`).

    The returned function takes an `EvalPrediction` whose `predictions` are the logits `(num_videos, num_classes)`
    (one view) or `(num_videos, num_views, num_classes)` (views averaged as `view_averaging`, Text4Vis' softmax by
    default), or a tuple whose first element is them, and whose `label_ids` are the true class ids `(num_videos,)`.
    """
    if view_averaging not in VIEW_AVERAGING_MODES:
        raise ValueError(f"view_averaging must be one of {VIEW_AVERAGING_MODES}, got {view_averaging!r}.")
    check_positive_int("top_k", top_k)

    def compute_metrics(eval_pred) -> dict[str, float]:
        logits = eval_pred.predictions
        if isinstance(logits, (tuple, list)):
            logits = logits[0]
        logits = np.asarray(logits)
        if logits.ndim not in (2, 3):
            raise ValueError(
                "compute_metrics expects logits (num_videos, num_classes) or (num_videos, num_views, num_classes), "
                f"got shape {logits.shape}."
            )
        scores = average_view_scores(logits if logits.ndim == 3 else logits[:, None], mode=view_averaging)
        metrics, _ = classification_metrics(scores, eval_pred.label_ids, top_k=top_k)
        return metrics

    return compute_metrics


__all__ = [
    "SLLM_ACCURACY_PATH",
    "classification_metrics",
    "compute_accuracy_metrics",
    "confusion_matrix",
    "load_sllm_accuracy",
]

# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""Video classification accuracy: top-1, top-k and mean class accuracy, computed from class scores."""

import datasets
import evaluate
import numpy as np


_DESCRIPTION = """
Top-1 and top-k accuracy and mean class accuracy (the mean over classes of each class's top-1 recall) of a video
classifier, computed from its class scores (logits or probabilities). Multi-view testing averages the scores of the
views of a video before calling this metric.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list[list[float]]`): class scores of each video, shape (num_videos, num_classes).
    references (`list[int]`): true class id of each video.
    top_k (`int`, defaults to 5): the k of top-k accuracy (capped at the number of classes).
    return_per_class (`bool`, defaults to False): also return the per-class accuracy list (NaN for absent classes).
Returns:
    top1, top{k}: fractions in [0, 1]; mean_class_accuracy: mean over the classes present in `references`;
    num_samples: number of videos scored.
Examples:
    >>> metric = evaluate.load("modeling_sllm/evaluation/metrics/sllm_accuracy")
    >>> metric.compute(predictions=[[0.1, 0.9], [0.8, 0.2]], references=[1, 1], top_k=1)
    {'top1': 0.5, 'mean_class_accuracy': 0.5, 'num_samples': 2}
"""

_CITATION = ""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class SllmAccuracy(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Sequence(datasets.Value("float32")), "references": datasets.Value("int64")}
            ),
        )

    def _compute(self, predictions, references, top_k=5, return_per_class=False):
        scores = np.asarray(predictions, dtype=np.float64)
        labels = np.asarray(references, dtype=np.int64)
        if scores.ndim != 2:
            raise ValueError(f"predictions must be (num_videos, num_classes) scores, got shape {scores.shape}.")
        if scores.shape[0] != labels.shape[0]:
            raise ValueError(f"Got {scores.shape[0]} score rows for {labels.shape[0]} references.")
        num_classes = scores.shape[1]
        if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(f"references must be in [0, {num_classes}); got min {labels.min()}, max {labels.max()}.")
        if scores.shape[0] == 0:
            raise ValueError("No predictions to score.")
        k = max(1, min(int(top_k), num_classes))
        # Rank of the true class among the scores; ties go to the lower class id, as argmax and a stable sort do, so
        # constant scores are not counted as correct.
        true_scores = scores[np.arange(len(labels)), labels][:, None]
        lower_id = np.arange(num_classes)[None, :] < labels[:, None]
        rank = ((scores > true_scores) | ((scores == true_scores) & lower_id)).sum(axis=1)
        top1 = rank < 1
        topk = rank < k
        per_class = np.full(num_classes, np.nan)
        for class_id in np.unique(labels):
            per_class[class_id] = top1[labels == class_id].mean()
        result = {
            "top1": float(top1.mean()),
            f"top{k}": float(topk.mean()),
            "mean_class_accuracy": float(np.nanmean(per_class)),
            "num_samples": int(len(labels)),
        }
        if return_per_class:
            result["per_class_accuracy"] = per_class.tolist()
        return result

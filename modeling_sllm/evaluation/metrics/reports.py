# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""Reports of an evaluation written next to `results.json`: the per-class accuracy CSV and the confusion matrix PNG."""

import csv
import os
from collections.abc import Sequence

import numpy as np


PER_CLASS_FIELDS = ("id", "name", "accuracy", "support")


def save_per_class_csv(per_class: Sequence[dict], path: str | os.PathLike) -> str:
    """
    Writes the per-class list of [`classification_metrics`] as CSV (`id,name,accuracy,support`; empty accuracy for a
    class without videos) and returns the path.
    """
    path = os.fspath(path)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(PER_CLASS_FIELDS))
        writer.writeheader()
        for index, row in enumerate(per_class):
            missing = [key for key in PER_CLASS_FIELDS if key not in row]
            if missing:
                raise ValueError(f"per_class[{index}] has no {missing} (got {sorted(row)}).")
            writer.writerow({key: ("" if row[key] is None else row[key]) for key in PER_CLASS_FIELDS})
    return path


def plot_confusion_matrix(
    matrix: np.ndarray, class_names: Sequence[str], path: str | os.PathLike, title: str | None = None
) -> str:
    """
    Draws the confusion matrix `(num_classes, num_classes)` as a PNG (matplotlib, Agg backend): colours are
    row-normalised (the recall of each true class), counts are written in the cells up to 25 classes, class names on
    the axes up to 60 classes.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    path = os.fspath(path)
    matrix = np.asarray(matrix)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"The confusion matrix must be square (num_classes, num_classes), got shape {matrix.shape}.")
    num_classes = matrix.shape[0]
    if len(class_names) != num_classes:
        raise ValueError(f"Got {len(class_names)} class names for a {num_classes}-class confusion matrix.")
    totals = matrix.sum(axis=1, keepdims=True)
    recall = np.divide(matrix, totals, out=np.zeros(matrix.shape, dtype=np.float64), where=totals > 0)
    side = float(np.clip(0.35 * num_classes + 3, 5, 30))
    figure, axes = plt.subplots(figsize=(side, side))
    image = axes.imshow(recall, cmap="Blues", vmin=0.0, vmax=1.0, interpolation="nearest")
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04, label="fraction of the true class")
    if num_classes <= 60:
        ticks = np.arange(num_classes)
        axes.set_xticks(ticks, labels=list(class_names), rotation=90, fontsize=8)
        axes.set_yticks(ticks, labels=list(class_names), fontsize=8)
    if num_classes <= 25:
        for row in range(num_classes):
            for column in range(num_classes):
                if matrix[row, column]:
                    colour = "white" if recall[row, column] > 0.5 else "black"
                    axes.text(
                        column, row, int(matrix[row, column]), ha="center", va="center", color=colour, fontsize=8
                    )
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    axes.set_title(title or f"Confusion matrix ({int(matrix.sum())} videos)")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


__all__ = ["PER_CLASS_FIELDS", "plot_confusion_matrix", "save_per_class_csv"]

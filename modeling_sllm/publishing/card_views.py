# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
What the model card template shows of an evaluation, a conversion and a training run: plain dicts of display strings.
Every string that comes from a file (class and dataset names, devices, file names, optimiser names) goes through
[`~card_text.markdown_text`], so the template can place it in a table cell or a sentence as is.
"""

import os
import re

from modeling_sllm.evaluation.results import SLLMResults

from .card_text import code_span, markdown_text
from .naming import dataset_label


__all__ = ["conversion_view", "evaluation_view", "metric_keys", "percent", "training_view"]

_TOP_K = re.compile(r"top(\d+)")


def metric_keys(metrics: dict) -> list[tuple[str, str, str]]:
    """`(key, metric type, display name)` of the accuracies of an evaluation: top-1, top-k (k > 1), mean class."""
    top_k = sorted((int(match.group(1)), key) for key in metrics if (match := _TOP_K.fullmatch(key)) and key != "top1")
    return (
        [("top1", "accuracy", "Top-1 Accuracy")]
        + [(key, f"top_{k}_accuracy", f"Top-{k} Accuracy") for k, key in top_k]
        + [("mean_class_accuracy", "mean_class_accuracy", "Mean Class Accuracy")]
    )


def percent(value: float) -> float:
    return round(100.0 * float(value), 2)


def _number(value, digits: int = 2) -> str:
    """A number rounded to `digits` decimals without trailing zeros (`30.0` -> `"30"`); other values as text."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return markdown_text(value)
    rounded = round(value, digits)
    return str(int(rounded)) if float(rounded).is_integer() else str(rounded)


def _fidelity_summary(fidelity) -> str | None:
    """One sentence on the restoration fidelity report of the evaluation (or its scalar entries)."""
    if not isinstance(fidelity, dict) or not fidelity:
        return None
    methods = fidelity.get("methods")
    if isinstance(methods, dict) and methods:
        scores = [
            f"{markdown_text(str(name).replace('_', ' '))} {values['centred_cosine']:.3f}"
            for name, values in methods.items()
            if isinstance(values, dict) and isinstance(values.get("centred_cosine"), (int, float))
        ]
        if scores:
            best = (
                f" (best: {markdown_text(fidelity['best_method'].replace('_', ' '))})"
                if isinstance(fidelity.get("best_method"), str)
                else ""
            )
            return (
                "centred cosine similarity with the true features of the skipped frames: " + ", ".join(scores) + best
            )
    scalars = [
        f"{markdown_text(key)} = {value:.4g}" if isinstance(value, float) else f"{markdown_text(key)} = "
        f"{markdown_text(value)}"
        for key, value in fidelity.items()
        if isinstance(value, (int, float, str)) and not isinstance(value, bool)
    ]
    return ", ".join(scalars) or None


def evaluation_view(results: SLLMResults) -> dict:
    """What the template shows of one evaluation (percentages as numbers with two decimals)."""
    dataset, metrics = results.dataset, results.metrics
    per_class = [
        item
        for item in results.per_class or []
        if isinstance(item, dict) and isinstance(item.get("accuracy"), (int, float))
    ]
    weakest = sorted(per_class, key=lambda item: (item["accuracy"], str(item.get("name"))))[:5]
    throughput = None
    if results.throughput:
        throughput = {str(key): _number(value) for key, value in results.throughput.items()}
    top_k = [(key, name) for key, _, name in metric_keys(metrics) if key not in ("top1", "mean_class_accuracy")]
    return {
        "dataset_label": markdown_text(
            dataset_label(dataset.name) + (f" ({dataset.config})" if dataset.config else "")
        ),
        "split": markdown_text(dataset.split),
        "num_videos": dataset.num_videos if dataset.num_videos is not None else "?",
        "views": results.views.label.replace("x", " x "),
        "zero_shot": results.zero_shot,
        "top1": f"{percent(metrics['top1']):.2f}",
        "top_k": f"{percent(metrics[top_k[0][0]]):.2f}%" if top_k else "n/a",
        "k": top_k[0][0][3:] if top_k else None,
        "mean_class_accuracy": f"{percent(metrics['mean_class_accuracy']):.2f}",
        "throughput": throughput,
        "fidelity": _fidelity_summary(results.fidelity),
        "weakest_classes": (
            [
                {
                    "name": markdown_text(item.get("name", item.get("id"))),
                    "accuracy": f"{percent(item['accuracy']):.1f}",
                    "support": _number(item.get("support", "?")),
                }
                for item in weakest
            ]
            if len(per_class) > 5
            else []
        ),
    }


def conversion_view(report) -> dict:
    """Source file, hash and epoch of a folder converted from a released checkpoint."""
    return {
        "source_file": code_span(os.path.basename(report.checkpoint or "?")),
        "sha256": code_span(report.sha256 or "unknown"),
        "epoch": _number(report.epoch) if report.epoch is not None else None,
    }


def _warmup(warmup) -> str:
    if isinstance(warmup, (int, float)) and not isinstance(warmup, bool) and 0 < warmup < 1:
        return f"{100 * warmup:.1f}% of the steps"
    return f"{_number(warmup)} steps"


def training_view(report) -> dict | None:
    """The template's Training section of an [`SLLMTrainingReport`] (`None` when there is none)."""
    if report is None:
        return None
    recipe = report.recipe or {}
    get = recipe.get
    dataset = report.train_dataset or {}
    augmentation = get("augmentation") or {}
    aug = []
    if augmentation.get("multiscale_crop"):
        aug.append("multi-scale random crop")
    for key, name in (("flip_prob", "flip"), ("color_jitter_prob", "colour jitter"), ("grayscale_prob", "grayscale")):
        if isinstance(augmentation.get(key), (int, float)) and augmentation[key] > 0:
            aug.append(f"{name} p={_number(augmentation[key])}")
    learning_rate = get("learning_rate")
    ratio = get("vision_tower_lr_ratio")
    tower_lr = (
        "frozen"
        if get("freeze_vision_tower")
        else f"{learning_rate * ratio:.3g}"
        if isinstance(learning_rate, (int, float)) and isinstance(ratio, (int, float))
        else "?"
    )
    betas = get("adam_betas")
    return {
        "dataset": markdown_text(
            dataset_label(dataset.get("name") or "?") + (f" ({dataset['config']})" if dataset.get("config") else "")
        ),
        "split": markdown_text(dataset.get("split") or "train"),
        "num_videos": _number(dataset.get("num_videos", "?")),
        "num_classes": _number(dataset.get("num_classes", "?")),
        "started_from": (
            code_span(report.started_from)
            if report.started_from and report.started_from != report.base_model
            else None
        ),
        "epochs": _number(get("epochs", "?")),
        "steps": _number(get("steps", "?")),
        "batch_size": _number(get("train_batch_size", "?")),
        "num_devices": _number(get("num_devices", 1)),
        "optimizer": code_span(get("optimizer", "?"), in_table=True),
        "adam": (
            f"betas ({_number(betas[0], 6)}, {_number(betas[1], 6)}), eps {get('adam_epsilon'):.0e}"
            if isinstance(betas, list) and len(betas) == 2 and isinstance(get("adam_epsilon"), float)
            else None
        ),
        "weight_decay": _number(get("weight_decay", "?")),
        "learning_rate": f"{learning_rate:.3g}" if isinstance(learning_rate, (int, float)) else "?",
        "tower_learning_rate": tower_lr,
        "scheduler": code_span(get("lr_scheduler_type", "?"), in_table=True),
        "warmup": _warmup(get("warmup_steps", 0)),
        "precision": markdown_text(get("precision", "?")),
        "seed": _number(get("seed", "?")),
        "restoration_loss": markdown_text(get("restoration_loss")) if get("restoration_loss") else None,
        "restoration_loss_weight": _number(get("restoration_loss_weight")),
        "augmentation": ", ".join(aug) or "none",
        "versions": ", ".join(
            f"{markdown_text(name)} {markdown_text(version)}" for name, version in (report.versions or {}).items()
        ),
    }

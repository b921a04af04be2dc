# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
Evaluation of an [`SLLMForVideoClassification`]: single- and multi-view accuracy, zero-shot classifiers, throughput
and the restoration fidelity report.

Multi-view testing follows Text4Vis: each video is cut into `num_clips` temporal clips and `num_crops` spatial crops
(`V = num_clips * num_crops` views), every view is classified on its own and the per-view class scores are averaged.
Text4Vis averages the *softmaxed* similarities (`softmax(exp(logit_scale) * cos)` of each view, then the mean over
the views); that is the default here (`view_averaging="softmax"`). Averaging the raw logits (`"logits"`) is offered
for comparison.

Everything here works on any `torch.utils.data.Dataset` (a `datasets.Dataset` with a transform included) or
`DataLoader` whose items/batches are dicts with `pixel_values` and `labels` (and `skipped_pixel_values` for the
fidelity report), so it does not depend on how the data were loaded.
"""

import csv
import functools
import math
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch.utils.data import DataLoader

from transformers.utils import logging

from modeling_sllm.data.sources import sllm_collate_fn
from .fidelity import FIDELITY_METHODS, collect_restoration_embeddings, fidelity_metrics
from modeling_sllm.text_features import SLLMLabel, build_prompts, encode_prompts, read_label_file


logger = logging.get_logger(__name__)

VIEW_AVERAGING_MODES = ("softmax", "logits")


# --------------------------------------------------------------------------------------------------------------------
# Multi-view scores


def flatten_views(pixel_values: torch.Tensor) -> tuple[torch.Tensor, int, int]:
    """
    Puts the views of each video into the batch dimension.

    Args:
        pixel_values (`torch.Tensor`): `(batch_size, num_frames, 3, H, W)` (one view) or `(batch_size, num_views,
            num_frames, 3, H, W)` (multi-view, as stacked by `sllm_collate_fn`).

    Returns:
        `(pixel_values, batch_size, num_views)` with `pixel_values` of shape `(batch_size * num_views, num_frames, 3,
        H, W)`, video-major (the `num_views` views of video 0, then those of video 1, ...).
    """
    if pixel_values.dim() == 5:
        return pixel_values, pixel_values.shape[0], 1
    if pixel_values.dim() == 6:
        batch_size, num_views = pixel_values.shape[:2]
        return pixel_values.flatten(0, 1), batch_size, num_views
    raise ValueError(
        "pixel_values must be (batch_size, num_frames, 3, H, W) or (batch_size, num_views, num_frames, 3, H, W), got "
        f"shape {tuple(pixel_values.shape)}."
    )


def average_view_scores(logits: torch.Tensor, num_views: int = 1, mode: str = "softmax") -> torch.Tensor:
    """
    Averages the class scores of the views of each video (Text4Vis multi-view testing).

    Args:
        logits (`torch.Tensor`): `(batch_size * num_views, num_classes)` logits in video-major order (as produced
            from the output of [`flatten_views`]), or `(batch_size, num_views, num_classes)`.
        num_views (`int`): views per video `V` (ignored for a 3-D input).
        mode (`str`): `"softmax"` (Text4Vis, the default): the mean over views of `softmax(logits)`, i.e. of the class
            probabilities; `"logits"`: the mean of the raw logits.

    Returns:
        `torch.FloatTensor` of shape `(batch_size, num_classes)`: per-video scores (probabilities summing to 1 for
        `"softmax"`). With one view and `"softmax"` this is the softmax of the logits, which ranks the classes exactly
        as the logits do.
    """
    if mode not in VIEW_AVERAGING_MODES:
        raise ValueError(f"view averaging mode must be one of {VIEW_AVERAGING_MODES}, got {mode!r}.")
    if logits.dim() == 2:
        if num_views < 1 or logits.shape[0] % num_views != 0:
            raise ValueError(f"{logits.shape[0]} rows of logits cannot be split into groups of num_views={num_views}.")
        logits = logits.view(logits.shape[0] // num_views, num_views, logits.shape[1])
    elif logits.dim() != 3:
        raise ValueError(f"logits must be 2-D or 3-D, got shape {tuple(logits.shape)}.")
    logits = logits.float()
    if mode == "softmax":
        return logits.softmax(dim=-1).mean(dim=1)
    return logits.mean(dim=1)


# --------------------------------------------------------------------------------------------------------------------
# Metrics and reports


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


@functools.cache
def _accuracy_metric():
    """The shipped `sllm_accuracy` metric, loaded once per process (`evaluate.load` of a local module)."""
    from modeling_sllm.evaluation.metrics import load_sllm_accuracy

    return load_sllm_accuracy()


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
    labels = np.asarray(labels, dtype=np.int64)
    num_classes = scores.shape[1]
    if class_names is None:
        class_names = [str(index) for index in range(num_classes)]
    if len(class_names) != num_classes:
        raise ValueError(f"Got {len(class_names)} class names for scores over {num_classes} classes.")
    result = _accuracy_metric().compute(
        predictions=scores, references=labels, top_k=top_k, return_per_class=True
    )
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


def save_per_class_csv(per_class: Sequence[dict], path: str | os.PathLike) -> str:
    """Writes the per-class list of [`classification_metrics`] as CSV (`id,name,accuracy,support`; empty accuracy
    for a class without videos) and returns the path."""
    path = os.fspath(path)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "name", "accuracy", "support"])
        writer.writeheader()
        for row in per_class:
            writer.writerow({key: ("" if row[key] is None else row[key]) for key in writer.fieldnames})
    return path


def plot_confusion_matrix(
    matrix: np.ndarray, class_names: Sequence[str], path: str | os.PathLike, title: str | None = None
) -> str:
    """
    Draws the confusion matrix as a PNG (matplotlib, Agg backend): colours are row-normalised (the recall of each
    true class), counts are written in the cells up to 25 classes, class names on the axes up to 60 classes.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    path = os.fspath(path)
    num_classes = matrix.shape[0]
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
                    axes.text(column, row, int(matrix[row, column]), ha="center", va="center", color=colour, fontsize=8)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    axes.set_title(title or f"Confusion matrix ({int(matrix.sum())} videos)")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


# --------------------------------------------------------------------------------------------------------------------
# Evaluation loop


def _resolve_device(device: str | torch.device | None, model: torch.nn.Module | None = None) -> torch.device:
    """`None`: the model's device (CPU without a model); `"auto"`: CUDA when available, else CPU; else `device`."""
    if device is None:
        parameter = next(model.parameters(), None) if model is not None else None
        return parameter.device if parameter is not None else torch.device("cpu")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def make_eval_dataloader(data, batch_size: int = 8, collate_fn=None, num_workers: int = 0) -> DataLoader | Iterable:
    """
    A `DataLoader` over `data` in order, keeping the last partial batch (`drop_last=False`, unlike the release), or
    `data` itself if it already is a `DataLoader`/iterable of batches.
    """
    if isinstance(data, DataLoader) or not hasattr(data, "__getitem__"):
        return data
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}.")
    return DataLoader(
        data,
        batch_size=batch_size,
        shuffle=False,
        drop_last=False,
        collate_fn=collate_fn or sllm_collate_fn,
        num_workers=num_workers,
    )


@dataclass
class SLLMEvaluationResult:
    """
    Output of [`evaluate_model`].

    Attributes:
        scores (`np.ndarray` of shape `(num_videos, num_classes)`): per-video scores after view averaging.
        labels (`np.ndarray` of shape `(num_videos,)`): true class ids (in the model's class ids).
        predictions (`np.ndarray` of shape `(num_videos,)`): argmax of `scores`.
        metrics (`dict`): `top1`, `top5`, `mean_class_accuracy`, `num_videos` (see [`classification_metrics`]).
        per_class (`list[dict]`): `{"id", "name", "accuracy", "support"}` per class.
        confusion_matrix (`np.ndarray` of shape `(num_classes, num_classes)`).
        num_views (`int`): views per video that were averaged.
        view_averaging (`str`): `"softmax"` or `"logits"`.
        seconds (`float`): wall time of the loop (data loading included).
    """

    scores: np.ndarray
    labels: np.ndarray
    predictions: np.ndarray
    metrics: dict
    per_class: list
    confusion_matrix: np.ndarray
    num_views: int
    view_averaging: str
    seconds: float = 0.0
    class_names: list = field(default_factory=list)


@torch.no_grad()
def evaluate_model(
    model,
    data,
    *,
    batch_size: int = 8,
    device: str | torch.device | None = None,
    collate_fn=None,
    num_workers: int = 0,
    view_averaging: str = "softmax",
    label_map: Sequence[int] | None = None,
    top_k: int = 5,
    show_progress: bool = True,
    description: str = "Evaluating",
) -> SLLMEvaluationResult:
    """
    Classifies every video of `data` (single- or multi-view) and computes the metrics. No video is dropped: the last
    partial batch is evaluated too.

    Args:
        model ([`SLLMForVideoClassification`]): the classifier (put in eval mode, moved to `device`).
        data: a map-style dataset of example dicts (`pixel_values` `(N, 3, H, W)` or `(V, N, 3, H, W)`, `labels`) or
            a `DataLoader`/iterable of batch dicts (`pixel_values` `(B, N, 3, H, W)` or `(B, V, N, 3, H, W)`,
            `labels` `(B,)`; a `label` key is accepted too).
        batch_size (`int`): videos per batch (used when `data` is a dataset). A forward pass sees `batch_size * V`
            clips.
        device: where to run (default: the model's device; `"auto"`: CUDA when available).
        collate_fn: batch builder for a dataset (default: [`data.sllm_collate_fn`]).
        view_averaging (`str`): `"softmax"` (Text4Vis) or `"logits"`, see [`average_view_scores`].
        label_map (sequence of `int`, *optional*): dataset label id -> model class id (e.g. when the dataset lists
            its classes in another order than the model).
        top_k (`int`): the k of top-k accuracy (reported as `top{k}`).
        show_progress (`bool`): show a progress bar (`transformers.utils.logging.disable_progress_bar()` hides it
            too).
        description (`str`): label of the progress bar.

    Returns:
        [`SLLMEvaluationResult`].
    """
    from transformers.utils.logging import tqdm

    device = _resolve_device(device, model)
    model.to(device).eval()
    dtype = next(model.parameters()).dtype
    loader = make_eval_dataloader(data, batch_size, collate_fn, num_workers)
    if label_map is not None:
        label_map = torch.as_tensor(list(label_map), dtype=torch.long)

    total = None
    try:
        total = len(loader)
    except TypeError:
        pass
    scores, labels = [], []
    views_seen = set()
    start = time.perf_counter()
    for batch in tqdm(loader, total=total, desc=description, unit="batch", disable=not show_progress):
        if "pixel_values" not in batch:
            raise KeyError(f"Batches must contain 'pixel_values'; got keys {sorted(batch)}.")
        batch_labels = batch.get("labels", batch.get("label"))
        if batch_labels is None:
            raise KeyError(f"Batches must contain 'labels' to compute accuracy; got keys {sorted(batch)}.")
        pixel_values, num_videos, num_views = flatten_views(batch["pixel_values"])
        views_seen.add(num_views)
        logits = model(pixel_values=pixel_values.to(device, dtype)).logits
        scores.append(average_view_scores(logits, num_views, view_averaging).cpu())
        batch_labels = torch.as_tensor(batch_labels, dtype=torch.long).view(-1).cpu()
        if batch_labels.shape[0] != num_videos:
            raise ValueError(f"A batch has {batch_labels.shape[0]} labels for {num_videos} videos.")
        if label_map is not None:
            if batch_labels.min() < 0 or batch_labels.max() >= label_map.shape[0]:
                raise ValueError(f"Dataset labels {batch_labels.tolist()} are outside the label map's range.")
            batch_labels = label_map[batch_labels]
        labels.append(batch_labels)
    seconds = time.perf_counter() - start
    if not scores:
        raise ValueError("The evaluation data is empty: there is no video to evaluate.")
    if len(views_seen) > 1:
        raise ValueError(f"Batches have different numbers of views per video: {sorted(views_seen)}.")

    scores = torch.cat(scores).numpy()
    labels = torch.cat(labels).numpy()
    num_classes = scores.shape[1]
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(
            f"Labels range over [{labels.min()}, {labels.max()}] but the model has {num_classes} classes: the "
            "dataset's label ids do not match the model's classes (give the label file the model was trained with, "
            "or evaluate zero-shot with the dataset's label file)."
        )
    id2label = getattr(model.config, "id2label", None) or {}
    class_names = [str(id2label.get(index, index)) for index in range(num_classes)]
    predictions = scores.argmax(axis=1)
    metrics, per_class = classification_metrics(scores, labels, class_names, top_k=top_k)
    return SLLMEvaluationResult(
        scores=scores,
        labels=labels,
        predictions=predictions,
        metrics=metrics,
        per_class=per_class,
        confusion_matrix=confusion_matrix(labels, predictions, num_classes),
        num_views=views_seen.pop(),
        view_averaging=view_averaging,
        seconds=seconds,
        class_names=class_names,
    )


def label_map_by_name(dataset_class_names: Sequence[str], model_id2label: dict[int, str]) -> list[int] | None:
    """
    Maps the dataset's class ids to the model's by class name.

    Returns `None` when the two agree already (same names in the same order); a list `dataset id -> model id` when
    every dataset class is a model class; `None` with a warning when the names differ but the counts match (the ids
    are then trusted, e.g. a converted checkpoint whose classes were named differently).

    Raises:
        `ValueError` when dataset classes are missing from the model and the counts differ.
    """
    model_names = [str(model_id2label[index]) for index in sorted(model_id2label)]
    dataset_names = [str(name) for name in dataset_class_names]
    if dataset_names == model_names:
        return None
    index = {name: class_id for class_id, name in enumerate(model_names)}
    missing = [name for name in dataset_names if name not in index]
    if not missing:
        return [index[name] for name in dataset_names]
    if len(dataset_names) == len(model_names):
        logger.warning(
            f"The dataset's class names differ from the model's (e.g. {missing[0]!r} is not a model class); using the "
            "dataset's label ids as the model's."
        )
        return None
    raise ValueError(
        f"{len(missing)} dataset classes are not classes of the model (e.g. {missing[:3]}); the model has "
        f"{len(model_names)} classes. Evaluate zero-shot with a label file naming the dataset's classes "
        "(--zero_shot_label_file)."
    )


# --------------------------------------------------------------------------------------------------------------------
# Zero-shot classifier


def load_text_encoder(text_model_name_or_path: str, **from_pretrained_kwargs):
    """Loads a CLIP model and its tokenizer (folder or Hub id) for [`encode_prompts`]; errors name the checkpoint."""
    from transformers import AutoTokenizer, CLIPModel

    try:
        clip = CLIPModel.from_pretrained(text_model_name_or_path, **from_pretrained_kwargs).eval()
        tokenizer = AutoTokenizer.from_pretrained(text_model_name_or_path, **from_pretrained_kwargs)
    except OSError as error:
        raise OSError(
            f"Cannot load the CLIP text encoder {text_model_name_or_path!r} (a CLIP folder or Hub id with a tokenizer "
            f"is needed for the zero-shot classifier): {error}"
        ) from error
    return clip, tokenizer


def set_zero_shot_classifier(
    model,
    labels: Sequence[SLLMLabel] | str | os.PathLike,
    text_model_name_or_path: str | None = None,
    prompt_mode: str | None = None,
    device: str | torch.device | None = None,
    **from_pretrained_kwargs,
) -> torch.Tensor:
    """
    Replaces the classifier of `model` by the CLIP text features of new classes (Text4Vis zero-shot: the same head,
    other text features); the classes need not have been seen in training.

    Args:
        model ([`SLLMForVideoClassification`]): updated in place (`class_embeddings`, `config.id2label`).
        labels: the classes, as a label file (`id;name;description`) or a list of [`SLLMLabel`].
        text_model_name_or_path (`str`, *optional*): CLIP checkpoint whose text encoder encodes the prompts; defaults
            to `model.config.text_model_name_or_path` (set by `from_clip`). It must be the CLIP the model's tower
            comes from, or the features live in another space.
        prompt_mode (`str`, *optional*): `"normal"` (names) or `"enhance"` (`"name,description"`); defaults to
            `model.config.prompt_mode`, else `"normal"`.
        device: where to run the text encoder (default: CPU).

    Returns:
        `torch.FloatTensor` of shape `(num_classes, hidden_size)`: the installed class embeddings.
    """
    if isinstance(labels, (str, os.PathLike)):
        labels = read_label_file(labels)
    labels = list(labels)
    if not labels:
        raise ValueError("No classes given for the zero-shot classifier.")
    text_model_name_or_path = text_model_name_or_path or getattr(model.config, "text_model_name_or_path", None)
    if not text_model_name_or_path:
        raise ValueError(
            "No CLIP text encoder is known for this model (config.text_model_name_or_path is unset): pass "
            "text_model_name_or_path (the CLIP checkpoint the vision tower comes from)."
        )
    prompt_mode = prompt_mode or getattr(model.config, "prompt_mode", None) or "normal"
    prompts = build_prompts([label.name for label in labels], [label.description for label in labels], prompt_mode)
    clip, tokenizer = load_text_encoder(text_model_name_or_path, **from_pretrained_kwargs)
    if device is not None:
        clip.to(device)
    embeddings = encode_prompts(clip, tokenizer, prompts)
    if embeddings.shape[1] != model.config.hidden_size:
        raise ValueError(
            f"The text encoder {text_model_name_or_path!r} gives {embeddings.shape[1]}-d features but the model's "
            f"embeddings are {model.config.hidden_size}-d: use the CLIP checkpoint the vision tower comes from."
        )
    model.set_class_embeddings(embeddings, id2label={label.id: label.name for label in labels})
    model.config.text_model_name_or_path = str(text_model_name_or_path)
    model.config.prompt_mode = prompt_mode
    logger.info(f"Zero-shot classifier: {len(labels)} classes encoded by {text_model_name_or_path} ({prompt_mode}).")
    return embeddings


# --------------------------------------------------------------------------------------------------------------------
# Throughput


def _synchronize(device: torch.device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@torch.no_grad()
def measure_model_throughput(
    model,
    pixel_values: torch.Tensor,
    batch_size: int,
    device: str | torch.device | None = None,
    num_batches: int = 5,
    num_warmup: int = 1,
) -> float:
    """
    Videos per second of the model alone, on pixel tensors already in memory (on `device`).

    Args:
        pixel_values (`torch.Tensor` of shape `(num_videos, num_frames, 3, H, W)`): inputs, repeated to fill batches.
        batch_size (`int`): videos per forward pass.
        num_batches (`int`): timed forward passes, after `num_warmup` untimed ones.

    Returns:
        `float`: `num_batches * batch_size / seconds`.
    """
    device = _resolve_device(device, model)
    model.to(device).eval()
    dtype = next(model.parameters()).dtype
    if pixel_values.dim() != 5 or pixel_values.shape[0] == 0:
        raise ValueError(f"pixel_values must be (num_videos, num_frames, 3, H, W), got {tuple(pixel_values.shape)}.")
    repeats = math.ceil(batch_size / pixel_values.shape[0])
    batch = pixel_values.repeat(repeats, 1, 1, 1, 1)[:batch_size].to(device, dtype).contiguous()
    for _ in range(num_warmup):
        model(pixel_values=batch)
    _synchronize(device)
    start = time.perf_counter()
    for _ in range(num_batches):
        model(pixel_values=batch)
    _synchronize(device)
    return num_batches * batch_size / (time.perf_counter() - start)


def default_video_processor(model, model_name_or_path: str | None = None, **kwargs):
    """
    The video processor saved with the model (when `model_name_or_path` has one), else an [`SLLMVideoProcessor`]
    matching the model's `num_frames`, `keep_interval` and image size.
    """
    from modeling_sllm.video_processing_sllm import SLLMVideoProcessor

    if model_name_or_path is not None:
        try:
            from transformers import AutoVideoProcessor

            return AutoVideoProcessor.from_pretrained(model_name_or_path, **kwargs)
        except (OSError, ValueError, KeyError) as error:
            logger.info(f"No video processor saved with {model_name_or_path} ({error}); building one from the config.")
    config = model.config
    size = config.vision_config.image_size
    return SLLMVideoProcessor(
        num_frames=config.num_frames,
        keep_interval=config.keep_interval,
        crop_size={"height": size, "width": size},
    )


@torch.no_grad()
def measure_end_to_end_throughput(
    model,
    processor,
    videos: Sequence,
    batch_size: int,
    device: str | torch.device | None = None,
    num_warmup: int = 1,
    show_progress: bool = False,
) -> dict:
    """
    Videos per second from the encoded files to the logits: decoding (only the `num_frames` kept frames are decoded
    and converted, with the eval sampling of the processor), preprocessing and the model, batch by batch.

    Args:
        processor ([`SLLMVideoProcessor`]): decodes and preprocesses; called with the model's `num_frames` and
            `keep_interval`.
        videos: video sources (paths, frame folders, bytes...); every one is timed once, after `num_warmup` untimed
            batches.
        batch_size (`int`): videos per batch.

    Returns:
        `dict` with `videos_per_s`, `num_videos`, `frames_per_video` (the frames decoded per video, i.e. the model's
        `num_frames`), and `pixel_values` (`torch.Tensor` `(min(num_videos, batch_size), N, 3, H, W)`, the processed
        first videos, for [`measure_model_throughput`]).
    """
    from transformers.utils.logging import tqdm

    if not videos:
        raise ValueError("No videos to time.")
    device = _resolve_device(device, model)
    model.to(device).eval()
    dtype = next(model.parameters()).dtype
    config = model.config
    call_kwargs = dict(
        return_tensors="pt", return_metadata=True, num_frames=config.num_frames, keep_interval=config.keep_interval
    )
    videos = list(videos)
    batches = [videos[start : start + batch_size] for start in range(0, len(videos), batch_size)]

    def run(batch):
        inputs = processor(batch, **call_kwargs)
        model(pixel_values=inputs["pixel_values"].to(device, dtype))
        return inputs

    for index in range(num_warmup):
        run(batches[index % len(batches)])
    _synchronize(device)
    frames_per_video, kept_inputs = [], None
    start = time.perf_counter()
    for batch in tqdm(batches, desc="End-to-end throughput", unit="batch", disable=not show_progress):
        inputs = run(batch)
        frames_per_video.extend(len(metadata.frames_indices) for metadata in inputs["video_metadata"])
        if kept_inputs is None:
            kept_inputs = inputs["pixel_values"]
    _synchronize(device)
    seconds = time.perf_counter() - start
    if len(set(frames_per_video)) != 1:
        counts = sorted(set(frames_per_video))
        raise RuntimeError(f"The processor decoded different numbers of frames per video: {counts}.")
    return {
        "videos_per_s": len(videos) / seconds,
        "num_videos": len(videos),
        "frames_per_video": frames_per_video[0],
        "pixel_values": kept_inputs,
    }


def measure_throughput(
    model,
    processor,
    videos: Sequence,
    batch_size: int,
    device: str | torch.device | None = None,
    num_model_batches: int = 5,
    num_warmup: int = 1,
) -> dict:
    """
    Both throughputs of the results JSON, for the batch size and device given, single-view (one clip, centre crop:
    the processor's inference path; multi-view costs about `V` times more).

    Returns:
        `{"device", "batch_size", "dtype", "model_videos_per_s", "end_to_end_videos_per_s", "num_videos",
        "frames_decoded_per_video", "views_per_video", "torch_threads"}`: model-only videos/s on in-memory pixel
        tensors (the processed first videos), end-to-end videos/s over `videos` (decode + preprocess + model).
    """
    device = _resolve_device(device, model)
    end_to_end = measure_end_to_end_throughput(model, processor, videos, batch_size, device, num_warmup=num_warmup)
    model_only = measure_model_throughput(
        model, end_to_end["pixel_values"], batch_size, device, num_batches=num_model_batches, num_warmup=num_warmup
    )
    return {
        "device": str(device),
        "batch_size": int(batch_size),
        "dtype": str(next(model.parameters()).dtype).replace("torch.", ""),
        "model_videos_per_s": model_only,
        "end_to_end_videos_per_s": end_to_end["videos_per_s"],
        "num_videos": end_to_end["num_videos"],
        "frames_decoded_per_video": end_to_end["frames_per_video"],
        "views_per_video": 1,
        "torch_threads": torch.get_num_threads(),
    }


# --------------------------------------------------------------------------------------------------------------------
# Restoration fidelity


@torch.no_grad()
def restoration_fidelity(
    model,
    data,
    *,
    batch_size: int = 8,
    device: str | torch.device | None = None,
    collate_fn=None,
    num_workers: int = 0,
    show_progress: bool = True,
) -> dict:
    """
    The fidelity report: how close the restored embeddings of the skipped frames are to the vision tower's true
    embeddings of those frames, next to linear interpolation, copy-left and copy-right
    ([`fidelity.fidelity_metrics`]), centred by the dataset-mean embedding (of all kept and skipped frames).

    Args:
        model ([`SLLMForVideoClassification`] or [`SLLMModel`]) with `keep_interval >= 2`.
        data: dataset or batches with `pixel_values` `(B, N, 3, H, W)` and `skipped_pixel_values` `(B, (N - 1) * (k -
            1), 3, H, W)`: one view with the evaluation sampling, e.g. a dataset transformed by
            `data.SLLMVideoTransform(training=False, with_skipped=True)`.

    Returns:
        `{"num_videos", "keep_interval", "num_skipped_frames", "centring", "methods": {method: {"centred_cosine",
        "cosine", "mse"}}, "restored_minus_interpolation": {"centred_cosine", "mse"}, "best_method"}`, methods being
        `restored`, `linear_interpolation`, `copy_left`, `copy_right`.
    """
    from transformers.utils.logging import tqdm

    device = _resolve_device(device, model)
    model.to(device)
    loader = make_eval_dataloader(data, batch_size, collate_fn, num_workers)
    total = None
    try:
        total = len(loader)
    except TypeError:
        pass

    def single_view_batches():
        for batch in tqdm(loader, total=total, desc="Restoration fidelity", unit="batch", disable=not show_progress):
            if batch["pixel_values"].dim() != 5:
                raise ValueError(
                    "The fidelity report takes one view per video (num_clips=1, num_crops=1); got pixel_values of "
                    f"shape {tuple(batch['pixel_values'].shape)}."
                )
            yield batch

    gathered = collect_restoration_embeddings(model, single_view_batches())
    keep_interval = getattr(model, "config").keep_interval
    report = fidelity_metrics(
        gathered["frame_embeds"], gathered["restored_embeds"], gathered["target_embeds"], keep_interval
    )
    restored, interpolation = report["restored"], report["linear_interpolation"]
    return {
        "num_videos": int(gathered["frame_embeds"].shape[0]),
        "keep_interval": int(keep_interval),
        "num_skipped_frames": int(gathered["target_embeds"].shape[0] * gathered["target_embeds"].shape[1]),
        "centring": "dataset-mean embedding of all kept and skipped frames",
        "methods": {method: report[method] for method in FIDELITY_METHODS},
        "restored_minus_interpolation": {
            "centred_cosine": restored["centred_cosine"] - interpolation["centred_cosine"],
            "mse": restored["mse"] - interpolation["mse"],
        },
        "best_method": max(FIDELITY_METHODS, key=lambda method: report[method]["centred_cosine"]),
    }


# --------------------------------------------------------------------------------------------------------------------
# Results JSON


def build_results(
    model_name: str,
    evaluation: SLLMEvaluationResult,
    *,
    dataset_name: str,
    dataset_config: str | None,
    split: str,
    num_clips: int,
    num_crops: int,
    zero_shot: bool,
    throughput: dict | None = None,
    fidelity: dict | None = None,
    extra: dict | None = None,
) -> dict:
    """
    The results dict written as `results.json` (the format the model cards read):

    `{"model", "dataset": {"name", "config", "split", "num_videos", "num_classes"}, "views": {"num_clips",
    "num_crops"}, "zero_shot", "metrics": {"top1", "top5", "mean_class_accuracy"}, "per_class": [{"id", "name",
    "accuracy", "support"}], "throughput": {...} | None, "fidelity": {...} | None}` plus `extra` keys.
    """
    if num_clips * num_crops != evaluation.num_views:
        raise ValueError(
            f"num_clips={num_clips} x num_crops={num_crops} != {evaluation.num_views} views seen in the batches."
        )
    metrics = {key: float(value) for key, value in evaluation.metrics.items() if key != "num_videos"}
    results = {
        "model": str(model_name),
        "dataset": {
            "name": str(dataset_name),
            "config": dataset_config,
            "split": str(split),
            "num_videos": int(evaluation.labels.shape[0]),
            "num_classes": int(evaluation.scores.shape[1]),
        },
        "views": {"num_clips": int(num_clips), "num_crops": int(num_crops), "averaging": evaluation.view_averaging},
        "zero_shot": bool(zero_shot),
        "metrics": metrics,
        "per_class": evaluation.per_class,
        "throughput": throughput,
        "fidelity": fidelity,
    }
    if extra:
        results.update(extra)
    return results


__all__ = [
    "VIEW_AVERAGING_MODES",
    "SLLMEvaluationResult",
    "average_view_scores",
    "build_results",
    "classification_metrics",
    "confusion_matrix",
    "default_video_processor",
    "evaluate_model",
    "flatten_views",
    "label_map_by_name",
    "load_text_encoder",
    "make_eval_dataloader",
    "measure_end_to_end_throughput",
    "measure_model_throughput",
    "measure_throughput",
    "plot_confusion_matrix",
    "restoration_fidelity",
    "save_per_class_csv",
    "set_zero_shot_classifier",
]

# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
The one evaluation loop of an [`SLLMForVideoClassification`]: every video of a dataset is classified, single- or
multi-view (the views are averaged as Text4Vis does, see `views.py`), no video is dropped (the last partial batch is
evaluated too), and the metrics come from `metrics/` (the code the Trainer's `compute_metrics` runs too).

[`evaluate_video_dataset`] evaluates rows `{"video", "label"}` through `data.inputs.SLLMVideoTransform`, i.e. the
model's video processor ([`default_video_processor`]: the one saved with the model, else built from its config), the
road `pipeline("video-classification")` takes too. [`evaluate_model`] works on any `torch.utils.data.Dataset` or
`DataLoader` whose items/batches are dicts with `pixel_values` and `labels`. [`build_results`] turns its output into
the one results schema ([`results.SLLMResults`]).
"""

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch.utils.data import DataLoader
from transformers.utils import logging

from modeling_sllm.checks import check_positive_int
from modeling_sllm.data.inputs import RELEASE_EVAL_LOGIT_SCALE, SLLMVideoTransform, sllm_collate_fn

from .metrics import classification_metrics, confusion_matrix
from .results import SLLMDatasetInfo, SLLMResults, SLLMViews
from .views import average_view_scores, flatten_views


logger = logging.get_logger(__name__)


def resolve_device(device: str | torch.device | None, model: torch.nn.Module | None = None) -> torch.device:
    """`None`: the model's device (CPU without a model); `"auto"`: CUDA when available, else CPU; else `device`."""
    if device is None:
        parameter = next(model.parameters(), None) if model is not None else None
        return parameter.device if parameter is not None else torch.device("cpu")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def default_video_processor(model, model_name_or_path: str | None = None, **from_pretrained_kwargs):
    """
    The video processor of a model: the one saved with it (when `model_name_or_path` has one, as the pipeline loads
    it), else `SLLMVideoProcessor.from_model_config(model.config)`.
    """
    from modeling_sllm.video_processing_sllm import SLLMVideoProcessor

    if model_name_or_path is not None:
        from transformers import AutoVideoProcessor

        try:
            return AutoVideoProcessor.from_pretrained(model_name_or_path, **from_pretrained_kwargs)
        except (OSError, ValueError, KeyError) as error:
            logger.info(f"No video processor saved with {model_name_or_path} ({error}); building one from the config.")
    return SLLMVideoProcessor.from_model_config(model.config)


def make_eval_dataloader(data, batch_size: int = 8, collate_fn=None, num_workers: int = 0) -> DataLoader | Iterable:
    """
    A `DataLoader` over `data` in order, keeping the last partial batch (`drop_last=False`, unlike the release), or
    `data` itself if it already is a `DataLoader`/iterable of batches (a `DataLoader` that drops its last batch is
    refused: it would leave videos out of the metrics).
    """
    if isinstance(data, DataLoader):
        if data.drop_last:
            raise ValueError("The evaluation DataLoader has drop_last=True: its last partial batch would be skipped.")
        return data
    if not hasattr(data, "__getitem__"):
        return data
    check_positive_int("batch_size", batch_size)
    return DataLoader(
        data,
        batch_size=batch_size,
        shuffle=False,
        drop_last=False,
        collate_fn=collate_fn or sllm_collate_fn,
        num_workers=num_workers,
    )


def _num_batches(loader) -> int | None:
    try:
        return len(loader)
    except TypeError:
        return None


@dataclass
class SLLMEvaluationResult:
    """
    Output of [`evaluate_model`].

    Attributes:
        scores (`np.ndarray` of shape `(num_videos, num_classes)`): per-video scores after view averaging.
        labels (`np.ndarray` of shape `(num_videos,)`): true class ids (in the model's class ids).
        predictions (`np.ndarray` of shape `(num_videos,)`): argmax of `scores`.
        metrics (`dict`): `top1`, `top{k}`, `mean_class_accuracy`, `num_videos` (see [`classification_metrics`]).
        per_class (`list[dict]`): `{"id", "name", "accuracy", "support"}` per class.
        confusion_matrix (`np.ndarray` of shape `(num_classes, num_classes)`).
        num_views (`int`): views per video that were averaged.
        view_averaging (`str`): `"softmax"` or `"logits"`.
        seconds (`float`): wall time of the loop (data loading included).
        class_names (`list[str]`): the model's class names, by class id.
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
    release_logit_scale: float | None = None,
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
        collate_fn: batch builder for a dataset (default: `data.sources.sllm_collate_fn`).
        view_averaging (`str`): `"softmax"` (Text4Vis) or `"logits"`, see [`average_view_scores`].
        label_map (sequence of `int`, *optional*): dataset label id -> model class id (e.g. when the dataset lists
            its classes in another order than the model, see [`zero_shot.label_map_by_name`]).
        top_k (`int`): the k of top-k accuracy (reported as `top{k}`).
        show_progress (`bool`): show a progress bar (`transformers.utils.logging.disable_progress_bar()` hides it
            too).
        description (`str`): label of the progress bar.
        release_logit_scale (`float`, *optional*): score with `release_logit_scale * cos` instead of
            `exp(logit_scale) * cos` (the authors' release evaluates with a fixed 100: same ranking per view, other
            probabilities, so multi-view averages can differ).

    Returns:
        [`SLLMEvaluationResult`].
    """
    from transformers.utils.logging import tqdm

    device = resolve_device(device, model)
    model.to(device).eval()
    dtype = next(model.parameters()).dtype
    loader = make_eval_dataloader(data, batch_size, collate_fn, num_workers)
    if label_map is not None:
        label_map = torch.as_tensor(list(label_map), dtype=torch.long)

    scores, labels = [], []
    views_seen = set()
    start = time.perf_counter()
    batches = tqdm(loader, total=_num_batches(loader), desc=description, unit="batch", disable=not show_progress)
    for batch in batches:
        if "pixel_values" not in batch:
            raise KeyError(f"Batches must contain 'pixel_values'; got keys {sorted(batch)}.")
        batch_labels = batch.get("labels", batch.get("label"))
        if batch_labels is None:
            raise KeyError(f"Batches must contain 'labels' to compute accuracy; got keys {sorted(batch)}.")
        pixel_values, num_videos, num_views = flatten_views(batch["pixel_values"])
        views_seen.add(num_views)
        logits = model(pixel_values=pixel_values.to(device, dtype)).logits
        if release_logit_scale is not None:
            logits = logits * (release_logit_scale / model.logit_scale.detach().float().exp())
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


def evaluate_video_dataset(
    model,
    dataset,
    data_args,
    *,
    num_clips: int | None = None,
    num_crops: int | None = None,
    processor=None,
    batch_size: int = 8,
    release_eval_sampling: bool = False,
    **evaluate_kwargs,
) -> SLLMEvaluationResult:
    """
    Evaluates a `datasets.Dataset` of rows `{"video", "label"}` (as `data.sources.load_video_datasets` gives):
    the rows become model inputs through `SLLMVideoTransform.for_model(..., training=False)`, which runs the video
    processor (TSN segment centres, resize, centre or 3 crops: the pipeline's inputs), and go through
    [`evaluate_model`].

    Args:
        data_args (`SLLMDataArguments`): frame file names; `num_clips` / `num_crops` when not given here.
        num_clips, num_crops (`int`, *optional*): views per video (`V = num_clips * num_crops`).
        processor ([`SLLMVideoProcessor`], *optional*): the model's processor (e.g. [`default_video_processor`]);
            defaults to `SLLMVideoProcessor.from_model_config(model.config)`.
        release_eval_sampling (`bool`): evaluate as the authors' release: segment centres over `M - 1` of a video's
            `M` frames and logits `100 * cos` (see `data.inputs.release_eval_frame_count`).
        evaluate_kwargs: the other arguments of [`evaluate_model`] (`device`, `view_averaging`, `label_map`, ...).

    Raises:
        `RuntimeError` if fewer videos were scored than the dataset has.
    """
    num_clips = data_args.num_clips if num_clips is None else num_clips
    num_crops = data_args.num_crops if num_crops is None else num_crops
    transform = SLLMVideoTransform.for_model(
        model.config,
        data_args,
        training=False,
        processor=processor,
        num_clips=num_clips,
        num_crops=num_crops,
        release_eval_sampling=release_eval_sampling,
    )
    if release_eval_sampling:
        evaluate_kwargs.setdefault("release_logit_scale", RELEASE_EVAL_LOGIT_SCALE)
    evaluation = evaluate_model(
        model, dataset.with_transform(transform), batch_size=batch_size, collate_fn=sllm_collate_fn, **evaluate_kwargs
    )
    if evaluation.labels.shape[0] != len(dataset):
        raise RuntimeError(f"Evaluated {evaluation.labels.shape[0]} of {len(dataset)} videos.")
    if evaluation.num_views != num_clips * num_crops:
        raise RuntimeError(
            f"The transform gave {evaluation.num_views} views per video for num_clips={num_clips} x "
            f"num_crops={num_crops}."
        )
    return evaluation


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
) -> SLLMResults:
    """
    The [`SLLMResults`] of an evaluation (written as `results.json` with `SLLMResults.save`, read by the model cards):
    metrics `top1`, `top{k}`, `mean_class_accuracy`; the dataset with its number of videos and classes; the views;
    the per-class accuracies; the throughput and fidelity reports when measured; `extra` keys at the top level.
    """
    if num_clips * num_crops != evaluation.num_views:
        raise ValueError(
            f"num_clips={num_clips} x num_crops={num_crops} != {evaluation.num_views} views seen in the batches."
        )
    return SLLMResults(
        model=str(model_name),
        dataset=SLLMDatasetInfo(
            name=str(dataset_name),
            config=dataset_config,
            split=str(split),
            num_videos=int(evaluation.labels.shape[0]),
            num_classes=int(evaluation.scores.shape[1]),
        ),
        views=SLLMViews(num_clips=int(num_clips), num_crops=int(num_crops), averaging=evaluation.view_averaging),
        zero_shot=bool(zero_shot),
        metrics={key: float(value) for key, value in evaluation.metrics.items() if key != "num_videos"},
        per_class=evaluation.per_class,
        throughput=throughput,
        fidelity=fidelity,
        extra=dict(extra or {}),
    )


__all__ = [
    "SLLMEvaluationResult",
    "build_results",
    "default_video_processor",
    "evaluate_model",
    "evaluate_video_dataset",
    "make_eval_dataloader",
    "resolve_device",
]

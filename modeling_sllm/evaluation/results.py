# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
The one results schema: what an evaluation writes (`results.json`), what training reports and what a model card
reads.

    {"model", "dataset": {"name", "config", "split", "num_videos", "num_classes"},
     "views": {"num_clips", "num_crops", "averaging"}, "zero_shot",
     "metrics": {"top1", "top5", "mean_class_accuracy"}, "per_class": [{"id", "name", "accuracy", "support"}] | null,
     "throughput": {...} | null, "fidelity": {...} | null, ...extra keys}

Accuracies are fractions in [0, 1]. [`SLLMResults.load`] also reads the Trainer's own `eval_results.json` /
`all_results.json` (`{"eval_top1": ..., "eval_mean_class_accuracy": ..., "eval_num_videos": ...}`, written by
`trainer.save_metrics("eval", ...)` with the metrics of `metrics.compute_accuracy_metrics`), which says nothing of the
dataset: the caller names it.
"""

import json
import math
import os
import re
from dataclasses import dataclass, field, fields, replace
from typing import Any

from modeling_sllm.data.files import write_file_atomically


__all__ = ["SLLMDatasetInfo", "SLLMResults", "SLLMResultsError", "SLLMViews"]

_TOP_K = re.compile(r"top(\d+)")
_REQUIRED_METRICS = ("top1", "mean_class_accuracy")
_VIEW_AVERAGING_MODES = ("softmax", "logits")  # views.VIEW_AVERAGING_MODES (this file stays free of torch)


class SLLMResultsError(ValueError):
    """A results file or dict that does not fit the schema; the message names the file and the field."""


@dataclass
class SLLMDatasetInfo:
    """Which videos were evaluated."""

    name: str
    split: str = "validation"
    config: str | None = None
    num_videos: int | None = None
    num_classes: int | None = None

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "config": self.config,
            "split": self.split,
            "num_videos": self.num_videos,
            "num_classes": self.num_classes,
        }


@dataclass
class SLLMViews:
    """Views per video: `num_clips` temporal clips x `num_crops` spatial crops, averaged as `averaging`."""

    num_clips: int = 1
    num_crops: int = 1
    averaging: str = "softmax"

    @property
    def label(self) -> str:
        return f"{self.num_clips}x{self.num_crops}"

    def to_dict(self) -> dict:
        return {"num_clips": self.num_clips, "num_crops": self.num_crops, "averaging": self.averaging}


@dataclass
class SLLMResults:
    """Results of one evaluation of one model on one dataset split (see the module docstring for the JSON shape)."""

    model: str
    dataset: SLLMDatasetInfo
    metrics: dict[str, float]
    views: SLLMViews = field(default_factory=SLLMViews)
    zero_shot: bool = False
    per_class: list[dict] | None = None
    throughput: dict | None = None
    fidelity: dict | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        source = "SLLMResults"
        if isinstance(self.dataset, dict):
            self.dataset = _dataset_info(self.dataset, source, require_split=False)
        if isinstance(self.views, dict):
            self.views = _views(self.views, source)
        _check_metrics(self.metrics, source)
        self.metrics = {key: float(value) for key, value in self.metrics.items()}
        clashes = sorted(set(self.extra) & {item.name for item in fields(self)})
        if clashes:
            raise SLLMResultsError(f"{source}: extra keys {clashes} clash with the schema's own fields.")

    # ---------------------------------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """The JSON object of `results.json` (the shape of the module docstring, `extra` keys at the top level)."""
        data = {
            "model": self.model,
            "dataset": self.dataset.to_dict(),
            "views": self.views.to_dict(),
            "zero_shot": self.zero_shot,
            "metrics": dict(self.metrics),
            "per_class": self.per_class,
            "throughput": self.throughput,
            "fidelity": self.fidelity,
        }
        data.update(self.extra)
        return data

    def save(self, path: str | os.PathLike) -> str:
        """Writes the JSON atomically (a temporary file renamed into place): a kill leaves the old file or the new."""
        path = os.fspath(path)
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        text = json.dumps(self.to_dict(), indent=2) + "\n"  # fails (unserialisable values) before any file is touched
        write_file_atomically(path, text)
        return path

    @classmethod
    def from_dict(cls, data: dict, source: str = "results dict") -> "SLLMResults":
        """Checks `data` against the schema; [`SLLMResultsError`] names `source` and the field."""
        if not isinstance(data, dict):
            raise SLLMResultsError(f"{source}: expected a JSON object, got {type(data).__name__}.")
        dataset = _dataset_info(_require(data, "dataset", "", dict, source), source)
        metrics = _require(data, "metrics", "", dict, source)
        _check_metrics(metrics, source)
        views = data.get("views") or {}
        if not isinstance(views, dict):
            raise SLLMResultsError(f"{source}: field 'views' must be an object with num_clips and num_crops.")
        per_class = data.get("per_class")
        if per_class is not None and not (isinstance(per_class, list) and all(isinstance(r, dict) for r in per_class)):
            raise SLLMResultsError(f"{source}: field 'per_class' must be a list of objects or null.")
        for key in ("throughput", "fidelity"):
            if data.get(key) is not None and not isinstance(data[key], dict):
                raise SLLMResultsError(f"{source}: field {key!r} must be an object or null, got {data[key]!r}.")
        model = data.get("model", "")
        if not isinstance(model, str):
            raise SLLMResultsError(f"{source}: field 'model' = {model!r} is not a str.")
        known = {item.name for item in fields(cls)} - {"extra"}
        return cls(
            model=model,
            dataset=dataset,
            metrics=metrics,
            views=_views(views, source),
            zero_shot=bool(data.get("zero_shot", False)),
            per_class=per_class,
            throughput=data.get("throughput"),
            fidelity=data.get("fidelity"),
            extra={key: value for key, value in data.items() if key not in known},
        )

    @classmethod
    def from_trainer_metrics(
        cls,
        metrics: dict,
        dataset: SLLMDatasetInfo | dict,
        model: str = "",
        prefix: str = "eval_",
        source: str = "Trainer metrics",
    ) -> "SLLMResults":
        """
        Results of the Trainer's `evaluate()` with `metrics.compute_accuracy_metrics` (`{"eval_top1": ...,
        "eval_top5": ..., "eval_mean_class_accuracy": ..., "eval_num_videos": ...}`): single view. `dataset` names
        the evaluated data (at least its `name`); its `num_videos` defaults to `eval_num_videos`. The Trainer's other
        numbers (loss, runtime, epoch...) are kept under `extra["trainer_metrics"]`.
        """
        if not isinstance(metrics, dict):
            raise SLLMResultsError(f"{source}: expected a JSON object, got {type(metrics).__name__}.")
        if isinstance(dataset, dict):
            dataset = _dataset_info(dataset, source, require_split=False)
        if not isinstance(dataset, SLLMDatasetInfo):
            raise SLLMResultsError(f"{source}: dataset must be an SLLMDatasetInfo or a dict, got {dataset!r}.")
        names = {key: key[len(prefix) :] for key in metrics if key.startswith(prefix)}
        values = {
            name: metrics[key]
            for key, name in names.items()
            if _TOP_K.fullmatch(name) or name == "mean_class_accuracy"
        }
        _check_metrics(values, source, describe=lambda key: repr(prefix + key))
        num_videos = metrics.get(f"{prefix}num_videos")
        if dataset.num_videos is None and num_videos is not None:
            if isinstance(num_videos, bool) or not isinstance(num_videos, (int, float)) or num_videos < 0:
                raise SLLMResultsError(f"{source}: field '{prefix}num_videos' = {num_videos!r} is not a count.")
            dataset = replace(dataset, num_videos=int(num_videos))
        others = {key: value for key, value in metrics.items() if names.get(key) not in values}
        return cls(
            model=model, dataset=dataset, metrics=values, extra={"trainer_metrics": others} if others else {}
        )

    @classmethod
    def load(
        cls, path: str | os.PathLike, dataset: SLLMDatasetInfo | dict | None = None, model: str = ""
    ) -> "SLLMResults":
        """
        Reads `results.json` of the evaluation, or the Trainer's `eval_results.json` / `all_results.json`. The
        Trainer's files do not name the dataset: pass `dataset` (at least its `name`), else the error says so.

        Raises:
            [`SLLMResultsError`] naming the file and the missing or invalid field.
        """
        source = os.fspath(path)
        try:
            with open(source, encoding="utf-8") as handle:
                text = handle.read()
        except FileNotFoundError:
            raise SLLMResultsError(f"Results file {source!r} does not exist.") from None
        except UnicodeDecodeError as error:
            raise SLLMResultsError(f"Results file {source!r} is not UTF-8 text: {error}.") from None
        if not text.strip():
            raise SLLMResultsError(f"Results file {source!r} is empty.")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise SLLMResultsError(f"Results file {source!r} is not valid JSON: {error}.") from None
        if isinstance(data, dict) and "metrics" not in data and any(key.startswith("eval_") for key in data):
            if dataset is None:
                raise SLLMResultsError(
                    f"{source} is a Trainer metrics file (eval_* keys) that does not name the dataset: give the "
                    "dataset (at least its name, e.g. --dataset_name) to use it."
                )
            return cls.from_trainer_metrics(data, dataset, model=model, source=source)
        return cls.from_dict(data, source)


def _require(container: dict, key: str, where: str, kind, source: str):
    if not isinstance(container, dict) or key not in container:
        raise SLLMResultsError(f"{source}: missing field {where}{key!r}.")
    value = container[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        name = getattr(kind, "__name__", str(kind))
        raise SLLMResultsError(f"{source}: field {where}{key!r} = {value!r} is not a {name}.")
    return value


def _dataset_info(dataset: dict, source: str, require_split: bool = True) -> SLLMDatasetInfo:
    where = "dataset."
    if not isinstance(dataset, dict):
        raise SLLMResultsError(f"{source}: field 'dataset' must be an object, got {dataset!r}.")
    _require(dataset, "name", where, str, source)
    if "split" in dataset:
        _require(dataset, "split", where, str, source)
    elif require_split:  # a results file always says which split it evaluated; a caller may take the default
        raise SLLMResultsError(f"{source}: missing field {where}'split'.")
    if dataset.get("config") is not None:
        _require(dataset, "config", where, str, source)
    for key in ("num_videos", "num_classes"):
        if dataset.get(key) is not None:
            value = _require(dataset, key, where, int, source)
            if value < 0:
                raise SLLMResultsError(f"{source}: field {where}{key!r} = {value} is negative.")
    unknown = sorted(set(dataset) - {item.name for item in fields(SLLMDatasetInfo)})
    if unknown:
        raise SLLMResultsError(f"{source}: unknown fields {[where + key for key in unknown]}.")
    return SLLMDatasetInfo(**dataset)


def _views(views: dict, source: str) -> SLLMViews:
    views = {key: value for key, value in views.items() if key in {item.name for item in fields(SLLMViews)}}
    for key in ("num_clips", "num_crops"):
        if key in views:
            value = _require(views, key, "views.", int, source)
            if value < 1:
                raise SLLMResultsError(f"{source}: field views.{key!r} = {value} must be >= 1.")
    if views.get("averaging", "softmax") not in _VIEW_AVERAGING_MODES:
        raise SLLMResultsError(
            f"{source}: field views.'averaging' = {views['averaging']!r} is not one of {_VIEW_AVERAGING_MODES}."
        )
    return SLLMViews(**views)


def _check_metrics(metrics: dict, source: str, describe=None) -> None:
    """The accuracies must be numbers in [0, 1]; `top1` and `mean_class_accuracy` must be there."""
    describe = describe or (lambda key: f"metrics.{key!r}")
    if not isinstance(metrics, dict):
        raise SLLMResultsError(f"{source}: field 'metrics' must be an object, got {metrics!r}.")
    for key in _REQUIRED_METRICS:
        if key not in metrics:
            raise SLLMResultsError(f"{source}: missing field {describe(key)}.")
    for key, value in metrics.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise SLLMResultsError(f"{source}: field {describe(key)} = {value!r} is not a number.")
        if (key in _REQUIRED_METRICS or _TOP_K.fullmatch(key)) and not 0.0 <= value <= 1.0:
            raise SLLMResultsError(f"{source}: field {describe(key)} = {value} is not a fraction in [0, 1].")

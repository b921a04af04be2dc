# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""The one results schema: what an evaluation writes (`results.json`), what training reports and what a model card reads.

    {"model", "dataset": {"name", "config", "split", "num_videos", "num_classes"},
     "views": {"num_clips", "num_crops", "averaging"}, "zero_shot",
     "metrics": {"top1", "top5", "mean_class_accuracy"}, "per_class": [...] | null,
     "throughput": {...} | null, "fidelity": {...} | null, ...extra keys}

Accuracies are fractions in [0, 1]. [`SLLMResults.load`] also reads the Trainer's own `eval_results.json`
(`{"eval_top1": ..., "eval_mean_class_accuracy": ...}`), which says nothing of the dataset: the caller names it.
"""

import json
import math
import os
import re
import tempfile
from dataclasses import asdict, dataclass, field
from typing import Any


__all__ = ["SLLMDatasetInfo", "SLLMResults", "SLLMResultsError", "SLLMViews"]

_TOP_K = re.compile(r"top(\d+)")
_REQUIRED_METRICS = ("top1", "mean_class_accuracy")


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


@dataclass
class SLLMViews:
    """Views per video: `num_clips` temporal clips x `num_crops` spatial crops, averaged as `averaging`."""

    num_clips: int = 1
    num_crops: int = 1
    averaging: str = "softmax"

    @property
    def label(self) -> str:
        return f"{self.num_clips}x{self.num_crops}"


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
        if isinstance(self.dataset, dict):
            self.dataset = SLLMDatasetInfo(**self.dataset)
        if isinstance(self.views, dict):
            self.views = SLLMViews(**self.views)
        self.metrics = {key: float(value) for key, value in self.metrics.items()}
        _check_metrics(self.metrics, "SLLMResults")

    # ---------------------------------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        data = asdict(self)
        extra = data.pop("extra")
        data.update(extra)
        return data

    def save(self, path: str | os.PathLike) -> str:
        """Writes the JSON atomically (a temporary file renamed into place): a kill leaves the old file or the new."""
        path = os.fspath(path)
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".results-", suffix=".json", dir=directory)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(self.to_dict(), stream, indent=2, sort_keys=False)
                stream.write("\n")
            os.replace(temporary, path)
        except BaseException:
            if os.path.exists(temporary):
                os.remove(temporary)
            raise
        return path

    @classmethod
    def from_dict(cls, data: dict, source: str = "results dict") -> "SLLMResults":
        """Checks `data` against the schema; [`SLLMResultsError`] names `source` and the field."""
        if not isinstance(data, dict):
            raise SLLMResultsError(f"{source}: expected a JSON object, got {type(data).__name__}.")
        dataset = _require(data, "dataset", "", dict, source)
        _require(dataset, "name", "dataset.", str, source)
        _require(dataset, "split", "dataset.", str, source)
        unknown = sorted(set(dataset) - set(SLLMDatasetInfo.__dataclass_fields__))
        if unknown:
            raise SLLMResultsError(f"{source}: unknown fields {['dataset.' + key for key in unknown]}.")
        metrics = _require(data, "metrics", "", dict, source)
        _check_metrics(metrics, source)
        views = data.get("views") or {}
        if not isinstance(views, dict):
            raise SLLMResultsError(f"{source}: field 'views' must be an object with num_clips and num_crops.")
        views = {key: value for key, value in views.items() if key in SLLMViews.__dataclass_fields__}
        known = set(cls.__dataclass_fields__) - {"extra"}
        return cls(
            model=str(data.get("model", "")),
            dataset=SLLMDatasetInfo(**dataset),
            metrics=metrics,
            views=SLLMViews(**views),
            zero_shot=bool(data.get("zero_shot", False)),
            per_class=data.get("per_class"),
            throughput=data.get("throughput"),
            fidelity=data.get("fidelity"),
            extra={key: value for key, value in data.items() if key not in known},
        )

    @classmethod
    def from_trainer_metrics(
        cls, metrics: dict, dataset: SLLMDatasetInfo | dict, model: str = "", prefix: str = "eval_"
    ) -> "SLLMResults":
        """Results of the Trainer's `evaluate()` (`{"eval_top1": ..., "eval_mean_class_accuracy": ...}`): single view."""
        values = {
            key[len(prefix) :]: value
            for key, value in metrics.items()
            if key.startswith(prefix) and (_TOP_K.fullmatch(key[len(prefix) :]) or key == f"{prefix}mean_class_accuracy")
        }
        extra = {key: value for key, value in metrics.items() if not key.startswith(prefix) or key[len(prefix) :] not in values}
        return cls(model=model, dataset=dataset, metrics=values, extra={"trainer_metrics": extra} if extra else {})

    @classmethod
    def load(cls, path: str | os.PathLike, dataset: SLLMDatasetInfo | dict | None = None, model: str = "") -> "SLLMResults":
        """
        Reads `results.json` of the evaluation, or the Trainer's `eval_results.json` / `all_results.json`. The
        Trainer's files do not name the dataset: pass `dataset` (at least its `name`), else the error says so.
        """
        source = os.fspath(path)
        try:
            with open(source, encoding="utf-8") as handle:
                text = handle.read()
        except FileNotFoundError:
            raise SLLMResultsError(f"Results file {source!r} does not exist.") from None
        if not text.strip():
            raise SLLMResultsError(f"Results file {source!r} is empty.")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise SLLMResultsError(f"Results file {source!r} is not valid JSON: {error}.") from None
        if isinstance(data, dict) and "metrics" not in data and any(key.startswith("eval_") for key in data):
            if dataset is None:
                raise SLLMResultsError(
                    f"{source} is a Trainer metrics file without the dataset's name: give the dataset (e.g. "
                    "--dataset_name) to use it."
                )
            try:
                return cls.from_trainer_metrics(data, dataset, model=model)
            except SLLMResultsError as error:
                raise SLLMResultsError(f"{source}: {error}") from None
        return cls.from_dict(data, source)


def _require(container: dict, key: str, where: str, kind, source: str):
    if not isinstance(container, dict) or key not in container:
        raise SLLMResultsError(f"{source}: missing field {where}{key!r}.")
    value = container[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        name = getattr(kind, "__name__", str(kind))
        raise SLLMResultsError(f"{source}: field {where}{key!r} = {value!r} is not a {name}.")
    return value


def _check_metrics(metrics: dict, source: str) -> None:
    for key in _REQUIRED_METRICS:
        if key not in metrics:
            raise SLLMResultsError(f"{source}: missing field metrics.{key!r}.")
    for key, value in metrics.items():
        if key in _REQUIRED_METRICS or _TOP_K.fullmatch(key):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise SLLMResultsError(f"{source}: field metrics.{key!r} = {value!r} is not a number.")
            if not 0.0 <= value <= 1.0:
                raise SLLMResultsError(f"{source}: metrics.{key!r} = {value} is not a fraction in [0, 1].")

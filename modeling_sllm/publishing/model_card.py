# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
The model card of a saved SLLM folder: the template `hub_cards/sllm_model_card.md` filled from the folder's config
and evaluation results, with `model-index` metadata built through `huggingface_hub`'s `ModelCardData` / `EvalResult`
so that the Hub shows the results.

Results are read through the one results schema, [`~modeling_sllm.evaluation.results.SLLMResults`]: the
`results.json` of `scripts/eval.py`, the Trainer's `eval_results.json` (when the dataset is named), a dict of that
shape or an `SLLMResults`.
"""

import os
import re
from pathlib import Path

from huggingface_hub import EvalResult, ModelCard, ModelCardData
from transformers.utils import VIDEO_PROCESSOR_NAME

from modeling_sllm.configuration_sllm import SLLMConfig
from modeling_sllm.evaluation.results import SLLMDatasetInfo, SLLMResults, SLLMResultsError
from modeling_sllm.video_processing_sllm import SLLMVideoProcessor

from .conversion_report import CONVERSION_REPORT_NAME, SLLMConversionReport
from .hub_folder import SLLMHubError, read_json
from .naming import backbone_name, dataset_label, looks_like_dataset_id, looks_like_hub_model_id


__all__ = [
    "DEFAULT_TAGS",
    "DEFAULT_TEMPLATE_PATH",
    "TASK_TYPE",
    "build_model_card",
    "find_template",
    "load_results",
    "results_to_eval_results",
]

TASK_TYPE = "video-classification"
DEFAULT_TAGS = ["video-classification", "action-recognition", "sllm", "text4vis", "clip", "efficient-inference"]
TEMPLATE_NAME = "sllm_model_card.md"
_TOP_K = re.compile(r"top(\d+)")


def find_template(package_dir: str | os.PathLike | None = None) -> Path:
    """
    `hub_cards/sllm_model_card.md` beside the package in a source checkout (and an editable install), or its copy
    `modeling_sllm/hub_cards/` in an installed wheel (pyproject maps `hub_cards/` to `modeling_sllm.hub_cards`).
    """
    package_dir = Path(package_dir) if package_dir is not None else Path(__file__).resolve().parents[1]
    candidates = [package_dir.parent / "hub_cards" / TEMPLATE_NAME, package_dir / "hub_cards" / TEMPLATE_NAME]
    return next((path for path in candidates if path.is_file()), candidates[0])


DEFAULT_TEMPLATE_PATH = find_template()

ResultsLike = str | os.PathLike | dict | SLLMResults


def load_results(results: ResultsLike, dataset: SLLMDatasetInfo | dict | None = None) -> SLLMResults:
    """
    Reads results through [`SLLMResults`]: a path (`results.json`, or the Trainer's `eval_results.json` when `dataset`
    names the evaluated dataset), a dict of the schema, or an `SLLMResults` (returned as is).

    Raises:
        [`SLLMHubError`] with the schema's message (the file and the field).
    """
    if isinstance(results, SLLMResults):
        return results
    try:
        if isinstance(results, dict):
            return SLLMResults.from_dict(results)
        return SLLMResults.load(results, dataset=dataset)
    except SLLMResultsError as error:
        raise SLLMHubError(str(error)) from error


def _metric_keys(metrics: dict) -> list[tuple[str, str, str]]:
    """`(key, metric type, display name)` of the accuracies of an evaluation: top-1, top-k (k > 1), mean class."""
    top_k = sorted((int(match.group(1)), key) for key in metrics if (match := _TOP_K.fullmatch(key)) and key != "top1")
    return (
        [("top1", "accuracy", "Top-1 Accuracy")]
        + [(key, f"top_{k}_accuracy", f"Top-{k} Accuracy") for k, key in top_k]
        + [("mean_class_accuracy", "mean_class_accuracy", "Mean Class Accuracy")]
    )


def _percent(value: float) -> float:
    return round(100.0 * float(value), 2)


def results_to_eval_results(
    results: ResultsLike, source_name: str | None = None, source_url: str | None = None
) -> list[EvalResult]:
    """
    `huggingface_hub.EvalResult`s (one per metric: top-1, top-k, mean class accuracy, in percent) of one evaluation.

    The views (clips x crops) and zero-shot setting are part of the metric names so that results of different
    protocols on the same dataset stay apart.
    """
    results = load_results(results)
    dataset = results.dataset
    suffix = f" ({results.views.label} views{', zero-shot' if results.zero_shot else ''})"
    return [
        EvalResult(
            task_type=TASK_TYPE,
            task_name="Video Classification",
            dataset_type=dataset.name if looks_like_dataset_id(dataset.name) else dataset_label(dataset.name),
            dataset_name=dataset_label(dataset.name),
            dataset_config=dataset.config,
            dataset_split=dataset.split,
            metric_type=metric_type,
            metric_name=metric_name + suffix,
            metric_value=_percent(results.metrics[key]),
            source_name=source_name,
            source_url=source_url,
        )
        for key, metric_type, metric_name in _metric_keys(results.metrics)
    ]


def _fidelity_summary(fidelity) -> str | None:
    """One sentence on the restoration fidelity report of the evaluation (or its scalar entries)."""
    if not isinstance(fidelity, dict) or not fidelity:
        return None
    methods = fidelity.get("methods")
    if isinstance(methods, dict) and methods:
        scores = [
            f"{name.replace('_', ' ')} {values['centred_cosine']:.3f}"
            for name, values in methods.items()
            if isinstance(values, dict) and isinstance(values.get("centred_cosine"), (int, float))
        ]
        if scores:
            best = (
                f" (best: {fidelity['best_method'].replace('_', ' ')})"
                if isinstance(fidelity.get("best_method"), str)
                else ""
            )
            return (
                "centred cosine similarity with the true features of the skipped frames: " + ", ".join(scores) + best
            )
    scalars = [
        f"{key} = {value:.4g}" if isinstance(value, float) else f"{key} = {value}"
        for key, value in fidelity.items()
        if isinstance(value, (int, float, str)) and not isinstance(value, bool)
    ]
    return ", ".join(scalars) or None


def _card_view(results: SLLMResults) -> dict:
    """What the template shows of one evaluation (percentages as numbers with two decimals)."""
    dataset, metrics = results.dataset, results.metrics
    per_class = [
        item
        for item in results.per_class or []
        if isinstance(item, dict) and isinstance(item.get("accuracy"), (int, float))
    ]
    weakest = sorted(per_class, key=lambda item: (item["accuracy"], str(item.get("name"))))[:5]
    throughput = results.throughput or None
    if throughput:
        throughput = {key: round(value, 2) if isinstance(value, float) else value for key, value in throughput.items()}
    top_k = [(key, name) for key, _, name in _metric_keys(metrics) if key not in ("top1", "mean_class_accuracy")]
    return {
        "dataset_label": dataset_label(dataset.name) + (f" ({dataset.config})" if dataset.config else ""),
        "split": dataset.split,
        "num_videos": dataset.num_videos if dataset.num_videos is not None else "?",
        "views": results.views.label.replace("x", " x "),
        "zero_shot": results.zero_shot,
        "top1": f"{_percent(metrics['top1']):.2f}",
        "top_k": f"{_percent(metrics[top_k[0][0]]):.2f}%" if top_k else "n/a",
        "k": top_k[0][0][3:] if top_k else None,
        "mean_class_accuracy": f"{_percent(metrics['mean_class_accuracy']):.2f}",
        "throughput": throughput,
        "fidelity": _fidelity_summary(results.fidelity),
        "weakest_classes": (
            [
                {
                    "name": item.get("name", item.get("id")),
                    "accuracy": f"{_percent(item['accuracy']):.1f}",
                    "support": item.get("support", "?"),
                }
                for item in weakest
            ]
            if len(per_class) > 5
            else []
        ),
    }


def _conversion_view(model_dir: Path) -> dict | None:
    """Source file, hash and epoch of a folder converted from a released checkpoint (`None` for other folders)."""
    path = model_dir / CONVERSION_REPORT_NAME
    if not path.is_file():
        return None
    try:
        report = SLLMConversionReport.load(path)
    except ValueError as error:
        raise SLLMHubError(str(error)) from error
    return {
        "source_file": os.path.basename(report.checkpoint or "?"),
        "sha256": report.sha256 or "unknown",
        "epoch": report.epoch,
    }


def build_model_card(
    model_dir: str | os.PathLike,
    evaluations: list[ResultsLike] | tuple = (),
    repo_id: str | None = None,
    model_name: str | None = None,
    license: str | None = None,
    base_model: str | None = None,
    datasets: list[str] | None = None,
    tags: list[str] | None = None,
    template_path: str | os.PathLike | None = None,
    source_name: str | None = None,
    source_url: str | None = None,
    dataset: SLLMDatasetInfo | dict | None = None,
) -> ModelCard:
    """
    Builds the model card of a saved SLLM folder from the template and evaluation results.

    Args:
        model_dir: folder written by `save_pretrained` (its `config.json` is read; `conversion_report.json` too if the
            model was converted from a released checkpoint).
        evaluations: results files, dicts or [`SLLMResults`] (see [`load_results`]); each gives `model-index` results.
        repo_id (`str`, *optional*): `org/name` on the Hub, used in the usage snippet and as default model name.
        model_name (`str`, *optional*): name in the card and in `model-index`; defaults to the repo or folder name.
        license (`str`, *optional*): licence id for the metadata (left out when `None`).
        base_model (`str`, *optional*): defaults to the CLIP checkpoint of the class features when it is a Hub id.
        datasets (`list[str]`, *optional*): Hub dataset ids; defaults to the evaluated datasets' names.
        tags (`list[str]`, *optional*): extra tags besides the SLLM ones.
        template_path: Jinja template; defaults to `hub_cards/sllm_model_card.md`.
        source_name, source_url: where the evaluation results come from (shown by the Hub).
        dataset (`SLLMDatasetInfo` or `dict`, *optional*): the evaluated dataset of Trainer `eval_results.json` files,
            which do not name it.

    Returns:
        `huggingface_hub.ModelCard`.
    """
    model_dir = Path(model_dir)
    template_path = Path(template_path) if template_path is not None else DEFAULT_TEMPLATE_PATH
    if not template_path.is_file():
        raise SLLMHubError(f"Model card template {str(template_path)!r} does not exist.")
    if not (model_dir / "config.json").is_file():
        raise SLLMHubError(f"{str(model_dir)!r} has no config.json: not a saved model folder.")
    config = SLLMConfig.from_pretrained(model_dir)
    evaluations = [load_results(results, dataset=dataset) for results in evaluations]
    model_name = model_name or (repo_id.split("/")[-1] if repo_id else model_dir.resolve().name)
    repo_id = repo_id or f"<org>/{model_name}"

    eval_results = []
    for results in evaluations:
        eval_results.extend(results_to_eval_results(results, source_name=source_name, source_url=source_url))
    text_model = config.text_model_name_or_path
    if base_model is None and looks_like_hub_model_id(text_model):
        base_model = text_model
    if datasets is None:
        names = (results.dataset.name for results in evaluations)
        datasets = sorted({name for name in names if looks_like_dataset_id(name)})
    card_data = ModelCardData(
        license=license,
        library_name="transformers",
        pipeline_tag=TASK_TYPE,
        tags=DEFAULT_TAGS + [tag for tag in tags or [] if tag not in DEFAULT_TAGS],
        datasets=datasets or None,
        metrics=["accuracy"],
        base_model=base_model,
        model_name=model_name,
        eval_results=eval_results or None,
    )

    labels = [config.id2label[index] for index in sorted(config.id2label)]
    preview = ", ".join(labels[:10]) + (f", ... ({len(labels) - 10} more)" if len(labels) > 10 else "")
    processor_path = model_dir / VIDEO_PROCESSOR_NAME
    saved_size = (read_json(processor_path).get("size") or {}) if processor_path.is_file() else {}
    short_side = saved_size.get("shortest_edge") or SLLMVideoProcessor.from_model_config(config).size["shortest_edge"]
    ratio = config.num_sampled_frames / config.num_frames
    dataset_names = ", ".join(dict.fromkeys(dataset_label(results.dataset.name) for results in evaluations))
    views = [_card_view(results) for results in evaluations]
    top_k_values = {view["k"] for view in views}
    top_k_header = f"Top-{top_k_values.pop()}" if len(top_k_values) == 1 and None not in top_k_values else "Top-k"
    return ModelCard.from_template(
        card_data,
        template_path=str(template_path),
        model_name=model_name,
        repo_id=repo_id,
        dataset_names=dataset_names,
        backbone=backbone_name(config.vision_config),
        image_size=config.vision_config.image_size,
        short_side=short_side,
        num_frames=config.num_frames,
        keep_interval=config.keep_interval,
        num_sampled_frames=config.num_sampled_frames,
        num_restored_frames=config.num_restored_frames,
        sequence_length=config.sequence_length,
        restoration_num_layers=config.restoration_num_layers,
        restoration_mode=config.restoration_mode,
        temporal_head=config.temporal_head,
        temporal_num_layers=config.temporal_num_layers,
        prompt_mode=config.prompt_mode,
        text_model=text_model,
        num_labels=config.num_labels,
        labels_preview=preview,
        encoded_percent=f"{100 / ratio:.0f}",
        ideal_speedup=f"{ratio:.2f}".rstrip("0").rstrip("."),
        evaluations=views,
        top_k_header=top_k_header,
        conversion=_conversion_view(model_dir),
    )

# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
The model card of a saved SLLM folder: the template `hub_cards/sllm_model_card.md` filled from the folder's config
and evaluation results, with `model-index` metadata built through `huggingface_hub`'s `ModelCardData` / `EvalResult`
so that the Hub shows the results.

Results are read through the one results schema, [`~modeling_sllm.evaluation.results.SLLMResults`]: the
`results.json` of `scripts/eval.py`, the Trainer's `eval_results.json` (when the dataset is named), a dict of that
shape or an `SLLMResults`. A folder written by `scripts/train.py` also holds `training_report.json`
([`SLLMTrainingReport`]): the card then shows the training recipe, and takes the run's results, licence, base model
and datasets from it unless they are given.

Names from files (labels, datasets, model names) are escaped for Markdown and HTML ([`card_text.markdown_text`]);
the YAML header is written by `huggingface_hub` and stays valid whatever they contain.
"""

import os
from pathlib import Path

from huggingface_hub import EvalResult, ModelCard, ModelCardData
from transformers.utils import VIDEO_PROCESSOR_NAME

from modeling_sllm.configuration_sllm import SLLMConfig
from modeling_sllm.evaluation.results import SLLMDatasetInfo, SLLMResults, SLLMResultsError

from .card_text import code_span, markdown_text, one_line
from .card_views import conversion_view, evaluation_view, metric_keys, percent, training_view
from .conversion_report import CONVERSION_REPORT_NAME, SLLMConversionReport
from .hub_folder import SLLMHubError, read_json, write_text_atomically
from .licenses import SLLMLicenseError, base_model_license, check_license_id, missing_license_message
from .naming import backbone_name, dataset_label, is_repo_id, looks_like_dataset_id, looks_like_hub_model_id
from .training_card import TRAINING_REPORT_NAME, SLLMTrainingReport


__all__ = [
    "DEFAULT_TAGS",
    "DEFAULT_TEMPLATE_PATH",
    "TASK_TYPE",
    "build_model_card",
    "find_template",
    "load_results",
    "results_to_eval_results",
    "save_model_card",
]

TASK_TYPE = "video-classification"
DEFAULT_TAGS = ["video-classification", "action-recognition", "sllm", "text4vis", "clip", "efficient-inference"]
TEMPLATE_NAME = "sllm_model_card.md"


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
    name = one_line(dataset.name)
    return [
        EvalResult(
            task_type=TASK_TYPE,
            task_name="Video Classification",
            dataset_type=name if looks_like_dataset_id(name) else one_line(dataset_label(name)),
            dataset_name=one_line(dataset_label(name)),
            dataset_config=one_line(dataset.config) if dataset.config is not None else None,
            dataset_split=one_line(dataset.split),
            metric_type=metric_type,
            metric_name=metric_name + suffix,
            metric_value=percent(results.metrics[key]),
            source_name=source_name,
            source_url=source_url,
        )
        for key, metric_type, metric_name in metric_keys(results.metrics)
    ]


def _read_report(model_dir: Path, name: str, report_class):
    """A report JSON of the folder (`None` when absent); [`SLLMHubError`] naming it when it does not parse."""
    path = model_dir / name
    if not path.is_file():
        return None
    try:
        return report_class.load(path)
    except ValueError as error:
        raise SLLMHubError(str(error)) from error


def _processor_size(model_dir: Path) -> int:
    """The short side the saved video processor resizes to; [`SLLMHubError`] when the folder has no processor."""
    path = model_dir / VIDEO_PROCESSOR_NAME
    if not path.is_file():
        raise SLLMHubError(
            f"{str(model_dir)!r} has no {VIDEO_PROCESSOR_NAME}: the pipeline and the card need the video processor. "
            "Save it beside the model: SLLMVideoProcessor.from_model_config(model.config).save_pretrained(folder)."
        )
    size = read_json(path).get("size") or {}
    short_side = size.get("shortest_edge") if isinstance(size, dict) else None
    if not isinstance(short_side, int):
        raise SLLMHubError(f"{path}: size {size!r} has no integer 'shortest_edge'.")
    return short_side


def resolve_card_license(
    license: str | None, report: SLLMTrainingReport | None, base_model: str | None, required: bool
) -> str | None:
    """
    The card's licence: `license`, else the one recorded by training, else the base model's when it is known
    (see [`~licenses.KNOWN_BASE_MODEL_LICENSES`]). `required`: [`SLLMLicenseError`] naming `--license` when none.
    """
    license = check_license_id(license)
    if license is None and report is not None:
        license = check_license_id(report.license, flag="training_report.json license")
    if license is None:
        license = base_model_license(base_model)
    if license is None and required:
        raise SLLMLicenseError(missing_license_message(base_model))
    return license


def build_model_card(
    model_dir: str | os.PathLike,
    evaluations: list[ResultsLike] | tuple | None = None,
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
    require_license: bool = False,
) -> ModelCard:
    """
    Builds the model card of a saved SLLM folder from the template and evaluation results.

    Args:
        model_dir: folder written by `save_pretrained` with its video processor (its `config.json` is read, and
            `conversion_report.json` / `training_report.json` when the converter or `scripts/train.py` wrote one).
        evaluations: results files, dicts or [`SLLMResults`] (see [`load_results`]); each gives `model-index` results.
            `None`: the results of the training run (`training_report.json`), if any.
        repo_id (`str`, *optional*): `org/name` on the Hub, used in the usage snippets and as default model name.
        model_name (`str`, *optional*): name in the card and in `model-index`; defaults to the repo or folder name.
        license (`str`, *optional*): Hub licence id; defaults to the training run's, else the base model's when known.
        base_model (`str`, *optional*): defaults to the checkpoint the training run started from, else the CLIP
            checkpoint of the class features, when it is a Hub id (`None` for local folders).
        datasets (`list[str]`, *optional*): Hub dataset ids; defaults to the training run's Hub `dataset_name` and
            the evaluated datasets named `org/name` (a bare name such as `hmdb51` may be a local folder's).
        tags (`list[str]`, *optional*): extra tags besides the SLLM ones.
        template_path: Jinja template; defaults to `hub_cards/sllm_model_card.md`.
        source_name, source_url: where the evaluation results come from (shown by the Hub).
        dataset (`SLLMDatasetInfo` or `dict`, *optional*): the evaluated dataset of Trainer `eval_results.json` files,
            which do not name it (default: the one `training_report.json` records).
        require_license (`bool`): raise [`SLLMLicenseError`] (naming `--license`) when no licence can be settled.

    Returns:
        `huggingface_hub.ModelCard`. Raises [`SLLMHubError`] naming the file for a folder without config or video
        processor, and for reports or results that do not parse.
    """
    model_dir = Path(model_dir)
    template_path = Path(template_path) if template_path is not None else DEFAULT_TEMPLATE_PATH
    if not template_path.is_file():
        raise SLLMHubError(f"Model card template {str(template_path)!r} does not exist.")
    if not (model_dir / "config.json").is_file():
        raise SLLMHubError(f"{str(model_dir)!r} has no config.json: not a saved model folder.")
    config = SLLMConfig.from_pretrained(model_dir)
    short_side = _processor_size(model_dir)
    training = _read_report(model_dir, TRAINING_REPORT_NAME, SLLMTrainingReport)
    conversion = _read_report(model_dir, CONVERSION_REPORT_NAME, SLLMConversionReport)
    recorded = training.results if training is not None else None
    if evaluations is None:
        evaluations = [recorded] if recorded is not None else []
    if dataset is None and recorded is not None:
        dataset = recorded.dataset
    evaluations = [load_results(results, dataset=dataset) for results in evaluations]
    model_name = one_line(model_name or (repo_id.split("/")[-1] if repo_id else model_dir.resolve().name))
    if repo_id is not None and not is_repo_id(repo_id):
        raise SLLMHubError(f"repo_id must look like 'org/name', got {repo_id!r}.")
    usage_id = repo_id or (f"<org>/{model_name}" if is_repo_id(f"org/{model_name}") else "<org>/<model>")

    eval_results = []
    for results in evaluations:
        eval_results.extend(results_to_eval_results(results, source_name=source_name, source_url=source_url))
    text_model = config.text_model_name_or_path
    if base_model is None and training is not None:
        base_model = training.base_model
    if base_model is None and looks_like_hub_model_id(text_model):
        base_model = text_model
    license = resolve_card_license(license, training, base_model, required=require_license)
    if datasets is None:  # Hub ids only: the run's dataset_name, evaluated `org/name` ids (a bare name may be local)
        names = [one_line(results.dataset.name) for results in evaluations]
        recorded_ids = training.hub_datasets if training is not None else []
        hub_ids = sorted(name for name in names if "/" in name and looks_like_dataset_id(name))
        datasets = list(dict.fromkeys(list(recorded_ids) + hub_ids))
    card_data = ModelCardData(
        license=license,
        library_name="transformers",
        pipeline_tag=TASK_TYPE,
        tags=DEFAULT_TAGS + [one_line(tag) for tag in tags or [] if tag not in DEFAULT_TAGS],
        datasets=datasets or None,
        metrics=["accuracy"],
        base_model=base_model,
        model_name=model_name,
        eval_results=eval_results or None,
    )

    labels = [markdown_text(config.id2label[index]) for index in sorted(config.id2label)]
    preview = ", ".join(labels[:10]) + (f", ... ({len(labels) - 10} more)" if len(labels) > 10 else "")
    ratio = config.num_sampled_frames / config.num_frames
    dataset_names = ", ".join(
        dict.fromkeys(markdown_text(dataset_label(results.dataset.name)) for results in evaluations)
    )
    views = [evaluation_view(results) for results in evaluations]
    top_k_values = {view["k"] for view in views}
    top_k_header = f"Top-{top_k_values.pop()}" if len(top_k_values) == 1 and None not in top_k_values else "Top-k"
    return ModelCard.from_template(
        card_data,
        template_path=str(template_path),
        model_name=markdown_text(model_name),
        repo_id=usage_id,
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
        text_model=code_span(text_model, in_table=True) if text_model else None,
        num_labels=config.num_labels,
        labels_preview=preview,
        encoded_percent=f"{100 / ratio:.0f}",
        ideal_speedup=f"{ratio:.2f}".rstrip("0").rstrip("."),
        evaluations=views,
        top_k_header=top_k_header,
        conversion=conversion_view(conversion) if conversion is not None else None,
        training=training_view(training),
        license=license,
        license_inherited=license is not None and license == base_model_license(base_model),
        base_model=code_span(base_model) if base_model else None,
    )


def save_model_card(card: ModelCard, path: str | os.PathLike) -> str:
    """Writes `card` to `path` atomically (temporary file + `os.replace`) after checking that it parses back."""
    text = str(card)
    ModelCard(text)  # the YAML header parses, before any file is touched
    return write_text_atomically(path, text)

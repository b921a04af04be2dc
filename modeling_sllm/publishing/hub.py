# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
Model cards and Hub uploads of SLLM model folders.

- [`build_model_card`] fills the template `hub_cards/sllm_model_card.md` from a saved model folder and evaluation JSON
  files (written by `scripts/evaluate.py`), with `model-index` metadata built through `huggingface_hub`'s
  `ModelCardData` / `EvalResult`, so the Hub shows the results.
- [`prepare_hub_folder`] checks that a folder is complete for the Hub (config with `auto_map`, the modeling code that
  `trust_remote_code` imports, safetensors weights, the video processor) and writes the card into it.
- [`push_to_hub`] creates the repository and uploads the folder with `HfApi.create_repo` + `HfApi.upload_folder`.

Evaluation JSON (all accuracies are fractions in [0, 1]):

    {"model": str, "dataset": {"name", "config", "split", "num_videos", "num_classes"},
     "views": {"num_clips", "num_crops"}, "zero_shot": bool,
     "metrics": {"top1", "top5" (or another "top{k}"), "mean_class_accuracy"},
     "per_class": [{"id", "name", "accuracy" (None for a class without videos), "support"}],
     "throughput": {"device", "batch_size", "model_videos_per_s", "end_to_end_videos_per_s"} | null,
     "fidelity": {"methods": {method: {"centred_cosine", "cosine", "mse"}}, "best_method", ...} | null}
"""

import ast
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from huggingface_hub import EvalResult, HfApi, ModelCard, ModelCardData
from huggingface_hub.utils import filter_repo_objects
from transformers.utils import logging

from modeling_sllm.configuration_sllm import SLLMConfig

logger = logging.get_logger(__name__)

def _default_template_path() -> Path:
    """`hub_cards/sllm_model_card.md` of the repository, or its installed copy in `modeling_sllm/hub_cards/`."""
    package_dir = Path(__file__).resolve().parents[1]
    for candidate in (package_dir.parent / "hub_cards", package_dir / "hub_cards"):
        if (candidate / "sllm_model_card.md").is_file():
            return candidate / "sllm_model_card.md"
    return package_dir.parent / "hub_cards" / "sllm_model_card.md"


DEFAULT_TEMPLATE_PATH = _default_template_path()
TASK_TYPE = "video-classification"
DEFAULT_TAGS = ["video-classification", "action-recognition", "sllm", "text4vis", "clip", "efficient-inference"]
# Files a model repository does not need (training state, caches, staging folders of the converter).
HUB_IGNORE_PATTERNS = [
    ".git/*",
    ".cache/*",
    "__pycache__/*",
    "*.pyc",
    "checkpoint-*/*",
    "runs/*",
    "*.pt",
    "*.pth",
    "optimizer*",
    "scheduler*",
    "rng_state*",
    "trainer_state.json",
    "training_args.bin",
]
_DATASET_LABELS = {
    "hmdb51": "HMDB-51",
    "hmdb": "HMDB-51",
    "ucf101": "UCF-101",
    "ucf": "UCF-101",
    "k400": "Kinetics-400",
    "kinetics400": "Kinetics-400",
    "kinetics-400": "Kinetics-400",
    "anet": "ActivityNet",
    "activitynet": "ActivityNet",
}
_TOP_K = re.compile(r"top(\d+)")


class SLLMHubError(ValueError):
    """A model folder or an evaluation file that is not fit for the Hub; the message names the file and field."""


# ------------------------------------------------------------------------------------------------------------------
# Evaluation files
# ------------------------------------------------------------------------------------------------------------------


def load_evaluation(evaluation: str | os.PathLike | dict) -> dict:
    """
    Reads and checks an evaluation JSON (a path or an already loaded dict).

    Raises:
        [`SLLMHubError`] naming the file and the missing or invalid field.
    """
    source = "evaluation dict"
    if not isinstance(evaluation, dict):
        source = os.fspath(evaluation)
        try:
            with open(source, encoding="utf-8") as handle:
                evaluation = json.load(handle)
        except FileNotFoundError:
            raise SLLMHubError(f"Evaluation file {source!r} does not exist.") from None
        except json.JSONDecodeError as error:
            raise SLLMHubError(f"Evaluation file {source!r} is not valid JSON: {error}.") from None
    if not isinstance(evaluation, dict):
        raise SLLMHubError(f"{source}: expected a JSON object, got {type(evaluation).__name__}.")

    def require(container, key, where, kind):
        if not isinstance(container, dict) or key not in container:
            raise SLLMHubError(f"{source}: missing field {where}{key!r}.")
        value = container[key]
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            raise SLLMHubError(
                f"{source}: field {where}{key!r} = {value!r} is not a {getattr(kind, '__name__', kind)}."
            )
        return value

    dataset = require(evaluation, "dataset", "", dict)
    require(dataset, "name", "dataset.", str)
    require(dataset, "split", "dataset.", str)
    metrics = require(evaluation, "metrics", "", dict)
    require(metrics, "top1", "metrics.", (int, float))
    require(metrics, "mean_class_accuracy", "metrics.", (int, float))
    for key, value in metrics.items():
        if key in ("top1", "mean_class_accuracy") or _TOP_K.fullmatch(key):
            value = require(metrics, key, "metrics.", (int, float))
            if not 0.0 <= value <= 1.0:
                raise SLLMHubError(f"{source}: metrics.{key!r} = {value} is not a fraction in [0, 1].")
    views = evaluation.get("views") or {}
    if not isinstance(views, dict):
        raise SLLMHubError(f"{source}: field 'views' must be an object with num_clips and num_crops.")
    return evaluation


def _metric_keys(metrics: dict) -> list[tuple[str, str, str]]:
    """`(key, metric type, display name)` of the accuracies of an evaluation: top-1, top-k (k > 1), mean class."""
    top_k = sorted((int(match.group(1)), key) for key in metrics if (match := _TOP_K.fullmatch(key)) and key != "top1")
    return (
        [("top1", "accuracy", "Top-1 Accuracy")]
        + [(key, f"top_{k}_accuracy", f"Top-{k} Accuracy") for k, key in top_k]
        + [("mean_class_accuracy", "mean_class_accuracy", "Mean Class Accuracy")]
    )


def _dataset_label(name: str) -> str:
    base = name.rstrip("/").split("/")[-1]
    return _DATASET_LABELS.get(base.lower(), base)


def _percent(value: float) -> float:
    return round(100.0 * float(value), 2)


def _views_label(evaluation: dict) -> str:
    views = evaluation.get("views") or {}
    return f"{views.get('num_clips', 1)}x{views.get('num_crops', 1)}"


def eval_results_from_evaluation(
    evaluation: str | os.PathLike | dict, source_name: str | None = None, source_url: str | None = None
) -> list[EvalResult]:
    """
    `huggingface_hub.EvalResult`s (one per metric: top-1, top-k, mean class accuracy, in percent) of one evaluation.

    The views (clips x crops) and zero-shot setting are part of the metric names so that results of different
    protocols on the same dataset stay apart.
    """
    evaluation = load_evaluation(evaluation)
    dataset = evaluation["dataset"]
    suffix = f" ({_views_label(evaluation)} views{', zero-shot' if evaluation.get('zero_shot') else ''})"
    return [
        EvalResult(
            task_type=TASK_TYPE,
            task_name="Video Classification",
            dataset_type=(
                dataset["name"] if _looks_like_dataset_id(dataset["name"]) else _dataset_label(dataset["name"])
            ),
            dataset_name=_dataset_label(dataset["name"]),
            dataset_config=dataset.get("config"),
            dataset_split=dataset["split"],
            metric_type=metric_type,
            metric_name=metric_name + suffix,
            metric_value=_percent(evaluation["metrics"][key]),
            source_name=source_name,
            source_url=source_url,
        )
        for key, metric_type, metric_name in _metric_keys(evaluation["metrics"])
    ]


# ------------------------------------------------------------------------------------------------------------------
# Model cards
# ------------------------------------------------------------------------------------------------------------------


def _is_hub_id(name: str | None) -> bool:
    """`org/name` that is not a local path."""
    return bool(name) and not os.path.exists(name) and re.fullmatch(r"[\w.-]+/[\w.-]+", name) is not None


def _looks_like_dataset_id(name: str) -> bool:
    """A Hub dataset id (`name` or `org/name`), not a local folder."""
    return not os.path.exists(name) and re.fullmatch(r"[\w.-]+(/[\w.-]+)?", name) is not None


def _evaluation_view(evaluation: dict) -> dict:
    """What the template shows of one evaluation (percentages as numbers with two decimals)."""
    dataset, metrics = evaluation["dataset"], evaluation["metrics"]
    per_class = [
        item
        for item in evaluation.get("per_class") or []
        if isinstance(item, dict) and isinstance(item.get("accuracy"), (int, float))
    ]
    weakest = sorted(per_class, key=lambda item: (item["accuracy"], str(item.get("name"))))[:5]
    throughput = evaluation.get("throughput") or None
    if throughput:
        throughput = {key: round(value, 2) if isinstance(value, float) else value for key, value in throughput.items()}
    top_k = [(key, name) for key, _, name in _metric_keys(metrics) if key not in ("top1", "mean_class_accuracy")]
    return {
        "dataset_label": _dataset_label(dataset["name"])
        + (f" ({dataset['config']})" if dataset.get("config") else ""),
        "split": dataset["split"],
        "num_videos": dataset.get("num_videos", "?"),
        "views": _views_label(evaluation).replace("x", " x "),
        "zero_shot": bool(evaluation.get("zero_shot")),
        "top1": f"{_percent(metrics['top1']):.2f}",
        "top_k": f"{_percent(metrics[top_k[0][0]]):.2f}%" if top_k else "n/a",
        "k": top_k[0][0][3:] if top_k else None,
        "mean_class_accuracy": f"{_percent(metrics['mean_class_accuracy']):.2f}",
        "throughput": throughput,
        "fidelity": _fidelity_summary(evaluation.get("fidelity")),
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


def _fidelity_summary(fidelity) -> str | None:
    """One sentence on the restoration fidelity report of `evaluation.py` (or its scalar entries)."""
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


def build_model_card(
    model_dir: str | os.PathLike,
    evaluations: list[str | os.PathLike | dict] | tuple = (),
    repo_id: str | None = None,
    model_name: str | None = None,
    license: str | None = None,
    base_model: str | None = None,
    datasets: list[str] | None = None,
    tags: list[str] | None = None,
    template_path: str | os.PathLike | None = None,
    source_name: str | None = None,
    source_url: str | None = None,
) -> ModelCard:
    """
    Builds the model card of a saved SLLM folder from the template and evaluation results.

    Args:
        model_dir: folder written by `save_pretrained` (its `config.json` is read; `conversion_report.json` too if the
            model was converted from a released checkpoint).
        evaluations: evaluation JSON paths or dicts (see the module docstring); each gives `model-index` results.
        repo_id (`str`, *optional*): `org/name` on the Hub, used in the usage snippet and as default model name.
        model_name (`str`, *optional*): name in the card and in `model-index`; defaults to the repo or folder name.
        license (`str`, *optional*): licence id for the metadata (left out when `None`).
        base_model (`str`, *optional*): defaults to the CLIP checkpoint of the class features when it is a Hub id.
        datasets (`list[str]`, *optional*): Hub dataset ids; defaults to the evaluated datasets' names.
        tags (`list[str]`, *optional*): extra tags besides the SLLM ones.
        template_path: Jinja template; defaults to `hub_cards/sllm_model_card.md`.
        source_name, source_url: where the evaluation results come from (shown by the Hub).

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
    evaluations = [load_evaluation(evaluation) for evaluation in evaluations]
    model_name = model_name or (repo_id.split("/")[-1] if repo_id else model_dir.resolve().name)
    repo_id = repo_id or f"<org>/{model_name}"

    eval_results = []
    for evaluation in evaluations:
        eval_results.extend(eval_results_from_evaluation(evaluation, source_name=source_name, source_url=source_url))
    text_model = getattr(config, "text_model_name_or_path", None)
    if base_model is None and _is_hub_id(text_model):
        base_model = text_model
    if datasets is None:
        names = (evaluation["dataset"]["name"] for evaluation in evaluations)
        datasets = sorted({name for name in names if _looks_like_dataset_id(name)})
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

    conversion = None
    report_path = model_dir / "conversion_report.json"
    if report_path.is_file():
        report = json.loads(report_path.read_text(encoding="utf-8"))
        conversion = {
            "source_file": os.path.basename(report.get("checkpoint") or "?"),
            "sha256": report.get("sha256") or "unknown",
            "epoch": report.get("epoch"),
        }
    from .conversion import backbone_name

    labels = [config.id2label[index] for index in sorted(config.id2label)]
    preview = ", ".join(labels[:10]) + (f", ... ({len(labels) - 10} more)" if len(labels) > 10 else "")
    processor_path = model_dir / "video_preprocessor_config.json"
    short_side = None
    if processor_path.is_file():
        size = json.loads(processor_path.read_text(encoding="utf-8")).get("size") or {}
        short_side = size.get("shortest_edge")
    image_size = config.vision_config.image_size
    ratio = config.num_sampled_frames / config.num_frames
    dataset_names = ", ".join(dict.fromkeys(_dataset_label(e["dataset"]["name"]) for e in evaluations))
    views = [_evaluation_view(evaluation) for evaluation in evaluations]
    top_k_values = {view["k"] for view in views}
    top_k_header = f"Top-{top_k_values.pop()}" if len(top_k_values) == 1 and None not in top_k_values else "Top-k"
    return ModelCard.from_template(
        card_data,
        template_path=str(template_path),
        model_name=model_name,
        repo_id=repo_id,
        dataset_names=dataset_names,
        backbone=backbone_name(config.vision_config),
        image_size=image_size,
        short_side=short_side or round(image_size * 256 / 224),
        num_frames=config.num_frames,
        keep_interval=config.keep_interval,
        num_sampled_frames=config.num_sampled_frames,
        num_restored_frames=config.num_restored_frames,
        sequence_length=config.sequence_length,
        restoration_num_layers=config.restoration_num_layers,
        restoration_mode=config.restoration_mode,
        temporal_head=config.temporal_head,
        temporal_num_layers=config.temporal_num_layers,
        prompt_mode=getattr(config, "prompt_mode", "normal"),
        text_model=text_model,
        num_labels=config.num_labels,
        labels_preview=preview,
        encoded_percent=f"{100 / ratio:.0f}",
        ideal_speedup=f"{ratio:.2f}".rstrip("0").rstrip("."),
        evaluations=views,
        top_k_header=top_k_header,
        conversion=conversion,
    )


# ------------------------------------------------------------------------------------------------------------------
# Hub folders
# ------------------------------------------------------------------------------------------------------------------


@dataclass
class SLLMHubFolder:
    """
    A model folder checked for the Hub.

    Attributes:
        folder (`str`): the folder.
        files (`list[str]`): relative paths that `upload_folder` will upload (sorted).
        ignore_patterns (`list[str]`): patterns passed to `upload_folder` to leave the other files out.
    """

    folder: str
    files: list[str] = field(default_factory=list)
    ignore_patterns: list[str] = field(default_factory=lambda: list(HUB_IGNORE_PATTERNS))


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise SLLMHubError(f"{str(path)!r} is not valid JSON: {error}.") from None


def _relative_imports(path: Path) -> set[str]:
    """Modules a remote-code file imports relatively (`from .x import y` -> `x`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                modules.add(node.module.split(".")[0])
            else:
                modules.update(alias.name for alias in node.names)
    return modules


def _check_remote_code(folder: Path, auto_map: dict, config_file: str) -> None:
    """Every module named in `auto_map`, and every module they import relatively, must be in the folder."""
    pending = []
    for auto_class, reference in auto_map.items():
        if isinstance(reference, (list, tuple)):
            reference = next((item for item in reference if item), None)
        if not isinstance(reference, str) or "." not in reference:
            raise SLLMHubError(f"{config_file}: auto_map[{auto_class!r}] = {reference!r} is not 'module.Class'.")
        module = reference.split("--")[-1].rsplit(".", 1)[0]
        pending.append((module, f"{config_file} auto_map[{auto_class!r}]"))
    seen = set()
    while pending:
        module, needed_by = pending.pop()
        if module in seen:
            continue
        seen.add(module)
        path = folder / f"{module}.py"
        if not path.is_file():
            raise SLLMHubError(
                f"{str(folder)!r} lacks {module}.py, needed by {needed_by} for trust_remote_code; save the model with "
                "the modeling_sllm package imported (it registers the code for export)."
            )
        pending.extend((name, f"{module}.py") for name in _relative_imports(path))


def _check_weights(folder: Path, config: SLLMConfig) -> None:
    from safetensors import safe_open

    single, index = folder / "model.safetensors", folder / "model.safetensors.index.json"
    if single.is_file():
        shards = [single]
    elif index.is_file():
        weight_map = _read_json(index).get("weight_map") or {}
        shards = [folder / name for name in sorted(set(weight_map.values()))]
        missing = [shard.name for shard in shards if not shard.is_file()]
        if missing or not shards:
            raise SLLMHubError(f"{str(index)!r} lists shards that are not in the folder: {missing or 'none listed'}.")
    else:
        others = sorted(name for name in os.listdir(folder) if name.endswith((".bin", ".pt", ".pth")))
        raise SLLMHubError(
            f"{str(folder)!r} has no safetensors weights (model.safetensors or model.safetensors.index.json)"
            + (f"; found {others}: re-save with save_pretrained." if others else ".")
        )
    shapes = {}
    for shard in shards:
        with safe_open(str(shard), framework="pt") as handle:
            for key in handle.keys():
                shapes[key] = tuple(handle.get_slice(key).get_shape())
    for key in ("class_embeddings", "logit_scale"):
        if key not in shapes:
            raise SLLMHubError(f"{str(folder)!r}: the safetensors weights have no {key!r} (not an SLLM classifier?).")
    if shapes["class_embeddings"][0] != config.num_labels:
        raise SLLMHubError(
            f"{str(folder)!r}: class_embeddings has shape {shapes['class_embeddings']} but config.json has "
            f"{config.num_labels} labels (id2label)."
        )


def check_hub_folder(model_dir: str | os.PathLike) -> SLLMConfig:
    """
    Checks that a folder is a complete SLLM model repository.

    Checked: `config.json` (model type `sllm`, `id2label`, `auto_map` with `AutoConfig` and
    `AutoModelForVideoClassification`), the `.py` files that `trust_remote_code` imports, safetensors weights with the
    classifier, and `video_preprocessor_config.json` (with its `auto_map` and the model's frame counts).

    Returns:
        The folder's [`SLLMConfig`]. Raises [`SLLMHubError`] naming the file and problem otherwise.
    """
    folder = Path(model_dir)
    if not folder.is_dir():
        raise SLLMHubError(f"Model folder {str(folder)!r} does not exist.")
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise SLLMHubError(f"{str(folder)!r} has no config.json: not a saved model folder.")
    raw_config = _read_json(config_path)
    if raw_config.get("model_type") != SLLMConfig.model_type:
        raise SLLMHubError(f"{config_path}: model_type is {raw_config.get('model_type')!r}, expected 'sllm'.")
    auto_map = raw_config.get("auto_map") or {}
    for needed in ("AutoConfig", "AutoModelForVideoClassification"):
        if needed not in auto_map:
            raise SLLMHubError(
                f"{config_path}: auto_map has no {needed!r} (found {sorted(auto_map)}); without it "
                "trust_remote_code cannot load the model. Save with the modeling_sllm package imported."
            )
    if not raw_config.get("id2label"):
        raise SLLMHubError(f"{config_path}: no id2label; the pipeline would show no class names.")
    config = SLLMConfig.from_pretrained(folder)
    _check_remote_code(folder, auto_map, "config.json")
    _check_weights(folder, config)

    processor_path = folder / "video_preprocessor_config.json"
    if not processor_path.is_file():
        raise SLLMHubError(
            f"{str(folder)!r} has no video_preprocessor_config.json: save an SLLMVideoProcessor beside the model "
            "(the pipeline needs it)."
        )
    processor = _read_json(processor_path)
    processor_map = processor.get("auto_map") or {}
    if "AutoVideoProcessor" not in processor_map:
        raise SLLMHubError(f"{processor_path}: auto_map has no 'AutoVideoProcessor' for trust_remote_code.")
    _check_remote_code(folder, {"AutoVideoProcessor": processor_map["AutoVideoProcessor"]}, processor_path.name)
    for key in ("num_frames", "keep_interval"):
        if processor.get(key) != getattr(config, key):
            raise SLLMHubError(
                f"{processor_path}: {key}={processor.get(key)!r} but config.json has {key}={getattr(config, key)!r}; "
                "the processor would feed the model the wrong frames."
            )
    crop = processor.get("crop_size") or {}
    image_size = config.vision_config.image_size
    if crop and (crop.get("height"), crop.get("width")) != (image_size, image_size):
        raise SLLMHubError(
            f"{processor_path}: crop_size {crop} but the vision tower expects {image_size}x{image_size}."
        )
    return config


def upload_file_list(folder: str | os.PathLike, ignore_patterns: list[str] | None = None) -> list[str]:
    """Relative paths (POSIX) of the files `upload_folder` uploads from `folder` with these `ignore_patterns`."""
    folder = Path(folder)
    paths = sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file())
    patterns = HUB_IGNORE_PATTERNS if ignore_patterns is None else ignore_patterns
    return list(filter_repo_objects(paths, ignore_patterns=patterns))


def prepare_hub_folder(
    model_dir: str | os.PathLike,
    card: ModelCard | None = None,
    ignore_patterns: list[str] | None = None,
) -> SLLMHubFolder:
    """
    Checks a model folder (see [`check_hub_folder`]) and writes the model card to its `README.md`.

    Args:
        model_dir: the folder to upload.
        card (`ModelCard`, *optional*): written to `README.md`. Without it, an existing `README.md` is kept (a warning
            is logged when there is none).
        ignore_patterns (`list[str]`, *optional*): files left out of the upload; defaults to `HUB_IGNORE_PATTERNS`
            (training state, caches).

    Returns:
        [`SLLMHubFolder`] with the exact list of files to upload.
    """
    folder = Path(model_dir)
    check_hub_folder(folder)
    readme = folder / "README.md"
    if card is not None:
        card.save(readme)
    elif not readme.is_file():
        logger.warning(f"{str(folder)!r} has no README.md: the Hub repository will have no model card.")
    patterns = list(HUB_IGNORE_PATTERNS if ignore_patterns is None else ignore_patterns)
    return SLLMHubFolder(folder=str(folder), files=upload_file_list(folder, patterns), ignore_patterns=patterns)


def push_to_hub(
    model_dir: str | os.PathLike,
    repo_id: str,
    card: ModelCard | None = None,
    token: str | None = None,
    private: bool = False,
    commit_message: str = "Upload SLLM video classifier",
    revision: str | None = None,
    create_pr: bool = False,
    ignore_patterns: list[str] | None = None,
):
    """
    Checks and uploads a model folder to the Hub repository `repo_id` (created if needed).

    Args:
        model_dir: folder written by `save_pretrained` + the video processor (e.g. by the converter or training).
        repo_id (`str`): `org/name`.
        card (`ModelCard`, *optional*): model card to write as `README.md` before the upload.
        token (`str`, *optional*): Hub token; `None` uses the locally saved login.
        private (`bool`): create the repository as private.
        commit_message (`str`), revision (`str`, *optional*: a branch, created if missing), create_pr (`bool`): as in
            `HfApi.upload_folder`.
        ignore_patterns: files left out (defaults to `HUB_IGNORE_PATTERNS`).

    Returns:
        The `CommitInfo` of the upload.
    """
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", repo_id or ""):
        raise SLLMHubError(f"repo_id must look like 'org/name', got {repo_id!r}.")
    prepared = prepare_hub_folder(model_dir, card=card, ignore_patterns=ignore_patterns)
    api = HfApi(token=token)
    repo_url = api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
    if revision is not None:
        api.create_branch(repo_id, branch=revision, repo_type="model", exist_ok=True)
    logger.info(f"Uploading {len(prepared.files)} files of {prepared.folder} to {repo_url}.")
    return api.upload_folder(
        repo_id=repo_id,
        folder_path=prepared.folder,
        repo_type="model",
        commit_message=commit_message,
        revision=revision,
        create_pr=create_pr,
        ignore_patterns=prepared.ignore_patterns,
    )


__all__ = [
    "SLLMHubError",
    "SLLMHubFolder",
    "load_evaluation",
    "eval_results_from_evaluation",
    "build_model_card",
    "check_hub_folder",
    "upload_file_list",
    "prepare_hub_folder",
    "push_to_hub",
    "HUB_IGNORE_PATTERNS",
    "DEFAULT_TEMPLATE_PATH",
]

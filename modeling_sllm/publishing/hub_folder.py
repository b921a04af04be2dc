# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
Checks that a saved model folder is complete for the Hub, and lists what an upload sends.

A folder is complete when `trust_remote_code` and the pipeline can load it: `config.json` (model type `sllm`,
`id2label`, `auto_map`), the `.py` files that remote code imports, safetensors weights with the classifier, and
`video_preprocessor_config.json` whose frames and crop fit the model (folders can be edited by hand, so the saved
processor is checked against the config by [`check_processor_matches_config`]), and its model card (`README.md`)
must be valid card metadata with a licence ([`check_model_card`]).
"""

import ast
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from huggingface_hub.utils import filter_repo_objects
from transformers.utils import VIDEO_PROCESSOR_NAME, logging

from modeling_sllm.configuration_sllm import SLLMConfig
from modeling_sllm.data.files import write_file_atomically
from modeling_sllm.video_processing_sllm import SLLMVideoProcessor


__all__ = [
    "HUB_IGNORE_PATTERNS",
    "SLLMHubError",
    "SLLMHubFolder",
    "check_hub_folder",
    "check_model_card",
    "check_processor_matches_config",
    "prepare_hub_folder",
    "read_json",
    "upload_file_list",
    "write_text_atomically",
]

logger = logging.get_logger(__name__)

# Files a model repository does not need (training state, caches, staging folders of the converter).
HUB_IGNORE_PATTERNS = [
    ".git/*",
    ".tmp-checkpoint-*/*",
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


class SLLMHubError(ValueError):
    """A model folder or a results file that is not fit for the Hub; the message names the file and field."""


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


def read_json(path: str | os.PathLike) -> dict:
    """A JSON file of a model folder; [`SLLMHubError`] naming the file when it is not valid JSON."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise SLLMHubError(f"{str(path)!r} is not valid JSON: {error}.") from None


def write_text_atomically(path: str | os.PathLike, text: str) -> str:
    """Writes `text` to `path` through a temporary file in the same folder renamed into place (`os.replace`): a kill
    leaves the old file or the new one, never half of one."""
    write_file_atomically(path, text)
    return os.fspath(path)


def check_model_card(readme: str | os.PathLike, license_flag: str = "--license") -> dict:
    """
    Checks the model card a folder will publish: `README.md` exists, its YAML header parses, and it names a licence.

    Returns:
        The card's metadata. Raises [`SLLMHubError`] naming the file (and `license_flag` for a missing licence).
    """
    from huggingface_hub import metadata_load

    readme = Path(readme)
    if not readme.is_file():
        raise SLLMHubError(
            f"{str(readme.parent)!r} has no README.md model card: write one with sllm-push-to-hub (without "
            "--keep_readme) or scripts/train.py."
        )
    try:
        metadata = metadata_load(readme) or {}
    except Exception as error:  # the YAML parser's errors: the header of a hand-edited card
        raise SLLMHubError(f"{str(readme)!r}: the YAML header does not parse: {error}") from error
    if not metadata.get("license"):
        raise SLLMHubError(
            f"{str(readme)!r} has no licence in its metadata; the Hub card needs one. Pass {license_flag} "
            "(e.g. --license mit) to write it."
        )
    return metadata


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
        weight_map = read_json(index).get("weight_map") or {}
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


def check_processor_matches_config(
    processor_config: dict, config: SLLMConfig, source: str = VIDEO_PROCESSOR_NAME
) -> None:
    """
    Checks that a saved processor (its JSON dict) feeds `config`'s model what
    [`SLLMVideoProcessor.from_model_config`] would: the same `num_frames`, `keep_interval` and crop size.

    Raises:
        [`SLLMHubError`] naming `source`, the field and both values.
    """
    expected = SLLMVideoProcessor.from_model_config(config)
    for key in ("num_frames", "keep_interval"):
        if processor_config.get(key) != getattr(expected, key):
            raise SLLMHubError(
                f"{source}: {key}={processor_config.get(key)!r} but config.json has {key}={getattr(config, key)!r}; "
                "the processor would feed the model the wrong frames."
            )
    crop = processor_config.get("crop_size") or {}
    expected_crop = (expected.crop_size["height"], expected.crop_size["width"])
    if crop and (crop.get("height"), crop.get("width")) != expected_crop:
        raise SLLMHubError(
            f"{source}: crop_size {crop} but the vision tower expects {expected_crop[0]}x{expected_crop[1]}."
        )


def check_hub_folder(model_dir: str | os.PathLike) -> SLLMConfig:
    """
    Checks that a folder is a complete SLLM model repository.

    Checked: `config.json` (model type `sllm`, `id2label`, `auto_map` with `AutoConfig` and
    `AutoModelForVideoClassification`), the `.py` files that `trust_remote_code` imports, safetensors weights with the
    classifier, and `video_preprocessor_config.json` (with its `auto_map`, and frames and crop that fit the model).

    Returns:
        The folder's [`SLLMConfig`]. Raises [`SLLMHubError`] naming the file and problem otherwise.
    """
    folder = Path(model_dir)
    if not folder.is_dir():
        raise SLLMHubError(f"Model folder {str(folder)!r} does not exist.")
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise SLLMHubError(f"{str(folder)!r} has no config.json: not a saved model folder.")
    raw_config = read_json(config_path)
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

    processor_path = folder / VIDEO_PROCESSOR_NAME
    if not processor_path.is_file():
        raise SLLMHubError(
            f"{str(folder)!r} has no {VIDEO_PROCESSOR_NAME}: save an SLLMVideoProcessor beside the model "
            "(the pipeline needs it)."
        )
    processor = read_json(processor_path)
    processor_map = processor.get("auto_map") or {}
    if "AutoVideoProcessor" not in processor_map:
        raise SLLMHubError(f"{processor_path}: auto_map has no 'AutoVideoProcessor' for trust_remote_code.")
    _check_remote_code(folder, {"AutoVideoProcessor": processor_map["AutoVideoProcessor"]}, processor_path.name)
    check_processor_matches_config(processor, config, str(processor_path))
    return config


def upload_file_list(folder: str | os.PathLike, ignore_patterns: list[str] | None = None) -> list[str]:
    """Relative paths (POSIX) of the files `upload_folder` uploads from `folder` with these `ignore_patterns`."""
    folder = Path(folder)
    paths = sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file())
    patterns = HUB_IGNORE_PATTERNS if ignore_patterns is None else ignore_patterns
    return list(filter_repo_objects(paths, ignore_patterns=patterns))


def prepare_hub_folder(
    model_dir: str | os.PathLike, card=None, ignore_patterns: list[str] | None = None
) -> SLLMHubFolder:
    """
    Checks a model folder (see [`check_hub_folder`]), writes the model card to its `README.md` (atomically) and checks
    the card (see [`check_model_card`]: a card without a licence is refused).

    Args:
        model_dir: the folder to upload.
        card (`huggingface_hub.ModelCard`, *optional*): written to `README.md`. Without it, the existing `README.md`
            is kept.
        ignore_patterns (`list[str]`, *optional*): files left out of the upload; defaults to `HUB_IGNORE_PATTERNS`
            (training state, caches).

    Returns:
        [`SLLMHubFolder`] with the exact list of files to upload.
    """
    folder = Path(model_dir)
    check_hub_folder(folder)
    readme = folder / "README.md"
    if card is not None:
        write_text_atomically(readme, str(card))
    check_model_card(readme)
    patterns = list(HUB_IGNORE_PATTERNS if ignore_patterns is None else ignore_patterns)
    return SLLMHubFolder(folder=str(folder), files=upload_file_list(folder, patterns), ignore_patterns=patterns)

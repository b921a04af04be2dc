# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
Conversion of the authors' released SLLM / Text4Vis checkpoints into [`SLLMForVideoClassification`] and its video
processor.

A released checkpoint is a `torch.save` dict with `epoch`, `model_state_dict` (keys possibly prefixed with `module.`
by `DataParallel`) and `optimizer_state_dict`; [`load_original_checkpoint`] reads it with `weights_only=True`. Its
tensors are renamed, split and checked by `conversion_mapping` (the key table is there).

The class text features are not in the checkpoint: the Text4Vis classifier is the CLIP text encoder's embedding of the
class prompts, so they are computed here from a CLIP checkpoint (the one the released model was fine-tuned from).

Evaluation sampling of the release: 16 TSN segment centres are sampled and the frames at even positions (0, 2, ..., 14)
are encoded. That is exactly what [`SLLMVideoProcessor`] does with `num_frames=8, keep_interval=2` (see
`release_eval_sampling` of [`convert_original_checkpoint`]).
"""

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable

import torch
from transformers.utils import logging

from modeling_sllm.configuration_sllm import SLLMConfig
from modeling_sllm.modeling_sllm import SLLMForVideoClassification
from modeling_sllm.text_features import (
    PROMPT_MODES,
    SLLMLabel,
    build_prompts,
    encode_prompts,
    load_clip,
    read_label_file,
)
from modeling_sllm.video_processing_sllm import SLLMVideoProcessor

from .conversion_mapping import SLLMConversionError, convert_state_dict, infer_config_kwargs, load_converted_weights
from .conversion_report import SLLMConversionReport
from .naming import backbone_name


__all__ = [
    "RELEASE_EVAL_KEEP_INTERVAL",
    "RELEASE_EVAL_NUM_FRAMES",
    "class_text_features",
    "convert_original_checkpoint",
    "load_original_checkpoint",
    "save_converted",
]

logger = logging.get_logger(__name__)

# Segments of the release's evaluation: 16 sampled frames, 8 encoded (even positions), 7 restored.
RELEASE_EVAL_NUM_FRAMES = 8
RELEASE_EVAL_KEEP_INTERVAL = 2


def _file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_original_checkpoint(
    checkpoint_path: str | os.PathLike,
) -> tuple[dict[str, torch.Tensor], SLLMConversionReport]:
    """
    Loads a released checkpoint with `torch.load(..., weights_only=True)` (no arbitrary code runs) and returns its
    model weights with any `module.` prefix removed.

    Accepts the release's dict (`epoch`, `model_state_dict`, `optimizer_state_dict`), a dict with `state_dict`, or a
    bare state dict of tensors.

    Returns:
        `(state_dict, report)`: `dict[str, torch.Tensor]` in the released layout and a [`SLLMConversionReport`] with
        the file's hash, epoch and prefix filled in.
    """
    path = os.fspath(checkpoint_path)
    if not os.path.isfile(path):
        raise OSError(f"Released checkpoint {path!r} does not exist.")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises UnpicklingError, RuntimeError, ... depending on the file
        raise SLLMConversionError(
            f"Cannot load {path!r} with torch.load(weights_only=True): {error}. Only tensors and plain containers "
            "are accepted (no pickled objects)."
        ) from error
    report = SLLMConversionReport(checkpoint=path, sha256=_file_sha256(path))
    if not isinstance(checkpoint, dict):
        raise SLLMConversionError(f"{path!r} holds a {type(checkpoint).__name__}, expected a dict of weights.")

    for name in ("model_state_dict", "state_dict", "model"):
        if isinstance(checkpoint.get(name), dict):
            state_dict = checkpoint[name]
            report.other_entries = sorted(str(key) for key in checkpoint if key != name)
            epoch = checkpoint.get("epoch")
            report.epoch = int(epoch) if isinstance(epoch, (int, float)) and not isinstance(epoch, bool) else None
            break
    else:
        if checkpoint and all(isinstance(value, torch.Tensor) for value in checkpoint.values()):
            state_dict = checkpoint
        else:
            raise SLLMConversionError(
                f"{path!r} has no 'model_state_dict' entry (found {sorted(map(str, checkpoint))[:10]}) and is not a "
                "bare state dict of tensors."
            )

    not_tensors = [key for key, value in state_dict.items() if not isinstance(value, torch.Tensor)]
    if not_tensors:
        raise SLLMConversionError(f"{path!r}: model weights {not_tensors[:5]} are not tensors.")
    prefixed = [key for key in state_dict if key.startswith("module.")]
    if prefixed and len(prefixed) != len(state_dict):
        plain = [key for key in state_dict if not key.startswith("module.")]
        raise SLLMConversionError(
            f"{path!r}: only some keys carry the DataParallel prefix 'module.' (e.g. {prefixed[0]!r} but "
            f"{plain[0]!r})."
        )
    if prefixed:
        state_dict = {key[len("module.") :]: value for key, value in state_dict.items()}
        report.stripped_prefix = "module."
    for value in state_dict.values():
        report.source_dtypes[str(value.dtype)] = report.source_dtypes.get(str(value.dtype), 0) + 1
    return dict(state_dict), report


def _check_clip_matches(clip_config, vision_config: dict, clip_name: str, allow_mismatch: bool):
    """The classifier's text features must come from the CLIP the released tower was fine-tuned from."""
    if clip_config.projection_dim != vision_config["projection_dim"]:
        raise SLLMConversionError(
            f"The CLIP checkpoint {clip_name!r} has projection_dim={clip_config.projection_dim}, the released vision "
            f"tower projects to {vision_config['projection_dim']}: its text features cannot be the classifier."
        )
    clip_vision = clip_config.vision_config
    differences = {
        name: (getattr(clip_vision, name), vision_config[name])
        for name in ("hidden_size", "num_hidden_layers", "patch_size", "image_size")
        if getattr(clip_vision, name) != vision_config[name]
    }
    if differences:
        message = (
            f"The CLIP checkpoint {clip_name!r} is not the architecture of the released vision tower "
            f"(name: (CLIP, released) = {differences}); the text features of another CLIP do not match the tower's "
            "embedding space. Pass the CLIP the model was trained from"
        )
        if not allow_mismatch:
            raise SLLMConversionError(message + ", or allow_clip_mismatch=True to proceed anyway.")
        logger.warning(message + "; proceeding because allow_clip_mismatch=True.")


def class_text_features(
    clip_model_name_or_path: str,
    labels: list[SLLMLabel],
    prompt_mode: str = "normal",
    clip_kwargs: dict | None = None,
):
    """
    Class text features of the Text4Vis classifier from a CLIP checkpoint's text encoder.

    Returns:
        `(features, clip_config)`: `torch.FloatTensor` of shape `(num_labels, projection_dim)` (unnormalised) and the
        `CLIPConfig` of the checkpoint.
    """
    prompts = build_prompts([label.name for label in labels], [label.description for label in labels], prompt_mode)
    clip, tokenizer = load_clip(os.fspath(clip_model_name_or_path), **(clip_kwargs or {}))
    features = encode_prompts(clip, tokenizer, prompts)
    return features, clip.config


def convert_original_checkpoint(
    checkpoint_path: str | os.PathLike,
    clip_model_name_or_path: str = "openai/clip-vit-base-patch32",
    label_file: str | os.PathLike | None = None,
    labels: list[SLLMLabel] | None = None,
    prompt_mode: str = "normal",
    num_frames: int | None = None,
    keep_interval: int | None = None,
    release_eval_sampling: bool = False,
    vision_head_dim: int = 64,
    head_dim: int = 64,
    ignore_keys: Iterable[str] = (),
    allow_clip_mismatch: bool = False,
    clip_kwargs: dict | None = None,
) -> tuple[SLLMForVideoClassification, SLLMVideoProcessor, SLLMConversionReport]:
    """
    Converts a released SLLM/Text4Vis checkpoint into an [`SLLMForVideoClassification`] and its video processor.

    Args:
        checkpoint_path: the released `.pt` file.
        clip_model_name_or_path (`str`): CLIP checkpoint (Hub id or folder) whose text encoder gives the class
            features; it must be the CLIP the released model was trained from (same architecture, checked).
        label_file / labels: the classes, as a label file (`id;name;description`) or a list of [`SLLMLabel`].
        prompt_mode (`str`): `"normal"` (class name) or `"enhance"` (`"name,description"`), as in training.
        num_frames (`int`, *optional*): frames encoded per video; defaults to 8.
        keep_interval (`int`, *optional*): defaults to 2 with a restoration module, 1 without; a value that does not
            fit the checkpoint (restoration needs 2, none allows only 1) is an error.
        release_eval_sampling (`bool`): reproduce the release's evaluation frames: 16 TSN segment centres, even
            positions encoded (`num_frames=8, keep_interval=2`); conflicting explicit values are an error.
        vision_head_dim (`int`): ViT attention head size (64 for OpenAI ViTs).
        head_dim (`int`): head size of the restoration and temporal transformers (64 in the release: width / 64).
        ignore_keys: regular expressions of source keys to drop on purpose (reported).
        allow_clip_mismatch (`bool`): convert even if the CLIP checkpoint's vision architecture differs from the tower.
        clip_kwargs (`dict`, *optional*): extra arguments of `from_pretrained` for the CLIP checkpoint.

    Returns:
        `(model, processor, report)`: the model in eval mode, an [`SLLMVideoProcessor`] whose sampling and crop fit the
        model, and a [`SLLMConversionReport`].
    """
    if (label_file is None) == (labels is None):
        raise ValueError("Give exactly one of `label_file` and `labels`.")
    if prompt_mode not in PROMPT_MODES:
        raise ValueError(f"prompt_mode must be one of {PROMPT_MODES}, got {prompt_mode!r}.")
    labels = read_label_file(label_file) if label_file is not None else list(labels)
    if len({label.name for label in labels}) != len(labels):
        raise ValueError("The class names are not unique; each class needs its own name (config.id2label).")

    state_dict, report = load_original_checkpoint(checkpoint_path)
    name = report.checkpoint
    config_kwargs = infer_config_kwargs(state_dict, vision_head_dim=vision_head_dim, checkpoint=name)
    has_restoration = config_kwargs["keep_interval"] == 2
    if release_eval_sampling:
        for argument, value, release in (
            ("num_frames", num_frames, RELEASE_EVAL_NUM_FRAMES),
            ("keep_interval", keep_interval, RELEASE_EVAL_KEEP_INTERVAL),
        ):
            if value is not None and value != release:
                raise ValueError(f"release_eval_sampling=True needs {argument}={release}, got {argument}={value}.")
        if not has_restoration:
            raise ValueError(
                f"release_eval_sampling=True encodes every other sampled frame, but {name!r} has no restoration "
                "module (restore_model.*): a plain Text4Vis checkpoint encodes all of its frames."
            )
        num_frames, keep_interval = RELEASE_EVAL_NUM_FRAMES, RELEASE_EVAL_KEEP_INTERVAL
    num_frames = 8 if num_frames is None else num_frames
    if keep_interval is None:
        keep_interval = config_kwargs["keep_interval"]
    elif has_restoration and keep_interval != 2:
        raise ValueError(
            f"{name!r} has a restoration module trained for keep_interval=2 (one restored frame per gap); got "
            f"keep_interval={keep_interval}."
        )
    elif not has_restoration and keep_interval != 1:
        raise ValueError(
            f"{name!r} has no restoration module (restore_model.*): it can only run with keep_interval=1, got "
            f"{keep_interval}."
        )
    config_kwargs["keep_interval"] = keep_interval

    converted = convert_state_dict(state_dict, ignore_keys=ignore_keys, report=report)
    report.has_restoration = has_restoration
    report.temporal_head = config_kwargs["temporal_head"]

    features, clip_config = class_text_features(clip_model_name_or_path, labels, prompt_mode, clip_kwargs)
    _check_clip_matches(clip_config, config_kwargs["vision_config"], str(clip_model_name_or_path), allow_clip_mismatch)

    config = SLLMConfig(
        num_frames=num_frames,
        head_dim=head_dim,
        id2label={label.id: label.name for label in labels},
        text_model_name_or_path=str(clip_model_name_or_path),
        prompt_mode=prompt_mode,
        **config_kwargs,
    )
    report.backbone = backbone_name(config.vision_config)
    report.sampling = {
        "num_frames": config.num_frames,
        "keep_interval": config.keep_interval,
        "num_sampled_frames": config.num_sampled_frames,
        "release_eval_sampling": bool(release_eval_sampling),
    }

    model = SLLMForVideoClassification(config)
    load_converted_weights(model, converted, report.mapping)
    model.set_class_embeddings(features)
    model.eval()

    processor = SLLMVideoProcessor.from_model_config(config)
    logger.info(
        f"Converted {len(report.mapping)} tensors of {name} ({report.backbone}, restoration: {has_restoration}, "
        f"temporal head: {config.temporal_head}); ignored {len(report.ignored_keys)}."
    )
    return model, processor, report


def save_converted(
    output_dir: str | os.PathLike,
    model: SLLMForVideoClassification,
    processor: SLLMVideoProcessor,
    report: SLLMConversionReport | None = None,
    overwrite: bool = False,
) -> str:
    """
    Writes `model.save_pretrained` (safetensors, config with `id2label`, modeling code), the processor and
    `conversion_report.json` to a temporary folder beside `output_dir`, then renames it: a failure never leaves a
    half-written `output_dir`.

    Returns:
        The output folder's path.
    """
    output_dir = os.path.abspath(os.fspath(output_dir))
    if os.path.exists(output_dir) and not overwrite:
        raise FileExistsError(f"{output_dir!r} already exists; pass overwrite=True to replace it.")
    parent = os.path.dirname(output_dir)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".{os.path.basename(output_dir)}.tmp-", dir=parent)
    try:
        model.save_pretrained(staging)
        processor.save_pretrained(staging)
        if report is not None:
            report.save(staging)
        if os.path.exists(output_dir):
            previous = tempfile.mkdtemp(prefix=f".{os.path.basename(output_dir)}.old-", dir=parent)
            os.rmdir(previous)
            os.replace(output_dir, previous)
            os.replace(staging, output_dir)
            shutil.rmtree(previous, ignore_errors=True)
        else:
            os.replace(staging, output_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return output_dir

# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
Conversion of the authors' released SLLM / Text4Vis checkpoints into [`SLLMForVideoClassification`].

A released checkpoint is a `torch.save` dict with `model_state_dict` (keys possibly prefixed with `module.` by
`DataParallel`). Its tensors follow the OpenAI CLIP layout:

| released key | our key |
| --- | --- |
| `visual.conv1.weight` | `sllm.vision_tower.vision_model.embeddings.patch_embedding.weight` |
| `visual.class_embedding` | `...embeddings.class_embedding` |
| `visual.positional_embedding` | `...embeddings.position_embedding.weight` |
| `visual.ln_pre.*` / `visual.ln_post.*` | `...pre_layrnorm.*` / `...post_layernorm.*` |
| `visual.transformer.resblocks.{i}.*` | `...encoder.layers.{i}.*` (block layout below) |
| `visual.proj` `(width, D)` | `sllm.vision_tower.visual_projection.weight` `(D, width)` (transposed) |
| `fusion_model.frame_position_embeddings.weight` | `sllm.temporal_head.position_embeddings.weight` |
| `fusion_model.transformer.resblocks.{i}.*` | `sllm.temporal_head.encoder.layers.{i}.*` |
| `restore_model.resblocks.{i}.*` | `sllm.restoration.encoder.layers.{i}.*` |
| `restore_frame_position_embeddings.weight` | `sllm.restoration.position_embeddings.weight` |
| `logit_scale` | `logit_scale` |

and inside every residual block: `attn.in_proj_weight` / `attn.in_proj_bias` (query, key and value stacked along the
first dimension) -> `self_attn.{q,k,v}_proj.{weight,bias}`, `attn.out_proj` -> `self_attn.out_proj`, `ln_1` ->
`layer_norm1`, `ln_2` -> `layer_norm2`, `mlp.c_fc` -> `mlp.fc1`, `mlp.c_proj` -> `mlp.fc2`.

The class text features are not in the checkpoint: the Text4Vis classifier is the CLIP text encoder's embedding of the
class prompts, so they are computed here from a CLIP checkpoint (the one the released model was fine-tuned from).

The architecture is read from the tensor shapes (ViT width, depth and patch size, image size, projection dim, depths
of the video heads, number of frame positions), so ViT-B/32, ViT-B/16 and ViT-L/14 checkpoints convert alike; a
checkpoint without `restore_model.*` (plain Text4Vis) gives `keep_interval=1`, one without `fusion_model.*` (Text4Vis
"meanP") gives `temporal_head="mean"`. Every source tensor is either converted or reported (`ignore_keys`); any key
that does not fit stops the conversion with its name and shapes.

Evaluation sampling of the release: 16 TSN segment centres are sampled and the frames at even positions (0, 2, ..., 14)
are encoded. That is exactly what [`SLLMVideoProcessor`] does with `num_frames=8, keep_interval=2` (see
`release_eval_sampling` of [`convert_original_checkpoint`]).
"""

import hashlib
import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

import torch
from transformers.utils import logging

from modeling_sllm.configuration_sllm import SLLMConfig
from modeling_sllm.modeling_sllm import SLLMForVideoClassification
from modeling_sllm.text_features import PROMPT_MODES, SLLMLabel, build_prompts, encode_prompts, read_label_file
from modeling_sllm.video_processing_sllm import SLLMVideoProcessor

logger = logging.get_logger(__name__)

# Segments of the release's evaluation: 16 sampled frames, 8 encoded (even positions), 7 restored.
RELEASE_EVAL_NUM_FRAMES = 8
RELEASE_EVAL_KEEP_INTERVAL = 2

VISION_PREFIX = "sllm.vision_tower."
_BLOCK_RULES = {
    # released block parameter -> our layer parameter (in_proj is handled apart: it is split into three)
    "attn.out_proj.weight": "self_attn.out_proj.weight",
    "attn.out_proj.bias": "self_attn.out_proj.bias",
    "ln_1.weight": "layer_norm1.weight",
    "ln_1.bias": "layer_norm1.bias",
    "ln_2.weight": "layer_norm2.weight",
    "ln_2.bias": "layer_norm2.bias",
    "mlp.c_fc.weight": "mlp.fc1.weight",
    "mlp.c_fc.bias": "mlp.fc1.bias",
    "mlp.c_proj.weight": "mlp.fc2.weight",
    "mlp.c_proj.bias": "mlp.fc2.bias",
}
_VISION_RULES = {
    "visual.conv1.weight": "vision_model.embeddings.patch_embedding.weight",
    "visual.class_embedding": "vision_model.embeddings.class_embedding",
    "visual.positional_embedding": "vision_model.embeddings.position_embedding.weight",
    "visual.ln_pre.weight": "vision_model.pre_layrnorm.weight",
    "visual.ln_pre.bias": "vision_model.pre_layrnorm.bias",
    "visual.ln_post.weight": "vision_model.post_layernorm.weight",
    "visual.ln_post.bias": "vision_model.post_layernorm.bias",
}
# (regex of a released residual block, our prefix with {index})
_BLOCK_PREFIXES = (
    (re.compile(r"^visual\.transformer\.resblocks\.(\d+)\.(.+)$"), VISION_PREFIX + "vision_model.encoder.layers.{}."),
    (re.compile(r"^fusion_model\.transformer\.resblocks\.(\d+)\.(.+)$"), "sllm.temporal_head.encoder.layers.{}."),
    (re.compile(r"^restore_model\.(?:transformer\.)?resblocks\.(\d+)\.(.+)$"), "sllm.restoration.encoder.layers.{}."),
)
_SINGLE_RULES = {
    "visual.proj": VISION_PREFIX + "visual_projection.weight",
    "fusion_model.frame_position_embeddings.weight": "sllm.temporal_head.position_embeddings.weight",
    "restore_frame_position_embeddings.weight": "sllm.restoration.position_embeddings.weight",
    "logit_scale": "logit_scale",
}
_SINGLE_RULES.update({source: VISION_PREFIX + target for source, target in _VISION_RULES.items()})
# Our parameters that do not come from the released checkpoint.
_NOT_FROM_CHECKPOINT = ("class_embeddings",)

# OpenAI ViT sizes, for names in logs and model cards: (width, layers, patch size) -> name.
_KNOWN_BACKBONES = {
    (768, 12, 32): "ViT-B/32",
    (768, 12, 16): "ViT-B/16",
    (1024, 24, 14): "ViT-L/14",
}


class SLLMConversionError(ValueError):
    """A released checkpoint that cannot be converted; the message names the key(s), shapes and file."""


@dataclass
class SLLMConversionReport:
    """
    What a conversion did: where every source tensor went.

    Attributes:
        checkpoint (`str`): path of the released checkpoint.
        sha256 (`str`, *optional*): SHA-256 of the checkpoint file.
        epoch (`int`, *optional*): the checkpoint's `epoch` entry.
        stripped_prefix (`str`, *optional*): prefix removed from every key (`"module."`).
        source_dtypes (`dict[str, int]`): number of source tensors per dtype (all are cast to float32).
        mapping (`dict[str, list[str]]`): source key -> our key(s) (in_proj gives three).
        ignored_keys (`dict[str, list[int]]`): source keys dropped on request (`ignore_keys`), with their shapes.
        other_entries (`list[str]`): top-level entries of the checkpoint dict besides the model weights (e.g.
            `optimizer_state_dict`), which are not part of the model.
        backbone (`str`): name of the vision tower, e.g. `"ViT-B/32"`.
        has_restoration (`bool`), temporal_head (`str`): what the checkpoint contains.
        sampling (`dict`): frames of the converted model: `num_frames` (encoded), `keep_interval`,
            `num_sampled_frames` (TSN segments) and `release_eval_sampling`.
    """

    checkpoint: str
    sha256: str | None = None
    epoch: int | None = None
    stripped_prefix: str | None = None
    source_dtypes: dict = field(default_factory=dict)
    mapping: dict = field(default_factory=dict)
    ignored_keys: dict = field(default_factory=dict)
    other_entries: list = field(default_factory=list)
    backbone: str = ""
    has_restoration: bool = True
    temporal_head: str = "transformer"
    sampling: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def backbone_name(vision_config) -> str:
    """`"ViT-B/32"`, `"ViT-B/16"`, `"ViT-L/14"` (with `@336px` etc. for other image sizes), or a description."""
    width, layers, patch = vision_config.hidden_size, vision_config.num_hidden_layers, vision_config.patch_size
    name = _KNOWN_BACKBONES.get((width, layers, patch))
    if name is None:
        return f"ViT (width {width}, {layers} layers, patch {patch}, {vision_config.image_size}px)"
    return name if vision_config.image_size == 224 else f"{name}@{vision_config.image_size}px"


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


def _shape(state_dict: dict[str, torch.Tensor], key: str, checkpoint: str = "checkpoint") -> tuple[int, ...]:
    if key not in state_dict:
        raise SLLMConversionError(
            f"{checkpoint}: required key {key!r} is missing; is this a released SLLM/Text4Vis file?"
        )
    return tuple(state_dict[key].shape)


def _block_indices(state_dict: dict[str, torch.Tensor], pattern: re.Pattern) -> list[int]:
    indices = sorted({int(match.group(1)) for key in state_dict if (match := pattern.match(key))})
    if indices and indices != list(range(len(indices))):
        raise SLLMConversionError(
            f"Residual blocks {indices} of {pattern.pattern!r} are not numbered 0..{len(indices) - 1}."
        )
    return indices


def infer_config_kwargs(
    state_dict: dict[str, torch.Tensor],
    vision_head_dim: int = 64,
    checkpoint: str = "checkpoint",
) -> dict:
    """
    Reads the architecture of a released checkpoint from its tensor shapes.

    Args:
        state_dict: released weights (no `module.` prefix).
        vision_head_dim (`int`, *optional*, defaults to 64): attention head size of the ViT (64 in all OpenAI ViTs:
            `heads = width / 64`).

    Returns:
        `dict` of [`SLLMConfig`] arguments: `vision_config` (a dict for `CLIPVisionConfig`), `restoration_num_layers`,
        `temporal_head`, `temporal_num_layers`, `max_frame_positions` and `keep_interval` (2 with a restoration
        module, 1 without), plus `logit_scale_init_value`.
    """
    conv_shape = _shape(state_dict, "visual.conv1.weight", checkpoint)
    if len(conv_shape) != 4 or conv_shape[1] != 3 or conv_shape[2] != conv_shape[3]:
        raise SLLMConversionError(
            f"{checkpoint}: 'visual.conv1.weight' has shape {conv_shape}, expected (width, 3, patch, patch)."
        )
    width, _, patch_size, _ = conv_shape
    positions = _shape(state_dict, "visual.positional_embedding", checkpoint)
    grid = math.isqrt(positions[0] - 1) if len(positions) == 2 and positions[0] > 1 else -1
    if len(positions) != 2 or positions[1] != width or grid * grid != positions[0] - 1:
        raise SLLMConversionError(
            f"{checkpoint}: 'visual.positional_embedding' has shape {positions}, expected (1 + grid**2, {width})."
        )
    proj = _shape(state_dict, "visual.proj", checkpoint)
    if len(proj) != 2 or proj[0] != width:
        raise SLLMConversionError(f"{checkpoint}: 'visual.proj' has shape {proj}, expected ({width}, projection_dim).")
    projection_dim = proj[1]
    vision_layers = _block_indices(state_dict, _BLOCK_PREFIXES[0][0])
    if not vision_layers:
        raise SLLMConversionError(f"{checkpoint}: no 'visual.transformer.resblocks.N.*' keys: not an OpenAI CLIP ViT.")
    fc_shape = _shape(state_dict, "visual.transformer.resblocks.0.mlp.c_fc.weight", checkpoint)
    if width % vision_head_dim:
        raise SLLMConversionError(
            f"{checkpoint}: ViT width {width} (from 'visual.conv1.weight' {conv_shape}) is not a multiple of "
            f"vision_head_dim={vision_head_dim}."
        )
    vision_config = dict(
        hidden_size=width,
        intermediate_size=fc_shape[0],
        num_hidden_layers=len(vision_layers),
        num_attention_heads=width // vision_head_dim,
        image_size=grid * patch_size,
        patch_size=patch_size,
        projection_dim=projection_dim,
        num_channels=3,
        hidden_act="quick_gelu",
        layer_norm_eps=1e-5,
    )

    temporal_layers = _block_indices(state_dict, _BLOCK_PREFIXES[1][0])
    restoration_layers = _block_indices(state_dict, _BLOCK_PREFIXES[2][0])
    row_counts = {
        key: state_dict[key].shape[0]
        for key in ("fusion_model.frame_position_embeddings.weight", "restore_frame_position_embeddings.weight")
        if key in state_dict
    }
    if len(set(row_counts.values())) > 1:
        raise SLLMConversionError(
            f"{checkpoint}: the frame position embeddings have different numbers of rows: {row_counts}."
        )
    if temporal_layers and "fusion_model.frame_position_embeddings.weight" not in state_dict:
        raise SLLMConversionError(
            f"{checkpoint}: 'fusion_model.transformer.resblocks.*' without "
            "'fusion_model.frame_position_embeddings.weight'."
        )
    if restoration_layers and "restore_frame_position_embeddings.weight" not in state_dict:
        raise SLLMConversionError(
            f"{checkpoint}: 'restore_model.resblocks.*' without 'restore_frame_position_embeddings.weight'."
        )
    logit_scale = _shape(state_dict, "logit_scale", checkpoint)
    if logit_scale not in ((), (1,)):
        raise SLLMConversionError(f"{checkpoint}: 'logit_scale' has shape {logit_scale}, expected a scalar.")

    kwargs = dict(
        vision_config=vision_config,
        keep_interval=2 if restoration_layers else 1,
        restoration_num_layers=len(restoration_layers) if restoration_layers else 3,
        temporal_head="transformer" if temporal_layers else "mean",
        temporal_num_layers=len(temporal_layers) if temporal_layers else 6,
        logit_scale_init_value=float(state_dict["logit_scale"].float().reshape(())),
    )
    if row_counts:
        kwargs["max_frame_positions"] = next(iter(row_counts.values()))
    return kwargs


def _convert_block_parameter(name: str, tensor: torch.Tensor, prefix: str, source_key: str) -> dict[str, torch.Tensor]:
    """One parameter of a released residual block -> our parameter(s) (in_proj is split into q, k, v)."""
    if name in ("attn.in_proj_weight", "attn.in_proj_bias"):
        if tensor.dim() not in (1, 2) or tensor.shape[0] % 3:
            raise SLLMConversionError(
                f"{source_key!r} has shape {tuple(tensor.shape)}: expected (3 * width, ...) with query, key and value "
                "stacked along the first dimension."
            )
        suffix = "weight" if name.endswith("weight") else "bias"
        query, key, value = tensor.chunk(3, dim=0)
        return {
            f"{prefix}self_attn.q_proj.{suffix}": query,
            f"{prefix}self_attn.k_proj.{suffix}": key,
            f"{prefix}self_attn.v_proj.{suffix}": value,
        }
    if name in _BLOCK_RULES:
        return {prefix + _BLOCK_RULES[name]: tensor}
    return {}


def convert_state_dict(
    state_dict: dict[str, torch.Tensor],
    ignore_keys: Iterable[str] = (),
    report: SLLMConversionReport | None = None,
) -> dict[str, torch.Tensor]:
    """
    Renames (and splits or transposes) released tensors into our layout. Tensors are returned in float32 (views of
    the source tensors when they already are float32).

    Args:
        state_dict: released weights (no `module.` prefix).
        ignore_keys: regular expressions (`re.fullmatch`) of source keys to drop; they are recorded in
            `report.ignored_keys`. Any other key without a rule raises [`SLLMConversionError`].
        report: filled with the mapping and the ignored keys when given.

    Returns:
        `dict[str, torch.Tensor]` keyed like `SLLMForVideoClassification.state_dict()` (without `class_embeddings`).
    """
    patterns = [re.compile(pattern) for pattern in ignore_keys]
    converted: dict[str, torch.Tensor] = {}
    sources: dict[str, str] = {}
    unknown = []
    for source_key, tensor in state_dict.items():
        targets: dict[str, torch.Tensor] = {}
        if source_key in _SINGLE_RULES:
            target = _SINGLE_RULES[source_key]
            if source_key == "visual.proj":
                if tensor.dim() != 2:
                    raise SLLMConversionError(f"'visual.proj' has shape {tuple(tensor.shape)}, expected (width, D).")
                tensor = tensor.t()
            elif source_key == "logit_scale":
                tensor = tensor.reshape(())
            targets = {target: tensor}
        else:
            for pattern, prefix in _BLOCK_PREFIXES:
                match = pattern.match(source_key)
                if match:
                    targets = _convert_block_parameter(
                        match.group(2), tensor, prefix.format(match.group(1)), source_key
                    )
                    break
        if not targets:
            if any(pattern.fullmatch(source_key) for pattern in patterns):
                if report is not None:
                    report.ignored_keys[source_key] = list(tensor.shape)
                continue
            unknown.append(source_key)
            continue
        for target, value in targets.items():
            if target in converted:
                raise SLLMConversionError(f"{source_key!r} and {sources[target]!r} both map to {target!r}.")
            converted[target] = value.detach().to(torch.float32).contiguous()
            sources[target] = source_key
        if report is not None:
            report.mapping[source_key] = list(targets)
    if unknown:
        shapes = ", ".join(f"{key!r} {tuple(state_dict[key].shape)}" for key in unknown[:20])
        more = f" (and {len(unknown) - 20} more)" if len(unknown) > 20 else ""
        raise SLLMConversionError(
            f"{len(unknown)} key(s) of the checkpoint have no place in SLLM: {shapes}{more}. Pass `ignore_keys` "
            "(regular expressions) to drop them on purpose."
        )
    return converted


def load_converted_weights(
    model: SLLMForVideoClassification, converted: dict[str, torch.Tensor], mapping: dict | None = None
):
    """
    Copies converted weights into `model`, checking that every parameter except the class embeddings is provided and
    that every shape fits.

    Raises:
        [`SLLMConversionError`] naming the source key, its converted shape, our key and the expected shape; or the
        parameters that nothing in the checkpoint provides.
    """
    expected = model.state_dict()
    source_of = {target: source for source, targets in (mapping or {}).items() for target in targets}
    mismatched = []
    for target, tensor in converted.items():
        source = source_of.get(target, target)
        if target not in expected:
            raise SLLMConversionError(
                f"{source!r} (shape {tuple(tensor.shape)}) maps to {target!r}, which this SLLM model does not have."
            )
        if tuple(tensor.shape) != tuple(expected[target].shape):
            mismatched.append(
                f"{source!r} -> {target!r}: checkpoint shape {tuple(tensor.shape)}, model expects "
                f"{tuple(expected[target].shape)}"
            )
    if mismatched:
        raise SLLMConversionError("Shape mismatch: " + "; ".join(mismatched[:20]))
    missing = sorted(set(expected) - set(converted) - set(_NOT_FROM_CHECKPOINT))
    if missing:
        raise SLLMConversionError(
            f"{len(missing)} parameter(s) of the SLLM model are not provided by the checkpoint: {missing[:20]}."
        )
    result = model.load_state_dict(converted, strict=False)
    if not set(result.missing_keys) <= set(_NOT_FROM_CHECKPOINT) or result.unexpected_keys:
        raise SLLMConversionError(
            f"Loading the converted weights left missing keys {result.missing_keys} and unexpected keys "
            f"{result.unexpected_keys}."
        )


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
    from transformers import AutoTokenizer, CLIPModel

    prompts = build_prompts([label.name for label in labels], [label.description for label in labels], prompt_mode)
    clip_kwargs = dict(clip_kwargs or {})
    clip = CLIPModel.from_pretrained(clip_model_name_or_path, **clip_kwargs)
    tokenizer = AutoTokenizer.from_pretrained(clip_model_name_or_path, **clip_kwargs)
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
        **config_kwargs,
    )
    config.text_model_name_or_path = str(clip_model_name_or_path)
    config.prompt_mode = prompt_mode
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

    crop = config.vision_config.image_size
    processor = SLLMVideoProcessor(
        num_frames=num_frames, keep_interval=keep_interval, crop_size={"height": crop, "width": crop}
    )
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
            with open(os.path.join(staging, "conversion_report.json"), "w", encoding="utf-8") as handle:
                json.dump(report.to_dict(), handle, indent=2, sort_keys=True)
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


__all__ = [
    "SLLMConversionError",
    "SLLMConversionReport",
    "backbone_name",
    "load_original_checkpoint",
    "infer_config_kwargs",
    "convert_state_dict",
    "load_converted_weights",
    "class_text_features",
    "convert_original_checkpoint",
    "save_converted",
    "RELEASE_EVAL_NUM_FRAMES",
    "RELEASE_EVAL_KEEP_INTERVAL",
]

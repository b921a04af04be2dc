# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
The key and shape mapping of the authors' released SLLM / Text4Vis checkpoints onto [`SLLMForVideoClassification`].

Released tensors follow the OpenAI CLIP layout:

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

The architecture is read from the tensor shapes ([`infer_config_kwargs`]: ViT width, depth and patch size, image size,
projection dim, depths of the video heads, number of frame positions), so ViT-B/32, ViT-B/16 and ViT-L/14 checkpoints
convert alike; a checkpoint without `restore_model.*` (plain Text4Vis) gives `keep_interval=1`, one without
`fusion_model.*` (Text4Vis "meanP") gives `temporal_head="mean"`. Every source tensor is either converted or reported
(`ignore_keys`); any key or shape that does not fit stops the conversion with its name and shapes.
"""

import math
import re
from collections.abc import Iterable

import torch

from modeling_sllm.modeling_sllm import SLLMForVideoClassification

from .conversion_report import SLLMConversionReport


__all__ = ["SLLMConversionError", "convert_state_dict", "infer_config_kwargs", "load_converted_weights"]

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


class SLLMConversionError(ValueError):
    """A released checkpoint that cannot be converted; the message names the key(s), shapes and file."""


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

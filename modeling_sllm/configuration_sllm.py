# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""SLLM model configuration."""

import math

from huggingface_hub.dataclasses import strict
from transformers import CLIPVisionConfig, PreTrainedConfig
from transformers.utils import logging

from .checks import check_positive_int


logger = logging.get_logger(__name__)

RESTORATION_MODES = ("paper", "residual")
TEMPORAL_HEADS = ("transformer", "mean")
RESTORATION_LOSSES = ("kl", "kl_temperature", "mse", "normalized_mse", "cosine")
PROMPT_MODES = ("normal", "enhance")


@strict
class SLLMConfig(PreTrainedConfig):
    r"""
    Configuration of an SLLM ("Sample Less, Learn More") video classifier: a CLIP vision tower encodes one frame in
    `keep_interval`, a small transformer restores the embeddings of the skipped frames, and a temporal head pools the
    interleaved sequence into a video embedding that is compared with class text embeddings.

    Args:
        vision_config (`dict` or `CLIPVisionConfig`, *optional*):
            Configuration of the CLIP vision tower. Its `projection_dim` is the width `D` of the restoration module
            and of the temporal head.
        num_frames (`int`, *optional*, defaults to 8):
            Number of frames `N` that are decoded and encoded per video at inference (the pipeline reads it).
        keep_interval (`int`, *optional*, defaults to 2):
            Keep one sampled frame in `k` and restore the `k - 1` frames of each gap. `2` is the paper's setting (16
            sampled, 8 encoded); `1` disables restoration (the plain Text4Vis baseline on `N` frames).
        restoration_mode (`str`, *optional*, defaults to `"paper"`):
            `"paper"`: the restored embedding is the output of the restoration transformer (exactly as released).
            `"residual"`: linear interpolation of the two neighbours plus a learned correction that starts at zero.
        restoration_num_layers (`int`, *optional*, defaults to 3):
            Depth of the restoration transformer.
        temporal_head (`str`, *optional*, defaults to `"transformer"`):
            `"transformer"` (Text4Vis "Transf": position embeddings, transformer, residual, temporal mean) or
            `"mean"` (plain temporal mean).
        temporal_num_layers (`int`, *optional*, defaults to 6):
            Depth of the temporal transformer.
        max_frame_positions (`int`, *optional*, defaults to 77):
            Rows of the learned frame position embeddings (77 in the released checkpoints).
        head_dim (`int`, *optional*, defaults to 64):
            Attention head size of the restoration and temporal blocks (`heads = D / head_dim`).
        intermediate_size (`int`, *optional*):
            Width of the MLPs of the restoration and temporal blocks. Defaults to `4 * D` (the released blocks); set
            from `vision_config.projection_dim` when the config is created, so the saved value is explicit.
        hidden_act (`str`, *optional*, defaults to `"quick_gelu"`):
            Activation of the MLPs of the restoration and temporal blocks.
        layer_norm_eps (`float`, *optional*, defaults to 1e-12):
            Epsilon of the LayerNorms of the restoration and temporal blocks (the released code uses 1e-12 there).
        attention_dropout (`float`, *optional*, defaults to 0.0):
            Dropout on attention probabilities of the restoration and temporal blocks.
        restoration_loss (`str`, *optional*, defaults to `"kl"`):
            Loss between restored and true embeddings of the skipped frames: `"kl"` (paper), `"kl_temperature"`,
            `"mse"`, `"normalized_mse"` or `"cosine"`.
        restoration_loss_weight (`float`, *optional*, defaults to 1.0):
            Weight `lambda` of the restoration loss in the total loss.
        restoration_loss_temperature (`float`, *optional*, defaults to 0.1):
            Temperature of the softmaxes of `"kl_temperature"`.
        restoration_trained_by_head (`bool`, *optional*, defaults to `True`):
            Whether the classification loss trains the restoration module through the restored embeddings the temporal
            head reads (the paper). `False`: the head still reads them, but only the restoration loss trains the
            module, so its output stays an estimate of the skipped frames rather than an extra feature for the head.
        logit_scale_init_value (`float`, *optional*, defaults to `log(100)`):
            Initial value of the learnable logit scale (CLIP's trained value is about `log(100)`).
        train_class_embeddings (`bool`, *optional*, defaults to `False`):
            Whether the class text embeddings are trained (the Text4Vis classifier keeps them fixed).
        initializer_range (`float`, *optional*, defaults to 0.02):
            Standard deviation of the normal initialiser of the new modules.
        text_model_name_or_path (`str`, *optional*):
            The CLIP checkpoint (Hub id or folder) whose text encoder made the class embeddings; new classes
            (zero-shot, another dataset) are encoded with it.
        prompt_mode (`str`, *optional*, defaults to `"normal"`):
            How class prompts were built: `"normal"` (the class name) or `"enhance"` (`"name,description"`).

    Example:

    ```python
    >>> from modeling_sllm import SLLMConfig, SLLMForVideoClassification

    >>> config = SLLMConfig(num_frames=8, keep_interval=2, id2label={0: "run", 1: "jump"})
    >>> model = SLLMForVideoClassification(config)
    ```

    Invalid values raise when the config is created (or saved): a wrong type names the field, a value that does not fit
    the others is reported by the `validate_architecture` hook (both as `huggingface_hub`'s strict-dataclass errors, as
    for transformers' own configs).
    """

    model_type = "sllm"
    sub_configs_defaults = {"vision_config": CLIPVisionConfig}

    vision_config: dict | CLIPVisionConfig | None = None
    num_frames: int = 8
    keep_interval: int = 2
    restoration_mode: str = "paper"
    restoration_num_layers: int = 3
    temporal_head: str = "transformer"
    temporal_num_layers: int = 6
    max_frame_positions: int = 77
    head_dim: int = 64
    intermediate_size: int | None = None
    hidden_act: str = "quick_gelu"
    layer_norm_eps: float = 1e-12
    attention_dropout: float | int = 0.0
    restoration_loss: str = "kl"
    restoration_loss_weight: float | int = 1.0
    restoration_loss_temperature: float | int = 0.1
    restoration_trained_by_head: bool = True
    logit_scale_init_value: float | int = math.log(100.0)
    train_class_embeddings: bool = False
    initializer_range: float = 0.02
    text_model_name_or_path: str | None = None
    prompt_mode: str = "normal"

    def __post_init__(self, **kwargs):
        super().__post_init__(**kwargs)
        if self.id2label is not None and not self.label2id:
            self.label2id = {label: index for index, label in self.id2label.items()}
        if self.intermediate_size is None:
            self.intermediate_size = 4 * self.hidden_size

    def validate_architecture(self):
        """Part of the `@strict` validation: the sizes and options fit together; the error names the fields."""
        for name in ("num_frames", "keep_interval", "max_frame_positions", "head_dim", "intermediate_size"):
            check_positive_int(f"SLLMConfig.{name}", getattr(self, name))
        for name in ("restoration_num_layers", "temporal_num_layers"):
            check_positive_int(f"SLLMConfig.{name}", getattr(self, name), minimum=0)
        for name, choices in (
            ("restoration_mode", RESTORATION_MODES),
            ("temporal_head", TEMPORAL_HEADS),
            ("restoration_loss", RESTORATION_LOSSES),
            ("prompt_mode", PROMPT_MODES),
        ):
            if getattr(self, name) not in choices:
                raise ValueError(f"SLLMConfig.{name} must be one of {choices}, got {getattr(self, name)!r}.")
        if self.restoration_loss_temperature <= 0:
            raise ValueError(
                f"SLLMConfig.restoration_loss_temperature must be > 0, got {self.restoration_loss_temperature}."
            )
        if self.keep_interval > 1 and self.num_frames < 2:
            raise ValueError(
                f"SLLMConfig.num_frames={self.num_frames} with keep_interval={self.keep_interval}: restoration needs "
                "at least 2 kept frames (one pair) per video."
            )
        if self.keep_interval > 1 and self.restoration_num_layers < 1:
            raise ValueError("SLLMConfig.restoration_num_layers must be >= 1 when keep_interval > 1.")
        if self.hidden_size % self.head_dim != 0:
            raise ValueError(
                f"SLLMConfig: the restoration/temporal width (vision_config.projection_dim={self.hidden_size}) is not "
                f"a multiple of head_dim={self.head_dim}."
            )
        if self.sequence_length > self.max_frame_positions:
            raise ValueError(
                f"SLLMConfig: {self.num_frames} kept frames with keep_interval={self.keep_interval} give a sequence "
                f"of {self.sequence_length} frame features, more than max_frame_positions={self.max_frame_positions}."
            )

    @property
    def hidden_size(self) -> int:
        """Width `D` of the frame embeddings, the restoration module and the temporal head."""
        return self.vision_config.projection_dim

    @property
    def num_attention_heads(self) -> int:
        return self.hidden_size // self.head_dim

    @property
    def num_sampled_frames(self) -> int:
        """Number of TSN segments `T = N * k` a video is split into."""
        return self.num_frames * self.keep_interval

    @property
    def num_restored_frames(self) -> int:
        """Number of restored embeddings per video, `(N - 1) * (k - 1)`."""
        return (self.num_frames - 1) * (self.keep_interval - 1)

    @property
    def sequence_length(self) -> int:
        """Length of the interleaved sequence seen by the temporal head (`2N - 1` for `k = 2`)."""
        return self.num_frames + self.num_restored_frames


__all__ = ["SLLMConfig"]

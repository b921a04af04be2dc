# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
Arguments of the training script: which model to train ([`SLLMModelArguments`]) and the optimisation
([`SLLMTrainingArguments`], a `TrainingArguments` with the paper's defaults). They are parsed with
[`~modeling_sllm.cli.parsing.parse_args_with_yaml`] (a YAML file gives the values, the command line overrides them).

The model's [`SLLMConfig`] is the single source of truth: every [`SLLMModelArguments`] field that mirrors a config
field (`num_frames`, `keep_interval`, `restoration_*`, `temporal_*`, `prompt_mode`, `train_class_embeddings`) is
`None` unless given on the command line or in the YAML file, and only the given ones override the config (a new
model's defaults, or the saved config of `model_name_or_path`).
"""

import importlib.util
import os
from dataclasses import dataclass, field

from transformers import TrainingArguments

from modeling_sllm.configuration_sllm import RESTORATION_LOSSES


__all__ = ["CONFIG_FIELDS", "FIRST_VALIDATION_VIDEO", "SLLMModelArguments", "SLLMTrainingArguments"]

# `--run_pipeline_on` value: classify the first video of the validation split after training
FIRST_VALIDATION_VIDEO = "first_validation_video"

# The SLLMModelArguments fields that are SLLMConfig fields (same name, same meaning).
CONFIG_FIELDS = (
    "num_frames",
    "keep_interval",
    "restoration_mode",
    "restoration_num_layers",
    "temporal_head",
    "temporal_num_layers",
    "restoration_loss",
    "restoration_loss_weight",
    "restoration_loss_temperature",
    "restoration_trained_by_head",
    "prompt_mode",
    "train_class_embeddings",
)
_FROM_CONFIG = " Default: the config's (SLLMConfig's for a new model, the saved one for model_name_or_path)."
# `--flag` alone means True, `--flag false` False, no flag None (the config's value).
_OPTIONAL_FLAG = {"nargs": "?", "const": True}


@dataclass
class SLLMModelArguments:
    """Which model to train: a new one from a CLIP checkpoint, or a saved SLLM folder (continue / two-stage)."""

    clip_model_name_or_path: str = field(
        default="openai/clip-vit-base-patch32",
        metadata={"help": "CLIP checkpoint (Hub id or folder): vision tower, logit scale and class text features."},
    )
    model_name_or_path: str | None = field(
        default=None,
        metadata={
            "help": "Start from a saved SLLM folder instead (e.g. a trained keep_interval=1 baseline for the "
            "two-stage recipe: its tower, head and classifier are loaded, the restoration module is new). Its config "
            "is kept except for the fields given here."
        },
    )
    create_tiny_random_clip: bool = field(
        default=False,
        metadata={"help": "Write a tiny random CLIP to `clip_model_name_or_path` if it is not there (offline demo)."},
    )
    tiny_clip_patch_size: int = field(
        default=4, metadata={"help": "Patch size of the tiny random CLIP (32x32 frames) of create_tiny_random_clip."}
    )
    num_frames: int | None = field(
        default=None, metadata={"help": "N: frames encoded per video (of N * keep_interval sampled)." + _FROM_CONFIG}
    )
    keep_interval: int | None = field(
        default=None, metadata={"help": "k: 1 kept frame in k (2 = paper, 1 = Text4Vis)." + _FROM_CONFIG}
    )
    restoration_mode: str | None = field(default=None, metadata={"help": "'paper' or 'residual'." + _FROM_CONFIG})
    restoration_num_layers: int | None = field(
        default=None, metadata={"help": "Depth of the restoration transformer." + _FROM_CONFIG}
    )
    temporal_head: str | None = field(default=None, metadata={"help": "'transformer' or 'mean'." + _FROM_CONFIG})
    temporal_num_layers: int | None = field(
        default=None, metadata={"help": "Depth of the temporal transformer." + _FROM_CONFIG}
    )
    restoration_loss: str | None = field(
        default=None, metadata={"help": f"One of {RESTORATION_LOSSES}." + _FROM_CONFIG}
    )
    restoration_loss_weight: float | None = field(
        default=None, metadata={"help": "lambda of the restoration loss." + _FROM_CONFIG}
    )
    restoration_loss_temperature: float | None = field(
        default=None, metadata={"help": "Temperature of 'kl_temperature'." + _FROM_CONFIG}
    )
    restoration_trained_by_head: bool | None = field(
        default=None,
        metadata={
            "help": "Let the classification loss train the restoration module (paper); false: only its own loss."
            + _FROM_CONFIG,
            **_OPTIONAL_FLAG,
        },
    )
    prompt_mode: str | None = field(
        default=None, metadata={"help": "'normal' (class name) or 'enhance' (+description)." + _FROM_CONFIG}
    )
    freeze_vision_tower: bool = field(
        default=False, metadata={"help": "Freeze the CLIP vision tower (the paper's frozen-encoder stage)."}
    )
    train_class_embeddings: bool | None = field(
        default=None, metadata={"help": "Train the class text features too." + _FROM_CONFIG, **_OPTIONAL_FLAG}
    )
    trust_remote_code: bool = field(default=False, metadata={"help": "For `model_name_or_path` from the Hub."})
    cache_dir: str | None = field(default=None, metadata={"help": "Cache of downloaded checkpoints."})
    model_revision: str = field(default="main", metadata={"help": "Revision of the checkpoints."})

    def config_overrides(self) -> dict:
        """The config fields given by the user (command line or YAML): `{name: value}`, nothing for `None`."""
        return {name: getattr(self, name) for name in CONFIG_FIELDS if getattr(self, name) is not None}


@dataclass
class SLLMTrainingArguments(TrainingArguments):
    """[`TrainingArguments`] with the paper's defaults (AdamW wd 0.2, lr 5e-5, cosine, 5/30 warm-up, seed 3407)."""

    vision_tower_lr_ratio: float = field(
        default=0.1, metadata={"help": "Learning rate of the vision tower and logit_scale, relative to learning_rate."}
    )
    learning_rate: float = field(default=5e-5, metadata={"help": "Learning rate of the new modules."})
    weight_decay: float = field(default=0.2, metadata={"help": "AdamW weight decay (all parameters)."})
    lr_scheduler_type: str = field(default="cosine", metadata={"help": "Learning-rate schedule."})
    warmup_steps: float = field(default=5 / 30, metadata={"help": "Warm-up steps, or a ratio in [0, 1)."})
    num_train_epochs: float = field(default=30.0, metadata={"help": "Epochs."})
    seed: int = field(default=3407, metadata={"help": "Random seed."})
    remove_unused_columns: bool = field(
        default=False, metadata={"help": "Must stay False: the video transform reads the `video` column."}
    )
    overwrite_output_dir: bool = field(
        default=False,
        metadata={
            "help": "Train into an output_dir that holds an earlier run's model or checkpoints, replacing them (its "
            "checkpoints are deleted when the training starts, its model and results when the new model is saved). "
            "Without it such an output_dir is refused (unless --resume_from_checkpoint continues that run)."
        },
    )
    release_eval_sampling: bool = field(
        default=False,
        metadata={
            "help": "Evaluate as the authors' release: TSN segment centres over M - 1 of a video's M frames (its "
            "VideoRecord.num_frames), and logits 100 * cos instead of exp(logit_scale) * cos (same top-1, other "
            "probabilities and loss). To compare with the release's numbers."
        },
    )
    run_pipeline_on: str | None = field(
        default=None,
        metadata={
            "help": "After training, classify this video (a path, an http(s) URL or `first_validation_video`) with "
            "pipeline('video-classification') from the saved output_dir and print the result; `none` or '' for no "
            "pipeline run."
        },
    )

    def __post_init__(self):
        super().__post_init__()
        check_report_to(self.report_to)
        if self.remove_unused_columns:
            raise ValueError("remove_unused_columns must be False: SLLM's video transform needs the `video` column.")
        if self.vision_tower_lr_ratio < 0:
            raise ValueError(f"vision_tower_lr_ratio must be >= 0, got {self.vision_tower_lr_ratio}.")
        # checked now, not after training: a wrong path would fail the run at its very end
        video = self.run_pipeline_on
        if video is not None and video.strip().lower() in ("", "none"):
            self.run_pipeline_on = None
        elif video not in (None, FIRST_VALIDATION_VIDEO) and not video.startswith(("http://", "https://")):
            if not os.path.exists(video):
                raise FileNotFoundError(
                    f"--run_pipeline_on {video!r}: no such video file or frame folder (give a path, an http(s) URL, "
                    "`first_validation_video`, or `none` for no pipeline run)."
                )


# --report_to integrations -> (modules, any of which provides it; the extra of sllm-hf that installs one)
REPORT_TO_EXTRAS = {"tensorboard": (("tensorboard", "tensorboardX"), "tensorboard"), "wandb": (("wandb",), "wandb")}


def check_report_to(report_to: list[str] | None) -> None:
    """
    Fails at start-up, not when the Trainer starts, when a `--report_to` integration is not installed; the error
    names the extra that installs it (`pip install "sllm-hf[tensorboard]"`).
    """
    for name in report_to or []:
        if name not in REPORT_TO_EXTRAS:
            continue
        modules, extra = REPORT_TO_EXTRAS[name]
        if all(importlib.util.find_spec(module) is None for module in modules):
            raise ImportError(
                f"--report_to {name} needs the {modules[0]} package, which is not installed: "
                f'pip install "sllm-hf[{extra}]" (or pip install {modules[0]}), or choose another --report_to '
                "(none, or an installed integration)."
            )

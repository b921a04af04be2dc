# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
Training glue for SLLM on top of the HF Trainer: arguments, YAML configs, model building, the paper's parameter
groups, and a Trainer that logs every restoration loss beside the classification loss.

Optimiser (METHOD.md): AdamW (betas 0.9/0.999, eps 1e-8, weight decay 0.2 on every parameter, as Text4Vis), learning
rate `learning_rate` for the new modules (restoration, temporal head, trainable class embeddings) and
`learning_rate * vision_tower_lr_ratio` (0.1) for the CLIP vision tower and `logit_scale`; cosine schedule with
warm-up. Every trainable parameter is in exactly one group (the authors' release forgot the restoration module);
frozen parameters are in none.
"""

import argparse
import os
import sys
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import torch
from transformers import HfArgumentParser, Trainer, TrainingArguments
from transformers.utils import logging

from modeling_sllm.evaluation.engine import set_zero_shot_classifier
from modeling_sllm.modeling_sllm import SLLMForVideoClassification, restoration_loss
from modeling_sllm.text_features import SLLMLabel


logger = logging.get_logger(__name__)

RESTORATION_LOSSES = ("kl", "kl_temperature", "mse", "normalized_mse", "cosine")


# --------------------------------------------------------------------------------------------------------------------
# Arguments


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
            "help": "Start from a saved SLLM folder instead (e.g. a trained keep_interval=1 baseline for the two-stage "
            "recipe: its tower, head and classifier are loaded, the restoration module is new)."
        },
    )
    create_tiny_random_clip: bool = field(
        default=False,
        metadata={"help": "Write a tiny random CLIP to `clip_model_name_or_path` if it is not there (offline demo)."},
    )
    tiny_clip_patch_size: int = field(
        default=4, metadata={"help": "Patch size of the tiny random CLIP (32x32 frames) of create_tiny_random_clip."}
    )
    num_frames: int = field(default=8, metadata={"help": "N: frames encoded per video."})
    keep_interval: int = field(default=2, metadata={"help": "k: 1 kept frame in k (2 = paper, 1 = Text4Vis)."})
    restoration_mode: str = field(default="paper", metadata={"help": "'paper' or 'residual'."})
    restoration_num_layers: int = field(default=3, metadata={"help": "Depth of the restoration transformer."})
    temporal_head: str = field(default="transformer", metadata={"help": "'transformer' or 'mean'."})
    temporal_num_layers: int = field(default=6, metadata={"help": "Depth of the temporal transformer."})
    restoration_loss: str = field(default="kl", metadata={"help": f"One of {RESTORATION_LOSSES}."})
    restoration_loss_weight: float = field(default=1.0, metadata={"help": "lambda of the restoration loss."})
    restoration_loss_temperature: float = field(default=0.1, metadata={"help": "Temperature of 'kl_temperature'."})
    restoration_trained_by_head: bool = field(
        default=True,
        metadata={"help": "Let the classification loss train the restoration module (paper); False: only its own loss."},
    )
    prompt_mode: str = field(default="normal", metadata={"help": "'normal' (class name) or 'enhance' (+description)."})
    freeze_vision_tower: bool = field(
        default=False, metadata={"help": "Freeze the CLIP vision tower (the paper's frozen-encoder stage)."}
    )
    train_class_embeddings: bool = field(default=False, metadata={"help": "Train the class text features too."})
    trust_remote_code: bool = field(default=False, metadata={"help": "For `model_name_or_path` from the Hub."})
    cache_dir: str | None = field(default=None, metadata={"help": "Cache of downloaded checkpoints."})
    model_revision: str = field(default="main", metadata={"help": "Revision of the checkpoints."})

    def config_overrides(self) -> dict:
        return {
            "num_frames": self.num_frames,
            "keep_interval": self.keep_interval,
            "restoration_mode": self.restoration_mode,
            "restoration_num_layers": self.restoration_num_layers,
            "temporal_head": self.temporal_head,
            "temporal_num_layers": self.temporal_num_layers,
            "restoration_loss": self.restoration_loss,
            "restoration_loss_weight": self.restoration_loss_weight,
            "restoration_loss_temperature": self.restoration_loss_temperature,
            "restoration_trained_by_head": self.restoration_trained_by_head,
            "train_class_embeddings": self.train_class_embeddings,
        }


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
    run_pipeline_on: str | None = field(
        default=None,
        metadata={
            "help": "After training, classify this video (or `first_validation_video`) with "
            "pipeline('video-classification') from the saved output_dir and print the result."
        },
    )

    def __post_init__(self):
        super().__post_init__()
        if self.remove_unused_columns:
            raise ValueError("remove_unused_columns must be False: SLLM's video transform needs the `video` column.")
        if self.vision_tower_lr_ratio < 0:
            raise ValueError(f"vision_tower_lr_ratio must be >= 0, got {self.vision_tower_lr_ratio}.")


def parse_args_with_yaml(parser: HfArgumentParser, args: list[str] | None = None):
    """
    Parses `parser`'s dataclasses from `--config file.yaml` (optional) and the command line: the YAML keys become the
    defaults and any `--key value` on the command line overrides them. Unknown YAML keys are an error naming them.
    """
    import yaml

    args = sys.argv[1:] if args is None else list(args)
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config", default=None)
    known, rest = pre.parse_known_args(args)
    if known.config is not None:
        if not os.path.isfile(known.config):
            raise FileNotFoundError(f"Config file {known.config!r} does not exist.")
        with open(known.config, encoding="utf-8") as handle:
            values = yaml.safe_load(handle) or {}
        if not isinstance(values, dict):
            raise ValueError(f"{known.config}: expected a mapping of argument names to values.")
        dests = {action.dest for action in parser._actions}
        unknown = sorted(set(values) - dests)
        if unknown:
            raise ValueError(f"{known.config}: unknown keys {unknown}.")
        parser.set_defaults(**values)
        # required fields given by the YAML are no longer required on the command line
        for action in parser._actions:
            if action.dest in values:
                action.required = False
    return parser.parse_args_into_dataclasses(args=rest, look_for_args_file=False)


# --------------------------------------------------------------------------------------------------------------------
# Model


def ensure_tiny_random_clip(path: str, patch_size: int = 4) -> str:
    """Writes a tiny random CLIP (offline demo, tests) to `path` unless a checkpoint is already there."""
    from modeling_sllm.demo.tiny_clip import save_tiny_random_clip

    if not os.path.isfile(os.path.join(path, "config.json")):
        logger.info(f"Writing a tiny random CLIP (32x32 frames, patch size {patch_size}) to {path}")
        save_tiny_random_clip(path, patch_size=patch_size)
    return path


def build_model(model_args: SLLMModelArguments, labels: list[SLLMLabel]) -> SLLMForVideoClassification:
    """
    The model to train for `labels`: `from_clip` of `clip_model_name_or_path`, or `model_name_or_path` (a saved
    SLLM folder) with the SLLM fields of `model_args` as config overrides. A saved model whose classes differ from
    `labels` gets new class text features from its `config.text_model_name_or_path`.
    """
    class_names = [label.name for label in labels]
    descriptions = [label.description for label in labels]
    if model_args.prompt_mode == "enhance" and any(description is None for description in descriptions):
        missing = [label.name for label in labels if label.description is None][:5]
        raise ValueError(f"prompt_mode='enhance' needs a description for every class; missing for {missing}.")
    hub_kwargs = {"cache_dir": model_args.cache_dir, "revision": model_args.model_revision}

    if model_args.model_name_or_path is None:
        if model_args.create_tiny_random_clip:
            ensure_tiny_random_clip(model_args.clip_model_name_or_path, model_args.tiny_clip_patch_size)
        model = SLLMForVideoClassification.from_clip(
            model_args.clip_model_name_or_path,
            class_names=class_names,
            descriptions=descriptions if model_args.prompt_mode == "enhance" else None,
            prompt_mode=model_args.prompt_mode,
            clip_kwargs=hub_kwargs,
            **model_args.config_overrides(),
        )
    else:
        model = SLLMForVideoClassification.from_pretrained(
            model_args.model_name_or_path,
            trust_remote_code=model_args.trust_remote_code,
            **hub_kwargs,
            **model_args.config_overrides(),
        )
        saved = [model.config.id2label[index] for index in range(model.config.num_labels)]
        if saved != class_names:
            text_model = getattr(model.config, "text_model_name_or_path", None)
            if text_model is None:
                raise ValueError(
                    f"{model_args.model_name_or_path} was trained on other classes ({saved[:5]}...) and its config "
                    "names no CLIP text model to encode the new ones (text_model_name_or_path)."
                )
            set_zero_shot_classifier(model, labels, text_model, model_args.prompt_mode, **hub_kwargs)
    if model_args.freeze_vision_tower:
        model.sllm.vision_tower.requires_grad_(False)
    return model


def build_param_groups(
    model: SLLMForVideoClassification, learning_rate: float, weight_decay: float, vision_tower_lr_ratio: float = 0.1
) -> list[dict]:
    """
    AdamW parameter groups of the paper: `{"params", "lr", "weight_decay", "names"}` for the new modules at
    `learning_rate` and for the vision tower + `logit_scale` at `learning_rate * vision_tower_lr_ratio`. Frozen
    parameters are left out; every trainable parameter is in exactly one group (checked).
    """
    slow_prefixes = ("sllm.vision_tower.", "logit_scale")
    groups = {"new": ([], []), "clip": ([], [])}
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        key = "clip" if name.startswith(slow_prefixes) else "new"
        groups[key][0].append(name)
        groups[key][1].append(parameter)
    result = []
    for key, lr in (("new", learning_rate), ("clip", learning_rate * vision_tower_lr_ratio)):
        names, params = groups[key]
        if params:
            result.append({"params": params, "lr": lr, "weight_decay": weight_decay, "names": names, "group": key})
    trainable = {id(p) for p in model.parameters() if p.requires_grad}
    grouped = [id(p) for group in result for p in group["params"]]
    if len(grouped) != len(set(grouped)) or set(grouped) != trainable:
        raise RuntimeError("Parameter groups do not hold every trainable parameter exactly once.")
    return result


# --------------------------------------------------------------------------------------------------------------------
# Trainer


class SLLMTrainer(Trainer):
    """
    Trainer with the paper's parameter groups, and the classification loss and every restoration loss
    (`restoration_loss_kl`, `..._mse`, ...; the one trained on is weighted into `loss`) averaged over the logging
    interval in the training logs.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._loss_sums: dict[str, float] = defaultdict(float)
        self._loss_count = 0

    def create_optimizer(self, model=None):
        if self.optimizer is None:
            opt_model = self.model if model is None else model
            ratio = getattr(self.args, "vision_tower_lr_ratio", 0.1)
            groups = build_param_groups(opt_model, self.args.learning_rate, self.args.weight_decay, ratio)
            for group in groups:
                logger.info(
                    f"Parameter group {group['group']!r}: {len(group['params'])} tensors "
                    f"({sum(p.numel() for p in group['params']):,} values), lr {group['lr']:g}"
                )
            groups = [{key: value for key, value in group.items() if key not in ("names", "group")} for group in groups]
            optimizer_cls, optimizer_kwargs = self.get_optimizer_cls_and_kwargs(self.args, opt_model)
            self.optimizer = optimizer_cls(groups, **optimizer_kwargs)
        return self.optimizer

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        outputs = model(**inputs)
        if outputs.loss is None:
            raise ValueError("The model returned no loss: the batch has no `labels`.")
        if model.training:
            with torch.no_grad():
                if outputs.classification_loss is not None:
                    self._loss_sums["classification_loss"] += outputs.classification_loss.item()
                if outputs.restored_embeds is not None and outputs.target_embeds is not None:
                    temperature = self.accelerator.unwrap_model(model).config.restoration_loss_temperature
                    for kind in RESTORATION_LOSSES:
                        value = restoration_loss(outputs.restored_embeds, outputs.target_embeds, kind, temperature)
                        self._loss_sums[f"restoration_loss_{kind}"] += value.item()
                self._loss_count += 1
        return (outputs.loss, outputs) if return_outputs else outputs.loss

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        if "loss" in logs and self._loss_count:
            for key, total in self._loss_sums.items():
                logs[key] = round(total / self._loss_count, 6)
            self._loss_sums.clear()
            self._loss_count = 0
        super().log(logs, start_time)


def compute_accuracy_metrics():
    """`compute_metrics` for the Trainer: top-1, top-5 and mean class accuracy through the shipped evaluate module."""
    from modeling_sllm.evaluation.metrics import load_sllm_accuracy

    metric = load_sllm_accuracy()

    def compute_metrics(eval_pred) -> dict[str, float]:
        logits = np.asarray(eval_pred.predictions[0] if isinstance(eval_pred.predictions, tuple) else eval_pred.predictions)
        labels = np.asarray(eval_pred.label_ids)
        results = metric.compute(predictions=logits.tolist(), references=labels.tolist())
        return {key: value for key, value in results.items() if isinstance(value, (int, float))}

    return compute_metrics


__all__ = [
    "SLLMModelArguments",
    "SLLMTrainingArguments",
    "SLLMTrainer",
    "build_model",
    "build_param_groups",
    "compute_accuracy_metrics",
    "ensure_tiny_random_clip",
    "parse_args_with_yaml",
]

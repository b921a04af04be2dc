# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
Training glue for SLLM on top of the HF Trainer: the model to train ([`build_model`]), the paper's parameter groups
([`build_param_groups`]), and a Trainer that uses them and logs every restoration loss beside the classification
loss.

Optimiser (METHOD.md): AdamW (betas 0.9/0.999, eps 1e-8, weight decay 0.2 on every parameter, as Text4Vis), learning
rate `learning_rate` for the new modules (restoration, temporal head, trainable class embeddings) and
`learning_rate * vision_tower_lr_ratio` (0.1) for the CLIP vision tower and `logit_scale`; cosine schedule with
warm-up. Every trainable parameter is in exactly one group (the authors' release forgot the restoration module);
frozen parameters are in none.

Checkpoints are written whole or not at all (`training.checkpoints.stage_checkpoint`: a staging folder renamed to
`checkpoint-N` once complete). With `release_eval_sampling`, evaluation logits are the release's `100 * cos` instead
of `exp(logit_scale) * cos` (same ranking, other probabilities and loss).
"""

import math
import os
from collections import defaultdict

import torch
from transformers import Trainer, TrainerCallback
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR
from transformers.utils import logging

from modeling_sllm.configuration_sllm import RESTORATION_LOSSES, SLLMConfig
from modeling_sllm.data.inputs import RELEASE_EVAL_LOGIT_SCALE, SLLMTrainingDataset
from modeling_sllm.modeling_sllm import SLLMForVideoClassification, restoration_loss
from modeling_sllm.text_features import SLLMLabel
from modeling_sllm.training.arguments import SLLMModelArguments
from modeling_sllm.training.checkpoints import rotate_checkpoints, stage_checkpoint


logger = logging.get_logger(__name__)

# The authors' release multiplies the cosine similarities by this fixed number at evaluation (METHOD.md).


# --------------------------------------------------------------------------------------------------------------------
# Model


def build_model(model_args: SLLMModelArguments, labels: list[SLLMLabel]) -> SLLMForVideoClassification:
    """
    The model to train for `labels`, its config made of the fields the user gave (`model_args.config_overrides()`)
    over:

    - a new model (`from_clip` of `clip_model_name_or_path`): [`SLLMConfig`]'s defaults;
    - a saved SLLM (`model_name_or_path`): its saved config (e.g. a saved `temporal_num_layers=1` stays 1 unless
      `--temporal_num_layers` is given).

    A saved model whose classes differ from `labels` (or whose `prompt_mode` is changed) gets new class text features
    from its `config.text_model_name_or_path`.
    """
    from modeling_sllm.evaluation.zero_shot import set_zero_shot_classifier

    class_names = [label.name for label in labels]
    descriptions = [label.description for label in labels]
    overrides = model_args.config_overrides()
    hub_kwargs = {"cache_dir": model_args.cache_dir, "revision": model_args.model_revision}

    if model_args.model_name_or_path is None:
        _check_descriptions(labels, overrides.get("prompt_mode", SLLMConfig.prompt_mode))
        model = SLLMForVideoClassification.from_clip(
            model_args.clip_model_name_or_path,
            class_names=class_names,
            descriptions=descriptions,
            clip_kwargs=hub_kwargs,
            **overrides,  # prompt_mode included
        )
    else:
        saved = SLLMConfig.from_pretrained(model_args.model_name_or_path, **hub_kwargs)
        # rebuilt (not patched) so that the config checks its fields again
        config = SLLMConfig.from_dict({**saved.to_dict(), **overrides})
        model = SLLMForVideoClassification.from_pretrained(
            model_args.model_name_or_path, config=config, trust_remote_code=model_args.trust_remote_code, **hub_kwargs
        )
        saved_classes = [saved.id2label[index] for index in range(saved.num_labels)]
        if saved_classes != class_names or config.prompt_mode != saved.prompt_mode:
            if config.text_model_name_or_path is None:
                raise ValueError(
                    f"{model_args.model_name_or_path} was trained on other classes ({saved_classes[:5]}...) or "
                    "prompts and its config names no CLIP text model to encode the new ones (text_model_name_or_path)."
                )
            _check_descriptions(labels, config.prompt_mode)
            set_zero_shot_classifier(model, labels, config.text_model_name_or_path, config.prompt_mode, **hub_kwargs)
    if model_args.freeze_vision_tower:
        model.sllm.vision_tower.requires_grad_(False)
    return model


def _check_descriptions(labels: list[SLLMLabel], prompt_mode: str) -> None:
    if prompt_mode == "enhance" and any(label.description is None for label in labels):
        missing = [label.name for label in labels if label.description is None][:5]
        raise ValueError(f"prompt_mode='enhance' needs a description for every class; missing for {missing}.")


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


class SLLMEpochCallback(TrainerCallback):
    """
    Gives the training dataset the epoch of its random clips ([`SLLMTrainingDataset.set_epoch`]) at the start of every
    epoch, before the epoch's DataLoader iterator is made. The epoch is `floor(state.epoch)`: 0 at the start, the
    epoch number after a finished epoch, and the resumed epoch after loading a checkpoint (the Trainer's
    `epochs_trained`).
    """

    def __init__(self, dataset: SLLMTrainingDataset):
        self.dataset = dataset

    def on_epoch_begin(self, args, state, control, **kwargs):
        self.dataset.set_epoch(math.floor(state.epoch or 0))


class SLLMTrainer(Trainer):
    """
    Trainer with the paper's parameter groups, and the classification loss and every restoration loss
    (`restoration_loss_kl`, `..._mse`, ...; the one trained on is weighted into `loss`) averaged over the logging
    interval in the training logs. Checkpoints are written atomically (see [`_save_checkpoint`]); with
    `args.release_eval_sampling` the evaluation logits are the release's (`100 * cos`).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._loss_sums: dict[str, float] = defaultdict(float)
        self._loss_count = 0
        if isinstance(self.train_dataset, SLLMTrainingDataset):
            self.add_callback(SLLMEpochCallback(self.train_dataset))

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
            groups = [
                {key: value for key, value in group.items() if key not in ("names", "group")} for group in groups
            ]
            optimizer_cls, optimizer_kwargs = self.get_optimizer_cls_and_kwargs(self.args, opt_model)
            self.optimizer = optimizer_cls(groups, **optimizer_kwargs)
        return self.optimizer

    def _save_checkpoint(self, model, trial) -> None:
        """
        The Trainer's checkpoint, written into `output_dir/.tmp-checkpoint-N/checkpoint-N` by every process and
        renamed to `output_dir/checkpoint-N` once complete and flushed (`checkpoints.stage_checkpoint`): a kill
        never leaves a half-written `checkpoint-N`. The best-checkpoint path and the rotation
        (`save_total_limit`) refer to the final folders.
        """
        run_dir = self._get_output_dir(trial=trial)
        name = f"{PREFIX_CHECKPOINT_DIR}-{self.state.global_step}"
        final = os.path.join(run_dir, name)
        with stage_checkpoint(
            run_dir,
            self.state.global_step,
            is_main_process=self.args.should_save,
            wait_for_everyone=self.accelerator.wait_for_everyone,
        ) as staging:
            staged = os.path.join(staging, name)
            self._get_output_dir = lambda trial=None: staging  # where the Trainer writes `checkpoint-N`
            try:
                super()._save_checkpoint(model, trial)
            finally:
                del self._get_output_dir
            if self.state.best_model_checkpoint == staged:
                self.state.best_model_checkpoint = final
                if self.args.should_save:
                    self.state.save_to_json(os.path.join(staged, "trainer_state.json"))
        if self.args.should_save:  # the Trainer rotated the staging folder (this checkpoint only): rotate the real one
            rotate_checkpoints(run_dir, self.args.save_total_limit, self.state.best_model_checkpoint)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        outputs = model(**inputs)
        if outputs.loss is None:
            raise ValueError("The model returned no loss: the batch has no `labels`.")
        if not model.training and getattr(self.args, "release_eval_sampling", False):
            outputs = self._release_eval_outputs(model, outputs, inputs["labels"])
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

    def _release_eval_outputs(self, model, outputs, labels):
        """The release's evaluation logits `100 * cos(video, class)` (instead of `exp(logit_scale) * cos`) and their
        cross-entropy as the classification part of the loss."""
        scale = self.accelerator.unwrap_model(model).logit_scale.detach().exp()
        logits = outputs.logits * (RELEASE_EVAL_LOGIT_SCALE / scale)
        classification_loss = torch.nn.functional.cross_entropy(logits.float(), labels)
        other = outputs.loss - outputs.classification_loss if outputs.classification_loss is not None else 0.0
        outputs["logits"], outputs["classification_loss"] = logits, classification_loss
        outputs["loss"] = classification_loss + other
        return outputs

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        if "loss" in logs and self._loss_count:
            for key, total in self._loss_sums.items():
                logs[key] = round(total / self._loss_count, 6)
            self._loss_sums.clear()
            self._loss_count = 0
        super().log(logs, start_time)


__all__ = ["SLLMEpochCallback", "SLLMTrainer", "build_model", "build_param_groups"]

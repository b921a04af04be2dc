# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
The model card that `scripts/train.py` writes into `output_dir` at the end of training, and what it is built from.

[`SLLMTrainingReport`] records what the run did (base model, data, recipe, the held-out results, licence) as
`training_report.json` beside the weights; [`build_model_card`] turns it into the card's Training section, and
`scripts/push_to_hub.py` rebuilds the same card from the folder later. [`SLLMCardArguments`] are the card's own
command-line arguments (`--license`); [`resolve_training_license`] settles the licence when training starts, so that a
run that will be pushed fails in its first second rather than after hours of training.
"""

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from transformers.utils import logging

from modeling_sllm.evaluation.results import SLLMDatasetInfo, SLLMResults

from .hub_folder import SLLMHubError, write_text_atomically
from .licenses import SLLMLicenseError, base_model_license, check_license_id, missing_license_message
from .naming import is_repo_id, local_dataset_name, looks_like_dataset_id, looks_like_hub_model_id


__all__ = [
    "TRAINING_REPORT_NAME",
    "SLLMCardArguments",
    "SLLMTrainingReport",
    "resolve_training_license",
    "run_base_model",
    "run_dataset_info",
    "write_training_card",
]

logger = logging.get_logger(__name__)

TRAINING_REPORT_NAME = "training_report.json"
# evaluation datasets no path names (e.g. data/videos + data/val.txt)
UNNAMED_DATASET = "custom"


@dataclass
class SLLMCardArguments:
    """The model card written into output_dir (README.md) at the end of training."""

    license: str | None = field(
        default=None,
        metadata={
            "help": "Licence of the trained model, a Hub licence id ('mit', 'apache-2.0', ...). Default: the base "
            "CLIP checkpoint's when it is known (not the case for openai/clip-vit-*). Required with --push_to_hub "
            "otherwise (checked at start-up); without it the local card has no licence and push_to_hub.py "
            "refuses it until one is given."
        },
    )


@dataclass
class SLLMTrainingReport:
    """
    What a training run did, saved as `training_report.json` beside the model (read back by the model card).

    Attributes:
        base_model (`str`, *optional*): Hub id of the checkpoint the model was fine-tuned from.
        license (`str`, *optional*): the licence chosen for the model (`None`: not chosen yet).
        started_from (`str`, *optional*): the saved SLLM model training continued from (`model_name_or_path`).
        train_dataset (`dict`): [`SLLMDatasetInfo`] of the training videos.
        hub_datasets (`list[str]`): Hub dataset ids of the run (the card's `datasets:`), empty for local data.
        recipe (`dict`): optimisation and sampling settings (epochs, steps, optimiser, learning rates, schedule,
            batch size, devices, precision, seed, augmentation, restoration loss).
        evaluation (`dict`, *optional*): the held-out results of the run ([`SLLMResults`] as a dict).
        versions (`dict`): library versions of the run.
    """

    base_model: str | None = None
    license: str | None = None
    started_from: str | None = None
    train_dataset: dict | None = None
    hub_datasets: list = field(default_factory=list)
    recipe: dict = field(default_factory=dict)
    evaluation: dict | None = None
    versions: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    def save(self, folder: str | os.PathLike) -> str:
        """Writes `training_report.json` into `folder` atomically and returns its path."""
        path = os.path.join(os.fspath(folder), TRAINING_REPORT_NAME)
        write_text_atomically(path, json.dumps(self.to_dict(), indent=2) + "\n")
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "SLLMTrainingReport":
        """
        Reads a `training_report.json` (a file, or a folder holding one).

        Raises:
            `ValueError` naming the file for invalid JSON, unknown fields or results that do not fit the schema.
        """
        path = os.fspath(path)
        if os.path.isdir(path):
            path = os.path.join(path, TRAINING_REPORT_NAME)
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise ValueError(f"Training report {path!r} is not valid JSON: {error}.") from None
        if not isinstance(data, dict):
            raise ValueError(f"Training report {path!r}: expected a JSON object.")
        unknown = sorted(set(data) - {item.name for item in fields(cls)})
        if unknown:
            raise ValueError(f"Training report {path!r}: unknown fields {unknown}.")
        report = cls(**data)
        if report.evaluation is not None:
            SLLMResults.from_dict(report.evaluation, f"{path} (evaluation)")  # checked now, not when the card is built
        return report

    @property
    def results(self) -> SLLMResults | None:
        return SLLMResults.from_dict(self.evaluation, TRAINING_REPORT_NAME) if self.evaluation else None


def run_base_model(model_args) -> str | None:
    """
    The Hub id the run fine-tunes: the saved SLLM model it continues (`model_name_or_path`) when that is a Hub id,
    else the CLIP checkpoint (`clip_model_name_or_path`) when it is one; `None` for local folders.
    """
    for name in (model_args.model_name_or_path, model_args.clip_model_name_or_path):
        if name and looks_like_hub_model_id(name):
            return name
    return None


def resolve_training_license(
    card_args: SLLMCardArguments, model_args, push_to_hub: bool = False, hub_model_id: str | None = None
) -> str | None:
    """
    Settles, when training starts, what the model card and the upload need: the licence (`--license`, else the base
    model's when it is known) and, with `push_to_hub`, an `org/name` repository id. With `push_to_hub` a missing
    licence is an error now (naming `--license`), not after hours of training; without it a warning says that the
    local card gets no licence.

    Returns:
        The licence id, or `None`.
    """
    if push_to_hub and not is_repo_id(hub_model_id):
        raise SLLMHubError(f"--push_to_hub needs --hub_model_id org/name, got {hub_model_id!r}.")
    license = check_license_id(card_args.license)
    base_model = run_base_model(model_args)
    if license is None:
        license = base_model_license(base_model)
        if license is not None:
            logger.info(f"Model card licence: {license!r}, declared by the base model {base_model}.")
    if license is None:
        message = missing_license_message(base_model)
        if push_to_hub:
            raise SLLMLicenseError(message + " (--push_to_hub is set: checked before training starts.)")
        logger.warning(message + " The model card in output_dir gets no licence until you give one.")
    return license


def run_dataset_info(data_args, split: str, num_videos: int | None, num_classes: int | None) -> SLLMDatasetInfo:
    """
    The dataset of one split of the run, for the card: a Hub `dataset_name` as is; local data by the name of its
    folder (`data_root`, the split's videofolder tree or annotation list: `data/hmdb51/validation.txt` is
    `hmdb51`, never `validation.txt`); [`UNNAMED_DATASET`] when no path names one.
    """
    dataset_name = data_args.dataset_name
    if dataset_name and not os.path.exists(dataset_name):
        name = dataset_name
        split_name = data_args.validation_split if split == "validation" else data_args.train_split
        config = data_args.dataset_config_name
    else:
        split_dir = data_args.validation_dir if split == "validation" else data_args.train_dir
        split_list = data_args.validation_list if split == "validation" else data_args.train_list
        name = local_dataset_name(dataset_name, data_args.data_root, split_dir, split_list) or UNNAMED_DATASET
        split_name, config = split, None
    return SLLMDatasetInfo(name=name, split=split_name, config=config, num_videos=num_videos, num_classes=num_classes)


def _precision(args) -> str:
    return "bf16 mixed precision" if args.bf16 else "fp16 mixed precision" if args.fp16 else "fp32"


def _recipe(trainer, model_args, data_args) -> dict:
    args, state, config = trainer.args, trainer.state, trainer.model.config
    optim = getattr(args.optim, "value", args.optim)
    return {
        "num_frames": config.num_frames,
        "keep_interval": config.keep_interval,
        "num_sampled_frames": config.num_sampled_frames,
        "epochs": round(float(state.epoch if state.epoch is not None else args.num_train_epochs), 2),
        "steps": int(state.global_step),
        "train_batch_size": args.per_device_train_batch_size * args.gradient_accumulation_steps * args.world_size,
        "num_devices": args.world_size,
        "optimizer": str(optim),
        "adam_betas": [args.adam_beta1, args.adam_beta2],
        "adam_epsilon": args.adam_epsilon,
        "weight_decay": args.weight_decay,
        "learning_rate": args.learning_rate,
        "vision_tower_lr_ratio": getattr(args, "vision_tower_lr_ratio", 1.0),
        "freeze_vision_tower": bool(model_args.freeze_vision_tower),
        "lr_scheduler_type": str(getattr(args.lr_scheduler_type, "value", args.lr_scheduler_type)),
        "warmup_steps": args.warmup_steps,
        "precision": _precision(args),
        "seed": args.seed,
        "restoration_loss": config.restoration_loss if config.keep_interval > 1 else None,
        "restoration_loss_weight": config.restoration_loss_weight if config.keep_interval > 1 else None,
        "augmentation": {
            "multiscale_crop": data_args.multiscale_crop,
            "flip_prob": data_args.flip_prob,
            "color_jitter_prob": data_args.color_jitter_prob,
            "grayscale_prob": data_args.grayscale_prob,
        },
    }


def _versions() -> dict:
    import torch
    import transformers

    from modeling_sllm import __version__ as sllm_version

    return {"sllm-hf": sllm_version, "transformers": transformers.__version__, "torch": torch.__version__}


def _num_rows(dataset) -> int | None:
    """Rows of a dataset; `None` for a stream (`--streaming`), whose length is unknown."""
    try:
        return len(dataset)
    except TypeError:
        return None


def write_training_card(trainer, model_args, data_args, data, results: dict, license: str | None = None):
    """
    Writes `training_report.json` and the model card `README.md` into the trainer's `output_dir` (both atomically),
    after the model is saved there. Call it on the main process only.

    Args:
        trainer: the run's trainer (its args, state and model).
        model_args, data_args: the run's `SLLMModelArguments` and `SLLMDataArguments`.
        data: the run's `SLLMVideoData` (datasets and labels).
        results (`dict`): the run's metrics; its `eval_*` entries become the card's results.
        license (`str`, *optional*): from [`resolve_training_license`] at start-up (`None`: the card has none).

    Returns:
        The `huggingface_hub.ModelCard` written.
    """
    from .model_card import build_model_card, save_model_card

    args = trainer.args
    num_classes = len(data.labels)
    evaluation = None
    if "eval_top1" in results and "validation" in data.datasets:
        num_videos = _num_rows(data.datasets["validation"])
        dataset = run_dataset_info(data_args, "validation", num_videos, num_classes)
        eval_metrics = {key: value for key, value in results.items() if key.startswith("eval_")}
        model = args.hub_model_id or os.path.basename(os.path.normpath(args.output_dir))
        evaluation = SLLMResults.from_trainer_metrics(eval_metrics, dataset, model=model).to_dict()
    train_dataset = None
    if "train" in data.datasets:
        num_videos = _num_rows(data.datasets["train"])
        train_dataset = run_dataset_info(data_args, "train", num_videos, num_classes).to_dict()
    hub_dataset = data_args.dataset_name
    report = SLLMTrainingReport(
        base_model=run_base_model(model_args),
        license=check_license_id(license),
        started_from=model_args.model_name_or_path,
        train_dataset=train_dataset,
        hub_datasets=[hub_dataset] if hub_dataset and looks_like_dataset_id(hub_dataset) else [],
        recipe=_recipe(trainer, model_args, data_args),
        evaluation=evaluation,
        versions=_versions(),
    )
    report.save(args.output_dir)
    card = build_model_card(args.output_dir, repo_id=args.hub_model_id if is_repo_id(args.hub_model_id) else None)
    path = save_model_card(card, os.path.join(args.output_dir, "README.md"))
    logger.info(f"Model card written to {path}" + ("" if license else " (no licence: see --license)"))
    return card

# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
Fine-tune SLLM for video classification with the HF Trainer (one CPU, one GPU, or many through `accelerate launch`).

    sllm-train --config configs/hmdb51.yaml [--any_argument value ...]      (or: python scripts/train.py ...)
    accelerate launch --num_processes 2 scripts/train.py --config configs/ucf101.yaml

Arguments are the fields of `SLLMModelArguments`, `SLLMDataArguments` and `SLLMTrainingArguments` (a
`TrainingArguments` with the paper's defaults); `--config` reads them from a YAML file and the command line overrides
it. The model's config is the single source of truth: only the config fields given here change it. At the end the
best (or last) model, its video processor and label mapping are saved together in `output_dir`, ready for
`pipeline("video-classification", model=output_dir)`.

Nothing is lost (`training.outputs`, `training.checkpoints`): an `output_dir` holding an earlier run's model or
checkpoints is refused unless the run resumes it (`--resume_from_checkpoint latest`: the newest complete checkpoint)
or replaces it (`--overwrite_output_dir`); checkpoints and the final model are written beside their place and renamed
into it whole, so a kill leaves the old model or the new one; result files hold this run's numbers only. A resumed
run equals an uninterrupted one: each clip's random draws depend only on (seed, epoch, index).
"""

import json
import logging
import os
import sys

import datasets
import transformers
from transformers import pipeline

from modeling_sllm import SLLMVideoProcessor
from modeling_sllm.data.arguments import SLLMDataArguments
from modeling_sllm.data.inputs import SLLMTrainingDataset, SLLMVideoTransform, sllm_collate_fn
from modeling_sllm.data.sources import load_video_datasets
from modeling_sllm.data.streaming import streaming_inputs
from modeling_sllm.demo.data import prepare_demo_data
from modeling_sllm.demo.tiny_clip import save_tiny_random_clip
from modeling_sllm.evaluation.metrics import compute_accuracy_metrics
from modeling_sllm.publishing.training_card import SLLMCardArguments, resolve_training_license, write_training_card
from modeling_sllm.cli.parsing import parse_args_with_yaml
from modeling_sllm.training.arguments import FIRST_VALIDATION_VIDEO, SLLMModelArguments, SLLMTrainingArguments
from modeling_sllm.training.checkpoints import remove_stale_staging, resolve_resume_checkpoint
from modeling_sllm.training.launch import check_launch, lock_output_dir, managed_run
from modeling_sllm.training.outputs import (
    SLLMOutputDirError,
    check_output_dir,
    recover_interrupted_swap,
    remove_previous_checkpoints,
    staged_output_dir,
    write_json_atomically,
)
from modeling_sllm.training.trainer import SLLMTrainer, build_model


logger = logging.getLogger(__name__)

DESCRIPTION = """\
Fine-tune an SLLM video classifier with the Hugging Face Trainer (one CPU or GPU, or many through `accelerate
launch`): a CLIP vision tower encodes one of every keep_interval sampled frames, a small transformer restores the
features of the skipped ones, and a temporal head matches the video with CLIP text features of the class names. At the
end output_dir holds the model, its video processor, the label mapping and a model card (README.md), ready for
pipeline("video-classification"). `--config file.yaml` gives any option below from YAML; the command line overrides
it."""

EXAMPLES = """\
examples:
  python scripts/train.py --config configs/demo.yaml
  python scripts/train.py --config configs/hmdb51.yaml --license mit --push_to_hub --hub_model_id org/sllm-hmdb51
  accelerate launch --num_processes 2 scripts/train.py --config configs/ucf101.yaml"""


@managed_run  # launcher checks before; locks released and process group destroyed after
def main(args: list[str] | None = None) -> dict:
    """Runs a training (and evaluation) as the command line `args` say; returns the metrics (and pipeline output)."""
    # 1. Arguments: the YAML file of --config, overridden by the command line
    parser = transformers.HfArgumentParser(
        (SLLMModelArguments, SLLMDataArguments, SLLMTrainingArguments, SLLMCardArguments),
        description=DESCRIPTION,
        epilog=EXAMPLES,
    )
    model_args, data_args, training_args, card_args = parse_args_with_yaml(parser, args)
    check_launch(training_args)  # as many processes as the launcher started, in one process group
    lock_output_dir(training_args)  # one run per output_dir until the end

    # 2. Logging
    setup_logging(training_args)
    logger.warning(
        f"Process rank {training_args.process_index}, device {training_args.device}, n_gpu {training_args.n_gpu}, "
        f"distributed {training_args.parallel_mode.value != 'not_parallel'}, fp16 {training_args.fp16}, "
        f"bf16 {training_args.bf16}"
    )
    logger.info(f"Training arguments {training_args}")
    # The upload happens once at the end through modeling_sllm.publishing (folder checks, model card with the
    # results, the modeling code for trust_remote_code): the Trainer must not create or push to the repository.
    push_to_hub, training_args.push_to_hub = training_args.push_to_hub, False
    if push_to_hub and not training_args.hub_model_id:
        raise ValueError("--push_to_hub needs --hub_model_id org/name.")
    card_license = resolve_training_license(card_args, model_args, push_to_hub, training_args.hub_model_id)

    # Output folder: finish a final save a kill interrupted; refuse to replace an earlier run by accident (nothing
    # is changed); find the checkpoint to resume from (the newest complete one for `latest`)
    output_dir = training_args.output_dir
    if training_args.should_save:
        recover_interrupted_swap(output_dir)
    check_output_dir(
        output_dir,
        do_train=training_args.do_train,
        resume_from_checkpoint=training_args.resume_from_checkpoint,
        overwrite_output_dir=training_args.overwrite_output_dir,
        model_name_or_path=model_args.model_name_or_path,
    )
    checkpoint = None
    if training_args.do_train:
        checkpoint = resolve_resume_checkpoint(
            training_args.resume_from_checkpoint, output_dir, world_size=training_args.world_size
        )

    # 3. Data: rows of videos and labels, checked before training (the demo videos are written by the main process
    # only; the others wait and reuse them)
    if data_args.generate_demo_data:
        with training_args.main_process_first(desc="demo data"):
            prepare_demo_data(data_args)
    with training_args.main_process_first(desc="dataset checks"):
        data = load_video_datasets(data_args, training_args)  # --streaming: the training split is a stream
    if training_args.do_train and "train" not in data.datasets:
        raise ValueError("--do_train needs training videos (train_list, train_dir or dataset_name).")
    if training_args.do_eval and "validation" not in data.datasets:
        raise ValueError("--do_eval needs validation videos (validation_list, validation_dir or dataset_name).")

    # 4. Model and its video processor (both from the model's config). Seeded here, so that the new layers'
    # initialisation depends on --seed alone, not on what ran before (a first run that writes the demo data and the
    # tiny CLIP and a rerun that reuses them train the same model)
    transformers.set_seed(training_args.seed)
    with training_args.main_process_first(desc="model"):
        clip_path = model_args.clip_model_name_or_path
        if model_args.create_tiny_random_clip and not os.path.isfile(os.path.join(clip_path, "config.json")):
            logger.info(f"Writing a tiny random CLIP (patch size {model_args.tiny_clip_patch_size}) to {clip_path}")
            save_tiny_random_clip(clip_path, patch_size=model_args.tiny_clip_patch_size)
        model = build_model(model_args, data.labels)
    config = model.config
    video_processor = SLLMVideoProcessor.from_model_config(config)
    num_trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    logger.info(
        f"SLLM: {config.num_frames} frames encoded, keep 1 in {config.keep_interval}, {config.num_labels} classes, "
        f"{num_trainable:,} trainable parameters"
    )

    # 5. Rows -> model inputs: training decodes a random clip and augments it once; evaluation is the processor
    # (each training clip's random draws depend only on (seed, epoch, index): SLLMTrainingDataset)
    train_dataset = None
    if "train" in data.datasets:
        train_transform = SLLMVideoTransform.for_model(
            config, data_args, training=True, seed=training_args.seed, processor=video_processor
        )
        if isinstance(data.datasets["train"], datasets.Dataset):
            train_dataset = SLLMTrainingDataset(data.datasets["train"], train_transform)
        elif isinstance(data.datasets["train"], datasets.IterableDataset):  # --streaming: this process's share
            train_dataset = streaming_inputs(
                data.datasets["train"], train_transform, data.labels, data_args, training_args
            )
        else:
            data.datasets["train"].set_transform(train_transform)
            train_dataset = data.datasets["train"]
    if "validation" in data.datasets:
        if data_args.num_clips * data_args.num_crops > 1:
            logger.warning("Evaluation during training is single-view; use sllm-eval for multi-view testing.")
        data.datasets["validation"].set_transform(
            SLLMVideoTransform.for_model(
                config,
                data_args,
                training=False,
                processor=video_processor,
                release_eval_sampling=training_args.release_eval_sampling,
            )
        )

    # 6. Trainer
    trainer = SLLMTrainer(
        model=model,
        args=training_args,
        train_dataset=train_dataset if training_args.do_train else None,
        eval_dataset=data.datasets.get("validation") if training_args.do_eval else None,
        data_collator=sllm_collate_fn,
        compute_metrics=compute_accuracy_metrics(),
        processing_class=video_processor,
    )

    # 7. Training; the final model (best model when load_best_model_at_end) with its video processor, label
    # mapping, trainer state and this run's results is written beside output_dir and swapped into place whole
    results, all_results = {}, {}
    if training_args.do_train:
        if training_args.should_save:
            remove_stale_staging(output_dir)
            if training_args.overwrite_output_dir and checkpoint is None:
                remove_previous_checkpoints(output_dir)
        trainer.accelerator.wait_for_everyone()
        train_result = trainer.train(resume_from_checkpoint=checkpoint)
        trainer.log_metrics("train", train_result.metrics)
        all_results.update(train_result.metrics)
        with staged_output_dir(
            output_dir,
            is_main_process=training_args.should_save,
            wait_for_everyone=trainer.accelerator.wait_for_everyone,
        ) as staging:
            trainer.save_model(staging)
            if training_args.should_save:
                trainer.state.save_to_json(os.path.join(staging, "trainer_state.json"))
                write_json_atomically(os.path.join(staging, "train_results.json"), train_result.metrics)
                write_json_atomically(os.path.join(staging, "all_results.json"), all_results)
        results.update({f"train_{k}" if not k.startswith("train") else k: v for k, v in train_result.metrics.items()})

    # 8. Evaluation (single view); its results files hold this run's numbers only (never merged with older files)
    if training_args.do_eval:
        metrics = trainer.evaluate()
        trainer.log_metrics("eval", metrics)
        all_results.update(metrics)
        if training_args.should_save:
            os.makedirs(output_dir, exist_ok=True)
            write_json_atomically(os.path.join(output_dir, "eval_results.json"), metrics)
            write_json_atomically(os.path.join(output_dir, "all_results.json"), all_results)
        results.update(metrics)
        if trainer.is_world_process_zero():
            chance = 1.0 / config.num_labels
            print(
                f"\nHeld-out top-1: {metrics['eval_top1']:.1%} on {len(data.datasets['validation'])} videos "
                f"(chance {chance:.1%}, {config.num_labels} classes)"
            )

    # 9. The saved folder through the pipeline, and the upload
    if training_args.run_pipeline_on and trainer.is_world_process_zero():
        video = training_args.run_pipeline_on
        if video == FIRST_VALIDATION_VIDEO:
            row = data.datasets["validation"].with_format(None)[0]
            video, true_label = row["video"], config.id2label[row["label"]]
            print(f"\nClassifying {video} (true class: {true_label}) with pipeline('video-classification')")
        classifier = pipeline("video-classification", model=training_args.output_dir)
        predictions = classifier(video, top_k=3)
        print(f"pipeline('video-classification') on {video}: {json.dumps(predictions)}")
        results["pipeline_predictions"] = predictions

    if training_args.do_train and trainer.is_world_process_zero():  # the model card (README.md) beside the model
        write_training_card(trainer, model_args, data_args, data, results, license=card_license)
    if push_to_hub and trainer.is_world_process_zero():
        results["hub_commit"] = push_trained_model(training_args, data_args, data, results)
    return results


def setup_logging(training_args: SLLMTrainingArguments) -> None:
    logging.basicConfig(
        format="%(asctime)s - %(levelname)s - %(name)s - %(message)s",
        datefmt="%m/%d/%Y %H:%M:%S",
        handlers=[logging.StreamHandler(sys.stdout)],
    )
    log_level = training_args.get_process_log_level()
    logger.setLevel(log_level)
    datasets.utils.logging.set_verbosity(log_level)
    transformers.utils.logging.set_verbosity(log_level)
    transformers.utils.logging.enable_default_handler()
    transformers.utils.logging.enable_explicit_format()


def push_trained_model(training_args, data_args, data, results: dict):
    """Uploads `output_dir` to `hub_model_id` with the model card written by `write_training_card` (README.md)."""
    from modeling_sllm.publishing.upload import push_to_hub

    return push_to_hub(
        training_args.output_dir,
        training_args.hub_model_id,
        token=training_args.hub_token,
        private=bool(training_args.hub_private_repo),
        commit_message="SLLM fine-tuned with sllm-train",
    )


def cli() -> None:
    """Console-script entry point: runs [`main`] on the command line's arguments (its return value is for Python
    callers). An output folder that would be replaced by accident stops it with the message and exit code 2."""
    try:
        main()
    except SLLMOutputDirError as error:
        print(f"sllm-train: error: {error}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    cli()

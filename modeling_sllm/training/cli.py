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
"""

import json
import logging
import os
import sys

import datasets
import transformers
from transformers import pipeline
from transformers.trainer_utils import get_last_checkpoint

from modeling_sllm import SLLMVideoProcessor
from modeling_sllm.data.arguments import SLLMDataArguments
from modeling_sllm.data.inputs import SLLMVideoTransform, sllm_collate_fn
from modeling_sllm.data.sources import load_video_datasets
from modeling_sllm.demo.data import prepare_demo_data
from modeling_sllm.demo.tiny_clip import save_tiny_random_clip
from modeling_sllm.evaluation.metrics import compute_accuracy_metrics
from modeling_sllm.evaluation.results import SLLMDatasetInfo, SLLMResults
from modeling_sllm.training.arguments import SLLMModelArguments, SLLMTrainingArguments, parse_args_with_yaml
from modeling_sllm.training.trainer import SLLMTrainer, build_model


logger = logging.getLogger(__name__)


def main(args: list[str] | None = None) -> dict:
    """Runs a training (and evaluation) as the command line `args` say; returns the metrics (and pipeline output)."""
    # 1. Arguments: the YAML file of --config, overridden by the command line
    parser = transformers.HfArgumentParser((SLLMModelArguments, SLLMDataArguments, SLLMTrainingArguments))
    model_args, data_args, training_args = parse_args_with_yaml(parser, args)

    # 2. Logging and seed
    setup_logging(training_args)
    logger.warning(
        f"Process rank {training_args.process_index}, device {training_args.device}, n_gpu {training_args.n_gpu}, "
        f"distributed {training_args.parallel_mode.value != 'not_parallel'}, fp16 {training_args.fp16}, "
        f"bf16 {training_args.bf16}"
    )
    logger.info(f"Training arguments {training_args}")
    transformers.set_seed(training_args.seed)
    # The upload happens once at the end through modeling_sllm.publishing (folder checks, model card with the
    # results, the modeling code for trust_remote_code): the Trainer must not create or push to the repository.
    push_to_hub, training_args.push_to_hub = training_args.push_to_hub, False
    if push_to_hub and not training_args.hub_model_id:
        raise ValueError("--push_to_hub needs --hub_model_id org/name.")

    # 3. Data: rows of videos and labels, checked before training (the demo videos are written by the main process
    # only; the others wait and reuse them)
    if data_args.generate_demo_data:
        with training_args.main_process_first(desc="demo data"):
            prepare_demo_data(data_args)
    with training_args.main_process_first(desc="dataset checks"):
        data = load_video_datasets(data_args)
    if training_args.do_train and "train" not in data.datasets:
        raise ValueError("--do_train needs training videos (train_list, train_dir or dataset_name).")
    if training_args.do_eval and "validation" not in data.datasets:
        raise ValueError("--do_eval needs validation videos (validation_list, validation_dir or dataset_name).")

    # 4. Model and its video processor (both from the model's config)
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
    if "train" in data.datasets:
        data.datasets["train"].set_transform(
            SLLMVideoTransform.for_model(
                config, data_args, training=True, seed=training_args.seed, processor=video_processor
            )
        )
    if "validation" in data.datasets:
        if data_args.num_clips * data_args.num_crops > 1:
            logger.warning("Evaluation during training is single-view; use sllm-eval for multi-view testing.")
        data.datasets["validation"].set_transform(
            SLLMVideoTransform.for_model(config, data_args, training=False, processor=video_processor)
        )

    # 6. Trainer
    trainer = SLLMTrainer(
        model=model,
        args=training_args,
        train_dataset=data.datasets.get("train") if training_args.do_train else None,
        eval_dataset=data.datasets.get("validation") if training_args.do_eval else None,
        data_collator=sllm_collate_fn,
        compute_metrics=compute_accuracy_metrics(),
        processing_class=video_processor,
    )

    # 7. Training
    results = {}
    if training_args.do_train:
        checkpoint = training_args.resume_from_checkpoint
        if checkpoint == "latest":
            checkpoint = get_last_checkpoint(training_args.output_dir)
            if checkpoint is None:
                raise ValueError(f"resume_from_checkpoint=latest but {training_args.output_dir} has no checkpoint.")
        train_result = trainer.train(resume_from_checkpoint=checkpoint)
        trainer.save_model()  # best model when load_best_model_at_end, with the video processor and label mapping
        trainer.log_metrics("train", train_result.metrics)
        trainer.save_metrics("train", train_result.metrics)
        trainer.save_state()
        results.update({f"train_{k}" if not k.startswith("train") else k: v for k, v in train_result.metrics.items()})

    # 8. Evaluation (single view)
    if training_args.do_eval:
        metrics = trainer.evaluate()
        trainer.log_metrics("eval", metrics)
        trainer.save_metrics("eval", metrics)
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
        if video == "first_validation_video":
            row = data.datasets["validation"].with_format(None)[0]
            video, true_label = row["video"], config.id2label[row["label"]]
            print(f"\nClassifying {video} (true class: {true_label}) with pipeline('video-classification')")
        classifier = pipeline("video-classification", model=training_args.output_dir)
        predictions = classifier(video, top_k=3)
        print(f"pipeline('video-classification') on {video}: {json.dumps(predictions)}")
        results["pipeline_predictions"] = predictions

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
    """Uploads `output_dir` to `hub_model_id` with a model card holding the held-out results of this run."""
    from modeling_sllm.publishing.model_card import build_model_card
    from modeling_sllm.publishing.upload import push_to_hub

    evaluations = []
    if "eval_top1" in results:
        dataset = SLLMDatasetInfo(
            name=data_args.dataset_name or os.path.basename(os.path.normpath(data_args.data_root or ".")),
            config=data_args.dataset_config_name,
            split="validation",
            num_videos=len(data.datasets["validation"]),
            num_classes=len(data.labels),
        )
        eval_metrics = {key: value for key, value in results.items() if key.startswith("eval_")}
        evaluations.append(SLLMResults.from_trainer_metrics(eval_metrics, dataset, model=training_args.hub_model_id))
    card = build_model_card(training_args.output_dir, evaluations, repo_id=training_args.hub_model_id)
    return push_to_hub(
        training_args.output_dir,
        training_args.hub_model_id,
        card=card,
        token=training_args.hub_token,
        private=bool(training_args.hub_private_repo),
        commit_message="SLLM fine-tuned with sllm-train",
    )


def cli() -> None:
    """Console-script entry point: runs [`main`] on the command line's arguments (its return value is for Python
    callers)."""
    main()


if __name__ == "__main__":
    cli()

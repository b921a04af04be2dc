# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
Fine-tune SLLM for video classification with the HF Trainer (one CPU, one GPU, or many through `accelerate launch`).

    python scripts/train.py --config configs/hmdb51.yaml [--any_argument value ...]
    accelerate launch --num_processes 2 scripts/train.py --config configs/ucf101.yaml

Arguments are the fields of `SLLMModelArguments`, `SLLMDataArguments` and `SLLMTrainingArguments` (a
`TrainingArguments` with the paper's defaults); `--config` reads them from a YAML file and the command line overrides
it. At the end the best (or last) model, its video processor and label mapping are saved together in `output_dir`,
ready for `pipeline("video-classification", model=output_dir)`.
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
from modeling_sllm.data.sources import SLLMDataArguments, SLLMVideoTransform, load_video_datasets, sllm_collate_fn
from modeling_sllm.demo.data import prepare_demo_data
from modeling_sllm.training.trainer import (
    SLLMModelArguments,
    SLLMTrainer,
    SLLMTrainingArguments,
    build_model,
    compute_accuracy_metrics,
    parse_args_with_yaml,
)


logger = logging.getLogger(__name__)


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


def main(args: list[str] | None = None) -> dict:
    parser = transformers.HfArgumentParser((SLLMModelArguments, SLLMDataArguments, SLLMTrainingArguments))
    model_args, data_args, training_args = parse_args_with_yaml(parser, args)
    setup_logging(training_args)
    logger.warning(
        f"Process rank {training_args.process_index}, device {training_args.device}, n_gpu {training_args.n_gpu}, "
        f"distributed {training_args.parallel_mode.value != 'not_parallel'}, fp16 {training_args.fp16}, "
        f"bf16 {training_args.bf16}"
    )
    logger.info(f"Training arguments {training_args}")
    transformers.set_seed(training_args.seed)
    # The upload happens once at the end, through modeling_sllm.publishing.hub (folder checks, model card with the results, the
    # modeling code for trust_remote_code); the Trainer must not create or push to the repository on its own.
    push_to_hub, training_args.push_to_hub = training_args.push_to_hub, False
    if push_to_hub and not training_args.hub_model_id:
        raise ValueError("--push_to_hub needs --hub_model_id org/name.")

    # Data (the demo videos are written by the main process only; the others wait and reuse them)
    if data_args.generate_demo_data:
        with training_args.main_process_first(desc="demo data"):
            prepare_demo_data(data_args)
    with training_args.main_process_first(desc="dataset checks"):
        data = load_video_datasets(data_args)
    if training_args.do_train and "train" not in data.datasets:
        raise ValueError("--do_train needs training videos (train_list, train_dir or dataset_name).")
    if training_args.do_eval and "validation" not in data.datasets:
        raise ValueError("--do_eval needs validation videos (validation_list, validation_dir or dataset_name).")

    # Model and processor
    with training_args.main_process_first(desc="model"):
        model = build_model(model_args, data.labels)
    config = model.config
    crop = config.vision_config.image_size
    video_processor = SLLMVideoProcessor(
        num_frames=config.num_frames, keep_interval=config.keep_interval, crop_size={"height": crop, "width": crop}
    )
    num_trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    logger.info(
        f"SLLM: {config.num_frames} frames encoded, keep 1 in {config.keep_interval}, {config.num_labels} classes, "
        f"{num_trainable:,} trainable parameters"
    )

    norm = {"seed": training_args.seed, "image_mean": video_processor.image_mean, "image_std": video_processor.image_std}
    if "train" in data.datasets:
        data.datasets["train"].set_transform(SLLMVideoTransform.for_model(config, data_args, training=True, **norm))
    if "validation" in data.datasets:
        if data_args.num_clips * data_args.num_crops > 1:
            logger.warning("Evaluation during training is single-view; use scripts/evaluate.py for multi-view testing.")
        data.datasets["validation"].set_transform(
            SLLMVideoTransform.for_model(config, data_args, training=False, **norm)
        )

    trainer = SLLMTrainer(
        model=model,
        args=training_args,
        train_dataset=data.datasets.get("train") if training_args.do_train else None,
        eval_dataset=data.datasets.get("validation") if training_args.do_eval else None,
        data_collator=sllm_collate_fn,
        compute_metrics=compute_accuracy_metrics(),
        processing_class=video_processor,
    )

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


def push_trained_model(training_args, data_args, data, results: dict):
    """Uploads `output_dir` to `hub_model_id` with a model card holding the held-out results of this run."""
    from modeling_sllm.publishing.hub import build_model_card, push_to_hub

    evaluations = []
    if "eval_top1" in results:
        metrics = {key[len("eval_") :]: value for key, value in results.items() if key.startswith("eval_top")}
        metrics["mean_class_accuracy"] = results["eval_mean_class_accuracy"]
        evaluations.append(
            {
                "model": training_args.hub_model_id,
                "dataset": {
                    "name": data_args.dataset_name or os.path.basename(os.path.normpath(data_args.data_root or ".")),
                    "config": data_args.dataset_config_name,
                    "split": "validation",
                    "num_videos": len(data.datasets["validation"]),
                    "num_classes": len(data.labels),
                },
                "views": {"num_clips": 1, "num_crops": 1},
                "zero_shot": False,
                "metrics": metrics,
            }
        )
    card = build_model_card(training_args.output_dir, evaluations, repo_id=training_args.hub_model_id)
    return push_to_hub(
        training_args.output_dir,
        training_args.hub_model_id,
        card=card,
        token=training_args.hub_token,
        private=bool(training_args.hub_private_repo),
        commit_message="SLLM fine-tuned with scripts/train.py",
    )



def cli() -> None:
    """Console-script entry point: runs [`main`] on the command line's arguments (its return value is for Python callers)."""
    main()


if __name__ == "__main__":
    cli()

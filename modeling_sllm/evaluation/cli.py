# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
Evaluate a saved SLLM video classifier (folder or Hub id) on a dataset source: top-1, top-5, mean class accuracy and
per-class accuracy, single- or multi-view (clips x crops, Text4Vis averaging of the softmaxed scores), optionally
zero-shot on new classes, throughput (model only and end to end) and the restoration fidelity report.

    python scripts/evaluate.py --model_name_or_path out/sllm --validation_list val.txt --label_file labels.txt \
        --data_root videos/ --num_clips 4 --num_crops 3 --output_dir out/eval
    python scripts/evaluate.py --config configs/eval.yaml --measure_throughput --fidelity_report

Arguments are the fields of `SLLMEvaluationArguments` and `SLLMDataArguments` (the same data sources as
`scripts/train.py`: `dataset_name`, annotation lists or video folders); `--config file.yaml` reads them from YAML and
the command line overrides it. Writes `results.json`, `per_class.csv` and `confusion_matrix.png` to `output_dir`.
"""

import json
import logging
import os
import sys
from dataclasses import dataclass, field



import datasets
import torch
import transformers
from transformers import AutoModelForVideoClassification, HfArgumentParser

from modeling_sllm.data.sources import SLLMDataArguments, SLLMVideoTransform, load_video_datasets, sllm_collate_fn
from modeling_sllm.demo.data import prepare_demo_data
from modeling_sllm.evaluation.engine import (
    VIEW_AVERAGING_MODES,
    build_results,
    default_video_processor,
    evaluate_model,
    label_map_by_name,
    measure_throughput,
    plot_confusion_matrix,
    restoration_fidelity,
    save_per_class_csv,
    set_zero_shot_classifier,
)
from modeling_sllm.text_features import read_label_file
from modeling_sllm.video_io import DEFAULT_FRAME_TEMPLATE
from modeling_sllm.training.trainer import parse_args_with_yaml


logger = logging.getLogger(__name__)

SPLITS = ("validation", "train")
DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


@dataclass
class SLLMEvaluationArguments:
    """What to evaluate, how, and where to write the results."""

    model_name_or_path: str = field(metadata={"help": "A saved SLLM folder or a Hub id."})
    output_dir: str = field(metadata={"help": "Where results.json, per_class.csv and confusion_matrix.png go."})
    trust_remote_code: bool = field(default=False, metadata={"help": "Allow the Hub repository's modeling code."})
    model_revision: str = field(default="main", metadata={"help": "Revision of the model (and text encoder)."})
    cache_dir: str | None = field(default=None, metadata={"help": "Cache of downloaded checkpoints."})
    split: str = field(
        default="validation",
        metadata={
            "help": "Which split of the data source to evaluate: 'validation' (validation_list / validation_dir / "
            "validation_split of dataset_name) or 'train'."
        },
    )
    batch_size: int = field(default=8, metadata={"help": "Videos per batch (a forward pass sees batch_size x views)."})
    device: str = field(default="auto", metadata={"help": "'auto' (CUDA when available), 'cpu', 'cuda:0', ..."})
    dtype: str = field(default="float32", metadata={"help": f"Model dtype: one of {tuple(DTYPES)}."})
    num_workers: int = field(default=0, metadata={"help": "DataLoader worker processes (decoding)."})
    view_averaging: str = field(
        default="softmax",
        metadata={"help": "Multi-view averaging: 'softmax' (Text4Vis: mean of per-view probabilities) or 'logits'."},
    )
    zero_shot_label_file: str | None = field(
        default=None,
        metadata={
            "help": "Zero-shot: label file `id;name;description` of the classes to recognise (unseen classes "
            "allowed); the classifier becomes their CLIP text features. Dataset classes are matched by name."
        },
    )
    prompt_mode: str | None = field(
        default=None,
        metadata={"help": "Zero-shot prompts: 'normal' (name) or 'enhance' (name,description); default: the model's."},
    )
    text_model_name_or_path: str | None = field(
        default=None,
        metadata={"help": "Zero-shot: CLIP checkpoint of the text encoder; default: config.text_model_name_or_path."},
    )
    measure_throughput: bool = field(
        default=False,
        metadata={"help": "Time videos/s of the model alone and end to end (decode + preprocess + model)."},
    )
    throughput_num_videos: int = field(
        default=32, metadata={"help": "Videos of the split decoded for the end-to-end throughput."}
    )
    throughput_model_batches: int = field(default=10, metadata={"help": "Timed batches for model-only throughput."})
    throughput_warmup_batches: int = field(default=1, metadata={"help": "Untimed warm-up batches."})
    fidelity_report: bool = field(
        default=False,
        metadata={
            "help": "Report how close the restored skipped-frame embeddings are to the true ones, next to linear "
            "interpolation and copying a neighbour (centred cosine, MSE); needs keep_interval >= 2."
        },
    )
    top_k: int = field(default=5, metadata={"help": "k of the top-k accuracy."})
    seed: int = field(default=3407, metadata={"help": "Random seed."})
    log_level: str = field(default="info", metadata={"help": "'debug', 'info', 'warning' or 'error'."})
    disable_tqdm: bool = field(default=False, metadata={"help": "No progress bars."})

    def __post_init__(self):
        if self.split not in SPLITS:
            raise ValueError(
                f"split must be one of {SPLITS}, got {self.split!r}; for another split of a `datasets` dataset set "
                "--validation_split (e.g. --validation_split test)."
            )
        if self.view_averaging not in VIEW_AVERAGING_MODES:
            raise ValueError(f"view_averaging must be one of {VIEW_AVERAGING_MODES}, got {self.view_averaging!r}.")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {tuple(DTYPES)}, got {self.dtype!r}.")
        for name in ("batch_size", "throughput_num_videos", "throughput_model_batches", "top_k"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}.")
        if self.prompt_mode is not None and self.zero_shot_label_file is None:
            logger.warning("prompt_mode only affects zero-shot evaluation (--zero_shot_label_file); ignored.")


def setup_logging(log_level: str) -> None:
    logging.basicConfig(
        format="%(asctime)s - %(levelname)s - %(name)s - %(message)s",
        datefmt="%m/%d/%Y %H:%M:%S",
        handlers=[logging.StreamHandler(sys.stdout)],
    )
    level = logging.getLevelName(log_level.upper())
    if not isinstance(level, int):
        raise ValueError(f"Unknown log_level {log_level!r}.")
    logger.setLevel(level)
    # the libraries' own INFO messages (configs, processor dumps) only with log_level=debug
    library_level = level if level <= logging.DEBUG else max(level, logging.WARNING)
    datasets.utils.logging.set_verbosity(library_level)
    transformers.utils.logging.set_verbosity(library_level)
    logging.getLogger("modeling_sllm").setLevel(level)
    transformers.utils.logging.enable_default_handler()
    transformers.utils.logging.enable_explicit_format()


def dataset_description(data_args: SLLMDataArguments, split: str) -> tuple[str, str | None, str]:
    """(name, config, split name) of the evaluated data for the results JSON."""
    if data_args.dataset_name:
        split_name = data_args.validation_split if split == "validation" else data_args.train_split
        return data_args.dataset_name, data_args.dataset_config_name, split_name
    if split == "validation":
        source = data_args.validation_list or data_args.validation_dir
    else:
        source = data_args.train_list or data_args.train_dir
    return os.fspath(source), None, split


def main(args: list[str] | None = None) -> dict:
    parser = HfArgumentParser((SLLMEvaluationArguments, SLLMDataArguments))
    eval_args, data_args = parse_args_with_yaml(parser, args)
    setup_logging(eval_args.log_level)
    if eval_args.disable_tqdm:
        transformers.utils.logging.disable_progress_bar()
        datasets.disable_progress_bars()
    transformers.set_seed(eval_args.seed)
    logger.info(f"Evaluation arguments {eval_args}")
    logger.info(f"Data arguments {data_args}")

    # Data: the zero-shot label file doubles as the dataset's label file when none is given (lists need one).
    if data_args.generate_demo_data:
        prepare_demo_data(data_args)
    if eval_args.zero_shot_label_file and data_args.label_file is None:
        data_args.label_file = eval_args.zero_shot_label_file
    # Only the evaluated split is loaded (the other source is dropped unless it is a `datasets` split).
    if not data_args.dataset_name:
        if eval_args.split == "validation":
            data_args.train_list = data_args.train_dir = None
        else:
            data_args.validation_list = data_args.validation_dir = None
    data = load_video_datasets(data_args)
    if eval_args.split not in data.datasets:
        raise ValueError(
            f"No {eval_args.split} videos: give {eval_args.split}_list, {eval_args.split}_dir or dataset_name."
        )
    dataset = data.datasets[eval_args.split]
    dataset_names = [label.name for label in data.labels]
    videos = list(dataset["video"])
    custom_frame_names = (data_args.frame_template, data_args.frame_start_index) != (DEFAULT_FRAME_TEMPLATE, 1)
    if eval_args.measure_throughput and custom_frame_names:
        timed = videos[: eval_args.throughput_num_videos]
        folders = [video for video in timed if isinstance(video, str) and os.path.isdir(video)]
        if folders:
            raise ValueError(
                f"The end-to-end throughput decodes with the video processor, which reads frame folders named "
                f"{DEFAULT_FRAME_TEMPLATE!r} from 1; these folders use {data_args.frame_template!r} from "
                f"{data_args.frame_start_index} (e.g. {folders[0]}). Time encoded video files instead."
            )

    # Model
    auto_device = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(auto_device if eval_args.device == "auto" else eval_args.device)
    hub_kwargs = {"revision": eval_args.model_revision, "cache_dir": eval_args.cache_dir}
    model = AutoModelForVideoClassification.from_pretrained(
        eval_args.model_name_or_path, trust_remote_code=eval_args.trust_remote_code, **hub_kwargs
    )
    model.to(device, DTYPES[eval_args.dtype]).eval()
    config = model.config
    for name in ("num_frames", "keep_interval"):
        if not hasattr(config, name):
            raise ValueError(f"{eval_args.model_name_or_path} is not an SLLM model (its config has no {name}).")
    processor = default_video_processor(
        model, eval_args.model_name_or_path, trust_remote_code=eval_args.trust_remote_code, **hub_kwargs
    )

    # Classifier: trained one, or zero-shot text features; dataset ids are matched to class ids by name.
    zero_shot = eval_args.zero_shot_label_file is not None
    if zero_shot:
        zero_shot_labels = read_label_file(eval_args.zero_shot_label_file)
        set_zero_shot_classifier(
            model,
            zero_shot_labels,
            text_model_name_or_path=eval_args.text_model_name_or_path,
            prompt_mode=eval_args.prompt_mode,
            device=device,
            **hub_kwargs,
        )
        model.to(device, DTYPES[eval_args.dtype])
    label_map = label_map_by_name(dataset_names, config.id2label)
    logger.info(
        f"Evaluating {eval_args.model_name_or_path} ({config.num_frames} frames encoded, keep 1 in "
        f"{config.keep_interval}, {config.num_labels} classes{', zero-shot' if zero_shot else ''}) on "
        f"{len(dataset)} {eval_args.split} videos, {data_args.num_clips} clip(s) x {data_args.num_crops} crop(s), "
        f"batch size {eval_args.batch_size}, {device}"
    )

    common = dict(
        training=False, seed=eval_args.seed, image_mean=processor.image_mean, image_std=processor.image_std
    )
    eval_dataset = dataset.with_transform(
        SLLMVideoTransform.for_model(
            config, data_args, num_clips=data_args.num_clips, num_crops=data_args.num_crops, **common
        )
    )
    evaluation = evaluate_model(
        model,
        eval_dataset,
        batch_size=eval_args.batch_size,
        device=device,
        collate_fn=sllm_collate_fn,
        num_workers=eval_args.num_workers,
        view_averaging=eval_args.view_averaging,
        label_map=label_map,
        top_k=eval_args.top_k,
        show_progress=not eval_args.disable_tqdm,
    )
    if evaluation.labels.shape[0] != len(dataset):
        raise RuntimeError(f"Evaluated {evaluation.labels.shape[0]} of {len(dataset)} videos.")

    throughput = None
    if eval_args.measure_throughput:
        timed = videos[: eval_args.throughput_num_videos]
        logger.info(f"Timing {len(timed)} videos end to end and the model alone (batch size {eval_args.batch_size})")
        throughput = measure_throughput(
            model,
            processor,
            timed,
            eval_args.batch_size,
            device,
            num_model_batches=eval_args.throughput_model_batches,
            num_warmup=eval_args.throughput_warmup_batches,
        )

    fidelity = None
    if eval_args.fidelity_report:
        if config.keep_interval < 2:
            raise ValueError("The fidelity report needs a model that restores frames (keep_interval >= 2).")
        fidelity_dataset = dataset.with_transform(
            SLLMVideoTransform.for_model(config, data_args, with_skipped=True, **common)
        )
        fidelity = restoration_fidelity(
            model,
            fidelity_dataset,
            batch_size=eval_args.batch_size,
            device=device,
            collate_fn=sllm_collate_fn,
            num_workers=eval_args.num_workers,
            show_progress=not eval_args.disable_tqdm,
        )

    name, dataset_config, split_name = dataset_description(data_args, eval_args.split)
    results = build_results(
        eval_args.model_name_or_path,
        evaluation,
        dataset_name=name,
        dataset_config=dataset_config,
        split=split_name,
        num_clips=data_args.num_clips,
        num_crops=data_args.num_crops,
        zero_shot=zero_shot,
        throughput=throughput,
        fidelity=fidelity,
        extra={
            "frames": {"num_frames": config.num_frames, "keep_interval": config.keep_interval},
            "evaluation_seconds": evaluation.seconds,
        },
    )

    os.makedirs(eval_args.output_dir, exist_ok=True)
    results_path = os.path.join(eval_args.output_dir, "results.json")
    with open(results_path, "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=2)
    save_per_class_csv(evaluation.per_class, os.path.join(eval_args.output_dir, "per_class.csv"))
    plot_confusion_matrix(
        evaluation.confusion_matrix,
        evaluation.class_names,
        os.path.join(eval_args.output_dir, "confusion_matrix.png"),
        title=f"{os.path.basename(os.path.normpath(eval_args.model_name_or_path))} on {name} ({split_name})",
    )

    metrics = results["metrics"]
    summary = (
        f"{results['dataset']['num_videos']} videos, {results['dataset']['num_classes']} classes: top-1 "
        f"{metrics['top1']:.2%}, top-{eval_args.top_k} {metrics[f'top{eval_args.top_k}']:.2%}, mean class accuracy "
        f"{metrics['mean_class_accuracy']:.2%}"
    )
    if throughput is not None:
        summary += (
            f"; {throughput['model_videos_per_s']:.1f} videos/s model-only, "
            f"{throughput['end_to_end_videos_per_s']:.1f} videos/s end to end"
        )
    if fidelity is not None:
        methods = fidelity["methods"]
        summary += (
            f"; centred cosine restored {methods['restored']['centred_cosine']:.3f} vs interpolation "
            f"{methods['linear_interpolation']['centred_cosine']:.3f}"
        )
    logger.info(f"{summary}. Results written to {results_path}")
    print(summary)
    return results



def cli() -> None:
    """Console-script entry point: runs [`main`] on the command line's arguments (its return value is for Python callers)."""
    main()


if __name__ == "__main__":
    cli()

# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
`scripts/eval.py` / `sllm-eval`: evaluate a saved SLLM video classifier on a dataset split and write `results.json`
(the one results schema, [`results.SLLMResults`]), `per_class.csv` and `confusion_matrix.png`.

    python scripts/eval.py --model_name_or_path out/sllm --validation_list val.txt --label_file labels.txt \
        --data_root videos/ --num_clips 4 --num_crops 3 --output_dir out/eval
    python scripts/eval.py --config configs/eval.yaml --measure_throughput --fidelity_report
    python scripts/eval.py ... --bf16 --compare_dtypes   # bfloat16, with its accuracy cost against float32

Arguments are the fields of `SLLMEvaluationArguments` and `SLLMDataArguments` (the same data sources as
`scripts/train.py`); `--config file.yaml` reads them from YAML and the command line overrides it.
"""

import argparse
import contextlib
import logging
import os
import sys
from dataclasses import dataclass, field

import datasets
import torch
import transformers
from transformers import AutoModelForVideoClassification, HfArgumentParser

from modeling_sllm.checks import check_positive_int
from modeling_sllm.data.arguments import SLLMDataArguments
from modeling_sllm.data.inputs import SLLMVideoTransform
from modeling_sllm.data.sources import load_video_datasets
from modeling_sllm.demo.data import prepare_demo_data
from modeling_sllm.text_features import read_label_file
from modeling_sllm.cli.parsing import arrange_help, parse_args_with_yaml

from .engine import build_results, default_video_processor, evaluate_video_dataset
from .fidelity import restoration_fidelity
from .metrics import plot_confusion_matrix, save_per_class_csv
from .results import SLLMResults
from .throughput import (
    INFERENCE_DTYPES,
    inference_dtype_note,
    inference_dtype_problem,
    measure_throughput,
    resolve_inference_dtype,
)
from .views import VIEW_AVERAGING_MODES
from .zero_shot import label_map_by_name, set_zero_shot_classifier


logger = logging.getLogger(__name__)

SPLITS = ("validation", "train")
DTYPES = INFERENCE_DTYPES

DESCRIPTION = """\
Evaluate a saved SLLM video classifier (a folder or a Hub id) on the validation or training split of a data source
(annotation list, videofolder tree or `datasets` dataset; videos as files or frame folders): top-1, top-k, mean class
and per-class accuracy, single-view or multi-view (num_clips x num_crops views, Text4Vis averaging of the softmaxed
scores), every video counted; optionally zero-shot on new classes (--zero_shot_label_file), throughput (videos/s of
the model alone and end to end, --measure_throughput) and the restoration fidelity report (--fidelity_report). Writes
results.json, per_class.csv and confusion_matrix.png to --output_dir. --bf16 evaluates in bfloat16 (weights and
inputs; --fp16: float16, GPU only) and --compare_dtypes also evaluates in float32 and records what the lower precision
costs. `--config file.yaml` gives any argument below from YAML; the command line overrides it."""

EXAMPLES = """\
examples:
  python scripts/eval.py --model_name_or_path out/sllm --validation_list val.txt --label_file labels.txt \\
      --data_root videos/ --num_clips 4 --num_crops 3 --output_dir out/eval
  python scripts/eval.py --config configs/eval.yaml --measure_throughput --fidelity_report
  python scripts/eval.py --model_name_or_path out/sllm --validation_list val.txt --label_file labels.txt \\
      --data_root videos/ --bf16 --compare_dtypes --output_dir out/eval-bf16"""


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Argument defaults in the help, the description and examples as written."""


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
    release_eval_sampling: bool = field(
        default=False,
        metadata={
            "help": "Evaluate as the authors' release: TSN segment centres over M - 1 of a video's M frames (its "
            "VideoRecord.num_frames) and logits 100 * cos instead of exp(logit_scale) * cos. To compare with the "
            "release's numbers (the same flag as sllm-train's)."
        },
    )
    device: str = field(default="auto", metadata={"help": "'auto' (CUDA when available), 'cpu', 'cuda:0', ..."})
    dtype: str = field(
        default="float32",
        metadata={"help": f"Model dtype: one of {tuple(DTYPES)} (weights cast, inputs cast; logits in float32)."},
    )
    bf16: bool = field(
        default=False,
        metadata={
            "help": "Evaluate in bfloat16 (same as --dtype bfloat16): weights and inputs in bfloat16. Fast on CPUs "
            "with AVX-512 BF16 or AMX and on GPUs from Ampere on; elsewhere bfloat16 is emulated and slower."
        },
    )
    fp16: bool = field(
        default=False, metadata={"help": "Evaluate in float16 (same as --dtype float16), on a GPU only."}
    )
    compare_dtypes: bool = field(
        default=False,
        metadata={
            "help": "With --bf16 / --fp16: also evaluate in float32 (the same weights) and record in results.json "
            "(`dtype_comparison`) the top-1/top-k of both, how many predictions agree and the cosine between the "
            "float32 and lower-precision video embeddings of every view. Runs the evaluation twice."
        },
    )
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
        if self.bf16 and self.fp16:
            raise ValueError("--bf16 and --fp16 exclude each other: pick one precision.")
        flag = "bfloat16" if self.bf16 else "float16" if self.fp16 else None
        if flag is not None:
            if self.dtype not in ("float32", flag):
                raise ValueError(f"--{'bf16' if self.bf16 else 'fp16'} contradicts --dtype {self.dtype}.")
            self.dtype = flag
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {tuple(DTYPES)}, got {self.dtype!r}.")
        if self.compare_dtypes and self.dtype == "float32":
            raise ValueError(
                "--compare_dtypes compares float32 with a lower precision: add --bf16 (or --fp16 on a GPU)."
            )
        for name in ("batch_size", "throughput_num_videos", "throughput_model_batches", "top_k"):
            check_positive_int(name, getattr(self, name))
        for name in ("num_workers", "throughput_warmup_batches"):
            check_positive_int(name, getattr(self, name), minimum=0)
        if self.prompt_mode is not None and self.zero_shot_label_file is None:
            logger.warning("prompt_mode only affects zero-shot evaluation (--zero_shot_label_file); ignored.")


def build_parser() -> HfArgumentParser:
    """The parser of `scripts/eval.py`: its help starts with the description, `--config` first, examples at the
    end (the layout of [`arrange_help`])."""
    return arrange_help(
        HfArgumentParser(
            (SLLMEvaluationArguments, SLLMDataArguments),
            prog="scripts/eval.py",
            usage=argparse.SUPPRESS,
            description=DESCRIPTION,
            epilog=EXAMPLES,
            formatter_class=_HelpFormatter,
        )
    )


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


def load_split(eval_args: SLLMEvaluationArguments, data_args: SLLMDataArguments):
    """`(dataset of rows {"video", "label"}, class names)` of the evaluated split; only that split is loaded."""
    if data_args.generate_demo_data:
        prepare_demo_data(data_args)
    # the zero-shot label file doubles as the dataset's label file when none is given (lists need one)
    if eval_args.zero_shot_label_file and data_args.label_file is None:
        data_args.label_file = eval_args.zero_shot_label_file
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
    return data.datasets[eval_args.split], [label.name for label in data.labels]


def load_model(eval_args: SLLMEvaluationArguments, device: torch.device, dtype: torch.dtype | None = None):
    """The classifier in eval mode on `device`, in `dtype` (default: the evaluation dtype); refuses a model that is
    not SLLM."""
    hub_kwargs = {"revision": eval_args.model_revision, "cache_dir": eval_args.cache_dir}
    model = AutoModelForVideoClassification.from_pretrained(
        eval_args.model_name_or_path, trust_remote_code=eval_args.trust_remote_code, **hub_kwargs
    )
    for name in ("num_frames", "keep_interval"):
        if not hasattr(model.config, name):
            raise ValueError(f"{eval_args.model_name_or_path} is not an SLLM model (its config has no {name}).")
    return model.to(device, dtype or DTYPES[eval_args.dtype]).eval()


def resolve_evaluation_device(eval_args: SLLMEvaluationArguments) -> torch.device:
    """The device of `--device` (`auto`: CUDA when available); raises when the evaluation dtype does not suit it."""
    device = torch.device(
        ("cuda" if torch.cuda.is_available() else "cpu") if eval_args.device == "auto" else eval_args.device
    )
    dtype = resolve_inference_dtype(eval_args.dtype)
    problem = inference_dtype_problem(dtype, device)
    if problem is not None:
        raise ValueError(f"--dtype {eval_args.dtype} on {device}: {problem}")
    note = inference_dtype_note(dtype, device)
    if note is not None:
        logger.warning(f"--dtype {eval_args.dtype} on {device}: {note}")
    return device


@contextlib.contextmanager
def recording_video_embeddings(model):
    """Collects the `video_embeds` of every forward pass of `model` (float32, on the CPU) into the yielded list."""
    recorded = []

    def hook(module, args, output):
        recorded.append(output.video_embeds.detach().float().cpu())

    handle = model.register_forward_hook(hook)
    try:
        yield recorded
    finally:
        handle.remove()


def dtype_comparison(
    reference, evaluation, reference_embeds: list[torch.Tensor], embeds: list[torch.Tensor], dtype: str, top_k: int
) -> dict:
    """
    What evaluating in `dtype` instead of float32 changed: both runs' top-1 and top-k, the share of videos whose
    predicted class is the same, the largest difference of a per-video class score, and the cosine between the
    float32 and `dtype` video embeddings of every view (min / median / mean).
    """
    reference_embeds, embeds = torch.cat(reference_embeds), torch.cat(embeds)
    if reference_embeds.shape != embeds.shape:
        raise RuntimeError(
            f"The float32 and {dtype} evaluations saw different views: {tuple(reference_embeds.shape)} vs "
            f"{tuple(embeds.shape)} video embeddings."
        )
    cosines = torch.nn.functional.cosine_similarity(reference_embeds, embeds, dim=-1)
    return {
        "reference_dtype": "float32",
        "dtype": dtype,
        "top1": {"float32": float(reference.metrics["top1"]), dtype: float(evaluation.metrics["top1"])},
        f"top{top_k}": {
            "float32": float(reference.metrics[f"top{top_k}"]),
            dtype: float(evaluation.metrics[f"top{top_k}"]),
        },
        "same_prediction": float((reference.predictions == evaluation.predictions).mean()),
        "max_abs_score_difference": float(abs(reference.scores - evaluation.scores).max()),
        "video_embeds_cosine": {
            "min": float(cosines.min()),
            "median": float(cosines.median()),
            "mean": float(cosines.mean()),
            "num_views": int(cosines.numel()),
        },
    }


def summary_line(results: SLLMResults, top_k: int) -> str:
    metrics, dataset = results.metrics, results.dataset
    summary = (
        f"{dataset.num_videos} videos, {dataset.num_classes} classes: top-1 {metrics['top1']:.2%}, top-{top_k} "
        f"{metrics[f'top{top_k}']:.2%}, mean class accuracy {metrics['mean_class_accuracy']:.2%}"
    )
    if results.throughput is not None:
        summary += (
            f"; {results.throughput['model_videos_per_s']:.1f} videos/s model-only, "
            f"{results.throughput['end_to_end_videos_per_s']:.1f} videos/s end to end"
        )
    if results.fidelity is not None:
        methods = results.fidelity["methods"]
        summary += (
            f"; centred cosine restored {methods['restored']['centred_cosine']:.3f} vs interpolation "
            f"{methods['linear_interpolation']['centred_cosine']:.3f}"
        )
    return summary


def main(args: list[str] | None = None) -> SLLMResults:
    """Runs the evaluation of the command line `args` (default: `sys.argv`) and returns its [`SLLMResults`]."""
    eval_args, data_args = parse_args_with_yaml(build_parser(), args)
    setup_logging(eval_args.log_level)
    if eval_args.disable_tqdm:
        transformers.utils.logging.disable_progress_bar()
        datasets.disable_progress_bars()
    transformers.set_seed(eval_args.seed)
    logger.info(f"Evaluation arguments {eval_args}")
    logger.info(f"Data arguments {data_args}")

    device = resolve_evaluation_device(eval_args)  # before any data is read: a bad precision fails at once
    dtype = DTYPES[eval_args.dtype]
    dataset, dataset_class_names = load_split(eval_args, data_args)
    # --compare_dtypes: the float32 reference pass runs first, then the same weights are cast to `dtype`
    model = load_model(eval_args, device, torch.float32 if eval_args.compare_dtypes else dtype)
    config = model.config
    hub_kwargs = {"revision": eval_args.model_revision, "cache_dir": eval_args.cache_dir}
    # the processor the pipeline uses: every input of this evaluation goes through it
    processor = default_video_processor(
        model, eval_args.model_name_or_path, trust_remote_code=eval_args.trust_remote_code, **hub_kwargs
    )

    # Classifier: the trained one, or zero-shot text features; dataset ids are matched to class ids by name.
    zero_shot = eval_args.zero_shot_label_file is not None
    if zero_shot:
        set_zero_shot_classifier(
            model,
            read_label_file(eval_args.zero_shot_label_file),
            text_model_name_or_path=eval_args.text_model_name_or_path,
            prompt_mode=eval_args.prompt_mode,
            device=device,
            **hub_kwargs,
        )
        model.to(device, next(model.parameters()).dtype)
    label_map = label_map_by_name(dataset_class_names, config.id2label)
    logger.info(
        f"Evaluating {eval_args.model_name_or_path} ({config.num_frames} frames encoded, keep 1 in "
        f"{config.keep_interval}, {config.num_labels} classes{', zero-shot' if zero_shot else ''}) on "
        f"{len(dataset)} {eval_args.split} videos, {data_args.num_clips} clip(s) x {data_args.num_crops} crop(s), "
        f"batch size {eval_args.batch_size}, {device}"
    )
    loop = dict(batch_size=eval_args.batch_size, device=device, num_workers=eval_args.num_workers)
    show_progress = not eval_args.disable_tqdm
    evaluation_kwargs = dict(
        processor=processor,
        release_eval_sampling=eval_args.release_eval_sampling,
        view_averaging=eval_args.view_averaging,
        label_map=label_map,
        top_k=eval_args.top_k,
        show_progress=show_progress,
        **loop,
    )
    comparison = None
    if eval_args.compare_dtypes:
        logger.info(f"Reference pass in float32, then the evaluation in {eval_args.dtype}")
        with recording_video_embeddings(model) as reference_embeds:
            reference = evaluate_video_dataset(model, dataset, data_args, **evaluation_kwargs)
        model.to(device, dtype)
        with recording_video_embeddings(model) as embeds:
            evaluation = evaluate_video_dataset(model, dataset, data_args, **evaluation_kwargs)
        comparison = dtype_comparison(
            reference, evaluation, reference_embeds, embeds, eval_args.dtype, eval_args.top_k
        )
    else:
        evaluation = evaluate_video_dataset(model, dataset, data_args, **evaluation_kwargs)

    throughput = None
    if eval_args.measure_throughput:
        timed = list(dataset.select(range(min(eval_args.throughput_num_videos, len(dataset))))["video"])
        frame_names = {"frame_template": data_args.frame_template, "frame_start_index": data_args.frame_start_index}
        logger.info(f"Timing {len(timed)} videos end to end and the model alone (batch size {eval_args.batch_size})")
        throughput = measure_throughput(
            model,
            processor,
            timed,
            eval_args.batch_size,
            device,
            num_model_batches=eval_args.throughput_model_batches,
            num_warmup=eval_args.throughput_warmup_batches,
            processor_kwargs=frame_names,
        )

    fidelity = None
    if eval_args.fidelity_report:
        if config.keep_interval < 2:
            raise ValueError("The fidelity report needs a model that restores frames (keep_interval >= 2).")
        transform = SLLMVideoTransform.for_model(
            config, data_args, training=False, processor=processor, with_skipped=True
        )
        fidelity = restoration_fidelity(model, dataset.with_transform(transform), show_progress=show_progress, **loop)

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
            "dtype": eval_args.dtype,
            **({"dtype_comparison": comparison} if comparison is not None else {}),
        },
    )
    results_path = results.save(os.path.join(eval_args.output_dir, "results.json"))
    save_per_class_csv(evaluation.per_class, os.path.join(eval_args.output_dir, "per_class.csv"))
    plot_confusion_matrix(
        evaluation.confusion_matrix,
        evaluation.class_names,
        os.path.join(eval_args.output_dir, "confusion_matrix.png"),
        title=f"{os.path.basename(os.path.normpath(eval_args.model_name_or_path))} on {name} ({split_name})",
    )
    summary = summary_line(results, eval_args.top_k) + f" [{eval_args.dtype}]"
    logger.info(f"{summary}. Results written to {results_path}")
    print(summary)
    if comparison is not None:
        cosine = comparison["video_embeds_cosine"]
        print(
            f"{eval_args.dtype} vs float32: top-1 {comparison['top1'][eval_args.dtype]:.2%} vs "
            f"{comparison['top1']['float32']:.2%}, same prediction on {comparison['same_prediction']:.2%} of the "
            f"videos, video-embedding cosine min {cosine['min']:.6f} / median {cosine['median']:.6f} over "
            f"{cosine['num_views']} views"
        )
    return results


def cli() -> None:
    """Console-script entry point: runs [`main`] on the command line's arguments."""
    main()


if __name__ == "__main__":
    cli()

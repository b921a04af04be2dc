# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
Batch inference over many videos: [`predict_videos`] classifies videos decoded by DataLoader workers (the model's
video processor, as the pipeline runs it) while the model runs on the previous batch; [`run_prediction`] is
`sllm-predict`: the videos of a source, resumed from the output, split between the processes of `accelerate launch`,
written as one row per video and merged into one file.
"""

import os
from collections.abc import Iterator, Sequence

import torch
from accelerate import PartialState
from accelerate.utils import parse_flag_from_env
from torch.utils.data import DataLoader
from tqdm.auto import tqdm
from transformers import AutoModelForVideoClassification
from transformers.utils import logging

from modeling_sllm.video_io import set_decoder_threads

from .arguments import SLLMPredictArguments
from .videos import SLLMVideoList, VideoPredictionInputs, collate_prediction_inputs, list_videos
from .writers import PredictionFile, PredictionRowFormat, merge_part_files, part_file, part_files, read_predictions


__all__ = [
    "class_probabilities",
    "default_batch_size",
    "decode_worker_init",
    "load_model_and_processor",
    "predict_videos",
    "prediction_state",
    "run_prediction",
]

logger = logging.get_logger(__name__)


def prediction_state(use_cpu: bool = False) -> PartialState:
    """
    accelerate's state of this process (rank, number of processes, device). The CPU is used when asked
    (`use_cpu`, or `accelerate launch --cpu`) or when there is no accelerator: `accelerate launch --multi_gpu
    --num_processes N` then runs N CPU processes (gloo).
    """
    cpu = use_cpu or parse_flag_from_env("ACCELERATE_USE_CPU") or not torch.accelerator.is_available()
    return PartialState(cpu=cpu)


def load_model_and_processor(
    model_name_or_path: str,
    device: torch.device | str = "cpu",
    dtype: str = "float32",
    trust_remote_code: bool = False,
):
    """
    The model (`AutoModelForVideoClassification`, in `dtype`, on `device`, eval mode) and its video processor (the
    one saved with it, else `SLLMVideoProcessor.from_model_config(config)`): the pipeline's preprocessing.
    """
    from modeling_sllm.evaluation.engine import default_video_processor

    model = AutoModelForVideoClassification.from_pretrained(
        model_name_or_path, dtype=getattr(torch, dtype), trust_remote_code=trust_remote_code
    )
    model = model.to(device).eval()
    processor = default_video_processor(model, model_name_or_path, trust_remote_code=trust_remote_code)
    return model, processor


def class_probabilities(logits: torch.Tensor, problem_type: str | None) -> torch.Tensor:
    """Scores of the classes as the pipeline computes them: softmax (sigmoid for multi-label, logits for regression),
    in float32."""
    logits = logits.float()
    if problem_type == "regression":
        return logits
    if problem_type == "multi_label_classification":
        return logits.sigmoid()
    return logits.softmax(-1)


def default_batch_size(device: torch.device | str) -> int:
    """Videos per forward pass when none is given: 4 on a CPU, 8 on an accelerator.

    On a CPU a batch buys no parallelism (the products of one video already fill the cores) but runs the products
    with more rows, and the restoration's and temporal head's weights are read once per batch instead of once per
    video. For ViT-B/32 SLLM on 2 AVX-512 cores a forward of 4 videos took 7-8% less time per video than 4 forwards
    of one in float32 and 12-15% less in bfloat16; 8 videos gained no more."""
    return 4 if torch.device(device).type == "cpu" else 8


def decode_worker_init(worker_id: int) -> None:
    """
    Set-up of a decoding DataLoader worker: one decoder thread (the workers are the parallelism) and the lowest CPU
    priority, so that on a machine the model's threads fill, decoding takes the cycles they leave idle instead of
    preempting them (on 2 cores, preempting one of the model's threads stalls the other at its next barrier).
    """
    set_decoder_threads(1)
    if hasattr(os, "nice"):
        try:
            os.nice(19)
        except OSError:  # not permitted here: decoding runs at the normal priority
            pass


def predict_videos(
    model,
    processor,
    video_list: SLLMVideoList,
    indices: Sequence[int] | None = None,
    batch_size: int | None = None,
    num_workers: int = 2,
    top_k: int = 5,
    frame_template: str | None = None,
    frame_start_index: int = 1,
) -> Iterator[list[dict]]:
    """
    Classifies videos `indices` (default: all) of `video_list`, `batch_size` at a time (default:
    [`default_batch_size`] of the model's device), decoded by `num_workers` DataLoader workers
    ([`decode_worker_init`]) while the model runs.

    Yields:
        The rows of each batch, in order: `{"video", "true_label"?, "labels", "scores"}` (the `min(top_k,
        num_labels)` best classes and their scores, as the pipeline gives them) or `{"video", "true_label"?,
        "error"}` for a video that could not be read.
    """
    indices = list(range(len(video_list))) if indices is None else list(indices)
    if not indices:
        return
    config = model.config
    top_k = min(top_k, config.num_labels)
    options = {} if frame_template is None else {"frame_template": frame_template}
    inputs = VideoPredictionInputs(
        video_list, indices, processor, config.num_frames, frame_start_index=frame_start_index, **options
    )
    device = next(model.parameters()).device
    loader = DataLoader(
        inputs,
        batch_size=default_batch_size(device) if batch_size is None else batch_size,
        num_workers=num_workers,
        collate_fn=collate_prediction_inputs,
        pin_memory=device.type == "cuda",
        worker_init_fn=decode_worker_init if num_workers else None,
    )
    for batch in loader:
        top = {}
        if batch.pixel_values is not None:
            with torch.inference_mode():
                pixel_values = batch.pixel_values.to(device=device, dtype=model.dtype, non_blocking=True)
                scores = class_probabilities(model(pixel_values=pixel_values).logits, config.problem_type)
                values, ids = scores.topk(top_k, dim=-1)
            classified = [index for index in batch.indices if index not in batch.errors]
            top = dict(zip(classified, zip(values.tolist(), ids.tolist())))
        rows = []
        for index in batch.indices:
            row = {"video": video_list.keys[index]}
            if video_list.true_labels is not None:
                row["true_label"] = video_list.true_labels[index]
            if index in batch.errors:
                row["error"] = batch.errors[index]
            else:
                values, ids = top[index]
                row["labels"] = [config.id2label[class_id] for class_id in ids]
                row["scores"] = values
            rows.append(row)
        yield rows


def _summary(output: str, num_videos: int, skipped: int) -> dict:
    rows = read_predictions(output)
    errors = sum(1 for row in rows if "error" in row)
    return {
        "output": output,
        "num_videos": num_videos,
        "skipped": skipped,
        "rows": len(rows),
        "classified": len(rows) - errors,
        "errors": errors,
    }


def run_prediction(args: SLLMPredictArguments) -> dict:
    """
    `sllm-predict`: classifies the videos of `args`' source that `args.output` has no row for yet, and appends their
    rows. Under `accelerate launch` the videos are split between the processes (contiguous shares, in order); each
    writes a part file that the main process merges into the output in input order.

    Returns (on every process; the counts are read from the finished output):
        `{"output", "num_videos", "skipped", "rows", "classified", "errors"}`.
    """
    state = prediction_state(args.use_cpu)
    with state.main_process_first():  # one process downloads (model, dataset) and fills the caches, then the others
        model, processor = load_model_and_processor(
            args.model_name_or_path, state.device, args.dtype, args.trust_remote_code
        )
        video_list = list_videos(args, model.config.id2label)
    row_format = PredictionRowFormat(min(args.top_k, model.config.num_labels), video_list.true_labels is not None)
    output = PredictionFile(args.output, args.output_format, row_format)

    if state.is_main_process:
        # the output as an interrupted run left it: complete rows only, its part files merged
        output.repair()
        output.read_rows()  # checks the columns before anything is appended
        merged = merge_part_files(output, part_files(args.output))
        if merged:
            logger.warning(f"Merged {merged} rows that an interrupted run of several processes left in part files.")
        if args.retry_errors and (dropped := output.drop_error_rows()):
            logger.warning(f"{args.output}: {dropped} error rows removed, their videos are classified again.")
        output.close()
    state.wait_for_everyone()

    done = output.done_keys()
    pending = [index for index, key in enumerate(video_list.keys) if key not in done]
    skipped = len(video_list) - len(pending)
    if state.is_main_process and skipped:
        logger.warning(
            f"{args.output} has rows for {skipped} of the {len(video_list)} videos already: {len(pending)} left to "
            "classify."
        )

    several = state.num_processes > 1
    writer = PredictionFile(part_file(args.output, state.process_index), "jsonl", row_format) if several else output
    with state.split_between_processes(pending) as share:
        description = "Classifying videos"
        if several:
            rank = f"{state.process_index + 1}/{state.num_processes}"
            print(f"Process {rank}: {len(share)} of the {len(pending)} videos to classify", flush=True)
            description += f" (process {rank})"
        with writer, tqdm(total=len(share), unit="video", desc=description, disable=not state.is_main_process) as bar:
            batches = predict_videos(
                model, processor, video_list, share, args.batch_size, args.num_workers, args.top_k,
                args.frame_template, args.frame_start_index,
            )
            for rows in batches:
                writer.append(rows)
                bar.update(len(rows))
    state.wait_for_everyone()

    if several and state.is_main_process:
        with output:
            merge_part_files(output, part_files(args.output))
    state.wait_for_everyone()
    summary = _summary(args.output, len(video_list), skipped)
    if state.is_main_process:
        print(
            f"{args.output}: {summary['rows']} rows for {len(video_list)} videos ({summary['classified']} classified, "
            f"{summary['errors']} errors; {skipped} were there before this run)"
        )
    return summary

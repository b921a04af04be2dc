# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
`sllm-predict --compare_with_pipeline`: the batch script against a plain loop over `pipeline("video-classification")`
on the same videos, model and dtype, timed in the same run (interleaved rounds, `evaluation.timing`). Prints both
rates in videos/s, their ratio (target: the script is not slower) and how well the two agree.

    sllm-predict --model_name_or_path MODEL --videos bikes.mp4 --compare_with_pipeline --compare_num_videos 200 \
        --output /tmp/compare.jsonl

Timings on a machine other jobs share are noisy; the ratio of one run is what to read.
"""

import math
import os
import statistics
from collections.abc import Sequence

from transformers import pipeline

from modeling_sllm.evaluation.timing import run_interleaved
from modeling_sllm.video_io import DEFAULT_FRAME_TEMPLATE

from .arguments import SLLMPredictArguments
from .predict import default_batch_size, load_model_and_processor, predict_videos, prediction_state
from .videos import SLLMVideoList, list_videos
from .writers import PredictionFile, PredictionRowFormat


__all__ = ["compare_with_pipeline", "cycle_videos"]


class _Cycled(Sequence):
    def __init__(self, videos: Sequence, length: int):
        self.videos, self.length = videos, length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int):
        return self.videos[index % len(self.videos)]


def cycle_videos(video_list: SLLMVideoList, num_videos: int) -> SLLMVideoList:
    """`num_videos` videos going round `video_list` (copy `i` of a video is named `<key>#<i>`)."""
    if num_videos <= len(video_list):
        keys = video_list.keys[:num_videos]
    else:
        keys = [f"{video_list.keys[i % len(video_list)]}#{i}" for i in range(num_videos)]
    labels = video_list.true_labels
    labels = None if labels is None else [labels[i % len(labels)] for i in range(num_videos)]
    return SLLMVideoList(keys, _Cycled(video_list.videos, num_videos), labels)


def compare_with_pipeline(args: SLLMPredictArguments) -> dict:
    """
    Times `predict_videos` (`args.batch_size`, `args.num_workers` decode workers) and `[classifier(video) for video in
    videos]` on the videos of `args` (`args.compare_num_videos` of them, cycling), one model in `args.dtype`, after one
    warm-up video, in `args.compare_rounds` interleaved rounds. Writes the script's rows to `args.output` (a new file).

    Returns:
        `{"num_videos", "script_videos_per_s", "pipeline_videos_per_s", "ratio", "best_ratio", "top1_agreement",
        "max_score_difference", "times_s"}`: rates and `ratio` from the median round times, `best_ratio` from the
        fastest rounds.
    """
    state = prediction_state(args.use_cpu)
    if state.num_processes > 1:
        raise ValueError("--compare_with_pipeline times one process; run it without `accelerate launch`.")
    if args.frame_template != DEFAULT_FRAME_TEMPLATE or args.frame_start_index != 1:
        raise ValueError("--compare_with_pipeline: the pipeline reads frame folders with the default file names only.")
    if os.path.exists(args.output):
        raise FileExistsError(f"--compare_with_pipeline writes a new --output; {args.output!r} exists.")
    model, processor = load_model_and_processor(
        args.model_name_or_path, state.device, args.dtype, args.trust_remote_code
    )
    video_list = list_videos(args, model.config.id2label)
    if args.compare_num_videos is not None:
        video_list = cycle_videos(video_list, args.compare_num_videos)
    top_k = min(args.top_k, model.config.num_labels)
    batch_size = default_batch_size(state.device) if args.batch_size is None else args.batch_size
    videos = [video_list.videos[index] for index in range(len(video_list))]
    classifier = pipeline("video-classification", model=model, video_processor=processor, device=state.device)
    classifier(videos[0], top_k=top_k)  # warm-up (the model is shared by both)

    results = {}

    def run_script():
        batches = predict_videos(
            model, processor, video_list, None, batch_size, args.num_workers, top_k,
            args.frame_template, args.frame_start_index,
        )
        results["script"] = [row for rows in batches for row in rows]

    def run_pipeline():
        results["pipeline"] = [classifier(video, top_k=top_k) for video in videos]

    def progress(message: str) -> None:
        print(f"[compare] {message}", flush=True)

    names = {"predict.py": run_script, "pipeline loop": run_pipeline}
    rounds = args.compare_rounds
    times = run_interleaved(names, repetitions=rounds, warmup=0, device=state.device, progress=progress)

    row_format = PredictionRowFormat(top_k, video_list.true_labels is not None)
    with PredictionFile(args.output, args.output_format, row_format) as writer:
        writer.append(results["script"])
    agree, difference = 0, 0.0
    for row, expected in zip(results["script"], results["pipeline"]):
        if "error" in row:
            continue
        agree += row["labels"][0] == expected[0]["label"]
        expected_scores = {item["label"]: item["score"] for item in expected}
        for label, score in zip(row["labels"], row["scores"]):
            if label in expected_scores:
                difference = max(difference, abs(score - expected_scores[label]))
    classified = sum(1 for row in results["script"] if "error" not in row)

    number = len(videos)
    script_time, pipeline_time = statistics.median(times["predict.py"]), statistics.median(times["pipeline loop"])
    script_rate, pipeline_rate = number / script_time, number / pipeline_time
    ratio = script_rate / pipeline_rate
    best_ratio = min(times["pipeline loop"]) / min(times["predict.py"])
    verdict = "PASS" if ratio >= 1.0 else "MISS"
    print(
        f"\n{number} videos, {args.model_name_or_path} ({args.dtype}, device {state.device}); median of {rounds} "
        f"interleaved round(s), measured in this run:\n"
        f"  predict.py (batch {batch_size}, {args.num_workers} decode workers): {script_rate:8.2f} videos/s "
        f"({script_time:.1f} s)\n"
        f"  plain loop over pipeline('video-classification'): {pipeline_rate:8.2f} videos/s "
        f"({pipeline_time:.1f} s)\n"
        f"  ratio predict.py / pipeline: {ratio:.2f}x (fastest rounds: {best_ratio:.2f}x)  "
        f"[{verdict}: target >= 1.00x, the batch script is not slower]\n"
        f"  agreement: top-1 equal on {agree}/{classified} videos, max |score difference| {difference:.2e}"
    )
    return {
        "num_videos": number,
        "script_videos_per_s": script_rate,
        "pipeline_videos_per_s": pipeline_rate,
        "ratio": ratio,
        "best_ratio": best_ratio,
        "top1_agreement": agree / classified if classified else math.nan,
        "max_score_difference": difference,
        "times_s": times,
    }

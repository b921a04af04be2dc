# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
The efficiency benchmark itself: builds the models, measures them and gathers the results dict.

It measures the paper's efficiency claim on the user's hardware: SLLM encodes `N` frames and restores `N - 1` more in
latent space, so it should run about as fast as the same CLIP tower on `N` frames while its temporal head sees
`2N - 1` frames, i.e. close to `2x` the throughput of the `T = 2N`-frame Text4Vis baseline it replaces.

What is timed, for every model and every dtype asked (`dtype="bfloat16"` or a list such as `["float32",
"bfloat16"]`: each model is copied and cast once per dtype, weights and inputs, and all copies are timed in the same
interleaved run, so cross-dtype ratios are in-run too):

- **model only**: one forward pass on random pixel values of shape `(batch_size, frames, 3, size, size)`, under
  `torch.inference_mode()`; for SLLM, forward hooks also time its vision tower inside each pass, which gives the share
  of the pass spent *around* the tower (restoration, temporal head, classifier);
- **preprocess**: PyAV decoding of a real encoded video (only the frames the model needs are converted to RGB) plus the
  model's resize / crop / normalisation, producing the model's input tensor (float32, cast on the model's side);
- **end to end**: preprocess followed by the forward pass (device transfer and cast included);
- **bare tower**: the SLLM CLIP tower alone on `N` and on `2N` frames, whose ratio is what the SLLM vs `2N`-frame
  baseline speed-up can at best reach on this machine (the FLOP ratio is ~1.98x, a `2N`-frame batch may run slower
  per frame than an `N`-frame one);
- **large matmul**: a `2048 x 2048` product per dtype, the machine's attainable GFLOP/s against which every model's
  achieved GFLOP/s is given as a fraction.

Repetitions are *interleaved* ([`run_interleaved`]): after warm-up, every repetition runs each task once,
round-robin, starting from a different task each round, so that a burst of noise from other processes hits every
model alike. Medians and min-max are reported, and SLLM/baseline ratios both as a ratio of medians and as the median
of the per-round ratios ([`compute_ratios`]). FLOPs and peak memory: see [`modeling_sllm.benchmarks.measure`].
"""

import copy
import dataclasses
import os
import statistics
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from modeling_sllm.benchmarks.measure import (
    TowerClock,
    count_flops,
    describe_environment,
    matmul_workload,
    measure_peak_memory,
    thread_scaling,
)
from modeling_sllm.benchmarks.models import BENCHMARK_FAMILIES, BenchmarkModel, build_benchmark_models
from modeling_sllm.benchmarks.report import compute_dtype_ratios, compute_ratios, safe_ratio
from modeling_sllm.benchmarks.targets import evaluate_targets
from modeling_sllm.benchmarks.videos import default_video, describe_video
from modeling_sllm.checks import check_positive_int
from modeling_sllm.evaluation.throughput import resolve_inference_dtype
from modeling_sllm.evaluation.timing import run_interleaved, summarize_times


__all__ = ["dtype_name", "resolve_dtypes", "run_benchmark"]

MATMUL_SIZE, TINY_MATMUL_SIZE = 2048, 256


def dtype_name(dtype: torch.dtype) -> str:
    """`torch.bfloat16` -> `"bfloat16"`."""
    return str(dtype).replace("torch.", "")


def resolve_dtypes(dtype: str | torch.dtype | Sequence[str | torch.dtype]) -> list[torch.dtype]:
    """One dtype or a list of them (names or aliases: `"bf16"`, `"fp32"`...) -> distinct torch dtypes, in order."""
    dtypes = [dtype] if isinstance(dtype, (str, torch.dtype)) else list(dtype)
    if not dtypes:
        raise ValueError("No dtype given: pass float32, bfloat16 and/or float16.")
    resolved = []
    for value in dtypes:
        value = resolve_inference_dtype(value)
        if value not in resolved:
            resolved.append(value)
    return resolved


def _model_row(spec: BenchmarkModel, model_only: Callable[[], Any], batch_size: int, device: torch.device) -> dict:
    """The row of a model before timing: what it is, its GFLOPs per video and its peak memory."""
    flops = count_flops(model_only) / batch_size
    peak_bytes, memory_method = measure_peak_memory(model_only, device)
    return {
        "key": spec.key,
        "name": spec.name,
        "family": spec.family,
        "size": spec.size,
        "num_frames": spec.num_frames,
        "encoded_frames": spec.encoded_frames,
        "temporal_frames": spec.temporal_frames,
        "image_size": spec.image_size,
        "params_millions": sum(parameter.numel() for parameter in spec.model.parameters()) / 1e6,
        "gflops_per_video": flops / 1e9,
        "peak_memory_mib": None if peak_bytes is None else peak_bytes / 2**20,
        "peak_memory_method": memory_method,
        "notes": spec.notes,
    }


def _decoded_frames(spec: BenchmarkModel, video: str) -> dict:
    """Preprocesses `video` once, checks the shape of the pixel values and returns which frames were decoded."""
    with torch.inference_mode():
        prepared = spec.preprocess([video])
    expected = (spec.num_frames, 3, spec.image_size, spec.image_size)
    if tuple(prepared.pixel_values.shape[1:]) != expected:
        raise RuntimeError(
            f"The preprocessing of {spec.key} returned pixel values of shape {tuple(prepared.pixel_values.shape)}, "
            f"expected (batch, {', '.join(map(str, expected))})."
        )
    indices = prepared.frame_indices[0]
    return {"decoded_frame_indices": list(indices), "frames_converted_per_video": len(set(indices))}


def _summarize_rows(
    rows: dict, components: list[dict], times: dict, cpu_times: dict, batch_size: int, matmul: dict
) -> None:
    """Adds the timing summaries to the rows (with their fraction of the large-matmul GFLOP/s of their dtype) and to
    the SLLM module rows (their shares of SLLM's time and FLOPs)."""

    def summary(task: str) -> dict:
        return summarize_times(times[task], batch_size, cpu_times[task])

    for key, row in rows.items():
        row["model_only"] = summary(f"model_only:{key}")
        achieved = row["gflops_per_video"] * row["model_only"]["videos_per_s"]
        row["achieved_gflops_per_s"] = achieved
        row["fraction_of_matmul_peak"] = safe_ratio(achieved, matmul.get(row["dtype"], {}).get("gflops_per_s"))
        if f"end_to_end:{key}" in times:
            row["preprocess"] = summary(f"preprocess:{key}")
            row["end_to_end"] = summary(f"end_to_end:{key}")
            row["preprocess_share_of_end_to_end"] = row["preprocess"]["median_s"] / row["end_to_end"]["median_s"]
    for component in components:
        component.update(summary(f"component:{component['key']}"))
        model = rows[component["model"]]
        component["share_of_sllm_model_time"] = component["median_s"] / model["model_only"]["median_s"]
        component["share_of_sllm_model_time_min"] = component["min_s"] / model["model_only"]["min_s"]
        component["share_of_sllm_model_cpu_time"] = safe_ratio(
            component.get("cpu_median_s"), model["model_only"].get("cpu_median_s")
        )
        component["share_of_sllm_flops"] = safe_ratio(component["gflops_per_video"], model["gflops_per_video"])


def _tower_summaries(towers: list[dict], times: dict) -> None:
    """The bare tower's `2N`-vs-`N`-frame time ratio (ratio of medians, median of per-round ratios, fastest runs)."""
    for tower in towers:
        short, long = times[tower["tasks"][0]], times[tower["tasks"][1]]
        tower["median_s"] = [statistics.median(short), statistics.median(long)]
        tower["time_ratio"] = statistics.median(long) / statistics.median(short)
        tower["paired_median_ratio"] = statistics.median(b / a for a, b in zip(short, long, strict=True))
        tower["min_time_ratio"] = min(long) / min(short)


def run_benchmark(
    families: Sequence[str] = BENCHMARK_FAMILIES,
    sizes: Sequence[str] = ("B/32", "B/16"),
    device: str = "cpu",
    dtype: str | torch.dtype | Sequence[str | torch.dtype] = "float32",
    threads: int | None = 2,
    batch_size: int = 1,
    repetitions: int = 10,
    warmup: int = 2,
    num_kept_frames: int = 8,
    num_classes: int = 10,
    tiny: bool = False,
    video: str | os.PathLike | None = None,
    end_to_end: bool = True,
    xclip_frames: int | None = None,
    videomae_frames: int | None = None,
    timesformer_frames: int | None = None,
    seed: int = 0,
    matmul_size: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """
    Builds the models ([`build_benchmark_models`]), casts a copy of each to every dtype of `dtype`, counts their FLOPs
    and peak memory, times them interleaved and returns the results as a JSON-serialisable dict with `environment`,
    `settings`, `video`, `rows` (one per model and dtype, keyed `"family@size:dtype"`), `components`, `towers`,
    `matmul`, `ratios`, `dtype_ratios` and `targets`. See the module docstring for what each measurement means.

    Each row also records which frames the model's preprocessing decoded for one video (`decoded_frame_indices`, as
    the reader reports them) and how many distinct frames it converted to RGB (`frames_converted_per_video`); SLLM rows
    record `outside_tower_share`, the median share of a model-only pass spent outside the vision tower.
    """
    say = progress or (lambda message: None)
    load_at_start = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    check_positive_int("batch_size", batch_size)
    check_positive_int("repetitions", repetitions)
    dtypes = resolve_dtypes(dtype)
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was asked for but CUDA is not available.")
    if threads is not None:
        torch.set_num_threads(check_positive_int("threads", threads))
    matmul_size = check_positive_int("matmul_size", matmul_size or (TINY_MATMUL_SIZE if tiny else MATMUL_SIZE))
    settings = {
        "families": list(families),
        "sizes": ["tiny"] if tiny else list(sizes),
        "device": str(device),
        "dtype": dtype_name(dtypes[0]) if len(dtypes) == 1 else ", ".join(dtype_name(d) for d in dtypes),
        "dtypes": [dtype_name(d) for d in dtypes],
        "threads": torch.get_num_threads(),
        "batch_size": batch_size,
        "repetitions": repetitions,
        "warmup": warmup,
        "num_kept_frames": num_kept_frames,
        "num_classes": num_classes,
        "tiny": tiny,
        "end_to_end": end_to_end,
        "matmul_size": matmul_size,
    }

    if video is not None and end_to_end and not Path(video).is_file():
        raise FileNotFoundError(f"Benchmark video '{video}' does not exist.")
    with tempfile.TemporaryDirectory(prefix="sllm_benchmark_") as scratch:
        video_path, video_info = None, None
        if end_to_end:
            video_path = Path(video) if video is not None else default_video(tiny, scratch)
            video_info = describe_video(video_path)
            if video is None:
                video_info["generated"] = video_path.parent == Path(scratch)

        scaling_at_start = None
        if device.type == "cpu" and torch.get_num_threads() > 1:
            scaling_at_start = thread_scaling(torch.get_num_threads())
            say(
                f"{scaling_at_start['threads']} threads run a reference workload at "
                f"{scaling_at_start['speedup_vs_1_thread']:.2f}x the speed of 1 thread"
            )
        say("building models")
        models = build_benchmark_models(
            families,
            sizes,
            num_kept_frames,
            num_classes,
            tiny=tiny,
            xclip_frames=xclip_frames,
            videomae_frames=videomae_frames,
            timesformer_frames=timesformer_frames,
            seed=seed,
        )
        videos = [str(video_path)] * batch_size
        tasks: dict[str, Callable[[], Any]] = {}
        rows: dict[str, dict] = {}
        components: list[dict] = []
        towers: list[dict] = []
        clocks: dict[str, TowerClock] = {}
        matmul_flops: dict[str, int] = {}
        for index, torch_dtype in enumerate(dtypes):
            name = dtype_name(torch_dtype)
            matmul, matmul_flops[name] = matmul_workload(torch_dtype, device, matmul_size, seed=seed)
            tasks[f"matmul:{name}"] = matmul
            for base in models:
                # one copy of the model per dtype (the last dtype casts the built model itself)
                spec = base if index == len(dtypes) - 1 else copy.deepcopy(base)
                spec = dataclasses.replace(spec, key=f"{base.key}:{name}")
                spec.model.to(device=device, dtype=torch_dtype)
                _add_model_tasks(spec, name, torch_dtype, device, batch_size, seed, videos, end_to_end, tasks, rows,
                                 components, towers, clocks, say)
            say(f"models cast to {name}")

        try:
            say(f"timing {len(tasks)} tasks: {warmup} warm-up + {repetitions} interleaved rounds")
            for clock in clocks.values():
                clock.shares.clear()  # FLOP counting and memory measurement called the models already
            cpu_times: dict[str, list[float]] = {}
            times = run_interleaved(tasks, repetitions, warmup, device, progress=say, cpu_times=cpu_times)
        finally:
            for clock in clocks.values():
                clock.remove()

        matmul_peaks = {}
        for name, flops in matmul_flops.items():
            median = statistics.median(times[f"matmul:{name}"])
            matmul_peaks[name] = {
                "size": matmul_size,
                "median_s": median,
                "gflops_per_s": flops / median / 1e9,
                "gflops_per_s_max": flops / min(times[f"matmul:{name}"]) / 1e9,
            }
        _summarize_rows(rows, components, times, cpu_times, batch_size, matmul_peaks)
        for key, clock in clocks.items():
            shares = clock.shares[-repetitions:]  # the timed rounds (warm-up rounds come first)
            rows[key]["outside_tower_share"] = statistics.median(shares) if shares else None
            rows[key]["outside_tower_share_min"] = min(shares) if shares else None
        _tower_summaries(towers, times)

        ratios = compute_ratios(rows, times)
        dtype_ratios = compute_dtype_ratios(rows, times)
        environment = describe_environment(device)
        environment["load_average_start"] = load_at_start
        environment["thread_scaling_start"] = scaling_at_start
        if hasattr(os, "getloadavg"):
            environment["load_average_end"] = list(os.getloadavg())
        results = {
            "environment": environment,
            "settings": settings,
            "video": video_info,
            "rows": list(rows.values()),
            "components": components,
            "towers": [{key: value for key, value in tower.items() if key != "tasks"} for tower in towers],
            "matmul": matmul_peaks,
            "ratios": ratios,
            "dtype_ratios": dtype_ratios,
        }
        results["targets"] = evaluate_targets(results)
        return results


def _add_model_tasks(
    spec: BenchmarkModel,
    name: str,
    torch_dtype: torch.dtype,
    device: torch.device,
    batch_size: int,
    seed: int,
    videos: list[str],
    end_to_end: bool,
    tasks: dict,
    rows: dict,
    components: list,
    towers: list,
    clocks: dict,
    say: Callable[[str], None],
) -> None:
    """Adds the timed tasks of one model in one dtype (model only, preprocess, end to end; for SLLM its modules alone
    and its bare tower on N and 2N frames) and its row."""
    inputs = spec.random_inputs(batch_size, device, torch_dtype, seed=seed)

    def model_only(spec=spec, inputs=inputs):
        return spec.model(pixel_values=inputs)

    def preprocess(spec=spec):
        return spec.preprocess(videos).pixel_values

    def full(spec=spec):
        pixel_values = spec.preprocess(videos).pixel_values.to(device=device, dtype=torch_dtype)
        return spec.model(pixel_values=pixel_values)

    say(f"counting FLOPs and memory of {spec.key}")
    rows[spec.key] = _model_row(spec, model_only, batch_size, device)
    rows[spec.key]["dtype"] = name
    # what is timed: the dtypes of the model's weights and buffers after the cast
    tensors = [*spec.model.parameters(), *(buffer for buffer in spec.model.buffers() if buffer.is_floating_point())]
    rows[spec.key]["weight_dtypes"] = sorted({dtype_name(tensor.dtype) for tensor in tensors})
    tasks[f"model_only:{spec.key}"] = model_only
    if end_to_end:
        rows[spec.key].update(_decoded_frames(spec, videos[0]))
        tasks[f"preprocess:{spec.key}"] = preprocess
        tasks[f"end_to_end:{spec.key}"] = full
    if spec.family != "sllm":
        return

    tower = spec.model.sllm.vision_tower
    clock = clocks[spec.key] = TowerClock(tower, device)
    tasks[f"model_only:{spec.key}"] = lambda clock=clock, model_only=model_only: clock.call(model_only)

    # SLLM's own modules, timed alone on random embeddings (the baselines' heads are not of interest here)
    for module_name, (module, shape) in spec.components.items():
        embeds = torch.randn((batch_size, *shape), generator=torch.Generator().manual_seed(seed))
        embeds = embeds.to(device=device, dtype=torch_dtype)

        def component(module=module, embeds=embeds):
            return module(embeds)

        key = f"{module_name}@{spec.size}:{name}"
        tasks[f"component:{key}"] = component
        components.append(
            {
                "key": key,
                "model": spec.key,
                "module": module_name,
                "dtype": name,
                "gflops_per_video": count_flops(component) / batch_size / 1e9,
            }
        )

    # the bare CLIP tower on N and on 2N frames: the speed-up SLLM could at best reach over the 2N-frame baseline
    frames = spec.random_inputs(batch_size, device, torch_dtype, seed=seed).flatten(0, 1)
    tower_tasks = []
    for count, pixel_values in ((1, frames), (2, torch.cat([frames, frames]))):
        task = f"tower:{spec.size}:{name}:{count * spec.num_frames}"
        tasks[task] = lambda tower=tower, pixel_values=pixel_values: tower(pixel_values=pixel_values)
        tower_tasks.append(task)
    towers.append(
        {
            "size": spec.size,
            "dtype": name,
            "frames": [spec.num_frames, 2 * spec.num_frames],
            "tasks": tower_tasks,
        }
    )

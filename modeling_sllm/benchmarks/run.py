# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
The efficiency benchmark itself: builds the models, measures them and gathers the results dict.

It measures the paper's efficiency claim on the user's hardware: SLLM encodes `N` frames and restores `N - 1` more in
latent space, so it should run about as fast as the same CLIP tower on `N` frames while its temporal head sees
`2N - 1` frames, i.e. close to `2x` the throughput of the `T = 2N`-frame Text4Vis baseline it replaces.

What is timed, for every model:

- **model only**: one forward pass on random pixel values of shape `(batch_size, frames, 3, size, size)`, under
  `torch.inference_mode()`;
- **preprocess**: PyAV decoding of a real encoded video (only the frames the model needs are converted to RGB) plus the
  model's resize / crop / normalisation, producing the model's input tensor;
- **end to end**: preprocess followed by the forward pass (device transfer included).

Repetitions are *interleaved* ([`run_interleaved`]): after warm-up, every repetition runs each task once,
round-robin, starting from a different task each round, so that a burst of noise from other processes hits every
model alike. Medians and min-max are reported, and SLLM/baseline ratios both as a ratio of medians and as the median
of the per-round ratios ([`compute_ratios`]). FLOPs and peak memory: see [`modeling_sllm.benchmarks.measure`].
"""

import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from modeling_sllm.benchmarks.measure import count_flops, describe_environment, measure_peak_memory, thread_scaling
from modeling_sllm.benchmarks.models import BENCHMARK_FAMILIES, BenchmarkModel, build_benchmark_models
from modeling_sllm.benchmarks.report import compute_ratios, evaluate_targets, safe_ratio
from modeling_sllm.benchmarks.videos import default_video, describe_video
from modeling_sllm.checks import check_positive_int
from modeling_sllm.evaluation.timing import run_interleaved, summarize_times


__all__ = ["run_benchmark"]

_DTYPES = {
    "float32": torch.float32,
    "fp32": torch.float32,
    "float16": torch.float16,
    "fp16": torch.float16,
    "bfloat16": torch.bfloat16,
    "bf16": torch.bfloat16,
}


def _resolve_dtype(dtype: str | torch.dtype) -> torch.dtype:
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype not in _DTYPES:
        raise ValueError(f"Unknown dtype {dtype!r}; choose from {sorted(_DTYPES)}")
    return _DTYPES[dtype]


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


def _summarize_rows(rows: dict, components: list[dict], times: dict, cpu_times: dict, batch_size: int) -> None:
    """Adds the timing summaries to the rows and the SLLM module rows (their shares of SLLM's time and FLOPs)."""

    def summary(task: str) -> dict:
        return summarize_times(times[task], batch_size, cpu_times[task])

    for key, row in rows.items():
        row["model_only"] = summary(f"model_only:{key}")
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


def run_benchmark(
    families: Sequence[str] = BENCHMARK_FAMILIES,
    sizes: Sequence[str] = ("B/32", "B/16"),
    device: str = "cpu",
    dtype: str = "float32",
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
    progress: Callable[[str], None] | None = None,
) -> dict:
    """
    Builds the models ([`build_benchmark_models`]), counts their FLOPs and peak memory, times them interleaved and
    returns the results as a JSON-serialisable dict with `environment`, `settings`, `video`, `rows`, `components`,
    `ratios` and `targets`. See the module docstring for what each measurement means.

    Each row also records which frames the model's preprocessing decoded for one video (`decoded_frame_indices`, as
    the reader reports them) and how many distinct frames it converted to RGB (`frames_converted_per_video`).
    """
    say = progress or (lambda message: None)
    load_at_start = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    check_positive_int("batch_size", batch_size)
    torch_dtype = _resolve_dtype(dtype)
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was asked for but CUDA is not available.")
    if threads is not None:
        torch.set_num_threads(check_positive_int("threads", threads))
    settings = {
        "families": list(families),
        "sizes": ["tiny"] if tiny else list(sizes),
        "device": str(device),
        "dtype": str(torch_dtype).replace("torch.", ""),
        "threads": torch.get_num_threads(),
        "batch_size": batch_size,
        "repetitions": repetitions,
        "warmup": warmup,
        "num_kept_frames": num_kept_frames,
        "num_classes": num_classes,
        "tiny": tiny,
        "end_to_end": end_to_end,
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
        for spec in models:
            spec.model.to(device=device, dtype=torch_dtype)
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
            tasks[f"model_only:{spec.key}"] = model_only
            if end_to_end:
                rows[spec.key].update(_decoded_frames(spec, videos[0]))
                tasks[f"preprocess:{spec.key}"] = preprocess
                tasks[f"end_to_end:{spec.key}"] = full

            # SLLM's own modules, timed alone on random embeddings (the baselines' heads are not of interest here)
            for name, (module, shape) in spec.components.items() if spec.family == "sllm" else ():
                embeds = torch.randn((batch_size, *shape), generator=torch.Generator().manual_seed(seed))
                embeds = embeds.to(device=device, dtype=torch_dtype)

                def component(module=module, embeds=embeds):
                    return module(embeds)

                key = f"{name}@{spec.size}"
                tasks[f"component:{key}"] = component
                components.append(
                    {
                        "key": key,
                        "model": spec.key,
                        "module": name,
                        "gflops_per_video": count_flops(component) / batch_size / 1e9,
                    }
                )

        say(f"timing {len(tasks)} tasks: {warmup} warm-up + {repetitions} interleaved rounds")
        cpu_times: dict[str, list[float]] = {}
        times = run_interleaved(tasks, repetitions, warmup, device, progress=say, cpu_times=cpu_times)
        _summarize_rows(rows, components, times, cpu_times, batch_size)

        ratios = compute_ratios(rows, times)
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
            "ratios": ratios,
        }
        results["targets"] = evaluate_targets(rows, ratios, components, settings)
        return results

# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
Throughput of an [`SLLMForVideoClassification`] in videos per second: the model alone on pixel tensors in memory, and
end to end from the encoded files (decoding only the `num_frames` kept frames, preprocessing, the model). Every time
is taken by `timing.run_interleaved`, the one timer of the project.
"""

from collections.abc import Sequence
from functools import lru_cache

import torch
from transformers.utils import logging

from modeling_sllm.checks import check_positive_int

from .engine import resolve_device
from .timing import run_interleaved, summarize_times


logger = logging.get_logger(__name__)

INFERENCE_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
_DTYPE_ALIASES = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16", "half": "float16"}


def resolve_inference_dtype(dtype: str | torch.dtype) -> torch.dtype:
    """`"bfloat16"` / `"bf16"` / `torch.bfloat16` (and the same for float32 and float16) -> the torch dtype."""
    if isinstance(dtype, torch.dtype):
        if dtype not in INFERENCE_DTYPES.values():
            raise ValueError(f"Unsupported inference dtype {dtype}; choose from {tuple(INFERENCE_DTYPES)}.")
        return dtype
    name = _DTYPE_ALIASES.get(str(dtype), str(dtype))
    if name not in INFERENCE_DTYPES:
        raise ValueError(
            f"Unknown dtype {dtype!r}; choose from {tuple(INFERENCE_DTYPES)} (or {tuple(_DTYPE_ALIASES)})."
        )
    return INFERENCE_DTYPES[name]


@lru_cache
def cpu_has_native_bf16() -> bool | None:
    """
    Whether this CPU computes bfloat16 products natively (x86 flags `avx512_bf16` or `amx_bf16` in
    `/proc/cpuinfo`); `None` when it cannot be told (no `/proc/cpuinfo`). Without them PyTorch emulates bfloat16 and
    a bfloat16 model runs slower than in float32.
    """
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        return None
    return None


def inference_dtype_problem(dtype: torch.dtype, device: torch.device | str) -> str | None:
    """
    Why `dtype` should not be used for inference on `device`, or `None`: float16 on a CPU (no fast float16 kernels
    on CPUs: use bfloat16), bfloat16 on a CUDA GPU without bfloat16 support (before Ampere: use float16).
    """
    device = torch.device(device)
    if dtype == torch.float16 and device.type == "cpu":
        return (
            "float16 on a CPU: PyTorch has no fast float16 kernels for CPUs and float16 overflows where bfloat16 does "
            "not; use bfloat16 on a CPU (--bf16) and float16 on a GPU only."
        )
    if dtype == torch.bfloat16 and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        return f"bfloat16 on {torch.cuda.get_device_name(device)}, which does not support it: use float16 (--fp16)."
    return None


def inference_dtype_note(dtype: torch.dtype, device: torch.device | str) -> str | None:
    """A note when `dtype` works on `device` but will not be faster than float32 (bfloat16 on a CPU without native
    bfloat16 products), else `None`."""
    if dtype == torch.bfloat16 and torch.device(device).type == "cpu" and cpu_has_native_bf16() is False:
        return (
            "this CPU has no native bfloat16 products (AVX-512 BF16 or AMX): PyTorch emulates them and bfloat16 "
            "inference will likely be slower than float32 here."
        )
    return None


def measure_model_throughput(
    model,
    pixel_values: torch.Tensor,
    batch_size: int,
    device: str | torch.device | None = None,
    num_batches: int = 5,
    num_warmup: int = 1,
) -> float:
    """
    Videos per second of the model alone, on pixel tensors already in memory.

    Args:
        pixel_values (`torch.Tensor` of shape `(num_videos, num_frames, 3, H, W)`): inputs, repeated to fill a batch.
        batch_size (`int`): videos per forward pass.
        num_batches (`int`): timed forward passes, after `num_warmup` untimed ones.

    Returns:
        `float`: `batch_size / median seconds per forward pass`.
    """
    batch_size = check_positive_int("batch_size", batch_size)
    num_batches = check_positive_int("num_batches", num_batches)
    device = resolve_device(device, model)
    model.to(device).eval()
    dtype = next(model.parameters()).dtype
    if pixel_values.dim() != 5 or pixel_values.shape[0] == 0:
        raise ValueError(f"pixel_values must be (num_videos, num_frames, 3, H, W), got {tuple(pixel_values.shape)}.")
    repeats = -(-batch_size // pixel_values.shape[0])
    batch = pixel_values.repeat(repeats, 1, 1, 1, 1)[:batch_size].to(device, dtype).contiguous()
    times = run_interleaved({"model": lambda: model(pixel_values=batch)}, num_batches, num_warmup, device)
    return summarize_times(times["model"], batch_size)["videos_per_s"]


def measure_end_to_end_throughput(
    model,
    processor,
    videos: Sequence,
    batch_size: int,
    device: str | torch.device | None = None,
    num_warmup: int = 1,
    processor_kwargs: dict | None = None,
) -> dict:
    """
    Videos per second from the encoded files to the logits: decoding (only the `num_frames` kept frames are decoded
    and converted, with the eval sampling of the processor), preprocessing and the model, batch by batch.

    Args:
        processor ([`SLLMVideoProcessor`]): decodes and preprocesses; called with the model's `num_frames` and
            `keep_interval`.
        videos: video sources (paths, frame folders, bytes...); every one is timed once, after `num_warmup` untimed
            batches.
        batch_size (`int`): videos per batch.
        processor_kwargs (`dict`, *optional*): more processor arguments (e.g. `frame_template`).

    Returns:
        `dict` with `videos_per_s` (all videos / the summed batch times), `num_videos`, `frames_per_video` (the
        frames decoded per video, i.e. the model's `num_frames`), and `pixel_values` (`torch.Tensor` `(min(num_videos,
        batch_size), N, 3, H, W)`, the processed first videos, for [`measure_model_throughput`]).
    """
    videos = list(videos)
    if not videos:
        raise ValueError("No videos to time.")
    batch_size = check_positive_int("batch_size", batch_size)
    device = resolve_device(device, model)
    model.to(device).eval()
    dtype = next(model.parameters()).dtype
    config = model.config
    call_kwargs = dict(
        return_tensors="pt", return_metadata=True, num_frames=config.num_frames, keep_interval=config.keep_interval
    )
    call_kwargs.update(processor_kwargs or {})
    batches = [videos[start : start + batch_size] for start in range(0, len(videos), batch_size)]
    # warm-up batches first, then every batch once: one call of the task per round of `run_interleaved`
    queue = iter([batches[index % len(batches)] for index in range(num_warmup)] + batches)
    processed = []

    def run_next_batch():
        inputs = processor(next(queue), **call_kwargs)
        model(pixel_values=inputs["pixel_values"].to(device, dtype))
        processed.append(inputs)

    times = run_interleaved({"end_to_end": run_next_batch}, len(batches), num_warmup, device)["end_to_end"]
    timed = processed[num_warmup:]
    frames_per_video = [len(metadata.frames_indices) for inputs in timed for metadata in inputs["video_metadata"]]
    if len(set(frames_per_video)) != 1:
        counts = sorted(set(frames_per_video))
        raise RuntimeError(f"The processor decoded different numbers of frames per video: {counts}.")
    return {
        "videos_per_s": len(videos) / sum(times),
        "num_videos": len(videos),
        "frames_per_video": frames_per_video[0],
        "pixel_values": timed[0]["pixel_values"].clone(),
    }


def measure_throughput(
    model,
    processor,
    videos: Sequence,
    batch_size: int,
    device: str | torch.device | None = None,
    num_model_batches: int = 5,
    num_warmup: int = 1,
    processor_kwargs: dict | None = None,
) -> dict:
    """
    Both throughputs of the results JSON, for the batch size and device given, single-view (one clip, centre crop:
    the processor's inference path; multi-view costs about `V` times more).

    Returns:
        `{"device", "batch_size", "dtype", "model_videos_per_s", "end_to_end_videos_per_s", "num_videos",
        "frames_decoded_per_video", "views_per_video", "torch_threads"}`: model-only videos/s on in-memory pixel
        tensors (the processed first videos), end-to-end videos/s over `videos` (decode + preprocess + model).
    """
    device = resolve_device(device, model)
    end_to_end = measure_end_to_end_throughput(
        model, processor, videos, batch_size, device, num_warmup=num_warmup, processor_kwargs=processor_kwargs
    )
    model_only = measure_model_throughput(
        model, end_to_end["pixel_values"], batch_size, device, num_batches=num_model_batches, num_warmup=num_warmup
    )
    return {
        "device": str(device),
        "batch_size": int(batch_size),
        "dtype": str(next(model.parameters()).dtype).replace("torch.", ""),
        "model_videos_per_s": model_only,
        "end_to_end_videos_per_s": end_to_end["videos_per_s"],
        "num_videos": end_to_end["num_videos"],
        "frames_decoded_per_video": end_to_end["frames_per_video"],
        "views_per_video": 1,
        "torch_threads": torch.get_num_threads(),
    }


__all__ = [
    "INFERENCE_DTYPES",
    "cpu_has_native_bf16",
    "inference_dtype_note",
    "inference_dtype_problem",
    "measure_end_to_end_throughput",
    "measure_model_throughput",
    "measure_throughput",
    "resolve_inference_dtype",
]

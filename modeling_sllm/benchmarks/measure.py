# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
What the benchmark measures besides time (time itself: [`modeling_sllm.evaluation.timing`]): FLOPs and peak memory of
one call, how well this machine scales to several threads right now, and a description of the machine.

GFLOPs are counted with `torch.utils.flop_counter.FlopCounterMode` (a multiply-add is 2 FLOPs, the paper's
convention: 141.7 GFLOPs for 16 ViT-B/32 frames). PyTorch's FLOP counter has no formula for the CPU kernel of
`scaled_dot_product_attention`, nor for oneDNN's linear on pre-packed weights (the bfloat16 CPU path of SLLM's
linear layers); both are registered here so that every dtype and device counts the same FLOPs.

Peak memory is the peak of tensor memory allocated *during* one call above what was allocated before it (weights and
inputs excluded): `torch.cuda.max_memory_allocated` on CUDA; on CPU the allocation and free events recorded by
`torch.profiler` (with `profile_memory=True`) are replayed in time order and the highest running total is taken.
Memory held outside PyTorch's allocator (e.g. the video decoder's buffers) is not included.
"""

import gc
import math
import os
import platform
from collections.abc import Callable
from typing import Any

import torch

from modeling_sllm.checks import check_positive_int
from modeling_sllm.evaluation.timing import run_interleaved, synchronize


__all__ = [
    "TowerClock",
    "count_flops",
    "describe_environment",
    "matmul_workload",
    "measure_peak_memory",
    "thread_scaling",
]


def _attention_flops(query_shape, key_shape, value_shape, *args, out_shape=None, **kwargs) -> int:
    """FLOPs of `softmax(q k^T) v`: two batched products, `2 L S E` and `2 L S Ev` per batch and head."""
    leading = math.prod(query_shape[:-2])
    query_length, head_dim = query_shape[-2], query_shape[-1]
    key_length, value_dim = key_shape[-2], value_shape[-1]
    return 2 * leading * query_length * key_length * (head_dim + value_dim)


def _packed_linear_flops(input_shape, weight_shape, *args, out_shape=None, **kwargs) -> int:
    """FLOPs of oneDNN's linear on a pre-packed weight `(out_features, in_features)`: `2 M K N`."""
    return 2 * math.prod(input_shape[:-1]) * input_shape[-1] * weight_shape[0]


def _extra_flop_formulas() -> dict:
    formulas = {}
    for name in ("_scaled_dot_product_flash_attention_for_cpu", "_scaled_dot_product_fused_attention_overrideable"):
        operator = getattr(torch.ops.aten, name, None)
        if operator is not None:
            formulas[operator] = _attention_flops
    # the bfloat16 CPU inference path of SLLM's linear layers (SLLMLinear: weights pre-packed for oneDNN)
    packed_linear = getattr(torch.ops.mkldnn, "_linear_pointwise", None)
    if packed_linear is not None:
        formulas[packed_linear] = _packed_linear_flops
    return formulas


def count_flops(function: Callable[[], Any]) -> int:
    """
    FLOPs of one call of `function` (multiply-add = 2 FLOPs), counted by `torch.utils.flop_counter.FlopCounterMode`
    with a formula for the CPU attention kernel. Elementwise operations, softmax and normalisations are not counted
    (they are < 1% of a ViT).
    """
    from torch.utils.flop_counter import FlopCounterMode

    with torch.inference_mode(), FlopCounterMode(display=False, custom_mapping=_extra_flop_formulas()) as counter:
        function()
    return int(counter.get_total_flops())


def measure_peak_memory(function: Callable[[], Any], device: torch.device | str) -> tuple[float | None, str]:
    """
    Peak tensor memory (bytes) allocated during one call of `function`, above what was allocated before the call. One
    untimed call comes first, so that what a model keeps from its first call on (the pre-packed weights of CPU
    inference, as large as the weights they copy) counts as held memory, not as the working memory of a call.

    Returns:
        `(bytes or None, method)`: `method` says what was measured (`None` when the device offers no measurement).
    """
    device = torch.device(device)
    with torch.inference_mode():
        function()
    gc.collect()
    if device.type == "cuda":
        synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
        with torch.inference_mode():
            function()
        synchronize(device)
        return float(torch.cuda.max_memory_allocated(device) - before), "torch.cuda.max_memory_allocated - before"
    if device.type == "cpu":
        from torch.profiler import ProfilerActivity, profile

        with torch.inference_mode(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
            function()
        try:
            events = prof.profiler.kineto_results.events()
            deltas = sorted(
                (event.start_ns(), event.nbytes())
                for event in events
                if event.name() == "[memory]" and str(event.device_type()).endswith("CPU")
            )
        except AttributeError:  # profiler internals changed: no measurement rather than a wrong one
            return None, "unavailable (torch.profiler memory events not readable)"
        running, peak = 0, 0
        for _, nbytes in deltas:
            running += nbytes
            peak = max(peak, running)
        return float(peak), "torch.profiler CPU allocation events, peak of the running total"
    return None, f"unavailable on {device.type}"


def thread_scaling(threads: int, repeats: int = 5) -> dict:
    """
    Speed-up of `threads` intra-op threads over one thread on a fixed CPU workload (a batch of 512-wide matrix
    products and activations, about 1 GFLOP): the ratio of the fastest of `repeats` timed runs (after one warm-up
    run) at each thread count. On a quiet machine with 2 threads it is about 1.5-2; a value near or below 1 means
    other processes hold the CPUs and multi-threaded timings are not to be trusted. The thread count is restored.

    Returns:
        `{"threads": threads, "speedup_vs_1_thread": float}`.
    """
    check_positive_int("threads", threads)
    check_positive_int("repeats", repeats)
    previous = torch.get_num_threads()
    generator = torch.Generator().manual_seed(0)
    weight = torch.randn(512, 2048, generator=generator)
    inputs = torch.randn(128, 512, generator=generator)

    def workload():
        hidden = inputs
        for _ in range(8):
            hidden = torch.nn.functional.gelu(hidden @ weight) @ weight.t() / 512
        return hidden

    best = {}
    try:
        for count in (1, threads):
            torch.set_num_threads(count)
            best[count] = min(run_interleaved({"workload": workload}, repetitions=repeats, warmup=1)["workload"])
    finally:
        torch.set_num_threads(previous)
    return {"threads": threads, "speedup_vs_1_thread": best[1] / best[threads]}


def matmul_workload(
    dtype: torch.dtype, device: torch.device | str = "cpu", size: int = 2048, seed: int = 0
) -> tuple[Callable[[], Any], int]:
    """
    The machine's large-matmul reference for `dtype`: a `size x size` by `size x size` product (`2 size^3` FLOPs) on
    the fastest kernel the models use. On a CPU that is oneDNN's product on a pre-packed weight (the kernel of
    `SLLMLinear`; on an AMD EPYC it reached 214 GFLOP/s in float32 where `torch.mm`, MKL, reached 182), elsewhere
    `torch.mm`. Timed next to the models, it says what fraction of this machine's attainable GFLOP/s each model
    reaches.

    Returns:
        `(function, flops)`: the function computes one product.
    """
    from modeling_sllm.modeling_sllm import _onednn_prepacking_available

    check_positive_int("size", size)
    device = torch.device(device)
    generator = torch.Generator().manual_seed(seed)
    left = torch.randn(size, size, generator=generator).to(device=device, dtype=dtype)
    right = torch.randn(size, size, generator=generator).to(device=device, dtype=dtype)
    if device.type == "cpu" and _onednn_prepacking_available(dtype):
        packed = torch.ops.mkldnn._reorder_linear_weight(right.t().contiguous(), size)  # a (out, in) weight
        return (lambda: torch.ops.mkldnn._linear_pointwise(left, packed, None, "none", [], "")), 2 * size**3
    return (lambda: torch.mm(left, right)), 2 * size**3


class TowerClock:
    """
    Times the vision tower inside full forward passes of an SLLM model with forward hooks, to give the share of each
    pass spent outside the tower (restoration, temporal head, classifier, glue). Use `clock.call(function)` for the
    passes to measure; passes made otherwise are not recorded.
    """

    def __init__(self, tower: torch.nn.Module, device: torch.device | str = "cpu"):
        import time

        self._now = time.perf_counter
        self.device = torch.device(device)
        self.shares: list[float] = []
        self._marks: dict[str, float] | None = None
        self._handles = [
            tower.register_forward_pre_hook(lambda *_: self._mark("start")),
            tower.register_forward_hook(lambda *_: self._mark("end")),
        ]

    def _mark(self, name: str) -> None:
        if self._marks is not None:
            synchronize(self.device)
            self._marks[name] = self._now()

    def call(self, function: Callable[[], Any]) -> Any:
        """Runs `function` (one forward pass) and records the share of its time outside the tower."""
        self._marks = {}
        try:
            start = self._now()
            output = function()
            synchronize(self.device)
            total = self._now() - start
            if "start" in self._marks and "end" in self._marks and total > 0:
                self.shares.append(1 - (self._marks["end"] - self._marks["start"]) / total)
        finally:
            self._marks = None
        return output

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()


def _cpu_name() -> str:
    """The CPU model name (from /proc/cpuinfo on Linux), else the platform's processor or machine name."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe_environment(device: torch.device | str) -> dict:
    """Python, platform, CPU, library versions, torch threads and device (with the GPU name on CUDA)."""
    import transformers

    try:
        import av

        av_version = av.__version__
    except ImportError:  # pragma: no cover
        av_version = None
    device = torch.device(device)
    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": _cpu_name(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "av": av_version,
        "torch_threads": torch.get_num_threads(),
        "device": str(device),
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info

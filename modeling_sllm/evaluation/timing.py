# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""The one home of timing: interleaved wall-clock and CPU-time measurement of callables, and their summaries.

Evaluation's throughput, the efficiency benchmark and the ablation all time through [`run_interleaved`].
"""

import gc
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import torch


__all__ = ["run_interleaved", "summarize_times", "synchronize"]


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def run_interleaved(
    tasks: dict[str, Callable[[], Any]],
    repetitions: int,
    warmup: int,
    device: torch.device | str = "cpu",
    progress: Callable[[str], None] | None = None,
    cpu_times: dict[str, list[float]] | None = None,
) -> dict[str, list[float]]:
    """
    Times every task `repetitions` times, round-robin: round `r` runs all tasks once, starting from task `r mod len`.
    `warmup` untimed rounds come first. Each timing is wall-clock (`time.perf_counter`) between device
    synchronisations, with Python's garbage collector paused during the call (one full collection runs before the
    first round).

    Args:
        cpu_times (`dict`, *optional*): filled with the CPU time of this process (all its threads,
            `time.process_time`) during each timed call, `{task: [...]}`. Unlike wall-clock time it does not grow
            while the process waits for a CPU that other processes hold, so its ratios are steadier on a busy machine
            (it still counts threads spinning while they wait for each other).

    Returns:
        `{task: [seconds of round 0, round 1, ...]}` (wall clock).
    """
    if repetitions < 1:
        raise ValueError(f"repetitions must be >= 1, got {repetitions}")
    if warmup < 0:
        raise ValueError(f"warmup must be >= 0, got {warmup}")
    device = torch.device(device)
    keys = list(tasks)
    times = {key: [] for key in keys}
    if cpu_times is not None:
        cpu_times.update({key: [] for key in keys})
    gc.collect()
    with torch.inference_mode():
        for round_index in range(warmup + repetitions):
            timed = round_index >= warmup
            shift = (round_index - warmup) % len(keys) if timed else 0
            for key in keys[shift:] + keys[:shift]:
                synchronize(device)
                # no garbage collection inside a timed call (as `timeit`): a collection triggered by earlier work
                # would be charged to whichever task happens to run; it runs between the calls instead
                gc_was_enabled = gc.isenabled()
                gc.disable()
                try:
                    start, cpu_start = time.perf_counter(), time.process_time()
                    tasks[key]()
                    synchronize(device)
                    end, cpu_end = time.perf_counter(), time.process_time()
                finally:
                    if gc_was_enabled:
                        gc.enable()
                if timed:
                    times[key].append(end - start)
                    if cpu_times is not None:
                        cpu_times[key].append(cpu_end - cpu_start)
            if progress is not None:
                kind = "repetition" if timed else "warm-up"
                number = round_index - warmup + 1 if timed else round_index + 1
                progress(f"{kind} {number}/{repetitions if timed else warmup} done")
    return times


def summarize_times(seconds: Sequence[float], batch_size: int, cpu_seconds: Sequence[float] | None = None) -> dict:
    """Median / min / max seconds per batch, the corresponding videos per second, and the median process CPU time."""
    median = statistics.median(seconds)
    summary = {
        "median_s": median,
        "min_s": min(seconds),
        "max_s": max(seconds),
        "videos_per_s": batch_size / median,
        "videos_per_s_min": batch_size / max(seconds),
        "videos_per_s_max": batch_size / min(seconds),
        "times_s": list(seconds),
    }
    if cpu_seconds:
        summary["cpu_median_s"] = statistics.median(cpu_seconds)
    return summary

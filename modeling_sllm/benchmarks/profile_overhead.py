# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
`scripts/profile_overhead.py` / `sllm-profile-overhead`: where SLLM's time goes outside its CLIP vision tower.

SLLM's claim is that the tower is almost all of the cost: the restoration module, the temporal head and the
classifier together should cost at most 5% of the model time (ViT-B/32, 8 kept frames, batch 1, 2 threads, in every
dtype). This command measures that share for each dtype asked, in two ways:

- **share by part** (no profiler, so no per-operator profiling overhead): forward hooks time the vision tower, the
  restoration module and the temporal head inside each full forward pass; the rest of the pass (frame checks,
  interleaving, classifier, output assembly) is `other`. Medians over `--repetitions` passes, wall clock and process
  CPU time;
- **by operator** (`torch.profiler`): the self time of every operator outside the tower, grouped by part and operator
  name, as a share of the profiled forward pass (medians over `--profile_repetitions` profiled passes). The profiler
  adds a few microseconds to every operator, so this view overstates parts made of many small operators; it says
  *which* operators to fix, the first view says *how much* they cost.

Shares are ratios measured inside one pass, so they hold up far better than absolute times on a busy machine; they
are still inflated when other processes hold the CPUs (every small multi-threaded operator waits for its threads).

`--compile head` (the restoration and the temporal head) or `--compile model` (the whole model) also times the
model with those parts under `torch.compile` against the eager model, interleaved, and reports the speed-up, the
compilation time and how far the compiled outputs are (`--compile_freezing`: inductor's weight freezing, which
pre-packs the weights of the CPU matmuls). `torch.compile` is an opt-in: use it where this measurement shows it pays.

`--compare_dtypes` instead loads a saved classifier and runs real clips through its processor in float32 and in a
lower precision (`--compare_dtype`, default bfloat16): it prints, per clip, the cosine of the two video embeddings,
the largest logit difference and whether the predicted classes agree.

Examples:

```bash
python scripts/profile_overhead.py                                  # ViT-B/32, N = 8, float32 and bfloat16
python scripts/profile_overhead.py --dtypes bfloat16 --threads 1 --top 25
python scripts/profile_overhead.py --dtypes bfloat16 --compile head --compile_freezing
python scripts/profile_overhead.py --compare_dtypes --model_name_or_path demo_outputs/sllm-demo \
    --videos bikes.mp4 demo_outputs/data/videos/*.mp4
```
"""

import copy
import json
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from transformers import HfArgumentParser

from modeling_sllm.benchmarks.models import VISION_SIZES, build_sllm_models
from modeling_sllm.checks import check_positive_int
from modeling_sllm.evaluation.throughput import resolve_inference_dtype
from modeling_sllm.evaluation.timing import run_interleaved


__all__ = [
    "ProfileArguments",
    "cli",
    "compare_dtypes",
    "compile_speedup",
    "main",
    "operator_shares",
    "part_shares",
    "resolve_dtype",
]

PARTS = ("vision_tower", "restoration", "temporal_head")


def resolve_dtype(dtype: str | torch.dtype) -> torch.dtype:
    """`"bfloat16"` / `"bf16"` / `torch.bfloat16` ... -> the torch dtype; a clear error for anything else."""
    return resolve_inference_dtype(dtype)


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).replace("torch.", "")


def _parts(model) -> dict[str, torch.nn.Module]:
    """The timed sub-modules of an [`SLLMForVideoClassification`] (the restoration only when it has one)."""
    parts = {"vision_tower": model.sllm.vision_tower, "temporal_head": model.sllm.temporal_head}
    if model.sllm.restoration is not None:
        parts["restoration"] = model.sllm.restoration
    return parts


def part_shares(model, pixel_values: torch.Tensor, repetitions: int = 10, warmup: int = 2) -> dict:
    """
    Times the parts of full forward passes of `model` on `pixel_values` with forward hooks (no profiler).

    Returns:
        `dict` with `total_ms` (median wall time of a pass), and per part (`vision_tower`, `restoration`,
        `temporal_head`, `other`) and for `outside_tower` (everything but the tower) the median `share` of the pass's
        wall time and `cpu_share` of its process CPU time (medians of the per-pass shares).
    """
    check_positive_int("repetitions", repetitions)
    marks: dict[str, float] = {}
    handles = []
    for name, module in _parts(model).items():
        handles.append(module.register_forward_pre_hook(lambda *_, name=name: _mark(marks, f"{name}:start")))
        handles.append(module.register_forward_hook(lambda *_, name=name: _mark(marks, f"{name}:end")))
    names = [*_parts(model), "other", "outside_tower"]
    shares = {name: [] for name in names}
    cpu_shares = {name: [] for name in names}
    totals = []
    try:
        with torch.inference_mode():
            for index in range(warmup + repetitions):
                marks.clear()
                _mark(marks, "start")
                model(pixel_values=pixel_values)
                _mark(marks, "end")
                if index < warmup:
                    continue
                for clock, store in ((0, shares), (1, cpu_shares)):
                    total = marks["end"][clock] - marks["start"][clock]
                    if total <= 0:
                        continue
                    spent = {
                        name: marks[f"{name}:end"][clock] - marks[f"{name}:start"][clock] for name in _parts(model)
                    }
                    spent["other"] = total - sum(spent.values())
                    spent["outside_tower"] = total - spent["vision_tower"]
                    for name in names:
                        store[name].append(spent[name] / total)
                totals.append(marks["end"][0] - marks["start"][0])
    finally:
        for handle in handles:
            handle.remove()
    result = {"total_ms": 1000 * statistics.median(totals)}
    for name in names:
        result[name] = {
            "share": statistics.median(shares[name]),
            "cpu_share": statistics.median(cpu_shares[name]) if cpu_shares[name] else None,
        }
    return result


def _mark(marks: dict, key: str) -> None:
    marks[key] = (time.perf_counter(), time.process_time())


def operator_shares(model, pixel_values: torch.Tensor, repetitions: int = 5, warmup: int = 2) -> dict:
    """
    Profiles `repetitions` forward passes with `torch.profiler` and attributes the self time of every operator to the
    part it ran in (the tower, the restoration, the temporal head, or `other`: the rest of the forward pass).

    Returns:
        `dict` with `total_ms` (median profiled pass) and `operators`: `{"part/operator": median share of the pass}`
        (`"part/[python]"` is the part's time outside any operator: Python and dispatch between operators).
    """
    from torch.autograd.profiler import record_function
    from torch.profiler import ProfilerActivity, profile

    check_positive_int("repetitions", repetitions)
    open_ranges = {}
    handles = []

    def enter(name):
        open_ranges[name] = record_function(f"sllm::{name}")
        open_ranges[name].__enter__()

    def leave(name):
        open_ranges.pop(name).__exit__(None, None, None)

    for name, module in _parts(model).items():
        handles.append(module.register_forward_pre_hook(lambda *_, name=name: enter(name)))
        handles.append(module.register_forward_hook(lambda *_, name=name: leave(name)))
    samples: list[dict[str, float]] = []
    totals = []
    try:
        with torch.inference_mode():
            for _ in range(warmup):
                model(pixel_values=pixel_values)
            for _ in range(repetitions):
                with profile(activities=[ProfilerActivity.CPU]) as prof:
                    with record_function("sllm::other"):
                        model(pixel_values=pixel_values)
                sample, total = _attribute(prof.events())
                samples.append(sample)
                totals.append(total)
    finally:
        for handle in handles:
            handle.remove()
    keys = sorted({key for sample in samples for key in sample})
    operators = {key: statistics.median(sample.get(key, 0.0) for sample in samples) for key in keys}
    operators = dict(sorted(operators.items(), key=lambda item: -item[1]))
    return {"total_ms": statistics.median(totals) / 1000, "operators": operators}


def _attribute(events) -> tuple[dict[str, float], float]:
    """(`{"part/operator": share of the pass}`, pass time in microseconds) from the events of one profiled pass."""
    ranges = {f"sllm::{name}" for name in (*PARTS, "other")}
    total = next(event.cpu_time_total for event in events if event.name == "sllm::other")
    spent: dict[str, float] = defaultdict(float)
    for event in events:
        part = None
        if event.name in ranges:
            part, operator = event.name.split("::")[1], "[python]"
        else:
            parent = event.cpu_parent
            while parent is not None and parent.name not in ranges:
                parent = parent.cpu_parent
            if parent is None:
                continue
            part, operator = parent.name.split("::")[1], event.name
        spent[f"{part}/{operator}"] += event.self_cpu_time_total
    return {key: value / total for key, value in spent.items()}, total


def _format_profile(dtype_name: str, parts: dict, operators: dict, top: int) -> str:
    lines = [
        f"== {dtype_name}: forward pass {parts['total_ms']:.1f} ms (median of the hook-timed passes; absolute times "
        "are only indicative on a busy machine)",
        "share of the forward pass by part (forward hooks, no profiler): wall clock / process CPU time",
    ]
    for name in (*PARTS, "other", "outside_tower"):
        if name in parts:
            cpu = parts[name]["cpu_share"]
            cpu_text = "n/a" if cpu is None else f"{100 * cpu:6.2f}%"
            lines.append(f"  {name:<14} {100 * parts[name]['share']:6.2f}%  / {cpu_text}")
    outside = {key: value for key, value in operators["operators"].items() if not key.startswith("vision_tower/")}
    lines.append(
        f"outside the tower by operator (torch.profiler self time, share of the profiled pass of "
        f"{operators['total_ms']:.1f} ms; top {top} of {len(outside)}; sum {100 * sum(outside.values()):.2f}%):"
    )
    for key, value in list(outside.items())[:top]:
        lines.append(f"  {100 * value:6.2f}%  {key}")
    return "\n".join(lines)


def compile_speedup(
    model, pixel_values: torch.Tensor, target: str = "head", freezing: bool = False, repetitions: int = 10,
    warmup: int = 2,
) -> dict:
    """
    Times `model` against a copy whose restoration and temporal head (`target="head"`) or whole self
    (`target="model"`) run under `torch.compile` (inductor), interleaved ([`run_interleaved`]).

    Returns:
        `dict` with `target`, `freezing`, `compile_s` (first call of the compiled copy, compilation included),
        `eager_median_ms`, `compiled_median_ms`, `speedup` (median of the per-round eager/compiled ratios),
        `video_embeds_cosine` and `max_abs_logit_difference` (compiled vs eager outputs).
    """
    import time

    import torch._inductor.config as inductor_config

    if target not in ("head", "model"):
        raise ValueError(f"compile target must be 'head' or 'model', got {target!r}.")
    compiled = copy.deepcopy(model)
    if target == "model":
        compiled.compile()
    else:
        for module in _parts(compiled).values():
            if module is not compiled.sllm.vision_tower:
                module.compile()
    torch._dynamo.reset()
    with torch.inference_mode(), inductor_config.patch(freezing=freezing):
        start = time.perf_counter()
        compiled_outputs = compiled(pixel_values=pixel_values)
        compile_seconds = time.perf_counter() - start
        eager_outputs = model(pixel_values=pixel_values)
        tasks = {
            "eager": lambda: model(pixel_values=pixel_values),
            "compiled": lambda: compiled(pixel_values=pixel_values),
        }
        times = run_interleaved(tasks, repetitions, warmup)
    cosine = torch.nn.functional.cosine_similarity(
        compiled_outputs.video_embeds.float(), eager_outputs.video_embeds.float(), dim=-1
    )
    return {
        "target": target,
        "freezing": freezing,
        "compile_s": compile_seconds,
        "eager_median_ms": 1000 * statistics.median(times["eager"]),
        "compiled_median_ms": 1000 * statistics.median(times["compiled"]),
        "speedup": statistics.median(e / c for e, c in zip(times["eager"], times["compiled"], strict=True)),
        "video_embeds_cosine": float(cosine.min()),
        "max_abs_logit_difference": float((compiled_outputs.logits - eager_outputs.logits).abs().max()),
    }


@torch.no_grad()
def compare_dtypes(model, processor, videos: Sequence[str], dtype: torch.dtype = torch.bfloat16) -> list[dict]:
    """
    Runs every clip of `videos` through `processor` once and `model` in float32 and in `dtype` (the same weights
    cast), and compares: the cosine of the two video embeddings, the largest absolute logit difference, the two
    predicted classes. The model is left in float32.

    Returns:
        one dict per clip: `video`, `video_embeds_cosine`, `max_abs_logit_difference`, `prediction_float32`,
        `prediction_<dtype>`, `same_prediction`.
    """
    name = _dtype_name(dtype)
    rows = []
    for video in videos:
        pixel_values = processor(videos=[str(video)], return_tensors="pt")["pixel_values"]
        outputs = {}
        for run_dtype in (torch.float32, dtype):
            model.to(run_dtype)
            output = model(pixel_values=pixel_values.to(run_dtype))
            outputs[run_dtype] = (output.video_embeds.float(), output.logits.float())
        model.to(torch.float32)
        (embeds, logits), (low_embeds, low_logits) = outputs[torch.float32], outputs[dtype]
        predictions = int(logits.argmax(-1)), int(low_logits.argmax(-1))
        rows.append(
            {
                "video": str(video),
                "video_embeds_cosine": float(torch.nn.functional.cosine_similarity(embeds, low_embeds, dim=-1)),
                "max_abs_logit_difference": float((logits - low_logits).abs().max()),
                "prediction_float32": model.config.id2label.get(predictions[0], predictions[0]),
                f"prediction_{name}": model.config.id2label.get(predictions[1], predictions[1]),
                "same_prediction": predictions[0] == predictions[1],
            }
        )
    return rows


@dataclass
class ProfileArguments:
    """Arguments of `sllm-profile-overhead` (`scripts/profile_overhead.py`)."""

    size: str = field(default="B/32", metadata={"help": f"CLIP tower size, among {', '.join(VISION_SIZES)}."})
    num_kept_frames: int = field(default=8, metadata={"help": "N: frames SLLM encodes."})
    dtypes: list[str] = field(
        default_factory=lambda: ["float32", "bfloat16"], metadata={"help": "Dtypes to profile, in turn."}
    )
    threads: int = field(default=2, metadata={"help": "torch.set_num_threads; 0 keeps PyTorch's default."})
    batch_size: int = field(default=1, metadata={"help": "Videos per forward pass."})
    repetitions: int = field(default=10, metadata={"help": "Hook-timed forward passes per dtype."})
    profile_repetitions: int = field(default=5, metadata={"help": "Profiled forward passes per dtype."})
    warmup: int = field(default=2, metadata={"help": "Untimed passes first."})
    top: int = field(default=20, metadata={"help": "Operators listed outside the tower."})
    tiny: bool = field(default=False, metadata={"help": "The tiny test config (smoke runs): shares are meaningless."})
    output_json: str | None = field(default=None, metadata={"help": "Also write the measurements to this JSON file."})
    compile: str | None = field(
        default=None,
        metadata={
            "help": "Also time the model with torch.compile on 'head' (restoration + temporal head) or 'model' "
            "(everything) against eager, interleaved."
        },
    )
    compile_freezing: bool = field(
        default=False, metadata={"help": "--compile with inductor's freezing (weights pre-packed for CPU matmuls)."}
    )
    compare_dtypes: bool = field(
        default=False,
        metadata={
            "help": "Instead of profiling: run --videos through the saved classifier --model_name_or_path in float32 "
            "and in --compare_dtype and print the video-embedding cosine and prediction agreement per clip."
        },
    )
    model_name_or_path: str | None = field(default=None, metadata={"help": "--compare_dtypes: the saved classifier."})
    videos: list[str] = field(default_factory=list, metadata={"help": "--compare_dtypes: the video files."})
    compare_dtype: str = field(default="bfloat16", metadata={"help": "--compare_dtypes: the lower precision."})
    trust_remote_code: bool = field(default=False, metadata={"help": "--compare_dtypes: allow the folder's code."})
    seed: int = field(default=0, metadata={"help": "Seed of the random weights and inputs."})

    def __post_init__(self):
        for name in ("num_kept_frames", "batch_size", "repetitions", "profile_repetitions", "top"):
            check_positive_int(f"--{name}", getattr(self, name))
        for name in ("warmup", "threads"):
            check_positive_int(f"--{name}", getattr(self, name), minimum=0)
        if self.compile not in (None, "head", "model"):
            raise ValueError(f"--compile must be 'head' or 'model', got {self.compile!r}.")
        if self.size not in VISION_SIZES:
            raise ValueError(f"--size {self.size!r} is unknown; choose from {', '.join(VISION_SIZES)}.")
        for dtype in [*self.dtypes, self.compare_dtype]:
            resolve_dtype(dtype)
        if self.compare_dtypes:
            if not self.model_name_or_path:
                raise ValueError("--compare_dtypes needs --model_name_or_path (a saved SLLM classifier).")
            if not self.videos:
                raise ValueError("--compare_dtypes needs --videos (one or more video files).")
            missing = [video for video in self.videos if not Path(video).is_file()]
            if missing:
                raise ValueError(f"--videos: these files do not exist: {missing}")
            if resolve_dtype(self.compare_dtype) == torch.float32:
                raise ValueError("--compare_dtype must be a lower precision than float32 (bfloat16 or float16).")


def _run_compare(args: ProfileArguments) -> dict:
    from transformers import AutoModelForVideoClassification, AutoVideoProcessor

    dtype = resolve_dtype(args.compare_dtype)
    model = AutoModelForVideoClassification.from_pretrained(
        args.model_name_or_path, trust_remote_code=args.trust_remote_code, dtype=torch.float32
    ).eval()
    processor = AutoVideoProcessor.from_pretrained(args.model_name_or_path, trust_remote_code=args.trust_remote_code)
    rows = compare_dtypes(model, processor, args.videos, dtype)
    name = _dtype_name(dtype)
    for row in rows:
        print(
            f"{Path(row['video']).name}: cosine {row['video_embeds_cosine']:.6f}, max |logit diff| "
            f"{row['max_abs_logit_difference']:.4f}, float32 -> {row['prediction_float32']!r}, {name} -> "
            f"{row[f'prediction_{name}']!r}"
        )
    cosines = [row["video_embeds_cosine"] for row in rows]
    summary = {
        "model": args.model_name_or_path,
        "dtype": name,
        "num_videos": len(rows),
        "min_video_embeds_cosine": min(cosines),
        "median_video_embeds_cosine": statistics.median(cosines),
        "same_prediction": sum(row["same_prediction"] for row in rows),
        "videos": rows,
    }
    print(
        f"{len(rows)} clips, float32 vs {name}: video-embedding cosine min {summary['min_video_embeds_cosine']:.6f}, "
        f"median {summary['median_video_embeds_cosine']:.6f}; same predicted class on {summary['same_prediction']}/"
        f"{len(rows)}"
    )
    return summary


def main(argv: list[str] | None = None) -> dict:
    """Parses `argv` (default: the command line), profiles (or compares dtypes), prints and returns the results."""
    (args,) = HfArgumentParser(ProfileArguments).parse_args_into_dataclasses(args=argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.compare_dtypes:
        results = _run_compare(args)
    else:
        size = "tiny" if args.tiny else args.size
        spec = build_sllm_models(size, args.num_kept_frames, families=("sllm",), seed=args.seed)[0]
        results = {
            "settings": {
                "size": size,
                "num_kept_frames": args.num_kept_frames,
                "batch_size": args.batch_size,
                "threads": torch.get_num_threads(),
                "attn_implementation": spec.model.config._attn_implementation,
            },
            "dtypes": {},
        }
        print(
            f"{spec.name} ({size}), batch {args.batch_size}, {torch.get_num_threads()} thread(s), attention "
            f"{spec.model.config._attn_implementation}",
            file=sys.stderr,
        )
        for dtype_name in args.dtypes:
            dtype = resolve_dtype(dtype_name)
            spec.model.to(dtype)
            pixel_values = spec.random_inputs(args.batch_size, torch.device("cpu"), dtype, seed=args.seed)
            parts = part_shares(spec.model, pixel_values, args.repetitions, args.warmup)
            operators = operator_shares(spec.model, pixel_values, args.profile_repetitions, args.warmup)
            results["dtypes"][_dtype_name(dtype)] = {"parts": parts, "operators": operators}
            print(_format_profile(_dtype_name(dtype), parts, operators, args.top))
            if args.compile:
                measured = compile_speedup(
                    spec.model, pixel_values, args.compile, args.compile_freezing, args.repetitions, args.warmup
                )
                results["dtypes"][_dtype_name(dtype)]["compile"] = measured
                print(
                    f"torch.compile ({args.compile}{', freezing' if args.compile_freezing else ''}): "
                    f"{measured['speedup']:.3f}x the eager speed (per-round median; medians "
                    f"{measured['eager_median_ms']:.1f} -> {measured['compiled_median_ms']:.1f} ms), compiled in "
                    f"{measured['compile_s']:.0f} s; video-embedding cosine to eager "
                    f"{measured['video_embeds_cosine']:.6f}, "
                    f"max |logit difference| {measured['max_abs_logit_difference']:.2e}"
                )
        spec.model.to(torch.float32)
    if args.output_json:
        path = Path(args.output_json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2) + "\n")
    return results


def cli() -> None:
    """Console-script entry point: runs [`main`] on the command line's arguments."""
    main()


if __name__ == "__main__":
    cli()

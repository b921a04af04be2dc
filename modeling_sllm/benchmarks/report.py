# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
The benchmark's results read as a report: SLLM/baseline ratios, the issue-4 targets, and the Markdown, console and
plot forms of the results dict that [`run_benchmark`] returns.

Speed-ups are given as a ratio of median throughputs (the figure used for the targets), as the median of the
per-round ratios, as a ratio of the fastest runs and as a ratio of median process CPU times (the last two are less
disturbed by other processes), next to the FLOP ratio (the ideal speed-up).
"""

import os
import statistics
from pathlib import Path

from modeling_sllm.benchmarks.models import SLLM_FAMILIES


__all__ = [
    "compute_ratios",
    "evaluate_targets",
    "format_markdown",
    "format_table",
    "plot_throughput_vs_gflops",
    "safe_ratio",
]


def safe_ratio(numerator: float | None, denominator: float | None) -> float | None:
    """`numerator / denominator`, or `None` when either is missing or the denominator is 0."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def compute_ratios(rows: dict[str, dict], times: dict[str, list[float]]) -> list[dict]:
    """
    SLLM/baseline ratios for each SLLM row against every other row (the Text4Vis baselines of its own size only).

    Args:
        rows (`dict[str, dict]`): the benchmark rows by key, with their `"model_only"` / `"end_to_end"` summaries
            ([`summarize_times`]) and `"gflops_per_video"`.
        times (`dict[str, list[float]]`): the per-round seconds of [`run_interleaved`], keyed `"{mode}:{row key}"`.

    Returns:
        `list[dict]`: one dict per (SLLM row, baseline, mode) with `throughput_ratio`, `paired_median_ratio`,
        `min_time_ratio`, `cpu_time_ratio`, `flop_ratio` and `fraction_of_ideal`.
    """
    ratios = []
    for sllm in (row for row in rows.values() if row["family"] == "sllm"):
        for baseline in rows.values():
            if baseline["family"] == "sllm":
                continue
            if baseline["family"] in SLLM_FAMILIES and baseline["size"] != sllm["size"]:
                continue
            flop_ratio = safe_ratio(baseline["gflops_per_video"], sllm["gflops_per_video"])
            for mode in ("model_only", "end_to_end"):
                sllm_times, base_times = times.get(f"{mode}:{sllm['key']}"), times.get(f"{mode}:{baseline['key']}")
                if not sllm_times or not base_times:
                    continue
                throughput_ratio = safe_ratio(sllm[mode]["videos_per_s"], baseline[mode]["videos_per_s"])
                paired = statistics.median(b / s for s, b in zip(sllm_times, base_times, strict=True))
                best = min(base_times) / min(sllm_times)
                cpu = safe_ratio(baseline[mode].get("cpu_median_s"), sllm[mode].get("cpu_median_s"))
                ratios.append(
                    {
                        "sllm": sllm["key"],
                        "baseline": baseline["key"],
                        "mode": mode,
                        "throughput_ratio": throughput_ratio,
                        "paired_median_ratio": paired,
                        "min_time_ratio": best,
                        "cpu_time_ratio": cpu,
                        "flop_ratio": flop_ratio,
                        "fraction_of_ideal": safe_ratio(throughput_ratio, flop_ratio),
                    }
                )
    return ratios


def evaluate_targets(rows: dict, ratios: list[dict], components: list[dict], settings: dict) -> list[dict]:
    """
    The issue-4 targets, evaluated on the ViT-B/32 rows (or on the tiny rows in tiny mode, for testing): SLLM's
    speed-up over the 2N-frame baseline (>= 1.9x model-only, >= 1.8x end to end), the restoration module's share of
    SLLM's model time (< 2%), SLLM at least as fast as X-CLIP. Each target says whether it `passed` and whether the
    run met the conditions it is defined for (`conditions_met`: CPU, float32, 2 threads, N = 8, not tiny).
    """
    size = "tiny" if settings["tiny"] else "B/32"
    sllm_key = f"sllm@{size}"
    if sllm_key not in rows:
        return []
    targets = []

    def ratio_of(baseline_key: str, mode: str) -> dict | None:
        for ratio in ratios:
            if ratio["sllm"] == sllm_key and ratio["baseline"] == baseline_key and ratio["mode"] == mode:
                return ratio
        return None

    n = rows[sllm_key]["encoded_frames"]
    for mode, threshold in (("model_only", 1.9), ("end_to_end", 1.8)):
        ratio = ratio_of(f"text4vis_2n@{size}", mode)
        if ratio is not None:
            targets.append(
                {
                    "name": f"SLLM {n}->{2 * n - 1} vs {2 * n}-frame baseline, {mode.replace('_', '-')} speed-up "
                    f">= {threshold}x",
                    "value": ratio["throughput_ratio"],
                    "value_min": ratio["min_time_ratio"],
                    "value_cpu": ratio["cpu_time_ratio"],
                    "threshold": threshold,
                    "comparison": ">=",
                    "passed": ratio["throughput_ratio"] >= threshold,
                }
            )
    for component in components:
        if component["key"] == f"restoration@{size}" and component["share_of_sllm_model_time"] is not None:
            targets.append(
                {
                    "name": "restoration module share of SLLM model time < 2%",
                    "value": component["share_of_sllm_model_time"],
                    "value_min": component["share_of_sllm_model_time_min"],
                    "value_cpu": component["share_of_sllm_model_cpu_time"],
                    "threshold": 0.02,
                    "comparison": "<",
                    "passed": component["share_of_sllm_model_time"] < 0.02,
                }
            )
    for key, row in rows.items():
        if row["family"] != "xclip":
            continue
        same_frames = row["encoded_frames"] == n
        for mode in ("model_only", "end_to_end"):
            ratio = ratio_of(key, mode)
            if ratio is None:
                continue
            targets.append(
                {
                    "name": f"SLLM throughput >= X-CLIP ({row['encoded_frames']} frames), {mode.replace('_', '-')}"
                    + ("" if same_frames else " [frame counts differ: not the issue's comparison]"),
                    "value": ratio["throughput_ratio"],
                    "value_min": ratio["min_time_ratio"],
                    "value_cpu": ratio["cpu_time_ratio"],
                    "threshold": 1.0,
                    "comparison": ">=",
                    "passed": ratio["throughput_ratio"] >= 1.0,
                }
            )
    conditions = (
        settings["device"].startswith("cpu")
        and settings["dtype"] in ("float32", "fp32")
        and settings["threads"] == 2
        and not settings["tiny"]
        and n == 8
    )
    for target in targets:
        target["conditions_met"] = bool(conditions)
    return targets


# ---------------------------------------------------------------------------------------------------------------------
# Formatting


def _fmt(value: float | None, digits: int = 2, suffix: str = "") -> str:
    return "n/a" if value is None else f"{value:.{digits}f}{suffix}"


def _percent(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{100 * value:.{digits}f}%"


def _throughput_cell(summary: dict | None, digits: int = 2) -> str:
    """`median [min-max]` videos/s."""
    if not summary:
        return "n/a"
    low, high = _fmt(summary["videos_per_s_min"], digits), _fmt(summary["videos_per_s_max"], digits)
    return f"{summary['videos_per_s']:.{digits}f} [{low}-{high}]"


def _row_names(results: dict) -> dict[str, str]:
    return {row["key"]: f"{row['name']} ({row['size']})" for row in results["rows"]}


def _target_status(target: dict) -> str:
    status = "PASS" if target["passed"] else "MISS"
    return status if target["conditions_met"] else f"{status} (conditions differ)"


def _target_value(target: dict) -> str:
    keys = ("value", "threshold", "value_min", "value_cpu")
    if target["threshold"] < 1:
        value, threshold, fastest, cpu = (_percent(target.get(key)) for key in keys)
    else:
        value, threshold, fastest, cpu = (_fmt(target.get(key), suffix="x") for key in keys)
    return f"{value} (threshold {threshold}; fastest runs: {fastest}; CPU time: {cpu})"


_TARGETS_TITLE = "Targets (issue 4; defined for ViT-B/32, CPU, float32, 2 threads; medians in-run):"


def format_markdown(results: dict) -> str:
    """The results as Markdown: models, SLLM modules, ratios, targets."""
    settings, environment = results["settings"], results["environment"]
    lines = [
        "# SLLM efficiency benchmark",
        "",
        f"Device `{settings['device']}`, dtype `{settings['dtype']}`, {settings['threads']} intra-op thread(s), "
        f"batch size {settings['batch_size']}, {settings['repetitions']} interleaved repetitions after "
        f"{settings['warmup']} warm-up rounds; torch {environment['torch']}, "
        f"transformers {environment['transformers']}, {environment['processor']} ({environment['cpu_count']} CPUs)."
        + (" **Tiny configs (test mode): numbers are meaningless.**" if settings["tiny"] else ""),
        "",
    ]
    if results.get("video"):
        video = results["video"]
        lines += [
            f"End-to-end video: `{Path(video['path']).name}` ({video['codec']}, {video['width']}x{video['height']}, "
            f"{video['frames']} frames): PyAV decoding of the needed frames + resize/crop/normalise + model.",
            "",
        ]
    lines += [
        "Throughput in videos/s: median [min-max over repetitions]. GFLOPs per video (multiply-add = 2 FLOPs). Peak "
        "memory: tensor memory allocated during one model-only forward, above weights and inputs. Converted frames: "
        "frames decoded to RGB per video end to end.",
        "",
        "| Model | Size | Frames in / head | Converted frames | GFLOPs | Params (M) | Peak mem (MiB) "
        "| Model-only videos/s | End-to-end videos/s | Preprocess share |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in results["rows"]:
        cells = [
            row["name"],
            row["size"],
            f"{row['encoded_frames']} / {row['temporal_frames']}",
            str(row.get("frames_converted_per_video", "n/a")),
            f"{row['gflops_per_video']:.4g}",
            _fmt(row["params_millions"], 1),
            _fmt(row["peak_memory_mib"], 1),
            _throughput_cell(row.get("model_only")),
            _throughput_cell(row.get("end_to_end")),
            _percent(row.get("preprocess_share_of_end_to_end"), 1),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    if results["components"]:
        lines += [
            "",
            "| SLLM module | GFLOPs | Median time (ms) | Share of SLLM model time (medians / fastest runs) "
            "| Share of SLLM FLOPs |",
            "|---|---|---|---|---|",
        ]
        for component in results["components"]:
            cells = [
                component["key"],
                f"{component['gflops_per_video']:.4g}",
                _fmt(1000 * component["median_s"]),
                f"{_percent(component['share_of_sllm_model_time'])} / "
                f"{_percent(component['share_of_sllm_model_time_min'])}",
                _percent(component["share_of_sllm_flops"]),
            ]
            lines.append("| " + " | ".join(cells) + " |")
    names = _row_names(results)
    if results["ratios"]:
        lines += [
            "",
            "Speed-up of SLLM over each baseline: ratio of median throughputs (the figure used for the targets), "
            "median of the per-round ratios, ratio of the fastest runs and ratio of median process CPU times (both "
            "less disturbed by other processes); the FLOP ratio (ideal speed-up) and the fraction of it reached by "
            "the median speed-up.",
            "",
            "| SLLM | Baseline | Mode | Speed-up (medians) | Per-round median | Fastest runs | CPU time | FLOP ratio "
            "| Fraction of ideal |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for ratio in results["ratios"]:
            cells = [
                names[ratio["sllm"]],
                names[ratio["baseline"]],
                ratio["mode"].replace("_", "-"),
                _fmt(ratio["throughput_ratio"], suffix="x"),
                _fmt(ratio["paired_median_ratio"], suffix="x"),
                _fmt(ratio["min_time_ratio"], suffix="x"),
                _fmt(ratio.get("cpu_time_ratio"), suffix="x"),
                _fmt(ratio["flop_ratio"], suffix="x"),
                _percent(ratio["fraction_of_ideal"], 0),
            ]
            lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "What each row times:", ""]
    lines += [f"- {names[row['key']]}: {row['notes']}" for row in results["rows"]]
    methods = sorted({row["peak_memory_method"] for row in results["rows"]})
    lines += ["", f"Peak memory measured with: {'; '.join(methods)}."]
    if results["targets"]:
        lines += ["", _TARGETS_TITLE, ""]
        for target in results["targets"]:
            lines.append(f"- **{_target_status(target)}** {target['name']}: {_target_value(target)}")
    return "\n".join(lines) + "\n"


def format_table(results: dict) -> str:
    """A plain-text version of the results for the console."""
    header = (
        f"{'model':<18} {'size':<5} {'frames':>7} {'conv':>5} {'GFLOPs':>8} {'mem MiB':>8} "
        f"{'model-only v/s [min-max]':>26} {'end-to-end v/s [min-max]':>26}"
    )
    lines = [header, "-" * len(header)]
    for row in results["rows"]:
        frames = f"{row['encoded_frames']}/{row['temporal_frames']}"
        lines.append(
            f"{row['name']:<18} {row['size']:<5} {frames:>7} {str(row.get('frames_converted_per_video', '-')):>5} "
            f"{row['gflops_per_video']:>8.4g} {_fmt(row['peak_memory_mib'], 1):>8} "
            f"{_throughput_cell(row.get('model_only'), 3):>26} {_throughput_cell(row.get('end_to_end'), 3):>26}"
        )
    for component in results["components"]:
        lines.append(
            f"  {component['key']}: {1000 * component['median_s']:.2f} ms median, "
            f"{_percent(component['share_of_sllm_model_time'])} of SLLM model time "
            f"({_percent(component['share_of_sllm_model_time_min'])} from the fastest runs, "
            f"{_percent(component.get('share_of_sllm_model_cpu_time'))} by CPU time), "
            f"{_percent(component['share_of_sllm_flops'])} of its FLOPs"
        )
    names = _row_names(results)
    if results["ratios"]:
        lines += [
            "",
            "SLLM speed-up vs baselines (ratio of medians / median of per-round ratios / fastest runs / CPU time / "
            "FLOP ratio / median speed-up as a fraction of the FLOP ratio):",
        ]
        for ratio in results["ratios"]:
            values = " / ".join(
                _fmt(ratio[key], suffix="x")
                for key in (
                    "throughput_ratio",
                    "paired_median_ratio",
                    "min_time_ratio",
                    "cpu_time_ratio",
                    "flop_ratio",
                )
            )
            lines.append(
                f"  {names[ratio['sllm']]:<24} vs {names[ratio['baseline']]:<26} {ratio['mode']:<10} "
                f"{values} / {_percent(ratio['fraction_of_ideal'], 0)}"
            )
    if results["targets"]:
        lines += ["", _TARGETS_TITLE]
        for target in results["targets"]:
            lines.append(f"  {_target_status(target):<22} {target['name']}: {_target_value(target)}")
    return "\n".join(lines)


def plot_throughput_vs_gflops(results: dict, path: str | os.PathLike) -> Path:
    """Scatter plot of throughput (videos/s, log) against GFLOPs per video (log), model-only and end-to-end."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    figure, axis = plt.subplots(figsize=(8, 5.5))
    colors = {
        "sllm": "tab:red",
        "text4vis_2n": "tab:blue",
        "text4vis_n": "tab:cyan",
        "xclip": "tab:green",
        "videomae": "tab:purple",
        "timesformer": "tab:orange",
    }
    for mode, marker in (("model_only", "o"), ("end_to_end", "^")):
        for row in results["rows"]:
            summary = row.get(mode)
            if not summary:
                continue
            axis.errorbar(
                row["gflops_per_video"],
                summary["videos_per_s"],
                yerr=[
                    [summary["videos_per_s"] - summary["videos_per_s_min"]],
                    [summary["videos_per_s_max"] - summary["videos_per_s"]],
                ],
                fmt=marker,
                color=colors.get(row["family"], "black"),
                markerfacecolor="none" if mode == "end_to_end" else colors.get(row["family"], "black"),
                capsize=3,
            )
            if mode == "model_only":
                axis.annotate(
                    f"{row['name']} {row['size']}",
                    (row["gflops_per_video"], summary["videos_per_s"]),
                    textcoords="offset points",
                    xytext=(5, 4),
                    fontsize=8,
                )
    axis.plot([], [], "o", color="gray", label="model only")
    axis.plot([], [], "^", color="gray", markerfacecolor="none", label="end to end")
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("GFLOPs per video")
    axis.set_ylabel("throughput (videos/s)")
    settings = results["settings"]
    axis.set_title(
        f"SLLM benchmark: {settings['device']}, {settings['dtype']}, {settings['threads']} thread(s), "
        f"batch {settings['batch_size']}" + (" (tiny configs)" if settings["tiny"] else "")
    )
    axis.grid(True, which="both", alpha=0.3)
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path

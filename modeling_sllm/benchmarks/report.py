# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
The benchmark's results read as a report: SLLM/baseline ratios, speed-ups of a lower precision over float32, and the
Markdown, console and plot forms of the results dict that [`run_benchmark`] returns (the targets themselves:
[`modeling_sllm.benchmarks.targets`]).

Speed-ups are given as a ratio of median throughputs (the figure used for the targets), as the median of the
per-round ratios, as a ratio of the fastest runs and as a ratio of median process CPU times (the last two are less
disturbed by other processes), next to the FLOP ratio (the ideal speed-up).
"""

import os
import statistics
from pathlib import Path

from modeling_sllm.benchmarks.models import SLLM_FAMILIES


__all__ = [
    "compute_dtype_ratios",
    "compute_ratios",
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
    SLLM/baseline ratios for each SLLM row against every other row of the same dtype (the Text4Vis baselines of its
    own size only).

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
            if baseline["family"] == "sllm" or baseline.get("dtype") != sllm.get("dtype"):
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


def compute_dtype_ratios(rows: dict[str, dict], times: dict[str, list[float]]) -> list[dict]:
    """
    Speed-up of every model in each lower precision over the same model in float32, from the same run.

    Returns:
        `list[dict]`: one dict per (model, dtype, mode) with `key` (`"family@size"`), `dtype`, `mode`,
        `throughput_ratio` (ratio of medians), `paired_median_ratio`, `min_time_ratio` and `cpu_time_ratio`.
    """
    ratios = []
    for key, row in rows.items():
        base_key, _, dtype = key.rpartition(":")
        reference = rows.get(f"{base_key}:float32")
        if dtype == "float32" or reference is None:
            continue
        for mode in ("model_only", "end_to_end"):
            low_times, float_times = times.get(f"{mode}:{key}"), times.get(f"{mode}:{reference['key']}")
            if not low_times or not float_times:
                continue
            ratios.append(
                {
                    "key": base_key,
                    "name": row["name"],
                    "dtype": dtype,
                    "mode": mode,
                    "throughput_ratio": safe_ratio(row[mode]["videos_per_s"], reference[mode]["videos_per_s"]),
                    "paired_median_ratio": statistics.median(
                        f / b for b, f in zip(low_times, float_times, strict=True)
                    ),
                    "min_time_ratio": min(float_times) / min(low_times),
                    "cpu_time_ratio": safe_ratio(reference[mode].get("cpu_median_s"), row[mode].get("cpu_median_s")),
                }
            )
    return ratios


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
    return {row["key"]: f"{row['name']} ({row['size']}, {row.get('dtype', 'float32')})" for row in results["rows"]}


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


_TARGETS_TITLE = "Targets (issues 4 and 13; defined for ViT-B/32, N = 8, CPU, 2 threads, batch 1; medians in-run):"


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
        "frames decoded to RGB per video end to end. GFLOP/s: achieved model-only, and as a fraction of the "
        "large-matmul GFLOP/s of the row's dtype measured in the same run.",
        "",
        "| Model | Size | Dtype | Frames in / head | Converted frames | GFLOPs | Params (M) | Peak mem (MiB) "
        "| Model-only videos/s | End-to-end videos/s | Preprocess share | GFLOP/s (of matmul) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in results["rows"]:
        cells = [
            row["name"],
            row["size"],
            row.get("dtype", "float32"),
            f"{row['encoded_frames']} / {row['temporal_frames']}",
            str(row.get("frames_converted_per_video", "n/a")),
            f"{row['gflops_per_video']:.4g}",
            _fmt(row["params_millions"], 1),
            _fmt(row["peak_memory_mib"], 1),
            _throughput_cell(row.get("model_only")),
            _throughput_cell(row.get("end_to_end")),
            _percent(row.get("preprocess_share_of_end_to_end"), 1),
            f"{_fmt(row.get('achieved_gflops_per_s'), 0)} ({_percent(row.get('fraction_of_matmul_peak'), 0)})",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", *_machine_lines(results, markdown=True)]
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
    if results.get("dtype_ratios"):
        lines += [
            "",
            "Speed-up of each model in a lower precision over the same model in float32 (same run): ratio of median "
            "throughputs, median of the per-round ratios, fastest runs, CPU time.",
            "",
            "| Model | Dtype | Mode | Speed-up (medians) | Per-round median | Fastest runs | CPU time |",
            "|---|---|---|---|---|---|---|",
        ]
        for ratio in results["dtype_ratios"]:
            cells = [
                f"{ratio['name']} ({ratio['key'].split('@')[1]})",
                ratio["dtype"],
                ratio["mode"].replace("_", "-"),
                *(_fmt(ratio.get(key), suffix="x") for key in _DTYPE_RATIO_KEYS),
            ]
            lines.append("| " + " | ".join(cells) + " |")
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


_DTYPE_RATIO_KEYS = ("throughput_ratio", "paired_median_ratio", "min_time_ratio", "cpu_time_ratio")


def _machine_lines(results: dict, markdown: bool) -> list[str]:
    """The large-matmul GFLOP/s per dtype, the bare tower's 2N/N ratio and SLLM's share of time outside the tower."""
    bullet = "- " if markdown else "  "
    lines = []
    for dtype, peak in results.get("matmul", {}).items():
        lines.append(
            f"{bullet}large matmul ({peak['size']}x{peak['size']}) in {dtype}: {peak['gflops_per_s']:.0f} GFLOP/s "
            f"median ({peak['gflops_per_s_max']:.0f} fastest run)"
        )
    for tower in results.get("towers", []):
        short, long = tower["frames"]
        lines.append(
            f"{bullet}bare CLIP tower {tower['size']} in {tower['dtype']}: {long} frames take "
            f"{tower['time_ratio']:.3f}x the time of {short} (per-round median {tower['paired_median_ratio']:.3f}x, "
            f"fastest runs {tower['min_time_ratio']:.3f}x)"
        )
    for row in results["rows"]:
        if row.get("outside_tower_share") is not None:
            lines.append(
                f"{bullet}{row['name']} ({row['size']}, {row['dtype']}): {_percent(row['outside_tower_share'])} of "
                f"its model time outside the vision tower (restoration, temporal head, classifier; "
                f"{_percent(row['outside_tower_share_min'])} at the lowest)"
            )
    return lines


def format_table(results: dict) -> str:
    """A plain-text version of the results for the console."""
    header = (
        f"{'model':<18} {'size':<5} {'dtype':<8} {'frames':>7} {'conv':>5} {'GFLOPs':>8} {'mem MiB':>8} "
        f"{'model-only v/s [min-max]':>26} {'end-to-end v/s [min-max]':>26} {'GFLOP/s (of matmul)':>20}"
    )
    lines = [header, "-" * len(header)]
    for row in results["rows"]:
        frames = f"{row['encoded_frames']}/{row['temporal_frames']}"
        achieved = f"{_fmt(row.get('achieved_gflops_per_s'), 0)} ({_percent(row.get('fraction_of_matmul_peak'), 0)})"
        lines.append(
            f"{row['name']:<18} {row['size']:<5} {row.get('dtype', 'float32'):<8} {frames:>7} "
            f"{str(row.get('frames_converted_per_video', '-')):>5} "
            f"{row['gflops_per_video']:>8.4g} {_fmt(row['peak_memory_mib'], 1):>8} "
            f"{_throughput_cell(row.get('model_only'), 3):>26} {_throughput_cell(row.get('end_to_end'), 3):>26} "
            f"{achieved:>20}"
        )
    lines += ["", *_machine_lines(results, markdown=False)]
    for component in results["components"]:
        lines.append(
            f"  {component['key']}: {1000 * component['median_s']:.2f} ms median, "
            f"{_percent(component['share_of_sllm_model_time'])} of SLLM model time "
            f"({_percent(component['share_of_sllm_model_time_min'])} from the fastest runs, "
            f"{_percent(component.get('share_of_sllm_model_cpu_time'))} by CPU time), "
            f"{_percent(component['share_of_sllm_flops'])} of its FLOPs"
        )
    names = _row_names(results)
    if results.get("dtype_ratios"):
        lines += [
            "",
            "Speed-up over float32, same run (ratio of medians / per-round median / fastest runs / CPU time):",
        ]
        for ratio in results["dtype_ratios"]:
            values = " / ".join(_fmt(ratio.get(key), suffix="x") for key in _DTYPE_RATIO_KEYS)
            lines.append(
                f"  {ratio['name'] + ' (' + ratio['key'].split('@')[1] + ')':<26} {ratio['dtype']:<9} "
                f"{ratio['mode']:<10} {values}"
            )
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
                    f"{row['name']} {row['size']} {row.get('dtype', '')}".rstrip(),
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

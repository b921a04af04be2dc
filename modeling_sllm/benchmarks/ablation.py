# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
The restoration ablation on the demo data, from one command, over several seeds:

    python3 scripts/ablation.py --config configs/demo.yaml --output_dir ablation_outputs

For every seed it trains, with the demo's settings (`--config`, any train.py argument can be overridden):

- `baseline_2n`: the tower on all 2N sampled frames (Text4Vis with T = 2N frames, `keep_interval=1`);
- `baseline_n`: the tower on N frames (`keep_interval=1`, `num_frames=N`);
- `sllm_paper`: SLLM, N encoded frames, the paper's restoration and KL loss;
- `sllm_residual`: SLLM, N encoded frames, residual restoration (interpolation + learned correction) with the
  normalised-MSE loss;
- `sllm_residual_own_loss`: the same, but only the restoration loss trains the restoration module (the
  classification loss does not reach it through the restored embeddings, `restoration_trained_by_head=False`);

and reports held-out top-1, training time, inference throughput (end to end on the held-out videos, and model only),
and for the SLLM variants the restoration fidelity on the held-out videos (centred cosine and MSE of restored vs true
skipped-frame embeddings, beside linear interpolation and copying a neighbour). Writes `ablation.json` and
`ablation.md` (the table shown in the README) to `output_dir`.
"""

import json
import logging
import os
import statistics
import sys
import time
from dataclasses import dataclass, field

import torch
from transformers import HfArgumentParser

from modeling_sllm import SLLMForVideoClassification
from modeling_sllm.checks import check_positive_int
from modeling_sllm.data.arguments import SLLMDataArguments
from modeling_sllm.data.inputs import SLLMVideoTransform, sllm_collate_fn
from modeling_sllm.data.sources import load_video_datasets
from modeling_sllm.demo.data import prepare_demo_data
from modeling_sllm.evaluation.fidelity import restoration_fidelity
from modeling_sllm.evaluation.throughput import measure_model_throughput
from modeling_sllm.evaluation.timing import run_interleaved, summarize_times
from modeling_sllm.cli.parsing import arrange_help, parse_args_with_yaml
from modeling_sllm.training import cli as train_cli
from modeling_sllm.training.arguments import SLLMModelArguments, SLLMTrainingArguments


logger = logging.getLogger(__name__)

__all__ = [
    "VARIANTS",
    "SLLMAblationArguments",
    "cli",
    "interleaved_throughput",
    "main",
    "run_one",
    "summarise",
    "variant_arguments",
]

VARIANTS = ("baseline_2n", "baseline_n", "sllm_paper", "sllm_residual", "sllm_residual_own_loss")


@dataclass
class SLLMAblationArguments:
    """Arguments of the ablation (`sllm-ablation`, `scripts/ablation.py`); train.py arguments go after
    `--train_overrides`."""

    config: str = field(default="configs/demo.yaml", metadata={"help": "train.py YAML config the runs start from."})
    output_dir: str = field(default="ablation_outputs", metadata={"help": "Where the runs and the report go."})
    seeds: list[int] = field(default_factory=lambda: [3407, 1, 2], metadata={"help": "One run per seed and variant."})
    variants: list[str] = field(default_factory=lambda: list(VARIANTS), metadata={"help": f"Subset of {VARIANTS}."})
    num_frames: int = field(default=4, metadata={"help": "N: frames SLLM encodes (the 2N baseline encodes 2N)."})
    throughput_batch_size: int = field(default=16, metadata={"help": "Batch size of the model-only throughput."})
    train_overrides: list[str] = field(
        default_factory=list, metadata={"help": "Extra train.py arguments for every run, e.g. --num_train_epochs 10."}
    )


def variant_arguments(variant: str, num_frames: int) -> list[str]:
    """The train.py arguments that make `variant` out of the demo config, for `N = num_frames` encoded frames."""
    num_frames = check_positive_int("num_frames", num_frames)
    if variant == "baseline_2n":
        return ["--num_frames", str(2 * num_frames), "--keep_interval", "1"]
    if variant == "baseline_n":
        return ["--num_frames", str(num_frames), "--keep_interval", "1"]
    if variant == "sllm_paper":
        return ["--num_frames", str(num_frames), "--keep_interval", "2", "--restoration_mode", "paper",
                "--restoration_loss", "kl"]
    if variant == "sllm_residual":
        return ["--num_frames", str(num_frames), "--keep_interval", "2", "--restoration_mode", "residual",
                "--restoration_loss", "normalized_mse"]
    if variant == "sllm_residual_own_loss":
        return variant_arguments("sllm_residual", num_frames) + ["--restoration_trained_by_head", "false"]
    raise ValueError(f"Unknown variant {variant!r}; choose from {VARIANTS}.")


def run_one(args: SLLMAblationArguments, variant: str, seed: int) -> dict:
    """
    Trains `variant` with `seed` (through [`training.cli.main`]), then measures its model-only throughput and, for the
    SLLM variants, its restoration fidelity on the held-out videos. Returns the run's row of the report.
    """
    run_dir = os.path.join(args.output_dir, f"{variant}_seed{seed}")
    train_args = [
        "--config", args.config, *variant_arguments(variant, args.num_frames), "--seed", str(seed),
        "--output_dir", run_dir, "--overwrite_output_dir", "true", "--run_pipeline_on", "", "--disable_tqdm", "true",
        *args.train_overrides,
    ]
    start = time.perf_counter()
    results = train_cli.main(train_args)
    row = {
        "variant": variant,
        "seed": seed,
        "top1": results["eval_top1"],
        "train_seconds": results.get("train_runtime"),
        "eval_videos_per_second": results.get("eval_samples_per_second"),
        "wall_seconds": time.perf_counter() - start,
    }

    # model-only throughput and restoration fidelity on the held-out videos
    parser = HfArgumentParser((SLLMModelArguments, SLLMDataArguments, SLLMTrainingArguments))
    _, data_args, _ = parse_args_with_yaml(parser, train_args)
    if data_args.generate_demo_data:
        prepare_demo_data(data_args)
    data_args.train_list = data_args.train_dir = None
    validation = load_video_datasets(data_args).datasets["validation"]
    model = SLLMForVideoClassification.from_pretrained(run_dir).eval()
    config = model.config
    size = config.vision_config.image_size
    pixel_values = torch.randn(args.throughput_batch_size, config.num_frames, 3, size, size)
    with torch.inference_mode():
        row["model_videos_per_second"] = measure_model_throughput(
            model, pixel_values, args.throughput_batch_size, device="cpu", num_batches=5
        )
    if config.keep_interval > 1:
        validation.set_transform(SLLMVideoTransform.for_model(config, data_args, training=False, with_skipped=True))
        with torch.inference_mode():
            fidelity = restoration_fidelity(model, validation, batch_size=32, collate_fn=sllm_collate_fn,
                                            show_progress=False)
        row["fidelity"] = fidelity["methods"]
    logger.warning(f"{variant} seed {seed}: {json.dumps({k: v for k, v in row.items() if k != 'fidelity'})}")
    return row


def interleaved_throughput(args: SLLMAblationArguments, rows: list[dict], repetitions: int = 7) -> dict[str, dict]:
    """
    Model-only videos/s of each variant (its first seed's model) on random pixel values, timed with
    [`run_interleaved`] (round-robin after a warm-up round) so that the machine's load hits every variant alike:
    `{variant: {"median", "min", "max"}}`. The per-run numbers taken right after each training are kept in the JSON
    but depend on what else the machine was doing at that moment.
    """
    tasks = {}
    for variant in args.variants:
        runs = [row for row in rows if row["variant"] == variant]
        if not runs:
            continue
        run_dir = os.path.join(args.output_dir, f"{variant}_seed{runs[0]['seed']}")
        model = SLLMForVideoClassification.from_pretrained(run_dir).eval()
        size = model.config.vision_config.image_size
        pixel_values = torch.randn(args.throughput_batch_size, model.config.num_frames, 3, size, size)
        tasks[variant] = lambda model=model, pixel_values=pixel_values: model(pixel_values=pixel_values)
    if not tasks:
        return {}
    throughput = {}
    for variant, seconds in run_interleaved(tasks, repetitions=repetitions, warmup=1).items():
        summary = summarize_times(seconds, args.throughput_batch_size)
        throughput[variant] = {
            "median": summary["videos_per_s"],
            "min": summary["videos_per_s_min"],
            "max": summary["videos_per_s_max"],
        }
    return throughput


def _mean_std(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def summarise(rows: list[dict], throughput: dict[str, dict] | None = None) -> str:
    """The Markdown report: accuracy and times per variant (mean ± std over seeds), then the fidelity table."""
    throughput = throughput or {}
    lines = [
        "| variant | frames encoded | held-out top-1 (mean ± std) | per seed | train time (s, median) | "
        "eval videos/s end to end (median) | model videos/s, interleaved (median, min-max) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    variants = [variant for variant in VARIANTS if any(row["variant"] == variant for row in rows)]
    for variant in variants:
        runs = [row for row in rows if row["variant"] == variant]
        frames = {"baseline_2n": "2N", "baseline_n": "N"}.get(variant, "N (+N-1 restored)")
        per_seed = ", ".join(f"{run['top1']:.3f}" for run in runs)
        timing = throughput.get(variant)
        speed = f"{timing['median']:.0f} ({timing['min']:.0f}-{timing['max']:.0f})" if timing else "-"
        lines.append(
            f"| {variant} | {frames} | {_mean_std([r['top1'] for r in runs])} | "
            f"{per_seed} | {statistics.median(r['train_seconds'] for r in runs):.0f} | "
            f"{statistics.median(r['eval_videos_per_second'] for r in runs):.1f} | {speed} |"
        )
    fidelity_rows = [row for row in rows if "fidelity" in row]
    if fidelity_rows:
        lines += [
            "",
            "Restoration fidelity on the held-out videos (centred cosine to the true skipped-frame embedding, higher "
            "is better; MSE, lower is better), per seed:",
            "",
            "| variant | seed | restored | linear interpolation | copy left | copy right | restored MSE "
            "| interpolation MSE |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for row in fidelity_rows:
            methods = row["fidelity"]
            cosines = " | ".join(
                f"{methods[method]['centred_cosine']:.3f}"
                for method in ("restored", "linear_interpolation", "copy_left", "copy_right")
            )
            lines.append(
                f"| {row['variant']} | {row['seed']} | {cosines} | {methods['restored']['mse']:.4f} | "
                f"{methods['linear_interpolation']['mse']:.4f} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> list[dict]:
    """
    Parses `argv` (default: the command line; everything after `--train_overrides` goes to train.py), trains every
    (seed, variant) not already in `output_dir/ablation.json`, times the variants interleaved, and writes
    `ablation.json` and `ablation.md`. Returns the runs' rows.
    """
    parser = arrange_help(
        HfArgumentParser(
            SLLMAblationArguments,
            description="""\
Run the restoration ablation on the demo data over several seeds: for every seed, train the Text4Vis baselines on 2N
and N frames and the SLLM variants (paper and residual restoration) with train.py's settings from --config, then
report held-out top-1, training time, throughput (end to end and model only) and restoration fidelity; writes
ablation.json and ablation.md to --output_dir. Runs already in ablation.json are kept. Everything after
--train_overrides goes to train.py.""",
            epilog="examples:\n  python scripts/ablation.py --config configs/demo.yaml --output_dir ablation_outputs",
        )
    )
    argv = sys.argv[1:] if argv is None else argv
    if "--train_overrides" in argv:  # everything after it belongs to train.py
        cut = argv.index("--train_overrides")
        argv, overrides = argv[:cut], argv[cut + 1 :]
    else:
        overrides = []
    (args,) = parser.parse_args_into_dataclasses(args=argv)
    args.train_overrides = list(args.train_overrides) + overrides
    unknown = sorted(set(args.variants) - set(VARIANTS))
    if unknown:
        raise ValueError(f"Unknown variants {unknown}; choose from {VARIANTS}.")
    check_positive_int("--num_frames", args.num_frames)
    check_positive_int("--throughput_batch_size", args.throughput_batch_size)
    os.makedirs(args.output_dir, exist_ok=True)
    logging.basicConfig(format="%(asctime)s - %(levelname)s - %(name)s - %(message)s", level=logging.WARNING)

    rows = []
    report_path = os.path.join(args.output_dir, "ablation.json")
    if os.path.isfile(report_path):  # a finished run is kept: an interrupted ablation continues where it stopped
        with open(report_path, encoding="utf-8") as handle:
            rows = [row for row in json.load(handle)["runs"] if row["seed"] in args.seeds]
        if rows:
            logger.warning(f"Reusing {len(rows)} finished runs of {report_path}")
    done = {(row["variant"], row["seed"]) for row in rows}
    for seed in args.seeds:
        for variant in args.variants:
            if (variant, seed) in done:
                continue
            rows.append(run_one(args, variant, seed))
            with open(report_path, "w", encoding="utf-8") as handle:
                json.dump({"arguments": vars(args), "runs": rows}, handle, indent=2)
    throughput = interleaved_throughput(args, rows)
    with open(report_path, "w", encoding="utf-8") as handle:
        json.dump(
            {"arguments": vars(args), "runs": rows, "interleaved_model_throughput": throughput}, handle, indent=2
        )
    report = summarise(rows, throughput)
    with open(os.path.join(args.output_dir, "ablation.md"), "w", encoding="utf-8") as handle:
        handle.write(report)
    print(report)
    return rows


def cli() -> None:
    """Console-script entry point: runs [`main`] on the command line's arguments (its return value is for Python
    callers)."""
    main()


if __name__ == "__main__":
    cli()

# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
`sllm-predict` (`scripts/predict.py`): classify many videos with an SLLM model, one JSONL/CSV row per video.

    sllm-predict --model_name_or_path MODEL --videos FOLDER --output predictions.jsonl
    sllm-predict --model_name_or_path MODEL --annotation_list val.txt --data_root videos/ --output predictions.csv
    sllm-predict --model_name_or_path MODEL --dataset_name DATASET --dataset_split test --output predictions.jsonl
    accelerate launch --multi_gpu --num_processes 2 scripts/predict.py ...   # the videos split between 2 processes

Rerunning a command resumes it: the videos already in the output are skipped. `--compare_with_pipeline` times the
script against a plain loop over `pipeline("video-classification")` (see `compare.py`).
"""

from transformers import HfArgumentParser

from modeling_sllm.cli.parsing import parse_args_with_yaml

from .arguments import SLLMPredictArguments


__all__ = ["cli", "main"]

DESCRIPTION = """\
Classify many videos with an SLLM model (a folder or a Hub id): a folder of videos, an annotation list or a `datasets`
split, decoded by the model's video processor in DataLoader workers and batched; one JSONL or CSV row per video (the
top-k labels and scores, or the video's error). Rerunning the command resumes it; under `accelerate launch` the videos
are split between the processes. `--config file.yaml` gives any option below from YAML; the command line overrides
it."""

EXAMPLES = """\
examples:
  python scripts/predict.py --model_name_or_path MODEL --videos FOLDER --output predictions.jsonl
  python scripts/predict.py --model_name_or_path MODEL --annotation_list val.txt --data_root videos/ --output p.csv
  accelerate launch --multi_gpu --num_processes 2 scripts/predict.py ..."""


def main(argv: list[str] | None = None) -> dict:
    """Runs `sllm-predict` with the command-line arguments `argv` (default: `sys.argv[1:]`); returns its summary."""
    parser = HfArgumentParser(SLLMPredictArguments, description=DESCRIPTION, epilog=EXAMPLES)
    (args,) = parse_args_with_yaml(parser, argv)
    if args.compare_with_pipeline:
        from .compare import compare_with_pipeline

        return compare_with_pipeline(args)
    from .predict import run_prediction

    return run_prediction(args)


def cli() -> None:
    main()


if __name__ == "__main__":
    cli()

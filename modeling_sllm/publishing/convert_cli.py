# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
Convert an authors' released SLLM / Text4Vis checkpoint (`last_model.pt`) into a Transformers folder
(`sllm-convert`, or `python3 scripts/convert_original_checkpoint.py`).

    sllm-convert \
        --checkpoint_path last_model.pt --label_file hmdb51_labels.csv \
        --clip_model_name_or_path openai/clip-vit-base-patch32 --prompt_mode normal \
        --release_eval_sampling --output_dir sllm-hmdb51-vit-b32

The output folder (safetensors weights, config with id2label, modeling code, SLLMVideoProcessor,
conversion_report.json) loads with `AutoModelForVideoClassification` and `pipeline("video-classification")`.
It is written to a temporary folder and renamed at the end, so an interrupted run leaves no half-written output.
"""

import logging
import os
from dataclasses import dataclass, field

from transformers import HfArgumentParser

from modeling_sllm.configuration_sllm import PROMPT_MODES
from modeling_sllm.publishing.conversion import convert_original_checkpoint, save_converted
from modeling_sllm.cli.parsing import parse_args_with_yaml

logger = logging.getLogger("convert_original_checkpoint")

DESCRIPTION = """\
Convert an authors' released SLLM / Text4Vis checkpoint (last_model.pt) into a Transformers folder: safetensors
weights, a config with the class names, the modeling code for trust_remote_code, the SLLMVideoProcessor and
conversion_report.json (where every source tensor went). The folder loads with AutoModelForVideoClassification and
pipeline("video-classification"); it is written beside output_dir and renamed at the end, so an interrupted run leaves
nothing half-written. `--config file.yaml` gives any option below from YAML; the command line overrides it."""

EXAMPLES = """\
examples:
  python scripts/convert_original_checkpoint.py --checkpoint_path last_model.pt --label_file hmdb51_labels.csv \\
      --clip_model_name_or_path openai/clip-vit-base-patch32 --release_eval_sampling --output_dir sllm-hmdb51-vit-b32\
"""


@dataclass
class ConversionArguments:
    """The released checkpoint, its classes and CLIP, and the converted folder."""

    checkpoint_path: str = field(metadata={"help": "The released .pt file (dict with model_state_dict)."})
    output_dir: str = field(metadata={"help": "Folder to write (save_pretrained layout)."})
    label_file: str = field(metadata={"help": "Label file with one class a line: id;name;description."})
    clip_model_name_or_path: str = field(
        default="openai/clip-vit-base-patch32",
        metadata={
            "help": "CLIP checkpoint the released model was trained from; its text encoder gives the classifier."
        },
    )
    prompt_mode: str = field(
        default="normal",
        metadata={
            "help": "Class prompts: 'normal' (name) or 'enhance' (name,description).",
            "choices": list(PROMPT_MODES),
        },
    )
    num_frames: int | None = field(default=None, metadata={"help": "Frames encoded per video (default 8)."})
    keep_interval: int | None = field(
        default=None, metadata={"help": "Keep 1 of k sampled frames (default: 2 with restoration, 1 without)."}
    )
    release_eval_sampling: bool = field(
        default=False,
        metadata={"help": "Reproduce the release's evaluation frames: 16 segment centres, even positions encoded."},
    )
    vision_head_dim: int = field(default=64, metadata={"help": "Attention head size of the ViT (64 for OpenAI ViTs)."})
    head_dim: int = field(default=64, metadata={"help": "Head size of the restoration and temporal transformers."})
    ignore_keys: list[str] = field(
        default_factory=list,
        metadata={"help": "Regular expressions of checkpoint keys to drop on purpose (reported)."},
    )
    allow_clip_mismatch: bool = field(
        default=False, metadata={"help": "Proceed when the CLIP checkpoint's vision architecture differs."}
    )
    overwrite_output_dir: bool = field(default=False, metadata={"help": "Replace an existing output_dir."})


def build_parser() -> HfArgumentParser:
    """The parser of `scripts/convert_original_checkpoint.py`: its help starts with the description."""
    return HfArgumentParser(ConversionArguments, description=DESCRIPTION, epilog=EXAMPLES)


def main(argv: list[str] | None = None) -> str:
    (args,) = parse_args_with_yaml(build_parser(), argv)
    if os.path.exists(args.output_dir) and not args.overwrite_output_dir:
        raise FileExistsError(f"{args.output_dir!r} already exists; pass --overwrite_output_dir to replace it.")

    model, processor, report = convert_original_checkpoint(
        args.checkpoint_path,
        clip_model_name_or_path=args.clip_model_name_or_path,
        label_file=args.label_file,
        prompt_mode=args.prompt_mode,
        num_frames=args.num_frames,
        keep_interval=args.keep_interval,
        release_eval_sampling=args.release_eval_sampling,
        vision_head_dim=args.vision_head_dim,
        head_dim=args.head_dim,
        ignore_keys=args.ignore_keys,
        allow_clip_mismatch=args.allow_clip_mismatch,
    )
    for key, shape in report.ignored_keys.items():
        logger.warning(f"Ignored checkpoint tensor {key} {tuple(shape)} (--ignore_keys).")
    output_dir = save_converted(args.output_dir, model, processor, report, overwrite=args.overwrite_output_dir)
    config = model.config
    logger.info(
        f"Wrote {output_dir}: {report.backbone}, {config.num_labels} classes, {config.num_frames} encoded frames, "
        f"keep_interval={config.keep_interval}, temporal head {config.temporal_head!r}, "
        f"{len(report.mapping)} source tensors converted."
    )
    return output_dir


def cli() -> None:
    """Console-script entry point: [`main`] on the command line's arguments (its result is for Python callers)."""
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    main()


if __name__ == "__main__":
    cli()

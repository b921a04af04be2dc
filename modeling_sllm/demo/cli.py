# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""Writes the offline demo dataset (moving and transforming shapes, real H.264 mp4 files) used by `configs/demo.yaml`.

Example:

```bash
python scripts/make_demo_data.py --root demo_data --num_train_per_class 16 --num_val_per_class 6
```

A complete dataset already at `--root` with the same parameters is reused (pass `--overwrite` to rebuild it).
"""

import json
from dataclasses import dataclass, field

from transformers import HfArgumentParser
from transformers.utils import logging

from modeling_sllm.demo.data import DEMO_CLASSES, generate_demo_dataset
from modeling_sllm.cli.parsing import parse_args_with_yaml


__all__ = ["DemoDataArguments", "cli", "main"]

DESCRIPTION = """\
Write the offline demo dataset of configs/demo.yaml: real H.264 mp4 videos of moving and transforming shapes in 10
classes that come in time-reversed pairs (frame order matters), with train/validation annotation lists and a label
file. A complete dataset already at --root with the same parameters is reused (--overwrite rebuilds it).
`--config file.yaml` gives any option below from YAML; the command line overrides it."""

EXAMPLES = """\
examples:
  python scripts/make_demo_data.py --root demo_data --num_train_per_class 16 --num_val_per_class 6"""


@dataclass
class DemoDataArguments:
    """Arguments of `sllm-make-demo-data` (`scripts/make_demo_data.py`): those of [`generate_demo_dataset`]."""

    root: str = field(default="demo_data", metadata={"help": "Folder of the dataset."})
    num_train_per_class: int = field(default=16, metadata={"help": "Training videos per class."})
    num_val_per_class: int = field(default=6, metadata={"help": "Validation videos per class."})
    num_frames: int = field(default=32, metadata={"help": "Frames per video."})
    size: int = field(default=64, metadata={"help": "Side of the square frames (even)."})
    seed: int = field(default=0, metadata={"help": "Seed of all random choices."})
    fps: int = field(default=16, metadata={"help": "Frame rate written in the files."})
    overwrite: bool = field(default=False, metadata={"help": "Rebuild even if a complete dataset exists."})


def main(argv: list[str] | None = None) -> dict[str, str]:
    """Parses `argv` (default: the command line), writes (or reuses) the demo dataset and returns its paths."""
    parser = HfArgumentParser(DemoDataArguments, description=DESCRIPTION, epilog=EXAMPLES)
    (args,) = parse_args_with_yaml(parser, argv)
    logging.set_verbosity_info()
    paths = generate_demo_dataset(
        args.root,
        num_train_per_class=args.num_train_per_class,
        num_val_per_class=args.num_val_per_class,
        num_frames=args.num_frames,
        size=args.size,
        seed=args.seed,
        overwrite=args.overwrite,
        fps=args.fps,
    )
    total = len(DEMO_CLASSES) * (args.num_train_per_class + args.num_val_per_class)
    print(f"Demo dataset: {len(DEMO_CLASSES)} classes, {total} videos")
    print(json.dumps(paths, indent=2))
    return paths


def cli() -> None:
    """Console-script entry point: runs [`main`] on the command line's arguments (its return value is for Python
    callers)."""
    main()


if __name__ == "__main__":
    cli()

# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""The data arguments of the training and evaluation scripts: where the videos and labels come from, the evaluation
views, and the training augmentation."""

from dataclasses import dataclass, field

from modeling_sllm.checks import check_positive_int
from modeling_sllm.video_io import DEFAULT_FRAME_TEMPLATE


__all__ = ["VALIDATION_LEVELS", "SLLMDataArguments", "validation_level"]

# What the pre-flight check does to every video before training, from the cheapest to the most thorough
VALIDATION_LEVELS = ("none", "metadata", "auto", "packets", "full")


@dataclass
class SLLMDataArguments:
    """Where the videos and labels come from, how they are read, the evaluation views and the training augmentation."""

    dataset_name: str | None = field(
        default=None,
        metadata={
            "help": "A `datasets` dataset: Hub id, local loading script, a folder of data files (e.g. WebDataset "
            "tar shards `train-00000.tar`, ...), or a `save_to_disk` folder (a DatasetDict, or a plain Dataset: one "
            "split)."
        },
    )
    dataset_config_name: str | None = field(default=None, metadata={"help": "Configuration of `dataset_name`."})
    train_split: str = field(
        default="train",
        metadata={
            "help": "Training split of `dataset_name`. A plain `Dataset.save_to_disk` folder is one split, named by "
            "the split it was saved with, else 'train'."
        },
    )
    validation_split: str = field(default="validation", metadata={"help": "Evaluation split of `dataset_name`."})
    streaming: bool = field(
        default=False,
        metadata={
            "help": "Stream the training split of `dataset_name` (an IterableDataset: constant memory, no pre-flight "
            "pass; needs --max_steps). Shuffled with a buffer, split between processes with split_dataset_by_node."
        },
    )
    shuffle_buffer_size: int = field(
        default=256,
        metadata={
            "help": "Streaming: rows held for shuffling (each holds its encoded video, so memory grows with it)."
        },
    )
    max_bad_videos: int = field(
        default=0,
        metadata={
            "help": "Streaming: videos that cannot be read are skipped, logged by name and counted; one more than "
            "this stops the run with an error listing them (0: the first one stops it)."
        },
    )
    train_list: str | None = field(
        default=None,
        metadata={"help": "Annotation list `path total_num_frames label` (the release's format) for training."},
    )
    validation_list: str | None = field(default=None, metadata={"help": "Annotation list for evaluation."})
    data_root: str | None = field(
        default=None, metadata={"help": "Folder that the paths of the annotation lists are relative to."}
    )
    label_file: str | None = field(
        default=None, metadata={"help": "Label file `id;name;description` (required with annotation lists)."}
    )
    train_dir: str | None = field(default=None, metadata={"help": "Videofolder tree `root/<class>/<video>` to train."})
    validation_dir: str | None = field(default=None, metadata={"help": "Videofolder tree to evaluate."})
    video_column: str = field(default="video", metadata={"help": "Video column of `dataset_name`."})
    label_column: str = field(default="label", metadata={"help": "Label column of `dataset_name`."})
    frame_template: str = field(
        default=DEFAULT_FRAME_TEMPLATE, metadata={"help": "File names of the frames in a frame folder."}
    )
    frame_start_index: int = field(default=1, metadata={"help": "Number of the first frame file of a folder."})
    max_train_samples: int | None = field(
        default=None, metadata={"help": "Keep only the first N training videos (debugging); logged."}
    )
    max_eval_samples: int | None = field(
        default=None, metadata={"help": "Keep only the first N evaluation videos (debugging); logged."}
    )
    validate_data: str = field(
        default="metadata",
        metadata={
            "help": "Pre-flight check of every video before training: 'none' (paths only), 'metadata' (open the "
            "container, read its header and index: fast), 'auto' (metadata, then the packets of videos the index "
            "cannot count), 'packets' (read every packet: finds truncated files), 'full' (decode every frame). "
            "true = metadata, false = none."
        },
    )
    skip_bad_videos: bool = field(
        default=False,
        metadata={
            "help": "Skip the videos that fail the pre-flight check (one report: the total, then one line per video) "
            "instead of stopping."
        },
    )
    preprocessing_num_workers: int | None = field(
        default=None, metadata={"help": "Processes for the pre-flight check."}
    )
    num_clips: int = field(default=1, metadata={"help": "Evaluation clips per video (multi-view testing)."})
    num_crops: int = field(default=1, metadata={"help": "Evaluation crops per clip: 1 (centre) or 3."})
    multiscale_crop: bool = field(default=True, metadata={"help": "Training: multi-scale random crop."})
    flip_prob: float = field(
        default=0.5, metadata={"help": "Training: horizontal flip probability (0 where left/right is the class)."}
    )
    color_jitter_prob: float = field(default=0.8, metadata={"help": "Training: colour jitter probability."})
    grayscale_prob: float = field(default=0.2, metadata={"help": "Training: grayscale probability."})
    generate_demo_data: bool = field(
        default=False,
        metadata={
            "help": "Generate the procedural demo videos into `data_root` (reused when complete) and train on them."
        },
    )
    demo_train_videos_per_class: int = field(default=48, metadata={"help": "Demo training videos per class."})
    demo_validation_videos_per_class: int = field(default=10, metadata={"help": "Demo held-out videos per class."})

    def __post_init__(self):
        self.validate_data = validation_level(self.validate_data)
        check_positive_int("shuffle_buffer_size", self.shuffle_buffer_size)
        check_positive_int("max_bad_videos", self.max_bad_videos, minimum=0)
        check_positive_int("num_clips", self.num_clips)
        if self.num_crops not in (1, 3):
            raise ValueError(f"`num_crops` must be 1 (centre crop) or 3 (Text4Vis 3 crops), got {self.num_crops!r}")
        check_positive_int("frame_start_index", self.frame_start_index, minimum=0)
        for name in ("max_train_samples", "max_eval_samples", "preprocessing_num_workers"):
            if getattr(self, name) is not None:
                check_positive_int(name, getattr(self, name))
        for name in ("flip_prob", "color_jitter_prob", "grayscale_prob"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise ValueError(f"`{name}` must be a probability in [0, 1], got {value!r}")
        if self.generate_demo_data:  # it points the data at the demo videos (`prepare_demo_data`): say so, not drop
            sources = ("train_list", "validation_list", "label_file", "train_dir", "validation_dir", "dataset_name")
            given = [name for name in sources if getattr(self, name) is not None]
            if given:
                raise ValueError(
                    "generate_demo_data trains and evaluates on the demo videos it writes to data_root, so it cannot "
                    f"be combined with {', '.join('--' + name for name in given)}: pass --generate_demo_data false "
                    "to use your own data."
                )


def validation_level(value) -> str:
    """`validate_data` as one of `VALIDATION_LEVELS` (booleans of older configs: true = metadata, false = none)."""
    aliases = {"true": "metadata", "yes": "metadata", "1": "metadata", "false": "none", "no": "none", "0": "none"}
    if isinstance(value, bool):
        return "metadata" if value else "none"
    if isinstance(value, str) and value.lower() in VALIDATION_LEVELS + tuple(aliases):
        return aliases.get(value.lower(), value.lower())
    raise ValueError(f"`validate_data` must be one of {', '.join(VALIDATION_LEVELS)} (or true/false), got {value!r}")

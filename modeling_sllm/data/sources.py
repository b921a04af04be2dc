# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
Video datasets for SLLM as Hugging Face `datasets`: the rows of a source, checked before training.

Three sources give the same rows, `{"video", "total_num_frames", "label", "source"}` (`total_num_frames`: the frames
counted in the video file or folder, -1 when not counted; not the `num_frames` a model encodes):

- annotation lists in the authors' release format, one video a line: `path total_num_frames label` (space-separated;
  `path` is a video file or a folder of frames `img_00001.jpg`, ..., relative to `data_root`), with a label file
  `id;name;description`;
- a "videofolder" tree `root/<class name>/<video file or frame folder>`;
- any `datasets` dataset (Hub id, loading script, folder of data files such as WebDataset tar shards, or a
  `save_to_disk` folder of a DatasetDict or a plain Dataset) with a video column (a path, or `{"path", "bytes"}` as
  the `Video(decode=False)` feature gives) and a label column (`ClassLabel`, int or class name): see
  `modeling_sllm.data.hf_datasets` (rows kept lazy, in memory-mapped Arrow files) and, with `--streaming`,
  `modeling_sllm.data.streaming`.

A video file is one whose extension is in `VIDEO_EXTENSIONS` (one rule for lists, folders and datasets). Rows only
hold paths or bytes; `modeling_sllm.data.inputs.SLLMVideoTransform` turns them into model inputs each time a row is
read.

Bad data is found before training, never hours later in a DataLoader worker:

- a malformed list line, a label outside the label file, a class folder that is not in the label file: `ValueError`
  naming the file and line, when the dataset is built;
- the pre-flight check (`modeling_sllm.data.preflight`, level `--validate_data`, default `metadata`: every container
  opened and its stream header read) finds missing files, files that are not videos, unreadable, empty or (with
  `packets`/`full`) truncated videos, and frame folders with a missing frame: it stops with ONE report (the total,
  one line per video), or with `skip_bad_videos=True` drops them and logs that report;
- an error while reading a clip during training still names the video and its list line.
"""

import os
from collections.abc import Sequence
from typing import Any, NamedTuple

from transformers.utils import logging

from modeling_sllm.data.arguments import SLLMDataArguments
from modeling_sllm.data.hf_datasets import load_dataset_rows
from modeling_sllm.data.preflight import validate_video_dataset
from modeling_sllm.data.rows import ROW_COLUMNS, VIDEO_EXTENSIONS, is_video_file, video_name, video_source
from modeling_sllm.text_features import SLLMLabel, read_label_file
from modeling_sllm.video_io import DEFAULT_FRAME_TEMPLATE


logger = logging.get_logger(__name__)


class SLLMVideoData(NamedTuple):
    """The datasets of a source and its classes (`labels[i].id == i`)."""

    datasets: Any  # datasets.DatasetDict
    labels: list[SLLMLabel]

    @property
    def id2label(self) -> dict[int, str]:
        return {label.id: label.name for label in self.labels}


# --------------------------------------------------------------------------------------------------------------------
# Sources -> rows


def _resolve_path(path: str, root: str | None) -> str:
    path = os.path.expanduser(path)
    return path if root is None or os.path.isabs(path) else os.path.join(root, path)


def read_annotation_list(list_file: str, labels: Sequence[SLLMLabel], data_root: str | None = None) -> list[dict]:
    """
    Rows of an annotation list `path total_num_frames label` (one video a line; the path may contain spaces).

    Raises:
        `FileNotFoundError` for a missing list; `ValueError` naming `file:line` for a malformed line, a frame count
        that is not a non-negative integer, or a label that is not an id of the label file.
    """
    if not os.path.isfile(list_file):
        raise FileNotFoundError(f"Annotation list {list_file!r} does not exist.")
    num_classes = len(labels)
    rows = []
    with open(list_file, encoding="utf-8") as handle:
        for line_number, raw_line in enumerate(handle, start=1):
            line = raw_line.strip()
            if not line or line.startswith("#"):
                continue
            where = f"{list_file}:{line_number}"
            fields = line.rsplit(None, 2)
            if len(fields) != 3:
                raise ValueError(f"{where}: expected 'path total_num_frames label', got {line!r}.")
            path, total_num_frames, label = fields
            try:
                total_num_frames, label = int(total_num_frames), int(label)
            except ValueError:
                raise ValueError(
                    f"{where}: the frame count and label must be integers, got {fields[1]!r} and {fields[2]!r}."
                ) from None
            if total_num_frames < 0:
                raise ValueError(f"{where}: negative frame count {total_num_frames}.")
            if not 0 <= label < num_classes:
                raise ValueError(
                    f"{where}: label {label} is not a class of the label file (ids 0..{num_classes - 1})."
                )
            rows.append(
                {
                    "video": _resolve_path(path, data_root),
                    "total_num_frames": total_num_frames,
                    "label": label,
                    "source": where,
                }
            )
    if not rows:
        raise ValueError(f"Annotation list {list_file!r} has no videos.")
    return rows


def _is_frame_folder(path: str, frame_template: str, frame_start_index: int) -> bool:
    return os.path.isdir(path) and os.path.isfile(os.path.join(path, frame_template.format(frame_start_index)))


def scan_video_folder(
    root: str,
    labels: Sequence[SLLMLabel] | None = None,
    frame_template: str = DEFAULT_FRAME_TEMPLATE,
    frame_start_index: int = 1,
) -> tuple[list[dict], list[SLLMLabel]]:
    """
    Rows of a videofolder tree `root/<class name>/<video file or frame folder>`.

    Classes are the label file's when `labels` is given (every class folder must name one of its classes), else the
    sorted folder names. Files that are neither videos (by extension) nor frame folders are skipped and counted in
    the log.

    Returns:
        `(rows, labels)`; `total_num_frames` of the rows is -1 (unknown until counted).
    """
    if not os.path.isdir(root):
        raise FileNotFoundError(f"Video folder {root!r} does not exist.")
    class_dirs = sorted(entry.name for entry in os.scandir(root) if entry.is_dir() and not entry.name.startswith("."))
    if not class_dirs:
        raise ValueError(f"Video folder {root!r} has no class sub-folders (expected root/<class>/<video>).")
    if labels is None:
        labels = [SLLMLabel(index, name) for index, name in enumerate(class_dirs)]
    name_to_id = {label.name: label.id for label in labels}
    unknown = [name for name in class_dirs if name not in name_to_id]
    if unknown:
        raise ValueError(
            f"Class folders {unknown} of {root!r} are not classes of the label file "
            f"(known: {sorted(name_to_id)[:10]}{'...' if len(name_to_id) > 10 else ''})."
        )
    rows, ignored = [], []
    for class_name in class_dirs:
        class_dir = os.path.join(root, class_name)
        for entry in sorted(os.scandir(class_dir), key=lambda entry: entry.name):
            if entry.name.startswith("."):
                continue
            is_video = entry.is_file() and is_video_file(entry.name)
            if is_video or _is_frame_folder(entry.path, frame_template, frame_start_index):
                rows.append(
                    {
                        "video": entry.path,
                        "total_num_frames": -1,
                        "label": name_to_id[class_name],
                        "source": entry.path,
                    }
                )
            else:
                ignored.append(entry.path)
    if ignored:
        logger.warning(
            f"Ignored {len(ignored)} entries of {root!r} that are neither video files ({' '.join(VIDEO_EXTENSIONS)})"
            f" nor frame folders with {frame_template.format(frame_start_index)!r}: {ignored[:5]}"
        )
    if not rows:
        raise ValueError(f"Video folder {root!r} has no videos.")
    return rows, list(labels)


def load_video_datasets(data_args: SLLMDataArguments, training_args=None) -> SLLMVideoData:
    """
    Builds the `train` and `validation` datasets (rows `{"video", "total_num_frames", "label", "source"}`) from the
    source named by `data_args`: `dataset_name`, annotation lists (`train_list`/`validation_list` + `label_file`), or
    videofolder trees (`train_dir`/`validation_dir`, optional `label_file`). A split without a source is left out.

    With `data_args.streaming` and the run's `training_args` (for `max_steps`, the process rank and count), the
    training split of `dataset_name` is a `datasets.IterableDataset` of rows (see `modeling_sllm.data.streaming`).
    """
    import datasets

    sources = [
        name
        for name, given in (
            ("dataset_name", data_args.dataset_name),
            ("train_list/validation_list", data_args.train_list or data_args.validation_list),
            ("train_dir/validation_dir", data_args.train_dir or data_args.validation_dir),
        )
        if given
    ]
    if len(sources) != 1:
        raise ValueError(
            "Give exactly one data source (dataset_name, annotation lists, or video folders); got "
            f"{sources or 'none'}."
        )
    labels = read_label_file(data_args.label_file) if data_args.label_file else None

    if data_args.streaming:
        if training_args is not None:
            from modeling_sllm.data.streaming import load_streaming_datasets

            return SLLMVideoData(*load_streaming_datasets(data_args, training_args, labels))
        logger.warning("--streaming is a training option: the split is read as a lazy, memory-mapped dataset.")

    built: dict = {}
    if data_args.dataset_name:
        built, labels = load_dataset_rows(data_args, labels)
    else:
        rows: dict[str, list[dict]] = {}
        if data_args.train_list or data_args.validation_list:
            if labels is None:
                raise ValueError("Annotation lists need a label_file (`id;name;description`).")
            for split, list_file in (("train", data_args.train_list), ("validation", data_args.validation_list)):
                if list_file:
                    rows[split] = read_annotation_list(list_file, labels, data_args.data_root)
        else:
            for split, root in (("train", data_args.train_dir), ("validation", data_args.validation_dir)):
                if root:
                    rows[split], found = scan_video_folder(
                        root, labels, data_args.frame_template, data_args.frame_start_index
                    )
                    if labels is None:
                        labels = found
                    elif [label.name for label in found] != [label.name for label in labels]:
                        raise ValueError(
                            f"The class folders of {root!r} differ from those of the other split; give a label_file."
                        )
        features = datasets.Features(
            video=datasets.Value("string"),
            total_num_frames=datasets.Value("int64"),
            label=datasets.ClassLabel(names=[label.name for label in labels]),
            source=datasets.Value("string"),
        )
        built = {split: datasets.Dataset.from_list(rows[split], features=features) for split in rows}

    for split, dataset in built.items():
        limit = data_args.max_train_samples if split == "train" else data_args.max_eval_samples
        if limit is not None and limit < len(dataset):
            logger.warning(f"Using {limit} of {len(dataset)} {split} videos (max_{split}_samples).")
            dataset = dataset.select(range(limit))
        dataset = validate_video_dataset(dataset, split, data_args)
        logger.info(f"{split}: {len(dataset)} videos, {len(labels)} classes")
        built[split] = dataset
    return SLLMVideoData(datasets.DatasetDict(built), labels)


__all__ = [
    "ROW_COLUMNS",
    "VIDEO_EXTENSIONS",
    "SLLMDataArguments",
    "SLLMVideoData",
    "load_video_datasets",
    "read_annotation_list",
    "scan_video_folder",
    "validate_video_dataset",
    "video_name",
    "video_source",
]

# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
The videos `sllm-predict` classifies, and their decoding in DataLoader workers.

[`list_videos`] turns a source into an [`SLLMVideoList`] (in a fixed order, each video named by a unique key, the
`video` field of its output row):

- a video file, or a folder read recursively (every video file and frame folder under it; the key is the path);
- a videofolder tree `root/<class>/<video>` (`data.sources.scan_video_folder`; the class is the `true_label`);
- an annotation list `path total_num_frames label` (`data.sources.read_annotation_list`, paths under `data_root`;
  the key is the resolved path);
- a `datasets` dataset split with a video column (a path or a `{"path", "bytes"}` value); the key is the path when
  every row has a different one, else `name[split][index]`.

[`VideoPredictionInputs`] runs the model's video processor on one video (the pipeline's preprocessing: the same
call); a video that cannot be read gives its error instead of stopping the run.
"""

import os
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from transformers.utils import logging

from modeling_sllm.data.sources import (
    VIDEO_EXTENSIONS,
    read_annotation_list,
    scan_video_folder,
    video_source,
)
from modeling_sllm.text_features import SLLMLabel, read_label_file
from modeling_sllm.video_io import DEFAULT_FRAME_TEMPLATE


__all__ = [
    "SLLMVideoList",
    "VideoPredictionBatch",
    "VideoPredictionInputs",
    "collate_prediction_inputs",
    "format_error",
    "list_videos",
]

logger = logging.get_logger(__name__)


class _PathVideos(Sequence):
    """The videos of path rows (what the video processor reads for each)."""

    def __init__(self, paths: list[str]):
        self.paths = paths

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int):
        return self.paths[index]


class _DatasetVideos(Sequence):
    """The videos of a `datasets` column, read row by row (the bytes of a video are loaded only when it is decoded)."""

    def __init__(self, dataset, column: str):
        self.dataset, self.column = dataset, column

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int):
        return video_source(self.dataset[int(index)][self.column])


@dataclass
class SLLMVideoList:
    """
    The videos to classify, in order.

    Attributes:
        keys (`list[str]`): unique name of each video (the `video` field of its output row).
        videos (`Sequence`): what the video processor reads for video `i` (a path, a frame folder or bytes).
        true_labels (`list[str]`, *optional*): the class of each video when the source has one.
    """

    keys: list[str]
    videos: Sequence
    true_labels: list[str] | None = None

    def __len__(self) -> int:
        return len(self.keys)

    def __post_init__(self):
        labels = self.true_labels
        if len(self.keys) != len(self.videos) or (labels is not None and len(labels) != len(self.keys)):
            raise ValueError("SLLMVideoList needs one key, one video and (when given) one true label per video")
        bad = [key for key in self.keys if "\n" in key or "\r" in key]
        if bad:
            raise ValueError(f"Video names with line breaks cannot be written one per line: {bad[:3]!r}")


def _check_unique(keys: list[str], where: list[str]) -> None:
    first: dict[str, int] = {}
    for index, key in enumerate(keys):
        if key in first:
            raise ValueError(
                f"The video {key!r} is listed twice ({where[first[key]]} and {where[index]}): each video gets one "
                "output row, named by its path; remove the duplicate."
            )
        first[key] = index


def _is_frame_folder(path: str, frame_template: str, frame_start_index: int) -> bool:
    return os.path.isfile(os.path.join(path, frame_template.format(frame_start_index)))


def _scan_recursively(root: str, frame_template: str, frame_start_index: int) -> list[str]:
    """Every video file (by extension) and frame folder under `root`, depth first in sorted order."""
    found, ignored = [], 0
    for directory, subdirectories, files in os.walk(root):
        subdirectories.sort()
        kept = []
        for name in subdirectories:
            path = os.path.join(directory, name)
            if name.startswith("."):
                continue
            if _is_frame_folder(path, frame_template, frame_start_index):
                found.append(path)  # a video: its frames are not searched for more videos
            else:
                kept.append(name)
        subdirectories[:] = kept
        for name in sorted(files):
            if name.startswith("."):
                continue
            if name.lower().endswith(VIDEO_EXTENSIONS):
                found.append(os.path.join(directory, name))
            else:
                ignored += 1
    if ignored:
        logger.warning(f"Ignored {ignored} files under {root!r} that are not videos ({', '.join(VIDEO_EXTENSIONS)}).")
    return sorted(found)


def _labels(label_file: str | None, id2label: dict[int, str]) -> list[SLLMLabel]:
    if label_file is not None:
        return read_label_file(label_file)
    return [SLLMLabel(int(index), name) for index, name in sorted(id2label.items())]


def _list_dataset(args, id2label: dict[int, str]) -> SLLMVideoList:
    import datasets

    name = args.dataset_name
    if os.path.isdir(name) and (
        os.path.isfile(os.path.join(name, "dataset_dict.json")) or os.path.isfile(os.path.join(name, "state.json"))
    ):
        raw = datasets.load_from_disk(name)
    else:
        raw = datasets.load_dataset(name, args.dataset_config_name)
    split = args.dataset_split
    if isinstance(raw, datasets.DatasetDict):
        if split is None:
            if len(raw) != 1:
                raise ValueError(f"Dataset {name!r} has the splits {list(raw)}: choose one with --dataset_split.")
            split = next(iter(raw))
        if split not in raw:
            raise ValueError(f"Dataset {name!r} has no split {split!r}; it has {list(raw)}.")
        dataset = raw[split]
    else:
        dataset, split = raw, split or "data"
    for column in (args.video_column, args.label_column):
        if column is not None and column not in dataset.column_names:
            raise ValueError(
                f"Dataset {name!r} has no column {column!r}; its columns are {dataset.column_names} "
                "(set --video_column / --label_column)."
            )
    if isinstance(dataset.features[args.video_column], datasets.Video):
        # keep the path and the bytes: the model's processor decodes them (PyAV), in the DataLoader workers
        dataset = dataset.cast_column(args.video_column, datasets.Video(decode=False))
    columns = [args.video_column] + ([args.label_column] if args.label_column else [])
    dataset = dataset.select_columns(columns)

    video_feature = dataset.features[args.video_column]
    if isinstance(video_feature, datasets.Value) and video_feature.dtype in ("string", "large_string"):
        paths = list(dataset[args.video_column])
    else:
        flat = dataset.select_columns([args.video_column]).flatten()
        path_column = f"{args.video_column}.path"
        if path_column not in flat.column_names:
            raise ValueError(
                f"The video column {args.video_column!r} of {name!r} holds {video_feature}, not paths or "
                "{path, bytes} videos."
            )
        paths = list(flat[path_column])
    where = [f"{name}[{split}][{index}]" for index in range(len(dataset))]
    unique = all(paths) and len(set(paths)) == len(paths)
    keys = [str(path) for path in paths] if unique else where

    true_labels = None
    if args.label_column:
        feature = dataset.features[args.label_column]
        values = list(dataset[args.label_column])
        names = feature.names if isinstance(feature, datasets.ClassLabel) else None
        true_labels = []
        for index, value in enumerate(values):
            if isinstance(value, str):
                true_labels.append(value)
            elif names is not None and 0 <= value < len(names):
                true_labels.append(names[value])
            elif int(value) in id2label:
                true_labels.append(id2label[int(value)])
            else:
                raise ValueError(
                    f"{where[index]}: label {value!r} is neither a class name nor a class id of the model."
                )
    return SLLMVideoList(keys, _DatasetVideos(dataset, args.video_column), true_labels)


def list_videos(args, id2label: dict[int, str]) -> SLLMVideoList:
    """
    The videos of the source named by `args` ([`SLLMPredictArguments`]), in order; `id2label` (the model's classes)
    names the labels of an annotation list when no `label_file` is given.

    Raises:
        `FileNotFoundError` for a missing file or folder; `ValueError` for a source without videos, a video listed
        twice, or a bad list line, label or column (naming the file and line, or the dataset row).
    """
    if args.dataset_name:
        video_list = _list_dataset(args, id2label)
    elif args.annotation_list:
        labels = _labels(args.label_file, id2label)
        rows = read_annotation_list(args.annotation_list, labels, args.data_root)
        keys = [row["video"] for row in rows]
        _check_unique(keys, [row["source"] for row in rows])
        names = [labels[row["label"]].name for row in rows]
        video_list = SLLMVideoList(keys, _PathVideos(keys), names)
    elif args.folder_layout == "videofolder":
        labels = read_label_file(args.label_file) if args.label_file else None
        rows, labels = scan_video_folder(args.videos, labels, args.frame_template, args.frame_start_index)
        keys = [row["video"] for row in rows]
        video_list = SLLMVideoList(keys, _PathVideos(keys), [labels[row["label"]].name for row in rows])
    else:
        root = args.videos
        if not os.path.exists(root):
            raise FileNotFoundError(f"--videos {root!r} does not exist.")
        if os.path.isfile(root) or _is_frame_folder(root, args.frame_template, args.frame_start_index):
            keys = [root]
        else:
            keys = _scan_recursively(root, args.frame_template, args.frame_start_index)
        if not keys:
            raise ValueError(
                f"No videos under {root!r}: no files ending with {', '.join(VIDEO_EXTENSIONS)} and no frame folders "
                f"with {args.frame_template.format(args.frame_start_index)!r}."
            )
        video_list = SLLMVideoList(keys, _PathVideos(keys))
    return video_list


def format_error(error: BaseException) -> str:
    """An exception as one line: `Type: message` (line breaks become spaces, so that it fits one CSV/JSONL row)."""
    return " ".join(f"{type(error).__name__}: {error}".split())


class VideoPredictionInputs(torch.utils.data.Dataset):
    """
    Item `i` is video `indices[i]` of an [`SLLMVideoList`] prepared by the model's video processor exactly as the
    video-classification pipeline prepares it (`processor(video, num_frames=config.num_frames,
    do_sample_frames=True)`): `{"index", "pixel_values" (N, 3, H, W)}`, or `{"index", "error"}` when the video cannot
    be read or processed (the run goes on; the error becomes the video's row).
    """

    def __init__(
        self,
        video_list: SLLMVideoList,
        indices: Sequence[int],
        processor,
        num_frames: int,
        frame_template: str = DEFAULT_FRAME_TEMPLATE,
        frame_start_index: int = 1,
    ):
        self.video_list, self.indices, self.processor = video_list, list(indices), processor
        self.options = {"num_frames": num_frames, "do_sample_frames": True}
        if frame_template != DEFAULT_FRAME_TEMPLATE or frame_start_index != 1:
            self.options.update(frame_template=frame_template, frame_start_index=frame_start_index)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, position: int) -> dict:
        index = self.indices[position]
        try:
            video = self.video_list.videos[index]
            pixel_values = self.processor(video, **self.options, return_tensors="pt")["pixel_values"]
        except Exception as error:  # noqa: BLE001 -- written as the video's row, and counted in the log
            logger.warning(f"Cannot classify {self.video_list.keys[index]!r}: {format_error(error)}")
            return {"index": index, "error": format_error(error)}
        return {"index": index, "pixel_values": pixel_values[0]}


@dataclass
class VideoPredictionBatch:
    """
    A batch of [`VideoPredictionInputs`] items, in order.

    Attributes:
        indices (`list[int]`): the videos of the batch.
        errors (`dict[int, str]`): the videos that could not be prepared, and why.
        pixel_values (`torch.Tensor`, *optional*): `(B, N, 3, H, W)` for the `B` other videos, in order (`None` when
            every video of the batch failed).
    """

    indices: list[int]
    errors: dict[int, str]
    pixel_values: torch.Tensor | None


def collate_prediction_inputs(items: list[dict]) -> VideoPredictionBatch:
    """Stacks the `pixel_values` of the prepared videos of a batch and keeps the errors of the others."""
    errors = {item["index"]: item["error"] for item in items if "error" in item}
    values = [item["pixel_values"] for item in items if "error" not in item]
    shapes = {tuple(value.shape) for value in values}
    if len(shapes) > 1:
        raise ValueError(
            f"The video processor gave videos of different shapes {sorted(shapes)}; they cannot be batched."
        )
    return VideoPredictionBatch(
        indices=[item["index"] for item in items],
        errors=errors,
        pixel_values=torch.stack(values) if values else None,
    )

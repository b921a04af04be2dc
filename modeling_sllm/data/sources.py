# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
Video datasets for SLLM as Hugging Face `datasets`: the rows of a source, and the pre-flight check of their videos.

Three sources give the same rows, `{"video", "total_num_frames", "label", "source"}` (`total_num_frames`: the frames
in the video file or folder, not the `num_frames` a model encodes):

- annotation lists in the authors' release format, one video a line: `path total_num_frames label` (space-separated;
  `path` is a video file or a folder of frames `img_00001.jpg`, ..., relative to `data_root`), with a label file
  `id;name;description`;
- a "videofolder" tree `root/<class name>/<video file or frame folder>`;
- any `datasets` dataset (Hub id, loading script/folder, or a `save_to_disk` folder) with a video column (a path, or
  `{"path", "bytes"}` as the `Video(decode=False)` feature gives) and a label column (`ClassLabel`, int or class
  name).

Rows only hold paths; `modeling_sllm.data.inputs.SLLMVideoTransform` (for `Dataset.set_transform`) turns them into
model inputs each time a row is read.

Bad data is found before training, never hours later in a DataLoader worker:

- a malformed list line, a label outside the label file, a class folder that is not in the label file, a missing
  video file or frame folder: `ValueError`/`FileNotFoundError` naming the file and line, when the dataset is built;
- with `validate_data=True` (the default) every video is opened and its frames counted (a pre-flight pass,
  parallel with `preprocessing_num_workers`): an unreadable, empty or truncated video, or a frame folder with a
  missing frame file, stops with the list of the bad videos and why; with `skip_bad_videos=True` they are skipped and
  counted in the log instead. A list whose frame count disagrees with the video is logged and the real count used
  (a video shorter than the clip repeats frames, as TSN sampling does);
- an error while reading a clip during training still names the video and its list line.
"""

import os
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from transformers.utils import logging

from modeling_sllm.data.arguments import SLLMDataArguments
from modeling_sllm.text_features import SLLMLabel, read_label_file
from modeling_sllm.video_io import DEFAULT_FRAME_TEMPLATE, _folder_frame_numbers, count_frames


logger = logging.get_logger(__name__)

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v", ".mpg", ".mpeg", ".flv", ".wmv", ".3gp", ".ogv")
ROW_COLUMNS = ("video", "total_num_frames", "label", "source")


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
            is_video = entry.is_file() and entry.name.lower().endswith(VIDEO_EXTENSIONS)
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
            f"Ignored {len(ignored)} entries of {root!r} that are neither video files ({', '.join(VIDEO_EXTENSIONS)})"
            f" nor frame folders with {frame_template.format(frame_start_index)!r}: {ignored[:5]}"
        )
    if not rows:
        raise ValueError(f"Video folder {root!r} has no videos.")
    return rows, list(labels)


def _load_hub_dataset(data_args: SLLMDataArguments, labels: list[SLLMLabel] | None):
    import datasets

    if os.path.isdir(data_args.dataset_name) and os.path.isfile(
        os.path.join(data_args.dataset_name, "dataset_dict.json")
    ):
        raw = datasets.load_from_disk(data_args.dataset_name)
    else:
        raw = datasets.load_dataset(data_args.dataset_name, data_args.dataset_config_name)
    wanted = {"train": data_args.train_split, "validation": data_args.validation_split}
    splits = {key: split for key, split in wanted.items() if split in raw}
    if not splits:
        raise ValueError(
            f"Dataset {data_args.dataset_name!r} has none of the splits {sorted(set(wanted.values()))}; it has "
            f"{list(raw)}. Set train_split / validation_split."
        )
    for key in wanted.keys() - splits.keys():
        logger.warning(
            f"Dataset {data_args.dataset_name!r} has no split {wanted[key]!r} ({key}_split); it has {list(raw)}."
        )
    first = raw[next(iter(splits.values()))]
    for column in (data_args.video_column, data_args.label_column):
        if column not in first.column_names:
            raise ValueError(
                f"Dataset {data_args.dataset_name!r} has no column {column!r}; columns: {first.column_names}. "
                "Set video_column / label_column."
            )
    label_feature = first.features[data_args.label_column]
    if labels is None:
        if isinstance(label_feature, datasets.ClassLabel):
            labels = [SLLMLabel(index, name) for index, name in enumerate(label_feature.names)]
        else:
            values = sorted({value for split in splits.values() for value in raw[split][data_args.label_column]})
            if all(isinstance(value, str) for value in values):
                labels = [SLLMLabel(index, name) for index, name in enumerate(values)]
            else:
                raise ValueError(
                    f"The label column {data_args.label_column!r} holds ids without class names: give a label_file."
                )
    name_to_id = {label.name: label.id for label in labels}

    out = {}
    for key, split in splits.items():
        dataset = raw[split]
        if isinstance(dataset.features[data_args.video_column], datasets.Video):
            # torchcodec-free: keep the path/bytes, decode with PyAV in SLLMVideoTransform
            dataset = dataset.cast_column(data_args.video_column, datasets.Video(decode=False))
        rows = []
        for index, example in enumerate(dataset.select_columns([data_args.video_column, data_args.label_column])):
            where = f"{data_args.dataset_name}[{split}][{index}]"
            video, label = example[data_args.video_column], example[data_args.label_column]
            if isinstance(label, str):
                if label not in name_to_id:
                    raise ValueError(f"{where}: label {label!r} is not a known class.")
                label = name_to_id[label]
            if not isinstance(label, (int, np.integer)) or not 0 <= label < len(labels):
                raise ValueError(f"{where}: label {label!r} is outside [0, {len(labels)}).")
            if isinstance(video, dict):
                if video.get("bytes") is None and video.get("path") is None:
                    raise ValueError(f"{where}: the video has neither a path nor bytes.")
            elif not isinstance(video, str):
                raise ValueError(f"{where}: unsupported video value of type {type(video).__name__}.")
            rows.append({"video": video, "total_num_frames": -1, "label": int(label), "source": where})
        out[key] = rows
    return out, labels


def video_source(video):
    """What the video reader takes for a row's `video` value: a path, or the bytes of a `{"path", "bytes"}` value."""
    if isinstance(video, dict):
        return video["bytes"] if video.get("bytes") is not None else video["path"]
    return video


def video_name(video) -> str:
    """A row's `video` value as it is named in messages (its path, or `<video bytes>`)."""
    if isinstance(video, dict):
        return video.get("path") or "<video bytes>"
    return str(video)


def _check_exists(rows: list[dict], split: str, data_args: SLLMDataArguments) -> list[dict]:
    missing = [
        row for row in rows if isinstance(row["video"], str) and not os.path.exists(row["video"])
    ]
    if not missing:
        return rows
    listing = "; ".join(f"{row['source']}: {row['video']}" for row in missing[:10])
    if not data_args.skip_bad_videos:
        raise FileNotFoundError(
            f"{len(missing)} of {len(rows)} {split} videos do not exist ({listing}"
            f"{' ...' if len(missing) > 10 else ''}). Fix the paths/data_root, or set skip_bad_videos to skip them."
        )
    logger.warning(f"Skipping {len(missing)} missing {split} videos: {listing}")
    missing_ids = {id(row) for row in missing}
    return [row for row in rows if id(row) not in missing_ids]


def _preflight_row(row: dict, frame_template: str, frame_start_index: int) -> dict:
    source = video_source(row["video"])
    try:
        if isinstance(source, str) and os.path.isdir(source):
            numbers = _folder_frame_numbers(source, frame_template, frame_start_index)
            frames = len(numbers)
            expected = list(range(frame_start_index, frame_start_index + frames))
            gaps = sorted(set(expected) - set(numbers))
            error = "" if frames > 0 else f"no frame files matching {frame_template!r}"
            if gaps:
                missing = frame_template.format(gaps[0])
                error = f"frame file {missing!r} is missing ({len(gaps)} gap(s) in the numbering)"
            return {"counted_frames": frames, "error": error}
        frames = count_frames(source, frame_template=frame_template, frame_start_index=frame_start_index)
        error = "" if frames > 0 else "no decodable frames"
    except Exception as exc:  # reported with the row, never swallowed: the caller stops or skips and logs it
        frames, error = 0, f"{type(exc).__name__}: {exc}"
    return {"counted_frames": frames, "error": error}


def validate_video_dataset(dataset, split: str, data_args: SLLMDataArguments):
    """
    Pre-flight check: opens every video of `dataset`, counts its frames exactly and stores the count in
    `total_num_frames`.

    Raises:
        `ValueError` listing the bad videos (source line, path, reason) unless `data_args.skip_bad_videos`, in which
        case they are dropped and counted in the log.
    """
    checked = dataset.map(
        _preflight_row,
        fn_kwargs={"frame_template": data_args.frame_template, "frame_start_index": data_args.frame_start_index},
        num_proc=data_args.preprocessing_num_workers,
        desc=f"Checking {split} videos",
        load_from_cache_file=False,
    )
    bad = [index for index, error in enumerate(checked["error"]) if error]
    if bad:
        listing = "\n".join(
            f"  {checked[index]['source']}: {video_name(checked[index]['video'])}: {checked[index]['error']}"
            for index in bad[:20]
        )
        message = f"{len(bad)} of {len(checked)} {split} videos cannot be used:\n{listing}"
        if not data_args.skip_bad_videos:
            raise ValueError(message + "\nFix or remove them, or set skip_bad_videos to skip them.")
        logger.warning(f"Skipping {message}")
        bad_set = set(bad)
        checked = checked.select([index for index in range(len(checked)) if index not in bad_set])
    declared, counted = np.array(checked["total_num_frames"]), np.array(checked["counted_frames"])
    differ = np.flatnonzero((declared >= 0) & (declared != counted))
    if len(differ):
        examples = ", ".join(
            f"{checked[int(i)]['source']} says {declared[i]}, has {counted[i]}" for i in differ[:5]
        )
        logger.warning(
            f"{len(differ)} {split} videos have another frame count than their list line ({examples}); "
            "sampling uses the real count."
        )
    checked = checked.remove_columns(["total_num_frames", "error"])
    checked = checked.rename_column("counted_frames", "total_num_frames")
    return checked.select_columns(list(ROW_COLUMNS))


def load_video_datasets(data_args: SLLMDataArguments) -> SLLMVideoData:
    """
    Builds the `train` and `validation` datasets (rows `{"video", "total_num_frames", "label", "source"}`) from the
    source named by `data_args`: `dataset_name`, annotation lists (`train_list`/`validation_list` + `label_file`), or
    videofolder trees (`train_dir`/`validation_dir`, optional `label_file`). A split without a source is left out.
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
            f"Give exactly one data source (dataset_name, annotation lists, or video folders); got {sources or 'none'}."
        )
    labels = read_label_file(data_args.label_file) if data_args.label_file else None

    rows: dict[str, list[dict]] = {}
    if data_args.dataset_name:
        rows, labels = _load_hub_dataset(data_args, labels)
    elif data_args.train_list or data_args.validation_list:
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

    built = {}
    for split, split_rows in rows.items():
        limit = data_args.max_train_samples if split == "train" else data_args.max_eval_samples
        if limit is not None and limit < len(split_rows):
            logger.warning(f"Using {limit} of {len(split_rows)} {split} videos (max_{split}_samples).")
            split_rows = split_rows[:limit]
        split_rows = _check_exists(split_rows, split, data_args)
        if any(isinstance(row["video"], dict) for row in split_rows):
            features = None  # video bytes: let `datasets` infer the struct
        else:
            features = datasets.Features(
                video=datasets.Value("string"),
                total_num_frames=datasets.Value("int64"),
                label=datasets.ClassLabel(names=[label.name for label in labels]),
                source=datasets.Value("string"),
            )
        dataset = datasets.Dataset.from_list(split_rows, features=features)
        if data_args.validate_data:
            dataset = validate_video_dataset(dataset, split, data_args)
        logger.info(f"{split}: {len(dataset)} videos, {len(labels)} classes")
        built[split] = dataset
    return SLLMVideoData(datasets.DatasetDict(built), labels)


__all__ = [
    "ROW_COLUMNS",
    "SLLMDataArguments",
    "SLLMVideoData",
    "load_video_datasets",
    "read_annotation_list",
    "scan_video_folder",
    "validate_video_dataset",
    "video_name",
    "video_source",
]

# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
Rows of a `datasets` dataset (`--dataset_name`: Hub id, loading script, folder of data files, or a `save_to_disk`
folder), kept lazy: the video column (paths, or `{"path", "bytes"}` values) stays in the dataset's Arrow files,
memory-mapped from the on-disk cache, and is read row by row when a clip is decoded. Only three small columns are
built in memory next to it: the class id, the frame count (-1: not counted) and the row's name for messages.

Splits are found by name (`--train_split`, `--validation_split`) in a `DatasetDict`. A plain `Dataset` folder
(`Dataset.save_to_disk`) is one split, named by the split it was saved with (`load_dataset(..., split="test")` saves
"test"), else "train": by default it is the training split; `--validation_split train` evaluates it.

The `datasets` Video feature decodes with torchcodec; SLLM decodes with PyAV, so a Video column is cast to
`Video(decode=False)` (its `{"path", "bytes"}` values).
"""

import os

import numpy as np
from transformers.utils import logging

from modeling_sllm.data.arguments import SLLMDataArguments
from modeling_sllm.text_features import SLLMLabel


logger = logging.get_logger(__name__)

__all__ = [
    "check_video_feature",
    "class_labels",
    "is_saved_dataset_folder",
    "load_dataset_rows",
    "load_saved_splits",
    "rows_of_split",
    "select_splits",
    "to_label_id",
]

SPLIT_ROLES = ("train", "validation")


def is_saved_dataset_folder(path: str) -> bool:
    """Whether `path` is a `save_to_disk` folder (a DatasetDict's `dataset_dict.json` or a Dataset's `state.json`)."""
    return os.path.isdir(path) and any(
        os.path.isfile(os.path.join(path, name)) for name in ("dataset_dict.json", "state.json")
    )


def load_saved_splits(path: str) -> dict:
    """The splits of a `save_to_disk` folder by name; a plain Dataset is one split (its saved split, else "train")."""
    import datasets

    loaded = datasets.load_from_disk(path)
    if isinstance(loaded, datasets.Dataset):
        name = str(loaded.split) if loaded.split is not None else "train"
        logger.info(f"{path} is a plain Dataset folder: one split, {name!r}.")
        return {name: loaded}
    return dict(loaded)


def select_splits(available, data_args: SLLMDataArguments, plain: bool = False) -> dict[str, str]:
    """
    `{"train": name, "validation": name}` of the splits of `available` (names) that the arguments ask for; a missing
    one is logged, none at all is an error saying what the source has.
    """
    available = list(available)
    wanted = {"train": data_args.train_split, "validation": data_args.validation_split}
    splits = {role: name for role, name in wanted.items() if name in available}
    if not splits:
        if plain:
            raise ValueError(
                f"{data_args.dataset_name!r} is a plain Dataset folder: one split, {available[0]!r}. Set "
                f"--train_split {available[0]} to train on it or --validation_split {available[0]} to evaluate it."
            )
        raise ValueError(
            f"Dataset {data_args.dataset_name!r} has none of the splits {sorted(set(wanted.values()))}; it has "
            f"{available}. Set train_split / validation_split."
        )
    for role in wanted.keys() - splits.keys():
        logger.warning(
            f"Dataset {data_args.dataset_name!r} has no split {wanted[role]!r} ({role}_split); it has {available}."
        )
    return splits


def check_video_feature(features, data_args: SLLMDataArguments):
    """Checks the video and label columns exist and that the video column holds paths or `{"path", "bytes"}`."""
    import datasets

    if features is None:
        return  # a stream of unknown features: checked row by row when it is read
    for column in (data_args.video_column, data_args.label_column.split(".")[0]):
        if column not in features:
            raise ValueError(
                f"Dataset {data_args.dataset_name!r} has no column {column!r}; columns: {list(features)}. Set "
                "video_column / label_column (the columns of WebDataset tar shards are the file extensions of a "
                "sample, e.g. --video_column mp4 --label_column cls)."
            )
    feature = features[data_args.video_column]
    if isinstance(feature, datasets.Video) or (isinstance(feature, datasets.Value) and feature.dtype == "string"):
        return
    if isinstance(feature, dict) and {"bytes", "path"} >= set(feature) and feature:
        return
    raise ValueError(
        f"The video column {data_args.video_column!r} of {data_args.dataset_name!r} is {feature}; expected video "
        "paths (string), a Video feature, or {'path', 'bytes'} values."
    )


def _label_feature(features, label_column: str):
    feature = features
    for part in label_column.split("."):
        feature = feature[part] if isinstance(feature, dict) and part in feature else None
    return feature


def class_labels(features, label_column: str, labels: list[SLLMLabel] | None, values=None) -> list[SLLMLabel]:
    """
    The classes: `labels` (a label file) when given, else the names of a `ClassLabel` column, else the sorted
    distinct class names of `values` (all the label values, when they are names).
    """
    import datasets

    if labels is not None:
        return labels
    feature = _label_feature(features, label_column) if features is not None else None
    if isinstance(feature, datasets.ClassLabel):
        return [SLLMLabel(index, name) for index, name in enumerate(feature.names)]
    if values is not None:
        distinct = sorted({value for value in values if value is not None}, key=str)
        if distinct and all(isinstance(value, str) for value in distinct):
            return [SLLMLabel(index, name) for index, name in enumerate(distinct)]
    raise ValueError(
        f"The label column {label_column!r} holds ids without class names (a `ClassLabel` feature has them): give a "
        "label_file `id;name;description`."
    )


def to_label_id(label, labels: list[SLLMLabel], name_to_id: dict[str, int], where: str) -> int:
    """A label value (class id, or class name) as a class id; `ValueError` naming `where` otherwise."""
    if isinstance(label, str):
        if label in name_to_id:
            return name_to_id[label]
        if label.strip().lstrip("-").isdigit():
            label = int(label)  # WebDataset `.cls` text
        else:
            raise ValueError(f"{where}: label {label!r} is not a known class.")
    if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not 0 <= label < len(labels):
        raise ValueError(f"{where}: label {label!r} is outside [0, {len(labels)}).")
    return int(label)


def _column_values(dataset, column: str) -> list:
    """The values of one (possibly nested, `a.b`) column, read from Arrow without touching the other columns."""
    table = dataset.select_columns([column.split(".")[0]])
    if "." in column:
        table = table.flatten()
    if column not in table.column_names:
        raise ValueError(f"Dataset has no column {column!r}; columns: {table.column_names}.")
    return table.data.column(column).to_pylist()


def rows_of_split(dataset, name: str, split: str, data_args: SLLMDataArguments, labels: list[SLLMLabel]):
    """The rows (`ROW_COLUMNS`) of one split: the video column as it is on disk, and three small new columns."""
    import datasets

    name_to_id = {label.name: label.id for label in labels}
    values = _column_values(dataset, data_args.label_column)
    ids = [to_label_id(value, labels, name_to_id, f"{name}[{split}][{i}]") for i, value in enumerate(values)]
    videos = dataset.select_columns([data_args.video_column])
    if isinstance(videos.features[data_args.video_column], datasets.Video):
        videos = videos.cast_column(data_args.video_column, datasets.Video(decode=False))
    if data_args.video_column != "video":
        videos = videos.rename_column(data_args.video_column, "video")
    if videos._indices is not None:
        videos = videos.flatten_indices()  # written to the cache (disk), as `datasets` does for any selection
    extra = datasets.Dataset.from_dict(
        {
            "total_num_frames": [-1] * len(ids),
            "label": ids,
            "source": [f"{name}[{split}][{index}]" for index in range(len(ids))],
        },
        features=datasets.Features(
            total_num_frames=datasets.Value("int64"),
            label=datasets.ClassLabel(names=[label.name for label in labels]),
            source=datasets.Value("string"),
        ),
    )
    return datasets.concatenate_datasets([videos, extra], axis=1)


def load_dataset_rows(data_args: SLLMDataArguments, labels: list[SLLMLabel] | None):
    """
    `({"train": rows, "validation": rows}, labels)` of `data_args.dataset_name`: lazy `datasets.Dataset`s of
    `ROW_COLUMNS` whose videos stay in the source's memory-mapped Arrow files.
    """
    import datasets

    name = data_args.dataset_name
    plain = False
    if is_saved_dataset_folder(name):
        raw = load_saved_splits(name)
        plain = os.path.isfile(os.path.join(name, "state.json"))
    else:
        raw = dict(datasets.load_dataset(name, data_args.dataset_config_name))
    splits = select_splits(raw, data_args, plain=plain)
    first = raw[next(iter(splits.values()))]
    check_video_feature(first.features, data_args)
    values = None
    if labels is None and not isinstance(_label_feature(first.features, data_args.label_column), datasets.ClassLabel):
        values = [
            value for split in set(splits.values()) for value in _column_values(raw[split], data_args.label_column)
        ]
    labels = class_labels(first.features, data_args.label_column, labels, values)
    rows = {role: rows_of_split(raw[split], name, split, data_args, labels) for role, split in splits.items()}
    return rows, labels

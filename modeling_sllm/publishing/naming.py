# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
How published things are named: the CLIP backbone of a vision config (`"ViT-B/32"`), Hub repository and dataset ids,
and the display names of the usual action datasets. Shared by the converter, the model card and the upload.
"""

import os
import re


__all__ = [
    "backbone_name",
    "dataset_label",
    "is_repo_id",
    "local_dataset_name",
    "looks_like_dataset_id",
    "looks_like_hub_model_id",
]

# OpenAI ViT sizes: (width, layers, patch size) -> name.
_KNOWN_BACKBONES = {
    (768, 12, 32): "ViT-B/32",
    (768, 12, 16): "ViT-B/16",
    (1024, 24, 14): "ViT-L/14",
}
_DATASET_LABELS = {
    "hmdb51": "HMDB-51",
    "hmdb": "HMDB-51",
    "ucf101": "UCF-101",
    "ucf": "UCF-101",
    "k400": "Kinetics-400",
    "kinetics400": "Kinetics-400",
    "kinetics-400": "Kinetics-400",
    "anet": "ActivityNet",
    "activitynet": "ActivityNet",
}
# Folder names that say what a folder holds, not which dataset it is ("data/hmdb51/videos" is HMDB-51).
_GENERIC_FOLDERS = {
    "", ".", "..", "data", "dataset", "datasets", "videos", "video", "frames", "rawframes", "clips", "lists", "list",
    "annotations", "annotation", "splits", "labels", "train", "training", "val", "valid", "validation", "test",
    "testing", "eval", "evaluation",
}
_REPO_ID = re.compile(r"[\w.-]+/[\w.-]+")
_DATASET_ID = re.compile(r"[\w.-]+(/[\w.-]+)?")


def backbone_name(vision_config) -> str:
    """`"ViT-B/32"`, `"ViT-B/16"`, `"ViT-L/14"` (with `@336px` etc. for other image sizes), or a description."""
    width, layers, patch = vision_config.hidden_size, vision_config.num_hidden_layers, vision_config.patch_size
    name = _KNOWN_BACKBONES.get((width, layers, patch))
    if name is None:
        return f"ViT (width {width}, {layers} layers, patch {patch}, {vision_config.image_size}px)"
    return name if vision_config.image_size == 224 else f"{name}@{vision_config.image_size}px"


def is_repo_id(name: str | None) -> bool:
    """`org/name`, the form `HfApi.create_repo` needs."""
    return bool(name) and _REPO_ID.fullmatch(name) is not None


def looks_like_hub_model_id(name: str | None) -> bool:
    """`org/name` that is not a local path (e.g. the CLIP checkpoint a model was built from)."""
    return is_repo_id(name) and not os.path.exists(name)


def looks_like_dataset_id(name: str) -> bool:
    """A Hub dataset id (`name` or `org/name`), not a local folder."""
    return not os.path.exists(name) and _DATASET_ID.fullmatch(name) is not None


def dataset_label(name: str) -> str:
    """Display name of a dataset (`"hmdb51"` -> `"HMDB-51"`); other names (or the last part of a path) as given."""
    base = name.rstrip("/").split("/")[-1]
    return _DATASET_LABELS.get(base.lower(), base)


def local_dataset_name(*paths: str | os.PathLike | None) -> str | None:
    """
    The dataset name of local data, from the first of `paths` that gives one: a folder's name, going up past generic
    names (`data/hmdb51/videos` -> `"hmdb51"`), or the folder of an annotation list (`data/hmdb51/validation.txt`
    -> `"hmdb51"`: a list's file name is a split, never the dataset). `None` when no path names a dataset.
    """
    for path in paths:
        if not path:
            continue
        path = os.path.normpath(os.fspath(path))  # only the path's own folders: a relative path never names the cwd
        if os.path.isfile(path) or os.path.splitext(path)[1].lower() in (".txt", ".csv", ".json", ".jsonl"):
            path = os.path.dirname(path)
        for name in reversed(path.split(os.sep)):
            if name.lower() not in _GENERIC_FOLDERS:
                return name
    return None

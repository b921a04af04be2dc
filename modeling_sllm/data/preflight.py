# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
The pre-flight check of a video dataset: bad videos are found before step 1, never hours later in a DataLoader
worker, at the level `--validate_data` asks for:

- `none`: paths only (a missing file, a file that is not a video by its extension);
- `metadata` (default): also open every container and read its header and index (milliseconds a video, no packet
  read): not a video, a still image, no video stream, and for mp4/mov/AVI a frame count confirmed by the per-frame
  index (or a truncation the index shows); the files of every frame folder are counted and gaps found;
- `auto`: `metadata`, then the packets of the videos whose count the index could not confirm (mkv, webm, ...);
- `packets`: also read every packet of every video (finds files truncated or corrupt after their header);
- `full`: also decode every frame (finds undecodable frames; the slowest: a full decode of the dataset).

`modeling_sllm.video_io.probe_video` does the work. The counted frames become the row's `total_num_frames`, which
the readers sample from; -1 (not counted) lets them count the frames themselves.

Every problem of a split goes into ONE report: the total, then one line per video naming its source (list line,
dataset row) and its path once. Without `--skip_bad_videos` the report is the error; with it the videos are dropped
and the report is logged.
"""

import os
from typing import NamedTuple

import numpy as np
from transformers.utils import logging

from modeling_sllm.data.arguments import SLLMDataArguments, validation_level
from modeling_sllm.data.rows import ROW_COLUMNS, path_problem, video_name, video_source
from modeling_sllm.video_io import DEFAULT_FRAME_TEMPLATE, probe_video


logger = logging.get_logger(__name__)

__all__ = ["BadVideo", "check_video", "format_bad_videos", "report_bad_videos", "validate_video_dataset"]

MAX_LISTED_IN_ERRORS = 50


class BadVideo(NamedTuple):
    """A video that cannot be used: where its row comes from, its name (path) and why."""

    source: str
    name: str
    reason: str

    def line(self) -> str:
        """`source: path: reason`, the path once (a folder scan's source is the path itself; the reader's messages
        that quote the path say "it" instead)."""
        reason = self.reason
        if self.name:
            path = os.path.abspath(self.name)
            reason = reason.replace(f"'file:{path}'", "the file")
            reason = reason.replace(f"'{self.name}'", "it").replace(f"'{path}'", "it")
        if not self.source or self.source == self.name:
            return f"{self.name}: {reason}"
        return f"{self.source}: {self.name}: {reason}"


def check_video(
    video, level: str = "metadata", frame_template: str = DEFAULT_FRAME_TEMPLATE, frame_start_index: int = 1
) -> dict:
    """
    Pre-flight check of one row's `video` value at `level` (see the module docstring), with
    `modeling_sllm.video_io.probe_video`.

    Returns:
        `{"counted_frames": int, "error": str, "note": str}`: the frames counted by the probe (-1 when the level did
        not count them: the readers then count them themselves), what is wrong ("" when nothing) and what surprised
        the probe but is handled (a header count that differs, a resolution change). Never raises for a bad video:
        the caller reports it.
    """
    problem = path_problem(video)
    if problem or level == "none":
        return {"counted_frames": -1, "error": problem, "note": ""}
    try:
        probe = probe_video(
            video_source(video), level=level, frame_template=frame_template, frame_start_index=frame_start_index
        )
    except Exception as exc:  # reported with the row, never swallowed: the caller stops or skips and logs it
        return {"counted_frames": -1, "error": f"{type(exc).__name__}: {exc}", "note": ""}
    counted = probe.total_num_frames if probe.counted and probe.total_num_frames is not None else -1
    return {"counted_frames": counted, "error": "; ".join(probe.problems), "note": "; ".join(probe.notes)}


def format_bad_videos(bad: list[BadVideo], header: str, limit: int | None = None) -> str:
    """`header:` then one line per bad video (the first `limit` of them), its path once."""
    shown = bad if limit is None else bad[:limit]
    lines = [f"  {video.line()}" for video in shown]
    if len(shown) < len(bad):
        lines.append(f"  ... and {len(bad) - len(shown)} more")
    return f"{header}:\n" + "\n".join(lines)


def report_bad_videos(bad: list[BadVideo], total: int, split: str, skip: bool) -> None:
    """
    The one report of a split's bad videos: the total, then one line per video. Raises `FileNotFoundError` (all of
    them missing) or `ValueError` unless `skip`, in which case the report is logged (every skipped video listed).
    """
    if not bad:
        return
    if skip:
        logger.warning(format_bad_videos(bad, f"Skipped {len(bad)} of {total} {split} videos (skip_bad_videos)"))
        return
    message = format_bad_videos(bad, f"{len(bad)} of {total} {split} videos cannot be used", MAX_LISTED_IN_ERRORS)
    hint = "\nFix the paths (data_root), fix or remove the videos, or set skip_bad_videos to skip them."
    if all(video.reason.startswith("missing") for video in bad):
        raise FileNotFoundError(message + hint)
    raise ValueError(message + hint)


def validate_video_dataset(dataset, split: str, data_args: SLLMDataArguments):
    """
    Pre-flight check of a dataset of rows (`ROW_COLUMNS`) at `data_args.validate_data`, in parallel with
    `preprocessing_num_workers`. Bad videos are reported once ([`report_bad_videos`]) and, with `skip_bad_videos`,
    left out. `total_num_frames` becomes the frames counted by the check (frame folders; videos at the `full` level),
    else -1 (not counted: a list line's count is never trusted); a list line that disagrees with a count is logged.

    The check reads only the `video` column and keeps its results in memory (two small columns): the rows, video bytes
    included, stay where they are (memory-mapped Arrow files for `datasets` sources).
    """
    import datasets

    level = validation_level(data_args.validate_data)
    if level == "none" and not (
        isinstance(dataset.features["video"], datasets.Value) and dataset.features["video"].dtype == "string"
    ):
        return dataset  # nothing to check without reading the videos: their bytes are checked when they are read
    checks = dataset.select_columns(["video"]).map(
        check_video,
        input_columns=["video"],
        fn_kwargs={
            "level": level,
            "frame_template": data_args.frame_template,
            "frame_start_index": data_args.frame_start_index,
        },
        remove_columns=["video"],
        num_proc=data_args.preprocessing_num_workers,
        keep_in_memory=True,
        load_from_cache_file=False,
        desc=f"Checking {split} videos ({level})",
    )
    errors, counted = checks["error"], np.asarray(checks["counted_frames"], dtype=np.int64)
    notes = [(index, note) for index, note in enumerate(checks["note"]) if note and not errors[index]]
    if notes:
        sources = dataset.select_columns(["source"])
        examples = "; ".join(f"{sources[index]['source']}: {note}" for index, note in notes[:5])
        logger.warning(f"{len(notes)} {split} videos surprised the pre-flight check (handled when read): {examples}")
    bad_indices = [index for index, error in enumerate(errors) if error]
    bad = []
    for index in bad_indices:
        row = dataset.select_columns(["video", "source"])[index]
        bad.append(BadVideo(row["source"], video_name(row["video"]), errors[index]))
    report_bad_videos(bad, len(dataset), split, skip=data_args.skip_bad_videos)

    declared = np.asarray(dataset["total_num_frames"], dtype=np.int64)
    differ = np.flatnonzero((declared >= 0) & (counted >= 0) & (declared != counted))
    differ = [int(index) for index in differ if not errors[index]]
    if differ:
        sources = dataset.select_columns(["source"])
        examples = ", ".join(f"{sources[i]['source']} says {declared[i]}, has {counted[i]}" for i in differ[:5])
        logger.warning(
            f"{len(differ)} {split} videos have another frame count than their list line ({examples}); "
            "sampling uses the real count."
        )
    if (counted != declared).any():
        dataset = dataset.remove_columns("total_num_frames").add_column(
            "total_num_frames", counted.tolist(), feature=datasets.Value("int64")
        )
    if bad_indices:
        bad_set = set(bad_indices)
        dataset = dataset.select([index for index in range(len(dataset)) if index not in bad_set])
    return dataset.select_columns(list(ROW_COLUMNS))

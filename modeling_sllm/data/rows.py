# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
The vocabulary of a video row, shared by every data source: its columns, which files are videos (one rule for
annotation lists, video folders and `datasets` paths), and how a row's `video` value is read and named.
"""

import os


__all__ = ["ROW_COLUMNS", "VIDEO_EXTENSIONS", "is_video_file", "path_problem", "video_name", "video_source"]

# Rows of every source: {"video": path | {"path", "bytes"}, "total_num_frames": counted frames or -1 (not counted),
# "label": class id, "source": where the row comes from (list file:line, folder path, dataset[split][index])}
ROW_COLUMNS = ("video", "total_num_frames", "label", "source")

# The one set of video file extensions (compared lower-case): the video-folder scan takes these files, and a file of
# an annotation list or a `datasets` path column with another extension is reported as "not a video file".
# Everything FFmpeg demuxes as a moving picture; .gif included (an animated GIF is a short video).
VIDEO_EXTENSIONS = (
    ".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".ts", ".flv", ".wmv", ".3gp", ".ogv", ".gif",
)  # fmt: skip


def is_video_file(path: str) -> bool:
    """Whether `path` names a video file by its extension (one of `VIDEO_EXTENSIONS`, any case)."""
    return os.path.splitext(os.fspath(path))[1].lower() in VIDEO_EXTENSIONS


def path_problem(video) -> str:
    """
    What is wrong with the path of a row's `video` value before it is opened ("" when nothing): missing, or a file
    that is not a video by its extension. A folder is a frame folder (its frames are checked by the pre-flight);
    values holding bytes are not checked here (their content is).
    """
    if isinstance(video, dict):
        if video.get("bytes") is not None:
            return ""
        if not video.get("path"):
            return "the video has neither a path nor bytes"
        video = video["path"]
    if not isinstance(video, (str, os.PathLike)):
        return f"unsupported video value of type {type(video).__name__}"
    path = os.fspath(video)
    if not os.path.exists(path):
        return "missing (no such file or folder)"
    if os.path.isdir(path):
        return ""
    if not is_video_file(path):
        extension = os.path.splitext(path)[1] or "no extension"
        return f"not a video file ({extension}; video files are {' '.join(VIDEO_EXTENSIONS)})"
    return ""


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

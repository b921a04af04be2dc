# Longer than 500 lines: the one reader of video files, buffers and frame folders (remote code copies it whole).
# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""Reading frames from video files (PyAV) and from folders of frame images, decoding only what is asked for.

A *source* is any of:

- a path (`str` or `os.PathLike`) to a video file that FFmpeg can demux and decode (mp4, avi, mkv, webm, ...);
- a path to a folder of frame images named by a template (`img_00001.jpg`, `img_00002.jpg`, ... by default,
  1-based), as in the TSN/Text4Vis annotation lists;
- the encoded bytes of a video (`bytes`, `bytearray`, `memoryview`), or a binary file-like object (`io.BytesIO`, an
  open file), or a `{"bytes": ..., "path": ...}` dict as stored by `datasets` (the bytes win when present).

Frame index `i` of a video is the `i`-th frame output by the decoder (presentation order, 0-based); frame index `i` of
a folder is the file `frame_template.format(frame_start_index + i)`. `count_frames` and `read_frames` use the same
numbering, so an index counted by one is read by the other. The number of frames a container declares is never
trusted (it is missing or wrong in many files): frames are counted by decoding them.

Errors name the file (and the frame index where one is involved): `FileNotFoundError` / `OSError` for anything wrong
with a file or its content, `ValueError` for bad arguments (such as a frame index past the last frame). The
underlying exception is chained.
"""

import bisect
import io
import os
import re
import string
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

import av
import numpy as np
from PIL import Image
from transformers.utils import logging

from .checks import check_positive_int


logger = logging.get_logger(__name__)


__all__ = ["DEFAULT_FRAME_TEMPLATE", "SampledFrames", "count_frames", "read_frames", "read_sampled_frames"]

DEFAULT_FRAME_TEMPLATE = "img_{:05d}.jpg"


class SampledFrames(NamedTuple):
    """
    Result of [`read_sampled_frames`].

    Attributes:
        frames (`np.ndarray` of shape `(len(indices), height, width, 3)`, dtype uint8): RGB frames, in `indices` order.
        indices (`np.ndarray` of shape `(num_sampled,)`, dtype int64): the frame indices that were read.
        num_frames (`int`): exact number of decodable frames of the video (frames matching the template for folders).
        fps (`float` or `None`): average frame rate declared by the container (`None` for frame folders).
    """

    frames: np.ndarray
    indices: np.ndarray
    num_frames: int
    fps: float | None


# --------------------------------------------------------------------------------------------------------------------
# Sources


class _Source:
    """A resolved source: `kind` is "folder", "file" (a path) or "buffer" (bytes or a seekable file-like object)."""

    def __init__(self, kind: str, name: str, path: str | None = None, data: Any = None):
        self.kind = kind
        self.name = name
        self.path = path
        self.data = data

    def open_target(self):
        if self.kind == "file":
            return self.path
        if isinstance(self.data, bytes):
            return io.BytesIO(self.data)
        self.data.seek(0)
        return self.data


def _resolve_source(source) -> _Source:
    if isinstance(source, dict):
        if source.get("bytes") is not None:
            resolved = _resolve_source(source["bytes"])
            if source.get("path"):
                resolved.name = f"{source['path']} (bytes)"
            return resolved
        if source.get("path"):
            return _resolve_source(source["path"])
        raise ValueError(f"A video dict needs a non-empty 'bytes' or 'path' entry, got keys {sorted(source)}")

    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        name = f"<in-memory video of {len(data)} bytes>"
        if not data:
            raise OSError(f"Video {name} is empty (0 bytes)")
        return _Source("buffer", name, data=data)

    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if os.path.isdir(path):
            return _Source("folder", path, path=path)
        if not os.path.exists(path):
            raise FileNotFoundError(f"Video file or frame folder not found: '{path}'")
        if not os.path.isfile(path):
            raise OSError(f"Video source '{path}' is neither a regular file nor a folder")
        if os.path.getsize(path) == 0:
            raise OSError(f"Video file '{path}' is empty (0 bytes)")
        return _Source("file", path, path=path)

    if hasattr(source, "read"):
        name = getattr(source, "name", None)
        name = str(name) if name else f"<{type(source).__name__} video stream>"
        seekable = getattr(source, "seekable", None)
        if seekable is not None and seekable():
            size = source.seek(0, io.SEEK_END)
            source.seek(0)
            if size == 0:
                raise OSError(f"Video {name} is empty (0 bytes)")
            return _Source("buffer", name, data=source)
        data = source.read()  # not seekable: every decoding pass needs to start over, so keep the bytes
        if not data:
            raise OSError(f"Video {name} gave no bytes (it is empty, or a stream that was already read)")
        return _Source("buffer", name, data=bytes(data))

    raise ValueError(
        "Unsupported video source of type "
        f"{type(source).__name__}: expected a path, a frame folder, bytes, a binary file-like object or a "
        "{'bytes': ..., 'path': ...} dict"
    )


def _check_indices(indices, name: str) -> np.ndarray:
    array = np.asarray(indices)
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1:
        raise ValueError(f"Frame indices for '{name}' must be a 1-D sequence, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"No frame indices requested from '{name}'")
    if array.dtype == bool or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"Frame indices for '{name}' must be integers, got dtype {array.dtype}")
    array = array.astype(np.int64)
    if array.min() < 0:
        raise ValueError(f"Negative frame index {int(array.min())} requested from '{name}'")
    return array


def _stack(frames: dict[int, np.ndarray], indices: np.ndarray, name: str) -> np.ndarray:
    """Stack `frames[i] for i in indices` after checking that those frames have one size."""
    shapes = {index: frames[index].shape for index in set(indices.tolist())}
    first = min(shapes)
    for index in sorted(shapes):
        if shapes[index] != shapes[first]:
            raise ValueError(
                f"Frames of '{name}' have different sizes: frame {index} is {shapes[index][1]}x{shapes[index][0]} "
                f"(width x height) but frame {first} is {shapes[first][1]}x{shapes[first][0]}"
            )
    return np.stack([frames[int(index)] for index in indices])


# --------------------------------------------------------------------------------------------------------------------
# Video files (PyAV)


@contextmanager
def _open_video(source: _Source):
    try:
        container = av.open(source.open_target(), mode="r")
    except av.error.FFmpegError as error:
        raise OSError(f"Cannot open '{source.name}' as a video (not a video file, or corrupt): {error}") from error
    try:
        if not container.streams.video:
            kinds = sorted({stream.type for stream in container.streams}) or ["none"]
            raise OSError(f"'{source.name}' has no video stream (stream types: {', '.join(kinds)})")
        yield container, container.streams.video[0]
    finally:
        container.close()


def _stream_fps(stream) -> float | None:
    for rate in (stream.average_rate, stream.guessed_rate):
        if rate:
            return float(rate)
    return None


def _expected_frames(container, stream) -> tuple[int, str]:
    """What the container says about the number of frames (only used to explain errors): (count, wording)."""
    if stream.frames:
        return int(stream.frames), f"the container declares {int(stream.frames)}"
    fps = _stream_fps(stream)
    seconds = None
    if stream.duration and stream.time_base:
        seconds = float(stream.duration * stream.time_base)
    elif container.duration:
        seconds = container.duration / av.time_base
    if fps and seconds:
        estimate = int(round(seconds * fps))
        return estimate, f"the container's duration ({seconds:.2f} s at {fps:g} fps) implies about {estimate}"
    return 0, ""


def _presentation_timestamps(container, stream) -> tuple[list[int], list[int]] | None:
    """
    Timestamps of the frames in presentation order and the indices of the keyframes, from the packets alone (no
    decoding), or `None` when the packets cannot be trusted to be one frame each (a missing or repeated timestamp,
    no keyframe at frame 0).
    """
    timestamps, keyframe_timestamps = [], []
    for packet in container.demux(stream):
        if packet.size == 0 or getattr(packet, "is_discard", False):
            continue
        if packet.pts is None:
            return None
        timestamps.append(int(packet.pts))
        if packet.is_keyframe:
            keyframe_timestamps.append(int(packet.pts))
    timestamps.sort()
    if not timestamps or len(set(timestamps)) != len(timestamps):
        return None
    position = {pts: index for index, pts in enumerate(timestamps)}
    keyframes = sorted(position[pts] for pts in keyframe_timestamps)
    if not keyframes or keyframes[0] != 0:
        return None
    return timestamps, keyframes


def _decode_seeking(container, stream, wanted: set[int], stop_after: int) -> tuple[dict[int, np.ndarray], int] | None:
    """
    Decode the frames `wanted` (all `<= stop_after`) starting each run of them at the keyframe before it, instead of
    decoding every frame from the start: H.264 clips have keyframes every few seconds, and the kept frames of SLLM are
    spread over the whole video. Frames are identified by their timestamps, so the result is the same as a
    sequential decode; `None` (the caller then decodes sequentially) whenever that cannot be guaranteed.
    """
    index_data = _presentation_timestamps(container, stream)
    if index_data is None:
        return None
    timestamps, keyframes = index_data
    if stop_after >= len(timestamps):
        return None
    position = {pts: index for index, pts in enumerate(timestamps)}
    runs: dict[int, list[int]] = {}
    for index in sorted(wanted):
        runs.setdefault(keyframes[bisect.bisect_right(keyframes, index) - 1], []).append(index)
    frames: dict[int, np.ndarray] = {}
    decoded, last_decoded = 0, None
    iterator = None
    for keyframe, indices in runs.items():
        # seek unless the decoder is already at (or just before) this run's keyframe
        if iterator is None or keyframe > last_decoded + 1 or last_decoded >= indices[0]:
            container.seek(timestamps[keyframe], stream=stream, backward=True, any_frame=False)
            iterator = (frame for packet in container.demux(stream) for frame in packet.decode())
        for frame in iterator:
            if frame.pts is None or frame.pts not in position:
                return None
            index = position[frame.pts]
            decoded += 1
            last_decoded = index
            if index in wanted:
                frames[index] = frame.to_ndarray(format="rgb24")
            if index >= indices[-1]:
                break
    if set(frames) != wanted:
        return None
    return frames, decoded


def _decode(
    source: _Source, wanted: set[int], stop_after: int | None
) -> tuple[dict[int, np.ndarray], int, tuple[int, str]]:
    """
    Decode the first video stream in order, converting only the frames in `wanted` to RGB.

    Stops once frame `stop_after` is decoded (`None`: decode to the end). With `stop_after` (only the `wanted` frames
    are needed, not the frame count) runs of wanted frames are decoded from the keyframe before them, skipping the
    GOPs in between; the frames are the same as in a sequential decode. Returns (frames, number of frames decoded,
    the number of frames the container declares or implies and its wording for messages, `(0, "")` if unknown).
    """
    frames: dict[int, np.ndarray] = {}
    index = 0
    if stop_after is not None and wanted and max(wanted) <= stop_after:
        try:
            with _open_video(source) as (container, stream):
                stream.thread_type = "AUTO"
                declared = _expected_frames(container, stream)
                sought = _decode_seeking(container, stream, set(wanted), stop_after)
            if sought is not None:
                return sought[0], sought[1], declared
        except av.error.FFmpegError:
            pass  # decoded again in order below, which names the frame where the file breaks
    with _open_video(source) as (container, stream):
        declared = _expected_frames(container, stream)
        # frame + slice threading: H.264 from x264 has one slice per frame, so slice threading alone (PyAV's default)
        # decodes on one core; the frames come out in the same order either way
        stream.thread_type = "AUTO"
        try:
            for packet in container.demux(stream):
                for frame in packet.decode():
                    if index in wanted:
                        frames[index] = frame.to_ndarray(format="rgb24")
                    index += 1
                    if stop_after is not None and index > stop_after:
                        return frames, index, declared
        except av.error.FFmpegError as error:
            raise OSError(
                f"Decoding '{source.name}' failed at frame index {index} ({index} frames were decodable before the "
                f"error); the file is corrupt: {error}"
            ) from error
    return frames, index, declared


def _missing_frame_error(source: _Source, index: int, decoded: int, declared: tuple[int, str]) -> Exception:
    if decoded == 0:
        return OSError(f"'{source.name}' has no decodable video frames (cannot read frame index {index})")
    expected, wording = declared
    if expected > index:
        return OSError(
            f"Cannot decode frame index {index} of '{source.name}': only {decoded} frames are decodable although "
            f"{wording}; the file is truncated or corrupt"
        )
    return ValueError(
        f"Frame index {index} is out of range for '{source.name}', which has {decoded} decodable frames "
        f"(valid indices 0..{decoded - 1})"
    )


def _count_video_frames(source: _Source) -> int:
    return _decode(source, wanted=set(), stop_after=None)[1]


def _read_video_frames(source: _Source, indices: np.ndarray) -> np.ndarray:
    last = int(indices.max())
    frames, decoded, declared = _decode(source, wanted=set(indices.tolist()), stop_after=last)
    if last not in frames:
        raise _missing_frame_error(source, last, decoded, declared)
    return _stack(frames, indices, source.name)


def _count_packets(source: _Source) -> int:
    with _open_video(source) as (container, stream):
        try:
            return sum(1 for packet in container.demux(stream) if packet.size > 0)
        except av.error.FFmpegError as error:
            raise OSError(f"Reading the packets of '{source.name}' failed: {error}") from error


# --------------------------------------------------------------------------------------------------------------------
# Frame folders


def _template_pattern(template: str) -> re.Pattern:
    if os.sep in template or (os.altsep and os.altsep in template):
        raise ValueError(f"`frame_template` must be a file name without folders, got '{template}'")
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as error:
        raise ValueError(f"Invalid `frame_template` '{template}': {error}") from error
    fields = [part for part in parts if part[1] is not None]
    if len(fields) != 1 or fields[0][1] not in ("", "0"):
        raise ValueError(
            f"`frame_template` must contain exactly one positional field for the frame number (such as "
            f"'img_{{:05d}}.jpg'), got '{template}'"
        )
    try:
        template.format(1)
    except (ValueError, IndexError, KeyError) as error:
        raise ValueError(f"`frame_template` '{template}' cannot format a frame number: {error}") from error
    regex = "".join(re.escape(literal) + (r"(\d+)" if field is not None else "") for literal, field, _, _ in parts)
    return re.compile(regex + r"\Z")


def _folder_frame_numbers(folder: str, template: str, start_index: int) -> list[int]:
    pattern = _template_pattern(template)
    try:
        names = os.listdir(folder)
    except OSError as error:
        raise OSError(f"Cannot list the frame folder '{folder}': {error}") from error
    numbers = []
    for file_name in names:
        match = pattern.match(file_name)
        if match is None:
            continue
        number = int(match.group(1))
        if number >= start_index and template.format(number) == file_name:
            numbers.append(number)
    return sorted(numbers)


def _count_folder_frames(source: _Source, template: str, start_index: int) -> int:
    return len(_folder_frame_numbers(source.path, template, start_index))


def _read_folder_frames(source: _Source, indices: np.ndarray, template: str, start_index: int) -> np.ndarray:
    _template_pattern(template)
    frames: dict[int, np.ndarray] = {}
    for index in sorted(set(indices.tolist())):
        file_name = template.format(start_index + index)
        path = os.path.join(source.path, file_name)
        try:
            with Image.open(path) as image:
                frames[index] = np.asarray(image.convert("RGB"))
        except FileNotFoundError as error:
            count = _count_folder_frames(source, template, start_index)
            if index >= count:
                raise ValueError(
                    f"Frame index {index} is out of range for the frame folder '{source.path}', which has {count} "
                    f"frames matching '{template}' (valid indices 0..{count - 1}, files numbered from {start_index})"
                ) from error
            raise FileNotFoundError(
                f"Frame file '{path}' (frame index {index}) is missing from the frame folder '{source.path}' "
                f"({count} files match '{template}'; the numbering has a gap)"
            ) from error
        except (OSError, ValueError, Image.DecompressionBombError) as error:
            raise OSError(f"Cannot read frame file '{path}' (frame index {index}): {error}") from error
    shapes = {index: frame.shape for index, frame in frames.items()}
    first = min(shapes)
    for index in sorted(shapes):
        if shapes[index] != shapes[first]:
            raise ValueError(
                f"Frame file '{os.path.join(source.path, template.format(start_index + index))}' (frame index "
                f"{index}) is {shapes[index][1]}x{shapes[index][0]} (width x height) but frame file "
                f"'{os.path.join(source.path, template.format(start_index + first))}' (frame index {first}) is "
                f"{shapes[first][1]}x{shapes[first][0]}: all frames of a folder must have the same size"
            )
    return np.stack([frames[int(index)] for index in indices])


# --------------------------------------------------------------------------------------------------------------------
# Public API


def count_frames(
    source, *, frame_template: str = DEFAULT_FRAME_TEMPLATE, frame_start_index: int = 1
) -> int:
    """
    Exact number of frames of a video or frame folder.

    For a video, the frames are decoded (without colour conversion) and counted: the count a container declares is
    missing (0) in many files (mkv, webm) and wrong in others. A frame folder has as many frames as files whose name
    is `frame_template.format(number)` with `number >= frame_start_index`.

    Args:
        source: a video path, a frame folder, video bytes or a binary file-like object (see the module docstring).
        frame_template (`str`, *optional*, defaults to `"img_{:05d}.jpg"`): file names of the frames of a folder.
        frame_start_index (`int`, *optional*, defaults to 1): number of the first frame file of a folder.

    Returns:
        `int`: the number of frames (0 for a video stream without decodable frames or a folder without frame files).

    Raises:
        `FileNotFoundError`, `OSError`: the file is missing, empty, not a video, has no video stream, or decoding
        fails (the message names the file and the frame index reached).
    """
    resolved = _resolve_source(source)
    if resolved.kind == "folder":
        start_index = check_positive_int("frame_start_index", frame_start_index, minimum=0)
        return _count_folder_frames(resolved, frame_template, start_index)
    return _count_video_frames(resolved)


def read_frames(
    source,
    indices: Sequence[int] | np.ndarray,
    *,
    frame_template: str = DEFAULT_FRAME_TEMPLATE,
    frame_start_index: int = 1,
) -> np.ndarray:
    """
    Read the frames `indices` (0-based, in any order, repeats allowed) of a video or frame folder.

    A video is decoded sequentially from the start up to frame `max(indices)` only, and only the requested frames are
    converted to RGB. A folder reads only the requested files.

    Args:
        source: a video path, a frame folder, video bytes or a binary file-like object (see the module docstring).
        indices (sequence of `int`): the frames to read.
        frame_template (`str`, *optional*, defaults to `"img_{:05d}.jpg"`): file names of the frames of a folder.
        frame_start_index (`int`, *optional*, defaults to 1): number of the first frame file of a folder.

    Returns:
        `np.ndarray` of shape `(len(indices), height, width, 3)`, dtype uint8: RGB frames in the order of `indices`.

    Raises:
        `ValueError`: empty, negative or non-integer indices, an index past the last frame, frames of different sizes.
        `FileNotFoundError`, `OSError`: missing/empty/unreadable file, not a video, no video stream, a missing frame
        file in a folder, or a truncated/corrupt stream that ends before a requested frame (the message names the
        frame index and how many frames were decodable).
    """
    resolved = _resolve_source(source)
    indices = _check_indices(indices, resolved.name)
    if resolved.kind == "folder":
        start_index = check_positive_int("frame_start_index", frame_start_index, minimum=0)
        return _read_folder_frames(resolved, indices, frame_template, start_index)
    return _read_video_frames(resolved, indices)


def _declared_frame_count(source: _Source) -> tuple[int, float | None]:
    """The container's frame count (or, when it declares none, its number of packets) and fps: a guess, not a fact."""
    with _open_video(source) as (_, stream):
        fps = _stream_fps(stream)
        guess = int(stream.frames or 0)
    if guess <= 0:
        guess = _count_packets(source)
    return guess, fps


def read_sampled_frames(
    source,
    sample_fn: Callable[[int, float | None], Sequence[int] | np.ndarray],
    *,
    frame_template: str = DEFAULT_FRAME_TEMPLATE,
    frame_start_index: int = 1,
    exact_count: bool = True,
) -> SampledFrames:
    """
    Count the frames of a video, choose indices with `sample_fn(num_frames, fps)` and read them, decoding a video
    file once in the usual case.

    With `exact_count=False` (inference: decode only what is needed) the container's declared frame count is trusted
    and decoding stops at the last chosen frame; only when the video turns out shorter than declared are the indices
    chosen again from the frames that could be decoded.

    The frame count declared by the container (or, when it declares none, the number of packets) is only a guess: the
    frames are chosen from the guess and converted while decoding, the decoding continues to the end to count the
    frames exactly, and if the guess was wrong the indices are chosen again from the exact count (and read again if
    they differ). The result is therefore always the same as `read_frames(source, sample_fn(count_frames(source),
    fps))`.

    Args:
        source: a video path, a frame folder, video bytes or a binary file-like object (see the module docstring).
        sample_fn (`Callable[[int, float | None], Sequence[int]]`): maps (number of frames, fps) to frame indices.
        frame_template, frame_start_index: as in [`read_frames`].

    Returns:
        [`SampledFrames`]: frames, indices, exact number of frames, fps.

    Raises:
        as [`read_frames`]; `OSError` if the video or folder has no frames; `ValueError` if `sample_fn` returns
        indices outside `[0, num_frames - 1]`.
    """
    resolved = _resolve_source(source)

    def sample(num_frames: int, fps: float | None) -> np.ndarray:
        indices = _check_indices(sample_fn(num_frames, fps), resolved.name)
        if indices.max() >= num_frames:
            raise ValueError(
                f"The sampling function returned frame index {int(indices.max())} for '{resolved.name}', which has "
                f"{num_frames} frames"
            )
        return indices

    if resolved.kind == "folder":
        start_index = check_positive_int("frame_start_index", frame_start_index, minimum=0)
        num_frames = _count_folder_frames(resolved, frame_template, start_index)
        if num_frames == 0:
            raise OSError(f"The frame folder '{resolved.path}' has no files matching '{frame_template}'")
        indices = sample(num_frames, None)
        frames = _read_folder_frames(resolved, indices, frame_template, start_index)
        return SampledFrames(frames=frames, indices=indices, num_frames=num_frames, fps=None)

    guess, fps = _declared_frame_count(resolved)

    guessed_indices = sample(guess, fps) if guess > 0 else np.zeros(0, dtype=np.int64)
    if not exact_count and guess > 0:
        last = int(guessed_indices.max())
        frames, decoded, _ = _decode(resolved, wanted=set(guessed_indices.tolist()), stop_after=last)
        if last in frames:
            return SampledFrames(_stack(frames, guessed_indices, resolved.name), guessed_indices, guess, fps)
        if decoded == 0:
            raise OSError(f"'{resolved.name}' has no decodable video frames")
        logger.warning(
            f"'{resolved.name}' declares {guess} frames but only {decoded} could be decoded; sampling from {decoded}."
        )
        indices = sample(decoded, fps)
        return SampledFrames(_read_video_frames(resolved, indices), indices, decoded, fps)
    frames, num_frames, declared = _decode(resolved, wanted=set(guessed_indices.tolist()), stop_after=None)
    if num_frames == 0:
        raise OSError(f"'{resolved.name}' has no decodable video frames")
    if num_frames == guess:
        indices = guessed_indices
    else:
        indices = sample(num_frames, fps)
        if not set(indices.tolist()) <= frames.keys():
            return SampledFrames(_read_video_frames(resolved, indices), indices, num_frames, fps)
    frames = _stack(frames, indices, resolved.name)
    return SampledFrames(frames=frames, indices=indices, num_frames=num_frames, fps=fps)

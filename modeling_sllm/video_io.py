# Longer than 500 lines: the one reader of video files, buffers and frame folders (remote code copies it whole).
# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""Reading frames from video files (PyAV) and from folders of frame images, decoding only what is asked for.

A *source* is any of:

- a path (`str` or `os.PathLike`) to a video file that FFmpeg can demux and decode (mp4, avi, mkv, webm, ...),
  opened as `file:` + its absolute path (no file name is ever taken as an FFmpeg protocol, see `video_probe.py`);
- a path to a folder of frame images named by a template (`img_00001.jpg`, `img_00002.jpg`, ... by default,
  1-based), as in the TSN/Text4Vis annotation lists;
- the encoded bytes of a video (`bytes`, `bytearray`, `memoryview`), or a binary file-like object (`io.BytesIO`, an
  open file), or a `{"bytes": ..., "path": ...}` dict as stored by `datasets` (the bytes win when present).

Frame index `i` of a video is the `i`-th frame output by the decoder (presentation order, 0-based); frame index `i` of
a folder is the file `frame_template.format(frame_start_index + i)`. `count_frames` and `read_frames` use the same
numbering, so an index counted by one is read by the other.

Frame counts. A header's frame count is never sampled from unless something checked it (the rule is in
`video_probe.py`): [`read_sampled_frames`] samples from the caller's counted `total_num_frames` (the pre-flight's),
else from the packets read without decoding (one per frame); a video that decodes to fewer frames than counted is
counted again by decoding and sampled again, with a warning. [`count_frames`] decodes everything.

Frames are returned upright (the display rotation of phone clips is applied), as RGB uint8, all of one size: a frame
whose size differs from the first returned frame's (a resolution change mid-stream) is resized to it with a warning.
`resize_to` lets the caller decode large frames to a smaller size (the processor's, see
`SLLMVideoProcessor.decoded_frame_size`): each frame is converted to RGB at full size, then downscaled with swscale's
bicubic filter, one frame at a time.

Decoding: wanted frames are decoded from the keyframe before them (runs of wanted frames share a keyframe), frames
that are neither wanted nor referenced by other frames are skipped by the decoder (`skip_frame="NONREF"`), only
wanted frames are converted to RGB, and no packet after a run's last wanted frame is decoded (the decoder is drained
instead). Runs from different keyframes are decoded side by side by up to `set_decoder_threads` threads (one
container and one decoder each). Frames are identified by their timestamps, so the result equals a sequential
decode; when timestamps cannot be trusted the video is decoded in order from the start.

Errors name the file (and the frame index where one is involved): `FileNotFoundError` / `OSError` for anything wrong
with a file or its content (missing, empty, not a video, a still image, no video stream, truncated, corrupt),
`ValueError` for bad arguments (such as a frame index past the last frame). The underlying exception is chained.
"""

import bisect
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import av
import numpy as np
from PIL import Image
from transformers.utils import logging

from .checks import check_positive_int
from .video_probe import (
    DEFAULT_FRAME_TEMPLATE,
    SLLMVideoProbe,
    _folder_frame_numbers,
    _metadata_probe,
    _open_video,
    _packet_table,
    _PacketTable,
    _resolve_source,
    _Source,
    _stream_fps,
    _stream_seconds,
    _template_pattern,
    probe_video,
)


logger = logging.get_logger(__name__)


__all__ = [
    "DEFAULT_FRAME_TEMPLATE",
    "SLLMVideoProbe",
    "SampledFrames",
    "count_frames",
    "probe_video",
    "read_frames",
    "read_sampled_frames",
    "set_decoder_threads",
]

# Threads decoding one video: 0 uses every core (runs from different keyframes side by side, else FFmpeg's own
# threads). Processes that decode beside other busy processes (the DataLoader workers of `sllm-predict`, which already
# decode in parallel) set 1 with `set_decoder_threads`.
_DECODER_THREADS = 0


def set_decoder_threads(count: int) -> None:
    """Sets how many threads decode one video in this process (`0`: one per core)."""
    global _DECODER_THREADS
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"Decoder threads must be an int >= 0 (0: one per core), got {count!r}.")
    _DECODER_THREADS = count


def _use_decoder_threads(stream) -> None:
    """Frame + slice threading with this process's thread count. H.264 from x264 has one slice per frame, so slice
    threading alone (PyAV's default) decodes on one core; the frames come out in the same order either way."""
    stream.thread_type = "AUTO"
    stream.thread_count = _DECODER_THREADS


# (width, height) of an upright decoded frame -> the (width, height) to return it at, or None to keep its size.
ResizeFn = Callable[[int, int], tuple[int, int] | None]


class SampledFrames(NamedTuple):
    """
    Result of [`read_sampled_frames`].

    Attributes:
        frames (`np.ndarray` of shape `(len(indices), height, width, 3)`, dtype uint8): upright RGB frames, in
            `indices` order.
        indices (`np.ndarray` of shape `(num_sampled,)`, dtype int64): the frame indices that were read.
        num_frames (`int`): the counted number of frames the indices were sampled from (the caller's
            `total_num_frames`, the packets, or the decoded frames; frames matching the template for folders).
        fps (`float` or `None`): average frame rate declared by the container (`None` for frame folders).
    """

    frames: np.ndarray
    indices: np.ndarray
    num_frames: int
    fps: float | None


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


def _resize_rgb(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    """An RGB uint8 frame `(h, w, 3)` resized to `(height, width, 3)` with swscale's bicubic filter."""
    image = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
    return image.reformat(width, height, interpolation="BICUBIC").to_ndarray()


def _stack(frames: dict[int, np.ndarray], indices: np.ndarray, name: str) -> np.ndarray:
    """
    Stack `frames[i] for i in indices`. A frame whose size differs from the lowest-index frame's (the resolution
    changed mid-stream) is resized to that size, with a warning naming the file and the frame.
    """
    first = min(int(index) for index in indices)
    height, width = frames[first].shape[:2]
    for index in sorted(set(indices.tolist())):
        if frames[index].shape[:2] != (height, width):
            other_height, other_width = frames[index].shape[:2]
            logger.warning(
                f"Frames of '{name}' change size: frame {index} is {other_width}x{other_height} (width x height) but "
                f"frame {first} is {width}x{height}; it is resized to {width}x{height}"
            )
            frames[index] = _resize_rgb(frames[index], width, height)
    return np.stack([frames[int(index)] for index in indices])


# --------------------------------------------------------------------------------------------------------------------
# Video files (PyAV)


class _FrameConverter:
    """Decoded `av.VideoFrame` -> upright RGB uint8 array, at the size `resize_to` asks for (full size by default)."""

    def __init__(self, name: str, resize_to: ResizeFn | None = None):
        self.name = name
        self.resize_to = resize_to
        self._warned_rotation = False

    def _quarter_turns(self, frame) -> int:
        """Counter-clockwise quarter turns that make the frame upright (its display matrix' rotation)."""
        degrees = float(frame.rotation or 0)
        turns = int(round(degrees / 90.0))
        if abs(degrees - 90 * turns) > 1 and not self._warned_rotation:
            self._warned_rotation = True
            logger.warning(
                f"'{self.name}' asks for a display rotation of {degrees:g} degrees; rotating by {90 * turns}"
            )
        return turns % 4

    def __call__(self, frame) -> np.ndarray:
        turns = self._quarter_turns(frame)
        upright = (frame.height, frame.width) if turns % 2 else (frame.width, frame.height)
        target = self.resize_to(*upright) if self.resize_to is not None else None
        if target is None or tuple(target) == upright:
            rgb = frame.to_ndarray(format="rgb24")
        else:
            width, height = (int(target[1]), int(target[0])) if turns % 2 else (int(target[0]), int(target[1]))
            # RGB at full size first: a scaled YUV->RGB conversion clips out-of-gamut values after averaging and
            # differs from the processor's resize of full-size RGB frames by up to 15 levels (see the tests)
            rgb = frame.reformat(format="rgb24").reformat(width, height, interpolation="BICUBIC").to_ndarray()
        if turns:
            rgb = np.ascontiguousarray(np.rot90(rgb, turns))
        return rgb


class _Decoded(NamedTuple):
    """Converted frames by index, how many frames the decoder output, and whether it decoded to the end."""

    frames: dict[int, np.ndarray]
    decoded: int
    to_the_end: bool


def _run_threads(source: _Source | None, runs: int) -> int:
    """Threads that decode the `runs` of one video side by side, each with its own container and a one-thread decoder:
    one unless the source can be opened again (a path or bytes, not a shared file object) and there are 2+ runs."""
    if runs < 2 or source is None or not (source.kind == "file" or isinstance(source.data, bytes)):
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(_DECODER_THREADS or cores, runs))


def _balanced_groups(costs: dict[int, int], count: int) -> list[list[int]]:
    """Splits the keys of `costs` into `count` groups of similar total cost (largest first onto the lightest group)."""
    groups: list[list[int]] = [[] for _ in range(count)]
    totals = [0] * count
    for key in sorted(costs, key=lambda key: (-costs[key], key)):
        lightest = totals.index(min(totals))
        groups[lightest].append(key)
        totals[lightest] += costs[key]
    return [group for group in groups if group]


def _decode_run(container, stream, keyframe: int, run: set[int], pts: list[int], convert: _FrameConverter):
    """Decodes the frames `run` (indices) from the keyframe with timestamp `keyframe`: `(frames, decoded)`."""
    codec = stream.codec_context
    position = {pts[index]: index for index in run}
    frames: dict[int, np.ndarray] = {}
    decoded = 0

    def take(output_frames) -> None:
        nonlocal decoded
        for frame in output_frames:
            decoded += 1
            index = position.get(frame.pts)
            if index is not None and index not in frames:  # frames before the run's keyframe are ignored
                frames[index] = convert(frame)

    container.seek(keyframe, stream=stream, backward=True, any_frame=False)  # also resets the decoder
    unsent = set(position)
    try:
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            # frames that are neither wanted nor references of other frames are not decoded at all
            codec.skip_frame = "DEFAULT" if packet.pts in unsent else "NONREF"
            unsent.discard(packet.pts)
            take(packet.decode())
            if not unsent:
                break
        codec.skip_frame = "DEFAULT"
        take(stream.decode(None))  # drain the frames in flight: nothing after the run's last packet
    finally:
        codec.skip_frame = "DEFAULT"
    return frames, decoded


def _decode_run_group(source: _Source, keyframes: list[int], runs: dict, pts: list[int], convert: _FrameConverter):
    """Decodes the runs starting at `keyframes` on a container of its own with a one-thread decoder."""
    with _open_video(source) as (container, stream):
        stream.thread_count = 1
        results = [_decode_run(container, stream, keyframe, runs[keyframe], pts, convert) for keyframe in keyframes]
    return results


def _decode_runs(
    container, stream, table: _PacketTable, wanted: set[int], convert: _FrameConverter, source: _Source | None = None
) -> _Decoded | None:
    """
    Decode the frames `wanted` by runs that start at the keyframe before them (see the module docstring), or `None`
    (the caller then decodes in order) whenever the result could differ from a sequential decode. With `source` (the
    video `container` was opened from), runs are decoded by up to [`set_decoder_threads`] threads at once, one
    container each: the runs are independent.
    """
    if not wanted or not table.timestamps_usable or not table.keyframe_pts or max(wanted) >= table.count:
        return None
    pts = table.frame_pts
    runs: dict[int, set[int]] = {}
    for index in sorted(wanted):
        keyframe = bisect.bisect_right(table.keyframe_pts, pts[index]) - 1
        if keyframe < 0:
            return None
        runs.setdefault(table.keyframe_pts[keyframe], set()).add(index)
    threads = 1
    if not stream.codec_context.is_open:  # else the caller's decoder already runs with its own threads
        # one thread per decoder: frame threading costs more than it gives to a decoder that skips frames (one GOP
        # of bikes.mp4: 27 ms on one thread, 30-34 ms on two)
        stream.thread_count = 1
        threads = _run_threads(source, len(runs))
    try:
        if threads == 1:
            results = [_decode_run(container, stream, keyframe, run, pts, convert) for keyframe, run in runs.items()]
        else:
            # cost of a run: the frames from its keyframe to its last wanted frame
            first = {keyframe: bisect.bisect_left(pts, keyframe) for keyframe in runs}
            costs = {keyframe: max(run) - first[keyframe] + 1 for keyframe, run in runs.items()}
            own, *groups = _balanced_groups(costs, threads)
            with ThreadPoolExecutor(max_workers=len(groups)) as pool:
                others = [pool.submit(_decode_run_group, source, group, runs, pts, convert) for group in groups]
                results = [_decode_run(container, stream, keyframe, runs[keyframe], pts, convert) for keyframe in own]
                for future in others:
                    results.extend(future.result())
    except av.error.FFmpegError:
        return None  # decoded again in order, which names the frame where the file breaks
    frames: dict[int, np.ndarray] = {}
    for run_frames, _ in results:
        frames.update(run_frames)
    if not wanted <= frames.keys():
        return None
    return _Decoded(frames, sum(decoded for _, decoded in results), False)


def _decode_in_order(
    source: _Source, wanted: set[int], stop_after: int | None, convert: _FrameConverter
) -> _Decoded:
    """Decode from the start in output order, converting the frames `wanted`; stop after frame `stop_after`."""
    frames: dict[int, np.ndarray] = {}
    index = 0
    with _open_video(source) as (container, stream):
        _use_decoder_threads(stream)
        try:
            for packet in container.demux(stream):
                for frame in packet.decode():
                    if index in wanted:
                        frames[index] = convert(frame)
                    index += 1
                    if stop_after is not None and index > stop_after:
                        return _Decoded(frames, index, False)
        except av.error.FFmpegError as error:
            raise OSError(
                f"Decoding '{source.name}' failed at frame index {index} ({index} frames were decodable before the "
                f"error); the file is corrupt: {error}"
            ) from error
    return _Decoded(frames, index, True)


def _expected_frames(source: _Source) -> tuple[int, str]:
    """What the container says about the number of frames (only used to explain errors): (count, wording)."""
    with _open_video(source) as (container, stream):
        probe = _metadata_probe(source, container, stream)
        if probe.counted and probe.total_num_frames:
            return probe.total_num_frames, f"the container indexes {probe.total_num_frames}"
        if stream.frames:
            return int(stream.frames), f"the container declares {int(stream.frames)}"
        fps, seconds = _stream_fps(stream), _stream_seconds(container, stream)
    if fps and seconds:
        estimate = int(round(seconds * fps))
        return estimate, f"the container's duration ({seconds:.2f} s at {fps:g} fps) implies about {estimate}"
    return 0, ""


def _missing_frame_error(source: _Source, index: int, decoded: int) -> Exception:
    if decoded == 0:
        return OSError(f"'{source.name}' has no decodable video frames (cannot read frame index {index})")
    expected, wording = _expected_frames(source)
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
    return _decode_in_order(source, set(), None, _FrameConverter(source.name)).decoded


def _read_wanted(source: _Source, wanted: set[int], convert: _FrameConverter, table: _PacketTable | None = None):
    """The frames `wanted` by runs from keyframes when possible, else in order; (frames, decoded, to_the_end)."""
    with _open_video(source) as (container, stream):
        _use_decoder_threads(stream)
        if table is None:
            table = _packet_table(container, stream)
        result = _decode_runs(container, stream, table, wanted, convert, source)
    if result is None:
        result = _decode_in_order(source, wanted, max(wanted), convert)
    return result


def _read_video_frames(source: _Source, indices: np.ndarray, resize_to: ResizeFn | None = None) -> np.ndarray:
    last = int(indices.max())
    frames, decoded, _ = _read_wanted(source, set(indices.tolist()), _FrameConverter(source.name, resize_to))
    if last not in frames:
        raise _missing_frame_error(source, last, decoded)
    return _stack(frames, indices, source.name)


# --------------------------------------------------------------------------------------------------------------------
# Frame folders


def _count_folder_frames(source: _Source, template: str, start_index: int) -> int:
    return len(_folder_frame_numbers(source.path, template, start_index))


def _read_folder_frames(
    source: _Source, indices: np.ndarray, template: str, start_index: int, resize_to: ResizeFn | None = None
) -> np.ndarray:
    _template_pattern(template)
    frames: dict[int, np.ndarray] = {}
    sizes: dict[int, tuple[int, int]] = {}
    for index in sorted(set(indices.tolist())):
        file_name = template.format(start_index + index)
        path = os.path.join(source.path, file_name)
        try:
            with Image.open(path) as image:
                image = image.convert("RGB")
                sizes[index] = image.size
                target = resize_to(*image.size) if resize_to is not None else None
                if target is not None and tuple(target) != image.size:
                    image = image.resize((int(target[0]), int(target[1])), Image.BICUBIC)
                frames[index] = np.asarray(image)
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
    first = min(sizes)
    for index in sorted(sizes):
        if sizes[index] != sizes[first]:
            raise ValueError(
                f"Frame file '{os.path.join(source.path, template.format(start_index + index))}' (frame index "
                f"{index}) is {sizes[index][0]}x{sizes[index][1]} (width x height) but frame file "
                f"'{os.path.join(source.path, template.format(start_index + first))}' (frame index {first}) is "
                f"{sizes[first][0]}x{sizes[first][1]}: all frames of a folder must have the same size"
            )
    return np.stack([frames[int(index)] for index in indices])


# --------------------------------------------------------------------------------------------------------------------
# Public API


def count_frames(source, *, frame_template: str = DEFAULT_FRAME_TEMPLATE, frame_start_index: int = 1) -> int:
    """
    Exact number of frames of a video or frame folder.

    For a video, the frames are decoded (without colour conversion) and counted: the count a container declares is
    missing (0) in many files (mkv, webm) and wrong in others. A frame folder has as many frames as files whose name
    is `frame_template.format(number)` with `number >= frame_start_index`. For a cheaper count see [`probe_video`].

    Args:
        source: a video path, a frame folder, video bytes or a binary file-like object (see the module docstring).
        frame_template (`str`, *optional*, defaults to `"img_{:05d}.jpg"`): file names of the frames of a folder.
        frame_start_index (`int`, *optional*, defaults to 1): number of the first frame file of a folder.

    Returns:
        `int`: the number of frames (0 for a video stream without decodable frames or a folder without frame files).

    Raises:
        `FileNotFoundError`, `OSError`: the file is missing, empty, not a video, a still image, has no video stream,
        or decoding fails (the message names the file and the frame index reached).
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
    resize_to: ResizeFn | None = None,
) -> np.ndarray:
    """
    Read the frames `indices` (0-based, in any order, repeats allowed) of a video or frame folder.

    A video is decoded from the keyframe before each run of requested frames, up to frame `max(indices)` only, and
    only the requested frames are converted to RGB. A folder reads only the requested files.

    Args:
        source: a video path, a frame folder, video bytes or a binary file-like object (see the module docstring).
        indices (sequence of `int`): the frames to read.
        frame_template (`str`, *optional*, defaults to `"img_{:05d}.jpg"`): file names of the frames of a folder.
        frame_start_index (`int`, *optional*, defaults to 1): number of the first frame file of a folder.
        resize_to (`Callable[[int, int], tuple[int, int] | None]`, *optional*): maps an upright frame's (width,
            height) to the (width, height) to return it at (`None`: keep). Frames are returned at full size without it.

    Returns:
        `np.ndarray` of shape `(len(indices), height, width, 3)`, dtype uint8: upright RGB frames in `indices` order.

    Raises:
        `ValueError`: empty, negative or non-integer indices, an index past the last frame, frames of different sizes
        in a folder.
        `FileNotFoundError`, `OSError`: missing/empty/unreadable file, not a video, a still image, no video stream, a
        missing frame file in a folder, or a truncated/corrupt stream that ends before a requested frame (the message
        names the frame index and how many frames were decodable).
    """
    resolved = _resolve_source(source)
    indices = _check_indices(indices, resolved.name)
    if resolved.kind == "folder":
        start_index = check_positive_int("frame_start_index", frame_start_index, minimum=0)
        return _read_folder_frames(resolved, indices, frame_template, start_index, resize_to)
    return _read_video_frames(resolved, indices, resize_to)


def _sample_counted_video(
    resolved: _Source, sample, total_num_frames: int | None, convert: _FrameConverter
) -> SampledFrames:
    """Inference/training road of [`read_sampled_frames`]: sample from a counted total, decode only what is needed."""
    with _open_video(resolved) as (container, stream):
        _use_decoder_threads(stream)
        fps = _stream_fps(stream)
        for problem in _metadata_probe(resolved, container, stream).problems:
            logger.warning(f"'{resolved.name}' is damaged: {problem}")
        table = _packet_table(container, stream)
        if table.error:
            logger.warning(f"'{resolved.name}' is damaged: {table.error}")
        total = total_num_frames if total_num_frames is not None else table.count
        result = None
        if total > 0:
            indices = sample(total, fps)
            result = _decode_runs(container, stream, table, set(indices.tolist()), convert, resolved)
    if total > 0 and result is None:
        result = _decode_in_order(resolved, set(indices.tolist()), int(indices.max()), convert)
    if total > 0 and set(indices.tolist()) <= result.frames.keys():
        return SampledFrames(_stack(result.frames, indices, resolved.name), indices, total, fps)
    exact = _count_video_frames(resolved)
    if exact == 0:
        raise OSError(f"'{resolved.name}' has no decodable video frames")
    how = "given as total_num_frames" if total_num_frames is not None else "counted from its packets"
    logger.warning(f"'{resolved.name}' has {total} frames ({how}) but only {exact} decode; sampling from {exact}")
    indices = sample(exact, fps)
    frames, decoded, _ = _read_wanted(resolved, set(indices.tolist()), convert)
    if not set(indices.tolist()) <= frames.keys():
        raise _missing_frame_error(resolved, int(indices.max()), decoded)
    return SampledFrames(_stack(frames, indices, resolved.name), indices, exact, fps)


def read_sampled_frames(
    source,
    sample_fn: Callable[[int, float | None], Sequence[int] | np.ndarray],
    *,
    frame_template: str = DEFAULT_FRAME_TEMPLATE,
    frame_start_index: int = 1,
    exact_count: bool = True,
    total_num_frames: int | None = None,
    resize_to: ResizeFn | None = None,
) -> SampledFrames:
    """
    Count the frames of a video, choose indices with `sample_fn(num_frames, fps)` and read them.

    How the frames are counted:
        - `total_num_frames` given (a count the caller made, e.g. the pre-flight's `total_num_frames` of a training
          row): the indices are sampled from it and only the chosen frames are decoded.
        - `exact_count=False` (inference): the frames are counted from the packets, read without decoding (the
          header's count is never used unchecked), and only the chosen frames are decoded.
        - `exact_count=True` (the default): every frame is decoded and counted; the indices are chosen from the
          packet count while decoding and chosen again if the decoded count differs, so the result equals
          `read_frames(source, sample_fn(count_frames(source), fps))`.
        A video that decodes to fewer frames than counted is counted by decoding and sampled again, with a warning.

    Args:
        source: a video path, a frame folder, video bytes or a binary file-like object (see the module docstring).
        sample_fn (`Callable[[int, float | None], Sequence[int]]`): maps (number of frames, fps) to frame indices.
        frame_template, frame_start_index, resize_to: as in [`read_frames`].
        exact_count (`bool`, *optional*, defaults to `True`): decode every frame to count them (see above).
        total_num_frames (`int`, *optional*): the counted number of frames of the video (>= 1).

    Returns:
        [`SampledFrames`]: frames, indices, the number of frames sampled from, fps.

    Raises:
        as [`read_frames`]; `OSError` if the video or folder has no frames; `ValueError` if `sample_fn` returns
        indices outside `[0, num_frames - 1]` or `total_num_frames` is not an integer >= 1.
    """
    resolved = _resolve_source(source)
    if total_num_frames is not None:
        total_num_frames = check_positive_int("total_num_frames", total_num_frames)

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
        num_frames = total_num_frames or _count_folder_frames(resolved, frame_template, start_index)
        if num_frames == 0:
            raise OSError(f"The frame folder '{resolved.path}' has no files matching '{frame_template}'")
        indices = sample(num_frames, None)
        frames = _read_folder_frames(resolved, indices, frame_template, start_index, resize_to)
        return SampledFrames(frames=frames, indices=indices, num_frames=num_frames, fps=None)

    convert = _FrameConverter(resolved.name, resize_to)
    if total_num_frames is not None or not exact_count:
        return _sample_counted_video(resolved, sample, total_num_frames, convert)

    with _open_video(resolved) as (container, stream):
        fps = _stream_fps(stream)
        guess = _packet_table(container, stream).count
    guessed_indices = sample(guess, fps) if guess > 0 else np.zeros(0, dtype=np.int64)
    frames, num_frames, _ = _decode_in_order(resolved, set(guessed_indices.tolist()), None, convert)
    if num_frames == 0:
        raise OSError(f"'{resolved.name}' has no decodable video frames")
    if num_frames == guess:
        indices = guessed_indices
    else:
        indices = sample(num_frames, fps)
        if not set(indices.tolist()) <= frames.keys():
            return SampledFrames(_read_video_frames(resolved, indices, resize_to), indices, num_frames, fps)
    return SampledFrames(_stack(frames, indices, resolved.name), indices, num_frames, fps)

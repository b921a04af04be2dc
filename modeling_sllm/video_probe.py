# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""Opening video sources safely and probing them without decoding: [`probe_video`] and [`SLLMVideoProbe`].

How a source reaches FFmpeg: a local path is opened as `file:` + its absolute path, so that no part of a file name is
taken as an FFmpeg protocol or option (`pipe:0`, `12:30:00 clip.mp4`, `file:x.mp4`, `concat:a|b` are plain file
names). Only regular files and folders are accepted (a FIFO or a device such as `/dev/stdin` would block). Nothing
here touches the network; `SLLMVideoProcessor` downloads explicit `http://` / `https://` URLs itself. Bytes and
file-like objects are handed to FFmpeg as Python file objects.

Which frame count can be trusted (the rule every reader of this package follows):

1. A count the caller has counted (the pre-flight's `total_num_frames`) is used as given.
2. Otherwise a header is trusted only when a per-frame index confirms it: mp4/mov (the sample table) and AVI (the
   `idx1`/OpenDML index) list every frame with its byte position, and their count is used when the header's frame
   count equals the number of index entries and every entry's bytes lie inside the file. Edit lists are applied
   (discarded samples are not frames). Entries past the end of the file are a truncated file: the frames whose
   bytes are there are the count, and the truncation is reported in `problems`.
3. In every other case (mkv/webm, MPEG-TS, fragmented mp4, an AVI whose header disagrees with its index, ...) the
   frames are counted by reading the packets without decoding them (one packet per frame; empty and discarded
   packets are not frames).
4. A full decode counts what the decoder outputs (`level="full"`, `count_frames`); readers fall back to it when a
   video decodes to fewer frames than counted.
"""

import io
import os
import re
import string
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import av
from PIL import Image

from .checks import check_positive_int


__all__ = ["DEFAULT_FRAME_TEMPLATE", "PROBE_LEVELS", "SLLMVideoProbe", "probe_video"]

DEFAULT_FRAME_TEMPLATE = "img_{:05d}.jpg"
PROBE_LEVELS = ("metadata", "auto", "packets", "full")

# Demuxers that index every frame with its byte range (checked against the header, see the module docstring).
_INDEXED_FORMATS = ("mov", "mp4", "avi")
# Demuxers of single images: a PNG or JPEG renamed .mp4 is opened by one of these.
_IMAGE_FORMATS = ("image2", "image2pipe")


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
        """What `av.open` gets: `file:<absolute path>` (never a protocol or device) or a Python file object."""
        if self.kind == "file":
            return "file:" + os.path.abspath(self.path)
        if isinstance(self.data, bytes):
            return io.BytesIO(self.data)
        self.data.seek(0)
        return self.data

    def size(self) -> int | None:
        """Size in bytes of the encoded video (`None` when unknown)."""
        if self.kind == "file":
            return os.path.getsize(self.path)
        if isinstance(self.data, bytes):
            return len(self.data)
        position = self.data.tell()
        try:
            return self.data.seek(0, io.SEEK_END)
        finally:
            self.data.seek(position)


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
            hint = " (URLs are downloaded by SLLMVideoProcessor, not read here)" if "://" in path else ""
            raise FileNotFoundError(f"Video file or frame folder not found (no such file): '{path}'{hint}")
        if not os.path.isfile(path):
            raise OSError(f"Video source '{path}' is neither a regular file nor a folder (a pipe or a device?)")
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


def _video_stream(container, name: str):
    """The first video stream that is a video (not a cover picture); `OSError` naming the file otherwise."""
    format_names = set(container.format.name.split(","))
    streams = [s for s in container.streams.video if not s.disposition & av.stream.Disposition.attached_pic]
    if format_names & set(_IMAGE_FORMATS) or any(fmt.endswith("_pipe") for fmt in format_names):
        codec = container.streams.video[0].codec_context.name if container.streams.video else "image"
        raise OSError(f"'{name}' is a still image ({codec}), not a video")
    if not streams:
        if container.streams.video:
            raise OSError(f"'{name}' has no video stream, only a still cover picture")
        kinds = sorted({stream.type for stream in container.streams}) or ["none"]
        raise OSError(f"'{name}' has no video stream (stream types: {', '.join(kinds)})")
    return streams[0]


@contextmanager
def _open_video(source: _Source) -> Iterator[tuple[Any, Any]]:
    """Opens the container, yields `(container, video stream)`; every failure is an `OSError` naming the file."""
    try:
        container = av.open(source.open_target(), mode="r")
    except av.error.FFmpegError as error:
        raise OSError(f"Cannot open '{source.name}' as a video (not a video file, or corrupt): {error}") from error
    try:
        yield container, _video_stream(container, source.name)
    finally:
        container.close()


def _stream_fps(stream) -> float | None:
    for rate in (stream.average_rate, stream.guessed_rate):
        if rate:
            return float(rate)
    return None


def _stream_seconds(container, stream) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return None


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
    """The frame numbers `n >= start_index` whose file `template.format(n)` is in `folder`, sorted."""
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


# --------------------------------------------------------------------------------------------------------------------
# Packets (demuxing without decoding)


@dataclass
class _PacketTable:
    """
    The packets of a video stream, read without decoding.

    `frame_pts`: presentation timestamps of the frames (non-empty, non-discarded packets), sorted: frame `i` has
    `frame_pts[i]` when `timestamps_usable`. `keyframe_pts`: timestamps of the keyframe packets (discarded ones too:
    they start the decoding of the frames after them), sorted. `count`: number of frames. `error`: the demuxer's
    error if the packets stop early (a corrupt or truncated file), else `None`.
    """

    frame_pts: list[int]
    keyframe_pts: list[int]
    count: int
    timestamps_usable: bool
    error: str | None = None


def _packet_table(container, stream) -> _PacketTable:
    frame_pts, keyframe_pts, count, usable, error = [], [], 0, True, None
    try:
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            if packet.pts is None:
                usable = False
            elif packet.is_keyframe:
                keyframe_pts.append(int(packet.pts))
            if packet.is_discard:
                continue
            count += 1
            if packet.pts is not None:
                frame_pts.append(int(packet.pts))
    except av.error.FFmpegError as exc:
        error = f"the packets stop after {count} frames: {exc}"
    frame_pts.sort()
    keyframe_pts.sort()
    usable = usable and len(set(frame_pts)) == len(frame_pts) == count
    return _PacketTable(frame_pts, keyframe_pts, count, usable, error)


# --------------------------------------------------------------------------------------------------------------------
# Probe


@dataclass
class SLLMVideoProbe:
    """
    What [`probe_video`] found out about a video or frame folder.

    Attributes:
        name (`str`): the source as named in messages (its path, or a description of bytes).
        level (`str`): the level that produced the count: "metadata", "packets" or "full" ("folder" for folders).
        total_num_frames (`int` or `None`): the number of frames, or `None` when it could not be established at this
            level (then `counted` is `False`; `declared_num_frames` holds what the header says).
        counted (`bool`): `True` when `total_num_frames` is a count (an index checked against the header and the
            file, the packets, the decoded frames or the frame files), never a bare header field.
        declared_num_frames (`int` or `None`): the frame count the header declares (`None`: none).
        width, height (`int`): size of the coded frames (before the display rotation; the readers return upright
            frames, so `height` and `width` swap when `rotation` is +-90). For folders, the first frame file's size.
        fps (`float` or `None`): average frame rate declared by the container.
        duration (`float` or `None`): duration in seconds declared by the container.
        rotation (`int` or `None`): display rotation in degrees counter-clockwise (0, 90, 180 or -90), applied by
            the readers; read from the decoded frames, so only known at level "full" (`None` otherwise).
        container (`str`), codec (`str`): FFmpeg's names of the demuxer and the decoder.
        problems (`list[str]`): reasons not to use the video (truncated, corrupt, no decodable frame, gaps in the
            numbering of a folder). Empty when the video is usable.
        notes (`list[str]`): surprises the readers handle (a header count that differs from the count, a resolution
            that changes mid-stream).
    """

    name: str
    level: str
    total_num_frames: int | None
    counted: bool
    declared_num_frames: int | None = None
    width: int = 0
    height: int = 0
    fps: float | None = None
    duration: float | None = None
    rotation: int | None = None
    container: str = ""
    codec: str = ""
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """`True` when no problem was found and the frame count is known."""
        return not self.problems and self.counted and bool(self.total_num_frames)


def _index_count(stream, size: int | None) -> tuple[int | None, str | None]:
    """
    Frames listed by the container's per-frame index when it can be trusted (see the module docstring), and a problem
    if entries lie past the end of the file. `(None, None)` when the index cannot be used for counting.
    """
    declared = int(stream.frames or 0)
    entries = stream.index_entries
    if declared <= 0 or len(entries) != declared or size is None:
        return None, None
    inside = [entry for entry in entries if entry.pos + entry.size <= size]
    count = sum(1 for entry in inside if not entry.is_discard and entry.size > 0)
    if len(inside) == len(entries):
        return count, None
    end = max(entry.pos + entry.size for entry in entries)
    return count, (
        f"truncated: the container indexes {declared} frames up to byte {end} but the file ends at byte {size}; only "
        f"{count} frames are in the file"
    )


def _metadata_probe(source: _Source, container, stream) -> SLLMVideoProbe:
    declared = int(stream.frames or 0) or None
    fps, seconds = _stream_fps(stream), _stream_seconds(container, stream)
    probe = SLLMVideoProbe(
        name=source.name, level="metadata", total_num_frames=None, counted=False, declared_num_frames=declared,
        width=stream.codec_context.width, height=stream.codec_context.height, fps=fps, duration=seconds,
        container=container.format.name, codec=stream.codec_context.name,
    )
    if any(name in _INDEXED_FORMATS for name in container.format.name.split(",")):
        count, problem = _index_count(stream, source.size())
        entries = len(stream.index_entries)
        if count is None and declared and entries and entries != declared:
            probe.notes.append(
                f"the header declares {declared} frames but the index lists {entries}: the packets must be counted"
            )
        if count is not None:
            probe.total_num_frames, probe.counted = count, True
            if problem:
                probe.problems.append(problem)
            elif declared is not None and count != declared:
                probe.notes.append(f"the header declares {declared} frames, {count} are presented (an edit list)")
            return probe
    if declared is not None and fps and seconds and abs(seconds * fps - declared) > max(2.0, 0.05 * declared):
        probe.notes.append(
            f"the header declares {declared} frames but its duration ({seconds:.2f} s at {fps:g} fps) implies about "
            f"{round(seconds * fps)}"
        )
    return probe


def _packets_probe(probe: SLLMVideoProbe, container, stream) -> SLLMVideoProbe:
    indexed = probe.total_num_frames if probe.counted else None
    table = _packet_table(container, stream)
    probe.level, probe.total_num_frames, probe.counted = "packets", table.count, True
    if table.error:
        probe.problems.append(f"corrupt or truncated: {table.error}")
    if indexed is not None and table.count < indexed and not probe.problems:
        probe.problems.append(f"truncated: the index lists {indexed} frames, only {table.count} packets can be read")
    declared = probe.declared_num_frames
    if declared is not None and declared != table.count and not probe.notes and not probe.problems:
        probe.notes.append(f"the header declares {declared} frames, the file holds {table.count}")
    return probe


def _full_probe(probe: SLLMVideoProbe, container, stream) -> SLLMVideoProbe:
    packets = probe.total_num_frames if probe.counted else None
    stream.thread_type = "AUTO"
    count, sizes, rotation = 0, {}, None
    try:
        for packet in container.demux(stream):
            for frame in packet.decode():
                if rotation is None:
                    rotation = (0, 90, 180, -90)[int(round(float(frame.rotation or 0) / 90.0)) % 4]
                sizes.setdefault((frame.width, frame.height), count)
                count += 1
    except av.error.FFmpegError as error:
        probe.problems.append(
            f"decoding fails at frame index {count} ({count} frames were decodable before the error): {error}"
        )
    probe.level, probe.total_num_frames, probe.counted, probe.rotation = "full", count, True, rotation or 0
    if count == 0 and not probe.problems:
        probe.problems.append("no decodable video frames")
    if len(sizes) > 1:
        changes = ", ".join(
            f"{w}x{h} from frame {index}" for (w, h), index in sorted(sizes.items(), key=lambda x: x[1])
        )
        probe.notes.append(f"the resolution changes mid-stream ({changes}); readers resize every frame to one size")
    if packets is not None and packets != count and not probe.problems:
        probe.notes.append(f"{packets} packets decode to {count} frames")
    return probe


def _folder_probe(source: _Source, frame_template: str, frame_start_index: int) -> SLLMVideoProbe:
    numbers = _folder_frame_numbers(source.path, frame_template, frame_start_index)
    probe = SLLMVideoProbe(name=source.name, level="folder", total_num_frames=len(numbers), counted=True)
    if not numbers:
        probe.problems.append(f"no files matching '{frame_template}'")
        return probe
    gaps = sorted(set(range(frame_start_index, frame_start_index + len(numbers))) - set(numbers))
    if gaps:
        probe.problems.append(
            f"frame file '{frame_template.format(gaps[0])}' is missing ({len(gaps)} gap(s) in the numbering)"
        )
    first = os.path.join(source.path, frame_template.format(numbers[0]))
    try:
        with Image.open(first) as image:
            probe.width, probe.height = image.size
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        probe.problems.append(f"cannot read frame file '{first}': {error}")
    return probe


def probe_video(
    source,
    level: str = "metadata",
    *,
    frame_template: str = DEFAULT_FRAME_TEMPLATE,
    frame_start_index: int = 1,
) -> SLLMVideoProbe:
    """
    Find out how many frames a video (or frame folder) has, its size, rate and problems, as cheaply as asked.

    Levels:
        - "metadata": opens the container and reads its header and index only (milliseconds, no packet read):
          counted for mp4/mov/AVI whose index confirms the header (truncation detected from the index), else
          `counted=False` and `total_num_frames=None`.
        - "auto": "metadata", then "packets" only when the metadata count cannot be trusted. The pre-flight's
          default and what the readers use.
        - "packets": reads every packet without decoding (catches truncation, a corrupt container and lying headers).
        - "full": decodes every frame (catches undecodable frames and resolution changes, reads the rotation).

    Args:
        source: a video path, a frame folder, video bytes, a binary file-like object or a `{"bytes", "path"}` dict.
        level (`str`, *optional*, defaults to "metadata"): one of `PROBE_LEVELS`.
        frame_template (`str`), frame_start_index (`int`): file names of the frames of a folder (a folder is always
            probed by listing its files).

    Returns:
        [`SLLMVideoProbe`].

    Raises:
        `FileNotFoundError`, `OSError` (naming the file): the source is missing, empty, not a regular file, cannot be
        opened as a video, has no video stream, or is a still image. Problems found in an opened video are returned
        in `problems`, not raised. `ValueError`: an unknown `level` or a bad folder template.
    """
    if level not in PROBE_LEVELS:
        raise ValueError(f"`level` must be one of {PROBE_LEVELS}, got {level!r}")
    resolved = _resolve_source(source)
    if resolved.kind == "folder":
        start_index = check_positive_int("frame_start_index", frame_start_index, minimum=0)
        return _folder_probe(resolved, frame_template, start_index)
    with _open_video(resolved) as (container, stream):
        probe = _metadata_probe(resolved, container, stream)
        if level == "metadata" or (level == "auto" and probe.counted):
            return probe
        probe = _packets_probe(probe, container, stream)
        if level != "full":
            return probe
    with _open_video(resolved) as (container, stream):
        return _full_probe(probe, container, stream)

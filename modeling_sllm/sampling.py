# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""TSN segment sampling of video frames, and the SLLM split of the sampled frames into kept and skipped ones.

A clip of `T = N * k` frames is sampled with TSN segments: the video's `n` frames are split into `T` equal segments
and one frame is taken in each (a random one in training, the centre one at evaluation). SLLM encodes the frames at
positions `0, k, 2k, ..., (N - 1) k` of the clip (the *kept* frames) and restores the `k - 1` frames that lie between
two kept frames (the *skipped* frames, restoration targets in training). Positions after the last kept frame are not
used.

All indices are 0-based indices into the decoded frames of the video (frame folders are 1-based on disk; the reader
in `video_io.py` does that translation).

Evaluation indices (`n` frames, `T` segments, single clip) are those of TSN/Text4Vis, computed exactly in integers:

- `n >= T`: `floor(i * n / T + (n / T - 1) / 2)`, the centre of segment `i` (ties to the earlier frame);
- `n < T`: `floor(i * n / T)`, every frame at least once, repeated in order.

Training indices: `n >= T`: a uniformly random frame in `[floor(i * n / T), floor((i + 1) * n / T))`; `n < T`: every
frame once plus `T - n` random extra frames, sorted.

Multi-clip evaluation (`num_clips = C > 1`, Text4Vis multi-view testing): each segment is cut into `C` equal parts and
clip `c` takes the centre of part `c`, i.e. `floor(i * n / T + (c + 1/2) * n / (C T) - 1/2)` (but not before the
segment's first frame `floor(i * n / T)`, which matters only when segments are shorter than `C` frames); for
`n < T`, clip `c` takes `floor((i C + c) * n / (C T))`. With `C = 1` both are the evaluation indices above.
"""

from typing import NamedTuple

import numpy as np

from .checks import check_positive_int


__all__ = ["SLLMClipIndices", "sample_clip_indices", "sample_segment_indices", "split_positions"]


class SLLMClipIndices(NamedTuple):
    """
    Kept and skipped frames of an SLLM clip (unpacks as a `(kept, skipped)` pair).

    Attributes:
        kept (`np.ndarray` of shape `(N,)`, dtype int64):
            Frames encoded by the vision tower (clip positions `0, k, ..., (N - 1) k`).
        skipped (`np.ndarray` of shape `((N - 1) * (k - 1),)`, dtype int64):
            Frames between two kept frames, gap by gap (positions `1..k-1`, then `k+1..2k-1`, ...): the order of the
            model's restored embeddings. Empty when `k = 1`.
    """

    kept: np.ndarray
    skipped: np.ndarray


def _check_clip(clip_index, num_clips, training: bool) -> tuple[int, int]:
    num_clips = check_positive_int("num_clips", num_clips)
    clip_index = check_positive_int("clip_index", clip_index, minimum=0)
    if clip_index >= num_clips:
        raise ValueError(f"`clip_index` must be in [0, num_clips - 1] = [0, {num_clips - 1}], got {clip_index}")
    if training and num_clips > 1:
        raise ValueError(
            f"Multi-clip sampling (num_clips={num_clips}) is an evaluation protocol; training takes random frames"
        )
    return clip_index, num_clips


def sample_segment_indices(
    num_video_frames: int,
    num_segments: int,
    *,
    training: bool,
    rng: np.random.Generator | None = None,
    clip_index: int = 0,
    num_clips: int = 1,
) -> np.ndarray:
    """
    TSN sampling of one frame in each of `num_segments` equal segments of a video.

    Args:
        num_video_frames (`int`):
            Number `n` of (decodable) frames of the video. Must be >= 1.
        num_segments (`int`):
            Number `T` of segments, i.e. of frames returned.
        training (`bool`):
            `True`: a random frame inside each segment (needs `rng`). `False`: each segment's centre.
        rng (`np.random.Generator`, *optional*):
            Source of randomness in training (e.g. `np.random.default_rng(seed)`). Unused at evaluation.
        clip_index (`int`, *optional*, defaults to 0), num_clips (`int`, *optional*, defaults to 1):
            Evaluation only: clip `clip_index` of `num_clips` evenly shifted clips (multi-view testing).

    Returns:
        `np.ndarray` of shape `(num_segments,)`, dtype int64: sorted frame indices in `[0, n - 1]`. Videos shorter
        than `num_segments` frames repeat frames.
    """
    if isinstance(num_video_frames, (int, np.integer)) and not isinstance(num_video_frames, bool):
        if num_video_frames == 0:
            raise ValueError("Cannot sample frames from a video with 0 frames")
    n = check_positive_int("num_video_frames", num_video_frames)
    t = check_positive_int("num_segments", num_segments)
    clip_index, num_clips = _check_clip(clip_index, num_clips, training)
    segments = np.arange(t, dtype=np.int64)

    if training:
        if not isinstance(rng, np.random.Generator):
            raise ValueError(
                "Training sampling needs `rng`, a `np.random.Generator` (e.g. `np.random.default_rng(seed)`); "
                f"got {type(rng).__name__}"
            )
        if n < t:
            extra = rng.integers(0, n, size=t - n, dtype=np.int64)
            return np.sort(np.concatenate([np.arange(n, dtype=np.int64), extra]))
        starts = segments * n // t
        ends = (segments + 1) * n // t  # every segment holds >= 1 frame because n >= t
        return rng.integers(starts, ends, dtype=np.int64)

    c = num_clips
    if n < t:
        return (segments * c + clip_index) * n // (c * t)
    # floor(i n / T + (clip + 1/2) n / (C T) - 1/2), in integers, never before the segment's first frame
    numerator = (2 * (segments * c + clip_index) + 1) * n - c * t
    return np.maximum(numerator // (2 * c * t), segments * n // t)


def split_positions(num_kept: int, keep_interval: int) -> SLLMClipIndices:
    """
    Positions (within a clip of `num_kept * keep_interval` sampled frames) of the kept and of the skipped frames.

    Example: `split_positions(4, 2)` -> kept `[0, 2, 4, 6]`, skipped `[1, 3, 5]` (position 7 is unused);
    `split_positions(3, 3)` -> kept `[0, 3, 6]`, skipped `[1, 2, 4, 5]`; `split_positions(4, 1)` -> kept
    `[0, 1, 2, 3]`, skipped `[]`.
    """
    n = check_positive_int("num_kept", num_kept)
    k = check_positive_int("keep_interval", keep_interval)
    kept = np.arange(n, dtype=np.int64) * k
    skipped = (kept[:-1, None] + np.arange(1, k, dtype=np.int64)[None, :]).reshape(-1)
    return SLLMClipIndices(kept=kept, skipped=skipped)


def sample_clip_indices(
    num_video_frames: int,
    num_kept: int,
    keep_interval: int,
    *,
    training: bool,
    rng: np.random.Generator | None = None,
    clip_index: int = 0,
    num_clips: int = 1,
) -> SLLMClipIndices:
    """
    Frame indices of an SLLM clip: TSN sampling of `T = num_kept * keep_interval` frames, split into the kept and the
    skipped frames (see [`split_positions`]).

    Args:
        num_video_frames (`int`): number of decodable frames of the video (>= 1).
        num_kept (`int`): number `N` of encoded frames (`config.num_frames`).
        keep_interval (`int`): `k` (`config.keep_interval`).
        training, rng, clip_index, num_clips: as in [`sample_segment_indices`].

    Returns:
        [`SLLMClipIndices`]: `kept` of shape `(N,)` and `skipped` of shape `((N - 1) * (k - 1),)`, indices into the
        video's frames.
    """
    positions = split_positions(num_kept, keep_interval)
    indices = sample_segment_indices(
        num_video_frames,
        int(num_kept) * int(keep_interval),
        training=training,
        rng=rng,
        clip_index=clip_index,
        num_clips=num_clips,
    )
    return SLLMClipIndices(kept=indices[positions.kept], skipped=indices[positions.skipped])

# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""Video processor class for SLLM."""

import io
import os
import urllib.request
from typing import Annotated

import numpy as np

from transformers.image_processing_utils import BatchFeature
from transformers.image_utils import OPENAI_CLIP_MEAN, OPENAI_CLIP_STD, PILImageResampling
from transformers.processing_utils import Unpack, VideosKwargs
from transformers.utils import logging
from transformers.video_processing_utils import BaseVideoProcessor
from transformers.video_utils import VideoInput, VideoMetadata

from .sampling import sample_clip_indices
from .video_io import read_sampled_frames


logger = logging.get_logger(__name__)

# CLIP/Text4Vis evaluation: resize the short side to 256, centre crop 224 (and the same ratio for other crop sizes).
_RESIZE_RATIO = 256 / 224


def _at_least_one(value: int | None = None):
    # The type itself is checked by the typed-dict validation (which also passes a sentinel for absent keys).
    if isinstance(value, (int, np.integer)) and (isinstance(value, bool) or value < 1):
        raise ValueError(f"Value must be an integer >= 1, got {value!r}")


def _check_frame_counts(kwargs: dict) -> None:
    for name in ("num_frames", "keep_interval"):
        value = kwargs.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1):
            raise ValueError(f"`{name}` of SLLMVideoProcessor must be an integer >= 1, got {value!r}")
        if value is not None:
            kwargs[name] = int(value)


def _short_side_for_crop(crop_size) -> int:
    """`round(c * 256 / 224)` for a crop of side `c` (the smaller side of a rectangular crop)."""
    if isinstance(crop_size, int) and not isinstance(crop_size, bool):
        side = crop_size
    elif isinstance(crop_size, (list, tuple)) and len(crop_size) in (1, 2):
        side = min(crop_size)
    else:
        try:
            side = min(crop_size["height"], crop_size["width"])
        except (KeyError, TypeError) as error:
            raise ValueError(
                f"`crop_size` must be an int or a dict with 'height' and 'width', got {crop_size!r}"
            ) from error
    return int(round(side * _RESIZE_RATIO))


def _is_video_source(video) -> bool:
    """A video that still has to be decoded: a path/URL, a frame folder, encoded bytes, a file-like object."""
    if isinstance(video, (str, os.PathLike, bytes, bytearray, memoryview)):
        return True
    if isinstance(video, dict):
        return "bytes" in video or "path" in video
    return hasattr(video, "read")


def _download(url: str) -> io.BytesIO:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            data = response.read()
    except (OSError, ValueError) as error:
        raise OSError(f"Cannot download the video '{url}': {error}") from error
    buffer = io.BytesIO(data)
    buffer.name = url
    return buffer


class SLLMVideoProcessorKwargs(VideosKwargs, total=False):
    """
    keep_interval (`int`, *optional*, defaults to `self.keep_interval`):
        SLLM's `k`: the video is cut into `num_frames * keep_interval` TSN segments and the frames of the segments
        `0, k, 2k, ...` (the frames the vision tower encodes) are returned.
    """

    keep_interval: Annotated[int | None, _at_least_one]


class SLLMVideoProcessor(BaseVideoProcessor):
    r"""
    Video processor of SLLM: decodes only the frames the model encodes and prepares them like CLIP/Text4Vis at
    evaluation.

    With `do_sample_frames=True` (the default, and what the video-classification pipeline asks for) the video is cut
    into `T = num_frames * keep_interval` equal segments, the centre frame of each segment is selected (TSN evaluation
    sampling) and only the kept frames (segments `0, k, 2k, ...`) are decoded and returned: `num_frames` frames per
    video, frames repeated for videos shorter than `T` frames. Each frame's short side is resized to 256 (bilinear,
    antialiased), centre-cropped to 224x224 (for another `crop_size` `c`, the short side becomes `round(c * 256 /
    224)`), rescaled to [0, 1] and normalised with the CLIP mean and std.

    Videos can be given as file paths or URLs, frame folders (`img_00001.jpg`, ...), encoded bytes or binary
    file-like objects (decoded with PyAV, see `video_io.py`), or as arrays/tensors of frames `(T, H, W, 3)` or `(T, 3,
    H, W)` (sampled the same way).

    Args:
        num_frames (`int`, *optional*, defaults to 8):
            Number `N` of frames returned per video (the model's `config.num_frames`).
        keep_interval (`int`, *optional*, defaults to 2):
            `k`: one frame in `k` of the `N * k` sampled frames is kept (the model's `config.keep_interval`).
        **kwargs:
            Any other [`BaseVideoProcessor`] argument (`size`, `crop_size`, `image_mean`, ...).

    Returns (from `__call__`): a [`BatchFeature`] with `pixel_values` of shape `(batch_size, num_frames, 3, height,
    width)` (`video_metadata` too with `return_metadata=True`).

    Example:

    ```python
    >>> from modeling_sllm import SLLMVideoProcessor

    >>> processor = SLLMVideoProcessor(num_frames=8, keep_interval=2)
    >>> inputs = processor("video.mp4", return_tensors="pt")
    >>> inputs["pixel_values"].shape
    torch.Size([1, 8, 3, 224, 224])
    ```"""

    valid_kwargs = SLLMVideoProcessorKwargs
    model_input_names = ["pixel_values"]

    resample = PILImageResampling.BILINEAR
    image_mean = OPENAI_CLIP_MEAN
    image_std = OPENAI_CLIP_STD
    size = {"shortest_edge": 256}
    crop_size = {"height": 224, "width": 224}
    default_to_square = False
    do_resize = True
    do_center_crop = True
    do_rescale = True
    rescale_factor = 1 / 255
    do_normalize = True
    do_convert_rgb = True
    do_sample_frames = True
    num_frames = 8
    keep_interval = 2

    @classmethod
    def from_model_config(cls, config, **kwargs) -> "SLLMVideoProcessor":
        """
        The processor of a model: `num_frames`, `keep_interval` and the crop size (the vision tower's `image_size`)
        come from the [`SLLMConfig`]; `kwargs` set any other processor argument.
        """
        size = config.vision_config.image_size
        values = dict(
            num_frames=config.num_frames, keep_interval=config.keep_interval, crop_size={"height": size, "width": size}
        )
        values.update(kwargs)
        return cls(**values)

    def __init__(self, **kwargs: Unpack[SLLMVideoProcessorKwargs]):
        if kwargs.get("crop_size") is not None and kwargs.get("size") is None:
            kwargs["size"] = {"shortest_edge": _short_side_for_crop(kwargs["crop_size"])}
        _check_frame_counts(kwargs)
        super().__init__(**kwargs)

    def preprocess(self, videos: VideoInput, **kwargs: Unpack[SLLMVideoProcessorKwargs]) -> BatchFeature:
        if kwargs.get("crop_size") is not None and kwargs.get("size") is None:
            kwargs["size"] = {"shortest_edge": _short_side_for_crop(kwargs["crop_size"])}
        _check_frame_counts(kwargs)
        return super().preprocess(videos, **kwargs)

    def sample_frames(
        self,
        metadata: VideoMetadata | dict,
        num_frames: int | None = None,
        keep_interval: int | None = None,
        fps: int | float | None = None,
        **kwargs,
    ) -> np.ndarray:
        """
        Indices of the frames SLLM encodes: TSN evaluation sampling (segment centres) over `num_frames *
        keep_interval` segments, then every `keep_interval`-th sampled frame.

        Args:
            metadata (`VideoMetadata` or `dict`): metadata of the video; only `total_num_frames` is used.
            num_frames (`int`, *optional*): number `N` of frames to return. Defaults to `self.num_frames`.
            keep_interval (`int`, *optional*): `k`. Defaults to `self.keep_interval`.
            fps: not supported (SLLM samples segments of the whole video); must be `None`.

        Returns:
            `np.ndarray` of shape `(num_frames,)`, dtype int64: sorted frame indices (repeated for short videos).
        """
        if fps is not None:
            raise ValueError(
                "SLLMVideoProcessor samples TSN segments over the whole video and does not support `fps`; "
                "set `num_frames` (and `keep_interval`) instead"
            )
        num_frames = self.num_frames if num_frames is None else num_frames
        keep_interval = self.keep_interval if keep_interval is None else keep_interval
        total_num_frames = metadata["total_num_frames"]
        if total_num_frames is None:
            raise ValueError("Cannot sample frames: the video metadata has no `total_num_frames`")
        return sample_clip_indices(int(total_num_frames), num_frames, keep_interval, training=False).kept

    def fetch_videos(self, video_url_or_urls, sample_indices_fn=None):
        """
        Decode videos (paths, URLs, frame folders, bytes, file-like objects) with PyAV, reading only the frames chosen
        by `sample_indices_fn` (all frames when it is `None`).

        Returns:
            `(video, metadata)` for one video: frames `np.ndarray (num_sampled, H, W, 3)` uint8 RGB and a
            `VideoMetadata` (exact `total_num_frames`, `fps`, `width`, `height`, `frames_indices`); `(list of videos,
            list of metadata)` for a list.
        """
        if isinstance(video_url_or_urls, (list, tuple)):
            fetched = [self.fetch_videos(video, sample_indices_fn=sample_indices_fn) for video in video_url_or_urls]
            return [video for video, _ in fetched], [metadata for _, metadata in fetched]

        source = video_url_or_urls
        if isinstance(source, str) and source.startswith(("http://", "https://")):
            source = _download(source)

        def choose_frames(num_frames: int, fps: float | None) -> np.ndarray:
            if sample_indices_fn is None:
                return np.arange(num_frames)
            metadata = VideoMetadata(
                total_num_frames=num_frames,
                fps=fps,
                duration=num_frames / fps if fps else None,
                video_backend="pyav",
            )
            return sample_indices_fn(metadata=metadata)

        # Inference decodes only up to the last kept frame, trusting the container's frame count (checked: a video
        # shorter than declared is re-sampled from the frames that exist).
        result = read_sampled_frames(source, choose_frames, exact_count=sample_indices_fn is None)
        height, width = result.frames.shape[1:3]
        metadata = VideoMetadata(
            total_num_frames=result.num_frames,
            fps=result.fps,
            width=width,
            height=height,
            duration=result.num_frames / result.fps if result.fps else None,
            video_backend="pyav",
            frames_indices=result.indices.tolist(),
        )
        return result.frames, metadata

    def _decode_and_sample_videos(
        self,
        videos: VideoInput,
        video_metadata: VideoMetadata | dict | None,
        do_sample_frames: bool | None = None,
        sample_indices_fn=None,
    ):
        if _is_video_source(videos):
            videos = [videos]
        if isinstance(videos, (list, tuple)) and len(videos) > 0 and all(_is_video_source(video) for video in videos):
            if video_metadata is not None:
                logger.warning_once(
                    "`video_metadata` is ignored for videos given as files or bytes: it is read from the videos"
                )
            return self.fetch_videos(list(videos), sample_indices_fn=sample_indices_fn if do_sample_frames else None)
        return super()._decode_and_sample_videos(
            videos,
            video_metadata=video_metadata,
            do_sample_frames=do_sample_frames,
            sample_indices_fn=sample_indices_fn,
        )

    def _preprocess(self, videos, **kwargs) -> BatchFeature:
        batch = super()._preprocess(videos, **kwargs)
        batch["pixel_values"] = batch.pop("pixel_values_videos")
        return batch


__all__ = ["SLLMVideoProcessor"]

# Longer than 500 lines: the one video processor, as in transformers (remote code copies it whole).
# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""Video processor class for SLLM: the one evaluation and inference preprocessing (decode, sample, resize, crop)."""

import io
import os
import urllib.request
from functools import partial
from typing import NamedTuple

import numpy as np
import torch
from huggingface_hub.dataclasses import validate_typed_dict
from torchvision.transforms.v2 import functional as tvF

from transformers.image_processing_utils import BatchFeature, get_size_dict
from transformers.image_transforms import get_resize_output_image_size, get_size_with_aspect_ratio
from transformers.image_utils import (
    OPENAI_CLIP_MEAN,
    OPENAI_CLIP_STD,
    ChannelDimension,
    PILImageResampling,
    SizeDict,
    get_image_size_for_max_height_width,
    infer_channel_dimension_format,
    validate_kwargs,
)
from transformers.processing_utils import Unpack, VideosKwargs
from transformers.utils import logging
from transformers.video_processing_utils import BaseVideoProcessor
from transformers.video_utils import VideoInput, VideoMetadata

from .checks import check_positive_int
from .sampling import sample_clip_indices
from .video_io import DEFAULT_FRAME_TEMPLATE, read_sampled_frames


logger = logging.get_logger(__name__)

# CLIP/Text4Vis evaluation: resize the short side to 256, centre crop 224 (and the same ratio for other crop sizes).
_RESIZE_RATIO = 256 / 224
_NUM_CROPS = (1, 3)
# Large frames are decoded at this multiple of the resized size (swscale bicubic on full-size RGB): within 2 uint8
# levels of resizing them whole (measured: 1 on camera content, 2 on noise; 2x reaches 3, a resize in YUV 15).
_DECODE_OVERSAMPLING = 3
# The arguments of the frame transform (resize, crops, rescale, normalise), read from the processor or the call.
_TRANSFORM_ARGS = (
    "do_resize", "size", "resample", "do_center_crop", "crop_size", "do_rescale", "rescale_factor", "do_normalize",
    "image_mean", "image_std",
)


def _short_side_for_crop(crop_size) -> int:
    """`round(c * 256 / 224)` for a crop of side `c` (the smaller side of a rectangular crop)."""
    if isinstance(crop_size, (list, tuple)) and len(crop_size) in (1, 2):
        return int(round(check_positive_int("crop_size", min(crop_size)) * _RESIZE_RATIO))
    try:
        side = crop_size if isinstance(crop_size, int) else min(crop_size["height"], crop_size["width"])
    except (KeyError, TypeError) as error:
        message = f"`crop_size` must be an int or a dict with 'height' and 'width', got {crop_size!r}"
        raise ValueError(message) from error
    return int(round(check_positive_int("crop_size", side) * _RESIZE_RATIO))


def _check_arguments(kwargs: dict) -> None:
    """
    Checks SLLM's arguments in `kwargs` (constructor or call), casting numpy integers to `int` in place, and gives
    `size` its CLIP default `round(c * 256 / 224)` when only `crop_size` is given.
    """
    if kwargs.get("crop_size") is not None and kwargs.get("size") is None:
        kwargs["size"] = {"shortest_edge": _short_side_for_crop(kwargs["crop_size"])}
    for name in ("num_frames", "keep_interval", "num_clips", "num_crops"):
        if kwargs.get(name) is not None:
            kwargs[name] = check_positive_int(name, kwargs[name])
    if kwargs.get("num_crops") not in (None, *_NUM_CROPS):
        raise ValueError(
            f"`num_crops` must be 1 (centre crop) or 3 (Text4Vis' three crops along the long side), got "
            f"{kwargs['num_crops']!r}"
        )
    if kwargs.get("frame_start_index") is not None:
        kwargs["frame_start_index"] = check_positive_int("frame_start_index", kwargs["frame_start_index"], minimum=0)
    template = kwargs.get("frame_template")
    if template is not None and not isinstance(template, str):
        raise ValueError(f"`frame_template` must be a string such as 'img_{{:05d}}.jpg', got {template!r}")
    for name in ("image_mean", "image_std"):
        value = kwargs.get(name)
        if isinstance(value, (list, tuple)) and len(value) not in (1, 3):
            raise ValueError(f"`{name}` needs 1 or 3 values (RGB), got {value!r}")


def frames_to_tensor(frames) -> torch.Tensor:
    """
    The RGB frames of one clip, `(T, H, W, 3)` uint8 (`np.ndarray` or `torch.Tensor`), checked -> `(T, 3, H, W)`: a
    view, channels-last in memory, the layout torch's uint8 antialiased resize works in (on a channels-first copy it
    took 1.7x as long for 8 frames of 272x640, plus the copy; same results).
    """
    if not isinstance(frames, (np.ndarray, torch.Tensor)):
        raise ValueError(
            f"Expected the frames of one clip as a uint8 np.ndarray or torch.Tensor of shape (T, H, W, 3), got "
            f"{type(frames).__name__}"
        )
    if frames.dtype not in (np.uint8, torch.uint8):
        kind = "numpy array" if isinstance(frames, np.ndarray) else "tensor"
        raise ValueError(
            f"Expected uint8 RGB frames of shape (T, H, W, 3), got a {kind} of dtype {frames.dtype} and shape "
            f"{tuple(frames.shape)}"
        )
    if frames.ndim != 4 or frames.shape[-1] != 3 or min(frames.shape[:3]) < 1:
        raise ValueError(
            f"Expected the frames of one clip with shape (T, H, W, 3) (T, H, W >= 1, RGB channels last), got shape "
            f"{tuple(frames.shape)}"
        )
    tensor = torch.from_numpy(np.ascontiguousarray(frames)) if isinstance(frames, np.ndarray) else frames.detach()
    return tensor.permute(0, 3, 1, 2)


def _resized_size(height: int, width: int, size: SizeDict) -> tuple[int, int]:
    """`(height, width)` that `BaseVideoProcessor.resize` gives a `height x width` frame for `size` (its branches)."""
    if size.shortest_edge and size.longest_edge:
        return tuple(get_size_with_aspect_ratio((height, width), size.shortest_edge, size.longest_edge))
    if size.shortest_edge:
        image, first = torch.empty((3, height, width), device="meta"), ChannelDimension.FIRST
        return tuple(get_resize_output_image_size(image, size.shortest_edge, False, input_data_format=first))
    if size.max_height and size.max_width:
        return tuple(get_image_size_for_max_height_width((height, width), size.max_height, size.max_width))
    if size.height and size.width:
        return size.height, size.width
    raise ValueError(
        f"`size` must have 'shortest_edge', 'max_height' and 'max_width', or 'height' and 'width': {size}"
    )


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


class _ClipLayout(NamedTuple):
    """The sampled frames of one video: `num_frames` kept frames of each of `num_clips` clips, then the skipped frames
    of clip 0 (`num_skipped` of them; `None` when they are not returned)."""

    num_frames: int
    num_clips: int
    num_skipped: int | None


class SLLMVideoProcessorKwargs(VideosKwargs, total=False):
    """
    keep_interval (`int`, *optional*, defaults to `self.keep_interval`): SLLM's `k` (one sampled frame in `k` kept).
    num_clips (`int`, *optional*, defaults to `self.num_clips`, 1): temporal views (shifted TSN clips).
    num_crops (`int`, *optional*, defaults to `self.num_crops`, 1): spatial views, 1 (centre) or 3 (long side).
    return_skipped_frames (`bool`, *optional*, defaults to `False`): also return `skipped_pixel_values`.
    frame_template (`str`, *optional*, defaults to `"img_{:05d}.jpg"`): frame file names of a frame folder.
    frame_start_index (`int`, *optional*, defaults to 1): number of the first frame file of a frame folder.
    """

    keep_interval: int | None
    num_clips: int | None
    num_crops: int | None
    return_skipped_frames: bool | None
    frame_template: str | None
    frame_start_index: int | None


class SLLMVideoProcessor(BaseVideoProcessor):
    r"""
    Video processor of SLLM: decodes only the frames the model encodes and prepares them as the released checkpoints
    were evaluated (Text4Vis/CLIP), with multi-view testing (clips x crops). It is the one evaluation and inference
    preprocessing of the project: the pipeline, the evaluation and the data transforms all call it.

    Sampling (`do_sample_frames=True`, the default): the video is cut into `T = num_frames * keep_interval` equal
    segments, the centre frame of each is selected (TSN evaluation sampling) and the kept frames (segments `0, k, 2k,
    ...`) are returned, `num_frames` per clip (repeated for videos shorter than `T`). Clip `c` of `num_clips = C`
    takes the centre of part `c` of `C` equal parts of every segment (see `sampling.py`). The frames a call needs (kept
    frames of every clip, skipped frames of clip 0 with `return_skipped_frames=True`) are decoded in ONE pass.

    Transform ([`~SLLMVideoProcessor.transform_frames`]): the short side is resized to 256 with `resample` (bicubic,
    antialiased, as PIL's BICUBIC in the authors' `GroupScale`, CLIP and Text4Vis; saved in the config), the long
    side to `int(256 * long / short)`; crops of 224x224 are cut at offsets ROUNDED like torchvision's `CenterCrop`
    (`round((h - 224) / 2)`); then `/ 255` and the CLIP mean and std. For another `crop_size` `c` the short side
    becomes `round(c * 256 / 224)`. `num_crops=3` cuts the start, the centre and the end of the long side (centred
    on the short side), in that order.

    Videos can be given as file paths or URLs, frame folders (`frame_template`, 1-based by default), encoded bytes,
    `{"path", "bytes"}` dicts or binary file-like objects (decoded with PyAV, see `video_io.py`), or as arrays/tensors
    of frames `(T, H, W, 3)` or `(T, 3, H, W)` (sampled the same way).

    Args:
        num_frames (`int`, *optional*, defaults to 8):
            Number `N` of frames returned per video (the model's `config.num_frames`).
        keep_interval (`int`, *optional*, defaults to 2):
            `k`: one frame in `k` of the `N * k` sampled frames is kept (the model's `config.keep_interval`).
        num_clips (`int`, *optional*, defaults to 1), num_crops (`int`, *optional*, defaults to 1):
            Default multi-view testing of `__call__` (see [`SLLMVideoProcessorKwargs`]).
        resample (`PILImageResampling`, *optional*, defaults to `BICUBIC`):
            Interpolation of the short-side resize (always antialiased).
        **kwargs:
            Any other [`BaseVideoProcessor`] argument (`size`, `crop_size`, `image_mean`, ...).

    Returns (from `__call__`): a [`BatchFeature`] with
        - `pixel_values`: `(batch_size, N, 3, height, width)` for one view, `(batch_size, V, N, 3, height, width)` for
          `V = num_clips * num_crops > 1` views, clip-major: view `v` is clip `v // num_crops`, crop `v % num_crops`.
        - `skipped_pixel_values` (with `return_skipped_frames=True` and `keep_interval > 1`): `(batch_size, (N - 1) *
          (k - 1), 3, height, width)`, the skipped frames of the first clip, centre crop.
        - `video_metadata` (with `return_metadata=True`): `frames_indices` lists every decoded frame, in the order
          kept frames of clip 0, ..., of clip C-1, then the skipped frames.

    Example:

    ```python
    >>> from modeling_sllm import SLLMVideoProcessor

    >>> processor = SLLMVideoProcessor(num_frames=8, keep_interval=2)
    >>> processor("video.mp4", return_tensors="pt")["pixel_values"].shape
    torch.Size([1, 8, 3, 224, 224])
    >>> processor("video.mp4", num_clips=2, num_crops=3, return_tensors="pt")["pixel_values"].shape
    torch.Size([1, 6, 8, 3, 224, 224])
    ```"""

    valid_kwargs = SLLMVideoProcessorKwargs
    model_input_names = ["pixel_values"]

    resample = PILImageResampling.BICUBIC
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
    num_clips = 1
    num_crops = 1

    @classmethod
    def from_model_config(cls, config, **kwargs) -> "SLLMVideoProcessor":
        """
        The processor of a model: `num_frames`, `keep_interval` and the crop size (the vision tower's `image_size`)
        come from the [`SLLMConfig`]; `kwargs` set any other processor argument.
        """
        size = config.vision_config.image_size
        values = {"num_frames": config.num_frames, "keep_interval": config.keep_interval}
        return cls(**{**values, "crop_size": {"height": size, "width": size}, **kwargs})

    def __init__(self, **kwargs: Unpack[SLLMVideoProcessorKwargs]):
        _check_arguments(kwargs)
        super().__init__(**kwargs)

    # ------------------------------------------------------------------------------------------------- the transform

    def transform_frames(self, frames, num_crops: int | None = None) -> torch.FloatTensor:
        """
        The evaluation transform of already-decoded frames of one video (the one implementation `__call__` uses):
        resize with `self.resample`, `num_crops` crops at rounded offsets, rescale and normalise, with this
        processor's settings.

        Args:
            frames (`np.ndarray` or `torch.Tensor` of shape `(T, H, W, 3)`, dtype uint8): RGB frames of one video.
            num_crops (`int`, *optional*, defaults to `self.num_crops`): 1 (centre crop) or 3 (start, centre, end of
                the long side).

        Returns:
            `torch.FloatTensor` of shape `(num_crops, T, 3, crop_height, crop_width)`.
        """
        num_crops = self.num_crops if num_crops is None else num_crops
        _check_arguments({"num_crops": num_crops})
        options = {name: getattr(self, name) for name in _TRANSFORM_ARGS}
        options.update(self._standardize_kwargs(default_to_square=self.default_to_square, **options))
        return self._transform_video(frames_to_tensor(frames), num_crops, options)

    def crop_views(self, video: torch.Tensor, crop_size: SizeDict, num_crops: int = 1) -> torch.Tensor:
        """
        Crops `(num_crops, ..., h, w)` of `(..., H, W)` frames at offsets rounded like torchvision's `CenterCrop`: the
        centre crop at `(round((H - h) / 2), round((W - w) / 2))`, or three crops at the start, the centre and the end
        of the long side (centred on the short side). Frames smaller than the crop are zero-padded first.
        """
        if (crop_height := crop_size.height) is None or (crop_width := crop_size.width) is None:
            raise ValueError(f"`crop_size` needs 'height' and 'width', got {crop_size}")
        height, width = video.shape[-2:]
        if crop_height > height or crop_width > width:
            pad_width, pad_height = max(crop_width - width, 0), max(crop_height - height, 0)
            padding = [pad_width // 2, pad_height // 2, (pad_width + 1) // 2, (pad_height + 1) // 2]
            video = tvF.pad(video, padding, fill=0)
            height, width = video.shape[-2:]
        top, left = int(round((height - crop_height) / 2.0)), int(round((width - crop_width) / 2.0))
        if num_crops == 1:
            offsets = [(top, left)]
        elif num_crops == 3 and width >= height:
            offsets = [(top, 0), (top, left), (top, width - crop_width)]
        elif num_crops == 3:
            offsets = [(0, left), (top, left), (height - crop_height, left)]
        else:
            raise ValueError(f"`num_crops` must be 1 or 3, got {num_crops!r}")
        return torch.stack([video[..., t : t + crop_height, l : l + crop_width] for t, l in offsets])

    def center_crop(self, image: torch.Tensor, size: SizeDict, **kwargs) -> torch.Tensor:
        """Centre crop of `(..., H, W)` frames at the ROUNDED offset (the base class floors it)."""
        return self.crop_views(image, size, num_crops=1)[0]

    def _transform_video(self, video: torch.Tensor, num_crops: int, options: dict) -> torch.Tensor:
        """Frames `(T, 3, H, W)` -> views `(num_crops, T, 3, h, w)`; `options` holds the `_TRANSFORM_ARGS`."""
        if options["do_resize"]:
            video = self.resize(video, size=options["size"], resample=options["resample"], antialias=True)
        if options["do_center_crop"]:
            views = self.crop_views(video, options["crop_size"], num_crops)
        elif num_crops == 1:
            views = video[None]
        else:
            raise ValueError(f"`num_crops={num_crops}` needs cropping: set `do_center_crop=True` and a `crop_size`")
        names = ("do_rescale", "rescale_factor", "do_normalize", "image_mean", "image_std")
        # one contiguous copy of the (small, uint8) crops, so that the model gets contiguous channels-first pixels
        return self.rescale_and_normalize(views.contiguous(), *(options[name] for name in names))

    def decoded_frame_size(self, width: int, height: int, do_resize=None, size=None) -> tuple[int, int] | None:
        """
        `(width, height)` at which the reader returns a decoded (upright) `width x height` frame, its `resize_to`:
        3x the resized size when the frame is larger than that, else `None` (full size). `transform_frames` then
        gives the same result within 2 uint8 levels, and an 8192x8192 frame is kept at 768x768, not 192 MiB of RGB.
        `do_resize` and `size` default to the processor's.
        """
        do_resize = self.do_resize if do_resize is None else do_resize
        size = self.size if size is None else size
        if not do_resize or size is None:
            return None
        if not isinstance(size, SizeDict):
            size = SizeDict(**get_size_dict(size=size, default_to_square=self.default_to_square))
        final = _resized_size(height, width, size)
        decoded = (final[0] * _DECODE_OVERSAMPLING, final[1] * _DECODE_OVERSAMPLING)
        if decoded[0] >= height or decoded[1] >= width or _resized_size(*decoded, size) != final:
            return None
        return decoded[1], decoded[0]

    # ------------------------------------------------------------------------------------------ sampling, decoding

    def sample_frames(
        self,
        metadata: VideoMetadata | dict,
        num_frames: int | None = None,
        keep_interval: int | None = None,
        fps: int | float | None = None,
        num_clips: int | None = None,
        return_skipped_frames: bool = False,
        **kwargs,
    ) -> np.ndarray:
        """
        Indices of the frames SLLM encodes: TSN evaluation sampling (segment centres) over `num_frames *
        keep_interval` segments, then every `keep_interval`-th sampled frame, for each of `num_clips` clips.

        Args:
            metadata (`VideoMetadata` or `dict`): metadata of the video; only `total_num_frames` is used.
            num_frames, keep_interval, num_clips (`int`, *optional*): `N`, `k`, `C`; default to the attributes.
            fps: not supported (SLLM samples segments of the whole video); must be `None`.
            return_skipped_frames (`bool`, *optional*, defaults to `False`): append the skipped frames of clip 0.

        Returns:
            `np.ndarray` of shape `(C * N + S,)`, dtype int64: the kept frames of clip 0, ..., of clip `C - 1`, then
            the `S = (N - 1) * (k - 1)` skipped frames of clip 0 when asked (`S = 0` otherwise).
        """
        if fps is not None:
            raise ValueError(
                "SLLMVideoProcessor samples TSN segments over the whole video and does not support `fps`; "
                "set `num_frames` (and `keep_interval`) instead"
            )
        num_frames = self.num_frames if num_frames is None else num_frames
        keep_interval = self.keep_interval if keep_interval is None else keep_interval
        num_clips = check_positive_int("num_clips", self.num_clips if num_clips is None else num_clips)
        total_num_frames = metadata["total_num_frames"]
        if total_num_frames is None:
            raise ValueError("Cannot sample frames: the video metadata has no `total_num_frames`")
        clips = [
            sample_clip_indices(
                int(total_num_frames), num_frames, keep_interval, training=False, clip_index=clip, num_clips=num_clips
            )
            for clip in range(num_clips)
        ]
        parts = [clip.kept for clip in clips] + ([clips[0].skipped] if return_skipped_frames else [])
        return np.concatenate(parts)

    def fetch_videos(
        self,
        video_url_or_urls,
        sample_indices_fn=None,
        *,
        frame_template: str = DEFAULT_FRAME_TEMPLATE,
        frame_start_index: int = 1,
        resize_to=None,
    ):
        """
        Decode videos (paths, URLs, frame folders, bytes, file-like objects) with PyAV, reading only the frames chosen
        by `sample_indices_fn` (all frames when it is `None`), in one pass per video. `resize_to(width, height)`
        gives the size to return a decoded frame at (see [`~SLLMVideoProcessor.decoded_frame_size`]; full size when
        `None`). URLs are downloaded only when they start with `http://` or `https://`; any other string is a local
        path (never an FFmpeg protocol).

        Returns:
            `(frames, metadata)` for one video: `np.ndarray (num_sampled, H, W, 3)` uint8 RGB and a `VideoMetadata`;
            `(list of frames, list of metadata)` for a list.
        """
        if isinstance(video_url_or_urls, (list, tuple)):
            names = {"frame_template": frame_template, "frame_start_index": frame_start_index, "resize_to": resize_to}
            fetched = [self.fetch_videos(video, sample_indices_fn, **names) for video in video_url_or_urls]
            return [video for video, _ in fetched], [metadata for _, metadata in fetched]

        source = video_url_or_urls
        if isinstance(source, str) and source.startswith(("http://", "https://")):
            source = _download(source)

        def choose_frames(num_frames: int, fps: float | None) -> np.ndarray:
            if sample_indices_fn is None:
                return np.arange(num_frames)
            duration = num_frames / fps if fps else None
            metadata = VideoMetadata(total_num_frames=num_frames, fps=fps, duration=duration, video_backend="pyav")
            return sample_indices_fn(metadata=metadata)

        # Sampling counts the frames from the packets (no header count is trusted) and decodes only the chosen frames;
        # without sampling every frame is decoded.
        result = read_sampled_frames(
            source, choose_frames, frame_template=frame_template, frame_start_index=frame_start_index,
            exact_count=sample_indices_fn is None, resize_to=resize_to,
        )
        height, width = result.frames.shape[1:3]
        duration = result.num_frames / result.fps if result.fps else None
        metadata = VideoMetadata(
            total_num_frames=result.num_frames, fps=result.fps, width=width, height=height, duration=duration,
            video_backend="pyav", frames_indices=result.indices.tolist(),
        )
        return result.frames, metadata

    def _decode_and_sample_videos(
        self,
        videos: VideoInput,
        video_metadata: VideoMetadata | dict | None,
        do_sample_frames: bool | None = None,
        sample_indices_fn=None,
        frame_template: str = DEFAULT_FRAME_TEMPLATE,
        frame_start_index: int = 1,
        resize_to=None,
    ):
        if _is_video_source(videos):
            videos = [videos]
        if isinstance(videos, (list, tuple)) and len(videos) > 0 and all(_is_video_source(video) for video in videos):
            if video_metadata is not None:
                logger.warning_once(
                    "`video_metadata` is ignored for videos given as files or bytes: it is read from the videos"
                )
            sample_indices_fn = sample_indices_fn if do_sample_frames else None
            names = {"frame_template": frame_template, "frame_start_index": frame_start_index, "resize_to": resize_to}
            return self.fetch_videos(list(videos), sample_indices_fn, **names)
        return super()._decode_and_sample_videos(videos, video_metadata, do_sample_frames, sample_indices_fn)

    # ---------------------------------------------------------------------------------------------------- the call

    def preprocess(self, videos: VideoInput, **kwargs: Unpack[SLLMVideoProcessorKwargs]) -> BatchFeature:
        """
        The steps of [`BaseVideoProcessor.preprocess`] (argument checks and defaults, decoding and sampling, RGB
        conversion, transform) with SLLM's views: see the class docstring for the arguments and the outputs.
        """
        validate_kwargs(list(self.valid_kwargs.__annotations__) + ["return_tensors"], kwargs.keys())
        _check_arguments(kwargs)
        validate_typed_dict(self.valid_kwargs, kwargs)
        for name in self.valid_kwargs.__annotations__:
            if kwargs.get(name) is None:
                kwargs[name] = getattr(self, name, None)

        num_frames, keep_interval = kwargs.pop("num_frames"), kwargs.pop("keep_interval")
        num_clips, num_crops = kwargs.pop("num_clips"), kwargs.pop("num_crops")
        return_skipped = bool(kwargs.pop("return_skipped_frames"))
        frame_template = kwargs.pop("frame_template") or DEFAULT_FRAME_TEMPLATE
        frame_start_index = kwargs.pop("frame_start_index")
        do_sample_frames = kwargs.pop("do_sample_frames")

        layout, sample_indices_fn = None, None
        if do_sample_frames:
            skip = return_skipped and keep_interval > 1
            layout = _ClipLayout(num_frames, num_clips, (num_frames - 1) * (keep_interval - 1) if skip else None)
            sample_indices_fn = partial(
                self.sample_frames, num_frames=num_frames, keep_interval=keep_interval, fps=kwargs.pop("fps"),
                num_clips=num_clips, return_skipped_frames=skip,
            )
        elif num_clips > 1 or return_skipped:
            raise ValueError(
                f"`num_clips={num_clips}` and `return_skipped_frames={return_skipped}` need frame sampling: "
                "`do_sample_frames=False` makes every frame of a video one clip"
            )

        videos, video_metadata = self._decode_and_sample_videos(
            videos,
            video_metadata=kwargs.pop("video_metadata"),
            do_sample_frames=do_sample_frames,
            sample_indices_fn=sample_indices_fn,
            frame_template=frame_template,
            frame_start_index=1 if frame_start_index is None else frame_start_index,
            resize_to=partial(self.decoded_frame_size, do_resize=kwargs["do_resize"], size=kwargs["size"]),
        )
        videos = self._prepare_input_videos(
            videos, kwargs.pop("do_convert_rgb"), kwargs.pop("input_data_format"), kwargs.pop("device")
        )
        kwargs = self._standardize_kwargs(**kwargs)
        self._validate_preprocess_kwargs(**kwargs)
        kwargs.pop("data_format")
        return_metadata = kwargs.pop("return_metadata")

        batch = self._preprocess(videos, layout=layout, num_crops=num_crops, **kwargs)
        if return_metadata:
            batch["video_metadata"] = video_metadata
        return batch

    def _prepare_input_videos(
        self,
        videos: VideoInput,
        do_convert_rgb: bool | None = None,
        input_data_format: str | ChannelDimension | None = None,
        device: str | None = None,
    ) -> list[torch.Tensor]:
        """
        The base class's, except that channels-last videos `(T, H, W, 3)` become `(T, 3, H, W)` views, channels-last
        in memory (see `frames_to_tensor`), instead of channels-first copies; the format is inferred per video.
        """
        prepared = []
        for video in videos:
            if isinstance(video, np.ndarray):
                video = torch.from_numpy(video)
            if (input_data_format or infer_channel_dimension_format(video)) == ChannelDimension.LAST:
                video = video.permute(0, 3, 1, 2)
            prepared.append(video)
        return super()._prepare_input_videos(prepared, do_convert_rgb, ChannelDimension.FIRST, device)

    def _preprocess(
        self, videos: list[torch.Tensor], layout: _ClipLayout | None = None, num_crops: int = 1, **kwargs
    ) -> BatchFeature:
        """
        Transforms each video `(T, 3, H, W)` (all its sampled frames at once) and splits the views: `layout` says how
        the sampled frames are laid out (`None`: every frame of the video is one clip).
        """
        options = {name: kwargs[name] for name in _TRANSFORM_ARGS}
        pixel_values, skipped_pixel_values = [], []
        for index, video in enumerate(videos):
            views = self._transform_video(video, num_crops, options)  # (num_crops, T, 3, h, w)
            if layout is None:
                pixel_values.append(views[0] if num_crops == 1 else views)
                continue
            num_kept = layout.num_clips * layout.num_frames
            if video.shape[0] != num_kept + (layout.num_skipped or 0):
                raise ValueError(
                    f"Video {index} has {video.shape[0]} sampled frames, expected {layout.num_clips} clips of "
                    f"{layout.num_frames} frames and {layout.num_skipped or 0} skipped frames"
                )
            kept = views[:, :num_kept].unflatten(1, (layout.num_clips, layout.num_frames))
            kept = kept.transpose(0, 1).flatten(0, 1)  # views clip-major: (C * num_crops, N, 3, h, w)
            pixel_values.append(kept[0] if kept.shape[0] == 1 else kept)
            skipped_pixel_values.append(views[num_crops // 2, num_kept:])  # the centre crop
        data = {"pixel_values": pixel_values}
        if layout is not None and layout.num_skipped is not None:
            data["skipped_pixel_values"] = skipped_pixel_values
        return BatchFeature(data=data, tensor_type=kwargs.get("return_tensors"))


__all__ = ["SLLMVideoProcessor"]

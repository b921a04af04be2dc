# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""Clip-level training augmentation for SLLM (Text4Vis/TSN style).

[`SLLMTrainAugmentation`] takes the RGB frames of ONE clip, `(T, H, W, 3)` uint8 (a `np.ndarray` or a
`torch.Tensor`), draws every random choice (multi-scale crop, horizontal flip, colour jitter and its order,
grayscale) ONCE per clip and applies it to all `T` frames, as one batched tensor operation, returning CLIP-normalised
float32 frames `(T, 3, c, c)`. SLLM's restoration targets (the skipped frames) therefore see exactly the same crop,
flip and colours as the kept frames they are compared with; the released code augmented them in two separate calls,
with different draws. The crop is resized bilinearly, as the release's `GroupMultiScaleCrop` does.

Evaluation has one road, [`SLLMVideoProcessor`] (bicubic resize, rounded crop offsets, centre or 3 crops); frames
already decoded go through its [`~SLLMVideoProcessor.transform_frames`].
"""

from dataclasses import dataclass

import numpy as np
import torch
from torchvision.transforms.v2 import functional as tvF
from transformers.image_utils import OPENAI_CLIP_MEAN, OPENAI_CLIP_STD

from modeling_sllm.checks import check_positive_int
from modeling_sllm.video_processing_sllm import frames_to_tensor


__all__ = ["SLLMAugmentationParameters", "SLLMTrainAugmentation"]

# TSN's "more fixed crops" grid: (column, row) on a 5 x 5 lattice of offsets with steps of (free space) // 4.
_FIXED_CROP_GRID = ((0, 0), (4, 0), (0, 4), (4, 4), (2, 2))
_MORE_FIXED_CROP_GRID = _FIXED_CROP_GRID + ((0, 2), (4, 2), (2, 4), (2, 0), (1, 1), (3, 1), (1, 3), (3, 3))
_JITTER_OPERATIONS = ("brightness", "contrast", "saturation", "hue")


def _check_probability(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) or not 0 <= value <= 1:
        raise ValueError(f"`{name}` must be a probability in [0, 1], got {value!r}")
    return float(value)


def _check_mean_std(image_mean, image_std) -> tuple[tuple[float, ...], tuple[float, ...]]:
    mean = tuple(float(value) for value in np.atleast_1d(np.asarray(image_mean, dtype=np.float64)))
    std = tuple(float(value) for value in np.atleast_1d(np.asarray(image_std, dtype=np.float64)))
    if len(mean) == 1:
        mean = mean * 3
    if len(std) == 1:
        std = std * 3
    if len(mean) != 3 or len(std) != 3:
        raise ValueError(f"`image_mean` and `image_std` need 1 or 3 values, got {image_mean!r} and {image_std!r}")
    if min(std) <= 0:
        raise ValueError(f"`image_std` must be positive, got {image_std!r}")
    return mean, std


def _resize(frames: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Bilinear, antialiased resize of `(T, 3, H, W)` frames (a no-op when the size already matches)."""
    if frames.shape[-2:] == (height, width):
        return frames
    return tvF.resize(frames, [height, width], interpolation=tvF.InterpolationMode.BILINEAR, antialias=True)


@dataclass(frozen=True)
class SLLMAugmentationParameters:
    """
    The random choices of [`SLLMTrainAugmentation`] for one clip (shared by all its frames).

    Attributes:
        crop_top (`int`), crop_left (`int`), crop_height (`int`), crop_width (`int`):
            The window cut from every input frame (in input pixels) before it is resized to `crop_size x crop_size`.
        flip (`bool`): whether the frames are mirrored left-right.
        color_jitter (`bool`): whether colour jitter is applied.
        jitter_order (`tuple[str, ...]`): order of the four jitter operations ("brightness", "contrast",
            "saturation", "hue").
        brightness (`float`), contrast (`float`), saturation (`float`): multiplicative factors (1 = unchanged).
        hue (`float`): hue shift in [-0.5, 0.5] turns (0 = unchanged).
        grayscale (`bool`): whether the frames are converted to grayscale (3 identical channels).
    """

    crop_top: int
    crop_left: int
    crop_height: int
    crop_width: int
    flip: bool
    color_jitter: bool
    jitter_order: tuple[str, ...]
    brightness: float
    contrast: float
    saturation: float
    hue: float
    grayscale: bool


class SLLMTrainAugmentation:
    r"""
    Training augmentation of a whole clip, as Text4Vis/TSN do it, with ONE random draw per clip.

    Steps (each random choice drawn once from the given `np.random.Generator`, then applied to all `T` frames):

    1. Multi-scale crop (TSN `GroupMultiScaleCrop`): with `base = min(H, W)`, candidate side lengths are
       `int(base * s)` for `s` in `scales` (a length within 3 pixels of `crop_size` snaps to `crop_size`); a (height,
       width) pair of candidates is chosen uniformly among the pairs whose scale indices differ by at most
       `max_distort` (so the aspect ratio is perturbed). The window's position is one of TSN's fixed grid positions
       (13 with `more_fix_crop`, else 5: corners, centre, ...; `fix_crop=True`) or uniformly random
       (`fix_crop=False`). The window is resized to `crop_size x crop_size` (bilinear, antialiased; windows smaller
       than the crop are resized up).
    2. Horizontal flip with probability `flip_prob`.
    3. With probability `color_jitter_prob`: brightness, contrast, saturation and hue jitter in a random order
       (factors uniform in `[max(0, 1 - b), 1 + b]`, hue shift uniform in `[-hue, hue]`), as torchvision's
       `ColorJitter`.
    4. Grayscale (3 channels) with probability `grayscale_prob`.
    5. Rescale to [0, 1] and normalise with `image_mean` / `image_std`.

    The same number of values is drawn from the generator on every call, whatever the outcome, so the stream of a
    seeded generator stays aligned across clips.

    Args:
        crop_size (`int`, *optional*, defaults to 224): side of the square output frames.
        scales (`tuple[float, ...]`, *optional*, defaults to `(1.0, 0.875, 0.75, 0.66)`): crop scales relative to
            the short side of the input.
        max_distort (`int`, *optional*, defaults to 1): largest difference between the scale indices of the crop's
            height and width.
        flip_prob (`float`, *optional*, defaults to 0.5): probability of a horizontal flip.
        color_jitter_prob (`float`, *optional*, defaults to 0.8): probability of applying colour jitter.
        brightness (`float`, *optional*, defaults to 0.4), contrast (`float`, *optional*, defaults to 0.4),
        saturation (`float`, *optional*, defaults to 0.2): jitter strengths (0 disables the operation).
        hue (`float`, *optional*, defaults to 0.1): largest hue shift, in [0, 0.5] (0 disables it).
        grayscale_prob (`float`, *optional*, defaults to 0.2): probability of converting to grayscale.
        image_mean (`tuple[float, float, float]`, *optional*, defaults to the OpenAI CLIP mean): normalisation mean.
        image_std (`tuple[float, float, float]`, *optional*, defaults to the OpenAI CLIP std): normalisation std.
        fix_crop (`bool`, *optional*, defaults to `True`): crop at TSN's fixed grid positions instead of anywhere.
        more_fix_crop (`bool`, *optional*, defaults to `True`): use TSN's 13 grid positions instead of 5.

    Example:

    ```python
    >>> import numpy as np
    >>> from modeling_sllm.data.augmentation import SLLMTrainAugmentation

    >>> augment = SLLMTrainAugmentation(crop_size=224)
    >>> frames = np.zeros((16, 256, 340, 3), dtype=np.uint8)  # (T, H, W, 3)
    >>> augment(frames, np.random.default_rng(3407)).shape
    torch.Size([16, 3, 224, 224])
    ```"""

    def __init__(
        self,
        crop_size: int = 224,
        scales: tuple[float, ...] = (1.0, 0.875, 0.75, 0.66),
        max_distort: int = 1,
        flip_prob: float = 0.5,
        color_jitter_prob: float = 0.8,
        brightness: float = 0.4,
        contrast: float = 0.4,
        saturation: float = 0.2,
        hue: float = 0.1,
        grayscale_prob: float = 0.2,
        image_mean=OPENAI_CLIP_MEAN,
        image_std=OPENAI_CLIP_STD,
        fix_crop: bool = True,
        more_fix_crop: bool = True,
    ):
        self.crop_size = check_positive_int("crop_size", crop_size)
        scales = tuple(float(scale) for scale in np.atleast_1d(np.asarray(scales, dtype=np.float64)))
        if not scales or any(not 0 < scale <= 1 for scale in scales):
            raise ValueError(f"`scales` must be a non-empty sequence of values in (0, 1], got {scales!r}")
        self.scales = scales
        self.max_distort = check_positive_int("max_distort", max_distort, minimum=0)
        self.flip_prob = _check_probability("flip_prob", flip_prob)
        self.color_jitter_prob = _check_probability("color_jitter_prob", color_jitter_prob)
        self.grayscale_prob = _check_probability("grayscale_prob", grayscale_prob)
        for name, value in (("brightness", brightness), ("contrast", contrast), ("saturation", saturation)):
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or value < 0:
                raise ValueError(f"`{name}` must be a number >= 0, got {value!r}")
        if isinstance(hue, bool) or not isinstance(hue, (int, float, np.integer, np.floating)) or not 0 <= hue <= 0.5:
            raise ValueError(f"`hue` must be a number in [0, 0.5], got {hue!r}")
        self.brightness, self.contrast, self.saturation, self.hue = (
            float(brightness),
            float(contrast),
            float(saturation),
            float(hue),
        )
        self.image_mean, self.image_std = _check_mean_std(image_mean, image_std)
        self.fix_crop = bool(fix_crop)
        self.more_fix_crop = bool(more_fix_crop)
        # (height index, width index) pairs of scales allowed by `max_distort`, in TSN's order.
        self._scale_pairs = [
            (i, j)
            for i in range(len(self.scales))
            for j in range(len(self.scales))
            if abs(i - j) <= self.max_distort
        ]

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(crop_size={self.crop_size}, scales={self.scales}, max_distort={self.max_distort}, "
            f"flip_prob={self.flip_prob}, color_jitter_prob={self.color_jitter_prob}, brightness={self.brightness}, "
            f"contrast={self.contrast}, saturation={self.saturation}, hue={self.hue}, "
            f"grayscale_prob={self.grayscale_prob}, fix_crop={self.fix_crop}, more_fix_crop={self.more_fix_crop})"
        )

    def _crop_lengths(self, base: int) -> list[int]:
        lengths = []
        for scale in self.scales:
            length = max(1, int(base * scale))
            lengths.append(self.crop_size if abs(length - self.crop_size) < 3 else length)
        return lengths

    def sample_parameters(self, height: int, width: int, rng: np.random.Generator) -> SLLMAugmentationParameters:
        """
        Draws the random choices for one clip whose frames are `height x width` pixels.

        Always draws the same number of values from `rng`: 1 crop size pair, 3 crop position values, 1 flip, 1 jitter
        gate, 4 jitter factors, 4 jitter order keys and 1 grayscale value.

        Returns:
            [`SLLMAugmentationParameters`]
        """
        if not isinstance(rng, np.random.Generator):
            raise TypeError(
                f"`rng` must be a np.random.Generator (e.g. np.random.default_rng(seed)), got {type(rng).__name__}"
            )
        height, width = int(height), int(width)
        lengths = self._crop_lengths(min(height, width))
        pair = self._scale_pairs[int(rng.integers(len(self._scale_pairs)))]
        # Snapped lengths can exceed a side of a non-square frame only by the snapping margin: clamp to the frame.
        crop_height, crop_width = min(lengths[pair[0]], height), min(lengths[pair[1]], width)

        grid_draw, top_draw, left_draw = rng.random(3)
        if self.fix_crop:
            grid = _MORE_FIXED_CROP_GRID if self.more_fix_crop else _FIXED_CROP_GRID
            column, row = grid[min(int(grid_draw * len(grid)), len(grid) - 1)]
            crop_left = column * ((width - crop_width) // 4)
            crop_top = row * ((height - crop_height) // 4)
        else:
            crop_top = min(int(top_draw * (height - crop_height + 1)), height - crop_height)
            crop_left = min(int(left_draw * (width - crop_width + 1)), width - crop_width)

        flip_draw, jitter_draw = rng.random(2)
        brightness, contrast, saturation, hue = rng.random(4)
        order_keys = rng.random(4)
        grayscale_draw = rng.random()

        def factor(draw: float, strength: float) -> float:
            low, high = max(0.0, 1.0 - strength), 1.0 + strength
            return float(low + (high - low) * draw)

        return SLLMAugmentationParameters(
            crop_top=int(crop_top),
            crop_left=int(crop_left),
            crop_height=int(crop_height),
            crop_width=int(crop_width),
            flip=bool(flip_draw < self.flip_prob),
            color_jitter=bool(jitter_draw < self.color_jitter_prob),
            jitter_order=tuple(_JITTER_OPERATIONS[index] for index in np.argsort(order_keys, kind="stable")),
            brightness=factor(brightness, self.brightness),
            contrast=factor(contrast, self.contrast),
            saturation=factor(saturation, self.saturation),
            hue=float((2.0 * hue - 1.0) * self.hue),
            grayscale=bool(grayscale_draw < self.grayscale_prob),
        )

    def apply(self, frames, parameters: SLLMAugmentationParameters) -> torch.FloatTensor:
        """
        Applies fixed augmentation parameters to every frame of a clip (one batched operation per step).

        Args:
            frames (`np.ndarray` or `torch.Tensor` of shape `(T, H, W, 3)`, dtype uint8): RGB frames of one clip.
            parameters ([`SLLMAugmentationParameters`]): the choices, e.g. from
                [`~SLLMTrainAugmentation.sample_parameters`].

        Returns:
            `torch.FloatTensor` of shape `(T, 3, crop_size, crop_size)`: augmented, normalised frames.
        """
        return self._augment(frames_to_tensor(frames), parameters)

    def _augment(self, clip: torch.Tensor, parameters: SLLMAugmentationParameters) -> torch.FloatTensor:
        """`apply` on uint8 frames `(T, 3, H, W)`."""
        clip = tvF.crop(clip, parameters.crop_top, parameters.crop_left, parameters.crop_height, parameters.crop_width)
        clip = _resize(clip, self.crop_size, self.crop_size)
        if parameters.flip:
            clip = clip.flip(-1)
        clip = clip.to(torch.float32) / 255.0
        if parameters.color_jitter:
            for operation in parameters.jitter_order:
                if operation == "brightness" and self.brightness > 0:
                    clip = tvF.adjust_brightness(clip, parameters.brightness)
                elif operation == "contrast" and self.contrast > 0:
                    clip = tvF.adjust_contrast(clip, parameters.contrast)
                elif operation == "saturation" and self.saturation > 0:
                    clip = tvF.adjust_saturation(clip, parameters.saturation)
                elif operation == "hue" and self.hue > 0:
                    clip = tvF.adjust_hue(clip, parameters.hue)
        if parameters.grayscale:
            clip = tvF.rgb_to_grayscale(clip, num_output_channels=3)
        return tvF.normalize(clip, list(self.image_mean), list(self.image_std))

    def __call__(self, frames, rng: np.random.Generator) -> torch.FloatTensor:
        """
        Augments one clip with one draw of every random choice, shared by all its frames.

        Args:
            frames (`np.ndarray` or `torch.Tensor` of shape `(T, H, W, 3)`, dtype uint8): RGB frames of one clip
                (for SLLM: the kept frames and the restoration targets together).
            rng (`np.random.Generator`): source of the random choices.

        Returns:
            `torch.FloatTensor` of shape `(T, 3, crop_size, crop_size)`: augmented, normalised frames.
        """
        clip = frames_to_tensor(frames)
        parameters = self.sample_parameters(clip.shape[-2], clip.shape[-1], rng)
        return self._augment(clip, parameters)

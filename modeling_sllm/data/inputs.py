# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
Rows to model inputs: [`SLLMVideoTransform`] (for `Dataset.set_transform`) and [`sllm_collate_fn`].

One road for a video, from the model's [`SLLMVideoProcessor`] (built by `SLLMVideoProcessor.from_model_config`):

- evaluation runs the processor itself (TSN segment centres, resize, centre or 3 crops, normalisation, multi-view
  clips x crops): the inputs are exactly those the pipeline gives the model;
- training reads the processor's `num_frames`, `keep_interval`, crop size and normalisation, decodes the frames of
  a random TSN draw with the same reader (`video_io`) and sampling (`sampling`), and applies ONE
  [`SLLMTrainAugmentation`] draw to the kept and the skipped frames of the clip.
"""

import os

import numpy as np
import torch

from modeling_sllm.checks import check_positive_int
from modeling_sllm.data.arguments import SLLMDataArguments
from modeling_sllm.data.augmentation import SLLMTrainAugmentation
from modeling_sllm.data.sources import video_name, video_source
from modeling_sllm.sampling import sample_clip_indices
from modeling_sllm.video_io import DEFAULT_FRAME_TEMPLATE, read_sampled_frames
from modeling_sllm.video_processing_sllm import SLLMVideoProcessor


__all__ = ["SLLMVideoTransform", "sllm_collate_fn"]


class SLLMVideoTransform:
    """
    `Dataset.set_transform` callable turning rows `{"video", "label", "source", ...}` into SLLM inputs.

    Training returns per video `pixel_values` `(N, 3, c, c)` (kept frames) and, when `keep_interval > 1`,
    `skipped_pixel_values` `((N - 1) * (k - 1), 3, c, c)` (restoration targets), both from ONE augmentation draw.
    Evaluation returns the processor's `pixel_values` `(N, 3, c, c)`, or `(V, N, 3, c, c)` for `V = num_clips *
    num_crops > 1` views, and its `skipped_pixel_values` (first clip, centre crop) only when `with_skipped=True`
    (fidelity reports). A row's `label` becomes `labels`.

    Args:
        processor ([`SLLMVideoProcessor`]): the model's processor (`SLLMVideoProcessor.from_model_config(config)`):
            `N = num_frames` frames encoded per video, `k = keep_interval`, crop size and normalisation.
        training (`bool`): random sampling and augmentation, or the processor's evaluation road.
        seed (`int`, *optional*, defaults to 3407): base seed of the training draws (mixed with torch's per-worker
            seed).
        num_clips, num_crops (`int`, *optional*, defaults to 1): evaluation views.
        with_skipped (`bool`, *optional*): return the skipped frames (default: in training when `k > 1`).
        frame_template (`str`), frame_start_index (`int`): file names of frame folders.
        augmentation_kwargs (`dict`, *optional*): arguments of [`SLLMTrainAugmentation`] (`flip_prob`, ...).
    """

    def __init__(
        self,
        processor: SLLMVideoProcessor,
        training: bool,
        seed: int = 3407,
        num_clips: int = 1,
        num_crops: int = 1,
        with_skipped: bool | None = None,
        frame_template: str = DEFAULT_FRAME_TEMPLATE,
        frame_start_index: int = 1,
        augmentation_kwargs: dict | None = None,
    ):
        if not isinstance(processor, SLLMVideoProcessor):
            raise TypeError(
                f"SLLMVideoTransform needs the model's SLLMVideoProcessor (SLLMVideoProcessor.from_model_config("
                f"config)), got {type(processor).__name__}."
            )
        num_clips, num_crops = check_positive_int("num_clips", num_clips), check_positive_int("num_crops", num_crops)
        if training and (num_clips != 1 or num_crops != 1):
            raise ValueError("Multi-view (num_clips/num_crops > 1) is an evaluation protocol.")
        self.processor, self.training, self.seed = processor, training, seed
        self.num_frames, self.keep_interval = int(processor.num_frames), int(processor.keep_interval)
        self.num_clips, self.num_crops = num_clips, num_crops
        self.with_skipped = (training and self.keep_interval > 1) if with_skipped is None else with_skipped
        if self.with_skipped and self.keep_interval < 2:
            raise ValueError("with_skipped needs keep_interval >= 2 (k = 1 skips no frames).")
        self.frame_template, self.frame_start_index = frame_template, frame_start_index
        self.augmentation = None
        if training:
            crop = processor.crop_size
            if crop.height != crop.width:
                raise ValueError(f"Training crops are square; the processor's crop_size is {crop.height}x{crop.width}.")
            self.augmentation = SLLMTrainAugmentation(
                crop_size=crop.height,
                image_mean=processor.image_mean,
                image_std=processor.image_std,
                **(augmentation_kwargs or {}),
            )
        self._rng_key, self._rng = None, None

    @classmethod
    def for_model(
        cls,
        config,
        data_args: SLLMDataArguments,
        *,
        training: bool,
        seed: int = 3407,
        processor: SLLMVideoProcessor | None = None,
        **kwargs,
    ) -> "SLLMVideoTransform":
        """
        The transform of a model ([`SLLMConfig`]) for the data arguments (frame files, and in training the
        augmentation probabilities). `processor` defaults to `SLLMVideoProcessor.from_model_config(config)`; a given
        one (e.g. loaded from the model's folder) must agree with the config. `kwargs` go to the constructor
        (`num_clips`, `num_crops`, `with_skipped`).
        """
        if processor is None:
            processor = SLLMVideoProcessor.from_model_config(config)
        else:
            size, crop = config.vision_config.image_size, processor.crop_size
            given = (processor.num_frames, processor.keep_interval, crop.height, crop.width)
            if given != (config.num_frames, config.keep_interval, size, size):
                raise ValueError(
                    f"The video processor (num_frames={given[0]}, keep_interval={given[1]}, crop {given[2]}x{given[3]})"
                    f" does not match the model config (num_frames={config.num_frames}, keep_interval="
                    f"{config.keep_interval}, image_size={size}); build it with SLLMVideoProcessor.from_model_config."
                )
        augmentation = None
        if training:
            augmentation = {
                "flip_prob": data_args.flip_prob,
                "color_jitter_prob": data_args.color_jitter_prob,
                "grayscale_prob": data_args.grayscale_prob,
            }
            if not data_args.multiscale_crop:
                augmentation["scales"] = (1.0,)
        return cls(
            processor,
            training=training,
            seed=seed,
            frame_template=data_args.frame_template,
            frame_start_index=data_args.frame_start_index,
            augmentation_kwargs=augmentation,
            **kwargs,
        )

    def _generator(self) -> np.random.Generator:
        # torch gives every DataLoader worker (and every epoch) its own seed; mix it in so that workers differ
        key = (os.getpid(), torch.initial_seed())
        if key != self._rng_key:
            self._rng_key, self._rng = key, np.random.default_rng([self.seed, torch.initial_seed() % 2**63])
        return self._rng

    def _train_inputs(self, video) -> dict[str, torch.Tensor]:
        rng = self._generator()

        def sample_fn(total_num_frames: int, fps) -> np.ndarray:
            clip = sample_clip_indices(total_num_frames, self.num_frames, self.keep_interval, training=True, rng=rng)
            return np.concatenate([clip.kept, clip.skipped]) if self.with_skipped else clip.kept

        read = read_sampled_frames(
            video_source(video),
            sample_fn,
            frame_template=self.frame_template,
            frame_start_index=self.frame_start_index,
            exact_count=False,
        )
        frames = self.augmentation(read.frames, rng)  # ONE draw for the kept and the skipped frames
        result = {"pixel_values": frames[: self.num_frames]}
        if self.with_skipped:
            result["skipped_pixel_values"] = frames[self.num_frames :]
        return result

    def _eval_inputs(self, video) -> dict[str, torch.Tensor]:
        out = self.processor(
            [video_source(video)],
            return_tensors="pt",
            num_clips=self.num_clips,
            num_crops=self.num_crops,
            return_skipped_frames=self.with_skipped,
            frame_template=self.frame_template,
            frame_start_index=self.frame_start_index,
        )
        result = {"pixel_values": out["pixel_values"][0]}
        if self.with_skipped:
            result["skipped_pixel_values"] = out["skipped_pixel_values"][0]
        return result

    def transform_one(self, video, source: str = "") -> dict[str, torch.Tensor]:
        """Inputs of one video (a path, bytes or a `{"path", "bytes"}` value) as described in the class docstring."""
        try:
            return self._train_inputs(video) if self.training else self._eval_inputs(video)
        except Exception as exc:
            where = f"{source}: " if source else ""
            message = f"{where}cannot read a clip of {video_name(video)!r}: {exc}"
            try:
                error = type(exc)(message)  # keep the kind (FileNotFoundError, ValueError, ...) for callers
            except Exception:
                error = RuntimeError(message)
            raise error from exc

    def __call__(self, batch: dict[str, list]) -> dict[str, list]:
        sources = batch.get("source") or [""] * len(batch["video"])
        outputs = [self.transform_one(video, source) for video, source in zip(batch["video"], sources)]
        result = {key: [output[key] for output in outputs] for key in outputs[0]}
        if "label" in batch:
            result["labels"] = list(batch["label"])
        return result


def sllm_collate_fn(examples: list[dict]) -> dict[str, torch.Tensor]:
    """Stacks transformed rows: `pixel_values` `(B, N, 3, c, c)` or `(B, V, N, 3, c, c)`, `labels` `(B,)`, ..."""
    batch = {}
    for key in examples[0]:
        if key == "labels":
            batch[key] = torch.tensor([example[key] for example in examples], dtype=torch.long)
        elif key in ("pixel_values", "skipped_pixel_values"):
            batch[key] = torch.stack([example[key] for example in examples])
    return batch

# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
Rows to model inputs: [`SLLMVideoTransform`] (for `Dataset.set_transform`), [`SLLMTrainingDataset`] (training rows
whose randomness depends only on `(seed, epoch, index)`) and [`sllm_collate_fn`].

One road for a video, from the model's [`SLLMVideoProcessor`] (built by `SLLMVideoProcessor.from_model_config`):

- evaluation runs the processor itself (TSN segment centres, resize, centre or 3 crops, normalisation, multi-view
  clips x crops): the inputs are exactly those the pipeline gives the model;
- training reads the processor's `num_frames`, `keep_interval`, crop size and normalisation, decodes the frames of
  a random TSN draw with the same reader (`video_io`) and sampling (`sampling`), and applies ONE
  [`SLLMTrainAugmentation`] draw to the kept and the skipped frames of the clip.

Training randomness (the TSN draw and the augmentation) of the clip of row `index` in epoch `epoch` comes from
`np.random.default_rng([seed, epoch, index])` alone, not from a generator that earlier clips advanced: a run resumed
from a checkpoint (whose skipped batches are never decoded) sees exactly the clips of an uninterrupted run, whatever
the number of DataLoader workers or processes. [`SLLMTrainingDataset`] gives the transform each row's index (the
`sample_index` column of the batch) and the epoch (`set_epoch`, called by the Trainer through
`training.trainer.SLLMTrainer` before each epoch).

`release_eval_sampling=True` reproduces the evaluation frames of the authors' release, whose `VideoRecord.num_frames`
is the frame count minus one: the TSN segment centres of a video of `M` frames are taken over `M - 1` frames
([`release_eval_frame_count`]).
"""

import copy
import os
from functools import partial

import numpy as np
import torch
from transformers.utils import logging

from modeling_sllm.checks import check_positive_int
from modeling_sllm.data.arguments import SLLMDataArguments
from modeling_sllm.data.augmentation import SLLMTrainAugmentation
from modeling_sllm.data.sources import video_name, video_source
from modeling_sllm.sampling import sample_clip_indices
from modeling_sllm.video_io import DEFAULT_FRAME_TEMPLATE, read_sampled_frames
from modeling_sllm.video_processing_sllm import SLLMVideoProcessor


__all__ = [
    "SAMPLE_INDEX_COLUMN",
    "SLLMTrainingDataset",
    "SLLMVideoTransform",
    "release_eval_frame_count",
    "sllm_collate_fn",
]

logger = logging.get_logger(__name__)

# Column of a batch holding the dataset index of each row (the training randomness depends on it).
SAMPLE_INDEX_COLUMN = "sample_index"


# The authors' release scores evaluation clips with a fixed 100 * cos(video, class), not exp(logit_scale) * cos.
RELEASE_EVAL_LOGIT_SCALE = 100.0


def release_eval_frame_count(num_frames: int) -> int:
    """
    The frame count the authors' release samples its evaluation frames over, for a video of `num_frames` frames: its
    `VideoRecord.num_frames` is the list's count minus one, so the TSN centres are those of `num_frames - 1` frames
    (at least 1: a 1-frame video gives frame 0 in both). The release's 1-based file numbers are these 0-based
    indices + 1, which is how frame folders are read here (`frame_start_index=1`).
    """
    return max(check_positive_int("num_frames", num_frames) - 1, 1)


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
        seed (`int`, *optional*, defaults to 3407): base seed of the training draws: the clip of row `index` in epoch
            `epoch` draws from `np.random.default_rng([seed, epoch, index])` when the batch has a `sample_index`
            column (see [`SLLMTrainingDataset`]); without it, from one generator per process (not reproducible
            across a resume).
        num_clips, num_crops (`int`, *optional*, defaults to 1): evaluation views.
        with_skipped (`bool`, *optional*): return the skipped frames (default: in training when `k > 1`).
        frame_template (`str`), frame_start_index (`int`): file names of frame folders.
        augmentation_kwargs (`dict`, *optional*): arguments of [`SLLMTrainAugmentation`] (`flip_prob`, ...).
        release_eval_sampling (`bool`, *optional*, defaults to `False`): evaluation frames of the authors' release
            (segment centres over `M - 1` of a video's `M` frames, see [`release_eval_frame_count`]).
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
        release_eval_sampling: bool = False,
    ):
        if not isinstance(processor, SLLMVideoProcessor):
            raise TypeError(
                f"SLLMVideoTransform needs the model's SLLMVideoProcessor (SLLMVideoProcessor.from_model_config("
                f"config)), got {type(processor).__name__}."
            )
        num_clips, num_crops = check_positive_int("num_clips", num_clips), check_positive_int("num_crops", num_crops)
        if training and (num_clips != 1 or num_crops != 1):
            raise ValueError("Multi-view (num_clips/num_crops > 1) is an evaluation protocol.")
        if training and release_eval_sampling:
            raise ValueError("release_eval_sampling is an evaluation protocol; training samples random frames.")
        seed = check_positive_int("seed", seed, minimum=0)
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
                raise ValueError(
                    f"Training crops are square; the processor's crop_size is {crop.height}x{crop.width}."
                )
            self.augmentation = SLLMTrainAugmentation(
                crop_size=crop.height,
                image_mean=processor.image_mean,
                image_std=processor.image_std,
                **(augmentation_kwargs or {}),
            )
        self.release_eval_sampling = bool(release_eval_sampling)
        if self.release_eval_sampling:
            # the model's processor (one road: decoding, views, transform) sampling over the release's frame count
            release = copy.copy(processor)
            release.sample_frames = partial(_release_sample_frames, processor)
            self.processor = release
        self._rng_key, self._rng, self._clip_rng = None, None, None
        # the epoch of the training draws (moved to shared memory by SLLMTrainingDataset, for DataLoader workers)
        self._epoch = torch.zeros((), dtype=torch.int64)

    @property
    def epoch(self) -> int:
        """The epoch of the training draws (see [`set_epoch`])."""
        return int(self._epoch)

    def set_epoch(self, epoch: int) -> None:
        """Sets the epoch of the training draws, in this process and in its DataLoader workers."""
        self._epoch.fill_(check_positive_int("epoch", epoch, minimum=0))

    def clip_generator(self, index: int, epoch: int | None = None) -> np.random.Generator:
        """The generator of the training draws of the clip of row `index` in `epoch` (default: the current epoch):
        `np.random.default_rng([seed, epoch, index])`."""
        epoch = self.epoch if epoch is None else epoch
        return np.random.default_rng([self.seed, epoch, check_positive_int("index", int(index), minimum=0)])

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
                    f"The video processor (num_frames={given[0]}, keep_interval={given[1]}, crop "
                    f"{given[2]}x{given[3]}) does not match the model config (num_frames={config.num_frames}, "
                    "keep_interval="
                    f"{config.keep_interval}, image_size={size}); build it with SLLMVideoProcessor.from_model_config."
                )
        augmentation = None
        if not training:
            kwargs.setdefault("release_eval_sampling", bool(getattr(data_args, "release_eval_sampling", False)))
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
        # rows without an index (direct calls): one generator per process; torch gives every DataLoader worker (and
        # every epoch) its own seed; mix it in so that workers differ
        key = (os.getpid(), torch.initial_seed())
        if key != self._rng_key:
            self._rng_key, self._rng = key, np.random.default_rng([self.seed, torch.initial_seed() % 2**63])
        return self._rng

    def _train_inputs(self, video) -> dict[str, torch.Tensor]:
        rng = self._clip_rng if self._clip_rng is not None else self._generator()

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
        """Transforms a batch of rows (`Dataset.set_transform`); in training a `sample_index` column makes the draws
        of each row depend only on `(seed, epoch, index)`."""
        sources = batch.get("source") or [""] * len(batch["video"])
        indices = batch.get(SAMPLE_INDEX_COLUMN) if self.training else None
        if self.training and indices is None:
            logger.warning_once(
                "Training rows without a `sample_index` column: the random clips depend on the order of the calls, so "
                "a resumed run does not see the clips of an uninterrupted one (use SLLMTrainingDataset)."
            )
        outputs = []
        for position, (video, source) in enumerate(zip(batch["video"], sources)):
            self._clip_rng = self.clip_generator(indices[position]) if indices is not None else None
            try:
                outputs.append(self.transform_one(video, source))
            finally:
                self._clip_rng = None
        result = {key: [output[key] for output in outputs] for key in outputs[0]}
        if "label" in batch:
            result["labels"] = list(batch["label"])
        return result


def _release_sample_frames(processor: SLLMVideoProcessor, metadata, **kwargs) -> np.ndarray:
    """`processor.sample_frames` over the release's frame count ([`release_eval_frame_count`])."""
    count = metadata["total_num_frames"]
    if count is None:
        raise ValueError("Cannot sample frames: the video metadata has no `total_num_frames`")
    return processor.sample_frames({"total_num_frames": release_eval_frame_count(int(count))}, **kwargs)


class SLLMTrainingDataset(torch.utils.data.Dataset):
    """
    Training rows (`{"video", "label", ...}` of a `datasets.Dataset`) turned into model inputs by a training
    [`SLLMVideoTransform`], each row with its dataset index (`sample_index`) so that its random clip depends only on
    `(seed, epoch, index)`. `set_epoch` sets the epoch of the draws (also in DataLoader workers); `SLLMTrainer` calls
    it at the start of every epoch.

    Items are the transform's per-row dicts (`pixel_values` `(N, 3, c, c)`, `skipped_pixel_values`, `labels`);
    batches of indices are read from the rows at once (`__getitems__`).
    """

    def __init__(self, rows, transform: SLLMVideoTransform):
        if not transform.training:
            raise ValueError("SLLMTrainingDataset needs a training SLLMVideoTransform (training=True).")
        self.rows, self.transform = rows.with_format(None), transform
        # DataLoader workers (forked or spawned, also persistent ones) then see every set_epoch of this process
        transform._epoch.share_memory_()

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def epoch(self) -> int:
        return self.transform.epoch

    def set_epoch(self, epoch: int) -> None:
        self.transform.set_epoch(epoch)

    def __getitems__(self, indices: list[int]) -> list[dict]:
        indices = [int(index) for index in indices]
        batch = self.rows[indices]
        batch[SAMPLE_INDEX_COLUMN] = indices
        outputs = self.transform(batch)
        return [{key: values[position] for key, values in outputs.items()} for position in range(len(indices))]

    def __getitem__(self, index: int) -> dict:
        return self.__getitems__([index])[0]


def sllm_collate_fn(examples: list[dict]) -> dict[str, torch.Tensor]:
    """Stacks transformed rows: `pixel_values` `(B, N, 3, c, c)` or `(B, V, N, 3, c, c)`, `labels` `(B,)`, ..."""
    batch = {}
    for key in examples[0]:
        if key == "labels":
            batch[key] = torch.tensor([example[key] for example in examples], dtype=torch.long)
        elif key in ("pixel_values", "skipped_pixel_values"):
            batch[key] = torch.stack([example[key] for example in examples])
    return batch

# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
The video-classification pipeline of SLLM, with batching: `pipeline("video-classification", model=..., batch_size=8)`.

transformers' [`VideoClassificationPipeline`] collates a batch with `pad_collate_fn(tokenizer, feature_extractor)`,
which needs a tokenizer, a feature extractor or an image processor; a model that has only a video processor (as
SLLM) raises "Pipeline without tokenizer or feature_extractor cannot do batching". [`SLLMVideoClassificationPipeline`]
is the same pipeline whose batches of video-processor inputs are concatenated along the batch dimension (every
video gives the same `(1, N, 3, H, W)` `pixel_values`: a fixed number of frames, cropped to a fixed size).

It reaches `pipeline()` two ways:

- `import modeling_sllm` registers it for the `"video-classification"` task (it behaves as transformers' pipeline
  for every other model and call);
- a Hub folder carries it as remote code: `pipeline_sllm.py` next to the model files and `custom_pipelines` in
  `config.json` (see `modeling_sllm.publishing.remote_pipeline.add_pipeline_to_folder`), so that `pipeline(...,
  trust_remote_code=True)` finds it without the package.

This file travels as remote code: it imports only transformers and torch.
"""

from collections.abc import Sized

import torch
from torch.utils.data import DataLoader
from transformers.pipelines.pt_utils import PipelineDataset, PipelineIterator
from transformers.pipelines.video_classification import VideoClassificationPipeline


__all__ = ["SLLMVideoClassificationPipeline", "concatenate_video_inputs"]


def concatenate_video_inputs(items: list[dict]) -> dict:
    """
    Collates the preprocessed videos of a batch: each item is a dict of tensors with a batch dimension of 1 (as the
    video processor returns them), concatenated along it.

    Raises:
        `ValueError` when the items hold different keys or tensors of different shapes (say which), which a video
        processor that samples a fixed number of frames and crops to a fixed size never gives.
    """
    keys = list(items[0].keys())
    for index, item in enumerate(items):
        if list(item.keys()) != keys:
            raise ValueError(f"Video {index} of the batch has the inputs {list(item.keys())}, video 0 has {keys}")
    batch = {}
    for key in keys:
        values = [item[key] for item in items]
        if not all(isinstance(value, torch.Tensor) for value in values):
            batch[key] = values
            continue
        shapes = {tuple(value.shape) for value in values}
        if len(shapes) > 1:
            raise ValueError(
                f"The videos of a batch have `{key}` of different shapes {sorted(shapes)}: the video processor must "
                "give every video the same number of frames and crop size to batch them (or use batch_size=1)"
            )
        batch[key] = torch.cat(values, dim=0)
    return batch


class SLLMVideoClassificationPipeline(VideoClassificationPipeline):
    """
    [`VideoClassificationPipeline`] that batches videos prepared by a video processor (`batch_size > 1`): their
    `pixel_values` `(1, N, 3, H, W)` are concatenated into `(batch_size, N, 3, H, W)` for one forward pass, and the
    results are the same as video by video. Everything else is transformers' pipeline.
    """

    def get_iterator(
        self, inputs, num_workers: int, batch_size: int, preprocess_params, forward_params, postprocess_params
    ):
        only_video_processor = self.video_processor is not None and all(
            component is None for component in (self.tokenizer, self.feature_extractor, self.image_processor)
        )
        if batch_size == 1 or not only_video_processor:
            return super().get_iterator(
                inputs, num_workers, batch_size, preprocess_params, forward_params, postprocess_params
            )
        if isinstance(inputs, Sized):
            dataset = PipelineDataset(inputs, self.preprocess, preprocess_params)
        else:
            # an iterable is read by one worker at most (several would each read all of it)
            num_workers = min(num_workers, 1)
            dataset = PipelineIterator(inputs, self.preprocess, preprocess_params)
        dataloader = DataLoader(
            dataset, num_workers=num_workers, batch_size=batch_size, collate_fn=concatenate_video_inputs
        )
        model_iterator = PipelineIterator(dataloader, self.forward, forward_params, loader_batch_size=batch_size)
        return PipelineIterator(model_iterator, self.postprocess, postprocess_params)

# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
Multi-view testing (Text4Vis): each video is cut into `num_clips` temporal clips and `num_crops` spatial crops
(`V = num_clips * num_crops` views), every view is classified on its own and the per-view class scores are averaged.

Text4Vis averages the *softmaxed* scores (the class probabilities of each view, then their mean over the views): that
is the default here (`mode="softmax"`). Averaging the raw logits (`"logits"`) is offered for comparison. The
evaluation loop ([`engine.evaluate_model`]) and the Trainer's `compute_metrics`
([`metrics.compute_accuracy_metrics`]) both average through [`average_view_scores`].
"""

import numpy as np
import torch


VIEW_AVERAGING_MODES = ("softmax", "logits")


def flatten_views(pixel_values: torch.Tensor) -> tuple[torch.Tensor, int, int]:
    """
    Puts the views of each video into the batch dimension.

    Args:
        pixel_values (`torch.Tensor`): `(batch_size, num_frames, 3, H, W)` (one view) or `(batch_size, num_views,
            num_frames, 3, H, W)` (multi-view, as stacked by `sllm_collate_fn`).

    Returns:
        `(pixel_values, batch_size, num_views)` with `pixel_values` of shape `(batch_size * num_views, num_frames, 3,
        H, W)`, video-major (the `num_views` views of video 0, then those of video 1, ...).
    """
    if pixel_values.dim() == 5:
        return pixel_values, pixel_values.shape[0], 1
    if pixel_values.dim() == 6:
        batch_size, num_views = pixel_values.shape[:2]
        return pixel_values.flatten(0, 1), batch_size, num_views
    raise ValueError(
        "pixel_values must be (batch_size, num_frames, 3, H, W) or (batch_size, num_views, num_frames, 3, H, W), got "
        f"shape {tuple(pixel_values.shape)}."
    )


def average_view_scores(
    logits: torch.Tensor | np.ndarray, num_views: int = 1, mode: str = "softmax"
) -> torch.Tensor:
    """
    Averages the class scores of the views of each video (Text4Vis multi-view testing).

    Args:
        logits (`torch.Tensor` or `np.ndarray`): `(batch_size * num_views, num_classes)` logits in video-major order
            (as produced from the output of [`flatten_views`]), or `(batch_size, num_views, num_classes)`.
        num_views (`int`): views per video `V` (ignored for a 3-D input).
        mode (`str`): `"softmax"` (Text4Vis, the default): the mean over views of `softmax(logits)`, i.e. of the class
            probabilities; `"logits"`: the mean of the raw logits.

    Returns:
        `torch.FloatTensor` of shape `(batch_size, num_classes)`: per-video scores (probabilities summing to 1 for
        `"softmax"`). With one view and `"softmax"` this is the softmax of the logits, which ranks the classes exactly
        as the logits do.
    """
    if mode not in VIEW_AVERAGING_MODES:
        raise ValueError(f"view averaging mode must be one of {VIEW_AVERAGING_MODES}, got {mode!r}.")
    logits = torch.as_tensor(logits)
    if logits.dim() == 2:
        if num_views < 1 or logits.shape[0] % num_views != 0:
            raise ValueError(f"{logits.shape[0]} rows of logits cannot be split into groups of num_views={num_views}.")
        logits = logits.view(logits.shape[0] // num_views, num_views, logits.shape[1])
    elif logits.dim() != 3:
        raise ValueError(f"logits must be 2-D or 3-D, got shape {tuple(logits.shape)}.")
    logits = logits.float()
    if mode == "softmax":
        return logits.softmax(dim=-1).mean(dim=1)
    return logits.mean(dim=1)


__all__ = ["VIEW_AVERAGING_MODES", "average_view_scores", "flatten_views"]

# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
Restoration fidelity: how close are the restored embeddings of the skipped frames to the vision tower's true
embeddings of those frames, next to the free baselines (linear interpolation, copying a neighbour)?

Raw cosine similarity between CLIP embeddings of frames is close to 1 for everything, so the report centres the
embeddings first (subtracts the dataset-mean embedding) and also gives the mean squared error.
"""

import torch
import torch.nn.functional as F


FIDELITY_METHODS = ("restored", "linear_interpolation", "copy_left", "copy_right")


def neighbour_baselines(frame_embeds: torch.Tensor, keep_interval: int) -> dict[str, torch.Tensor]:
    """
    Baseline guesses of the skipped-frame embeddings from the kept ones.

    Args:
        frame_embeds: `(batch_size, N, D)` kept-frame embeddings.
        keep_interval: `k`; each of the `N - 1` gaps holds `k - 1` skipped frames.

    Returns:
        dict of `(batch_size, (N - 1) * (k - 1), D)` tensors, in the order of `restored_embeds`:
        `linear_interpolation` (weight `j / k` on the right neighbour for the `j`-th skipped frame of a gap),
        `copy_left`, `copy_right`.
    """
    if keep_interval < 2:
        raise ValueError(f"keep_interval={keep_interval}: there are no skipped frames to restore.")
    batch_size, num_frames, hidden_size = frame_embeds.shape
    per_gap = keep_interval - 1
    left = frame_embeds[:, :-1].unsqueeze(2).expand(-1, -1, per_gap, -1)
    right = frame_embeds[:, 1:].unsqueeze(2).expand(-1, -1, per_gap, -1)
    weights = torch.arange(1, keep_interval, dtype=frame_embeds.dtype, device=frame_embeds.device) / keep_interval
    weights = weights[None, None, :, None]
    shape = (batch_size, (num_frames - 1) * per_gap, hidden_size)
    return {
        "linear_interpolation": (left * (1 - weights) + right * weights).reshape(shape),
        "copy_left": left.reshape(shape),
        "copy_right": right.reshape(shape),
    }


def fidelity_metrics(
    frame_embeds: torch.Tensor,
    restored_embeds: torch.Tensor,
    target_embeds: torch.Tensor,
    keep_interval: int,
    mean_embedding: torch.Tensor | None = None,
) -> dict[str, dict[str, float]]:
    """
    Compares restored embeddings and the neighbour baselines with the true skipped-frame embeddings.

    Args:
        frame_embeds: `(num_videos, N, D)` kept-frame embeddings.
        restored_embeds: `(num_videos, R, D)` restored embeddings, `R = (N - 1) * (k - 1)`.
        target_embeds: `(num_videos, R, D)` vision-tower embeddings of the skipped frames.
        keep_interval: `k`.
        mean_embedding: `(D,)` embedding subtracted before the centred cosine; defaults to the mean of all kept and
            target embeddings given (the dataset-mean embedding).

    Returns:
        `{method: {"centred_cosine", "cosine", "mse"}}` for `restored`, `linear_interpolation`, `copy_left` and
        `copy_right`; each value is a mean over all skipped frames (MSE also over features).
    """
    if restored_embeds.shape != target_embeds.shape:
        raise ValueError(
            f"restored_embeds {tuple(restored_embeds.shape)} and target_embeds {tuple(target_embeds.shape)} differ."
        )
    expected = (frame_embeds.shape[0], (frame_embeds.shape[1] - 1) * (keep_interval - 1), frame_embeds.shape[2])
    if tuple(target_embeds.shape) != expected:
        raise ValueError(
            f"target_embeds has shape {tuple(target_embeds.shape)}, expected {expected} for {frame_embeds.shape[1]} "
            f"kept frames and keep_interval={keep_interval}."
        )
    frame_embeds, restored_embeds, target_embeds = (t.detach().double() for t in (frame_embeds, restored_embeds, target_embeds))
    if mean_embedding is None:
        mean_embedding = torch.cat([frame_embeds.flatten(0, 1), target_embeds.flatten(0, 1)]).mean(dim=0)
    mean_embedding = mean_embedding.detach().double()
    guesses = {"restored": restored_embeds, **neighbour_baselines(frame_embeds, keep_interval)}
    target = target_embeds.flatten(0, 1)
    report = {}
    for method in FIDELITY_METHODS:
        guess = guesses[method].flatten(0, 1)
        report[method] = {
            "centred_cosine": F.cosine_similarity(guess - mean_embedding, target - mean_embedding, dim=-1).mean().item(),
            "cosine": F.cosine_similarity(guess, target, dim=-1).mean().item(),
            "mse": (guess - target).pow(2).mean().item(),
        }
    return report


@torch.no_grad()
def collect_restoration_embeddings(model, batches) -> dict[str, torch.Tensor]:
    """
    Runs an [`SLLMForVideoClassification`] or [`SLLMModel`] over batches that carry `pixel_values` and
    `skipped_pixel_values` and gathers `frame_embeds`, `restored_embeds` and `target_embeds` (on the CPU).
    """
    model.eval()
    base = getattr(model, "sllm", model)
    if base.restoration is None:
        raise ValueError("This model has keep_interval=1: it restores no frames, so there is no fidelity to report.")
    device = next(model.parameters()).device
    gathered = {"frame_embeds": [], "restored_embeds": [], "target_embeds": []}
    for batch in batches:
        if batch.get("skipped_pixel_values") is None:
            raise ValueError("Fidelity needs the skipped frames: build the data with the training-style sampling.")
        outputs = base(
            batch["pixel_values"].to(device, base.dtype),
            skipped_pixel_values=batch["skipped_pixel_values"].to(device, base.dtype),
        )
        for key in gathered:
            gathered[key].append(getattr(outputs, key).float().cpu())
    if not gathered["frame_embeds"]:
        raise ValueError("No batches: the dataset is empty.")
    return {key: torch.cat(values) for key, values in gathered.items()}


__all__ = ["FIDELITY_METHODS", "neighbour_baselines", "fidelity_metrics", "collect_restoration_embeddings"]

# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
Restoration fidelity: how close are the restored embeddings of the skipped frames to the vision tower's true
embeddings of those frames, next to the free baselines (linear interpolation, copying a neighbour)?

Raw cosine similarity between CLIP embeddings of frames is close to 1 for everything, so the report centres the
embeddings first (subtracts the dataset-mean embedding) and also gives the mean squared error.

[`restoration_fidelity`] is the report of `scripts/eval.py --fidelity_report` (and of the ablation): the numbers of
[`fidelity_metrics`] over a whole dataset, gathered by [`collect_restoration_embeddings`].
"""

import torch
import torch.nn.functional as F

from .engine import make_eval_dataloader, resolve_device


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
    frame_embeds, restored_embeds, target_embeds = (
        tensor.detach().double() for tensor in (frame_embeds, restored_embeds, target_embeds)
    )
    if mean_embedding is None:
        mean_embedding = torch.cat([frame_embeds.flatten(0, 1), target_embeds.flatten(0, 1)]).mean(dim=0)
    mean_embedding = mean_embedding.detach().double()
    guesses = {"restored": restored_embeds, **neighbour_baselines(frame_embeds, keep_interval)}
    target = target_embeds.flatten(0, 1)
    report = {}
    centred_target = target - mean_embedding
    for method in FIDELITY_METHODS:
        guess = guesses[method].flatten(0, 1)
        report[method] = {
            "centred_cosine": F.cosine_similarity(guess - mean_embedding, centred_target, dim=-1).mean().item(),
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
            raise ValueError(
                "Fidelity needs the skipped frames (`skipped_pixel_values`): build the data with with_skipped=True "
                "(SLLMVideoTransform) or return_skipped_frames=True (SLLMVideoProcessor)."
            )
        outputs = base(
            batch["pixel_values"].to(device, base.dtype),
            skipped_pixel_values=batch["skipped_pixel_values"].to(device, base.dtype),
        )
        for key in gathered:
            gathered[key].append(getattr(outputs, key).float().cpu())
    if not gathered["frame_embeds"]:
        raise ValueError("No batches: the dataset is empty.")
    return {key: torch.cat(values) for key, values in gathered.items()}


@torch.no_grad()
def restoration_fidelity(
    model,
    data,
    *,
    batch_size: int = 8,
    device: str | torch.device | None = None,
    collate_fn=None,
    num_workers: int = 0,
    show_progress: bool = True,
) -> dict:
    """
    The fidelity report: how close the restored embeddings of the skipped frames are to the vision tower's true
    embeddings of those frames, next to linear interpolation, copy-left and copy-right ([`fidelity_metrics`]),
    centred by the dataset-mean embedding (of all kept and skipped frames).

    Args:
        model ([`SLLMForVideoClassification`] or [`SLLMModel`]) with `keep_interval >= 2`.
        data: dataset or batches with `pixel_values` `(B, N, 3, H, W)` and `skipped_pixel_values` `(B, (N - 1) * (k -
            1), 3, H, W)`: one view with the evaluation sampling, e.g. a dataset transformed by
            `SLLMVideoTransform.for_model(config, data_args, training=False, with_skipped=True)`.

    Returns:
        `{"num_videos", "keep_interval", "num_skipped_frames", "centring", "methods": {method: {"centred_cosine",
        "cosine", "mse"}}, "restored_minus_interpolation": {"centred_cosine", "mse"}, "best_method"}`, methods being
        `restored`, `linear_interpolation`, `copy_left`, `copy_right`.
    """
    from transformers.utils.logging import tqdm

    model.to(resolve_device(device, model))
    loader = make_eval_dataloader(data, batch_size, collate_fn, num_workers)
    try:
        total = len(loader)
    except TypeError:
        total = None

    def single_view_batches():
        for batch in tqdm(loader, total=total, desc="Restoration fidelity", unit="batch", disable=not show_progress):
            if batch["pixel_values"].dim() != 5:
                raise ValueError(
                    "The fidelity report takes one view per video (num_clips=1, num_crops=1); got pixel_values of "
                    f"shape {tuple(batch['pixel_values'].shape)}."
                )
            yield batch

    gathered = collect_restoration_embeddings(model, single_view_batches())
    keep_interval = model.config.keep_interval
    report = fidelity_metrics(
        gathered["frame_embeds"], gathered["restored_embeds"], gathered["target_embeds"], keep_interval
    )
    restored, interpolation = report["restored"], report["linear_interpolation"]
    return {
        "num_videos": int(gathered["frame_embeds"].shape[0]),
        "keep_interval": int(keep_interval),
        "num_skipped_frames": int(gathered["target_embeds"].shape[0] * gathered["target_embeds"].shape[1]),
        "centring": "dataset-mean embedding of all kept and skipped frames",
        "methods": {method: report[method] for method in FIDELITY_METHODS},
        "restored_minus_interpolation": {
            "centred_cosine": restored["centred_cosine"] - interpolation["centred_cosine"],
            "mse": restored["mse"] - interpolation["mse"],
        },
        "best_method": max(FIDELITY_METHODS, key=lambda method: report[method]["centred_cosine"]),
    }


__all__ = [
    "FIDELITY_METHODS",
    "collect_restoration_embeddings",
    "fidelity_metrics",
    "neighbour_baselines",
    "restoration_fidelity",
]

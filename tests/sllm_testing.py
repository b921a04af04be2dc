"""Tiny SLLM configurations and models shared by the tests (fast on 2 CPU cores)."""

import torch

from modeling_sllm import SLLMConfig, SLLMForVideoClassification


TINY_VISION = dict(
    hidden_size=32,
    intermediate_size=64,
    num_hidden_layers=2,
    num_attention_heads=2,
    image_size=32,
    patch_size=16,
    projection_dim=64,
)


def tiny_config(**overrides) -> SLLMConfig:
    kwargs = dict(
        vision_config=dict(TINY_VISION),
        num_frames=4,
        keep_interval=2,
        restoration_num_layers=2,
        temporal_num_layers=2,
        head_dim=32,
        id2label={0: "walk", 1: "run", 2: "jump"},
    )
    kwargs.update(overrides)
    return SLLMConfig(**kwargs)


def tiny_model(seed: int = 0, **overrides) -> SLLMForVideoClassification:
    torch.manual_seed(seed)
    return SLLMForVideoClassification(tiny_config(**overrides)).eval()


def random_frames(config: SLLMConfig, batch_size: int = 2, num_frames: int | None = None, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    size = config.vision_config.image_size
    frames = config.num_frames if num_frames is None else num_frames
    return torch.randn(batch_size, frames, 3, size, size, generator=generator)

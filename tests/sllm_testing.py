"""Tiny SLLM configurations and models shared by the tests (fast on 2 CPU cores)."""

import torch

from modeling_sllm import SLLMConfig, SLLMForVideoClassification
from modeling_sllm.demo.tiny_clip import TINY_VISION_CONFIG as TINY_VISION  # noqa: F401
from modeling_sllm.demo.tiny_clip import tiny_sllm_config


def tiny_config(**overrides) -> SLLMConfig:
    return tiny_sllm_config(**overrides)


def tiny_model(seed: int = 0, **overrides) -> SLLMForVideoClassification:
    torch.manual_seed(seed)
    return SLLMForVideoClassification(tiny_config(**overrides)).eval()


def random_frames(config: SLLMConfig, batch_size: int = 2, num_frames: int | None = None, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    size = config.vision_config.image_size
    frames = config.num_frames if num_frames is None else num_frames
    return torch.randn(batch_size, frames, 3, size, size, generator=generator)

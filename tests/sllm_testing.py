"""Tiny SLLM configurations and models shared by the tests (fast on 2 CPU cores), on top of the one home of the tiny
sizes, `modeling_sllm.demo.tiny_clip`."""

import torch

from modeling_sllm import SLLMConfig, SLLMForVideoClassification
from modeling_sllm.demo.tiny_clip import tiny_sllm_config


def tiny_config(**overrides) -> SLLMConfig:
    """[`tiny_sllm_config`]: a random tiny CLIP tower, 4 frames encoded with keep interval 2, 3 classes."""
    return tiny_sllm_config(**overrides)


def tiny_model(seed: int = 0, **overrides) -> SLLMForVideoClassification:
    """A randomly initialised (seeded) classifier of [`tiny_config`], in eval mode."""
    torch.manual_seed(seed)
    return SLLMForVideoClassification(tiny_config(**overrides)).eval()


def random_frames(config: SLLMConfig, batch_size: int = 2, num_frames: int | None = None, seed: int = 0):
    """Seeded random pixel values `(batch_size, num_frames or config.num_frames, 3, size, size)` for `config`."""
    generator = torch.Generator().manual_seed(seed)
    size = config.vision_config.image_size
    frames = config.num_frames if num_frames is None else num_frames
    return torch.randn(batch_size, frames, 3, size, size, generator=generator)

# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
Tiny randomly initialised CLIP checkpoints (model + tokenizer) written to a local folder.

They stand in for `openai/clip-vit-base-patch32` where no pretrained weights can be downloaded (the offline demo and
the tests): the folder loads through exactly the same `CLIPModel.from_pretrained` / `AutoTokenizer.from_pretrained`
calls as a Hub checkpoint.

`TINY_VISION_CONFIG` / [`tiny_sllm_config`] are the tests' and the benchmark's tiny tower (as fast as possible);
[`save_tiny_random_clip`]'s defaults are the offline demo's CLIP (the README's demo numbers were measured with it).
"""

import math
import os

import torch
from transformers import CLIPConfig, CLIPModel, CLIPTokenizer


# The one home of the tiny sizes used by the tests and the benchmark's tiny mode (32x32 frames, 2 patches a side).
TINY_VISION_CONFIG = dict(
    hidden_size=32,
    intermediate_size=64,
    num_hidden_layers=2,
    num_attention_heads=2,
    image_size=32,
    patch_size=16,
    projection_dim=64,
)


def tiny_sllm_config(**overrides):
    """
    A tiny [`SLLMConfig`] (random CLIP tower of `TINY_VISION_CONFIG`, 4 frames encoded, 2+2 layers, 3 classes) for
    tests and smoke runs; `overrides` replace any field (`vision_config` is merged into the tiny one when a dict).
    """
    from modeling_sllm.configuration_sllm import SLLMConfig

    vision = dict(TINY_VISION_CONFIG)
    if isinstance(overrides.get("vision_config"), dict):
        vision.update(overrides.pop("vision_config"))
    kwargs = dict(
        vision_config=vision,
        num_frames=4,
        keep_interval=2,
        restoration_num_layers=2,
        temporal_num_layers=2,
        head_dim=32,
        id2label={0: "walk", 1: "run", 2: "jump"},
    )
    kwargs.update(overrides)
    return SLLMConfig(**kwargs)


def _byte_level_alphabet() -> list[str]:
    """The 256 printable characters byte-level BPE maps bytes to (the GPT-2 / CLIP byte encoder)."""
    printable = (
        list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    )
    characters, extra = [], 0
    for byte in range(256):
        if byte in printable:
            characters.append(chr(byte))
        else:
            characters.append(chr(256 + extra))
            extra += 1
    return characters


def tiny_clip_tokenizer() -> CLIPTokenizer:
    """A CLIP tokenizer whose vocabulary is the byte alphabet (with and without `</w>`) and no merges: every word
    becomes one token per character; enough for class prompts of a demo."""
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for character in _byte_level_alphabet():
        vocab[character] = len(vocab)
        vocab[character + "</w>"] = len(vocab)
    return CLIPTokenizer(vocab=vocab, merges=[])


def save_tiny_random_clip(
    save_directory: str | os.PathLike,
    projection_dim: int = 64,
    vision_hidden_size: int = 64,
    vision_layers: int = 2,
    vision_heads: int = 2,
    image_size: int = 32,
    patch_size: int = 8,
    text_hidden_size: int = 32,
    text_layers: int = 1,
    text_heads: int = 2,
    max_text_length: int = 77,
    seed: int = 0,
) -> str:
    """
    Writes a randomly initialised `CLIPModel` (its weights drawn from `seed`, without touching the global random
    state) and its tokenizer to `save_directory` and returns the path.

    The text encoder has `max_text_length` positions (77 as in CLIP), so prompt truncation behaves as with the real
    checkpoints.
    """
    tokenizer = tiny_clip_tokenizer()
    config = CLIPConfig(
        text_config=dict(
            vocab_size=len(tokenizer),
            hidden_size=text_hidden_size,
            intermediate_size=4 * text_hidden_size,
            num_hidden_layers=text_layers,
            num_attention_heads=text_heads,
            max_position_embeddings=max_text_length,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
            projection_dim=projection_dim,
        ),
        vision_config=dict(
            hidden_size=vision_hidden_size,
            intermediate_size=4 * vision_hidden_size,
            num_hidden_layers=vision_layers,
            num_attention_heads=vision_heads,
            image_size=image_size,
            patch_size=patch_size,
            projection_dim=projection_dim,
        ),
        projection_dim=projection_dim,
        # exp(logit_scale) = 100, the value of the trained OpenAI checkpoints (CLIPConfig's default is 1 / 0.07)
        logit_scale_init_value=math.log(100.0),
    )
    with torch.random.fork_rng(devices=[]):  # seeded weights; the caller's random state is left as it was
        torch.manual_seed(seed)
        model = CLIPModel(config).eval()
    model.save_pretrained(save_directory)
    tokenizer.save_pretrained(save_directory)
    return os.fspath(save_directory)


__all__ = ["TINY_VISION_CONFIG", "save_tiny_random_clip", "tiny_clip_tokenizer", "tiny_sllm_config"]

# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""Class label files, class prompts and their CLIP text features (the Text4Vis classifier)."""

import os
from dataclasses import dataclass

import torch
from transformers.utils import logging

from .configuration_sllm import PROMPT_MODES


logger = logging.get_logger(__name__)


@dataclass(frozen=True)
class SLLMLabel:
    """One line of a label file: `id;name;description`."""

    id: int
    name: str
    description: str | None = None


def read_label_file(path: str | os.PathLike) -> list[SLLMLabel]:
    """
    Reads a label file with one class a line, `id;name;description` (`;`-separated, the description is optional), and
    returns the labels sorted by id. An optional header line starting with `id;` is skipped.

    Raises:
        `OSError` if the file does not exist, `ValueError` naming the line for a malformed line, a duplicate id or
        ids that are not exactly `0 .. C-1`.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise OSError(f"Label file {path!r} does not exist.")
    labels: dict[int, SLLMLabel] = {}
    with open(path, encoding="utf-8") as handle:
        for line_number, raw_line in enumerate(handle, start=1):
            line = raw_line.strip()
            if not line or line.startswith("#"):
                continue
            fields = [field.strip() for field in line.split(";", 2)]
            if line_number == 1 and fields[0].lower() == "id":
                continue
            if len(fields) < 2:
                raise ValueError(f"{path}:{line_number}: expected 'id;name;description', got {line!r}.")
            try:
                label_id = int(fields[0])
            except ValueError:
                raise ValueError(f"{path}:{line_number}: class id {fields[0]!r} is not an integer.") from None
            name = fields[1]
            if not name:
                raise ValueError(f"{path}:{line_number}: class {label_id} has an empty name.")
            if label_id in labels:
                raise ValueError(f"{path}:{line_number}: class id {label_id} appears twice.")
            description = fields[2] if len(fields) > 2 and fields[2] else None
            labels[label_id] = SLLMLabel(label_id, name, description)
    if not labels:
        raise ValueError(f"Label file {path!r} contains no labels.")
    expected = set(range(len(labels)))
    if set(labels) != expected:
        missing = sorted(expected - set(labels))[:5]
        extra = sorted(set(labels) - expected)[:5]
        raise ValueError(
            f"Label file {path!r}: class ids must be 0..{len(labels) - 1}; missing {missing}, out of range {extra}."
        )
    return [labels[index] for index in range(len(labels))]


def build_prompts(
    class_names: list[str], descriptions: list[str | None] | None = None, prompt_mode: str = "normal"
) -> list[str]:
    """
    Returns one text prompt per class: the class name (`"normal"`), or `"name,description"` (`"enhance"`, the
    released "enhanced" prompts; a class without description falls back to its name).
    """
    if prompt_mode not in PROMPT_MODES:
        raise ValueError(f"prompt_mode must be one of {PROMPT_MODES}, got {prompt_mode!r}.")
    if not class_names:
        raise ValueError("class_names is empty: at least one class is needed.")
    if descriptions is not None and len(descriptions) != len(class_names):
        raise ValueError(f"Got {len(descriptions)} descriptions for {len(class_names)} class names.")
    if prompt_mode == "normal":
        return list(class_names)
    if descriptions is None:
        raise ValueError("prompt_mode='enhance' needs a description per class (the third column of the label file).")
    return [f"{name},{description}" if description else name for name, description in zip(class_names, descriptions)]


def load_clip(clip_name_or_path: str, **from_pretrained_kwargs):
    """
    The CLIP model and its tokenizer from a Hub id or a folder (e.g. `"openai/clip-vit-base-patch32"`): the one loader
    of the project (class text features, `from_clip`, zero-shot, conversion).

    Returns:
        `(CLIPModel in eval mode, tokenizer)`.

    Raises:
        `OSError` naming the checkpoint when it cannot be loaded.
    """
    from transformers import AutoTokenizer, CLIPModel

    try:
        clip = CLIPModel.from_pretrained(clip_name_or_path, **from_pretrained_kwargs).eval()
        tokenizer = AutoTokenizer.from_pretrained(clip_name_or_path, **from_pretrained_kwargs)
    except (OSError, ValueError) as error:
        raise OSError(
            f"Cannot load the CLIP checkpoint {clip_name_or_path!r} (a CLIP folder or Hub id with a tokenizer is "
            f"needed): {error}"
        ) from error
    return clip, tokenizer


@torch.no_grad()
def encode_prompts(clip_model, tokenizer, prompts: list[str], batch_size: int = 256) -> torch.Tensor:
    """
    Encodes prompts with a CLIP text encoder. Prompts longer than the text encoder's context (77 tokens for CLIP) are
    truncated with a warning that names them.

    Returns:
        `torch.FloatTensor` of shape `(num_prompts, projection_dim)`: the projected, unnormalised text features.
    """
    max_length = clip_model.config.text_config.max_position_embeddings
    too_long = [
        prompt
        for prompt, ids in zip(prompts, tokenizer(prompts, truncation=False)["input_ids"])
        if len(ids) > max_length
    ]
    if too_long:
        logger.warning(
            f"{len(too_long)} class prompt(s) exceed the text encoder's {max_length} tokens and are truncated, e.g. "
            f"{too_long[0][:80]!r}."
        )
    device = next(clip_model.parameters()).device
    was_training = clip_model.training
    clip_model.eval()
    features = []
    for start in range(0, len(prompts), batch_size):
        inputs = tokenizer(
            prompts[start : start + batch_size],
            padding="max_length",
            truncation=True,
            max_length=max_length,
            return_tensors="pt",
        ).to(device)
        features.append(clip_model.get_text_features(**inputs).pooler_output.float())
    clip_model.train(was_training)
    return torch.cat(features).cpu()


__all__ = ["SLLMLabel", "read_label_file", "build_prompts", "encode_prompts", "load_clip", "PROMPT_MODES"]

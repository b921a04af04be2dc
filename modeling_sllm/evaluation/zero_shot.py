# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
Classes of a dataset and classes of a model: matching them by name, and Text4Vis zero-shot classification (the same
head, the CLIP text features of other classes, which need not have been seen in training).
"""

import os
from collections.abc import Sequence

import torch
from transformers.utils import logging

from modeling_sllm.text_features import SLLMLabel, build_prompts, encode_prompts, load_clip, read_label_file


logger = logging.get_logger(__name__)


def label_map_by_name(dataset_class_names: Sequence[str], model_id2label: dict[int, str]) -> list[int] | None:
    """
    Maps the dataset's class ids to the model's by class name.

    Returns `None` when the two agree already (same names in the same order); a list `dataset id -> model id` when
    every dataset class is a model class; `None` with a warning when the names differ but the counts match (the ids
    are then trusted, e.g. a converted checkpoint whose classes were named differently).

    Raises:
        `ValueError` when dataset classes are missing from the model and the counts differ.
    """
    model_names = [str(model_id2label[index]) for index in sorted(model_id2label)]
    dataset_names = [str(name) for name in dataset_class_names]
    if dataset_names == model_names:
        return None
    index = {name: class_id for class_id, name in enumerate(model_names)}
    missing = [name for name in dataset_names if name not in index]
    if not missing:
        return [index[name] for name in dataset_names]
    if len(dataset_names) == len(model_names):
        logger.warning(
            f"The dataset's class names differ from the model's (e.g. {missing[0]!r} is not a model class); using the "
            "dataset's label ids as the model's."
        )
        return None
    raise ValueError(
        f"{len(missing)} dataset classes are not classes of the model (e.g. {missing[:3]}); the model has "
        f"{len(model_names)} classes. Evaluate zero-shot with a label file naming the dataset's classes "
        "(--zero_shot_label_file)."
    )


def set_zero_shot_classifier(
    model,
    labels: Sequence[SLLMLabel] | str | os.PathLike,
    text_model_name_or_path: str | None = None,
    prompt_mode: str | None = None,
    device: str | torch.device | None = None,
    **from_pretrained_kwargs,
) -> torch.Tensor:
    """
    Replaces the classifier of `model` by the CLIP text features of new classes (Text4Vis zero-shot: the same head,
    other text features); the classes need not have been seen in training.

    Args:
        model ([`SLLMForVideoClassification`]): updated in place (`class_embeddings`, `config.id2label`,
            `config.text_model_name_or_path`, `config.prompt_mode`).
        labels: the classes, as a label file (`id;name;description`) or a list of [`SLLMLabel`].
        text_model_name_or_path (`str`, *optional*): CLIP checkpoint whose text encoder encodes the prompts; defaults
            to `model.config.text_model_name_or_path` (set by `from_clip`). It must be the CLIP the model's tower
            comes from, or the features live in another space.
        prompt_mode (`str`, *optional*): `"normal"` (names) or `"enhance"` (`"name,description"`); defaults to
            `model.config.prompt_mode`.
        device: where to run the text encoder (default: CPU).
        from_pretrained_kwargs: passed to [`text_features.load_clip`] (`revision`, `cache_dir`, ...).

    Returns:
        `torch.FloatTensor` of shape `(num_classes, hidden_size)`: the installed class embeddings.
    """
    if isinstance(labels, (str, os.PathLike)):
        labels = read_label_file(labels)
    labels = list(labels)
    if not labels:
        raise ValueError("No classes given for the zero-shot classifier.")
    text_model_name_or_path = text_model_name_or_path or model.config.text_model_name_or_path
    if not text_model_name_or_path:
        raise ValueError(
            "No CLIP text encoder is known for this model (config.text_model_name_or_path is unset): pass "
            "text_model_name_or_path (the CLIP checkpoint the vision tower comes from)."
        )
    prompt_mode = prompt_mode or model.config.prompt_mode
    prompts = build_prompts([label.name for label in labels], [label.description for label in labels], prompt_mode)
    try:
        clip, tokenizer = load_clip(text_model_name_or_path, **from_pretrained_kwargs)
    except OSError as error:
        raise OSError(f"The zero-shot classifier needs the CLIP text encoder: {error}") from error
    if device is not None:
        clip.to(device)
    embeddings = encode_prompts(clip, tokenizer, prompts)
    if embeddings.shape[1] != model.config.hidden_size:
        raise ValueError(
            f"The text encoder {text_model_name_or_path!r} gives {embeddings.shape[1]}-d features but the model's "
            f"embeddings are {model.config.hidden_size}-d: use the CLIP checkpoint the vision tower comes from."
        )
    model.set_class_embeddings(embeddings, id2label={label.id: label.name for label in labels})
    model.config.text_model_name_or_path = str(text_model_name_or_path)
    model.config.prompt_mode = prompt_mode
    logger.info(f"Zero-shot classifier: {len(labels)} classes encoded by {text_model_name_or_path} ({prompt_mode}).")
    return embeddings


__all__ = ["label_map_by_name", "set_zero_shot_classifier"]

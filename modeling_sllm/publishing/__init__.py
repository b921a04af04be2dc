# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
Publishing toolkit: conversion of the authors' released checkpoints, model cards, Hub upload.

- `conversion`: released `.pt` -> [`SLLMForVideoClassification`] + processor ([`convert_original_checkpoint`],
  [`save_converted`]); `conversion_mapping`: the key and shape mapping; `conversion_report`: what a conversion did.
- `model_card`: the card of a saved folder, results read through `evaluation.results.SLLMResults`; `card_views`
  (what the template shows), `card_text` (names escaped for Markdown/HTML), `licenses` (the licence rule).
- `training_card`: the card `scripts/train.py` writes at the end of training, from `training_report.json`.
- `hub_folder`: checks that a folder (and its card) is complete for the Hub and lists the upload.
- `upload`: [`push_to_hub`] with `HfApi`; `space`: [`push_space`], the Gradio Space demo of a model.
- `naming`: backbone, repository and dataset names shared by the above.
- `convert_cli`, `push_cli`: the `sllm-convert` and `sllm-push-to-hub` commands.
"""

from .conversion import (
    RELEASE_EVAL_KEEP_INTERVAL,
    RELEASE_EVAL_NUM_FRAMES,
    class_text_features,
    convert_original_checkpoint,
    load_original_checkpoint,
    save_converted,
)
from .conversion_mapping import SLLMConversionError, convert_state_dict, infer_config_kwargs, load_converted_weights
from .conversion_report import SLLMConversionReport
from .hub_folder import (
    HUB_IGNORE_PATTERNS,
    SLLMHubError,
    SLLMHubFolder,
    check_hub_folder,
    check_model_card,
    check_processor_matches_config,
    prepare_hub_folder,
    upload_file_list,
)
from .licenses import KNOWN_BASE_MODEL_LICENSES, SLLMLicenseError
from .model_card import DEFAULT_TEMPLATE_PATH, build_model_card, load_results, results_to_eval_results, save_model_card
from .naming import backbone_name
from .space import push_space
from .training_card import SLLMCardArguments, SLLMTrainingReport, resolve_training_license, write_training_card
from .upload import push_to_hub


__all__ = [
    "DEFAULT_TEMPLATE_PATH",
    "HUB_IGNORE_PATTERNS",
    "KNOWN_BASE_MODEL_LICENSES",
    "RELEASE_EVAL_KEEP_INTERVAL",
    "RELEASE_EVAL_NUM_FRAMES",
    "SLLMConversionError",
    "SLLMConversionReport",
    "SLLMCardArguments",
    "SLLMHubError",
    "SLLMHubFolder",
    "SLLMLicenseError",
    "SLLMTrainingReport",
    "backbone_name",
    "build_model_card",
    "check_hub_folder",
    "check_model_card",
    "check_processor_matches_config",
    "class_text_features",
    "convert_original_checkpoint",
    "convert_state_dict",
    "infer_config_kwargs",
    "load_converted_weights",
    "load_original_checkpoint",
    "load_results",
    "prepare_hub_folder",
    "push_space",
    "push_to_hub",
    "resolve_training_license",
    "results_to_eval_results",
    "save_converted",
    "save_model_card",
    "upload_file_list",
    "write_training_card",
]

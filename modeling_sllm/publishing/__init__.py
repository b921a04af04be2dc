# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
Publishing toolkit: conversion of the authors' released checkpoints, model cards, Hub upload.

- `conversion`: released `.pt` -> [`SLLMForVideoClassification`] + processor ([`convert_original_checkpoint`],
  [`save_converted`]); `conversion_mapping`: the key and shape mapping; `conversion_report`: what a conversion did.
- `model_card`: the card of a saved folder, results read through `evaluation.results.SLLMResults`.
- `hub_folder`: checks that a folder is complete for the Hub and lists the upload.
- `upload`: [`push_to_hub`] with `HfApi`.
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
    check_processor_matches_config,
    prepare_hub_folder,
    upload_file_list,
)
from .model_card import DEFAULT_TEMPLATE_PATH, build_model_card, load_results, results_to_eval_results
from .naming import backbone_name
from .upload import push_to_hub


__all__ = [
    "DEFAULT_TEMPLATE_PATH",
    "HUB_IGNORE_PATTERNS",
    "RELEASE_EVAL_KEEP_INTERVAL",
    "RELEASE_EVAL_NUM_FRAMES",
    "SLLMConversionError",
    "SLLMConversionReport",
    "SLLMHubError",
    "SLLMHubFolder",
    "backbone_name",
    "build_model_card",
    "check_hub_folder",
    "check_processor_matches_config",
    "class_text_features",
    "convert_original_checkpoint",
    "convert_state_dict",
    "infer_config_kwargs",
    "load_converted_weights",
    "load_original_checkpoint",
    "load_results",
    "prepare_hub_folder",
    "push_to_hub",
    "results_to_eval_results",
    "save_converted",
    "upload_file_list",
]

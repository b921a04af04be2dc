# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""SLLM ("Sample Less, Learn More", ACM MM 2023) as a Transformers model.

Importing this package registers the SLLM classes with the Auto classes, and marks them for `trust_remote_code`
export: `save_pretrained` copies the modeling files next to the weights so that the folder works on the Hub.
"""

from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForVideoClassification,
    AutoVideoProcessor,
)

from .configuration_sllm import SLLMConfig
from .modeling_sllm import (
    SLLMForVideoClassification,
    SLLMModel,
    SLLMModelOutput,
    SLLMPreTrainedModel,
    SLLMVideoClassifierOutput,
)
from .video_processing_sllm import SLLMVideoProcessor


__version__ = "0.1.0"

AutoConfig.register(SLLMConfig.model_type, SLLMConfig, exist_ok=True)
AutoModel.register(SLLMConfig, SLLMModel, exist_ok=True)
AutoModelForVideoClassification.register(SLLMConfig, SLLMForVideoClassification, exist_ok=True)
AutoVideoProcessor.register(SLLMConfig, SLLMVideoProcessor, exist_ok=True)

SLLMConfig.register_for_auto_class()
SLLMModel.register_for_auto_class("AutoModel")
SLLMForVideoClassification.register_for_auto_class("AutoModelForVideoClassification")
SLLMVideoProcessor.register_for_auto_class("AutoVideoProcessor")

__all__ = [
    "SLLMConfig",
    "SLLMModel",
    "SLLMForVideoClassification",
    "SLLMPreTrainedModel",
    "SLLMModelOutput",
    "SLLMVideoClassifierOutput",
    "SLLMVideoProcessor",
]

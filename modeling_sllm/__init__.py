# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""SLLM ("Sample Less, Learn More", ACM MM 2023) as a Transformers model.

Importing this package registers the SLLM classes with the Auto classes, and marks them for `trust_remote_code`
export: `save_pretrained` copies the modeling files next to the weights so that the folder works on the Hub. It also
makes `pipeline("video-classification")` build [`SLLMVideoClassificationPipeline`], which batches (`batch_size`).
"""

from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForVideoClassification,
    AutoVideoProcessor,
)
from transformers.pipelines import PIPELINE_REGISTRY

from .configuration_sllm import SLLMConfig
from .modeling_sllm import (
    SLLMForVideoClassification,
    SLLMModel,
    SLLMModelOutput,
    SLLMPreTrainedModel,
    SLLMVideoClassifierOutput,
)
from .pipeline_sllm import SLLMVideoClassificationPipeline
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


def _register_pipeline() -> None:
    """
    `pipeline("video-classification")` builds [`SLLMVideoClassificationPipeline`]: transformers' pipeline, which also
    batches videos prepared by a video processor; the task's models, default model and type are unchanged. The task's
    entry is replaced rather than re-registered with `register_pipeline`, which would warn at every import and mark
    the class as a custom pipeline (`Pipeline.save_pretrained` of ANY video classifier would then write a
    `custom_pipelines` entry needing `trust_remote_code`).
    """
    task = PIPELINE_REGISTRY.supported_tasks["video-classification"]
    PIPELINE_REGISTRY.supported_tasks["video-classification"] = {**task, "impl": SLLMVideoClassificationPipeline}


_register_pipeline()

__all__ = [
    "SLLMConfig",
    "SLLMModel",
    "SLLMForVideoClassification",
    "SLLMPreTrainedModel",
    "SLLMModelOutput",
    "SLLMVideoClassifierOutput",
    "SLLMVideoProcessor",
    "SLLMVideoClassificationPipeline",
]

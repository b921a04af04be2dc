# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
The batching pipeline in a model folder, for `trust_remote_code` users without the package: the folder gets
`pipeline_sllm.py` and a `custom_pipelines` entry in `config.json`, so that

    pipeline("video-classification", model=folder, trust_remote_code=True, batch_size=8)

builds [`SLLMVideoClassificationPipeline`] from the folder's code. For Hub folders: once the entry is there, the
pipeline of that folder needs `trust_remote_code=True` also where the package is installed (transformers asks it for
every custom pipeline), as the model card says anyway. Folders used with the package need nothing: `import
modeling_sllm` registers the class.
"""

import json
import os
from pathlib import Path

from transformers.dynamic_module_utils import custom_object_save

from modeling_sllm.data.files import write_file_atomically
from modeling_sllm.pipeline_sllm import SLLMVideoClassificationPipeline


__all__ = ["CUSTOM_PIPELINES", "add_pipeline_to_folder"]

# `config.json`'s `custom_pipelines` entry (the format `Pipeline.save_pretrained` writes for a registered pipeline).
CUSTOM_PIPELINES = {
    "video-classification": {
        "impl": f"pipeline_sllm.{SLLMVideoClassificationPipeline.__name__}",
        "pt": ["AutoModelForVideoClassification"],
        "type": "video",
    }
}


def add_pipeline_to_folder(folder: str | os.PathLike) -> list[Path]:
    """
    Copies `pipeline_sllm.py` into a saved model folder and adds [`CUSTOM_PIPELINES`] to its `config.json` (written
    atomically; the other fields are kept as they are).

    Returns:
        The files written (`pipeline_sllm.py`, `config.json`).

    Raises:
        `FileNotFoundError` when the folder has no `config.json`; `ValueError` when it is not valid JSON.
    """
    folder = Path(folder)
    config_file = folder / "config.json"
    if not config_file.is_file():
        raise FileNotFoundError(f"{str(folder)!r} has no config.json: save the model there first (save_pretrained).")
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{str(config_file)!r} is not valid JSON: {error}") from None
    written = [Path(path) for path in custom_object_save(SLLMVideoClassificationPipeline, folder)]
    config["custom_pipelines"] = CUSTOM_PIPELINES
    write_file_atomically(config_file, json.dumps(config, indent=2, sort_keys=True) + "\n")
    return written + [config_file]

# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
What a conversion of a released checkpoint did: [`SLLMConversionReport`], saved beside the converted weights as
`conversion_report.json` by the converter and read back by the model card (source file, hash, epoch).
"""

import json
import os
from dataclasses import asdict, dataclass, field

from .hub_folder import write_text_atomically


__all__ = ["CONVERSION_REPORT_NAME", "SLLMConversionReport"]

CONVERSION_REPORT_NAME = "conversion_report.json"


@dataclass
class SLLMConversionReport:
    """
    What a conversion did: where every source tensor went.

    Attributes:
        checkpoint (`str`): path of the released checkpoint.
        sha256 (`str`, *optional*): SHA-256 of the checkpoint file.
        epoch (`int`, *optional*): the checkpoint's `epoch` entry.
        stripped_prefix (`str`, *optional*): prefix removed from every key (`"module."`).
        source_dtypes (`dict[str, int]`): number of source tensors per dtype (all are cast to float32).
        mapping (`dict[str, list[str]]`): source key -> our key(s) (in_proj gives three).
        ignored_keys (`dict[str, list[int]]`): source keys dropped on request (`ignore_keys`), with their shapes.
        other_entries (`list[str]`): top-level entries of the checkpoint dict besides the model weights (e.g.
            `optimizer_state_dict`), which are not part of the model.
        backbone (`str`): name of the vision tower, e.g. `"ViT-B/32"`.
        has_restoration (`bool`), temporal_head (`str`): what the checkpoint contains.
        sampling (`dict`): frames of the converted model: `num_frames` (encoded), `keep_interval`,
            `num_sampled_frames` (TSN segments) and `release_eval_sampling`.
    """

    checkpoint: str
    sha256: str | None = None
    epoch: int | None = None
    stripped_prefix: str | None = None
    source_dtypes: dict = field(default_factory=dict)
    mapping: dict = field(default_factory=dict)
    ignored_keys: dict = field(default_factory=dict)
    other_entries: list = field(default_factory=list)
    backbone: str = ""
    has_restoration: bool = True
    temporal_head: str = "transformer"
    sampling: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    def save(self, folder: str | os.PathLike) -> str:
        """Writes `conversion_report.json` into `folder` (atomically) and returns its path."""
        path = os.path.join(os.fspath(folder), CONVERSION_REPORT_NAME)
        return write_text_atomically(path, json.dumps(self.to_dict(), indent=2, sort_keys=True))

    @classmethod
    def load(cls, path: str | os.PathLike) -> "SLLMConversionReport":
        """
        Reads a `conversion_report.json` (a file, or a folder holding one).

        Raises:
            `ValueError` naming the file for invalid JSON, a missing `checkpoint` or fields the report does not have.
        """
        path = os.fspath(path)
        if os.path.isdir(path):
            path = os.path.join(path, CONVERSION_REPORT_NAME)
        try:
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
        except json.JSONDecodeError as error:
            raise ValueError(f"Conversion report {path!r} is not valid JSON: {error}.") from None
        if not isinstance(data, dict) or not isinstance(data.get("checkpoint"), str):
            raise ValueError(f"Conversion report {path!r}: expected an object with a 'checkpoint' path.")
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise ValueError(f"Conversion report {path!r}: unknown fields {unknown}.")
        return cls(**data)

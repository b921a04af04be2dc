# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""Upload of a checked SLLM model folder to the Hub: `HfApi.create_repo` + `HfApi.upload_folder`."""

import os

from huggingface_hub import HfApi
from transformers.utils import logging

from .hub_folder import SLLMHubError, prepare_hub_folder
from .naming import is_repo_id


__all__ = ["push_to_hub"]

logger = logging.get_logger(__name__)


def push_to_hub(
    model_dir: str | os.PathLike,
    repo_id: str,
    card=None,
    token: str | None = None,
    private: bool = False,
    commit_message: str = "Upload SLLM video classifier",
    revision: str | None = None,
    create_pr: bool = False,
    ignore_patterns: list[str] | None = None,
):
    """
    Checks and uploads a model folder to the Hub repository `repo_id` (created if needed).

    Args:
        model_dir: folder written by `save_pretrained` + the video processor (e.g. by the converter or training).
        repo_id (`str`): `org/name`.
        card (`huggingface_hub.ModelCard`, *optional*): model card to write as `README.md` before the upload (see
            [`~modeling_sllm.publishing.model_card.build_model_card`]).
        token (`str`, *optional*): Hub token; `None` uses the locally saved login.
        private (`bool`): create the repository as private.
        commit_message (`str`), revision (`str`, *optional*: a branch, created if missing), create_pr (`bool`): as in
            `HfApi.upload_folder`.
        ignore_patterns: files left out (defaults to `HUB_IGNORE_PATTERNS`).

    Returns:
        The `CommitInfo` of the upload.

    Raises:
        [`SLLMHubError`] for a malformed `repo_id` or an incomplete folder, before any call to the Hub.
    """
    if not is_repo_id(repo_id):
        raise SLLMHubError(f"repo_id must look like 'org/name', got {repo_id!r}.")
    prepared = prepare_hub_folder(model_dir, card=card, ignore_patterns=ignore_patterns)
    api = HfApi(token=token)
    repo_url = api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
    if revision is not None:
        api.create_branch(repo_id, branch=revision, repo_type="model", exist_ok=True)
    logger.info(f"Uploading {len(prepared.files)} files of {prepared.folder} to {repo_url}.")
    return api.upload_folder(
        repo_id=repo_id,
        folder_path=prepared.folder,
        repo_type="model",
        commit_message=commit_message,
        revision=revision,
        create_pr=create_pr,
        ignore_patterns=prepared.ignore_patterns,
    )

# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
The Gradio Space demo of a model on the Hub: [`push_space`] creates (or updates) a Space from `hub_cards/space/`
(`app.py`, `requirements.txt` and the Space card `README.md`, whose `models:` is set to the model repository so that
the app loads it and the Hub links the two), in one commit with `HfApi.create_commit`.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import CommitOperationAdd, HfApi, SpaceCard
from transformers.utils import logging

from .hub_folder import SLLMHubError
from .naming import is_repo_id


__all__ = ["SPACE_FILES", "SLLMSpaceUpload", "find_space_dir", "prepare_space", "push_space"]

logger = logging.get_logger(__name__)

SPACE_FILES = ("app.py", "requirements.txt", "README.md")


def find_space_dir(package_dir: str | os.PathLike | None = None) -> Path:
    """`hub_cards/space/` beside the package in a source checkout, or `modeling_sllm/hub_cards/space/` in a wheel."""
    package_dir = Path(package_dir) if package_dir is not None else Path(__file__).resolve().parents[1]
    candidates = [package_dir.parent / "hub_cards" / "space", package_dir / "hub_cards" / "space"]
    return next((path for path in candidates if (path / "app.py").is_file()), candidates[0])


@dataclass
class SLLMSpaceUpload:
    """
    What [`push_space`] sends: `operations` (one `CommitOperationAdd` per file) and the Space card it wrote.

    Attributes:
        space_id (`str`), model_id (`str`): the Space and the model it shows.
        card (`huggingface_hub.SpaceCard`): the Space card with `models: [model_id]`.
        operations (`list[CommitOperationAdd]`): the files, by their path in the Space repository.
    """

    space_id: str
    model_id: str
    card: SpaceCard
    operations: list

    @property
    def files(self) -> list[str]:
        return [operation.path_in_repo for operation in self.operations]


def prepare_space(
    space_id: str, model_id: str, space_dir: str | os.PathLike | None = None, examples: list[str] | tuple = ()
) -> SLLMSpaceUpload:
    """
    Checks the ids and the Space files and builds the upload: `app.py`, `requirements.txt`, `README.md` with
    `models: [model_id]`, and the `examples` clips as `examples/<file name>` (the app lists them).

    Raises:
        [`SLLMHubError`] naming the id, folder or file, before any call to the Hub.
    """
    for flag, repo_id in (("--space", space_id), ("model repo_id", model_id)):
        if not is_repo_id(repo_id):
            raise SLLMHubError(f"{flag} must look like 'org/name', got {repo_id!r}.")
    if space_id == model_id:
        raise SLLMHubError(f"--space {space_id!r} is the model repository itself: give the Space its own name.")
    space_dir = Path(space_dir) if space_dir is not None else find_space_dir()
    missing = [name for name in SPACE_FILES if not (space_dir / name).is_file()]
    if missing:
        raise SLLMHubError(f"Space folder {str(space_dir)!r} lacks {missing} (the files of hub_cards/space/).")
    card = SpaceCard.load(space_dir / "README.md")
    if card.data.sdk != "gradio" or card.data.app_file != "app.py":
        raise SLLMHubError(
            f"{space_dir / 'README.md'}: expected sdk: gradio and app_file: app.py, got {card.data.sdk!r} and "
            f"{card.data.app_file!r}."
        )
    card.data.models = [model_id]
    operations = [
        CommitOperationAdd(path_in_repo=name, path_or_fileobj=str(space_dir / name)) for name in SPACE_FILES[:2]
    ]
    operations.append(CommitOperationAdd(path_in_repo="README.md", path_or_fileobj=str(card).encode("utf-8")))
    names = set()
    for example in examples:
        path = Path(example)
        if not path.is_file():
            raise SLLMHubError(f"Example clip {str(path)!r} does not exist.")
        if path.name in names:
            raise SLLMHubError(f"Two example clips are named {path.name!r}; they would overwrite each other.")
        names.add(path.name)
        operations.append(CommitOperationAdd(path_in_repo=f"examples/{path.name}", path_or_fileobj=str(path)))
    return SLLMSpaceUpload(space_id=space_id, model_id=model_id, card=card, operations=operations)


def push_space(
    space_id: str,
    model_id: str,
    token: str | None = None,
    private: bool = False,
    space_dir: str | os.PathLike | None = None,
    examples: list[str] | tuple = (),
    commit_message: str = "SLLM video classification demo",
):
    """
    Creates the Gradio Space `space_id` (or updates it) to demo the model repository `model_id`.

    Args:
        space_id (`str`): `org/name` of the Space.
        model_id (`str`): `org/name` of the model it loads (written to `models:` in the Space card).
        token (`str`, *optional*): Hub token; `None` uses the saved login.
        private (`bool`): create the Space as private. A Space that shows a private model needs a read token as
            its `HF_TOKEN` secret (set it in the Space settings; this function never uploads your token).
        space_dir: the Space files (default: `hub_cards/space/`).
        examples: video clips uploaded as `examples/<file name>`.
        commit_message (`str`): of the commit that adds the files.

    Returns:
        The `CommitInfo` of the upload.
    """
    upload = prepare_space(space_id, model_id, space_dir=space_dir, examples=examples)
    api = HfApi(token=token)
    url = api.create_repo(space_id, repo_type="space", space_sdk="gradio", private=private, exist_ok=True)
    logger.info(f"Uploading the Space files {upload.files} to {url} (showing {model_id}).")
    return api.create_commit(
        repo_id=space_id, repo_type="space", operations=upload.operations, commit_message=commit_message
    )

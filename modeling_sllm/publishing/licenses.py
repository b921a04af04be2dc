# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
The licence of a model card. A card is published only with a licence: the one the user gives (`--license`), or the
one the base checkpoint declares on the Hub when this table knows it. The table lists checkpoints whose Hub card
declares a licence; it is a default, never an override of the user's choice.

The OpenAI CLIP checkpoints (`openai/clip-vit-*`, the default base model) are deliberately not inherited: their Hub
repositories declare no licence. The code of github.com/openai/CLIP is MIT-licensed, but OpenAI has not said that the
licence covers the weights (openai/CLIP issue #203, open since 2021; huggingface.co/openai/clip-vit-base-patch32
discussion #72), and the CLIP model card puts deployed uses out of scope. Choosing the licence of a model trained from
them is the publisher's call: pass `--license`.
"""

import re

from .hub_folder import SLLMHubError


__all__ = [
    "KNOWN_BASE_MODEL_LICENSES",
    "LICENSE_NOTES",
    "SLLMLicenseError",
    "base_model_license",
    "check_license_id",
    "license_note",
    "missing_license_message",
]


class SLLMLicenseError(SLLMHubError):
    """A card that cannot be published for want of a licence; the message says which flag gives one."""


# Hub id -> licence id declared in that repository's card metadata.
KNOWN_BASE_MODEL_LICENSES = {
    "laion/CLIP-ViT-B-32-laion2B-s34B-b79K": "mit",
    "laion/CLIP-ViT-L-14-laion2B-s32B-b82K": "mit",
    "laion/CLIP-ViT-H-14-laion2B-s32B-b79K": "mit",
}
# Hub id pattern -> why its licence is not inherited (shown in the error asking for --license).
LICENSE_NOTES = {
    re.compile(r"openai/clip-vit-.*"): (
        "its Hub repository declares no licence (the github.com/openai/CLIP code is MIT-licensed; OpenAI has not "
        "stated the licence of the weights)"
    ),
}
# Hub licence identifiers: lower case letters, digits, dots, dashes and pluses ("mit", "apache-2.0", "cc-by-nc-4.0").
_LICENSE_ID = re.compile(r"[a-z0-9][a-z0-9.+-]*")


def base_model_license(base_model: str | None) -> str | None:
    """The licence declared by a known base checkpoint (see [`KNOWN_BASE_MODEL_LICENSES`]), else `None`."""
    return KNOWN_BASE_MODEL_LICENSES.get(base_model) if base_model else None


def license_note(base_model: str | None) -> str | None:
    """Why `base_model`'s licence is not inherited, when the table has a note for it."""
    if not base_model:
        return None
    return next((note for pattern, note in LICENSE_NOTES.items() if pattern.fullmatch(base_model)), None)


def check_license_id(license: str | None, flag: str = "--license") -> str | None:
    """A Hub licence identifier (`"mit"`, `"apache-2.0"`, `"other"`...) or `None`; [`SLLMLicenseError`] otherwise."""
    if license is None:
        return None
    if not isinstance(license, str) or _LICENSE_ID.fullmatch(license) is None:
        raise SLLMLicenseError(
            f"{flag} {license!r} is not a Hub licence identifier (lower case, e.g. 'mit', 'apache-2.0', "
            "'cc-by-4.0', 'other'; see https://huggingface.co/docs/hub/repositories-licenses)."
        )
    return license


def missing_license_message(base_model: str | None, flag: str = "--license") -> str:
    """The error of a card that would be published without a licence."""
    if base_model:
        note = license_note(base_model) or "its licence is not in the table of known base models"
        origin = f"The base model {base_model} does not give this model a licence: {note}."
    else:
        origin = "The model names no Hub base model (its CLIP checkpoint is a local folder), so none is inherited."
    return (
        f"A model card needs a licence to be published. {origin} Pass {flag} with the licence of your model "
        f"(e.g. {flag} mit or {flag} apache-2.0, compatible with the base model's and the training data's terms)."
    )

# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
Write a model card for a saved SLLM folder and upload the folder to the Hugging Face Hub (`sllm-push-to-hub`, or
`python3 scripts/push_to_hub.py`).

    sllm-push-to-hub --model_dir sllm-hmdb51-vit-b32 --repo_id my-org/sllm-hmdb51-vit-b32 \
        --evaluation_files eval_hmdb51.json --license mit

The card (hub_cards/sllm_model_card.md) is filled from the folder's config and the results files written by
scripts/eval.py (or the Trainer's eval_results.json, with --dataset_name); its model-index metadata carries the
results. The folder is checked first (config.json with auto_map, the modeling code for trust_remote_code, safetensors
weights, the video processor). `--dry_run` writes the card and lists the files without uploading. The token comes from
`--token` or the saved `huggingface-cli login`.
"""

import logging
from dataclasses import dataclass, field

from transformers import HfArgumentParser

from modeling_sllm.evaluation.results import SLLMDatasetInfo
from modeling_sllm.publishing.hub_folder import prepare_hub_folder
from modeling_sllm.publishing.model_card import build_model_card
from modeling_sllm.publishing.upload import push_to_hub

logger = logging.getLogger("push_to_hub")


@dataclass
class PushArguments:
    model_dir: str = field(metadata={"help": "Folder written by save_pretrained (with the video processor)."})
    repo_id: str = field(metadata={"help": "Target repository, 'org/name'."})
    evaluation_files: list[str] = field(
        default_factory=list,
        metadata={"help": "Results to report in the card: results.json of scripts/eval.py or eval_results.json."},
    )
    dataset_name: str | None = field(
        default=None, metadata={"help": "Evaluated dataset of Trainer eval_results.json files (they do not name it)."}
    )
    dataset_config_name: str | None = field(default=None, metadata={"help": "Its configuration, e.g. 'split1'."})
    dataset_split: str = field(default="validation", metadata={"help": "Its evaluated split."})
    model_name: str | None = field(default=None, metadata={"help": "Name in the card (default: the repo name)."})
    license: str | None = field(default=None, metadata={"help": "Licence id for the card metadata, e.g. 'mit'."})
    base_model: str | None = field(default=None, metadata={"help": "Base model id (default: the CLIP checkpoint)."})
    datasets: list[str] | None = field(default=None, metadata={"help": "Hub dataset ids (default: evaluated ones)."})
    template_path: str | None = field(default=None, metadata={"help": "Jinja card template (default: hub_cards/)."})
    token: str | None = field(default=None, metadata={"help": "Hub token (default: the saved login)."})
    private: bool = field(default=False, metadata={"help": "Create the repository as private."})
    commit_message: str = field(default="Upload SLLM video classifier", metadata={"help": "Commit message."})
    revision: str | None = field(default=None, metadata={"help": "Branch to push to (created if missing)."})
    create_pr: bool = field(default=False, metadata={"help": "Open a pull request instead of committing."})
    keep_readme: bool = field(default=False, metadata={"help": "Keep the folder's README.md instead of a new card."})
    dry_run: bool = field(default=False, metadata={"help": "Check the folder and write the card; do not upload."})


def main(argv: list[str] | None = None):
    (args,) = HfArgumentParser(PushArguments).parse_args_into_dataclasses(args=argv)
    card = None
    if not args.keep_readme:
        dataset = None
        if args.dataset_name:
            dataset = SLLMDatasetInfo(args.dataset_name, split=args.dataset_split, config=args.dataset_config_name)
        card = build_model_card(
            args.model_dir,
            evaluations=args.evaluation_files,
            dataset=dataset,
            repo_id=args.repo_id,
            model_name=args.model_name,
            license=args.license,
            base_model=args.base_model,
            datasets=args.datasets,
            template_path=args.template_path,
        )
    if args.dry_run:
        prepared = prepare_hub_folder(args.model_dir, card=card)
        logger.info(f"Dry run: would upload to {args.repo_id}:\n  " + "\n  ".join(prepared.files))
        return prepared
    commit = push_to_hub(
        args.model_dir,
        args.repo_id,
        card=card,
        token=args.token,
        private=args.private,
        commit_message=args.commit_message,
        revision=args.revision,
        create_pr=args.create_pr,
    )
    logger.info(f"Uploaded to {args.repo_id}: {getattr(commit, 'commit_url', commit)}")
    return commit


def cli() -> None:
    """Console-script entry point: [`main`] on the command line's arguments (its result is for Python callers)."""
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    main()


if __name__ == "__main__":
    cli()

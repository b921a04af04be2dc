# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
Write a model card for a saved SLLM folder and upload the folder to the Hugging Face Hub (`sllm-push-to-hub`, or
`python3 scripts/push_to_hub.py`), optionally with a Gradio Space demo next to it.

    sllm-push-to-hub --model_dir sllm-hmdb51-vit-b32 --repo_id my-org/sllm-hmdb51-vit-b32 \
        --evaluation_files eval_hmdb51/results.json --license mit --space my-org/sllm-hmdb51-demo

The card (hub_cards/sllm_model_card.md) is filled from the folder's config, the results files (results.json of
scripts/eval.py, or the Trainer's eval_results.json) and, for a folder written by scripts/train.py, its
training_report.json (recipe, results, licence). A card needs a licence: `--license`, the one given to train.py, or
the base model's when it is known. The folder is checked first (config.json with auto_map, the modeling code for
trust_remote_code, safetensors weights, the video processor). `--dry_run` writes the card and lists the files without
uploading. The token comes from `--token` or the saved `hf auth login`.
"""

import logging
import sys
from dataclasses import dataclass, field

from transformers import HfArgumentParser

from modeling_sllm.evaluation.results import SLLMDatasetInfo, SLLMResultsError
from modeling_sllm.publishing.hub_folder import SLLMHubError, prepare_hub_folder
from modeling_sllm.publishing.model_card import build_model_card
from modeling_sllm.publishing.remote_pipeline import add_pipeline_to_folder
from modeling_sllm.publishing.space import prepare_space, push_space
from modeling_sllm.publishing.upload import push_to_hub
from modeling_sllm.cli.parsing import parse_args_with_yaml

logger = logging.getLogger("push_to_hub")

DESCRIPTION = """\
Check a saved SLLM model folder, write its model card (README.md: usage, model details, training recipe, results as
model-index metadata, limitations, licence) and upload it to a Hugging Face Hub model repository; with --space, also
create or update a Gradio Space that demos it. Results come from scripts/eval.py's results.json or the Trainer's
eval_results.json (the dataset named by --dataset_name, or by the folder's training_report.json). A card needs a
licence: --license, the one given to scripts/train.py, or the base model's when it is known. `--config file.yaml`
gives any option below from YAML; the command line overrides it."""

EXAMPLES = """\
examples:
  python scripts/push_to_hub.py --model_dir outputs/sllm-hmdb51 --repo_id org/sllm-hmdb51 --license mit --dry_run
  python scripts/push_to_hub.py --model_dir outputs/sllm-hmdb51 --repo_id org/sllm-hmdb51 --license mit \\
      --evaluation_files outputs/eval-hmdb51/results.json --space org/sllm-hmdb51-demo"""


@dataclass
class PushArguments:
    """The folder, its card and the Hub repositories."""

    model_dir: str = field(metadata={"help": "Folder written by save_pretrained (with the video processor)."})
    repo_id: str = field(metadata={"help": "Target model repository, 'org/name'."})
    evaluation_files: list[str] = field(
        default_factory=list,
        metadata={
            "help": "Results to report in the card: results.json of scripts/eval.py or the Trainer's "
            "eval_results.json. Default: the results of the training run (training_report.json), if any."
        },
    )
    dataset_name: str | None = field(
        default=None,
        metadata={
            "help": "Evaluated dataset of Trainer eval_results.json files, which do not name it (default: the one "
            "training_report.json records)."
        },
    )
    dataset_config_name: str | None = field(default=None, metadata={"help": "Its configuration, e.g. 'split1'."})
    dataset_split: str = field(default="validation", metadata={"help": "Its evaluated split."})
    model_name: str | None = field(default=None, metadata={"help": "Name in the card (default: the repo name)."})
    license: str | None = field(
        default=None,
        metadata={
            "help": "Hub licence id of the model, e.g. 'mit' or 'apache-2.0'. Default: the one given to train.py, "
            "else the base model's when it is known. Without any, the card is refused."
        },
    )
    base_model: str | None = field(
        default=None, metadata={"help": "Base model id (default: the CLIP checkpoint the model was trained from)."}
    )
    datasets: list[str] | None = field(default=None, metadata={"help": "Hub dataset ids (default: the known ones)."})
    template_path: str | None = field(default=None, metadata={"help": "Jinja card template (default: hub_cards/)."})
    token: str | None = field(default=None, metadata={"help": "Hub token (default: the saved login)."})
    private: bool = field(default=False, metadata={"help": "Create the repositories as private."})
    commit_message: str = field(default="Upload SLLM video classifier", metadata={"help": "Commit message."})
    revision: str | None = field(default=None, metadata={"help": "Branch to push to (created if missing)."})
    create_pr: bool = field(default=False, metadata={"help": "Open a pull request instead of committing."})
    keep_readme: bool = field(
        default=False, metadata={"help": "Keep the folder's README.md (it must name a licence) instead of a new card."}
    )
    space: str | None = field(
        default=None,
        metadata={
            "help": "Also create or update this Gradio Space ('org/name') with the demo app of hub_cards/space/, "
            "showing repo_id (its card's models: field)."
        },
    )
    space_examples: list[str] = field(
        default_factory=list, metadata={"help": "Video clips uploaded to the Space as its examples/."}
    )
    dry_run: bool = field(
        default=False, metadata={"help": "Check the folder (and Space files) and write the card; upload nothing."}
    )
    batching_pipeline: bool = field(
        default=False,
        metadata={
            "help": "Also write pipeline_sllm.py and config.json's custom_pipelines entry into the folder, so that "
            "pipeline('video-classification', model=repo_id, trust_remote_code=True, batch_size=8) batches from the "
            "Hub without the package. transformers then asks trust_remote_code=True for this repo's pipeline "
            "everywhere."
        },
    )


def build_parser() -> HfArgumentParser:
    """The parser of `scripts/push_to_hub.py`: its help starts with the description."""
    return HfArgumentParser(PushArguments, description=DESCRIPTION, epilog=EXAMPLES)


def main(argv: list[str] | None = None):
    """Runs the command; returns the prepared folder (`--dry_run`) or the commit (and the Space's, with `--space`)."""
    (args,) = parse_args_with_yaml(build_parser(), argv)
    card = None
    if not args.keep_readme:
        dataset = None
        if args.dataset_name:
            dataset = SLLMDatasetInfo(args.dataset_name, split=args.dataset_split, config=args.dataset_config_name)
        card = build_model_card(
            args.model_dir,
            evaluations=args.evaluation_files or None,
            dataset=dataset,
            repo_id=args.repo_id,
            model_name=args.model_name,
            license=args.license,
            base_model=args.base_model,
            datasets=args.datasets,
            template_path=args.template_path,
            require_license=True,
        )
    if args.batching_pipeline:
        written = add_pipeline_to_folder(args.model_dir)
        logger.info(f"Batching pipeline added to {args.model_dir}: " + ", ".join(path.name for path in written))
    space = prepare_space(args.space, args.repo_id, examples=args.space_examples) if args.space else None
    if args.dry_run:
        prepared = prepare_hub_folder(args.model_dir, card=card)
        logger.info(f"Dry run: would upload to {args.repo_id}:\n  " + "\n  ".join(prepared.files))
        if space is not None:
            logger.info(f"Dry run: would upload to the Space {args.space}:\n  " + "\n  ".join(space.files))
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
    if space is None:
        return commit
    if args.private:
        logger.warning(
            f"{args.repo_id} is private: the Space needs a read token as its HF_TOKEN secret to load it (Space "
            "settings); this command never uploads your token."
        )
    space_commit = push_space(
        args.space, args.repo_id, token=args.token, private=args.private, examples=args.space_examples
    )
    logger.info(f"Space {args.space} updated: {getattr(space_commit, 'commit_url', space_commit)}")
    return commit, space_commit


def cli() -> None:
    """Console-script entry point: [`main`] on the command line's arguments; a folder, card or results problem ends
    with its message (exit status 1) instead of a traceback."""
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    try:
        main()
    except (SLLMHubError, SLLMResultsError) as error:
        sys.exit(f"push_to_hub: error: {error}")


if __name__ == "__main__":
    cli()

"""The model card scripts/train.py writes into output_dir (metadata, recipe, results, licence rule), names from files
escaped for Markdown and HTML, and the card tool's clear errors on bad input. Every card is validated with
huggingface_hub's ModelCard / metadata_load and its model-index parser."""

import json
import re
from types import SimpleNamespace
from unittest import mock

import numpy as np
import pytest
from huggingface_hub import ModelCard, metadata_load
from huggingface_hub.repocard_data import model_index_to_eval_results

from modeling_sllm import SLLMVideoProcessor
from modeling_sllm.data.arguments import SLLMDataArguments
from modeling_sllm.demo.tiny_clip import save_tiny_random_clip
from modeling_sllm.publishing import push_cli
from modeling_sllm.publishing.card_text import code_span, markdown_text
from modeling_sllm.publishing.hub_folder import SLLMHubError
from modeling_sllm.publishing.licenses import SLLMLicenseError
from modeling_sllm.publishing.model_card import build_model_card
from modeling_sllm.publishing.training_card import (
    TRAINING_REPORT_NAME,
    SLLMCardArguments,
    SLLMTrainingReport,
    resolve_training_license,
    run_dataset_info,
)
from modeling_sllm.training import cli as train_script
from sllm_testing import tiny_model


HOSTILE_LABELS = [
    "ride|bike",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "jump\n---\n# heading",
    "*bold* `code` & \"quotes\" 'single'",
    "- list item",
]


def validate_card(path) -> dict:
    """The card parses with ModelCard and metadata_load, and its model-index with huggingface_hub's own parser."""
    card = ModelCard.load(path)
    metadata = metadata_load(path)
    assert metadata["pipeline_tag"] == "video-classification" and metadata["library_name"] == "transformers"
    assert "{{" not in card.text and "{%" not in card.text
    if "model-index" in metadata:
        name, results = model_index_to_eval_results(metadata["model-index"])
        assert name == card.data.model_name and results
        assert all(result.task_type == "video-classification" for result in results)
    return metadata


def rendered_html(markdown: str) -> str:
    markdown_it = pytest.importorskip("markdown_it")
    return markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown)


# ------------------------------------------------------------------------------------------------------------------
# The card of a training run


def _moving_square(num_frames: int, direction: int, size: int = 40) -> list[np.ndarray]:
    frames = []
    for t in range(num_frames):
        frame = np.full((size, size, 3), 40, dtype=np.uint8)
        x = 4 + t if direction > 0 else size - 14 - t
        frame[14:26, x : x + 10] = (230, 80, 40)
        frames.append(frame)
    return frames


@pytest.fixture(scope="module")
def tiny_clip_dir(tmp_path_factory):
    return save_tiny_random_clip(tmp_path_factory.mktemp("clip") / "tiny-clip")


@pytest.fixture
def list_dataset(tmp_path, make_video):
    """data/hmdb51/{videos/, train.txt, validation.txt, labels.txt}: annotation lists, two classes with odd names."""
    root = tmp_path / "data" / "hmdb51"
    (root / "videos").mkdir(parents=True)
    lines = {"train": [], "validation": []}
    for label, direction in ((0, -1), (1, 1)):
        for split, count in (("train", 2), ("validation", 1)):
            for i in range(count):
                name = f"videos/{split}_{label}_{i}.mp4"
                make_video(f"data/hmdb51/{name}", frames=_moving_square(12, direction))
                lines[split].append(f"{name.split('/', 1)[1]} 12 {label}")
    for split, split_lines in lines.items():
        (root / f"{split}.txt").write_text("\n".join(split_lines) + "\n")
    (root / "labels.txt").write_text("0;ride|bike\n1;<img src=x onerror=alert(1)>\n")
    return root


def _train_args(tiny_clip_dir, root, output_dir, *extra):
    return [
        "--clip_model_name_or_path", str(tiny_clip_dir),
        "--train_list", str(root / "train.txt"),
        "--validation_list", str(root / "validation.txt"),
        "--data_root", str(root / "videos"),
        "--label_file", str(root / "labels.txt"),
        "--output_dir", str(output_dir),
        "--num_frames", "2", "--keep_interval", "2",
        "--restoration_num_layers", "1", "--temporal_num_layers", "1",
        "--per_device_train_batch_size", "2", "--per_device_eval_batch_size", "2",
        "--learning_rate", "1e-3", "--max_steps", "2",
        "--do_train", "--do_eval", "--eval_strategy", "no", "--save_strategy", "no",
        "--report_to", "none", "--use_cpu", "--dataloader_num_workers", "0", "--disable_tqdm", "true",
        *extra,
    ]  # fmt: skip


def test_train_writes_a_complete_valid_card_with_recipe_results_and_licence(tiny_clip_dir, list_dataset, tmp_path):
    output_dir = tmp_path / "run"
    results = train_script.main(_train_args(tiny_clip_dir, list_dataset, output_dir, "--license", "apache-2.0"))
    readme = output_dir / "README.md"
    metadata = validate_card(readme)

    # YAML: licence, no base_model for a local CLIP folder, no Hub dataset for annotation lists, the run's results
    assert metadata["license"] == "apache-2.0" and "base_model" not in metadata and "datasets" not in metadata
    assert metadata["model-index"][0]["name"] == "run" and {"sllm", "video-classification"} <= set(metadata["tags"])
    _, eval_results = model_index_to_eval_results(metadata["model-index"])
    by_metric = {result.metric_type: result for result in eval_results}
    assert by_metric["accuracy"].metric_value == round(100 * results["eval_top1"], 2)
    assert by_metric["accuracy"].dataset_type == "hmdb51" and by_metric["accuracy"].dataset_name == "HMDB-51"
    assert by_metric["accuracy"].dataset_split == "validation"
    assert "validation.txt" not in readme.read_text()

    # body: usage (pipeline, Auto classes, AutoModel note, remote code), recipe, results, limitations, licence
    text = ModelCard.load(readme).text
    for needed in (
        'pipeline("video-classification", model="<org>/run", trust_remote_code=True)',
        'AutoModelForVideoClassification.from_pretrained("<org>/run", trust_remote_code=True)',
        "gives `SLLMModel`, the video embedding model",
        "## Training",
        "| Frames | 4 sampled per video (TSN segments), 2 decoded and encoded: keep 1 in 2, 1 restored |",
        "| Epochs |",
        "2 optimiser steps of 2 videos, 1 device(s)",
        "| Learning rate | 0.001 for the new modules, 0.0001 for the CLIP vision tower; `cosine` schedule",
        "weight decay 0.2",
        "| HMDB-51 | validation | 2 | 1 x 1 |",
        "## Limitations",
        "## License\n\n`apache-2.0`.",
    ):
        assert needed in text, needed
    assert re.search(r"\| Optimiser \| `adamw_torch\w*` \(betas \(0\.9, 0\.999\), eps 1e-08\)", text)

    # labels from the label file reach the card as text only
    assert r"| Classes | 2: ride\|bike, &lt;img src=x onerror=alert(1)&gt; |" in text
    html = rendered_html(text)
    assert "<img" not in html and "onerror=alert(1)&gt;" in html

    # the recorded run: push_to_hub.py rebuilds the same card from the folder (results, licence, recipe)
    report = SLLMTrainingReport.load(output_dir / TRAINING_REPORT_NAME)
    assert report.license == "apache-2.0" and report.train_dataset["name"] == "hmdb51"
    assert report.recipe["steps"] == 2 and report.recipe["keep_interval"] == 2
    rebuilt = build_model_card(output_dir, repo_id="my-org/run", require_license=True)
    assert rebuilt.data.license == "apache-2.0"
    assert [r.metric_value for r in rebuilt.data.eval_results] == [r.metric_value for r in eval_results]
    assert "## Training" in rebuilt.text and 'model="my-org/run"' in rebuilt.text

    # the Trainer's own eval_results.json is accepted like eval.py's results: the dataset comes from the report
    push_cli.main(
        ["--model_dir", str(output_dir), "--repo_id", "my-org/run",
         "--evaluation_files", str(output_dir / "eval_results.json"), "--dry_run"]
    )  # fmt: skip
    pushed = validate_card(readme)
    _, pushed_results = model_index_to_eval_results(pushed["model-index"])
    assert pushed_results[0].dataset_type == "hmdb51"
    assert pushed_results[0].metric_value == by_metric["accuracy"].metric_value


def test_push_to_hub_without_a_licence_fails_before_training(tiny_clip_dir, list_dataset, tmp_path):
    output_dir = tmp_path / "never"
    with mock.patch("modeling_sllm.publishing.upload.HfApi") as api_class, mock.patch.object(
        train_script, "load_video_datasets"
    ) as load_data:
        with pytest.raises(SLLMLicenseError, match=r"Pass --license .*checked before training starts"):
            train_script.main(
                _train_args(tiny_clip_dir, list_dataset, output_dir, "--push_to_hub", "--hub_model_id", "org/x")
            )
    load_data.assert_not_called()  # refused before the data, the model or any training step
    api_class.assert_not_called()
    assert not (output_dir / "model.safetensors").exists()


def test_the_licence_rule_at_start_up():
    model = SimpleNamespace(model_name_or_path=None, clip_model_name_or_path="openai/clip-vit-base-patch32")
    # OpenAI's checkpoints declare no licence on the Hub: nothing is inherited, the error says why and names --license
    with pytest.raises(SLLMLicenseError, match=r"openai/clip-vit-base-patch32 .*declares no licence.*--license"):
        resolve_training_license(SLLMCardArguments(), model, push_to_hub=True, hub_model_id="org/x")
    assert resolve_training_license(SLLMCardArguments(), model, push_to_hub=False) is None  # local card: a warning
    assert resolve_training_license(SLLMCardArguments(license="mit"), model, True, "org/x") == "mit"
    laion = SimpleNamespace(model_name_or_path=None, clip_model_name_or_path="laion/CLIP-ViT-B-32-laion2B-s34B-b79K")
    assert resolve_training_license(SLLMCardArguments(), laion, True, "org/x") == "mit"  # declared by the base model
    with pytest.raises(SLLMHubError, match="is not a Hub licence identifier"):
        resolve_training_license(SLLMCardArguments(license="MIT License"), model)
    with pytest.raises(SLLMHubError, match="--hub_model_id org/name"):
        resolve_training_license(SLLMCardArguments(license="mit"), model, True, "just-a-name")


def test_dataset_names_of_a_run(tmp_path):
    hub = SLLMDataArguments(dataset_name="my-org/ucf101-clips", dataset_config_name="split1", validation_split="test")
    assert run_dataset_info(hub, "validation", 5, 3) == run_dataset_info(hub, "validation", 5, 3)
    info = run_dataset_info(hub, "validation", 5, 3)
    assert (info.name, info.config, info.split, info.num_videos) == ("my-org/ucf101-clips", "split1", "test", 5)
    lists = SLLMDataArguments(
        train_list="data/hmdb51/train.txt",
        validation_list="data/hmdb51/validation.txt",
        data_root="data/hmdb51/videos",
    )
    assert run_dataset_info(lists, "validation", 2, 2).name == "hmdb51"
    only_list = SLLMDataArguments(validation_list="annotations/ucf101/val_split1.txt")
    assert run_dataset_info(only_list, "validation", 2, 2).name == "ucf101"
    generic = SLLMDataArguments(validation_list="data/val.txt", data_root="data/videos")
    assert run_dataset_info(generic, "validation", 2, 2).name == "custom"


# ------------------------------------------------------------------------------------------------------------------
# Escaping and bad input


@pytest.fixture
def hostile_model_dir(tmp_path):
    folder = tmp_path / "hostile"
    model = tiny_model(seed=1, id2label=dict(enumerate(HOSTILE_LABELS)))
    model.save_pretrained(folder)
    SLLMVideoProcessor.from_model_config(model.config).save_pretrained(folder)
    return folder


def _evaluation(names):
    return {
        "model": "m",
        "dataset": {
            "name": "hmdb51|<img src=y onerror=alert(2)>\n---",
            "config": "split1",
            "split": "validation",
            "num_videos": 60,
        },
        "views": {"num_clips": 1, "num_crops": 1},
        "metrics": {"top1": 0.5, "top5": 0.9, "mean_class_accuracy": 0.5},
        "per_class": [{"id": i, "name": name, "accuracy": 0.1 * i, "support": 10} for i, name in enumerate(names)],
        "fidelity": {"methods": {"<script>x</script>": {"centred_cosine": 0.5}}},
        "throughput": {"device": "cpu<b>", "batch_size": 2, "model_videos_per_s": 1.0, "end_to_end_videos_per_s": 0.5},
    }


def test_names_with_markdown_html_and_yaml_characters_stay_text(hostile_model_dir, tmp_path):
    card = build_model_card(
        hostile_model_dir,
        [_evaluation(HOSTILE_LABELS)],
        model_name="name: with\n---\nyaml: [chars] <b>",
        license="mit",
    )
    path = tmp_path / "README.md"
    card.save(path)
    metadata = validate_card(path)  # the YAML stays valid and one-line
    assert metadata["model-index"][0]["name"] == "name: with --- yaml: [chars] <b>"
    assert metadata["model-index"][0]["results"][0]["dataset"]["name"] == "hmdb51|<img src=y onerror=alert(2)> ---"

    text = ModelCard.load(path).text
    html = rendered_html(text)
    assert "<img" not in html and "<script" not in html and "<b>" not in html
    assert 'href="javascript' not in html and "<h1>heading" not in html and "<em>bold" not in html
    # every table row keeps its columns: no label or dataset name split a row
    for table in re.findall(r"<table>.*?</table>", html, flags=re.S):
        widths = {len(re.findall(r"<t[hd]>", row)) for row in re.findall(r"<tr>.*?</tr>", table, flags=re.S)}
        assert len(widths) == 1, widths
    # and the names read as they were written (on one line)
    assert "ride|bike" in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "[click](javascript:alert(1))" in html and "jump --- # heading" in html
    assert "*bold* `code` &amp; &quot;quotes&quot;" in html
    assert "Hardest classes on hmdb51|&lt;img src=y onerror=alert(2)&gt; --- (split1)" in html


def test_markdown_text_and_code_span():
    assert markdown_text("a|b") == r"a\|b"
    assert markdown_text("x\r\ny\u2028z") == "x y z"
    assert markdown_text("---") == r"\---" and markdown_text("1. first") == r"1\. first"
    assert markdown_text("<a href='javascript:x'>") == "&lt;a href=&#x27;javascript:x&#x27;&gt;"
    assert code_span("openai/clip-vit-base-patch32") == "`openai/clip-vit-base-patch32`"
    assert code_span("a`b") == r"a\`b" and code_span("a|b", in_table=True) == r"`a\|b`"


def test_bad_input_gives_clear_errors_and_no_broken_card(hostile_model_dir, tmp_path, capsys):
    readme = hostile_model_dir / "README.md"
    empty = tmp_path / "results.json"
    empty.write_text("")
    with pytest.raises(SLLMHubError, match=r"Results file .*results.json' is empty"):
        build_model_card(hostile_model_dir, [empty], license="mit")
    trainer_file = tmp_path / "eval_results.json"
    trainer_file.write_text(json.dumps({"eval_top1": 0.5, "eval_mean_class_accuracy": 0.5}))
    with pytest.raises(SLLMHubError, match="Trainer metrics file .*--dataset_name"):
        build_model_card(hostile_model_dir, [trainer_file], license="mit")

    (hostile_model_dir / "video_preprocessor_config.json").unlink()
    with pytest.raises(SLLMHubError, match=r"has no video_preprocessor_config.json: .*SLLMVideoProcessor"):
        build_model_card(hostile_model_dir, license="mit")

    # the command line: one clear line, exit status 1, no traceback, no card written
    argv = ["push_to_hub.py", "--model_dir", str(hostile_model_dir), "--repo_id", "org/x", "--dry_run"]
    with mock.patch("sys.argv", argv), pytest.raises(SystemExit) as exit_info:
        push_cli.cli()
    assert str(exit_info.value).startswith("push_to_hub: error: ") and "video_preprocessor_config.json" in str(
        exit_info.value
    )
    assert not readme.exists()


def test_a_card_without_a_licence_is_refused_and_the_usage_snippets_run(tmp_path, video_path):
    folder = tmp_path / "plain"
    model = tiny_model(seed=2)
    model.save_pretrained(folder)
    SLLMVideoProcessor.from_model_config(model.config).save_pretrained(folder)
    with pytest.raises(SLLMLicenseError, match="Pass --license"):
        build_model_card(folder, require_license=True)
    with pytest.raises(SLLMHubError, match="Pass --license"):
        push_cli.main(["--model_dir", str(folder), "--repo_id", "org/x", "--dry_run"])
    assert not (folder / "README.md").exists()
    # a hand-written README.md without a licence is refused too (--keep_readme), and with none at all
    with pytest.raises(SLLMHubError, match="has no README.md model card"):
        push_cli.main(["--model_dir", str(folder), "--repo_id", "org/x", "--keep_readme", "--dry_run"])
    (folder / "README.md").write_text("---\ntags: [x]\n---\n# my model\n")
    with pytest.raises(SLLMHubError, match=r"README.md' has no licence in its metadata.*--license"):
        push_cli.main(["--model_dir", str(folder), "--repo_id", "org/x", "--keep_readme", "--dry_run"])
    # the card's usage snippets run as written (with the folder as the repository)
    card = build_model_card(folder, repo_id="org/x", license="mit")
    snippets = re.findall(r"```python\n(.*?)```", card.text, flags=re.S)
    assert len(snippets) == 2
    for snippet in snippets:
        code = snippet.replace('"org/x"', repr(str(folder))).replace('"my_video.mp4"', repr(str(video_path)))
        namespace = {}
        exec(compile(code, "card snippet", "exec"), namespace)
    assert namespace["logits"].shape == (1, model.config.num_labels)  # the Auto-classes snippet classified it

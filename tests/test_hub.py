"""Model cards (template + model-index metadata) and Hub uploads, with HfApi mocked: nothing leaves the machine."""

import json
import os
from pathlib import Path
from unittest import mock

import pytest
from huggingface_hub import ModelCard, metadata_load
from huggingface_hub.utils import filter_repo_objects

from modeling_sllm import SLLMVideoProcessor
from modeling_sllm.evaluation.results import SLLMDatasetInfo, SLLMResults
from modeling_sllm.publishing import push_cli
from modeling_sllm.publishing.hub_folder import (
    HUB_IGNORE_PATTERNS,
    SLLMHubError,
    check_processor_matches_config,
    prepare_hub_folder,
)
from modeling_sllm.publishing.model_card import build_model_card, find_template, load_results, results_to_eval_results
from modeling_sllm.publishing.upload import push_to_hub
from sllm_testing import tiny_config, tiny_model

ROOT = Path(__file__).resolve().parents[1]
# what save_pretrained + the processor write: weights, configs and the remote-code files (named, plus whatever else
# the model files import relatively)
MODEL_FILES = {
    "config.json",
    "model.safetensors",
    "video_preprocessor_config.json",
    "configuration_sllm.py",
    "modeling_sllm.py",
    "video_processing_sllm.py",
}


def _saved_files(folder) -> set[str]:
    return {path.relative_to(folder).as_posix() for path in Path(folder).rglob("*") if path.is_file()}


def evaluation(**overrides):
    result = {
        "model": "out/sllm-hmdb51",
        "dataset": {
            "name": "hmdb51",
            "config": "split1",
            "split": "validation",
            "num_videos": 1530,
            "num_classes": 51,
        },
        "views": {"num_clips": 1, "num_crops": 1},
        "zero_shot": False,
        "metrics": {"top1": 0.81546, "top5": 0.9712, "mean_class_accuracy": 0.8098},
        "per_class": [{"id": i, "name": f"class_{i}", "accuracy": 0.5 + 0.05 * i, "support": 30} for i in range(8)]
        + [{"id": 8, "name": "class_without_videos", "accuracy": None, "support": 0}],
        "throughput": {
            "device": "cpu",
            "batch_size": 4,
            "model_videos_per_s": 12.3456,
            "end_to_end_videos_per_s": 7.891,
        },
        "fidelity": {
            "num_videos": 12,
            "methods": {
                "restored": {"centred_cosine": 0.91234, "cosine": 0.99, "mse": 0.1},
                "linear_interpolation": {"centred_cosine": 0.88, "cosine": 0.98, "mse": 0.2},
            },
            "best_method": "restored",
        },
    }
    result.update(overrides)
    return result


@pytest.fixture
def model_dir(tmp_path):
    folder = tmp_path / "sllm-tiny"
    model = tiny_model(seed=3)
    model.save_pretrained(folder)
    SLLMVideoProcessor.from_model_config(model.config).save_pretrained(folder)
    assert MODEL_FILES <= _saved_files(folder)
    return folder


@pytest.fixture
def eval_file(tmp_path):
    path = tmp_path / "eval_hmdb51.json"
    path.write_text(json.dumps(evaluation()))
    return path


def test_card_metadata_parses_back_with_the_model_index(model_dir, eval_file, tmp_path):
    zero_shot = evaluation(zero_shot=True, views={"num_clips": 2, "num_crops": 3}, throughput=None, fidelity=None)
    zero_shot["dataset"] = dict(zero_shot["dataset"], name="my-org/ucf101-clips", config=None, split="test")
    card = build_model_card(model_dir, [eval_file, zero_shot], repo_id="my-org/sllm-tiny", license="mit")
    path = tmp_path / "README.md"
    card.save(path)

    loaded = ModelCard.load(path)
    assert loaded.data.pipeline_tag == "video-classification" and loaded.data.library_name == "transformers"
    assert loaded.data.license == "mit" and loaded.data.model_name == "sllm-tiny"
    # only org/name Hub ids go to `datasets:` (a bare "hmdb51" may be a local folder's name)
    assert loaded.data.datasets == ["my-org/ucf101-clips"] and "sllm" in loaded.data.tags
    results = {(r.dataset_type, r.metric_type): r for r in loaded.data.eval_results}
    assert len(results) == 6
    top1 = results[("hmdb51", "accuracy")]
    assert top1.metric_value == 81.55 and top1.task_type == "video-classification"
    assert (top1.dataset_name, top1.dataset_config, top1.dataset_split) == ("HMDB-51", "split1", "validation")
    assert top1.metric_name == "Top-1 Accuracy (1x1 views)"
    assert results[("hmdb51", "top_5_accuracy")].metric_value == 97.12
    zero_shot_name = results[("my-org/ucf101-clips", "mean_class_accuracy")].metric_name
    assert zero_shot_name == "Mean Class Accuracy (2x3 views, zero-shot)"

    metadata = metadata_load(path)
    model_index = metadata["model-index"]
    assert model_index[0]["name"] == "sllm-tiny"
    first = model_index[0]["results"][0]
    assert first["task"]["type"] == "video-classification" and first["dataset"]["type"] == "hmdb51"
    assert {"type": "accuracy", "value": 81.55, "name": "Top-1 Accuracy (1x1 views)"}.items() <= first["metrics"][
        0
    ].items()


def test_card_text_has_task_efficiency_results_uses_limits_and_citation(model_dir, eval_file):
    text = str(build_model_card(model_dir, [eval_file], repo_id="my-org/sllm-tiny"))
    assert 'pipeline("video-classification", model="my-org/sllm-tiny", trust_remote_code=True)' in text
    assert "| HMDB-51 (split1) | validation | 1530 | 1 x 1 | 81.55% | 97.12% | 80.98% |" in text
    assert "4 of the 8 sampled frames (50% of the encoder work" in text and "ideal speed-up of 2x" in text
    assert "12.35 videos/s for the model alone" in text
    assert "Hardest classes on HMDB-51 (split1), validation split: class\\_0 50.0% (30 videos)" in text
    assert "true features of the skipped frames: restored 0.912, linear interpolation 0.880 (best: restored)" in text
    assert "| Top-1 | Top-5 | Mean class accuracy |" in text
    assert "3 classes" in text and "walk, run, jump" in text
    for heading in ("## Intended use", "## Limitations", "## Efficiency", "## Citation"):
        assert heading in text
    assert "Sample Less, Learn More: Efficient Action Recognition via Frame Feature Restoration" in text
    assert "2307.14866" in text and "ACM MM" in text
    assert "{{" not in text and "{%" not in text


def test_card_without_results_and_for_a_converted_checkpoint(model_dir):
    (model_dir / "conversion_report.json").write_text(
        json.dumps({"checkpoint": "/downloads/last_model.pt", "sha256": "ab" * 32, "epoch": 29})
    )
    card = build_model_card(model_dir)
    assert card.data.eval_results is None and card.data.model_name == "sllm-tiny"
    assert "No evaluation results were given" in card.text
    assert "released checkpoint `last_model.pt` (epoch 29)" in card.text and "ab" * 32 in card.text
    assert "resizes the short side to 37, centre-crops 32x32" in card.text

    (model_dir / "conversion_report.json").write_text(json.dumps({"checkpoint": "a.pt", "epochs": 3}))
    with pytest.raises(SLLMHubError, match=r"conversion_report.json': unknown fields \['epochs'\]"):
        build_model_card(model_dir)


def test_other_top_k_and_scalar_fidelity(model_dir):
    three = evaluation(metrics={"top1": 0.5, "top3": 0.75, "mean_class_accuracy": 0.5}, fidelity={"mse": 0.123456})
    card = build_model_card(model_dir, [three, evaluation()])
    assert [r.metric_type for r in card.data.eval_results[:3]] == ["accuracy", "top_3_accuracy", "mean_class_accuracy"]
    assert card.data.eval_results[1].metric_value == 75.0
    assert "| Top-1 | Top-k | Mean class accuracy |" in card.text and "| 50.00% | 75.00% (k=3) | 50.00% |" in card.text
    assert "Restoration fidelity on HMDB-51 (split1): mse = 0.1235." in card.text


def test_results_files_are_checked_by_the_results_schema_with_file_and_field_named(model_dir, tmp_path):
    with pytest.raises(SLLMHubError, match="missing field metrics.'mean_class_accuracy'"):
        load_results(evaluation(metrics={"top1": 0.5, "top5": 0.5}))
    wrong_scale = tmp_path / "percent.json"
    wrong_scale.write_text(json.dumps(evaluation(metrics={"top1": 81.5, "top5": 0.9, "mean_class_accuracy": 0.8})))
    with pytest.raises(SLLMHubError, match=r"percent.json: .*metrics.'top1' = 81.5 is not a fraction in \[0, 1\]"):
        build_model_card(model_dir, [wrong_scale])
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(SLLMHubError, match="bad.json' is not valid JSON"):
        load_results(bad)
    with pytest.raises(SLLMHubError, match="does not exist"):
        load_results(tmp_path / "missing.json")
    local = evaluation()
    local["dataset"] = dict(local["dataset"], name=str(tmp_path))
    assert results_to_eval_results(local)[0].dataset_type == tmp_path.name
    loaded = SLLMResults.from_dict(evaluation())
    assert load_results(loaded) is loaded


def test_trainer_eval_results_need_the_dataset_and_then_give_a_card(model_dir, tmp_path):
    trainer_file = tmp_path / "eval_results.json"
    trainer_file.write_text(
        json.dumps(
            {"epoch": 3.0, "eval_loss": 0.7, "eval_top1": 0.625, "eval_top5": 1.0, "eval_mean_class_accuracy": 0.6}
        )
    )
    with pytest.raises(SLLMHubError, match=r"eval_results.json is a Trainer metrics file.*dataset"):
        build_model_card(model_dir, [trainer_file])
    card = build_model_card(model_dir, [trainer_file], dataset=SLLMDatasetInfo(name="hmdb51", config="split1"))
    values = {r.metric_type: r.metric_value for r in card.data.eval_results}
    assert values == {"accuracy": 62.5, "top_5_accuracy": 100.0, "mean_class_accuracy": 60.0}
    assert card.data.eval_results[0].dataset_split == "validation" and card.data.datasets is None
    assert "| HMDB-51 (split1) | validation | ? | 1 x 1 | 62.50% | 100.00% | 60.00% |" in card.text

    # the same file through the command line, with the dataset named by flags
    push_cli.main(
        ["--model_dir", str(model_dir), "--repo_id", "my-org/sllm-tiny", "--evaluation_files", str(trainer_file),
         "--dataset_name", "ucf101", "--dataset_split", "test", "--license", "mit", "--dry_run"]
    )  # fmt: skip
    first = metadata_load(model_dir / "README.md")["model-index"][0]["results"][0]
    assert first["dataset"]["type"] == "ucf101" and first["dataset"]["split"] == "test"
    assert first["metrics"][0]["value"] == 62.5


def test_processor_config_agreement_is_one_check():
    config = tiny_config()
    saved = SLLMVideoProcessor.from_model_config(config).to_dict()
    check_processor_matches_config(saved, config)  # the processor of the config passes
    with pytest.raises(SLLMHubError, match=r"edited.json: keep_interval=3 but config.json has keep_interval=2"):
        check_processor_matches_config(dict(saved, keep_interval=3), config, "edited.json")
    with pytest.raises(SLLMHubError, match="crop_size {'height': 28, 'width': 28} but the vision tower expects 32x32"):
        check_processor_matches_config(dict(saved, crop_size={"height": 28, "width": 28}), config)


def test_template_is_found_in_a_checkout_and_in_an_installed_wheel(tmp_path):
    assert find_template() == ROOT / "hub_cards" / "sllm_model_card.md"
    installed = tmp_path / "site-packages" / "modeling_sllm"
    (installed / "hub_cards").mkdir(parents=True)
    (installed / "hub_cards" / "sllm_model_card.md").write_text("---\n{{ card_data }}\n---\n")
    assert find_template(installed) == installed / "hub_cards" / "sllm_model_card.md"
    # pyproject ships hub_cards/ inside the package as modeling_sllm.hub_cards
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"modeling_sllm.hub_cards" = "hub_cards"' in pyproject and '"*.md"' in pyproject


def test_prepare_hub_folder_writes_the_card_and_lists_the_upload(model_dir, eval_file):
    saved = _saved_files(model_dir)
    (model_dir / "checkpoint-10").mkdir()
    (model_dir / "checkpoint-10" / "optimizer.pt").write_bytes(b"0")
    (model_dir / "training_args.bin").write_bytes(b"0")
    card = build_model_card(model_dir, [eval_file], repo_id="my-org/sllm-tiny", license="mit")
    prepared = prepare_hub_folder(model_dir, card)
    assert set(prepared.files) == saved | {"README.md"}
    assert ModelCard.load(model_dir / "README.md").data.eval_results[0].metric_value == 81.55


@pytest.mark.parametrize(
    "breakage,message",
    [
        (lambda d: (d / "modeling_sllm.py").unlink(), r"lacks modeling_sllm\.py, needed by config\.json auto_map"),
        (lambda d: (d / "sampling.py").unlink(), r"lacks sampling\.py, needed by video_processing_sllm\.py"),
        (lambda d: (d / "model.safetensors").unlink(), "has no safetensors weights"),
        (lambda d: (d / "video_preprocessor_config.json").unlink(), "has no video_preprocessor_config.json"),
        (lambda d: _edit_json(d / "config.json", auto_map=None), "auto_map has no 'AutoConfig'"),
        (
            lambda d: _edit_json(d / "video_preprocessor_config.json", num_frames=8),
            "num_frames=8 but config.json has num_frames=4",
        ),
        (
            lambda d: _edit_json(d / "config.json", id2label={"0": "a", "1": "b"}, label2id=None),
            r"class_embeddings has shape \(3, 64\) but config.json has 2 labels",
        ),
    ],
)
def test_incomplete_folders_are_refused_with_the_file_named(model_dir, breakage, message):
    breakage(model_dir)
    with pytest.raises(SLLMHubError, match=message):
        prepare_hub_folder(model_dir)


def _edit_json(path, **changes):
    content = json.loads(path.read_text())
    for key, value in changes.items():
        if value is None:
            content.pop(key, None)
        else:
            content[key] = value
    path.write_text(json.dumps(content))


def test_push_to_hub_creates_the_repo_and_uploads_the_checked_folder(model_dir, eval_file):
    card = build_model_card(model_dir, [eval_file], repo_id="my-org/sllm-tiny", license="apache-2.0")
    saved = _saved_files(model_dir)
    (model_dir / "optimizer.pt").write_bytes(b"0")
    with mock.patch("modeling_sllm.publishing.upload.HfApi") as api_class:
        api = api_class.return_value
        api.upload_folder.return_value = "commit-info"
        result = push_to_hub(
            model_dir, "my-org/sllm-tiny", card=card, token="hf_test", private=True, commit_message="Add SLLM"
        )
    assert result == "commit-info"
    api_class.assert_called_once_with(token="hf_test")
    api.create_repo.assert_called_once_with("my-org/sllm-tiny", repo_type="model", private=True, exist_ok=True)
    api.create_branch.assert_not_called()
    api.upload_folder.assert_called_once()
    kwargs = api.upload_folder.call_args.kwargs
    assert kwargs["repo_id"] == "my-org/sllm-tiny" and kwargs["folder_path"] == str(model_dir)
    assert kwargs["commit_message"] == "Add SLLM" and kwargs["repo_type"] == "model"
    # what upload_folder would send: the folder filtered by the patterns it was given
    files = sorted(p.relative_to(model_dir).as_posix() for p in model_dir.rglob("*") if p.is_file())
    uploaded = set(
        filter_repo_objects(
            files, allow_patterns=kwargs.get("allow_patterns"), ignore_patterns=kwargs["ignore_patterns"]
        )
    )
    assert uploaded == saved | {"README.md"}
    readme = ModelCard.load(model_dir / "README.md")
    assert readme.data.model_name == "sllm-tiny" and len(readme.data.eval_results) == 3


def test_push_to_hub_refuses_bad_repo_ids_and_broken_folders_before_any_call(model_dir):
    with mock.patch("modeling_sllm.publishing.upload.HfApi") as api_class:
        with pytest.raises(SLLMHubError, match="repo_id must look like 'org/name'"):
            push_to_hub(model_dir, "no-org")
        (model_dir / "model.safetensors").unlink()
        with pytest.raises(SLLMHubError, match="no safetensors weights"):
            push_to_hub(model_dir, "my-org/sllm-tiny")
    api_class.assert_not_called()


def test_push_command_dry_run_and_upload(model_dir, eval_file):
    saved = _saved_files(model_dir)
    prepared = push_cli.main(
        [
            "--model_dir",
            str(model_dir),
            "--repo_id",
            "my-org/sllm-tiny",
            "--evaluation_files",
            str(eval_file),
            "--license",
            "mit",
            "--dry_run",
        ]
    )
    assert set(prepared.files) == saved | {"README.md"}
    assert metadata_load(model_dir / "README.md")["model-index"][0]["results"][0]["metrics"][0]["value"] == 81.55
    with mock.patch("modeling_sllm.publishing.upload.HfApi") as api_class:
        push_cli.main(
            [
                "--model_dir",
                str(model_dir),
                "--repo_id",
                "my-org/sllm-tiny",
                "--private",
                "--revision",
                "v1",
                "--keep_readme",
            ]
        )
    api = api_class.return_value
    api.create_repo.assert_called_once_with("my-org/sllm-tiny", repo_type="model", private=True, exist_ok=True)
    api.create_branch.assert_called_once_with("my-org/sllm-tiny", branch="v1", repo_type="model", exist_ok=True)
    assert api.upload_folder.call_args.kwargs["revision"] == "v1"
    # --keep_readme kept the card written by the dry run
    assert metadata_load(model_dir / "README.md")["model-index"][0]["name"] == "sllm-tiny"


def test_push_command_can_carry_the_batching_pipeline(model_dir, eval_file, tmp_path):
    import shutil

    folder = tmp_path / "with-pipeline"
    shutil.copytree(model_dir, folder)
    saved = _saved_files(folder)
    prepared = push_cli.main(
        ["--model_dir", str(folder), "--repo_id", "my-org/sllm-tiny", "--evaluation_files", str(eval_file),
         "--license", "mit", "--batching_pipeline", "--dry_run"]
    )
    assert set(prepared.files) == saved | {"README.md", "pipeline_sllm.py"}
    config = json.loads((folder / "config.json").read_text())
    assert (
        config["custom_pipelines"]["video-classification"]["impl"] == "pipeline_sllm.SLLMVideoClassificationPipeline"
    )
    assert config["auto_map"]  # the rest of config.json is kept
    # without the flag nothing is added
    assert "custom_pipelines" not in json.loads((model_dir / "config.json").read_text())


def test_ignore_patterns_cover_training_state():
    names = ["checkpoint-5/model.safetensors", "optimizer.pt", "trainer_state.json", "runs/events", "config.json"]
    assert list(filter_repo_objects(names, ignore_patterns=HUB_IGNORE_PATTERNS)) == ["config.json"]
    assert os.path.isfile(ROOT / "hub_cards" / "sllm_model_card.md")


# ------------------------------------------------------------------------------------------------------------------
# The Space demo next to the model


def test_push_command_with_space_uploads_the_app_and_points_it_at_the_model(model_dir, eval_file, tmp_path):
    from huggingface_hub import SpaceCard

    space_dir = ROOT / "hub_cards" / "space"
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"not decoded here")
    with (
        mock.patch("modeling_sllm.publishing.upload.HfApi") as model_api,
        mock.patch("modeling_sllm.publishing.space.HfApi") as space_api_class,
    ):
        space_api = space_api_class.return_value
        space_api.create_commit.return_value = "space-commit"
        result = push_cli.main(
            ["--model_dir", str(model_dir), "--repo_id", "my-org/sllm-tiny", "--evaluation_files", str(eval_file),
             "--license", "mit", "--space", "my-org/sllm-tiny-demo", "--space_examples", str(clip), "--token", "hf_x"]
        )  # fmt: skip
    assert result[1] == "space-commit"
    model_api.return_value.upload_folder.assert_called_once()  # the model first, then its Space
    space_api_class.assert_called_once_with(token="hf_x")
    space_api.create_repo.assert_called_once_with(
        "my-org/sllm-tiny-demo", repo_type="space", space_sdk="gradio", private=False, exist_ok=True
    )
    kwargs = space_api.create_commit.call_args.kwargs
    assert kwargs["repo_id"] == "my-org/sllm-tiny-demo" and kwargs["repo_type"] == "space"
    uploaded = {op.path_in_repo: op.path_or_fileobj for op in kwargs["operations"]}
    assert set(uploaded) == {"app.py", "requirements.txt", "README.md", "examples/clip.mp4"}
    assert Path(uploaded["app.py"]).read_bytes() == (space_dir / "app.py").read_bytes()
    assert Path(uploaded["requirements.txt"]).read_bytes() == (space_dir / "requirements.txt").read_bytes()
    card = SpaceCard(uploaded["README.md"].decode("utf-8"))
    assert card.data.models == ["my-org/sllm-tiny"]  # the app loads the first of `models:`
    shipped = SpaceCard.load(space_dir / "README.md")
    assert (card.data.sdk, card.data.app_file, card.data.sdk_version) == ("gradio", "app.py", shipped.data.sdk_version)
    assert card.text == shipped.text and shipped.data.models is None  # the shipped file itself is unchanged


def test_space_problems_are_refused_before_any_upload(model_dir, eval_file, tmp_path):
    from modeling_sllm.publishing.space import prepare_space

    common = ["--model_dir", str(model_dir), "--repo_id", "my-org/sllm-tiny", "--license", "mit"]
    with (
        mock.patch("modeling_sllm.publishing.upload.HfApi") as model_api,
        mock.patch("modeling_sllm.publishing.space.HfApi") as space_api,
    ):
        with pytest.raises(SLLMHubError, match="--space must look like 'org/name'"):
            push_cli.main(common + ["--space", "demo"])
        with pytest.raises(SLLMHubError, match="is the model repository itself"):
            push_cli.main(common + ["--space", "my-org/sllm-tiny"])
        with pytest.raises(SLLMHubError, match="Example clip .*missing.mp4' does not exist"):
            push_cli.main(common + ["--space", "my-org/demo", "--space_examples", str(tmp_path / "missing.mp4")])
        prepared = push_cli.main(common + ["--space", "my-org/demo", "--dry_run"])
    model_api.assert_not_called()
    space_api.assert_not_called()
    assert "README.md" in prepared.files
    (tmp_path / "space").mkdir()
    (tmp_path / "space" / "app.py").write_text("")
    with pytest.raises(SLLMHubError, match=r"lacks \['requirements.txt', 'README.md'\]"):
        prepare_space("my-org/demo", "my-org/sllm-tiny", space_dir=tmp_path / "space")

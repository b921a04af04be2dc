"""Training: YAML + CLI arguments, the config as the single source of truth (only the given fields override it),
parameter groups, loss logging, an end-to-end run of the train entry point whose folder the pipeline loads,
restoration weights that change, continuing from a saved model through the command line, and the release's
evaluation (`--release_eval_sampling`). Resuming and the output folder's safety: test_resume.py, test_output_dir.py."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from transformers import HfArgumentParser, pipeline

from modeling_sllm import SLLMConfig, SLLMForVideoClassification
from modeling_sllm.data.arguments import SLLMDataArguments
from modeling_sllm.demo.tiny_clip import save_tiny_random_clip
from modeling_sllm.text_features import SLLMLabel
from modeling_sllm.training import cli as train_script
from modeling_sllm.cli.parsing import parse_args_with_yaml
from modeling_sllm.training.arguments import CONFIG_FIELDS, SLLMModelArguments, SLLMTrainingArguments
from modeling_sllm.training.trainer import build_model, build_param_groups
from sllm_testing import tiny_model


ROOT = Path(__file__).resolve().parents[1]
LEFT_RIGHT = [SLLMLabel(0, "left"), SLLMLabel(1, "right")]


def _parser() -> HfArgumentParser:
    return HfArgumentParser((SLLMModelArguments, SLLMDataArguments, SLLMTrainingArguments))


def _moving_square(num_frames: int, direction: int, size: int = 48, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    start = rng.integers(4, 12)
    frames = []
    for t in range(num_frames):
        frame = np.full((size, size, 3), 40, dtype=np.uint8)
        x = start + t if direction > 0 else size - 12 - start - t
        frame[18:30, x : x + 10] = (230, 80, 40)
        frames.append(frame)
    return frames


@pytest.fixture(scope="module")
def tiny_clip_dir(tmp_path_factory):
    return save_tiny_random_clip(tmp_path_factory.mktemp("clip") / "tiny-clip")


@pytest.fixture
def video_tree(tmp_path, make_video):
    """root/{train,validation}/{left,right}/*.mp4: a square moving left or right."""
    for split, count in (("train", 3), ("validation", 2)):
        for label, direction in (("left", -1), ("right", 1)):
            (tmp_path / split / label).mkdir(parents=True)
            for i in range(count):
                make_video(f"{split}/{label}/{i}.mp4", frames=_moving_square(20, direction, seed=i))
    return tmp_path


def _train_args(tiny_clip_dir, video_tree, output_dir, *extra):
    return [
        "--clip_model_name_or_path", str(tiny_clip_dir),
        "--train_dir", str(video_tree / "train"),
        "--validation_dir", str(video_tree / "validation"),
        "--output_dir", str(output_dir),
        "--num_frames", "2",
        "--keep_interval", "2",
        "--restoration_num_layers", "1",
        "--temporal_num_layers", "1",
        "--per_device_train_batch_size", "2",
        "--per_device_eval_batch_size", "3",
        "--learning_rate", "1e-3",
        "--vision_tower_lr_ratio", "1.0",
        "--do_train", "--do_eval",
        "--eval_strategy", "no",
        "--report_to", "none",
        "--use_cpu",
        "--dataloader_num_workers", "0",
        "--disable_tqdm", "true",
        *extra,
    ]


# ------------------------------------------------------------------------------------------------------------------
# Arguments


def test_yaml_config_fills_the_dataclasses_and_the_command_line_overrides(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text(
        yaml.safe_dump({"num_frames": 4, "train_list": "t.txt", "output_dir": "out", "learning_rate": 1e-4})
    )
    parser = _parser()
    model_args, data_args, training_args = parse_args_with_yaml(
        parser, ["--config", str(config), "--learning_rate", "3e-4", "--use_cpu"]
    )
    assert model_args.num_frames == 4 and data_args.train_list == "t.txt"
    assert training_args.learning_rate == 3e-4  # command line wins
    assert training_args.seed == 3407 and training_args.weight_decay == 0.2
    assert training_args.lr_scheduler_type == "cosine" and training_args.remove_unused_columns is False

    config.write_text(yaml.safe_dump({"num_frame": 4, "output_dir": "out"}))
    with pytest.raises(ValueError, match=r"unknown keys \['num_frame'\]"):
        parse_args_with_yaml(parser, ["--config", str(config)])
    with pytest.raises(FileNotFoundError, match="missing.yaml"):
        parse_args_with_yaml(parser, ["--config", str(tmp_path / "missing.yaml")])


def test_config_fields_are_none_unless_given_and_yaml_then_command_line_set_them(tmp_path):
    """Precedence: the command line over the YAML file over the model's config (None = not given)."""
    assert set(CONFIG_FIELDS) <= set(SLLMConfig.__dataclass_fields__)
    assert all(getattr(SLLMModelArguments(), name) is None for name in CONFIG_FIELDS)

    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"temporal_num_layers": 3, "keep_interval": 1, "train_class_embeddings": True,
                                      "output_dir": "out"}))
    model_args, _, _ = parse_args_with_yaml(_parser(), ["--config", str(config)])
    assert model_args.config_overrides() == {
        "temporal_num_layers": 3, "keep_interval": 1, "train_class_embeddings": True,
    }

    model_args, _, _ = parse_args_with_yaml(
        _parser(), ["--config", str(config), "--temporal_num_layers", "2", "--train_class_embeddings", "false",
                    "--num_frames", "6", "--restoration_trained_by_head"]
    )
    assert model_args.config_overrides() == {
        "num_frames": 6, "keep_interval": 1, "temporal_num_layers": 2, "train_class_embeddings": False,
        "restoration_trained_by_head": True,
    }

    model_args, _, _ = parse_args_with_yaml(_parser(), ["--output_dir", "out"])
    assert model_args.config_overrides() == {}


def test_a_new_model_gets_the_config_defaults_and_the_given_fields(tiny_clip_dir):
    model = build_model(
        SLLMModelArguments(clip_model_name_or_path=str(tiny_clip_dir), num_frames=2, restoration_num_layers=1),
        LEFT_RIGHT,
    )
    defaults = SLLMConfig()
    assert (model.config.num_frames, model.config.restoration_num_layers) == (2, 1)
    for name in set(CONFIG_FIELDS) - {"num_frames", "restoration_num_layers"}:
        assert getattr(model.config, name) == getattr(defaults, name), name
    assert len(model.sllm.temporal_head.encoder.layers) == defaults.temporal_num_layers
    assert model.config.text_model_name_or_path == str(tiny_clip_dir)


def test_continuing_from_a_saved_model_keeps_its_config_unless_a_field_is_given(tiny_clip_dir, tmp_path):
    torch.manual_seed(0)
    saved = SLLMForVideoClassification.from_clip(
        str(tiny_clip_dir), class_names=["left", "right"], num_frames=3, keep_interval=2, restoration_num_layers=1,
        temporal_num_layers=1, restoration_mode="residual", restoration_loss="mse", train_class_embeddings=True,
    )
    saved.save_pretrained(tmp_path / "saved")
    continuing = ["--model_name_or_path", str(tmp_path / "saved"), "--output_dir", str(tmp_path / "out")]

    model_args, _, _ = parse_args_with_yaml(_parser(), continuing)
    kept = build_model(model_args, LEFT_RIGHT)
    for name in CONFIG_FIELDS:
        assert getattr(kept.config, name) == getattr(saved.config, name), name
    assert len(kept.sllm.temporal_head.encoder.layers) == 1
    for name, value in saved.state_dict().items():
        torch.testing.assert_close(kept.state_dict()[name], value, atol=0, rtol=0)

    model_args, _, _ = parse_args_with_yaml(_parser(), continuing + ["--temporal_num_layers", "2"])
    deeper = build_model(model_args, LEFT_RIGHT)
    assert deeper.config.temporal_num_layers == 2 and len(deeper.sllm.temporal_head.encoder.layers) == 2
    for name in set(CONFIG_FIELDS) - {"temporal_num_layers"}:
        assert getattr(deeper.config, name) == getattr(saved.config, name), name
    torch.testing.assert_close(deeper.class_embeddings, saved.class_embeddings, atol=0, rtol=0)

    # a given field is checked by the config as when it is built
    model_args, _, _ = parse_args_with_yaml(_parser(), continuing + ["--temporal_num_layers", "-1"])
    with pytest.raises(Exception, match=r"temporal_num_layers.*-1"):  # the config's own validation error
        build_model(model_args, LEFT_RIGHT)


@pytest.mark.parametrize("name", ["hmdb51", "ucf101", "k400", "anet", "demo"])
def test_dataset_configs_parse_with_the_paper_settings(name):
    model_args, data_args, training_args = parse_args_with_yaml(
        _parser(), ["--config", str(ROOT / "configs" / f"{name}.yaml")]
    )
    if name == "demo":
        assert data_args.generate_demo_data and model_args.create_tiny_random_clip
        return
    assert model_args.clip_model_name_or_path == "openai/clip-vit-base-patch32"
    assert (model_args.num_frames, model_args.keep_interval) == ((4, 2) if name == "k400" else (8, 2))
    assert training_args.per_device_train_batch_size * max(1, training_args.gradient_accumulation_steps) == 32
    assert training_args.num_train_epochs == 30 and training_args.learning_rate == 5e-5
    assert training_args.weight_decay == 0.2 and training_args.vision_tower_lr_ratio == 0.1


# ------------------------------------------------------------------------------------------------------------------
# Parameter groups


def test_every_trainable_parameter_is_in_exactly_one_group_with_the_right_lr():
    model = tiny_model()
    groups = build_param_groups(model, learning_rate=5e-5, weight_decay=0.2, vision_tower_lr_ratio=0.1)
    by_name = {name: group for group in groups for name in group["names"]}
    trainable = [name for name, p in model.named_parameters() if p.requires_grad]
    assert sorted(by_name) == sorted(trainable)
    assert sum(len(group["names"]) for group in groups) == len(trainable)
    restoration = [name for name in trainable if ".restoration." in name]
    assert restoration, "the restoration module must be optimised (the release forgot it)"
    for name in trainable:
        slow = name.startswith("sllm.vision_tower.") or name == "logit_scale"
        assert by_name[name]["lr"] == pytest.approx(5e-6 if slow else 5e-5), name
        assert by_name[name]["weight_decay"] == 0.2
    assert "class_embeddings" not in by_name  # fixed text features by default


def test_frozen_tower_is_in_no_group():
    model = tiny_model()
    model.sllm.vision_tower.requires_grad_(False)
    groups = build_param_groups(model, 1e-3, 0.2)
    names = [name for group in groups for name in group["names"]]
    assert not any(name.startswith("sllm.vision_tower.") for name in names)
    assert "logit_scale" in names and any(".restoration." in name for name in names)


# ------------------------------------------------------------------------------------------------------------------
# End to end


def test_short_training_run_saves_a_folder_the_pipeline_loads(tiny_clip_dir, video_tree, tmp_path):
    output_dir = tmp_path / "run"
    torch.manual_seed(0)
    initial = SLLMForVideoClassification.from_clip(
        str(tiny_clip_dir), class_names=["left", "right"], num_frames=2, keep_interval=2,
        restoration_num_layers=1, temporal_num_layers=1,
    )
    results = train_script.main(
        _train_args(tiny_clip_dir, video_tree, output_dir, "--max_steps", "4", "--logging_steps", "2",
                    "--run_pipeline_on", "first_validation_video")
    )
    for name in ("config.json", "model.safetensors", "video_preprocessor_config.json", "modeling_sllm.py"):
        assert (output_dir / name).is_file(), name
    config = json.loads((output_dir / "config.json").read_text())
    assert config["id2label"] == {"0": "left", "1": "right"}
    assert 0.0 <= results["eval_top1"] <= 1.0
    # this run's results files: the train metrics and the evaluation, nothing else
    all_results = json.loads((output_dir / "all_results.json").read_text())
    assert all_results["eval_top1"] == results["eval_top1"] and "train_loss" in all_results
    assert json.loads((output_dir / "eval_results.json").read_text())["eval_top1"] == results["eval_top1"]

    # the training logs carry the classification loss and every restoration loss
    state = json.loads((output_dir / "trainer_state.json").read_text())
    train_logs = [entry for entry in state["log_history"] if "loss" in entry]
    assert train_logs
    for key in ("classification_loss", "restoration_loss_kl", "restoration_loss_kl_temperature",
                "restoration_loss_mse", "restoration_loss_normalized_mse", "restoration_loss_cosine"):
        assert key in train_logs[0] and np.isfinite(train_logs[0][key]), key

    # the restoration module was optimised
    trained = SLLMForVideoClassification.from_pretrained(output_dir)
    changed = [
        name
        for name, value in trained.state_dict().items()
        if ".restoration." in name and not torch.equal(value, initial.state_dict()[name])
    ]
    assert changed, "restoration weights did not change during training"

    classifier = pipeline("video-classification", model=str(output_dir))
    predictions = classifier(str(video_tree / "validation" / "left" / "0.mp4"), top_k=2)
    assert {prediction["label"] for prediction in predictions} == {"left", "right"}
    assert sum(prediction["score"] for prediction in predictions) == pytest.approx(1.0, abs=1e-4)
    assert results["pipeline_predictions"]


def test_the_tiny_clip_is_seeded_on_its_own_and_leaves_the_global_random_state(tmp_path):
    state = torch.get_rng_state()
    first = save_tiny_random_clip(tmp_path / "a", vision_layers=1, seed=5)
    assert torch.equal(torch.get_rng_state(), state)
    second = save_tiny_random_clip(tmp_path / "b", vision_layers=1, seed=5)
    other = save_tiny_random_clip(tmp_path / "c", vision_layers=1, seed=6)
    weights = [SLLMForVideoClassification.from_clip(path, class_names=["a", "b"]).state_dict() for path in
               (first, second, other)]
    assert all(torch.equal(weights[0][name], weights[1][name]) for name in weights[0] if "vision_tower" in name)
    assert not torch.equal(weights[0]["sllm.vision_tower.visual_projection.weight"],
                           weights[2]["sllm.vision_tower.visual_projection.weight"])


def test_a_run_that_writes_the_tiny_clip_trains_the_model_of_a_run_that_reuses_it(video_tree, tmp_path):
    # writing the tiny CLIP once reset the global seed, so the first run of the demo trained another model than a rerun
    clip_dir = tmp_path / "tiny-clip"
    runs = [tmp_path / "first", tmp_path / "again"]
    for output_dir in runs:
        train_script.main(
            _train_args(clip_dir, video_tree, output_dir, "--create_tiny_random_clip", "true", "--max_steps", "3",
                        "--do_eval", "false")
        )
        if output_dir == runs[0]:
            written = (clip_dir / "model.safetensors").stat().st_mtime_ns
    assert (clip_dir / "model.safetensors").stat().st_mtime_ns == written  # the second run reused it
    trained = [SLLMForVideoClassification.from_pretrained(output_dir).state_dict() for output_dir in runs]
    assert trained[0].keys() == trained[1].keys()
    for name, value in trained[0].items():
        assert torch.equal(value, trained[1][name]), name


def test_run_pipeline_on_is_checked_before_training(tiny_clip_dir, video_tree, tmp_path):
    for off in ("none", "None", ""):
        assert SLLMTrainingArguments(output_dir=str(tmp_path / "a"), run_pipeline_on=off).run_pipeline_on is None
    video = str(video_tree / "validation" / "left" / "0.mp4")
    for value in (video, "first_validation_video", "https://example.com/clip.mp4"):
        assert SLLMTrainingArguments(output_dir=str(tmp_path / "a"), run_pipeline_on=value).run_pipeline_on == value
    output_dir = tmp_path / "never"
    with pytest.raises(FileNotFoundError, match=r"--run_pipeline_on '.*missing\.mp4': no such video file"):
        train_script.main(_train_args(tiny_clip_dir, video_tree, output_dir, "--run_pipeline_on",
                                      str(tmp_path / "missing.mp4")))
    assert not output_dir.exists()  # refused before anything ran


def test_demo_data_with_other_data_sources_is_refused_before_anything_runs(tiny_clip_dir, video_tree, tmp_path):
    # the demo points the data at its own videos: --train_dir and --validation_dir were dropped without a word
    output_dir, data_root = tmp_path / "never", tmp_path / "demo"
    with pytest.raises(ValueError, match="cannot be combined with --train_dir, --validation_dir: pass "
                                         "--generate_demo_data false"):
        train_script.main(_train_args(tiny_clip_dir, video_tree, output_dir, "--generate_demo_data", "true",
                                      "--data_root", str(data_root)))
    assert not output_dir.exists() and not data_root.exists()


def test_push_to_hub_uploads_the_checked_folder_with_a_card(tiny_clip_dir, video_tree, tmp_path):
    """Everything up to the upload: the Hub is unreachable, HfApi is mocked."""
    from unittest import mock

    from huggingface_hub import ModelCard

    output_dir = tmp_path / "pushed"
    with mock.patch("modeling_sllm.publishing.upload.HfApi") as api_class:
        api = api_class.return_value
        api.upload_folder.return_value = "commit"
        results = train_script.main(
            _train_args(tiny_clip_dir, video_tree, output_dir, "--max_steps", "1", "--push_to_hub",
                        "--hub_model_id", "my-org/sllm-demo", "--hub_token", "hf_x", "--license", "mit")
        )
    assert results["hub_commit"] == "commit"
    api.create_repo.assert_called_once()
    assert api.upload_folder.call_args.kwargs["folder_path"] == str(output_dir)
    assert api.upload_folder.call_args.kwargs["repo_id"] == "my-org/sllm-demo"
    card = ModelCard.load(output_dir / "README.md")
    top1 = [r for r in card.data.eval_results if r.metric_type == "top1" or "top-1" in (r.metric_name or "").lower()]
    assert card.data.eval_results and top1

    with pytest.raises(ValueError, match="hub_model_id"):
        train_script.main(_train_args(tiny_clip_dir, video_tree, tmp_path / "x", "--max_steps", "1", "--push_to_hub"))


def test_mixed_precision_and_gradient_checkpointing_run(tiny_clip_dir, video_tree, tmp_path):
    output_dir = tmp_path / "bf16"
    results = train_script.main(
        _train_args(tiny_clip_dir, video_tree, output_dir, "--max_steps", "2", "--bf16", "--activation_checkpointing",
                    "--logging_steps", "1")
    )
    state = json.loads((output_dir / "trainer_state.json").read_text())
    losses = [entry["loss"] for entry in state["log_history"] if "loss" in entry]
    assert len(losses) == 2 and all(np.isfinite(losses))
    assert 0.0 <= results["eval_top1"] <= 1.0
    assert SLLMForVideoClassification.from_pretrained(output_dir).dtype == torch.float32  # weights saved in fp32


def test_two_stage_recipe_starts_sllm_from_a_trained_baseline(tiny_clip_dir, video_tree, tmp_path):
    """Stage 1: a keep_interval=1 baseline. Stage 2: SLLM from it, tower frozen, new restoration module trained."""
    baseline_dir = tmp_path / "baseline"
    train_script.main(_train_args(tiny_clip_dir, video_tree, baseline_dir, "--max_steps", "2", "--keep_interval", "1",
                                  "--do_eval", "false"))
    baseline = SLLMForVideoClassification.from_pretrained(baseline_dir)
    assert baseline.config.keep_interval == 1 and baseline.sllm.restoration is None

    # before training, stage 2 holds the baseline's tower, head and classifier
    start = build_model(
        SLLMModelArguments(model_name_or_path=str(baseline_dir), keep_interval=2, restoration_num_layers=1),
        LEFT_RIGHT,
    )
    assert start.config.num_frames == 2 and start.config.temporal_num_layers == 1  # kept from the baseline
    for name, value in baseline.state_dict().items():
        torch.testing.assert_close(start.state_dict()[name], value, atol=0, rtol=0)

    sllm_dir = tmp_path / "sllm"
    args = _train_args(tiny_clip_dir, video_tree, sllm_dir, "--max_steps", "2", "--do_eval", "false")
    args[args.index("--clip_model_name_or_path") : args.index("--clip_model_name_or_path") + 2] = [
        "--model_name_or_path", str(baseline_dir)]
    train_script.main(args + ["--freeze_vision_tower"])
    sllm = SLLMForVideoClassification.from_pretrained(sllm_dir)
    assert sllm.config.keep_interval == 2 and sllm.sllm.restoration is not None
    assert sllm.config.id2label == baseline.config.id2label
    for name, value in baseline.sllm.vision_tower.state_dict().items():  # frozen: unchanged
        torch.testing.assert_close(sllm.sllm.vision_tower.state_dict()[name], value, atol=0, rtol=0)
    changed = [n for n, v in sllm.sllm.temporal_head.state_dict().items()
               if not torch.equal(v, baseline.sllm.temporal_head.state_dict()[n])]
    assert changed  # the head kept training


def test_a_saved_model_gets_the_text_features_of_new_classes(tiny_clip_dir, tmp_path):
    from transformers import AutoTokenizer, CLIPModel

    from modeling_sllm.text_features import encode_prompts

    saved = SLLMForVideoClassification.from_clip(str(tiny_clip_dir), class_names=["left", "right"], num_frames=2)
    saved.save_pretrained(tmp_path / "saved")
    labels = [SLLMLabel(0, "up", "moves up"), SLLMLabel(1, "down", "moves down"), SLLMLabel(2, "spin", "turns")]
    model = build_model(
        SLLMModelArguments(model_name_or_path=str(tmp_path / "saved"), prompt_mode="enhance"), labels
    )
    assert model.config.id2label == {0: "up", 1: "down", 2: "spin"} and model.config.prompt_mode == "enhance"
    clip = CLIPModel.from_pretrained(tiny_clip_dir)
    expected = encode_prompts(clip, AutoTokenizer.from_pretrained(tiny_clip_dir), ["up,moves up", "down,moves down",
                                                                                   "spin,turns"])
    torch.testing.assert_close(model.class_embeddings.detach(), expected)


# ------------------------------------------------------------------------------------------------------------------
# Continuing from a saved model through the command line (only the given config fields change)


def _continue_args(saved_dir, video_tree, output_dir, *extra):
    """The user's continuation command: the saved model, the data, the training options, no config field."""
    return [
        "--model_name_or_path", str(saved_dir),
        "--train_dir", str(video_tree / "train"),
        "--output_dir", str(output_dir),
        "--per_device_train_batch_size", "2", "--max_steps", "1", "--do_train", "--eval_strategy", "no",
        "--report_to", "none", "--use_cpu", "--dataloader_num_workers", "0", "--disable_tqdm", "true",
        *extra,
    ]


def test_continuing_with_the_cli_keeps_the_saved_config_unless_a_field_is_given(tiny_clip_dir, video_tree, tmp_path):
    first = tmp_path / "first"
    train_script.main(_train_args(tiny_clip_dir, video_tree, first, "--max_steps", "1", "--do_eval", "false",
                                  "--restoration_mode", "residual", "--restoration_loss", "mse",
                                  "--train_class_embeddings"))
    saved = SLLMConfig.from_pretrained(first)
    assert (saved.num_frames, saved.temporal_num_layers, saved.restoration_loss) == (2, 1, "mse")

    train_script.main(_continue_args(first, video_tree, tmp_path / "second"))
    continued = SLLMForVideoClassification.from_pretrained(tmp_path / "second")
    for name in CONFIG_FIELDS:  # none reset to the argument or config defaults (num_frames=8, 6 layers, ...)
        assert getattr(continued.config, name) == getattr(saved, name), name
    assert len(continued.sllm.temporal_head.encoder.layers) == 1

    train_script.main(_continue_args(first, video_tree, tmp_path / "third", "--temporal_num_layers", "2"))
    deeper = SLLMConfig.from_pretrained(tmp_path / "third")
    assert deeper.temporal_num_layers == 2
    for name in set(CONFIG_FIELDS) - {"temporal_num_layers"}:
        assert getattr(deeper, name) == getattr(saved, name), name


# ------------------------------------------------------------------------------------------------------------------
# The release's evaluation (--release_eval_sampling)


def _release_eval_frames(list_count: int, num_segments: int) -> list[int]:
    """The authors' release (METHOD.md): its VideoRecord.num_frames is the list's count minus one, and evaluation
    takes the TSN segment centres over that many frames (`int(i * n / T + (n / T - 1) / 2)` in floating point; every
    frame in order, `i * n // T`, for videos of at most T frames); files are 1-based, so file numbers are these + 1."""
    n = list_count - 1
    if n <= num_segments:
        return [i * n // num_segments for i in range(num_segments)]
    offset = (n / num_segments - 1) / 2.0
    return [int(i * n / num_segments + offset) for i in range(num_segments)]


@pytest.mark.parametrize("num_frames, keep_interval", [(8, 2), (4, 2), (2, 3), (8, 1)])
def test_release_eval_sampling_gives_the_release_frames_for_every_count(num_frames, keep_interval):
    from modeling_sllm import SLLMVideoProcessor
    from modeling_sllm.data.inputs import SLLMVideoTransform, release_eval_frame_count

    processor = SLLMVideoProcessor(num_frames=num_frames, keep_interval=keep_interval)
    with_skipped = keep_interval > 1
    transform = SLLMVideoTransform(processor, training=False, release_eval_sampling=True, with_skipped=with_skipped)
    plain = SLLMVideoTransform(processor, training=False)
    segments = num_frames * keep_interval
    for count in range(1, 600):
        release = _release_eval_frames(count, segments)
        kept = [release[position] for position in range(0, segments, keep_interval)][:num_frames]
        gaps = [range(gap * keep_interval + 1, (gap + 1) * keep_interval) for gap in range(num_frames - 1)]
        skipped = [release[position] for gap in gaps for position in gap]
        indices = transform.processor.sample_frames(
            {"total_num_frames": count}, return_skipped_frames=keep_interval > 1
        ).tolist()
        assert indices == kept + (skipped if keep_interval > 1 else []), count
        assert release_eval_frame_count(count) == max(count - 1, 1)
        # ours without the flag: the same formula over all M frames
        assert plain.processor.sample_frames({"total_num_frames": count}).tolist() == [
            _release_eval_frames(count + 1, segments)[p] for p in range(0, segments, keep_interval)
        ][:num_frames]
    assert processor.sample_frames({"total_num_frames": 30}).tolist() != transform.processor.sample_frames(
        {"total_num_frames": 30}).tolist()  # the processor itself is unchanged


def test_release_eval_sampling_reads_the_release_files_of_a_frame_folder(make_frame_folder):
    from PIL import Image

    from modeling_sllm import SLLMVideoProcessor
    from modeling_sllm.data.inputs import SLLMVideoTransform

    folder = make_frame_folder("clip", num_frames=23)
    processor = SLLMVideoProcessor(num_frames=4, keep_interval=2, size={"shortest_edge": 36},
                                   crop_size={"height": 32, "width": 32})
    out = SLLMVideoTransform(processor, training=False, release_eval_sampling=True)({"video": [str(folder)],
                                                                                     "label": [0]})
    files = [index + 1 for index in _release_eval_frames(23, 8)[0::2]]  # 1-based file numbers
    assert files == [1, 7, 12, 18]  # (over all 23 frames: files 1, 7, 13, 19)
    frames = np.stack([np.asarray(Image.open(folder / f"img_{number:05d}.jpg").convert("RGB")) for number in files])
    expected = processor.transform_frames(frames, num_crops=1)[0]
    torch.testing.assert_close(out["pixel_values"][0], expected, atol=1e-5, rtol=0)


def test_release_eval_logits_are_100_times_the_cosine():
    from modeling_sllm.training.trainer import SLLMTrainer

    model = tiny_model()
    with torch.no_grad():
        model.logit_scale.fill_(2.0)  # exp(2) != 100: the release ignores it at evaluation
    args = SLLMTrainingArguments(output_dir="unused", report_to="none", use_cpu=True, release_eval_sampling=True)
    trainer = SLLMTrainer(model=model, args=args)
    from sllm_testing import random_frames

    inputs = {"pixel_values": random_frames(model.config, batch_size=3), "labels": torch.tensor([0, 1, 2])}
    with torch.no_grad():
        loss, outputs = trainer.compute_loss(model.eval(), inputs, return_outputs=True)
    video = torch.nn.functional.normalize(outputs.video_embeds.float(), dim=-1)
    classes = torch.nn.functional.normalize(model.class_embeddings.float(), dim=-1)
    expected = 100.0 * video @ classes.t()
    torch.testing.assert_close(outputs.logits, expected, atol=1e-4, rtol=1e-5)
    torch.testing.assert_close(loss, torch.nn.functional.cross_entropy(expected, inputs["labels"]), atol=1e-5, rtol=0)

    trainer.args.release_eval_sampling = False
    with torch.no_grad():
        _, plain = trainer.compute_loss(model.eval(), inputs, return_outputs=True)
    torch.testing.assert_close(plain.logits, expected * np.exp(2.0) / 100.0, atol=1e-4, rtol=1e-5)

"""Evaluation: metrics on hand-made scores, multi-view averaging, zero-shot head, throughput, fidelity, the script."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from modeling_sllm import SLLMForVideoClassification, video_processing_sllm
from modeling_sllm.evaluation.engine import (
    average_view_scores,
    classification_metrics,
    confusion_matrix,
    default_video_processor,
    evaluate_model,
    label_map_by_name,
    measure_end_to_end_throughput,
    measure_throughput,
    plot_confusion_matrix,
    restoration_fidelity,
    save_per_class_csv,
    set_zero_shot_classifier,
)
from modeling_sllm.sampling import sample_clip_indices
from modeling_sllm.text_features import build_prompts, encode_prompts, read_label_file
from modeling_sllm.demo.tiny_clip import save_tiny_random_clip
from sllm_testing import random_frames, tiny_model
from transformers import AutoTokenizer, CLIPModel


ROOT = Path(__file__).resolve().parents[1]
CLASSES = ["ride bike", "walk dog", "jump rope"]
NEW_CLASSES = [
    ("fold paper", "hands folding a sheet of paper"),
    ("pour water", "water poured from a jug into a glass"),
    ("open door", "a person opening a wooden door"),
    ("clap hands", "two hands clapping"),
]


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory):
    return save_tiny_random_clip(tmp_path_factory.mktemp("clip") / "tiny-clip", projection_dim=64, image_size=32)


@pytest.fixture(scope="module")
def clip_model(clip_dir):
    torch.manual_seed(0)
    return SLLMForVideoClassification.from_clip(
        clip_dir, CLASSES, num_frames=4, keep_interval=2, restoration_num_layers=1, temporal_num_layers=1
    ).eval()


# ---------------------------------------------------------------------------------------------------------------------
# Metrics on hand-made scores


def test_top_k_and_mean_class_accuracy_on_hand_made_scores():
    scores = np.array(
        [
            [0.7, 0.2, 0.1, 0.0],  # true 0: top-1
            [0.5, 0.3, 0.1, 0.1],  # true 1: rank 2
            [0.1, 0.2, 0.3, 0.4],  # true 0: rank 4
            [0.0, 0.1, 0.9, 0.0],  # true 2: top-1
            [0.4, 0.3, 0.2, 0.1],  # true 2: rank 3
        ]
    )
    labels = [0, 1, 0, 2, 2]
    metrics, per_class = classification_metrics(scores, labels, ["a", "b", "c", "d"], top_k=2)
    assert metrics["top1"] == pytest.approx(2 / 5)
    assert metrics["top2"] == pytest.approx(3 / 5)
    # per class: a 1/2, b 0/1, c 1/2; d has no videos and is left out of the mean
    assert metrics["mean_class_accuracy"] == pytest.approx((0.5 + 0.0 + 0.5) / 3)
    assert metrics["num_videos"] == 5
    assert per_class == [
        {"id": 0, "name": "a", "accuracy": 0.5, "support": 2},
        {"id": 1, "name": "b", "accuracy": 0.0, "support": 1},
        {"id": 2, "name": "c", "accuracy": 0.5, "support": 2},
        {"id": 3, "name": "d", "accuracy": None, "support": 0},
    ]
    # top-5 with 4 classes ranks every class: 1.0, reported under the contract's key "top5"
    metrics, _ = classification_metrics(scores, labels, top_k=5)
    assert metrics["top5"] == 1.0
    matrix = confusion_matrix(labels, scores.argmax(1), 4)
    assert matrix.tolist() == [[1, 0, 0, 1], [1, 0, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]]
    with pytest.raises(ValueError, match=r"labels must be in \[0, 4\)"):
        confusion_matrix([5], [0], 4)


def test_multi_view_averaging_averages_softmax_probabilities_like_text4vis():
    # two videos x three views, two classes, video-major order
    logits = torch.tensor([[0.0, 20.0], [3.0, 0.0], [3.0, 0.0], [1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    probabilities = average_view_scores(logits, num_views=3)
    expected_first = (torch.tensor([0.0, 1.0]) + 2 * torch.tensor([3.0, 0.0]).softmax(0)) / 3
    torch.testing.assert_close(probabilities[0], expected_first, atol=1e-6, rtol=0)
    torch.testing.assert_close(probabilities.sum(-1), torch.ones(2))
    # averaging softmaxed views picks class 0 for video 0 (2 of 3 confident views) where mean logits pick class 1
    assert probabilities[0].argmax() == 0
    mean_logits = average_view_scores(logits, num_views=3, mode="logits")
    torch.testing.assert_close(mean_logits[0], torch.tensor([2.0, 20.0 / 3]))
    assert mean_logits[0].argmax() == 1
    # (B, V, C) input gives the same; one view = softmax of the logits
    torch.testing.assert_close(average_view_scores(logits.view(2, 3, 2)), probabilities)
    torch.testing.assert_close(average_view_scores(logits, 1), logits.softmax(-1))
    with pytest.raises(ValueError, match="num_views=4"):
        average_view_scores(logits, num_views=4)
    with pytest.raises(ValueError, match="mode must be one of"):
        average_view_scores(logits, 3, mode="max")


def test_evaluate_model_multi_view_keeps_every_video_and_matches_manual_scores():
    model = tiny_model(seed=1)
    config = model.config
    num_videos, num_views = 5, 2
    frames = random_frames(config, batch_size=num_videos * num_views, seed=3).view(num_videos, num_views, 4, 3, 32, 32)
    labels = [0, 1, 2, 1, 0]
    dataset = [{"pixel_values": frames[i], "labels": labels[i]} for i in range(num_videos)]
    result = evaluate_model(model, dataset, batch_size=2, show_progress=False)  # 2 + 2 + 1: the last batch is kept
    with torch.no_grad():
        expected = model(pixel_values=frames.flatten(0, 1)).logits.view(num_videos, num_views, -1).softmax(-1).mean(1)
    np.testing.assert_allclose(result.scores, expected.numpy(), atol=1e-5)
    assert result.num_views == 2 and result.metrics["num_videos"] == num_videos
    assert result.labels.tolist() == labels
    assert result.metrics["top1"] == pytest.approx(np.mean(expected.argmax(-1).numpy() == np.array(labels)))
    assert result.confusion_matrix.sum() == num_videos
    assert [row["name"] for row in result.per_class] == ["walk", "run", "jump"]
    # a label map (dataset id -> model id) is applied before scoring
    mapped = evaluate_model(model, dataset, batch_size=4, label_map=[2, 1, 0], show_progress=False)
    assert mapped.labels.tolist() == [2, 1, 0, 1, 2]
    with pytest.raises(ValueError, match="model has 3 classes"):
        evaluate_model(model, [{"pixel_values": frames[0], "labels": 7}], show_progress=False)


def test_label_map_by_name():
    id2label = {0: "a", 1: "b", 2: "c"}
    assert label_map_by_name(["a", "b", "c"], id2label) is None
    assert label_map_by_name(["c", "a"], id2label) == [2, 0]
    with pytest.raises(ValueError, match="zero_shot_label_file"):
        label_map_by_name(["x", "y"], id2label)


def test_reports_csv_and_png(tmp_path):
    _, per_class = classification_metrics(np.eye(3)[[0, 1, 1]], [0, 1, 2], CLASSES)
    path = save_per_class_csv(per_class, tmp_path / "per_class.csv")
    rows = list(csv.DictReader(open(path)))
    assert [row["name"] for row in rows] == CLASSES
    assert rows[2] == {"id": "2", "name": "jump rope", "accuracy": "0.0", "support": "1"}
    png = plot_confusion_matrix(confusion_matrix([0, 1, 2], [0, 1, 1], 3), CLASSES, tmp_path / "cm.png")
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------------------------------------------------------------
# Zero-shot head


def test_zero_shot_head_uses_text_features_of_unseen_classes(clip_dir, clip_model, tmp_path):
    model = SLLMForVideoClassification(clip_model.config.__class__(**clip_model.config.to_dict()))
    model.load_state_dict(clip_model.state_dict())
    label_file = tmp_path / "unseen.txt"
    label_file.write_text("".join(f"{i};{n};{d}\n" for i, (n, d) in enumerate(NEW_CLASSES)))
    embeddings = set_zero_shot_classifier(model, label_file, prompt_mode="enhance")  # text model from the config

    clip = CLIPModel.from_pretrained(clip_dir).eval()
    tokenizer = AutoTokenizer.from_pretrained(clip_dir)
    labels = read_label_file(label_file)
    prompts = build_prompts([l.name for l in labels], [l.description for l in labels], "enhance")
    assert prompts[0] == "fold paper,hands folding a sheet of paper"
    expected = encode_prompts(clip, tokenizer, prompts)
    torch.testing.assert_close(model.class_embeddings.data, expected)
    torch.testing.assert_close(embeddings, expected)
    assert model.config.id2label == {i: name for i, (name, _) in enumerate(NEW_CLASSES)}
    assert model.config.label2id["clap hands"] == 3 and model.config.prompt_mode == "enhance"
    with torch.no_grad():
        assert model(pixel_values=torch.randn(2, 4, 3, 32, 32)).logits.shape == (2, len(NEW_CLASSES))

    # normal prompts (names only) give other features; a model without a known text encoder fails clearly
    set_zero_shot_classifier(model, labels, text_model_name_or_path=clip_dir, prompt_mode="normal")
    names_only = encode_prompts(clip, tokenizer, [name for name, _ in NEW_CLASSES])
    torch.testing.assert_close(model.class_embeddings.data, names_only)
    with pytest.raises(ValueError, match="text_model_name_or_path"):
        set_zero_shot_classifier(tiny_model(), labels)
    with pytest.raises(OSError, match="CLIP text encoder"):
        set_zero_shot_classifier(tiny_model(), labels, text_model_name_or_path=str(tmp_path / "missing"))


# ---------------------------------------------------------------------------------------------------------------------
# Throughput and fidelity on real encoded videos


def test_end_to_end_throughput_decodes_only_the_kept_frames(clip_model, make_video, monkeypatch):
    videos = [str(make_video(f"v{i}.mp4", num_frames=30 + 4 * i)) for i in range(3)]
    requested = []
    original = video_processing_sllm.read_sampled_frames

    def recording(source, sample_fn, **kwargs):
        result = original(source, sample_fn, **kwargs)
        requested.append((kwargs.get("exact_count"), result.indices.tolist()))
        return result

    monkeypatch.setattr(video_processing_sllm, "read_sampled_frames", recording)
    processor = default_video_processor(clip_model)
    out = measure_end_to_end_throughput(clip_model, processor, videos, batch_size=2, device="cpu", num_warmup=0)
    assert out["num_videos"] == 3 and out["frames_per_video"] == 4 and out["videos_per_s"] > 0
    assert out["pixel_values"].shape == (2, 4, 3, 32, 32)
    expected = [sample_clip_indices(30 + 4 * i, 4, 2, training=False).kept.tolist() for i in range(3)]
    assert requested == [(False, indices) for indices in expected]  # N = 4 kept frames per video, never 2N

    throughput = measure_throughput(clip_model, processor, videos, batch_size=2, device="cpu", num_model_batches=2)
    assert set(throughput) >= {"device", "batch_size", "model_videos_per_s", "end_to_end_videos_per_s"}
    assert throughput["device"] == "cpu" and throughput["batch_size"] == 2
    assert throughput["model_videos_per_s"] > 0 and throughput["frames_decoded_per_video"] == 4


def videofolder(root: Path, make_video, class_names, videos_per_class) -> Path:
    """`root/<class>/<i>.mp4` real H.264 videos of different lengths (frame i encodes i)."""
    for class_index, name in enumerate(class_names):
        (root / name).mkdir(parents=True)
        for i in range(videos_per_class[class_index]):
            make_video(str((root / name / f"{i}.mp4").relative_to(root.parent)), num_frames=18 + 5 * i + class_index)
    return root


def test_fidelity_report_on_real_videos(clip_dir, make_video, tmp_path):
    datasets = pytest.importorskip("datasets")
    from modeling_sllm.data.sources import SLLMVideoTransform

    torch.manual_seed(0)
    model = SLLMForVideoClassification.from_clip(
        clip_dir, CLASSES, num_frames=4, keep_interval=2, restoration_num_layers=1, temporal_num_layers=1,
        restoration_mode="residual",
    ).eval()
    videos = [str(make_video(f"f{i}.mp4", num_frames=24 + 8 * i)) for i in range(3)]
    dataset = datasets.Dataset.from_dict({"video": videos, "label": [0, 1, 2]})
    dataset.set_transform(SLLMVideoTransform(4, 2, crop_size=32, training=False, with_skipped=True))
    assert dataset[0]["skipped_pixel_values"].shape == (3, 3, 32, 32)
    report = restoration_fidelity(model, dataset, batch_size=2, show_progress=False)
    assert report["num_videos"] == 3 and report["num_skipped_frames"] == 9 and report["keep_interval"] == 2
    assert set(report["methods"]) == {"restored", "linear_interpolation", "copy_left", "copy_right"}
    for values in report["methods"].values():
        assert -1 <= values["centred_cosine"] <= 1 and -1 <= values["cosine"] <= 1 and values["mse"] >= 0
    # an untrained residual module is exactly linear interpolation
    assert report["restored_minus_interpolation"]["centred_cosine"] == pytest.approx(0.0, abs=1e-6)
    json.dumps(report)
    with pytest.raises(ValueError, match="one view per video"):
        restoration_fidelity(model, [{"pixel_values": torch.zeros(1, 2, 4, 3, 32, 32)}], show_progress=False)


# ---------------------------------------------------------------------------------------------------------------------
# scripts/evaluate.py end to end


def run_evaluate_script(args):
    from modeling_sllm.evaluation.cli import main

    return main([str(arg) for arg in args])


@pytest.fixture(scope="module")
def saved_clip_model(clip_model, tmp_path_factory):
    from modeling_sllm import SLLMVideoProcessor

    folder = tmp_path_factory.mktemp("model") / "sllm-tiny"
    clip_model.save_pretrained(folder)
    SLLMVideoProcessor(num_frames=4, keep_interval=2, crop_size={"height": 32, "width": 32}).save_pretrained(folder)
    return folder


def test_evaluate_script_multi_view_throughput_fidelity(saved_clip_model, make_video, tmp_path):
    root = videofolder(tmp_path / "val", make_video, CLASSES, [3, 2, 2])  # 7 videos, batch size 3: 3 + 3 + 1
    out = tmp_path / "eval"
    config = tmp_path / "eval.yaml"
    config.write_text(
        f"model_name_or_path: {saved_clip_model}\nvalidation_dir: {root}\nnum_clips: 2\nnum_crops: 3\n"
        "batch_size: 3\ndevice: cpu\n"
    )
    results = run_evaluate_script(
        ["--config", config, "--output_dir", out, "--measure_throughput", "--throughput_num_videos", 3,
         "--throughput_model_batches", 1, "--fidelity_report", "--disable_tqdm", "--log_level", "warning"]
    )
    on_disk = json.loads((out / "results.json").read_text())
    assert on_disk == json.loads(json.dumps(results))
    assert set(on_disk) >= {"model", "dataset", "views", "zero_shot", "metrics", "per_class", "throughput", "fidelity"}
    assert on_disk["model"] == str(saved_clip_model)
    assert on_disk["dataset"] == {
        "name": str(root), "config": None, "split": "validation", "num_videos": 7, "num_classes": 3
    }
    assert on_disk["views"]["num_clips"] == 2 and on_disk["views"]["num_crops"] == 3
    assert on_disk["zero_shot"] is False
    assert set(on_disk["metrics"]) == {"top1", "top5", "mean_class_accuracy"}
    assert all(0.0 <= value <= 1.0 for value in on_disk["metrics"].values())
    assert [row["support"] for row in on_disk["per_class"]] == [3, 2, 2]
    throughput = on_disk["throughput"]
    assert throughput["device"] == "cpu" and throughput["batch_size"] == 3
    assert throughput["frames_decoded_per_video"] == 4  # N kept frames, not 2N
    assert throughput["model_videos_per_s"] > 0 and throughput["end_to_end_videos_per_s"] > 0
    fidelity = on_disk["fidelity"]
    assert fidelity["num_videos"] == 7 and fidelity["num_skipped_frames"] == 7 * 3
    for values in fidelity["methods"].values():
        assert -1 <= values["centred_cosine"] <= 1 and values["mse"] >= 0
    rows = list(csv.DictReader(open(out / "per_class.csv")))
    assert [row["name"] for row in rows] == CLASSES and [row["support"] for row in rows] == ["3", "2", "2"]
    assert (out / "confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"


def test_evaluate_script_zero_shot_on_unseen_classes(saved_clip_model, make_video, tmp_path):
    unseen = [name for name, _ in NEW_CLASSES]
    root = videofolder(tmp_path / "val", make_video, [unseen[3], unseen[1]], [2, 1])  # two of the four classes
    label_file = tmp_path / "unseen.txt"
    label_file.write_text("".join(f"{i};{n};{d}\n" for i, (n, d) in enumerate(NEW_CLASSES)))
    out = tmp_path / "zero-shot"
    # as a command, from another folder: the script must import the `evaluate` library, not itself
    command = [
        sys.executable, ROOT / "scripts" / "eval.py", "--model_name_or_path", saved_clip_model, "--validation_dir",
        root, "--zero_shot_label_file", label_file, "--prompt_mode", "enhance", "--batch_size", 2, "--device", "cpu",
        "--output_dir", out, "--disable_tqdm", "--log_level", "warning",
    ]
    completed = subprocess.run([str(arg) for arg in command], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "3 videos, 4 classes: top-1" in completed.stdout
    results = json.loads((out / "results.json").read_text())
    assert results["zero_shot"] is True and results["throughput"] is None and results["fidelity"] is None
    assert results["dataset"]["num_videos"] == 3 and results["dataset"]["num_classes"] == 4
    # dataset classes are matched by name: "clap hands" (id 3) has 2 videos, "pour water" (id 1) has 1
    assert [(row["name"], row["support"]) for row in results["per_class"]] == [
        ("fold paper", 0), ("pour water", 1), ("open door", 0), ("clap hands", 2)
    ]
    assert results["per_class"][0]["accuracy"] is None
    assert len(list(csv.DictReader(open(out / "per_class.csv")))) == 4

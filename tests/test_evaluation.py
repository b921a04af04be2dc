"""Evaluation: metrics on hand-made scores, multi-view averaging, zero-shot head, throughput, fidelity, the script."""

import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from modeling_sllm import SLLMForVideoClassification, video_processing_sllm
from modeling_sllm.evaluation import (
    SLLMSkippedFramesDataset,
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
from modeling_sllm.tiny_clip import save_tiny_random_clip
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
    torch.testing.assert_close(model.class_embeddings.data, encode_prompts(clip, tokenizer, [n for n, _ in NEW_CLASSES]))
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


def test_fidelity_report_on_real_videos(clip_dir, make_video):
    torch.manual_seed(0)
    model = SLLMForVideoClassification.from_clip(
        clip_dir, CLASSES, num_frames=4, keep_interval=2, restoration_num_layers=1, temporal_num_layers=1,
        restoration_mode="residual",
    ).eval()
    videos = [str(make_video(f"f{i}.mp4", num_frames=24 + 8 * i)) for i in range(3)]
    dataset = SLLMSkippedFramesDataset(videos, default_video_processor(model), num_frames=4, keep_interval=2)
    item = dataset[0]
    assert item["pixel_values"].shape == (4, 3, 32, 32) and item["skipped_pixel_values"].shape == (3, 3, 32, 32)
    report = restoration_fidelity(model, dataset, batch_size=2, show_progress=False)
    assert report["num_videos"] == 3 and report["num_skipped_frames"] == 9 and report["keep_interval"] == 2
    assert set(report["methods"]) == {"restored", "linear_interpolation", "copy_left", "copy_right"}
    for values in report["methods"].values():
        assert -1 <= values["centred_cosine"] <= 1 and -1 <= values["cosine"] <= 1 and values["mse"] >= 0
    # an untrained residual module is exactly linear interpolation
    assert report["restored_minus_interpolation"]["centred_cosine"] == pytest.approx(0.0, abs=1e-6)
    json.dumps(report)

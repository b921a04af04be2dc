"""Evaluation: metrics on hand-made scores, multi-view averaging, the one evaluation loop and the Trainer's
compute_metrics, zero-shot head, throughput, fidelity, and scripts/eval.py end to end."""

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
    build_results,
    default_video_processor,
    evaluate_model,
    make_eval_dataloader,
)
from modeling_sllm.evaluation.metrics import (
    classification_metrics,
    compute_accuracy_metrics,
    confusion_matrix,
    plot_confusion_matrix,
    save_per_class_csv,
)
from modeling_sllm.evaluation.results import SLLMResults
from modeling_sllm.evaluation.throughput import (
    measure_end_to_end_throughput,
    measure_model_throughput,
    measure_throughput,
)
from modeling_sllm.evaluation.views import average_view_scores, flatten_views
from modeling_sllm.evaluation.zero_shot import label_map_by_name, set_zero_shot_classifier
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


def test_flatten_views_puts_views_in_the_batch_video_major():
    pixel_values = torch.arange(2 * 3, dtype=torch.float32).view(2, 3, 1, 1, 1, 1).expand(2, 3, 4, 3, 2, 2)
    flat, num_videos, num_views = flatten_views(pixel_values)
    assert flat.shape == (6, 4, 3, 2, 2) and (num_videos, num_views) == (2, 3)
    assert flat[:, 0, 0, 0, 0].tolist() == [0, 1, 2, 3, 4, 5]  # views of video 0, then video 1
    single, num_videos, num_views = flatten_views(pixel_values[:, 0])
    assert single.shape == (2, 4, 3, 2, 2) and (num_videos, num_views) == (2, 1)
    with pytest.raises(ValueError, match=r"got shape \(2, 3\)"):
        flatten_views(torch.zeros(2, 3))


def test_compute_metrics_averages_views_like_the_evaluation_loop():
    from transformers import EvalPrediction

    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(7, 3, 5, generator=generator) * 3  # 7 videos x 3 views x 5 classes
    labels = np.array([0, 1, 2, 3, 4, 0, 1])
    compute_metrics = compute_accuracy_metrics()
    expected, _ = classification_metrics(logits.softmax(-1).mean(1), labels)
    assert compute_metrics(EvalPrediction(predictions=logits.numpy(), label_ids=labels)) == expected
    # single view: (num_videos, num_classes) logits, or a tuple whose first element they are (the Trainer's)
    single, _ = classification_metrics(logits[:, 0].softmax(-1), labels)
    assert compute_metrics(EvalPrediction(predictions=logits[:, 0].numpy(), label_ids=labels)) == single
    assert compute_metrics(EvalPrediction(predictions=(logits[:, 0].numpy(), np.zeros(3)), label_ids=labels)) == single
    # averaging the logits instead ranks differently here: the mode is honoured
    by_logits, _ = classification_metrics(logits.mean(1), labels)
    assert compute_accuracy_metrics(view_averaging="logits")(EvalPrediction(logits.numpy(), labels)) == by_logits
    assert set(single) == {"top1", "top5", "mean_class_accuracy", "num_videos"} and single["num_videos"] == 7
    assert compute_accuracy_metrics(top_k=2)(EvalPrediction(logits.numpy(), labels)).keys() >= {"top2"}
    with pytest.raises(ValueError, match="view_averaging must be one of"):
        compute_accuracy_metrics(view_averaging="max")
    with pytest.raises(ValueError, match="`top_k` must be an integer >= 1"):
        compute_accuracy_metrics(top_k=0)
    with pytest.raises(ValueError, match=r"got shape \(7,\)"):
        compute_metrics(EvalPrediction(predictions=np.zeros(7), label_ids=labels))


def test_trainer_evaluation_and_the_evaluation_loop_give_the_same_metrics(tmp_path):
    """train.py's in-training evaluation (Trainer + compute_accuracy_metrics) and eval.py's loop: same numbers, and
    the Trainer's eval_results.json reads as the one results schema."""
    from transformers import Trainer, TrainingArguments

    from modeling_sllm.data.inputs import sllm_collate_fn

    model = tiny_model(seed=2)
    frames = random_frames(model.config, batch_size=5, seed=4)
    labels = [0, 1, 2, 2, 1]
    dataset = [{"pixel_values": frames[i], "labels": labels[i]} for i in range(5)]
    args = TrainingArguments(
        output_dir=str(tmp_path / "trainer"), per_device_eval_batch_size=2, report_to="none", use_cpu=True
    )
    trainer = Trainer(
        model=model, args=args, eval_dataset=dataset, data_collator=sllm_collate_fn,
        compute_metrics=compute_accuracy_metrics(),
    )
    trainer_metrics = trainer.evaluate()
    loop = evaluate_model(model, dataset, batch_size=2, show_progress=False)
    for key in ("top1", "top5", "mean_class_accuracy", "num_videos"):
        assert trainer_metrics[f"eval_{key}"] == pytest.approx(loop.metrics[key], abs=1e-12), key
    assert trainer_metrics["eval_num_videos"] == 5  # the last partial batch counts

    trainer.save_metrics("eval", trainer_metrics)
    results = SLLMResults.load(tmp_path / "trainer" / "eval_results.json", dataset={"name": "tiny"}, model="tiny")
    assert results.metrics == pytest.approx({k: loop.metrics[k] for k in ("top1", "top5", "mean_class_accuracy")})
    assert results.dataset.num_videos == 5 and results.dataset.split == "validation"
    assert "eval_loss" in results.extra["trainer_metrics"]


def test_evaluation_dataloader_never_drops_a_video():
    dataset = [{"pixel_values": torch.zeros(4, 3, 2, 2), "labels": 0}] * 5
    loader = make_eval_dataloader(dataset, batch_size=2)
    assert [batch["pixel_values"].shape[0] for batch in loader] == [2, 2, 1]
    with pytest.raises(ValueError, match="drop_last=True"):
        make_eval_dataloader(torch.utils.data.DataLoader(dataset, batch_size=2, drop_last=True))
    with pytest.raises(ValueError, match="`batch_size` must be an integer >= 1"):
        make_eval_dataloader(dataset, batch_size=0)


def test_build_results_gives_the_results_schema():
    model = tiny_model(seed=1)
    frames = random_frames(model.config, batch_size=6, seed=3).view(3, 2, 4, 3, 32, 32)
    dataset = [{"pixel_values": frames[i], "labels": i} for i in range(3)]
    evaluation = evaluate_model(model, dataset, batch_size=2, show_progress=False)
    results = build_results(
        "tiny", evaluation, dataset_name="toy", dataset_config=None, split="validation", num_clips=2, num_crops=1,
        zero_shot=False, extra={"frames": {"num_frames": 4, "keep_interval": 2}},
    )
    assert isinstance(results, SLLMResults)
    assert results.metrics == {k: evaluation.metrics[k] for k in ("top1", "top5", "mean_class_accuracy")}
    assert results.dataset.num_videos == 3 and results.dataset.num_classes == 3
    assert results.views.label == "2x1" and results.views.averaging == "softmax"
    assert results.to_dict()["frames"] == {"num_frames": 4, "keep_interval": 2}
    assert SLLMResults.from_dict(json.loads(json.dumps(results.to_dict()))) == results
    with pytest.raises(ValueError, match=r"num_clips=3 x num_crops=1 != 2 views"):
        build_results(
            "tiny", evaluation, dataset_name="toy", dataset_config=None, split="validation", num_clips=3,
            num_crops=1, zero_shot=False,
        )


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
    prompts = build_prompts([label.name for label in labels], [label.description for label in labels], "enhance")
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


def test_model_throughput_is_timed_by_the_one_timer(monkeypatch):
    from modeling_sllm.evaluation import throughput

    calls = []

    def fake_run_interleaved(tasks, repetitions, warmup, device="cpu", **kwargs):
        calls.append((sorted(tasks), repetitions, warmup, str(device)))
        for _ in range(warmup + repetitions):
            for task in tasks.values():
                task()
        return {key: [0.5, 0.25, 1.0][:repetitions] for key in tasks}

    monkeypatch.setattr(throughput, "run_interleaved", fake_run_interleaved)
    model = tiny_model()
    videos_per_s = measure_model_throughput(model, random_frames(model.config, batch_size=3), 4, num_batches=3)
    assert videos_per_s == pytest.approx(4 / 0.5)  # batch size / median seconds per batch
    assert calls == [(["model"], 3, 1, "cpu")]
    with pytest.raises(ValueError, match=r"\(num_videos, num_frames, 3, H, W\)"):
        measure_model_throughput(model, torch.zeros(4, 3, 32, 32), 2)
    with pytest.raises(ValueError, match="batch_size"):
        measure_model_throughput(model, random_frames(model.config), 0)


def videofolder(root: Path, make_video, class_names, videos_per_class) -> Path:
    """`root/<class>/<i>.mp4` real H.264 videos of different lengths (frame i encodes i)."""
    for class_index, name in enumerate(class_names):
        (root / name).mkdir(parents=True)
        for i in range(videos_per_class[class_index]):
            make_video(str((root / name / f"{i}.mp4").relative_to(root.parent)), num_frames=18 + 5 * i + class_index)
    return root


# ---------------------------------------------------------------------------------------------------------------------
# scripts/eval.py end to end


def run_evaluate_script(args):
    from modeling_sllm.evaluation.cli import main

    return main([str(arg) for arg in args])


@pytest.fixture(scope="module")
def saved_clip_model(clip_model, tmp_path_factory):
    from modeling_sllm import SLLMVideoProcessor

    folder = tmp_path_factory.mktemp("model") / "sllm-tiny"
    clip_model.save_pretrained(folder)
    SLLMVideoProcessor.from_model_config(clip_model.config).save_pretrained(folder)
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
    assert isinstance(results, SLLMResults) and on_disk == json.loads(json.dumps(results.to_dict()))
    assert SLLMResults.load(out / "results.json") == SLLMResults.from_dict(on_disk)
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
    completed = subprocess.run(
        [str(arg) for arg in command], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
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


# ---------------------------------------------------------------------------------------------------------------------
# One preprocessing road: what eval.py feeds the model is what the pipeline's processor gives


@pytest.fixture
def recorded_inputs(monkeypatch):
    """Every `pixel_values` an SLLMForVideoClassification is called with, in call order."""
    recorded = []
    original = SLLMForVideoClassification.forward

    def recording_forward(self, pixel_values=None, *args, **kwargs):
        recorded.append(pixel_values.detach().clone())
        return original(self, pixel_values, *args, **kwargs)

    monkeypatch.setattr(SLLMForVideoClassification, "forward", recording_forward)
    return recorded


def pipeline_pixel_values(config, video) -> torch.Tensor:
    """`(1, N, 3, H, W)`: the processor built from the model config, called as the brief and as the pipeline call
    it."""
    from modeling_sllm import SLLMVideoProcessor

    processor = SLLMVideoProcessor.from_model_config(config)
    plain = processor(video, return_tensors="pt")["pixel_values"]
    as_pipeline = processor(video, num_frames=config.num_frames, do_sample_frames=True, return_tensors="pt")
    torch.testing.assert_close(as_pipeline["pixel_values"], plain, atol=0, rtol=0)
    return plain


def test_eval_single_view_gives_the_model_the_pipeline_processor_pixel_values(
    saved_clip_model, clip_model, make_video, make_frame_folder, tmp_path, recorded_inputs
):
    # one video file (96x64, not square: resize and crop offsets matter) and one JPEG frame folder, in scan order
    (tmp_path / "val" / CLASSES[0]).mkdir(parents=True)
    video = make_video(f"val/{CLASSES[0]}/a.mp4", num_frames=27)
    frames = make_frame_folder(f"val/{CLASSES[1]}/b_frames", num_frames=13)
    results = run_evaluate_script(
        ["--model_name_or_path", saved_clip_model, "--validation_dir", tmp_path / "val", "--batch_size", 1,
         "--device", "cpu", "--output_dir", tmp_path / "eval", "--disable_tqdm", "--log_level", "warning"]
    )
    assert results.dataset.num_videos == 2 and [row["support"] for row in results.per_class] == [1, 1, 0]
    assert len(recorded_inputs) == 2  # batch size 1: one forward pass per video
    for fed, source in zip(recorded_inputs, [str(video), str(frames)]):
        expected = pipeline_pixel_values(clip_model.config, source)
        assert fed.shape == expected.shape == (1, 4, 3, 32, 32)
        torch.testing.assert_close(fed, expected, atol=0, rtol=0, msg=lambda m: f"{source}: {m}")


def test_eval_reads_encoded_bytes_of_a_saved_dataset(
    saved_clip_model, clip_model, make_video, tmp_path, recorded_inputs
):
    datasets = pytest.importorskip("datasets")
    payloads = [make_video(f"bytes{i}.mp4", num_frames=20 + 6 * i).read_bytes() for i in range(3)]
    features = datasets.Features(
        {"video": {"bytes": datasets.Value("binary"), "path": datasets.Value("string")},
         "label": datasets.ClassLabel(names=CLASSES)}
    )
    rows = {"video": [{"bytes": payload, "path": None} for payload in payloads], "label": [2, 0, 1]}
    datasets.DatasetDict({"validation": datasets.Dataset.from_dict(rows, features=features)}).save_to_disk(
        tmp_path / "bytes-dataset"
    )
    results = run_evaluate_script(
        ["--model_name_or_path", saved_clip_model, "--dataset_name", tmp_path / "bytes-dataset", "--batch_size", 2,
         "--device", "cpu", "--output_dir", tmp_path / "eval", "--disable_tqdm", "--log_level", "warning"]
    )
    assert results.dataset.name == str(tmp_path / "bytes-dataset") and results.dataset.num_videos == 3
    assert [row["support"] for row in results.per_class] == [1, 1, 1]
    fed = torch.cat(recorded_inputs)  # 2 + 1 videos
    expected = torch.cat([pipeline_pixel_values(clip_model.config, payload) for payload in payloads])
    torch.testing.assert_close(fed, expected, atol=0, rtol=0)


def test_eval_help_starts_with_a_description(capsys):
    from modeling_sllm.evaluation.cli import build_parser, main

    help_text = build_parser().format_help()
    first_paragraph = help_text.split("\n\n")[0]
    assert first_paragraph.startswith("Evaluate a saved SLLM video classifier")
    assert "results.json" in first_paragraph and "frame folders" in first_paragraph
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == help_text


def test_eval_bf16_casts_weights_and_inputs_and_compares_with_float32(
    saved_clip_model, make_video, tmp_path, recorded_inputs
):
    root = videofolder(tmp_path / "val", make_video, CLASSES, [2, 1, 1])
    results = run_evaluate_script(
        ["--model_name_or_path", saved_clip_model, "--validation_dir", root, "--batch_size", 2, "--device", "cpu",
         "--bf16", "--compare_dtypes", "--output_dir", tmp_path / "eval", "--disable_tqdm", "--log_level", "warning"]
    )
    # the float32 reference pass (2 batches), then the bfloat16 pass: inputs cast to the weights' dtype
    assert [batch.dtype for batch in recorded_inputs] == [torch.float32] * 2 + [torch.bfloat16] * 2
    torch.testing.assert_close(recorded_inputs[2].float(), recorded_inputs[0], rtol=1e-2, atol=1e-2)
    on_disk = json.loads((tmp_path / "eval" / "results.json").read_text())
    assert on_disk["dtype"] == "bfloat16" and results.extra["dtype"] == "bfloat16"
    comparison = on_disk["dtype_comparison"]
    assert comparison["reference_dtype"] == "float32" and comparison["dtype"] == "bfloat16"
    assert comparison["top1"]["bfloat16"] == on_disk["metrics"]["top1"]
    assert 0 <= comparison["top1"]["float32"] <= 1 and 0 <= comparison["same_prediction"] <= 1
    assert comparison["video_embeds_cosine"]["num_views"] == 4
    assert 0.99 < comparison["video_embeds_cosine"]["min"] <= comparison["video_embeds_cosine"]["median"] <= 1.0 + 1e-6
    assert 0 <= comparison["max_abs_score_difference"] < 0.1


@pytest.mark.parametrize(
    "flags,match",
    [
        (["--fp16", "--device", "cpu"], "float16 on a CPU"),
        (["--dtype", "float16", "--device", "cpu"], "float16 on a CPU"),
        (["--bf16", "--fp16"], "--bf16 and --fp16 exclude each other"),
        (["--bf16", "--dtype", "float16"], "--bf16 contradicts --dtype float16"),
        (["--compare_dtypes"], "--compare_dtypes compares float32 with a lower precision"),
    ],
)
def test_eval_refuses_float16_on_cpu_and_contradictory_precisions(saved_clip_model, tmp_path, flags, match):
    with pytest.raises(ValueError, match=match):
        run_evaluate_script(
            ["--model_name_or_path", saved_clip_model, "--validation_dir", tmp_path, "--output_dir", tmp_path / "out",
             *flags]
        )

"""Auto classes, Hub remote code and the video-classification pipeline on real encoded videos."""

import json
import logging
import os
import shutil
import subprocess
import sys
import textwrap

import pytest
import torch

from modeling_sllm import SLLMForVideoClassification, SLLMVideoProcessor
from sllm_testing import tiny_model
from transformers import AutoModel, AutoModelForVideoClassification, AutoVideoProcessor, pipeline
from transformers.utils import logging as transformers_logging


REMOTE_CODE_FILES = {
    "checks.py",
    "configuration_sllm.py",
    "modeling_sllm.py",
    "video_processing_sllm.py",
    "sampling.py",
    "video_io.py",
    "text_features.py",
}


@pytest.fixture
def saved_model(tmp_path):
    model = tiny_model(seed=7)
    folder = tmp_path / "sllm-tiny"
    model.save_pretrained(folder)
    SLLMVideoProcessor(num_frames=4, keep_interval=2, crop_size={"height": 32, "width": 32}).save_pretrained(folder)
    return folder


def test_saved_folder_carries_remote_code_and_auto_map(saved_model):
    assert REMOTE_CODE_FILES <= set(os.listdir(saved_model))
    config = json.loads((saved_model / "config.json").read_text())
    assert config["auto_map"] == {
        "AutoConfig": "configuration_sllm.SLLMConfig",
        "AutoModel": "modeling_sllm.SLLMModel",
        "AutoModelForVideoClassification": "modeling_sllm.SLLMForVideoClassification",
    }
    processor_config = json.loads((saved_model / "video_preprocessor_config.json").read_text())
    assert processor_config["auto_map"]["AutoVideoProcessor"] == "video_processing_sllm.SLLMVideoProcessor"
    assert processor_config["keep_interval"] == 2 and processor_config["num_frames"] == 4


def test_auto_video_processor_and_model_load_from_folder(saved_model, video_path):
    processor = AutoVideoProcessor.from_pretrained(saved_model)
    assert isinstance(processor, SLLMVideoProcessor)
    model = AutoModelForVideoClassification.from_pretrained(saved_model)
    inputs = processor(str(video_path), return_tensors="pt")
    assert inputs["pixel_values"].shape == (1, 4, 3, 32, 32)
    with torch.no_grad():
        assert model(**inputs).logits.shape == (1, 3)


def test_auto_model_loads_the_base_model_from_a_classifier_folder_with_a_clean_report(saved_model):
    records = []
    handler = logging.Handler(level=logging.DEBUG)
    handler.emit = records.append
    transformers_logger = transformers_logging.get_logger("transformers")
    transformers_logger.addHandler(handler)
    try:
        base, info = AutoModel.from_pretrained(saved_model, output_loading_info=True)
    finally:
        transformers_logger.removeHandler(handler)
    assert type(base).__name__ == "SLLMModel"
    assert info == {"missing_keys": set(), "unexpected_keys": set(), "mismatched_keys": set(), "error_msgs": []}
    reports = [record.getMessage() for record in records if record.levelno >= logging.WARNING]
    assert not any("LOAD REPORT" in message or "UNEXPECTED" in message for message in reports), reports
    classifier = AutoModelForVideoClassification.from_pretrained(saved_model).eval()
    pixel_values = torch.randn(1, 4, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(base.eval()(pixel_values).video_embeds, classifier(pixel_values).video_embeds)


@pytest.mark.parametrize("video", ["video_path", "bikes_video"])
def test_pipeline_classifies_real_encoded_video(saved_model, video, request):
    path = str(request.getfixturevalue(video))
    classifier = pipeline("video-classification", model=str(saved_model))
    assert isinstance(classifier.model, SLLMForVideoClassification)
    results = classifier(path, top_k=2)
    assert len(results) == 2
    assert {r["label"] for r in results} <= {"walk", "run", "jump"}
    assert results[0]["score"] >= results[1]["score"]
    # the pipeline and the processor + model give the same scores (one road for a video)
    processor = SLLMVideoProcessor.from_pretrained(saved_model)
    with torch.no_grad():
        probs = classifier.model(**processor(path, return_tensors="pt")).logits.softmax(-1)[0]
    assert results[0]["score"] == pytest.approx(probs.max().item(), rel=1e-5)
    assert all(classifier(path, top_k=10)[i]["label"] in {"walk", "run", "jump"} for i in range(3))


def _assert_same_results(batched, unbatched):
    assert len(batched) == len(unbatched)
    for got, expected in zip(batched, unbatched):
        assert [item["label"] for item in got] == [item["label"] for item in expected]
        expected_scores = [item["score"] for item in expected]
        assert [item["score"] for item in got] == pytest.approx(expected_scores, rel=1e-5, abs=1e-6)


@pytest.fixture
def three_videos(make_video, frame_content):
    """Three videos of different lengths and sizes (the processor gives them the same input shape)."""
    frames = [frame_content(i) for i in range(36)]
    return [
        str(make_video("a.mp4", frames=frames[:30])),
        str(make_video("b.mkv", frames=[frame[:, ::-1].copy() for frame in frames[4:36]])),
        str(make_video("c.mp4", frames=[frame[8:56, 10:90].copy() for frame in frames[:20]])),
    ]


def test_pipeline_batch_size_gives_the_results_of_one_video_at_a_time(saved_model, three_videos):
    classifier = pipeline("video-classification", model=str(saved_model), batch_size=2)
    assert type(classifier).__name__ == "SLLMVideoClassificationPipeline"
    unbatched = [classifier(video, top_k=3, batch_size=1) for video in three_videos]
    _assert_same_results(classifier(three_videos, top_k=3), unbatched)
    _assert_same_results(classifier(three_videos, top_k=3, batch_size=3, num_workers=1), unbatched)
    # the scores are those of the processor + model road
    processor = SLLMVideoProcessor.from_pretrained(saved_model)
    with torch.no_grad():
        probs = classifier.model(**processor(three_videos[2], return_tensors="pt")).logits.softmax(-1)[0]
    assert unbatched[2][0]["score"] == pytest.approx(probs.max().item(), rel=1e-5)


REMOTE_SCRIPT = textwrap.dedent(
    """
    import importlib.abc, json, sys

    class BlockPackage(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "modeling_sllm" or name.startswith("modeling_sllm."):
                raise ImportError("modeling_sllm is blocked in this process")

    sys.meta_path.insert(0, BlockPackage())
    try:
        import modeling_sllm  # noqa: F401
    except ImportError:
        pass
    else:
        raise SystemExit("the package was importable")

    import torch
    from transformers import AutoModel, AutoModelForVideoClassification, AutoVideoProcessor, pipeline

    folder, video, hub_folder, videos = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    model = AutoModelForVideoClassification.from_pretrained(folder, trust_remote_code=True).eval()
    processor = AutoVideoProcessor.from_pretrained(folder, trust_remote_code=True)
    with torch.no_grad():
        logits = model(**processor(video, return_tensors="pt")).logits
    base = AutoModel.from_pretrained(folder, trust_remote_code=True)
    classifier = pipeline("video-classification", model=folder, trust_remote_code=True)
    # a Hub folder with the batching pipeline (pipeline_sllm.py, custom_pipelines)
    batching = pipeline("video-classification", model=hub_folder, trust_remote_code=True, batch_size=2)
    print(json.dumps({
        "model_module": type(model).__module__,
        "base_class": type(base).__name__,
        "logits": logits.tolist(),
        "pipeline": classifier(video, top_k=3),
        "batching_module": type(batching).__module__,
        "batching_class": type(batching).__name__,
        "batched": batching(videos, top_k=3),
        "unbatched": [batching(one, top_k=3, batch_size=1) for one in videos],
    }))
    """
)


def test_remote_code_round_trip_without_the_package(saved_model, video_path, three_videos, tmp_path):
    """Remote code without the package: model, processor, pipeline of a saved folder; and
    `pipeline(..., trust_remote_code=True, batch_size=2)` of a Hub folder (the batching pipeline travels with it)."""
    from modeling_sllm.publishing.remote_pipeline import add_pipeline_to_folder

    hub_folder = tmp_path / "hub"
    shutil.copytree(saved_model, hub_folder)
    add_pipeline_to_folder(hub_folder)
    assert (hub_folder / "pipeline_sllm.py").is_file()
    custom = json.loads((hub_folder / "config.json").read_text())["custom_pipelines"]
    assert custom["video-classification"]["impl"] == "pipeline_sllm.SLLMVideoClassificationPipeline"
    model = AutoModelForVideoClassification.from_pretrained(saved_model).eval()
    processor = SLLMVideoProcessor.from_pretrained(saved_model)
    with torch.no_grad():
        expected = model(**processor(str(video_path), return_tensors="pt")).logits
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_MODULES_CACHE=str(tmp_path / "modules"), PYTHONPATH="")
    completed = subprocess.run(
        [sys.executable, "-c", REMOTE_SCRIPT, str(saved_model), str(video_path), str(hub_folder), *three_videos],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert result["model_module"].startswith("transformers_modules.")
    assert result["base_class"] == "SLLMModel"
    torch.testing.assert_close(torch.tensor(result["logits"]), expected, rtol=1e-5, atol=1e-5)
    assert [r["label"] for r in result["pipeline"]] == [
        model.config.id2label[i] for i in expected.softmax(-1)[0].argsort(descending=True).tolist()
    ]
    assert result["batching_module"].startswith("transformers_modules.")
    assert result["batching_class"] == "SLLMVideoClassificationPipeline"
    _assert_same_results(result["batched"], result["unbatched"])
    local = pipeline("video-classification", model=str(saved_model))
    _assert_same_results(result["unbatched"], [local(video, top_k=3) for video in three_videos])

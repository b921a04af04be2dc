"""The one results schema (evaluation/results.py): save/load, atomic writes, today's results.json, the Trainer's
metrics files, and errors that name the file and the field."""

import json
import os

import pytest

from modeling_sllm.evaluation import results as results_module
from modeling_sllm.evaluation.results import SLLMDatasetInfo, SLLMResults, SLLMResultsError, SLLMViews


# results.json as scripts/eval.py wrote it before the schema had a class (key order included)
TODAY_RESULTS_JSON = {
    "model": "out/sllm",
    "dataset": {"name": "data/val", "config": None, "split": "validation", "num_videos": 7, "num_classes": 3},
    "views": {"num_clips": 2, "num_crops": 3, "averaging": "softmax"},
    "zero_shot": False,
    "metrics": {"top1": 0.5714285714285714, "top5": 1.0, "mean_class_accuracy": 0.5555555555555556},
    "per_class": [
        {"id": 0, "name": "ride bike", "accuracy": 0.6666666666666666, "support": 3},
        {"id": 1, "name": "walk dog", "accuracy": 0.5, "support": 2},
        {"id": 2, "name": "jump rope", "accuracy": None, "support": 0},
    ],
    "throughput": {
        "device": "cpu", "batch_size": 3, "dtype": "float32", "model_videos_per_s": 41.2,
        "end_to_end_videos_per_s": 12.5, "num_videos": 3, "frames_decoded_per_video": 4, "views_per_video": 1,
        "torch_threads": 2,
    },
    "fidelity": {"num_videos": 7, "keep_interval": 2, "methods": {"restored": {"centred_cosine": 0.4, "mse": 0.1}}},
    "frames": {"num_frames": 4, "keep_interval": 2},
    "evaluation_seconds": 3.25,
}

# what `trainer.save_metrics("eval", trainer.evaluate())` writes with metrics.compute_accuracy_metrics
TRAINER_EVAL_RESULTS = {
    "epoch": 3.0,
    "eval_loss": 1.0213,
    "eval_mean_class_accuracy": 0.5,
    "eval_num_videos": 20,
    "eval_runtime": 1.21,
    "eval_samples_per_second": 16.5,
    "eval_steps_per_second": 2.07,
    "eval_top1": 0.55,
    "eval_top5": 1.0,
}


def write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


def example_results(**overrides) -> SLLMResults:
    values = dict(
        model="org/sllm",
        dataset=SLLMDatasetInfo(name="hmdb51", split="validation", num_videos=3, num_classes=2),
        metrics={"top1": 0.5, "top5": 1.0, "mean_class_accuracy": 0.25},
        views=SLLMViews(num_clips=4, num_crops=3),
        per_class=[{"id": 0, "name": "a", "accuracy": 0.5, "support": 2}, {"id": 1, "name": "b", "accuracy": 0.0,
                                                                           "support": 1}],
        throughput={"device": "cpu", "model_videos_per_s": 10.0},
        extra={"frames": {"num_frames": 8, "keep_interval": 2}},
    )
    values.update(overrides)
    return SLLMResults(**values)


# ---------------------------------------------------------------------------------------------------------------------
# Round trips


def test_save_load_round_trip(tmp_path):
    results = example_results()
    path = results.save(tmp_path / "nested" / "results.json")  # folders are created
    loaded = SLLMResults.load(path)
    assert loaded == results
    assert loaded.views.label == "4x3" and loaded.extra == {"frames": {"num_frames": 8, "keep_interval": 2}}
    on_disk = json.loads(open(path, encoding="utf-8").read())
    assert on_disk["frames"] == {"num_frames": 8, "keep_interval": 2}  # extra keys sit at the top level
    assert on_disk["dataset"] == {"name": "hmdb51", "config": None, "split": "validation", "num_videos": 3,
                                  "num_classes": 2}
    assert SLLMResults.from_dict(results.to_dict()) == results


def test_todays_results_json_loads_and_saves_back_unchanged(tmp_path):
    path = write(tmp_path / "results.json", json.dumps(TODAY_RESULTS_JSON, indent=2))
    results = SLLMResults.load(path)
    assert results.model == "out/sllm" and results.dataset.name == "data/val" and results.dataset.num_videos == 7
    assert results.views == SLLMViews(num_clips=2, num_crops=3, averaging="softmax")
    assert results.metrics["top5"] == 1.0 and results.per_class[2]["accuracy"] is None
    assert results.extra == {"frames": {"num_frames": 4, "keep_interval": 2}, "evaluation_seconds": 3.25}
    # backward compatible: the same keys in the same order, the same values
    assert list(results.to_dict()) == list(TODAY_RESULTS_JSON)
    assert results.to_dict() == TODAY_RESULTS_JSON
    results.save(tmp_path / "again.json")
    assert json.loads((tmp_path / "again.json").read_text()) == TODAY_RESULTS_JSON
    # the views block is optional (one view), as older files had it without `averaging`
    minimal = {key: TODAY_RESULTS_JSON[key] for key in ("model", "dataset", "metrics")}
    assert SLLMResults.from_dict(minimal).views == SLLMViews()


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "results.json"
    example_results().save(path)
    before = path.read_bytes()
    # a value that cannot be written: nothing is touched
    with pytest.raises(TypeError):
        example_results(extra={"bad": object()}).save(path)
    assert path.read_bytes() == before

    # a failure (or a kill) between writing and renaming leaves the old file and no temporary file
    def failing_replace(source, destination):
        raise OSError("disk full")

    monkeypatch.setattr(results_module.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        example_results(model="other").save(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["results.json"]


# ---------------------------------------------------------------------------------------------------------------------
# The Trainer's metrics files


def test_trainer_eval_results_load_with_a_dataset(tmp_path):
    path = write(tmp_path / "eval_results.json", json.dumps(TRAINER_EVAL_RESULTS))
    results = SLLMResults.load(path, dataset={"name": "ucf101", "config": "split1"}, model="org/sllm")
    assert results.metrics == {"top1": 0.55, "top5": 1.0, "mean_class_accuracy": 0.5}
    assert results.dataset == SLLMDatasetInfo(name="ucf101", split="validation", config="split1", num_videos=20)
    assert results.views == SLLMViews() and results.model == "org/sllm" and results.zero_shot is False
    trainer_metrics = results.extra["trainer_metrics"]
    assert trainer_metrics["eval_loss"] == 1.0213 and "eval_top1" not in trainer_metrics
    # a dataset that says how many videos it has keeps its count; an SLLMDatasetInfo works as well as a dict
    given = SLLMDatasetInfo(name="ucf101", split="test", num_videos=21)
    assert SLLMResults.load(path, dataset=given).dataset == given
    # all_results.json (train_* and eval_* keys) reads the same
    all_results = write(tmp_path / "all_results.json", json.dumps({**TRAINER_EVAL_RESULTS, "train_loss": 2.0}))
    assert SLLMResults.load(all_results, dataset={"name": "ucf101"}).metrics == results.metrics
    # and the result is a regular results file
    results.save(tmp_path / "results.json")
    assert SLLMResults.load(tmp_path / "results.json") == results


def test_trainer_eval_results_without_a_dataset_fail_clearly(tmp_path):
    path = write(tmp_path / "eval_results.json", json.dumps(TRAINER_EVAL_RESULTS))
    with pytest.raises(SLLMResultsError, match=r"eval_results\.json is a Trainer metrics file .* give the dataset"):
        SLLMResults.load(path)
    with pytest.raises(SLLMResultsError, match=r"eval_results\.json: missing field dataset\.'name'"):
        SLLMResults.load(path, dataset={"split": "validation"})
    with pytest.raises(SLLMResultsError, match=r"eval_results\.json: unknown fields \['dataset\.size'\]"):
        SLLMResults.load(path, dataset={"name": "x", "size": 3})


@pytest.mark.parametrize(
    "change, message",
    [
        ({"eval_top1": 55.0}, r"field 'eval_top1' = 55.0 is not a fraction in \[0, 1\]"),
        ({"eval_top1": None}, r"field 'eval_top1' = None is not a number"),
        ({"eval_mean_class_accuracy": -0.1}, r"field 'eval_mean_class_accuracy' = -0.1 is not a fraction"),
        ({"eval_num_videos": -3}, r"field 'eval_num_videos' = -3 is not a count"),
    ],
)
def test_bad_trainer_metrics_name_the_file_and_field(tmp_path, change, message):
    path = write(tmp_path / "eval_results.json", json.dumps({**TRAINER_EVAL_RESULTS, **change}))
    with pytest.raises(SLLMResultsError, match=r"eval_results\.json: " + message):
        SLLMResults.load(path, dataset={"name": "ucf101"})


def test_trainer_metrics_without_top1_name_the_missing_field(tmp_path):
    metrics = {key: value for key, value in TRAINER_EVAL_RESULTS.items() if key != "eval_top1"}
    path = write(tmp_path / "eval_results.json", json.dumps(metrics))
    with pytest.raises(SLLMResultsError, match=r"eval_results\.json: missing field 'eval_top1'"):
        SLLMResults.load(path, dataset={"name": "ucf101"})


# ---------------------------------------------------------------------------------------------------------------------
# Broken files


def test_missing_empty_and_invalid_files_are_named(tmp_path):
    with pytest.raises(SLLMResultsError, match=r"'.*nowhere\.json' does not exist"):
        SLLMResults.load(tmp_path / "nowhere.json")
    with pytest.raises(SLLMResultsError, match=r"'.*empty\.json' is empty"):
        SLLMResults.load(write(tmp_path / "empty.json", "  \n"))
    with pytest.raises(SLLMResultsError, match=r"'.*broken\.json' is not valid JSON: .*line 1"):
        SLLMResults.load(write(tmp_path / "broken.json", '{"model": "x", "metrics": {'))
    with pytest.raises(SLLMResultsError, match=r"list\.json: expected a JSON object, got list"):
        SLLMResults.load(write(tmp_path / "list.json", "[1, 2]"))


def _without(data: dict, dotted: str) -> dict:
    data = json.loads(json.dumps(data))
    *parents, key = dotted.split(".")
    container = data
    for parent in parents:
        container = container[parent]
    del container[key]
    return data


@pytest.mark.parametrize(
    "field, message",
    [
        ("dataset", r"missing field 'dataset'"),
        ("dataset.name", r"missing field dataset\.'name'"),
        ("dataset.split", r"missing field dataset\.'split'"),
        ("metrics", r"missing field 'metrics'"),
        ("metrics.top1", r"missing field metrics\.'top1'"),
        ("metrics.mean_class_accuracy", r"missing field metrics\.'mean_class_accuracy'"),
    ],
)
def test_missing_fields_are_named(tmp_path, field, message):
    path = write(tmp_path / "results.json", json.dumps(_without(TODAY_RESULTS_JSON, field)))
    with pytest.raises(SLLMResultsError, match=r"results\.json: " + message):
        SLLMResults.load(path)


@pytest.mark.parametrize(
    "section, key, value, message",
    [
        ("metrics", "top1", 57.1, r"field metrics\.'top1' = 57\.1 is not a fraction in \[0, 1\]"),
        ("metrics", "top5", -0.5, r"field metrics\.'top5' = -0\.5 is not a fraction in \[0, 1\]"),
        (
            "metrics",
            "mean_class_accuracy",
            float("nan"),
            r"field metrics\.'mean_class_accuracy' = nan is not a number",
        ),
        ("metrics", "top1", "0.5", r"field metrics\.'top1' = '0\.5' is not a number"),
        ("metrics", "top1", True, r"field metrics\.'top1' = True is not a number"),
        ("dataset", "name", 7, r"field dataset\.'name' = 7 is not a str"),
        ("dataset", "num_videos", "7", r"field dataset\.'num_videos' = '7' is not a int"),
        ("dataset", "num_classes", -1, r"field dataset\.'num_classes' = -1 is negative"),
        ("views", "num_clips", 0, r"field views\.'num_clips' = 0 must be >= 1"),
        ("views", "averaging", "max", r"field views\.'averaging' = 'max' is not one of"),
    ],
)
def test_bad_values_are_named(tmp_path, section, key, value, message):
    data = json.loads(json.dumps(TODAY_RESULTS_JSON))
    data[section][key] = value
    path = write(tmp_path / "results.json", json.dumps(data))  # NaN is written as the JSON extension `NaN`
    with pytest.raises(SLLMResultsError, match=r"results\.json: " + message):
        SLLMResults.load(path)


def test_bad_sections_are_named(tmp_path):
    for key, value, message in [
        ("per_class", {"a": 1}, r"field 'per_class' must be a list of objects or null"),
        ("throughput", 12.5, r"field 'throughput' must be an object or null"),
        ("views", [2, 3], r"field 'views' must be an object"),
        ("model", 3, r"field 'model' = 3 is not a str"),
    ]:
        path = write(tmp_path / f"{key}.json", json.dumps({**TODAY_RESULTS_JSON, key: value}))
        with pytest.raises(SLLMResultsError, match=rf"{key}\.json: " + message):
            SLLMResults.load(path)


def test_constructor_checks_metrics_and_extra_keys():
    with pytest.raises(SLLMResultsError, match=r"metrics\.'top1' = 2\.0 is not a fraction"):
        example_results(metrics={"top1": 2.0, "mean_class_accuracy": 0.5})
    with pytest.raises(SLLMResultsError, match=r"extra keys \['metrics'\] clash"):
        example_results(extra={"metrics": {}})
    # a dataset given as a dict becomes an SLLMDatasetInfo
    assert example_results(dataset={"name": "x"}).dataset == SLLMDatasetInfo(name="x")

"""`sllm-predict` (scripts/predict.py): many videos -> one JSONL/CSV row each, equal to the pipeline's results; error
rows for broken videos; resume after an interrupted run; annotation lists, videofolders and `datasets` sources; a
2-process `accelerate launch` run merged into one file."""

import json
import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
import torch

from modeling_sllm import SLLMVideoProcessor
from modeling_sllm.inference.cli import main
from modeling_sllm.inference.writers import read_predictions
from sllm_testing import tiny_model
from transformers import pipeline


ROOT = Path(__file__).resolve().parents[1]
LABELS = ("walk", "run", "jump")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("predict") / "sllm-tiny"
    tiny_model(seed=3).save_pretrained(folder)
    SLLMVideoProcessor(num_frames=4, keep_interval=2, crop_size={"height": 32, "width": 32}).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def classifier(model_dir):
    return pipeline("video-classification", model=str(model_dir))


@pytest.fixture
def videos(tmp_path, make_video, frame_content):
    """`videos/`: three real videos of different sizes and lengths (one nested, one mkv), a broken one, a text file."""
    (tmp_path / "videos" / "sub").mkdir(parents=True)
    frames = [frame_content(i) for i in range(40)]
    make_video("videos/a.mp4", frames=frames[:30])
    make_video("videos/sub/b.mkv", frames=[frame[:, ::-1].copy() for frame in frames[5:40]])
    make_video("videos/c.mp4", frames=[frame[8:56, 10:90].copy() for frame in frames[:24]])
    (tmp_path / "videos" / "broken.mp4").write_bytes(b"not a video")
    (tmp_path / "videos" / "notes.txt").write_text("ignored")
    return tmp_path / "videos"


def _predict(*arguments) -> dict:
    return main([str(argument) for argument in arguments])


def _assert_matches_pipeline(row: dict, classifier, video, top_k: int):
    expected = classifier(str(video), top_k=top_k)
    assert row["labels"] == [item["label"] for item in expected], row
    assert row["scores"] == pytest.approx([item["score"] for item in expected], rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("extension", [".jsonl", ".csv"])
def test_rows_equal_the_pipeline_and_broken_videos_are_error_rows(model_dir, classifier, videos, tmp_path, extension):
    output = tmp_path / f"predictions{extension}"
    summary = _predict(
        "--model_name_or_path", model_dir, "--videos", videos, "--output", output,
        "--top_k", 2, "--batch_size", 2, "--num_workers", 1,
    )
    rows = read_predictions(str(output))
    names = [os.path.relpath(row["video"], videos) for row in rows]
    assert names == ["a.mp4", "broken.mp4", "c.mp4", os.path.join("sub", "b.mkv")]  # sorted paths, no notes.txt
    assert summary["rows"] == 4 and summary["classified"] == 3 and summary["errors"] == 1
    for row in rows:
        if row["video"].endswith("broken.mp4"):
            assert set(row) == {"video", "error"}
            assert "broken.mp4" in row["error"] and row["error"].startswith("OSError")
        else:
            _assert_matches_pipeline(row, classifier, row["video"], top_k=2)
    if extension == ".csv":
        header = output.read_text().splitlines()[0]
        assert header == "video,label_1,score_1,label_2,score_2,error"


@pytest.mark.parametrize("extension", [".jsonl", ".csv"])
def test_resume_after_an_interrupted_run_appends_only_the_missing_videos(model_dir, videos, tmp_path, extension):
    output = tmp_path / f"predictions{extension}"
    arguments = ["--model_name_or_path", model_dir, "--videos", videos, "--output", output, "--num_workers", 0]
    _predict(*arguments)
    complete = read_predictions(str(output))
    # a run killed while writing: the last row is cut in the middle, another row never written
    text = output.read_text()
    lines = text.splitlines(keepends=True)
    output.write_text("".join(lines[:-2]) + lines[-2][: len(lines[-2]) // 2])
    summary = _predict(*arguments)
    assert summary["skipped"] == 2 and summary["rows"] == 4
    resumed = read_predictions(str(output))
    assert sorted(row["video"] for row in resumed) == sorted(row["video"] for row in complete)
    by_video = {row["video"]: row for row in complete}
    for row in resumed:
        assert row.keys() == by_video[row["video"]].keys()
        if "scores" in row:
            assert row["labels"] == by_video[row["video"]]["labels"]
            assert row["scores"] == pytest.approx(by_video[row["video"]]["scores"], rel=1e-5)
    # a finished output: nothing to do, nothing appended
    assert _predict(*arguments)["skipped"] == 4
    assert read_predictions(str(output)) == resumed


def test_retry_errors_classifies_the_fixed_video_again(model_dir, videos, tmp_path, make_video):
    output = tmp_path / "predictions.jsonl"
    arguments = ["--model_name_or_path", model_dir, "--videos", videos, "--output", output, "--num_workers", 0]
    _predict(*arguments)
    shutil.copyfile(videos / "a.mp4", videos / "broken.mp4")  # the broken video is fixed
    assert _predict(*arguments)["errors"] == 1  # a plain rerun keeps the error row
    summary = _predict(*arguments, "--retry_errors")
    rows = read_predictions(str(output))
    assert summary["errors"] == 0 and len(rows) == 4
    fixed = next(row for row in rows if row["video"].endswith("broken.mp4"))
    original = next(row for row in rows if row["video"].endswith("a.mp4"))
    assert fixed["labels"] == original["labels"]
    assert fixed["scores"] == pytest.approx(original["scores"], rel=1e-5, abs=1e-6)  # another batch


def test_resume_refuses_an_output_written_with_another_top_k(model_dir, videos, tmp_path):
    output = tmp_path / "predictions.csv"
    arguments = ["--model_name_or_path", model_dir, "--videos", videos, "--output", output]
    _predict(*arguments, "--top_k", 2, "--num_workers", 0)
    before = output.read_text()
    with pytest.raises(ValueError, match="top_k"):
        _predict(*arguments, "--top_k", 3)
    assert output.read_text() == before


def test_annotation_list_with_data_root_records_the_true_label(model_dir, classifier, videos, tmp_path):
    listing = tmp_path / "val.txt"
    listing.write_text("a.mp4 30 1\nsub/b.mkv 35 2\n")
    output = tmp_path / "predictions.jsonl"
    _predict(
        "--model_name_or_path", model_dir, "--annotation_list", listing, "--data_root", videos, "--output", output,
        "--top_k", 3, "--num_workers", 0,
    )
    rows = read_predictions(str(output))
    assert [row["video"] for row in rows] == [str(videos / "a.mp4"), str(videos / "sub/b.mkv")]
    assert [row["true_label"] for row in rows] == ["run", "jump"]  # the model's id2label names the list's ids
    for row in rows:
        _assert_matches_pipeline(row, classifier, row["video"], top_k=3)


def test_videofolder_layout_records_the_class_folder(model_dir, tmp_path, make_video):
    for name in ("jump/x.mp4", "run/y.mp4", "run/z.mp4"):
        (tmp_path / "tree" / name).parent.mkdir(parents=True, exist_ok=True)
        make_video(f"tree/{name}", num_frames=12)
    output = tmp_path / "predictions.csv"
    _predict(
        "--model_name_or_path", model_dir, "--videos", tmp_path / "tree", "--folder_layout", "videofolder",
        "--output", output, "--num_workers", 0,
    )
    rows = read_predictions(str(output))
    found = [(Path(row["video"]).name, row["true_label"]) for row in rows]
    assert found == [("x.mp4", "jump"), ("y.mp4", "run"), ("z.mp4", "run")]
    assert all(len(row["labels"]) == 3 for row in rows)  # top_k 5 is capped at the 3 classes


def test_datasets_source_with_video_bytes(model_dir, classifier, videos, tmp_path):
    import datasets

    paths = [videos / "a.mp4", videos / "c.mp4", videos / "broken.mp4"]
    features = datasets.Features(video=datasets.Video(decode=False), label=datasets.ClassLabel(names=list(LABELS)))
    table = {"video": [{"path": path.name, "bytes": path.read_bytes()} for path in paths], "label": [2, 0, 1]}
    datasets.DatasetDict(test=datasets.Dataset.from_dict(table, features=features)).save_to_disk(tmp_path / "ds")
    output = tmp_path / "predictions.jsonl"
    _predict(
        "--model_name_or_path", model_dir, "--dataset_name", tmp_path / "ds", "--label_column", "label",
        "--output", output, "--top_k", 2, "--num_workers", 1,
    )
    rows = read_predictions(str(output))
    assert [row["video"] for row in rows] == ["a.mp4", "c.mp4", "broken.mp4"]  # the paths of the Video values
    assert [row["true_label"] for row in rows] == ["jump", "walk", "run"]
    for row, path in zip(rows[:2], paths):
        _assert_matches_pipeline(row, classifier, path, top_k=2)
    assert "error" in rows[2]


def test_bfloat16_gives_the_float32_classes(model_dir, videos, tmp_path):
    rows = {}
    for dtype in ("float32", "bfloat16"):
        output = tmp_path / f"{dtype}.jsonl"
        arguments = ["--model_name_or_path", model_dir, "--videos", videos, "--output", output, "--dtype", dtype]
        _predict(*arguments, "--num_workers", 0)
        rows[dtype] = [row for row in read_predictions(str(output)) if "error" not in row]
    for full, half in zip(rows["float32"], rows["bfloat16"]):
        assert half["labels"][0] == full["labels"][0]
        assert half["scores"][0] == pytest.approx(full["scores"][0], abs=2e-2)


def test_leftover_part_files_of_an_interrupted_multi_process_run_are_merged(model_dir, videos, tmp_path):
    output = tmp_path / "predictions.jsonl"
    arguments = ["--model_name_or_path", model_dir, "--videos", videos, "--output", output, "--num_workers", 0]
    _predict(*arguments)
    rows = read_predictions(str(output))
    # as if process 1 of a killed 2-process run had written c.mp4 (and half of another row) but never merged it
    output.write_text("".join(json.dumps(row) + "\n" for row in rows[:2]))
    part = tmp_path / "predictions.jsonl.part00001.jsonl"
    part.write_text(json.dumps(rows[2]) + "\n" + json.dumps(rows[0]) + "\n" + '{"video": "x')
    summary = _predict(*arguments)
    assert summary["skipped"] == 3 and summary["rows"] == 4 and not part.exists()
    assert [row["video"] for row in read_predictions(str(output))] == [row["video"] for row in rows]


def test_compare_with_pipeline_times_both_on_the_same_videos_and_checks_agreement(model_dir, videos, tmp_path, capsys):
    output = tmp_path / "compare.jsonl"
    result = _predict(
        "--model_name_or_path", model_dir, "--videos", videos / "a.mp4", "--output", output,
        "--compare_with_pipeline", "--compare_num_videos", 5, "--compare_rounds", 2, "--num_workers", 1,
    )
    assert result["num_videos"] == 5
    assert len(result["times_s"]["predict.py"]) == len(result["times_s"]["pipeline loop"]) == 2
    assert result["ratio"] == pytest.approx(result["script_videos_per_s"] / result["pipeline_videos_per_s"])
    assert result["top1_agreement"] == 1.0 and result["max_score_difference"] < 1e-5
    rows = read_predictions(str(output))
    assert [row["video"] for row in rows] == [f"{videos / 'a.mp4'}#{index}" for index in range(5)]
    printed = capsys.readouterr().out
    assert "predict.py (batch 4, 1 decode workers)" in printed and "ratio predict.py / pipeline" in printed
    with pytest.raises(FileExistsError, match="writes a new --output"):
        _predict(
            "--model_name_or_path", model_dir, "--videos", videos / "a.mp4", "--output", output,
            "--compare_with_pipeline",
        )


def _worker_settings(_):
    from modeling_sllm import video_io

    return os.nice(0), video_io._DECODER_THREADS


def test_decode_workers_run_one_decoder_thread_at_the_lowest_priority():
    from torch.utils.data import DataLoader

    from modeling_sllm.inference.predict import decode_worker_init, default_batch_size

    before = os.nice(0)
    loader = DataLoader(range(1), num_workers=1, collate_fn=_worker_settings, worker_init_fn=decode_worker_init)
    niceness, threads = next(iter(loader))
    assert threads == 1
    assert niceness == min(before + 19, 19)
    assert os.nice(0) == before  # the main process (the model) keeps its priority
    assert default_batch_size("cpu") == 4 and default_batch_size(torch.device("cuda")) == 8


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="exactly one video source"):
        _predict("--model_name_or_path", "m", "--output", "o.jsonl")
    with pytest.raises(ValueError, match="--output must end with"):
        _predict("--model_name_or_path", "m", "--videos", "v", "--output", "o.txt")
    with pytest.raises(ValueError, match="batch_size"):
        _predict("--model_name_or_path", "m", "--videos", "v", "--output", "o.csv", "--batch_size", "0")
    with pytest.raises(ValueError, match="--compare_rounds sets the rounds of --compare_with_pipeline"):
        _predict("--model_name_or_path", "m", "--videos", "v", "--output", "o.csv", "--compare_rounds", "3")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.skipif(shutil.which("accelerate") is None, reason="the accelerate command is not installed")
def test_accelerate_launch_two_processes_writes_one_merged_output(model_dir, videos, tmp_path, make_video):
    (videos / "more").mkdir()
    for index in range(3):
        make_video(f"videos/more/{index}.mp4", num_frames=10 + index)
    reference = tmp_path / "one_process.jsonl"
    _predict("--model_name_or_path", model_dir, "--videos", videos, "--output", reference, "--num_workers", 0)
    output = tmp_path / "two_processes.jsonl"
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")
    command = [
        "accelerate", "launch", "--config_file", str(ROOT / "configs" / "accelerate" / "cpu_ddp.yaml"),
        "--num_processes", "2", "--main_process_port", str(_free_port()),
        str(ROOT / "scripts" / "predict.py"), "--model_name_or_path", str(model_dir), "--videos", str(videos),
        "--output", str(output), "--batch_size", "2", "--num_workers", "1",
    ]
    if not (ROOT / "configs" / "accelerate" / "cpu_ddp.yaml").is_file():
        command[2:4] = ["--multi_gpu"]
    completed = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-5000:]
    assert "7 rows for 7 videos (6 classified, 1 errors" in completed.stdout
    # each process classified its share
    assert "Process 1/2: 4 of the 7 videos" in completed.stdout
    assert "Process 2/2: 3 of the 7 videos" in completed.stdout
    rows, expected = read_predictions(str(output)), read_predictions(str(reference))
    assert [row["video"] for row in rows] == [row["video"] for row in expected]  # input order, each video once
    for row, reference_row in zip(rows, expected):
        assert row.keys() == reference_row.keys()
        if "scores" in row:
            assert row["labels"] == reference_row["labels"]
            assert row["scores"] == pytest.approx(reference_row["scores"], rel=1e-5)
    assert sorted(path.name for path in tmp_path.iterdir() if "part" in path.name) == []

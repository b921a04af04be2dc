"""`--streaming`: `save_to_disk` folders and WebDataset tar shards read as an IterableDataset, shuffled with a buffer,
split between processes with split_dataset_by_node (and not split again by accelerate), bad rows skipped, counted and
capped, unreadable shards named, and the user's command (`sllm-train ... --streaming`)."""

import io
import json
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
from pathlib import Path

import datasets
import pytest
import torch
from accelerate.data_loader import prepare_data_loader

from modeling_sllm import SLLMVideoProcessor
from modeling_sllm.data.arguments import SLLMDataArguments
from modeling_sllm.data.inputs import SLLMVideoTransform
from modeling_sllm.data.sources import load_video_datasets
from modeling_sllm.data.streaming import SLLMVideoStream, check_tar_shards, process_share, streaming_inputs
from modeling_sllm.demo.tiny_clip import save_tiny_random_clip
from modeling_sllm.training import cli as train_script
from modeling_sllm.training.arguments import SLLMTrainingArguments
from sllm_testing import tiny_config


ROOT = Path(__file__).resolve().parents[1]
CLASSES = ["walk", "run", "jump"]


@pytest.fixture(scope="module")
def tiny_clip_dir(tmp_path_factory):
    return save_tiny_random_clip(tmp_path_factory.mktemp("clip") / "tiny-clip")


@pytest.fixture
def clip_bytes(make_video):
    return make_video("clip.mp4", num_frames=12).read_bytes()


@pytest.fixture
def label_file(tmp_path):
    path = tmp_path / "labels.txt"
    path.write_text("".join(f"{i};{name};a person {name}s\n" for i, name in enumerate(CLASSES)))
    return str(path)


def _saved_dataset(path, clip_bytes, num_rows=8, bad=(), splits=("train", "validation")):
    """A `save_to_disk` DatasetDict of video bytes (rows in `bad` hold garbage), label i % 3, path `v{i}.mp4`."""
    features = datasets.Features(video=datasets.Video(decode=False), label=datasets.ClassLabel(names=CLASSES))
    rows = {
        "video": [{"bytes": b"not a video" if i in bad else clip_bytes, "path": f"v{i}.mp4"} for i in range(num_rows)],
        "label": [i % 3 for i in range(num_rows)],
    }
    dataset = datasets.Dataset.from_dict(rows, features=features)
    datasets.DatasetDict({split: dataset for split in splits}).save_to_disk(path)
    return str(path)


def _write_shards(folder, clip_bytes, num_shards=4, per_shard=3, split="train", label_ext="cls"):
    """WebDataset tar shards `{split}-0000k.tar`: samples `{key}.mp4` + `{key}.cls` (or `{key}.json`)."""
    folder.mkdir(parents=True, exist_ok=True)
    for shard in range(num_shards):
        with tarfile.open(folder / f"{split}-{shard:05d}.tar", "w") as archive:
            for k in range(per_shard):
                key, label = f"s{shard}k{k}", (shard * per_shard + k) % 3
                label_data = str(label) if label_ext == "cls" else json.dumps({"label": CLASSES[label]})
                for extension, data in (("mp4", clip_bytes), (label_ext, label_data.encode())):
                    info = tarfile.TarInfo(f"{key}.{extension}")
                    info.size = len(data)
                    archive.addfile(info, io.BytesIO(data))
    return folder


def _training_args(tmp_path, **kwargs):
    kwargs = {"max_steps": 2, "use_cpu": True, "report_to": "none", "dataloader_num_workers": 0, **kwargs}
    return SLLMTrainingArguments(output_dir=str(tmp_path / "out"), **kwargs)


class Echo:
    """A stand-in for the training transform: returns each row's name and label, so tests see which rows were read."""

    def __call__(self, batch):
        return {"source": batch["source"], "labels": batch["label"]}

    def set_epoch(self, epoch):
        pass


def _transform():
    return SLLMVideoTransform(SLLMVideoProcessor.from_model_config(tiny_config()), training=True, seed=0)


def test_a_saved_dataset_streams_model_inputs(tmp_path, clip_bytes):
    args = SLLMDataArguments(dataset_name=_saved_dataset(tmp_path / "saved", clip_bytes), streaming=True)
    training_args = _training_args(tmp_path)
    data = load_video_datasets(args, training_args)
    assert isinstance(data.datasets["train"], datasets.IterableDataset)
    assert isinstance(data.datasets["validation"], datasets.Dataset) and len(data.datasets["validation"]) == 8
    stream = streaming_inputs(data.datasets["train"], _transform(), data.labels, args, training_args)
    items = list(stream)
    assert len(items) == 8
    assert items[0]["pixel_values"].shape == (4, 3, 32, 32)
    assert items[0]["skipped_pixel_values"].shape == (3, 3, 32, 32)
    assert sorted(item["labels"] for item in items) == sorted(i % 3 for i in range(8))


def test_webdataset_tar_shards_stream_with_cls_or_json_labels(tmp_path, clip_bytes, label_file):
    shards = _write_shards(tmp_path / "shards", clip_bytes)
    args = SLLMDataArguments(
        dataset_name=str(shards), streaming=True, video_column="mp4", label_column="cls", label_file=label_file
    )
    training_args = _training_args(tmp_path)
    data = load_video_datasets(args, training_args)
    assert data.datasets["train"].num_shards == 4
    stream = streaming_inputs(data.datasets["train"], Echo(), data.labels, args, training_args)
    rows = list(stream)
    assert sorted(row["source"].rsplit(":", 1)[1] for row in rows) == sorted(
        f"s{s}k{k}" for s in range(4) for k in range(3)
    )
    assert all(row["labels"] == (int(row["source"][-3]) * 3 + int(row["source"][-1])) % 3 for row in rows)
    assert all(row["source"].split(":")[0].endswith(".tar") for row in rows)  # names the shard and the sample

    json_shards = _write_shards(tmp_path / "json_shards", clip_bytes, num_shards=2, label_ext="json")
    args = SLLMDataArguments(
        dataset_name=str(json_shards), streaming=True, video_column="mp4", label_column="json.label",
        label_file=label_file,
    )
    data = load_video_datasets(args, training_args)
    items = list(streaming_inputs(data.datasets["train"], _transform(), data.labels, args, training_args))
    assert len(items) == 6 and items[0]["pixel_values"].shape == (4, 3, 32, 32)
    assert sorted(item["labels"] for item in items) == sorted(i % 3 for i in range(6))


def test_the_validation_split_of_tar_shards_is_written_once_to_an_arrow_file(
    tmp_path, clip_bytes, label_file, monkeypatch
):
    """Streaming trains on a stream; evaluation needs a length: the validation shards become a memory-mapped Arrow
    file of the datasets cache (once: a second run reuses it)."""
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "cache"))
    shards = _write_shards(tmp_path / "shards", clip_bytes, num_shards=2)
    _write_shards(shards, clip_bytes, num_shards=1, per_shard=4, split="validation")
    args = SLLMDataArguments(
        dataset_name=str(shards), streaming=True, video_column="mp4", label_column="cls", label_file=label_file
    )
    data = load_video_datasets(args, _training_args(tmp_path))
    validation = data.datasets["validation"]
    assert isinstance(validation, datasets.Dataset) and len(validation) == 4
    assert validation.cache_files and validation.cache_files[0]["filename"].startswith(str(tmp_path / "cache"))
    rows = validation.with_format(None)
    assert [row["label"] for row in rows] == [0, 1, 2, 0]
    assert rows[0]["video"]["bytes"] == clip_bytes and rows[0]["source"].endswith("validation-00000.tar:s0k0")
    again = load_video_datasets(args, _training_args(tmp_path)).datasets["validation"]
    assert again.cache_files == validation.cache_files


def test_two_processes_read_disjoint_shares_that_accelerate_does_not_split_again(tmp_path, clip_bytes):
    args = SLLMDataArguments(dataset_name=_saved_dataset(tmp_path / "saved", clip_bytes, num_rows=12), streaming=True)
    data = load_video_datasets(args, _training_args(tmp_path))
    seen = []
    for rank in (0, 1):
        share = process_share(data.datasets["train"], args, seed=7, rank=rank, world_size=2)
        stream = SLLMVideoStream.of(share, Echo(), data.labels, args)
        # what the Trainer does with it in a 2-process run: accelerate's prepare_data_loader, batches not dispatched
        loader = prepare_data_loader(
            torch.utils.data.DataLoader(stream, batch_size=2, collate_fn=lambda rows: rows),
            num_processes=2, process_index=rank, put_on_device=False, dispatch_batches=False,
        )
        seen.append([row["source"] for batch in loader for row in batch])
    assert len(seen[0]) == len(seen[1]) == 6
    assert not set(seen[0]) & set(seen[1])
    assert sorted(seen[0] + seen[1]) == sorted(f"{args.dataset_name}[train][{i}]" for i in range(12))


def test_the_shuffle_buffer_is_used_with_the_run_seed(tmp_path, clip_bytes):
    args = SLLMDataArguments(
        dataset_name=_saved_dataset(tmp_path / "saved", clip_bytes, num_rows=12), streaming=True,
        shuffle_buffer_size=5,
    )
    data = load_video_datasets(args, _training_args(tmp_path))

    def order(seed):
        share = process_share(data.datasets["train"], args, seed=seed, rank=0, world_size=1)
        assert share._ex_iterable.buffer_size == 5  # a buffer shuffle of --shuffle_buffer_size rows
        return [row["source"] for row in SLLMVideoStream.of(share, Echo(), data.labels, args)]

    first, again, other = order(1), order(1), order(2)
    unshuffled = [f"{args.dataset_name}[train][{i}]" for i in range(12)]
    assert first == again and sorted(first) == sorted(unshuffled)
    assert first != unshuffled and first != other


def test_streaming_without_max_steps_is_refused(tmp_path, clip_bytes, tiny_clip_dir):
    dataset = _saved_dataset(tmp_path / "saved", clip_bytes)
    with pytest.raises(ValueError, match=r"--streaming .* give --max_steps N"):
        train_script.main(
            ["--clip_model_name_or_path", str(tiny_clip_dir), "--dataset_name", dataset, "--streaming",
             "--output_dir", str(tmp_path / "out"), "--do_train", "--use_cpu", "--report_to", "none"]
        )
    with pytest.raises(ValueError, match="--streaming reads a `datasets` source"):
        load_video_datasets(SLLMDataArguments(train_dir=str(tmp_path), streaming=True), _training_args(tmp_path))


def test_a_bad_sample_is_skipped_logged_and_counted(tmp_path, clip_bytes, caplog):
    args = SLLMDataArguments(
        dataset_name=_saved_dataset(tmp_path / "saved", clip_bytes, bad=(3,), splits=("train",)), streaming=True,
        max_bad_videos=1,
    )
    training_args = _training_args(tmp_path)
    data = load_video_datasets(args, training_args)
    stream = streaming_inputs(data.datasets["train"], _transform(), data.labels, args, training_args)
    caplog.set_level(logging.WARNING)
    items = list(stream)
    assert len(items) == 7
    assert [bad.name for bad in stream.reader.bad] == ["v3.mp4"]
    assert "Skipping a video that cannot be read (1 of at most 1" in caplog.text and "v3.mp4" in caplog.text


def test_more_bad_samples_than_the_cap_stop_the_run_naming_them(tmp_path, clip_bytes):
    args = SLLMDataArguments(
        dataset_name=_saved_dataset(tmp_path / "saved", clip_bytes, bad=(2, 5), splits=("train",)), streaming=True,
        max_bad_videos=1, shuffle_buffer_size=1,
    )
    training_args = _training_args(tmp_path)
    data = load_video_datasets(args, training_args)
    stream = streaming_inputs(data.datasets["train"], _transform(), data.labels, args, training_args)
    with pytest.raises(ValueError, match=r"2 videos of the stream .* more than --max_bad_videos 1") as error:
        list(stream)
    assert "v2.mp4" in str(error.value) and "v5.mp4" in str(error.value)
    assert "[train][2]" in str(error.value)  # and the row


def test_a_shard_that_cannot_be_opened_is_named(tmp_path, clip_bytes, label_file):
    shards = _write_shards(tmp_path / "shards", clip_bytes)
    broken = shards / "train-00002.tar"
    broken.write_bytes(broken.read_bytes()[:3000])  # truncated inside a sample
    (shards / "train-00003.tar").write_bytes(b"not a tar archive")
    with pytest.raises(OSError, match="2 of 4 tar shards cannot be opened") as error:
        check_tar_shards(sorted(str(path) for path in shards.glob("*.tar")))
    assert "train-00002.tar" in str(error.value) and "train-00003.tar" in str(error.value)
    args = SLLMDataArguments(
        dataset_name=str(shards), streaming=True, video_column="mp4", label_column="cls", label_file=label_file
    )
    with pytest.raises(OSError, match="train-00002.tar"):
        load_video_datasets(args, _training_args(tmp_path))

    # not checked at start-up (--validate_data none): the read fails with a clear error, never a hang
    args.validate_data = "none"
    (shards / "train-00003.tar").unlink()
    data = load_video_datasets(args, _training_args(tmp_path))
    stream = streaming_inputs(data.datasets["train"], Echo(), data.labels, args, _training_args(tmp_path))
    with pytest.raises(OSError, match=r"Reading the stream .* is unreadable or truncated") as error:
        list(stream)
    assert "1 of 3 tar shards cannot be opened" in str(error.value) and "train-00002.tar" in str(error.value)


def test_streaming_training_with_the_cli(tmp_path, clip_bytes, tiny_clip_dir):
    dataset = _saved_dataset(tmp_path / "saved", clip_bytes, num_rows=6)
    output_dir = tmp_path / "out"
    results = train_script.main(
        ["--clip_model_name_or_path", str(tiny_clip_dir), "--dataset_name", dataset, "--streaming",
         "--max_steps", "3", "--shuffle_buffer_size", "4", "--output_dir", str(output_dir),
         "--num_frames", "2", "--keep_interval", "2", "--restoration_num_layers", "1", "--temporal_num_layers", "1",
         "--per_device_train_batch_size", "2", "--per_device_eval_batch_size", "3", "--do_train", "--do_eval",
         "--eval_strategy", "no", "--report_to", "none", "--use_cpu", "--dataloader_num_workers", "0",
         "--disable_tqdm", "true"]
    )
    state = json.loads((output_dir / "trainer_state.json").read_text())
    assert state["global_step"] == 3
    assert 0.0 <= results["eval_top1"] <= 1.0 and results["train_loss"] > 0
    assert (output_dir / "model.safetensors").is_file()


@pytest.mark.skipif(shutil.which("torchrun") is None, reason="torchrun is not installed")
def test_two_data_parallel_processes_stream_disjoint_shares(tmp_path, make_video, tiny_clip_dir):
    """torchrun, 2 CPU processes, --streaming: each process decodes its own rows (together all, none twice), the
    gradients are synchronised (identical parameters) and the model is saved once."""
    clip = make_video("clip.mp4", num_frames=12).read_bytes()
    dataset = _saved_dataset(tmp_path / "saved", clip, num_rows=8, splits=("train",))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (tmp_path / "reports").mkdir()
    env = dict(os.environ, SLLM_DDP_REPORT_DIR=str(tmp_path / "reports"), OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "ACCELERATE_USE_CPU"):
        env.pop(name, None)
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(port),
        str(ROOT / "tests" / "ddp_worker.py"), "--clip_model_name_or_path", str(tiny_clip_dir),
        "--dataset_name", dataset, "--streaming", "--max_steps", "2", "--shuffle_buffer_size", "3",
        "--output_dir", str(tmp_path / "out"), "--num_frames", "2", "--keep_interval", "2",
        "--restoration_num_layers", "1", "--temporal_num_layers", "1", "--per_device_train_batch_size", "2",
        "--do_train", "--report_to", "none", "--save_strategy", "no", "--dataloader_num_workers", "0",
        "--disable_tqdm", "true", "--use_cpu", "--ddp_backend", "gloo",
    ]  # fmt: skip
    completed = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-6000:]
    reports = [json.loads((tmp_path / "reports" / f"rank{rank}.json").read_text()) for rank in (0, 1)]
    decoded = [sorted(re.findall(r"'path': '(v\d+\.mp4)'", " ".join(report["videos"]))) for report in reports]
    assert len(decoded[0]) == len(decoded[1]) == 4  # 2 steps x 2 videos each
    assert not set(decoded[0]) & set(decoded[1])
    assert sorted(decoded[0] + decoded[1]) == sorted(f"v{i}.mp4" for i in range(8))
    assert reports[0]["world_size"] == reports[1]["world_size"] == "2"
    assert reports[0]["params"] == reports[1]["params"]
    assert len(reports[0]["saves"]) == 1 and reports[1]["saves"] == []

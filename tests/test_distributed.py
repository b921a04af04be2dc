"""Data-parallel training in 2 processes on the CPU (gloo) with the same script: each process decodes a different
shard of the videos, the gradients are synchronised (identical parameters after training) and one model is saved,
by the main process only. The `accelerate launch` form of the same run is in test_accelerate_launch.py."""

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from test_training import _moving_square  # noqa: F401  (shared video maker)
from modeling_sllm.demo.tiny_clip import save_tiny_random_clip


ROOT = Path(__file__).resolve().parents[1]
NUM_VIDEOS = 8


def _free_port() -> int:
    """A port no one listens on now (a fixed port fails when another test run on the machine holds it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def tiny_ddp_run(tmp_path: Path, make_video) -> tuple[list[str], dict[str, str]]:
    """Writes 8 small training videos (2 classes) and a tiny CLIP under `tmp_path`; returns the training arguments of
    a short run into `tmp_path/out` and the environment of its processes (reports in `tmp_path/reports`)."""
    for label, direction in (("left", -1), ("right", 1)):
        (tmp_path / "train" / label).mkdir(parents=True)
        for i in range(NUM_VIDEOS // 2):
            make_video(f"train/{label}/{i}.mp4", frames=_moving_square(12, direction, seed=i))
    clip_dir = save_tiny_random_clip(tmp_path / "clip")
    (tmp_path / "reports").mkdir()
    env = dict(os.environ, SLLM_DDP_REPORT_DIR=str(tmp_path / "reports"), OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "ACCELERATE_USE_CPU"):
        env.pop(name, None)
    arguments = [
        "--clip_model_name_or_path", str(clip_dir),
        "--train_dir", str(tmp_path / "train"),
        "--output_dir", str(tmp_path / "out"),
        "--num_frames", "2", "--keep_interval", "2",
        "--restoration_num_layers", "1", "--temporal_num_layers", "1",
        "--per_device_train_batch_size", "2", "--num_train_epochs", "1",
        "--learning_rate", "1e-3", "--do_train",
        "--report_to", "none",
        "--save_strategy", "no", "--dataloader_num_workers", "0", "--disable_tqdm", "true",
    ]
    return arguments, env


def assert_data_parallel(tmp_path: Path, completed: subprocess.CompletedProcess) -> None:
    """2 processes in one gloo group, disjoint shards covering all videos, identical parameters, one save."""
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-6000:]
    assert "terminate called" not in completed.stderr
    reports = tmp_path / "reports"
    assert sorted(path.name for path in reports.iterdir()) == ["rank0.json", "rank1.json"]
    rank0 = json.loads((reports / "rank0.json").read_text())
    rank1 = json.loads((reports / "rank1.json").read_text())
    assert rank0["world_size"] == rank1["world_size"] == "2"
    assert rank0["backend"] == rank1["backend"] == "gloo"
    # each process decoded its own shard: together all 8 videos, no video on both
    assert len(rank0["videos"]) == len(rank1["videos"]) == NUM_VIDEOS // 2
    assert not set(rank0["videos"]) & set(rank1["videos"])
    assert len(set(rank0["videos"]) | set(rank1["videos"])) == NUM_VIDEOS
    # synchronised gradients: identical parameters after the optimiser steps
    assert rank0["params"] == rank1["params"]
    # one model folder, written once, by the main process
    assert len(rank0["saves"]) == 1 and rank1["saves"] == []
    output_dir = tmp_path / "out"
    assert (output_dir / "model.safetensors").is_file()
    assert sorted(p.name for p in output_dir.iterdir() if p.name.startswith("checkpoint")) == []
    # the output folder's lock is gone with the run
    assert not (tmp_path / ".out.sllm-lock").exists()


@pytest.mark.skipif(shutil.which("torchrun") is None, reason="torchrun is not installed")
def test_two_process_ddp_training(tmp_path, make_video):
    arguments, env = tiny_ddp_run(tmp_path, make_video)
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(_free_port()),
        str(ROOT / "tests" / "ddp_worker.py"), *arguments, "--use_cpu", "--ddp_backend", "gloo",
    ]
    completed = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert_data_parallel(tmp_path, completed)

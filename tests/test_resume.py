"""Resuming loses nothing and changes nothing: `--resume_from_checkpoint latest` takes the newest COMPLETE checkpoint
(half-written ones are skipped and logged), a kill at any filesystem operation of a checkpoint write leaves only
complete `checkpoint-N` folders, and a run killed and resumed ends with exactly the parameters of an uninterrupted
run (each clip's random draws depend only on (seed, epoch, index))."""

import json
import logging
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from transformers import TrainerCallback

from modeling_sllm import SLLMVideoProcessor
from modeling_sllm.data.arguments import SLLMDataArguments
from modeling_sllm.data.inputs import SLLMTrainingDataset, SLLMVideoTransform, sllm_collate_fn
from modeling_sllm.training import cli as train_script
from modeling_sllm.training.arguments import SLLMTrainingArguments
from modeling_sllm.training.checkpoints import (
    checkpoint_problems,
    latest_complete_checkpoint,
    list_checkpoints,
    remove_stale_staging,
    resolve_resume_checkpoint,
)
from modeling_sllm.training.trainer import SLLMTrainer
from sllm_testing import random_frames, tiny_config, tiny_model
from test_output_dir import kill_at, kill_points


def _train_args(clip_dir, video_tree, output_dir, *extra):
    return [
        "--clip_model_name_or_path", str(clip_dir),
        "--train_dir", str(video_tree / "train"),
        "--output_dir", str(output_dir),
        "--num_frames", "2", "--keep_interval", "2", "--restoration_num_layers", "1", "--temporal_num_layers", "1",
        "--per_device_train_batch_size", "2", "--learning_rate", "1e-3", "--vision_tower_lr_ratio", "1.0",
        "--warmup_steps", "1", "--do_train", "--eval_strategy", "no", "--logging_steps", "1",
        "--report_to", "none", "--use_cpu", "--dataloader_num_workers", "0", "--disable_tqdm", "true",
        *extra,
    ]


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory):
    from modeling_sllm.demo.tiny_clip import save_tiny_random_clip

    return save_tiny_random_clip(tmp_path_factory.mktemp("clip") / "tiny-clip")


@pytest.fixture
def video_tree(tmp_path, make_video, frame_content):
    """6 training videos of 24 frames (3 steps of 2 per epoch)."""
    for label, offset in (("left", 0), ("right", 100)):
        (tmp_path / "train" / label).mkdir(parents=True)
        for i in range(3):
            make_video(f"train/{label}/{i}.mp4", frames=[frame_content(offset + 10 * i + t) for t in range(24)])
    return tmp_path


@pytest.fixture
def single_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# ------------------------------------------------------------------------------------------------------------------
# Complete checkpoints only


def _damage(checkpoint: Path, how: str) -> None:
    if how == "missing optimizer":
        (checkpoint / "optimizer.pt").unlink()
    elif how == "0-byte state":
        (checkpoint / "trainer_state.json").write_bytes(b"")
    elif how == "truncated weights":
        data = (checkpoint / "model.safetensors").read_bytes()
        (checkpoint / "model.safetensors").write_bytes(data[: len(data) // 2])
    elif how == "missing rng":
        (checkpoint / "rng_state.pth").unlink()
    elif how == "truncated scheduler":
        data = (checkpoint / "scheduler.pt").read_bytes()
        (checkpoint / "scheduler.pt").write_bytes(data[:-10])


def test_latest_skips_half_written_checkpoints_and_resumes_from_the_newest_complete_one(
    tmp_path, clip_dir, video_tree, caplog
):
    run = tmp_path / "run"
    common = ("--max_steps", "4", "--save_strategy", "steps", "--save_steps", "1")
    train_script.main(_train_args(clip_dir, video_tree, run, *common))
    assert [step for step, _ in list_checkpoints(run)] == [4, 3, 2, 1]
    assert all(not checkpoint_problems(path) for _, path in list_checkpoints(run))
    assert not [name for name in os.listdir(run) if name.startswith(".tmp-checkpoint")]
    for how in ("missing rng", "truncated scheduler"):  # copies of checkpoint-1, damaged
        copy = tmp_path / how / "checkpoint-1"
        shutil.copytree(run / "checkpoint-1", copy)
        _damage(copy, how)
    assert checkpoint_problems(tmp_path / "missing rng" / "checkpoint-1") == ["rng_state.pth is missing"]
    assert checkpoint_problems(tmp_path / "truncated scheduler" / "checkpoint-1")[0].startswith(
        "scheduler.pt is unreadable"
    )
    damages = {4: "missing optimizer", 3: "0-byte state", 2: "truncated weights"}
    for step, how in damages.items():
        _damage(run / f"checkpoint-{step}", how)
    problems = {step: checkpoint_problems(run / f"checkpoint-{step}") for step in damages}
    assert problems[4] == ["optimizer.pt is missing"]
    assert problems[3][0].startswith("trainer_state.json is unreadable (0 bytes")
    assert problems[2][0].startswith("model.safetensors is unreadable") and "not fully covered" in problems[2][0]

    caplog.set_level(logging.WARNING)
    assert resolve_resume_checkpoint("latest", run) == str(run / "checkpoint-1")
    messages = [record.getMessage() for record in caplog.records]
    skipped = [message for message in messages if "Skipping incomplete checkpoint" in message]
    assert len(skipped) == 3 and "checkpoint-4: optimizer.pt is missing" in skipped[0]
    with pytest.raises(ValueError, match=r"Cannot resume from .*checkpoint-3: trainer_state.json is unreadable"):
        resolve_resume_checkpoint(str(run / "checkpoint-3"), run)

    # the user's command resumes from checkpoint-1 and trains to step 4 again
    first_loss = [e["loss"] for e in json.loads((run / "checkpoint-1" / "trainer_state.json").read_text())[
        "log_history"] if "loss" in e]
    train_script.main(_train_args(clip_dir, video_tree, run, *common, "--resume_from_checkpoint", "latest"))
    state = json.loads((run / "trainer_state.json").read_text())
    assert state["global_step"] == 4
    losses = {entry["step"]: entry["loss"] for entry in state["log_history"] if "loss" in entry}
    assert sorted(losses) == [1, 2, 3, 4] and [losses[1]] == first_loss
    assert all(not checkpoint_problems(path) for _, path in list_checkpoints(run))  # rewritten whole

    shutil.rmtree(run)
    with pytest.raises(ValueError, match="has no complete checkpoint"):
        resolve_resume_checkpoint("latest", run)


def _tiny_trainer(output_dir: Path, **overrides) -> SLLMTrainer:
    config = tiny_config()
    frames = random_frames(config, batch_size=4, num_frames=config.num_frames * config.keep_interval)
    rows = [{"pixel_values": frames[i, :: config.keep_interval], "labels": i % 3} for i in range(4)]
    args = SLLMTrainingArguments(
        output_dir=str(output_dir), max_steps=2, save_strategy="steps", save_steps=1, per_device_train_batch_size=2,
        report_to="none", use_cpu=True, dataloader_num_workers=0, disable_tqdm=True, logging_strategy="no",
        **overrides,
    )
    return SLLMTrainer(model=tiny_model(), args=args, train_dataset=rows, data_collator=sllm_collate_fn,
                       processing_class=SLLMVideoProcessor.from_model_config(config))


def _check_resumable(path: str) -> None:
    """The files of a checkpoint load as the Trainer loads them."""
    json.loads(Path(path, "trainer_state.json").read_text())
    load_file(os.path.join(path, "model.safetensors"))
    from transformers.trainer_pt_utils import safe_globals

    with safe_globals():  # the numpy RNG state, as the Trainer loads it
        for name in ("optimizer.pt", "scheduler.pt", "rng_state.pth"):
            torch.load(os.path.join(path, name), weights_only=True)


@pytest.mark.parametrize(  # without rotation too for the README's counts
    "save_total_limit", [None, 1] if os.environ.get("SLLM_EXHAUSTIVE_KILLS") == "1" else [1]
)
def test_a_kill_at_any_operation_of_a_checkpoint_write_leaves_only_complete_checkpoints(tmp_path, save_total_limit):
    run = tmp_path / "run"
    trainer = _tiny_trainer(run, save_total_limit=save_total_limit)
    trainer.train()
    expected_before = [2] if save_total_limit == 1 else [2, 1]
    assert [step for step, _ in list_checkpoints(run)] == expected_before
    snapshot = tmp_path / "snapshot"
    shutil.copytree(run, snapshot)
    trainer.state.global_step = 3  # the next checkpoint

    def write_checkpoint():
        trainer._save_checkpoint(trainer.model, trial=None)

    def reset():
        shutil.rmtree(run)
        shutil.copytree(snapshot, run)

    outcomes = {"old": 0, "new": 0}
    for operation in kill_points(write_checkpoint, tmp_path, reset):
        assert kill_at(operation, write_checkpoint)
        for _, path in list_checkpoints(run):  # no checkpoint-N is ever half-written
            assert checkpoint_problems(path) == [], path
        latest = latest_complete_checkpoint(run)
        assert latest in (str(run / "checkpoint-2"), str(run / "checkpoint-3"))
        _check_resumable(latest)
        outcomes["new" if latest.endswith("checkpoint-3") else "old"] += 1
        remove_stale_staging(run)
        assert not [name for name in os.listdir(run) if name.startswith(".tmp-checkpoint")]
        reset()
    print(f"\ncheckpoint write (save_total_limit={save_total_limit}): {sum(outcomes.values())} kills, "
          f"previous checkpoint resumed {outcomes['old']}, new one {outcomes['new']}, lost 0")
    assert outcomes["old"] > 5 and outcomes["new"] >= 1
    write_checkpoint()
    assert [step for step, _ in list_checkpoints(run)] == ([3] if save_total_limit == 1 else [3, 2, 1])
    assert trainer.state.best_model_checkpoint is None


# ------------------------------------------------------------------------------------------------------------------
# Resumed = uninterrupted


def test_clip_draws_depend_only_on_seed_epoch_and_index(tmp_path, make_video, frame_content):
    from modeling_sllm.data.sources import load_video_datasets

    for label in ("a", "b"):
        (tmp_path / "train" / label).mkdir(parents=True)
        for i in range(2):
            make_video(f"train/{label}/{i}.mp4", frames=[frame_content(t) for t in range(30)])
    data_args = SLLMDataArguments(train_dir=str(tmp_path / "train"))
    rows = load_video_datasets(data_args).datasets["train"]
    config = tiny_config(num_frames=2, keep_interval=2)
    transform = SLLMVideoTransform.for_model(config, data_args, training=True, seed=5)
    dataset = SLLMTrainingDataset(rows, transform)

    batch = dataset.__getitems__([3, 0, 2])
    alone = [dataset[3], dataset[0], dataset[2]]
    for together, single in zip(batch, alone):  # order and batching do not matter
        assert torch.equal(together["pixel_values"], single["pixel_values"])
        assert torch.equal(together["skipped_pixel_values"], single["skipped_pixel_values"])
    assert not torch.equal(dataset[0]["pixel_values"], dataset[1]["pixel_values"])  # same video, other index

    epoch0 = dataset[1]["pixel_values"]
    dataset.set_epoch(1)
    epoch1 = dataset[1]["pixel_values"]
    assert not torch.equal(epoch0, epoch1)
    again = SLLMTrainingDataset(rows, SLLMVideoTransform.for_model(config, data_args, training=True, seed=5))
    again.set_epoch(1)
    assert torch.equal(again[1]["pixel_values"], epoch1)
    seed6 = SLLMTrainingDataset(rows, SLLMVideoTransform.for_model(config, data_args, training=True, seed=6))
    assert not torch.equal(seed6[1]["pixel_values"], epoch0)

    # persistent DataLoader workers see set_epoch (the epoch lives in shared memory)
    loader = torch.utils.data.DataLoader(dataset, batch_size=2, num_workers=2, persistent_workers=True,
                                         collate_fn=sllm_collate_fn)
    for epoch in (0, 1):
        dataset.set_epoch(epoch)
        from_workers = torch.cat([batch["pixel_values"] for batch in loader])
        in_process = torch.stack([dataset[index]["pixel_values"] for index in range(4)])
        assert torch.equal(from_workers, in_process), epoch


def _changes(values: list) -> list:
    return [value for position, value in enumerate(values) if position == 0 or values[position - 1] != value]


class _Killed(Exception):
    pass


def _killed_at(step: int):
    class KillAt(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == step:
                raise _Killed(f"killed at step {step}")

    class KilledTrainer(SLLMTrainer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.add_callback(KillAt())

    return KilledTrainer


def test_a_run_killed_and_resumed_ends_with_the_parameters_of_an_uninterrupted_run(
    tmp_path, clip_dir, video_tree, single_thread, monkeypatch
):
    """7 steps over 3 epochs of 3 steps; killed after step 5, resumed from checkpoint-4 (epoch 1, 1 batch in)."""
    epochs = []
    set_epoch = SLLMTrainingDataset.set_epoch
    monkeypatch.setattr(
        SLLMTrainingDataset, "set_epoch", lambda self, epoch: (epochs.append(epoch), set_epoch(self, epoch))
    )
    common = ("--max_steps", "7", "--save_strategy", "steps", "--save_steps", "2")
    uninterrupted = tmp_path / "uninterrupted"
    train_script.main(_train_args(clip_dir, video_tree, uninterrupted, *common))
    assert _changes(epochs) == [0, 1, 2]  # set before each epoch (by SLLMTrainer, and by accelerate on one process)

    resumed = tmp_path / "resumed"
    with monkeypatch.context() as patch:
        patch.setattr(train_script, "SLLMTrainer", _killed_at(5))
        with pytest.raises(_Killed):
            train_script.main(_train_args(clip_dir, video_tree, resumed, *common))
    assert [step for step, _ in list_checkpoints(resumed)] == [4, 2]
    assert not (resumed / "model.safetensors").exists()
    epochs.clear()
    train_script.main(_train_args(clip_dir, video_tree, resumed, *common, "--resume_from_checkpoint", "latest"))
    assert _changes(epochs) == [1, 2]  # the resumed epoch, then the next

    expected, found = load_file(uninterrupted / "model.safetensors"), load_file(resumed / "model.safetensors")
    assert sorted(found) == sorted(expected)
    different = [name for name in expected if not torch.equal(found[name], expected[name])]
    assert not different, f"{len(different)} tensors differ, e.g. {different[:3]}"
    histories = [
        json.loads((run / "trainer_state.json").read_text())["log_history"] for run in (uninterrupted, resumed)
    ]
    losses = [{entry["step"]: entry["loss"] for entry in history if "loss" in entry} for history in histories]
    assert losses[0] == losses[1] and sorted(losses[0]) == list(range(1, 8))
    assert np.isfinite(list(losses[0].values())).all()

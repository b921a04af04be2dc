"""The training's output folder loses nothing: a second run into a trained folder is refused (exit code, message,
nothing changed), `--overwrite_output_dir` replaces the model and never merges the old run's results, and a kill at
ANY filesystem operation of the final save leaves a folder that loads the old model or the new one (never a mix).

Kills are real: a forked child process runs the save and SIGKILLs itself at its k-th filesystem operation (counted
with an audit hook), for every k until the save completes."""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from modeling_sllm import SLLMForVideoClassification, SLLMVideoProcessor
from modeling_sllm.training import cli as train_script
from modeling_sllm.training import outputs
from modeling_sllm.training.outputs import (
    SLLMOutputDirError,
    check_output_dir,
    recover_interrupted_swap,
    staged_output_dir,
)
from sllm_testing import tiny_model


ROOT = Path(__file__).resolve().parents[1]
# Filesystem operations a kill is tried before (Python audit events; `open` also covers os.open).
FILESYSTEM_EVENTS = {
    "open", "os.rename", "os.link", "os.symlink", "os.remove", "os.rmdir", "os.mkdir", "shutil.rmtree",
    "shutil.copyfile", "os.truncate", "sllm.outputs.exchange",
}


def kill_at(operation: int, function, count_file: str | None = None) -> bool:
    """Runs `function` in a forked child that SIGKILLs itself right before its `operation`-th filesystem operation.
    Returns True if the child was killed, False if `function` completed before that operation (then the number of
    operations it made is written to `count_file`)."""
    pid = os.fork()
    if pid == 0:  # the child: never returns
        count, renames = [0], []

        def hook(event, args):
            if event in FILESYSTEM_EVENTS:
                count[0] += 1
                if event in ("os.rename", "sllm.outputs.exchange"):
                    renames.append(count[0])
                if count[0] == operation:
                    os.kill(os.getpid(), signal.SIGKILL)

        try:
            os.fsync = lambda descriptor: None  # flushing to disk matters for power cuts, not for kills: skip (speed)
            sys.addaudithook(hook)
            function()
            if count_file:
                record = json.dumps({"total": count[0], "renames": renames})
                os.write(os.open(count_file, os.O_WRONLY | os.O_CREAT), record.encode())
        except BaseException:
            import traceback

            traceback.print_exc()
            os._exit(3)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        assert os.WTERMSIG(status) == signal.SIGKILL
        return True
    assert os.WEXITSTATUS(status) == 0, f"the save failed (exit {os.WEXITSTATUS(status)}) instead of completing"
    return False


def kill_points(function, scratch: Path, reset) -> list[int]:
    """The operations to kill `function` at: all of them with SLLM_EXHAUSTIVE_KILLS=1 (the README's counts), else
    every 4th one and every one from 4 before the first rename to 4 after the last. `reset` restores the state
    after the counting run."""
    count_file = str(scratch / "operations.json")
    assert not kill_at(10**9, function, count_file)
    record = json.loads(Path(count_file).read_text())
    os.remove(count_file)
    reset()
    total, renames = record["total"], record["renames"]
    if os.environ.get("SLLM_EXHAUSTIVE_KILLS") == "1":
        return list(range(1, total + 1))
    dense = range(max(1, min(renames) - 4), min(total, max(renames) + 4) + 1) if renames else range(0)
    return sorted(set(range(1, total + 1, 4)) | set(dense))


def _leftovers(folder: Path) -> list[str]:
    """Staging or previous folders of a final save left beside `folder/run`."""
    return [name for name in os.listdir(folder) if name.startswith(".run.") and name.endswith((".sllm-final",
                                                                                              ".sllm-previous"))]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): _digest(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def _save_model(folder: Path, model: SLLMForVideoClassification) -> None:
    model.save_pretrained(folder)
    SLLMVideoProcessor.from_model_config(model.config).save_pretrained(folder)


# ------------------------------------------------------------------------------------------------------------------
# Refusing a trained folder


def test_the_guard_names_the_folder_and_both_ways_out(tmp_path):
    run = tmp_path / "run"
    check_output_dir(run, do_train=True, resume_from_checkpoint=None, overwrite_output_dir=False)  # missing: fine
    run.mkdir()
    (run / "notes.txt").write_text("mine")
    check_output_dir(run, do_train=True, resume_from_checkpoint=None, overwrite_output_dir=False)  # unrelated files
    (run / "checkpoint-7").mkdir()
    with pytest.raises(SLLMOutputDirError) as error:
        check_output_dir(run, do_train=True, resume_from_checkpoint=None, overwrite_output_dir=False)
    message = str(error.value)
    assert str(run) in message and "checkpoint-7" in message
    assert "--resume_from_checkpoint latest" in message and "--overwrite_output_dir" in message
    check_output_dir(run, do_train=True, resume_from_checkpoint="latest", overwrite_output_dir=False)
    check_output_dir(run, do_train=True, resume_from_checkpoint=None, overwrite_output_dir=True)

    _save_model(run, tiny_model())  # evaluating the model saved in the folder itself is not a new run
    check_output_dir(run, do_train=False, resume_from_checkpoint=None, overwrite_output_dir=False,
                     model_name_or_path=str(run))
    with pytest.raises(SLLMOutputDirError, match="config.json"):
        check_output_dir(run, do_train=False, resume_from_checkpoint=None, overwrite_output_dir=False,
                         model_name_or_path=str(tmp_path / "other"))


def _train_args(clip_dir, video_tree, output_dir, *extra):
    return [
        "--clip_model_name_or_path", str(clip_dir),
        "--train_dir", str(video_tree / "train"),
        "--validation_dir", str(video_tree / "validation"),
        "--output_dir", str(output_dir),
        "--num_frames", "2", "--keep_interval", "2", "--restoration_num_layers", "1", "--temporal_num_layers", "1",
        "--per_device_train_batch_size", "2", "--per_device_eval_batch_size", "2",
        "--do_train", "--eval_strategy", "no", "--save_strategy", "no",
        "--report_to", "none", "--use_cpu", "--dataloader_num_workers", "0", "--disable_tqdm", "true",
        *extra,
    ]


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory):
    from modeling_sllm.demo.tiny_clip import save_tiny_random_clip

    return save_tiny_random_clip(tmp_path_factory.mktemp("clip") / "tiny-clip")


@pytest.fixture
def two_class_tree(tmp_path, make_video, frame_content):
    for split in ("train", "validation"):
        for label, offset in (("left", 0), ("right", 40)):
            (tmp_path / split / label).mkdir(parents=True)
            make_video(f"{split}/{label}/0.mp4", frames=[frame_content(offset + i) for i in range(8)])
    return tmp_path


def _old_ten_class_run(run: Path) -> dict[str, str]:
    """The folder an earlier 10-class run left: model, checkpoint, logs, and its results (top-1 0.9)."""
    torch.manual_seed(1)
    _save_model(run, tiny_model(id2label={index: f"class{index}" for index in range(10)}))
    (run / "checkpoint-50").mkdir()
    (run / "checkpoint-50" / "trainer_state.json").write_text(json.dumps({"global_step": 50}))
    (run / "runs").mkdir()
    (run / "runs" / "events.out").write_bytes(b"old logs")
    (run / "eval_results.json").write_text(json.dumps({"eval_top1": 0.9, "eval_num_videos": 500}))
    (run / "test_results.json").write_text(json.dumps({"test_top1": 0.88}))
    (run / "all_results.json").write_text(json.dumps({"eval_top1": 0.9, "test_top1": 0.88, "train_loss": 0.1}))
    return _snapshot(run)


def test_a_second_train_run_into_a_trained_folder_exits_non_zero_and_changes_nothing(tmp_path, clip_dir,
                                                                                     two_class_tree):
    run = tmp_path / "run"
    before = _old_ten_class_run(run)
    command = [sys.executable, str(ROOT / "scripts" / "train.py"),
               *_train_args(clip_dir, two_class_tree, run, "--max_steps", "1")]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    finished = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert finished.returncode != 0
    assert str(run) in finished.stderr
    assert "--resume_from_checkpoint latest" in finished.stderr and "--overwrite_output_dir" in finished.stderr
    assert "Traceback" not in finished.stderr  # a user error, not a crash
    assert _snapshot(run) == before
    assert sorted(os.listdir(tmp_path)) == sorted(["run", "train", "validation"])  # nothing written beside it


def test_overwrite_replaces_the_model_and_all_results_hold_only_the_new_run(tmp_path, clip_dir, two_class_tree):
    """The issue's case: a 2-class model trained over a 10-class one must not report the 10-class top-1."""
    run = tmp_path / "run"
    _old_ten_class_run(run)
    train_script.main(_train_args(clip_dir, two_class_tree, run, "--max_steps", "1", "--overwrite_output_dir"))

    model = SLLMForVideoClassification.from_pretrained(run)
    assert model.config.id2label == {0: "left", 1: "right"}
    everything = json.loads((run / "all_results.json").read_text())
    assert "train_loss" in everything and everything["train_loss"] != 0.1
    assert not any(key.startswith(("eval_", "test_")) for key in everything)  # no eval in this run: none reported
    assert not (run / "eval_results.json").exists() and not (run / "test_results.json").exists()
    assert not (run / "checkpoint-50").exists()  # the old run's checkpoints are gone
    assert (run / "runs" / "events.out").read_bytes() == b"old logs"  # unknown entries are kept
    assert _leftovers(tmp_path) == []


# ------------------------------------------------------------------------------------------------------------------
# Kills during the final save


@pytest.fixture
def old_and_new(tmp_path):
    """An output folder with an old 2-class model, a checkpoint and logs; the files of a new 3-class model."""
    run, new = tmp_path / "run", tmp_path / "new"
    torch.manual_seed(0)
    old_model = tiny_model(seed=0, id2label={0: "a", 1: "b"})
    _save_model(run, old_model)
    (run / "eval_results.json").write_text(json.dumps({"eval_top1": 0.25}))
    (run / "checkpoint-3").mkdir()
    (run / "checkpoint-3" / "optimizer.pt").write_bytes(os.urandom(4096))
    (run / "checkpoint-3" / "trainer_state.json").write_text(json.dumps({"global_step": 3}))
    (run / "runs").mkdir()
    (run / "runs" / "events.out").write_bytes(b"logs")
    new_model = tiny_model(seed=1)
    _save_model(new, new_model)
    (new / "train_results.json").write_text(json.dumps({"train_loss": 1.5}))
    states = {
        "old": (_digest(run / "config.json"), _digest(run / "model.safetensors")),
        "new": (_digest(new / "config.json"), _digest(new / "model.safetensors")),
    }
    kept = {name: digest for name, digest in _snapshot(run).items() if name.startswith(("checkpoint-3", "runs"))}
    return run, new, states, kept, {"old": old_model, "new": new_model}


def _final_save(run: Path, new: Path):
    def save():
        with staged_output_dir(run) as staging:
            for name in sorted(os.listdir(new)):
                shutil.copyfile(new / name, os.path.join(staging, name))

    return save


def _loads_old_or_new(run: Path, states, kept, models, load: bool = False) -> str:
    """Which model `run` holds ('old' or 'new'): its config and weights are byte for byte those of one model (and,
    with `load`, `from_pretrained` gives that model's weights); nothing else was lost."""
    found = (_digest(run / "config.json"), _digest(run / "model.safetensors"))
    which = [name for name, digests in states.items() if digests == found]
    assert which, "config.json and the weights are of different models (a mix)"
    which = which[0]
    if load:
        model = SLLMForVideoClassification.from_pretrained(run)
        for name, value in models[which].state_dict().items():
            assert torch.equal(model.state_dict()[name], value), name
        assert SLLMVideoProcessor.from_pretrained(run).num_frames == 4
    assert json.loads((run / "video_preprocessor_config.json").read_text())["num_frames"] == 4
    assert {n: d for n, d in _snapshot(run).items() if n.startswith(("checkpoint-3", "runs"))} == kept
    if which == "new":
        assert not (run / "eval_results.json").exists()  # the old run's results went with the old model
        assert json.loads((run / "train_results.json").read_text()) == {"train_loss": 1.5}
    else:
        assert json.loads((run / "eval_results.json").read_text()) == {"eval_top1": 0.25}
    return which


def _kill_everywhere(run, new, states, kept, models, *, atomic: bool) -> dict[str, int]:
    def reset():
        shutil.rmtree(run)
        shutil.copytree(new.parent / "kept", run)

    seen, loaded = {"old": 0, "new": 0}, set()
    for operation in kill_points(_final_save(run, new), new.parent, reset):
        assert kill_at(operation, _final_save(run, new))
        if atomic:  # the path output_dir is a whole folder at every instant, before any recovery
            seen[_loads_old_or_new(run, states, kept, models)] += 1
        recover_interrupted_swap(run)
        assert not _leftovers(run.parent)
        after = _loads_old_or_new(run, states, kept, models)
        if after not in loaded:  # from_pretrained once per outcome (the bytes are compared at every kill)
            _loads_old_or_new(run, states, kept, models, load=True)
            loaded.add(after)
        if not atomic:
            seen[after] += 1
        if after == "new":  # start the next kill from the old folder again
            reset()
    assert not kill_at(10**9, _final_save(run, new))
    assert _loads_old_or_new(run, states, kept, models, load=True) == "new"  # the uninterrupted save
    return seen


@pytest.mark.parametrize("atomic", [True, False], ids=["rename-exchange", "two-renames-fallback"])
def test_a_kill_at_any_operation_of_the_final_save_leaves_the_old_or_the_new_model(old_and_new, monkeypatch,
                                                                                   atomic):
    run, new, states, kept, models = old_and_new
    shutil.copytree(run, new.parent / "kept")  # the old folder, to start every kill from it
    if not atomic:
        monkeypatch.setattr(outputs, "_exchange", lambda first, second: False)
    seen = _kill_everywhere(run, new, states, kept, models, atomic=atomic)
    print(f"\nfinal save ({'exchange' if atomic else 'fallback'}): {sum(seen.values())} kills, "
          f"old model kept {seen['old']}, new model complete {seen['new']}, lost 0")
    assert seen["old"] > 5  # kills during the writing of the new files
    assert seen["new"] >= 1  # kills after the swap (cleaning up)


def test_a_failing_save_leaves_the_old_folder_untouched(old_and_new):
    run, new, states, kept, models = old_and_new
    before = _snapshot(run)
    with pytest.raises(OSError, match="disk full"):
        with staged_output_dir(run) as staging:
            shutil.copyfile(new / "config.json", os.path.join(staging, "config.json"))
            raise OSError("disk full")
    assert _snapshot(run) == before
    assert not _leftovers(run.parent)


def test_a_swap_that_fails_names_the_new_model_and_leaves_the_old_folder(old_and_new, monkeypatch):
    run, new, states, kept, models = old_and_new
    before = _snapshot(run)
    real_rename = os.rename

    def refuse_staging(source, target, *args, **kwargs):
        if str(source).endswith(".sllm-final"):
            raise PermissionError(13, "Permission denied", str(source))
        return real_rename(source, target, *args, **kwargs)

    monkeypatch.setattr(outputs, "_exchange", lambda first, second: False)
    monkeypatch.setattr(os, "rename", refuse_staging)
    with pytest.raises(OSError, match=r"is unchanged and the new model's files are in .*\.run\.sllm-final"):
        _final_save(run, new)()
    monkeypatch.setattr(os, "rename", real_rename)
    assert _snapshot(run) == before
    assert (run.parent / ".run.sllm-final" / "model.safetensors").read_bytes() == (
        new / "model.safetensors"
    ).read_bytes()

# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
Trainer checkpoints that survive a kill: written whole or not at all, and only complete ones resumed.

Writing ([`stage_checkpoint`], used by `SLLMTrainer._save_checkpoint`): the Trainer writes `checkpoint-N` (model,
processor, optimizer, scheduler, RNG states of every process, trainer state) into `output_dir/.tmp-checkpoint-N/`;
when every process is done its files are flushed to disk and the folder is renamed to `output_dir/checkpoint-N` in
one `rename`. A kill at any moment leaves either no `checkpoint-N` or a complete one, plus at most a hidden
`.tmp-checkpoint-N` folder that the next run removes ([`remove_stale_staging`]). `transformers.Trainer` (5.x) writes
straight into `checkpoint-N`, which a kill leaves half-written.

Resuming ([`resolve_resume_checkpoint`]): `latest` is the newest COMPLETE checkpoint ([`checkpoint_problems`]: trainer
state, config and weights, optimizer, scheduler, RNG state of every process present and readable); the skipped ones
are logged with the reason. An explicitly named checkpoint that is incomplete is an error naming the missing file.
"""

import json
import os
import re
import shutil
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager

from transformers.trainer_utils import sort_checkpoints
from transformers.utils import logging

from modeling_sllm.data.files import fsync_dir


__all__ = [
    "CHECKPOINT_STAGING_PREFIX",
    "checkpoint_problems",
    "delete_checkpoint",
    "fsync_dir",
    "fsync_tree",
    "latest_complete_checkpoint",
    "list_checkpoints",
    "remove_stale_staging",
    "resolve_resume_checkpoint",
    "rotate_checkpoints",
    "stage_checkpoint",
]

logger = logging.get_logger(__name__)

CHECKPOINT_STAGING_PREFIX = ".tmp-checkpoint-"
_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")
# Files of a checkpoint written with torch.save (zip archives: a truncated one has no central directory).
_TORCH_FILES = ("optimizer.pt", "scheduler.pt")


def list_checkpoints(output_dir: str | os.PathLike) -> list[tuple[int, str]]:
    """`(step, path)` of the `checkpoint-N` folders of `output_dir`, newest (highest step) first."""
    output_dir = os.fspath(output_dir)
    if not os.path.isdir(output_dir):
        return []
    found = []
    for name in os.listdir(output_dir):
        match = _CHECKPOINT.match(name)
        if match and os.path.isdir(os.path.join(output_dir, name)):
            found.append((int(match.group(1)), os.path.join(output_dir, name)))
    return sorted(found, reverse=True)


def _torch_file_problem(path: str) -> str | None:
    if not os.path.isfile(path):
        return f"{os.path.basename(path)} is missing"
    try:
        with zipfile.ZipFile(path) as archive:
            archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        return f"{os.path.basename(path)} is unreadable ({os.path.getsize(path)} bytes: {exc})"
    return None


def _json_problem(path: str) -> str | None:
    if not os.path.isfile(path):
        return f"{os.path.basename(path)} is missing"
    try:
        with open(path, encoding="utf-8") as handle:
            json.load(handle)
    except (ValueError, OSError) as exc:
        return f"{os.path.basename(path)} is unreadable ({os.path.getsize(path)} bytes: {exc})"
    return None


def _safetensors_problem(path: str) -> str | None:
    from safetensors import safe_open

    if not os.path.isfile(path):
        return f"{os.path.basename(path)} is missing"
    try:  # safetensors checks that the header is whole and that the data covers every tensor
        with safe_open(path, framework="pt") as handle:
            handle.keys()
    except Exception as exc:  # SafetensorError has no public class to catch
        return f"{os.path.basename(path)} is unreadable ({os.path.getsize(path)} bytes: {exc})"
    return None


def _weights_problems(path: str) -> list[str]:
    single, index = os.path.join(path, "model.safetensors"), os.path.join(path, "model.safetensors.index.json")
    if os.path.exists(single):
        problem = _safetensors_problem(single)
        return [problem] if problem else []
    if os.path.exists(index):
        problem = _json_problem(index)
        if problem:
            return [problem]
        with open(index, encoding="utf-8") as handle:
            shards = sorted(set(json.load(handle).get("weight_map", {}).values()))
        if not shards:
            return ["model.safetensors.index.json lists no weight files"]
        return [problem for shard in shards if (problem := _safetensors_problem(os.path.join(path, shard)))]
    if os.path.exists(os.path.join(path, "pytorch_model.bin")):
        problem = _torch_file_problem(os.path.join(path, "pytorch_model.bin"))
        return [problem] if problem else []
    return ["no model weights (model.safetensors)"]


def _rng_problems(path: str, world_size: int) -> list[str]:
    """
    The RNG states: `rng_state.pth` (written by one process) or `rng_state_0.pth`, ..., one per process; resumed by
    `world_size > 1` processes, a multi-process checkpoint needs the file of each of them. A checkpoint written by
    another number of processes is complete, but its resume is not exact (the Trainer restores no RNG state then):
    logged.
    """
    ranks = sorted(int(m.group(1)) for name in os.listdir(path) if (m := re.match(r"^rng_state_(\d+)\.pth$", name)))
    single = os.path.exists(os.path.join(path, "rng_state.pth"))
    if ranks and not single:
        names = [f"rng_state_{rank}.pth" for rank in range(max(max(ranks) + 1, world_size))]
    else:
        names = ["rng_state.pth"]
    problems = [problem for name in names if (problem := _torch_file_problem(os.path.join(path, name)))]
    written_by = 1 if names == ["rng_state.pth"] else len(names)
    if not problems and written_by != world_size:
        logger.warning(
            f"{path} was written by {written_by} process(es) and is resumed by {world_size}: the random state is not "
            "restored, so the resumed run will not repeat the interrupted one exactly."
        )
    return problems


def checkpoint_problems(path: str | os.PathLike, world_size: int = 1) -> list[str]:
    """
    Why the checkpoint folder `path` cannot be resumed from (empty list: it is complete): each of
    `trainer_state.json` (JSON whose `global_step` is the folder's N), `config.json`, the model weights (safetensors
    whose header and data are whole, every shard of an index), `optimizer.pt`, `scheduler.pt` (readable torch
    archives) and the RNG state of every process that wrote it (`rng_state.pth`, or `rng_state_{rank}.pth`; all
    `world_size` of them when resumed by several processes) must be present and readable.
    """
    path = os.fspath(path)
    if not os.path.isdir(path):
        return [f"{path} is not a folder"]
    problems = []
    state_file = os.path.join(path, "trainer_state.json")
    problem = _json_problem(state_file)
    if problem:
        problems.append(problem)
    else:
        with open(state_file, encoding="utf-8") as handle:
            step = json.load(handle).get("global_step")
        match = _CHECKPOINT.match(os.path.basename(os.path.normpath(path)))
        if match and step != int(match.group(1)):
            problems.append(f"trainer_state.json is at step {step}, not {match.group(1)}")
    problem = _json_problem(os.path.join(path, "config.json"))
    if problem:
        problems.append(problem)
    problems.extend(_weights_problems(path))
    problems.extend(problem for name in _TORCH_FILES if (problem := _torch_file_problem(os.path.join(path, name))))
    problems.extend(_rng_problems(path, world_size))
    if os.path.exists(os.path.join(path, "scaler.pt")):
        problem = _torch_file_problem(os.path.join(path, "scaler.pt"))
        if problem:
            problems.append(problem)
    return problems


def latest_complete_checkpoint(output_dir: str | os.PathLike, world_size: int = 1) -> str | None:
    """The newest complete `checkpoint-N` of `output_dir` (see [`checkpoint_problems`]); each newer incomplete one is
    logged with its problems. `None` when there is no complete checkpoint."""
    for step, path in list_checkpoints(output_dir):
        problems = checkpoint_problems(path, world_size)
        if not problems:
            return path
        logger.warning(f"Skipping incomplete checkpoint {path}: {'; '.join(problems)}.")
    return None


def resolve_resume_checkpoint(
    resume_from_checkpoint: str | None, output_dir: str | os.PathLike, world_size: int = 1
) -> str | None:
    """
    The checkpoint folder to resume from: `None` for none, the newest complete checkpoint of `output_dir` for
    `"latest"`, else the given folder once checked. Raises `ValueError` naming the folder and its missing or broken
    files when there is no complete checkpoint to resume from.
    """
    if resume_from_checkpoint is None:
        return None
    if str(resume_from_checkpoint).lower() == "latest":
        checkpoint = latest_complete_checkpoint(output_dir, world_size)
        if checkpoint is None:
            found = [path for _, path in list_checkpoints(output_dir)]
            detail = f" (incomplete: {', '.join(found)})" if found else ""
            raise ValueError(
                f"resume_from_checkpoint=latest but {os.fspath(output_dir)} has no complete checkpoint{detail}."
            )
        logger.warning(f"Resuming from {checkpoint}, the newest complete checkpoint of {os.fspath(output_dir)}.")
        return checkpoint
    problems = checkpoint_problems(resume_from_checkpoint, world_size)
    if problems:
        raise ValueError(
            f"Cannot resume from {resume_from_checkpoint}: {'; '.join(problems)}. Use `--resume_from_checkpoint "
            "latest` to take the newest complete checkpoint."
        )
    return os.fspath(resume_from_checkpoint)


def fsync_tree(path: str) -> None:
    """Flushes every file of the folder `path` (and the folders themselves) to disk, so that a rename made after it
    never points to data still in memory when the machine loses power."""
    for root, _, files in os.walk(path):
        for name in files:
            descriptor = os.open(os.path.join(root, name), os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
        fsync_dir(root)


def remove_stale_staging(output_dir: str | os.PathLike) -> list[str]:
    """Removes the `.tmp-checkpoint-N` folders a killed run left in `output_dir` (never a `checkpoint-N`); returns
    their paths (logged)."""
    output_dir = os.fspath(output_dir)
    if not os.path.isdir(output_dir):
        return []
    removed = []
    for name in sorted(os.listdir(output_dir)):
        if name.startswith(CHECKPOINT_STAGING_PREFIX):
            path = os.path.join(output_dir, name)
            shutil.rmtree(path)
            removed.append(path)
    if removed:
        logger.warning(f"Removed {len(removed)} partly written checkpoint folder(s) of an interrupted run: {removed}")
    return removed


def delete_checkpoint(path: str | os.PathLike) -> None:
    """Deletes a checkpoint folder without ever leaving a half-deleted `checkpoint-N`: renamed to a hidden staging
    name first (one rename), then removed."""
    path = os.path.normpath(os.fspath(path))
    hidden = os.path.join(os.path.dirname(path), f"{CHECKPOINT_STAGING_PREFIX}{os.path.basename(path)}.removed")
    if os.path.exists(hidden):
        shutil.rmtree(hidden)
    os.rename(path, hidden)
    shutil.rmtree(hidden)


def rotate_checkpoints(run_dir: str, save_total_limit: int | None, best_model_checkpoint: str | None = None) -> None:
    """
    The Trainer's `save_total_limit` policy (keep the newest `save_total_limit` checkpoints, always the most recent
    and the best one; order as `transformers.trainer_utils.sort_checkpoints` with modification times) with each
    deletion made by [`delete_checkpoint`].
    """
    if save_total_limit is None or save_total_limit <= 0:
        return
    checkpoints = sort_checkpoints(run_dir, use_mtime=True)
    protected = {checkpoints[-1]} if checkpoints else set()
    if best_model_checkpoint is not None:
        protected.add(os.path.normpath(best_model_checkpoint))
    removable = [path for path in checkpoints if path not in protected]
    excess = len(checkpoints) - max(save_total_limit, len(protected))
    for path in removable[: max(excess, 0)]:
        delete_checkpoint(path)


@contextmanager
def stage_checkpoint(run_dir: str, step: int, *, is_main_process: bool, wait_for_everyone) -> Iterator[str]:
    """
    Context of one checkpoint write: yields the staging folder `run_dir/.tmp-checkpoint-N` that the Trainer writes
    `checkpoint-N` into (as `<staging>/checkpoint-N`), then (main process) flushes it and renames it to
    `run_dir/checkpoint-N`. Every process must enter it (the RNG states of all processes go into the same folder);
    `wait_for_everyone` is the processes' barrier. A `checkpoint-N` already there (a run resumed from an earlier
    step) is replaced by the new one: moved into the staging folder first, deleted after the rename.

    Nothing is renamed if the write raises: the staging folder is left for [`remove_stale_staging`].
    """
    staging = os.path.join(run_dir, f"{CHECKPOINT_STAGING_PREFIX}{step}")
    name = f"checkpoint-{step}"
    if is_main_process and os.path.exists(staging):
        shutil.rmtree(staging)
    wait_for_everyone()
    yield staging
    wait_for_everyone()  # every process has written its files
    if is_main_process:
        written = os.path.join(staging, name)
        fsync_tree(written)
        final = os.path.join(run_dir, name)
        previous = None
        if os.path.exists(final):
            previous = os.path.join(staging, f"previous-{name}")
            os.rename(final, previous)
        os.rename(written, final)
        fsync_dir(run_dir)
        shutil.rmtree(staging)
    wait_for_everyone()

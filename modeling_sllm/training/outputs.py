# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
The training's `output_dir`, kept safe: a run never silently replaces another run's model, never reports another
run's numbers, and a kill at any moment leaves a folder that loads (the old model or the new one, never a mix).

- [`check_output_dir`]: a training run refuses an `output_dir` that holds a model or checkpoints unless it resumes
  (`--resume_from_checkpoint latest`) or is told to replace them (`--overwrite_output_dir`); it changes nothing.
- [`staged_output_dir`]: the final model (weights, config, video processor, trainer state, results) is written to a
  staging folder BESIDE `output_dir` (`<parent>/.<name>.sllm-final`). The other entries of `output_dir`
  (checkpoints, logs, unknown files) are hard-linked into it (no copy, and the old folder stays untouched), the
  previous final files and result files are left out (never merged), everything is flushed to disk, then the two
  folders are swapped with ONE `renameat2(RENAME_EXCHANGE)` call: at every instant the path `output_dir` is a whole
  folder, the old one before the call, the new one after. `from_pretrained(output_dir)` therefore always loads a
  consistent model. (Renaming files one by one with `os.replace` is atomic per file, not for the set: a kill in
  between leaves a new `config.json` beside old weights.) Where the exchange is not available (not Linux, or a
  filesystem without it) two renames are used (`output_dir` -> `.<name>.sllm-previous`, staging -> `output_dir`);
  a kill between them leaves `output_dir` missing for an instant, and [`recover_interrupted_swap`] (run at the
  start of every training) completes the swap.
- [`write_json_atomically`] / [`write_file_atomically`]: single files written to a temporary file, flushed and
  renamed over the old one (results written after the model, the model card).
"""

import ctypes
import errno
import fnmatch
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from transformers.utils import logging

from modeling_sllm.data.files import fsync_dir, write_file_atomically

from .checkpoints import CHECKPOINT_STAGING_PREFIX, delete_checkpoint, fsync_tree, list_checkpoints


__all__ = [
    "FINAL_FILE_PATTERNS",
    "SLLMOutputDirError",
    "check_output_dir",
    "previous_run_outputs",
    "recover_interrupted_swap",
    "remove_previous_checkpoints",
    "staged_output_dir",
    "write_file_atomically",
    "write_json_atomically",
]

logger = logging.get_logger(__name__)

# Files of a trained model in `output_dir` (what `from_pretrained` reads): their presence means "a model is here".
MODEL_FILE_PATTERNS = ("config.json", "*.safetensors", "*.safetensors.index.json", "pytorch_model*.bin")
# Files the final save of a run writes or that describe the model they sit beside: a new final save leaves the
# previous ones out (weights, configs, processor, results, model card, remote code, evaluation reports).
FINAL_FILE_PATTERNS = MODEL_FILE_PATTERNS + (
    "*.bin.index.json",
    "generation_config.json",
    "*preprocessor_config.json",
    "processor_config.json",
    "*_results.json",
    "results.json",
    "trainer_state.json",
    "training_args.bin",
    "README.md",
    "*.py",
    "per_class.csv",
    "confusion_matrix.png",
    "*report.json",
)
_STAGING_SUFFIX, _PREVIOUS_SUFFIX = ".sllm-final", ".sllm-previous"


class SLLMOutputDirError(ValueError):
    """`output_dir` holds the results of an earlier run that this run would replace: the message says how to go on."""


def _matches(name: str, patterns) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def previous_run_outputs(output_dir: str | os.PathLike) -> list[str]:
    """Names of the entries of `output_dir` that belong to an earlier run: model files, `checkpoint-N` folders
    (complete or not), `trainer_state.json` (empty list for a missing or unrelated folder)."""
    output_dir = os.fspath(output_dir)
    if not os.path.isdir(output_dir):
        return []
    found = [os.path.basename(path) for _, path in sorted(list_checkpoints(output_dir))]
    patterns = MODEL_FILE_PATTERNS + ("trainer_state.json",)
    for name in sorted(os.listdir(output_dir)):
        if os.path.isfile(os.path.join(output_dir, name)) and _matches(name, patterns):
            found.append(name)
    return found


def check_output_dir(
    output_dir: str | os.PathLike,
    *,
    do_train: bool,
    resume_from_checkpoint: str | None,
    overwrite_output_dir: bool,
    model_name_or_path: str | None = None,
) -> None:
    """
    Refuses (raises [`SLLMOutputDirError`], changing nothing) an `output_dir` that holds a model or checkpoints of an
    earlier run, unless the run resumes (`resume_from_checkpoint`), is told to replace them (`overwrite_output_dir`),
    or only evaluates the model saved in that very folder (`model_name_or_path` is `output_dir`, no training).
    """
    found = previous_run_outputs(output_dir)
    if not found or resume_from_checkpoint is not None or overwrite_output_dir:
        return
    same_folder = model_name_or_path is not None and os.path.isdir(model_name_or_path) and os.path.samefile(
        model_name_or_path, output_dir
    )
    if not do_train and same_folder:
        return
    shown = ", ".join(found[:6]) + (", ..." if len(found) > 6 else "")
    raise SLLMOutputDirError(
        f"The output folder {os.fspath(output_dir)!r} already holds a model or checkpoints of an earlier run "
        f"({shown}); this run would replace them. Pass `--resume_from_checkpoint latest` to continue that run, or "
        "`--overwrite_output_dir` to replace it (its checkpoints are deleted when the training starts, its model "
        "and results when the new model is saved), or choose another --output_dir."
    )


def remove_previous_checkpoints(output_dir: str | os.PathLike) -> list[str]:
    """`--overwrite_output_dir`: deletes the `checkpoint-N` folders of the earlier run (renamed to a hidden name
    first, so a kill never leaves a half-deleted `checkpoint-N` that looks like a checkpoint). Returns their paths."""
    removed = []
    for _, path in list_checkpoints(output_dir):
        delete_checkpoint(path)
        removed.append(path)
    if removed:
        logger.warning(f"--overwrite_output_dir: deleted {len(removed)} checkpoint(s) of the earlier run: {removed}")
    return removed


# ---------------------------------------------------------------------------------------------------- single files


def write_json_atomically(path: str | os.PathLike, value) -> None:
    """`value` as JSON (indent 4, sorted keys: the format of `Trainer.save_metrics`), written atomically."""
    write_file_atomically(path, json.dumps(value, indent=4, sort_keys=True) + "\n")


# ----------------------------------------------------------------------------------------------- the final folder


def _sibling(output_dir: str, suffix: str) -> str:
    return os.path.join(os.path.dirname(output_dir), f".{os.path.basename(output_dir)}{suffix}")


def _real_output_dir(output_dir: str | os.PathLike) -> str:
    # a symlinked output_dir is swapped where it points to (the link keeps pointing to it)
    return os.path.realpath(os.path.abspath(os.fspath(output_dir)))


def recover_interrupted_swap(output_dir: str | os.PathLike) -> None:
    """
    Completes or undoes a final save that a kill interrupted, and removes its leftovers: if `output_dir` is missing
    between the two renames of the fallback swap, the (complete) staging folder becomes `output_dir`, or the previous
    folder comes back; staging and previous folders left beside an existing `output_dir` are deleted.
    """
    output_dir = _real_output_dir(output_dir)
    staging, previous = _sibling(output_dir, _STAGING_SUFFIX), _sibling(output_dir, _PREVIOUS_SUFFIX)
    if not os.path.exists(output_dir) and os.path.isdir(previous):
        # the staging folder is renamed into place only after it was complete, so it is whole if it exists
        source = staging if os.path.isdir(staging) else previous
        os.rename(source, output_dir)
        logger.warning(f"Completed an interrupted save of {output_dir} (from {source}).")
    for leftover in (staging, previous):
        if os.path.isdir(leftover):
            shutil.rmtree(leftover)
            logger.warning(f"Removed {leftover}, left by an interrupted save.")


def _link_entry(path: str, destination: str) -> None:
    """Recreates `path` at `destination`: folders entry by entry, files as hard links (copies where links fail)."""
    if os.path.islink(path):
        os.symlink(os.readlink(path), destination)
    elif os.path.isdir(path):
        os.makedirs(destination, exist_ok=True)
        for name in os.listdir(path):
            _link_entry(os.path.join(path, name), os.path.join(destination, name))
    else:
        try:
            os.link(path, destination)
        except OSError:  # filesystems without hard links
            shutil.copy2(path, destination)


def _carry_over(output_dir: str, staging: str) -> list[str]:
    """Links the entries of the old `output_dir` that the new final save keeps into `staging`: everything except the
    previous final files (`FINAL_FILE_PATTERNS`), checkpoint staging folders and what `staging` already has."""
    if not os.path.isdir(output_dir):
        return []
    dropped = []
    for name in os.listdir(output_dir):
        path = os.path.join(output_dir, name)
        if name.startswith(CHECKPOINT_STAGING_PREFIX):
            continue
        previous_final_file = os.path.isfile(path) and _matches(name, FINAL_FILE_PATTERNS)
        if previous_final_file or os.path.exists(os.path.join(staging, name)):
            dropped.append(name)
            continue
        _link_entry(path, os.path.join(staging, name))
    return sorted(dropped)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(first: str, second: str) -> bool:
    """Swaps two existing paths in one atomic step (Linux `renameat2(RENAME_EXCHANGE)`); `False` if unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    sys.audit("sllm.outputs.exchange", first, second)
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), first, None, second)


def _swap_into_place(staging: str, output_dir: str) -> None:
    cwd = os.getcwd()
    if not os.path.exists(output_dir):
        os.rename(staging, output_dir)
    elif _exchange(staging, output_dir):
        shutil.rmtree(staging)  # now the old folder; its kept files live on through the hard links
    else:
        previous = _sibling(output_dir, _PREVIOUS_SUFFIX)
        os.rename(output_dir, previous)
        try:
            os.rename(staging, output_dir)
        except OSError:
            os.rename(previous, output_dir)  # the old folder back in place
            raise
        shutil.rmtree(previous)
    fsync_dir(os.path.dirname(output_dir))
    if os.path.realpath(cwd).startswith(output_dir + os.sep) or os.path.realpath(cwd) == output_dir:
        os.chdir(cwd)  # the process was inside the old folder: enter the same path in the new one


@contextmanager
def staged_output_dir(
    output_dir: str | os.PathLike,
    *,
    is_main_process: bool = True,
    wait_for_everyone: Callable[[], None] = lambda: None,
) -> Iterator[str]:
    """
    Context of the final save: yields the staging folder beside `output_dir` to write the final model and its
    results into, then (main process, once every process is done) carries over the other entries of `output_dir`,
    flushes everything and swaps the staging folder into place (see the module docstring). Every process must enter
    it (some Trainer saves gather the weights from all processes). If the body raises, `output_dir` is untouched and
    the staging folder is deleted.
    """
    output_dir = _real_output_dir(output_dir)
    staging = _sibling(output_dir, _STAGING_SUFFIX)
    if is_main_process:
        os.makedirs(os.path.dirname(output_dir), exist_ok=True)
        recover_interrupted_swap(output_dir)
        os.makedirs(staging)
    wait_for_everyone()
    try:
        yield staging
    except BaseException:
        if is_main_process:
            shutil.rmtree(staging, ignore_errors=True)
        raise
    wait_for_everyone()
    if is_main_process:
        try:
            dropped = _carry_over(output_dir, staging)
            if dropped:
                logger.info(f"Replacing the final files of {output_dir}: {dropped}")
            fsync_tree(staging)
            _swap_into_place(staging, output_dir)
        except OSError as error:  # e.g. a full disk or a folder that cannot be renamed: the old folder is untouched
            raise OSError(
                f"Could not put the new model in place of {output_dir} ({error}); {output_dir} is unchanged and the "
                f"new model's files are in {staging}: move them yourself (the next sllm-train run into {output_dir} "
                "deletes that folder)."
            ) from error
        logger.info(f"Saved the final model to {output_dir}")
    wait_for_everyone()

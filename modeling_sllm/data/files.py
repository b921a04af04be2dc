# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""Files written whole or not at all: the one atomic writer of results, cards, reports and training outputs."""

import os


__all__ = ["fsync_dir", "write_file_atomically"]


def fsync_dir(path: str) -> None:
    """Flushes the entries of the folder `path` (new names, renames) to disk, where the platform allows it."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:  # platforms without directory descriptors (Windows)
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass  # some filesystems refuse fsync on folders; the rename is still atomic
    finally:
        os.close(descriptor)


def write_file_atomically(path: str | os.PathLike, data: str | bytes) -> None:
    """Writes `data` to `path` through a temporary file in the same folder, flushed and renamed over `path`: readers
    see the old file or the new one, never a part."""
    path = os.fspath(path)
    temporary = f"{path}.tmp-{os.getpid()}"
    mode = "wb" if isinstance(data, bytes) else "w"
    try:
        with open(temporary, mode, **({} if isinstance(data, bytes) else {"encoding": "utf-8"})) as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    fsync_dir(os.path.dirname(os.path.abspath(path)))

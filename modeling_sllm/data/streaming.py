# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
`--streaming`: the training split of a `datasets` source read as a stream (`datasets.IterableDataset`), so that
memory does not grow with the dataset, for a Hub id, a loading script, a folder of WebDataset tar shards (each sample
`{key}.mp4` + `{key}.cls` or `{key}.json`, loaded by `datasets` as "webdataset"), or a `save_to_disk` folder.

    sllm-train ... --dataset_name path/to/shards --video_column mp4 --label_column cls --label_file labels.txt \\
        --streaming --max_steps 10000 --shuffle_buffer_size 256 --max_bad_videos 20

- the stream is shuffled with a buffer of `--shuffle_buffer_size` rows (and its shards in a new order every epoch),
  then split between the processes with `datasets.distributed.split_dataset_by_node` (rank and process count of the
  TrainingArguments): each process reads and decodes only its own shards (or, when the shards do not divide between
  the processes, its own 1 row in `world_size`, skipped before decoding);
- rows become model inputs with the same [`SLLMVideoTransform`] as without streaming, applied to the rows the
  process keeps ([`SLLMVideoStream`], the `with_transform` of an IterableDataset), decoding with PyAV (the Video
  feature's torchcodec decoder is never used: video columns are cast to `Video(decode=False)`);
- training needs `--max_steps` (a stream has no length);
- nothing is checked before step 1 but the shards: a local tar shard that cannot be opened stops the run at start-up
  naming the shard. A row whose video cannot be read (or whose label is not a class) is skipped, logged with its name
  and counted; one more than `--max_bad_videos` stops the run with an error listing them. The count is kept by each
  data-reading process (each DataLoader worker of each process). (`--skip_bad_videos` applies to the evaluation
  split, which has a pre-flight check);
- the evaluation split is not streamed: a `save_to_disk` split is read lazily from its memory-mapped Arrow files, and
  the evaluation split of a Hub id or tar shards is streamed once into an Arrow file of the `datasets` cache, so that
  evaluation knows its length and every process evaluates its exact share.

Memory: the process holds the shuffle buffer (`shuffle_buffer_size` encoded videos), the DataLoader's batches and
the decoded clips, never the dataset: `python -m modeling_sllm.benchmarks.streaming_memory` trains the same steps on
100 and 1,000 videos and prints both peaks.
"""

import hashlib
import os
import tarfile

import datasets
import torch
from datasets.distributed import split_dataset_by_node
from transformers.utils import logging

from modeling_sllm.data.arguments import SLLMDataArguments
from modeling_sllm.data.hf_datasets import (
    check_video_feature,
    class_labels,
    is_saved_dataset_folder,
    load_saved_splits,
    rows_of_split,
    select_splits,
    to_label_id,
)
from modeling_sllm.data.preflight import BadVideo, format_bad_videos, validate_video_dataset
from modeling_sllm.data.rows import video_name
from modeling_sllm.text_features import SLLMLabel


logger = logging.get_logger(__name__)

__all__ = [
    "SLLMVideoStream",
    "check_streaming_arguments",
    "check_tar_shards",
    "load_streaming_datasets",
    "process_share",
    "streaming_inputs",
]

# Shards of a `save_to_disk` split read as a stream, per process and DataLoader worker (more shards: a finer shuffle)
SHARDS_PER_READER = 16


def check_streaming_arguments(data_args: SLLMDataArguments, training_args) -> None:
    """Refuses what a stream cannot do, with the argument to change."""
    if not data_args.dataset_name:
        raise ValueError("--streaming reads a `datasets` source: give --dataset_name (annotation lists and video "
                         "folders are read from disk lazily without it).")
    if training_args.do_train and (training_args.max_steps is None or training_args.max_steps <= 0):
        raise ValueError(
            "--streaming reads the training videos as a stream of unknown length: give --max_steps N (the number of "
            "optimizer steps; epochs cannot be counted)."
        )
    if training_args.accelerator_config.dispatch_batches:
        raise ValueError(
            "--streaming splits the stream between the processes (each decodes its own share): it needs "
            "accelerator_config dispatch_batches false, not true."
        )


def local_tar_shards(path: str) -> list[str]:
    """The `.tar` files under a local folder (sorted), or [] for anything else."""
    if not os.path.isdir(path):
        return []
    return sorted(
        os.path.join(root, name) for root, _, names in os.walk(path) for name in names if name.endswith(".tar")
    )


def check_tar_shards(paths: list[str]) -> None:
    """Reads the index (member headers) of every tar shard; `OSError` naming the shards that cannot be opened."""
    problems = []
    for path in paths:
        try:
            with tarfile.open(path, "r:*") as archive:
                members = archive.getmembers()
        except (OSError, tarfile.TarError) as exc:
            problems.append(f"  {path}: {type(exc).__name__}: {exc}".replace("\n", " "))
            continue
        if not members:
            problems.append(f"  {path}: an empty tar archive")
    if problems:
        raise OSError(
            f"{len(problems)} of {len(paths)} tar shards cannot be opened (truncated or not tar archives):\n"
            + "\n".join(problems)
        )


def _stream_of(data_args: SLLMDataArguments, split: str) -> datasets.IterableDataset:
    """The raw stream of `split` of a Hub id, loading script or folder of data files, its videos not decoded."""
    stream = datasets.load_dataset(
        data_args.dataset_name, data_args.dataset_config_name, split=split, streaming=True
    )
    check_video_feature(stream.features, data_args)
    if stream.features is not None:
        if isinstance(stream.features[data_args.video_column], datasets.Video):
            stream = stream.cast_column(data_args.video_column, datasets.Video(decode=False))
        keep = [data_args.video_column, data_args.label_column.split(".")[0], "__key__", "__url__"]
        stream = stream.select_columns([column for column in dict.fromkeys(keep) if column in stream.features])
    return stream


def _label_value(row: dict, label_column: str):
    value = row
    for part in label_column.split("."):
        if not isinstance(value, dict) or part not in value:
            raise ValueError(f"the row has no label {label_column!r}")
        value = value[part]
    return value


def _row_name(row: dict, video) -> str:
    if row.get("__url__") and row.get("__key__"):
        return f"{row['__url__']}:{row['__key__']}"
    return row.get("source") or video_name(video)


def _stream_rows(data_args: SLLMDataArguments, split: str, labels: tuple[SLLMLabel, ...]):
    """Rows (`video`, `label` id, `source`) of a streamed split, for writing it to an Arrow file once."""
    name_to_id = {label.name: label.id for label in labels}
    for row in _stream_of(data_args, split):
        video = row[data_args.video_column]
        source = _row_name(row, video)
        label = to_label_id(_label_value(row, data_args.label_column), labels, name_to_id, source)
        if isinstance(video, dict):
            video = {"bytes": video.get("bytes"), "path": video.get("path")}
        yield {"video": video, "total_num_frames": -1, "label": label, "source": source}


def _written_split(data_args: SLLMDataArguments, split: str, labels: list[SLLMLabel]) -> datasets.Dataset:
    """A streamed split written once to an Arrow file of the `datasets` cache (memory-mapped, with a length)."""
    features = datasets.load_dataset(
        data_args.dataset_name, data_args.dataset_config_name, split=split, streaming=True
    ).features
    video_feature = features[data_args.video_column] if features is not None else None
    is_path = isinstance(video_feature, datasets.Value) and video_feature.dtype == "string"
    video = {"bytes": datasets.Value("binary"), "path": datasets.Value("string")}
    if is_path:
        video = datasets.Value("string")
    shards = local_tar_shards(data_args.dataset_name)
    signature = hashlib.sha256(
        repr(
            [data_args.dataset_name, data_args.dataset_config_name, split, data_args.video_column,
             data_args.label_column, [label.name for label in labels]]
            + [(path, os.path.getsize(path), os.path.getmtime(path)) for path in shards]
        ).encode()
    ).hexdigest()[:16]
    logger.info(f"Writing the {split} split of {data_args.dataset_name} to the datasets cache (once).")
    return datasets.Dataset.from_generator(
        _stream_rows,
        features=datasets.Features(
            video=video,
            total_num_frames=datasets.Value("int64"),
            label=datasets.ClassLabel(names=[label.name for label in labels]),
            source=datasets.Value("string"),
        ),
        # a tuple: `datasets` splits the lists of gen_kwargs into shards
        gen_kwargs={"data_args": data_args, "split": split, "labels": tuple(labels)},
        writer_batch_size=16,  # 16 encoded videos in memory at a time
        fingerprint=f"sllm-stream-{signature}",
    )


def load_streaming_datasets(data_args: SLLMDataArguments, training_args, labels: list[SLLMLabel] | None):
    """
    `({"train": IterableDataset of rows, "validation": Dataset of rows}, labels)` of `data_args.dataset_name` with
    `--streaming` (see the module docstring). Training rows are `{"video", "label", "source"}` (a `save_to_disk`
    split) or the source's own columns (Hub, tar shards), turned into model inputs by [`streaming_inputs`].
    """
    check_streaming_arguments(data_args, training_args)
    name = data_args.dataset_name
    readers = training_args.world_size * max(1, training_args.dataloader_num_workers)
    out = {}
    if is_saved_dataset_folder(name):
        raw = load_saved_splits(name)
        splits = select_splits(raw, data_args, plain=os.path.isfile(os.path.join(name, "state.json")))
        first = raw[next(iter(splits.values()))]
        check_video_feature(first.features, data_args)
        labels = class_labels(first.features, data_args.label_column, labels)
        rows = {role: rows_of_split(raw[split], name, split, data_args, labels) for role, split in splits.items()}
        if "train" in rows:
            train = rows["train"]
            if data_args.max_train_samples is not None and data_args.max_train_samples < len(train):
                logger.warning(f"Using {data_args.max_train_samples} of {len(train)} train videos (max_train_samples)")
                train = train.select(range(data_args.max_train_samples))
            num_shards = min(len(train), readers * SHARDS_PER_READER)
            if num_shards >= training_args.world_size:
                num_shards -= num_shards % training_args.world_size  # every process gets whole shards
            out["train"] = train.to_iterable_dataset(num_shards=max(1, num_shards))
        validation = rows.get("validation")
    else:
        shards = local_tar_shards(name)
        if shards and data_args.validate_data != "none":
            check_tar_shards(shards)
        available = datasets.get_dataset_split_names(name, data_args.dataset_config_name)
        splits = select_splits(available, data_args)
        validation = None
        if "train" in splits:
            train = _stream_of(data_args, splits["train"])
            labels = class_labels(train.features, data_args.label_column, labels)
            if data_args.max_train_samples is not None:
                logger.warning(f"Using the first {data_args.max_train_samples} train videos (max_train_samples).")
                train = train.take(data_args.max_train_samples)
            out["train"] = train
        if "validation" in splits:
            features = datasets.load_dataset(name, data_args.dataset_config_name, split=splits["validation"],
                                             streaming=True).features
            labels = class_labels(features, data_args.label_column, labels)
            validation = _written_split(data_args, splits["validation"], labels)
    if validation is not None:
        if data_args.max_eval_samples is not None and data_args.max_eval_samples < len(validation):
            logger.warning(f"Using {data_args.max_eval_samples} of {len(validation)} validation videos.")
            validation = validation.select(range(data_args.max_eval_samples))
        out["validation"] = validate_video_dataset(validation, "validation", data_args)
    if "train" in out:
        logger.info(
            f"train: a stream of {out['train'].num_shards} shards ({name}), {len(labels)} classes; videos are "
            f"checked when they are read (at most {data_args.max_bad_videos} skipped: --max_bad_videos)"
        )
    return out, labels


# --------------------------------------------------------------------------------------------------------------------
# The stream of model inputs


class _StreamReader:
    """Turns one row of the stream into model inputs, or `None` for a bad row (logged, counted, capped)."""

    def __init__(self, transform, labels, video_column, label_column, max_bad_videos: int, stream_name: str):
        self.transform, self.labels = transform, labels
        self.name_to_id = {label.name: label.id for label in labels}
        self.video_column, self.label_column = video_column, label_column
        self.max_bad_videos, self.stream_name = max_bad_videos, stream_name
        self.bad: list[BadVideo] = []
        self.rows_read = 0

    def __call__(self, row: dict, reader_id: int, num_readers: int) -> dict | None:
        self.rows_read += 1
        video = row.get(self.video_column)
        source = _row_name(row, video) if video is not None else _row_name(row, f"row {self.rows_read}")
        try:
            if video is None:
                raise ValueError(f"the row has no video ({self.video_column!r} is missing or empty)")
            label = to_label_id(_label_value(row, self.label_column), self.labels, self.name_to_id, "label")
            # the clip's random draws depend on (seed, epoch, index): index = this reader's row count, interleaved
            # between the readers so that no two readers share draws
            index = (self.rows_read - 1) * num_readers + reader_id
            batch = {"video": [video], "label": [label], "source": [source], "sample_index": [index]}
            outputs = self.transform(batch)
        except Exception as exc:
            self._skip(BadVideo(source, video_name(video) if video is not None else source, str(exc)))
            return None
        return {key: values[0] for key, values in outputs.items()}

    def _skip(self, bad: BadVideo) -> None:
        self.bad.append(bad)
        if len(self.bad) > self.max_bad_videos:
            header = (
                f"{len(self.bad)} videos of the stream {self.stream_name} could not be read, more than "
                f"--max_bad_videos {self.max_bad_videos} (counted by this data-reading process)"
            )
            raise ValueError(format_bad_videos(self.bad, header) + "\nFix or remove them, or raise --max_bad_videos.")
        logger.warning(
            f"Skipping a video that cannot be read ({len(self.bad)} of at most {self.max_bad_videos}, "
            f"--max_bad_videos): {bad.line()}"
        )


class SLLMVideoStream(datasets.IterableDataset):
    """
    This process's share of a stream of rows, yielding model inputs (`pixel_values` `(N, 3, c, c)`,
    `skipped_pixel_values`, `labels`) for `sllm_collate_fn`: the `with_transform` of an IterableDataset. Built by
    [`streaming_inputs`]; rows that cannot be read are skipped and counted (`--max_bad_videos`).

    The share was chosen by `split_dataset_by_node`. Accelerate's `prepare_data_loader` splits a
    `datasets.IterableDataset` between the processes again (`dataset.shard(num_processes, process_index)` when
    `n_shards >= num_processes`, else an `IterableDatasetShard` keeping 1 batch in `num_processes`), which would drop
    part of every process's share: `shard` of this process's own split returns the stream unchanged and `n_shards`
    is at least the process count, so that accelerate takes the `shard` road.
    """

    @classmethod
    def of(cls, rows: datasets.IterableDataset, transform, labels: list[SLLMLabel], data_args: SLLMDataArguments):
        """The stream of `transform`'s inputs of `rows` (a process's share of the rows of `data_args`'s source)."""
        saved = is_saved_dataset_folder(data_args.dataset_name)  # rows of ROW_COLUMNS, labels already ids
        reader = _StreamReader(
            transform,
            labels,
            "video" if saved else data_args.video_column,
            "label" if saved else data_args.label_column,
            data_args.max_bad_videos,
            data_args.dataset_name,
        )
        return cls(rows, reader)

    def __init__(self, rows: datasets.IterableDataset, reader: _StreamReader):
        super().__init__(
            ex_iterable=rows._ex_iterable,
            info=rows._info,
            split=rows._split,
            formatting=rows._formatting,
            distributed=rows._distributed,
            token_per_repo_id=rows._token_per_repo_id,
        )
        self.reader = reader

    @property
    def n_shards(self) -> int:
        world_size = self._distributed.world_size if self._distributed else 1
        return max(self.num_shards, world_size)

    def shard(self, num_shards: int, index: int, contiguous: bool = True) -> "SLLMVideoStream":
        if self._distributed and (num_shards, index) == (self._distributed.world_size, self._distributed.rank):
            return self  # already this process's share (split_dataset_by_node)
        raise ValueError(
            f"This stream is the share of process {self._distributed.rank if self._distributed else 0} (split_dataset_"
            f"by_node); it cannot be split again into {num_shards} shards."
        )

    def set_epoch(self, epoch: int) -> None:
        super().set_epoch(epoch)
        self.reader.transform.set_epoch(epoch)

    def __iter__(self):
        worker = torch.utils.data.get_worker_info()
        num_workers, worker_id = (worker.num_workers, worker.id) if worker is not None else (1, 0)
        rank, world_size = (self._distributed.rank, self._distributed.world_size) if self._distributed else (0, 1)
        reader_id, num_readers = rank * num_workers + worker_id, world_size * num_workers
        rows = super().__iter__()
        while True:
            try:
                row = next(rows)
            except StopIteration:
                break
            except Exception as exc:
                message = (
                    f"Reading the stream {self.reader.stream_name} failed after {self.reader.rows_read} rows read by "
                    f"this process ({type(exc).__name__}: {exc}): one of its shards is unreadable or truncated."
                )
                try:  # local tar shards: name the broken ones
                    check_tar_shards(local_tar_shards(self.reader.stream_name))
                except OSError as found:
                    message += f" {found}"
                raise OSError(message) from exc
            inputs = self.reader(row, reader_id, num_readers)
            if inputs is not None:
                yield inputs
        if self.reader.bad:
            logger.warning(
                f"{len(self.reader.bad)} unreadable videos skipped so far by this data-reading process (at most "
                f"{self.reader.max_bad_videos}: --max_bad_videos)."
            )


def process_share(
    rows: datasets.IterableDataset, data_args: SLLMDataArguments, seed: int, rank: int, world_size: int
) -> datasets.IterableDataset:
    """
    The rows process `rank` of `world_size` reads: `rows` shuffled (buffer `data_args.shuffle_buffer_size`, shard
    order and buffer draws from `seed`, so every process shuffles the shards alike), then `split_dataset_by_node`.
    """
    rows = rows.shuffle(seed=seed, buffer_size=data_args.shuffle_buffer_size)
    if world_size == 1:
        return rows
    if rows.num_shards % world_size:
        logger.warning(
            f"The {rows.num_shards} shards of {data_args.dataset_name} do not divide between {world_size} processes: "
            f"every process reads every shard and keeps 1 row in {world_size} (decoding only its own). Write a "
            f"multiple of {world_size} shards to read less."
        )
    return split_dataset_by_node(rows, rank=rank, world_size=world_size)


def streaming_inputs(
    rows: datasets.IterableDataset, transform, labels: list[SLLMLabel], data_args: SLLMDataArguments, training_args
) -> SLLMVideoStream:
    """
    The training stream of model inputs of this process: [`process_share`] of `rows` (seed, rank and process count of
    `training_args`) read through `transform` (the training [`SLLMVideoTransform`]). Sets
    `training_args.accelerator_config.dispatch_batches = False`: every process reads its own share.
    """
    check_streaming_arguments(data_args, training_args)
    world_size = training_args.world_size
    share = process_share(rows, data_args, training_args.seed, training_args.process_index, world_size)
    if world_size > 1:
        training_args.accelerator_config.dispatch_batches = False
    return SLLMVideoStream.of(share, transform, labels, data_args)

# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
The output files of `sllm-predict`: one row per video, JSONL or CSV, appended batch by batch and read back to resume.

A row is `{"video", "true_label"?, "labels", "scores"}` (the top-k classes, best first, and their probabilities) or
`{"video", "true_label"?, "error"}`. In CSV the lists become the columns `label_1, score_1, ..., label_k, score_k`
and `error` is empty for a classified video.

Resuming: every row ends with a newline and holds no other line break, so a run killed while writing leaves at most
one partial last line; [`PredictionFile.repair`] cuts it off (that video is classified again) and the complete rows
name the videos to skip. Several processes write one part file each (JSONL), merged into the output in order by
[`merge_part_files`], which skips the videos the output already has, so a merge interrupted and run again never
duplicates a row.
"""

import csv
import glob
import io
import json
import os
import re
import tempfile
from dataclasses import dataclass

from transformers.utils import logging


__all__ = ["PredictionFile", "PredictionRowFormat", "merge_part_files", "part_file", "part_files", "read_predictions"]

logger = logging.get_logger(__name__)


@dataclass(frozen=True)
class PredictionRowFormat:
    """The columns of a run: `top_k` labels and scores per video, and whether the source gives a `true_label`."""

    top_k: int
    with_true_label: bool

    @property
    def csv_header(self) -> list[str]:
        ranks = [column for rank in range(1, self.top_k + 1) for column in (f"label_{rank}", f"score_{rank}")]
        return ["video"] + (["true_label"] if self.with_true_label else []) + ranks + ["error"]

    def to_csv(self, row: dict) -> list:
        values = [row["video"]] + ([row["true_label"]] if self.with_true_label else [])
        if "error" in row:
            return values + [""] * (2 * self.top_k) + [row["error"]]
        pairs = [value for pair in zip(row["labels"], row["scores"]) for value in pair]
        return values + pairs + [""]

    def from_csv(self, values: list[str], where: str) -> dict:
        header = self.csv_header
        if len(values) != len(header):
            raise ValueError(f"{where}: {len(values)} columns, the header has {len(header)}")
        fields = dict(zip(header, values))
        row = {"video": fields["video"]}
        if self.with_true_label:
            row["true_label"] = fields["true_label"]
        if fields["error"]:
            row["error"] = fields["error"]
            return row
        try:
            row["labels"] = [fields[f"label_{rank}"] for rank in range(1, self.top_k + 1)]
            row["scores"] = [float(fields[f"score_{rank}"]) for rank in range(1, self.top_k + 1)]
        except ValueError as error:
            raise ValueError(f"{where}: a score is not a number ({error})") from None
        return row

    def check(self, row: dict, where: str) -> None:
        """Raises a `ValueError` naming `where` when `row` was written by a run with other columns."""
        if not isinstance(row, dict) or not isinstance(row.get("video"), str):
            raise ValueError(f"{where}: not a prediction row (a JSON object with a 'video' name): {row!r}")
        if ("true_label" in row) != self.with_true_label:
            row_has = "has" if "true_label" in row else "has no"
            source_has = "has" if self.with_true_label else "has no"
            raise ValueError(
                f"{where}: the row {row_has} a true_label, this run's source {source_has} labels: write to another "
                "--output"
            )
        if "error" not in row and len(row.get("labels", ())) != self.top_k:
            raise ValueError(
                f"{where}: the row has {len(row.get('labels', ()))} labels, this run writes top_k={self.top_k}: use "
                "the same --top_k as the run that wrote it, or another --output"
            )


class PredictionFile:
    """
    An output file (`fmt` `"jsonl"` or `"csv"`) of prediction rows with the columns of `row_format`.

    Reading ([`read_rows`], [`done_keys`]) needs a [`repair`]ed file (no partial last line); [`append`] writes rows
    (and the CSV header of a new file) and flushes them.
    """

    def __init__(self, path: str, fmt: str, row_format: PredictionRowFormat):
        if fmt not in ("jsonl", "csv"):
            raise ValueError(f"Unknown output format {fmt!r}: 'jsonl' or 'csv'")
        self.path, self.fmt, self.row_format = path, fmt, row_format
        self._stream = None

    def repair(self) -> int:
        """Cuts a partial last line (left by a killed run) off the file; returns the number of bytes removed."""
        if not os.path.isfile(self.path):
            return 0
        with open(self.path, "rb+") as stream:
            stream.seek(0, os.SEEK_END)
            size = stream.tell()
            if size == 0:
                return 0
            stream.seek(max(size - 1, 0))
            if stream.read(1) == b"\n":
                return 0
            # find the last newline, reading backwards in blocks
            end, position = size, -1
            while end > 0 and position < 0:
                start = max(end - 65536, 0)
                stream.seek(start)
                position = stream.read(end - start).rfind(b"\n")
                position = position + start if position >= 0 else -1
                end = start
            keep = position + 1
            stream.truncate(keep)
        logger.warning(
            f"{self.path}: removed an incomplete last line ({size - keep} bytes) left by an interrupted run; that "
            "video is classified again."
        )
        return size - keep

    def read_rows(self) -> list[dict]:
        """The rows of the file, in order (its CSV header is checked against this run's columns)."""
        if not os.path.isfile(self.path):
            return []
        with open(self.path, encoding="utf-8", newline="") as stream:
            text = stream.read()
        rows = []
        if self.fmt == "jsonl":
            for number, line in enumerate(text.splitlines(), start=1):
                if not line.strip():
                    continue
                where = f"{self.path}:{number}"
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as error:
                    raise ValueError(f"{where}: not a JSON row ({error}); fix or remove the line") from None
                self.row_format.check(row, where)
                rows.append(row)
            return rows
        records = list(csv.reader(io.StringIO(text)))
        if not records:
            return []
        if records[0] != self.row_format.csv_header:
            raise ValueError(
                f"{self.path} has the columns {records[0]}, this run writes {self.row_format.csv_header} (another "
                "--top_k, or a source with/without true labels): use the same arguments, or another --output"
            )
        for number, values in enumerate(records[1:], start=2):
            row = self.row_format.from_csv(values, f"{self.path}:{number}")
            self.row_format.check(row, f"{self.path}:{number}")
            rows.append(row)
        return rows

    def done_keys(self) -> set[str]:
        """The videos the file has a row for."""
        return {row["video"] for row in self.read_rows()}

    def drop_error_rows(self) -> int:
        """Rewrites the file without its error rows (atomically); returns how many were dropped."""
        rows = self.read_rows()
        kept = [row for row in rows if "error" not in row]
        if len(kept) == len(rows):
            return 0
        self.close()
        directory = os.path.dirname(os.path.abspath(self.path))
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=".sllm-predict-")
        os.close(handle)
        try:
            rewritten = PredictionFile(temporary, self.fmt, self.row_format)
            rewritten.append(kept, force_header=True)
            rewritten.close()
            os.replace(temporary, self.path)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise
        return len(rows) - len(kept)

    def append(self, rows: list[dict], force_header: bool = False) -> None:
        """Appends `rows` (each on one line) and flushes them; a new CSV file gets its header first."""
        if self._stream is None:
            new = force_header or not os.path.isfile(self.path) or os.path.getsize(self.path) == 0
            directory = os.path.dirname(os.path.abspath(self.path))
            os.makedirs(directory, exist_ok=True)
            self._stream = open(self.path, "a", encoding="utf-8", newline="")
            self._csv = csv.writer(self._stream, lineterminator="\n") if self.fmt == "csv" else None
            if self._csv is not None and new:
                self._csv.writerow(self.row_format.csv_header)
        for row in rows:
            if self._csv is not None:
                self._csv.writerow(self.row_format.to_csv(row))
            else:
                self._stream.write(json.dumps(row, ensure_ascii=False) + "\n")
        self._stream.flush()

    def sync(self) -> None:
        """Flushes the written rows to the disk."""
        if self._stream is not None:
            self._stream.flush()
            os.fsync(self._stream.fileno())

    def close(self) -> None:
        if self._stream is not None:
            self.sync()
            self._stream.close()
            self._stream = None

    def __enter__(self) -> "PredictionFile":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def part_file(output: str, process_index: int) -> str:
    """The part file process `process_index` writes in a run of several processes."""
    return f"{output}.part{process_index:05d}.jsonl"


def part_files(output: str) -> list[str]:
    """The part files of `output` on the disk (left by this run or by an interrupted one), in process order."""
    pattern = re.compile(re.escape(os.path.basename(output)) + r"\.part(\d+)\.jsonl$")
    found = []
    for path in glob.glob(glob.escape(output) + ".part*.jsonl"):
        match = pattern.search(path)
        if match:
            found.append((int(match.group(1)), path))
    return [path for _, path in sorted(found)]


def merge_part_files(output: PredictionFile, parts: list[str]) -> int:
    """
    Appends the rows of the part files `parts` (in their order) to `output`, except those of videos `output` has
    already, then deletes each part once its rows are on the disk. Returns the number of rows appended.
    """
    done = output.done_keys()
    appended = 0
    for path in parts:
        if not os.path.isfile(path):
            continue
        part = PredictionFile(path, "jsonl", output.row_format)
        part.repair()
        rows = []
        for row in part.read_rows():
            if row["video"] not in done:
                rows.append(row)
                done.add(row["video"])
        output.append(rows)
        output.sync()
        appended += len(rows)
        os.remove(path)
    return appended


def read_predictions(path: str) -> list[dict]:
    """
    The rows of an output file (`.jsonl` or `.csv`) as dicts `{"video", "true_label"?, "labels", "scores"}` or
    `{"video", "true_label"?, "error"}`, whatever run wrote it.
    """
    if path.lower().endswith(".csv"):
        with open(path, encoding="utf-8", newline="") as stream:
            header = next(csv.reader(stream), None)
        if header is None:
            return []
        top_k = sum(1 for column in header if column.startswith("label_"))
        row_format = PredictionRowFormat(top_k, "true_label" in header)
        return PredictionFile(path, "csv", row_format).read_rows()
    rows = []
    with open(path, encoding="utf-8") as stream:
        for number, line in enumerate(stream, start=1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as error:
                    raise ValueError(f"{path}:{number}: not a JSON row ({error})") from None
    return rows

# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
Does memory grow with the dataset? Trains the same few steps of a tiny SLLM on datasets of 100 and 1,000 video rows
(copies of one generated mp4, held as bytes) in fresh processes, and prints the peak memory of each run and the
difference between the sizes (target: under 100 MiB).

    python -m modeling_sllm.benchmarks.streaming_memory                      # streaming, save_to_disk + tar shards
    python -m modeling_sllm.benchmarks.streaming_memory --modes streaming lazy --sources saved --sizes 100 1000
    # the same non-streaming run with another checkout of the code (e.g. `git archive <commit> | tar -x -C old/`):
    python -m modeling_sllm.benchmarks.streaming_memory --modes lazy --sources saved --baseline_code old/

Modes: `streaming` (`--streaming`: an IterableDataset) and `lazy` (the map-style `--dataset_name` road: videos left
in the memory-mapped Arrow files). Sources: `saved` (a `save_to_disk` DatasetDict) and `webdataset` (tar shards of
`{key}.mp4` + `{key}.cls`, streaming only). Each run is `sllm-train` (`modeling_sllm.training.cli.main`) in a new
Python process, one thread, no DataLoader worker, `--validate_data none` unless told; the child reports its peak
resident set (`VmHWM`, the kernel's high-water mark of this program: everything it touched, including pages of
memory-mapped files, which the kernel can drop; `ru_maxrss` would include the parent's, it survives `exec`) and the
peak of its anonymous memory (`RssAnon`, sampled every 20 ms: what the process itself allocated).
Peaks do not depend on the machine's load; times are not measured.
"""

import argparse
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import av
import numpy as np


__all__ = ["cli", "main", "make_clip", "write_datasets"]

CLASSES = ("walk", "run", "jump")

# Runs `modeling_sllm.training.cli.main(argv)` and prints one JSON line with the peak memory (MiB) of this process.
CHILD = r"""
import json, sys, threading, time
def status(field):
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
peaks = {"rss_anon": 0.0}
def sample():
    while True:
        peaks["rss_anon"] = max(peaks["rss_anon"], status("RssAnon"))
        time.sleep(0.02)
threading.Thread(target=sample, daemon=True).start()
from modeling_sllm.training.cli import main
results = main(json.loads(sys.argv[1]))
time.sleep(0.05)
print("SLLM_MEMORY " + json.dumps({"peak_rss": status("VmHWM"), "peak_rss_anon": peaks["rss_anon"],
                                   "train_loss": results.get("train_loss")}))
"""


def make_clip(num_frames: int = 64, size: int = 128, noise: int = 32, seed: int = 0) -> bytes:
    """The bytes of an H.264 mp4 of moving colour ramps with noise (about 150 KiB at the defaults)."""
    buffer, rng = io.BytesIO(), np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size]
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=25, options={"crf": "23", "preset": "veryfast"})
        stream.height, stream.width, stream.pix_fmt = size, size, "yuv420p"
        for index in range(num_frames):
            frame = np.stack([(x * 2 + 5 * index) % 256, (y * 3 + 2 * index) % 256, np.full_like(x, 9 * index % 256)])
            frame = np.clip(frame.transpose(1, 2, 0) + rng.integers(-noise, noise, (size, size, 3)), 0, 255)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame.astype(np.uint8), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def write_datasets(work_dir: Path, clip: bytes, num_rows: int, sources: list[str], rows_per_shard: int = 100) -> dict:
    """`{source: dataset_name}` of `num_rows` copies of `clip` (labels i % 3) as a save_to_disk folder / tar shards."""
    import datasets

    out = {}
    if "saved" in sources:
        path = work_dir / f"saved-{num_rows}"
        if not (path / "dataset_dict.json").is_file():
            features = datasets.Features(
                video=datasets.Video(decode=False), label=datasets.ClassLabel(names=list(CLASSES))
            )

            def rows():
                for index in range(num_rows):
                    yield {"video": {"bytes": clip, "path": f"clip{index:05d}.mp4"}, "label": index % len(CLASSES)}

            train = datasets.Dataset.from_generator(
                rows, features=features, cache_dir=str(work_dir / "cache"), writer_batch_size=32
            )
            datasets.DatasetDict(train=train).save_to_disk(path)
        out["saved"] = str(path)
    if "webdataset" in sources:
        path = work_dir / f"webdataset-{num_rows}"
        if not path.is_dir():
            path.mkdir(parents=True)
            for shard in range(0, num_rows, rows_per_shard):
                with tarfile.open(path / f"train-{shard // rows_per_shard:05d}.tar", "w") as archive:
                    for index in range(shard, min(shard + rows_per_shard, num_rows)):
                        for extension, data in (("mp4", clip), ("cls", str(index % len(CLASSES)).encode())):
                            info = tarfile.TarInfo(f"clip{index:05d}.{extension}")
                            info.size = len(data)
                            archive.addfile(info, io.BytesIO(data))
        out["webdataset"] = str(path)
    return out


def _train_argv(args, clip_dir: str, dataset: str, source: str, mode: str, output_dir: str) -> list[str]:
    argv = [
        "--clip_model_name_or_path", clip_dir, "--dataset_name", dataset, "--output_dir", output_dir,
        "--num_frames", "4", "--keep_interval", "2", "--restoration_num_layers", "1", "--temporal_num_layers", "1",
        "--per_device_train_batch_size", str(args.batch_size), "--max_steps", str(args.steps), "--do_train",
        "--save_strategy", "no", "--report_to", "none", "--use_cpu", "--dataloader_num_workers", "0",
        "--disable_tqdm", "true", "--log_level", "error", "--validate_data", args.validate_data,
    ]  # fmt: skip
    if source == "webdataset":
        labels = str(Path(clip_dir).parent / "labels.txt")
        argv += ["--video_column", "mp4", "--label_column", "cls", "--label_file", labels]
    if mode == "streaming":
        argv += ["--streaming", "--shuffle_buffer_size", str(args.shuffle_buffer_size)]
    return argv


def _run_child(argv: list[str], code_dir: str | None, work_dir: Path) -> dict:
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["HF_DATASETS_CACHE"] = str(work_dir / "cache")
    if code_dir is not None:
        env["PYTHONPATH"] = os.path.abspath(code_dir) + os.pathsep + env.get("PYTHONPATH", "")
    completed = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(argv)], capture_output=True, text=True, env=env, cwd=work_dir
    )
    for line in completed.stdout.splitlines():
        if line.startswith("SLLM_MEMORY "):
            return json.loads(line[len("SLLM_MEMORY ") :])
    raise RuntimeError(
        f"The training run failed (exit {completed.returncode}):\n{completed.stdout[-3000:]}\n"
        f"{completed.stderr[-3000:]}"
    )


def main(argv: list[str] | None = None) -> list[dict]:
    """Runs the benchmark as the command line `argv` says; returns one result dict per run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].strip())
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000], help="Video rows of the datasets.")
    parser.add_argument("--modes", nargs="+", default=["streaming"], choices=["streaming", "lazy"])
    parser.add_argument("--sources", nargs="+", default=["saved", "webdataset"], choices=["saved", "webdataset"])
    parser.add_argument("--steps", type=int, default=4, help="Training steps of every run.")
    parser.add_argument("--batch_size", type=int, default=2)
    parser.add_argument("--shuffle_buffer_size", type=int, default=16)
    parser.add_argument("--validate_data", default="none", help="Pre-flight level of the runs (lazy mode).")
    parser.add_argument("--work_dir", default=None, help="Where the datasets are written (default: a temp folder).")
    parser.add_argument("--baseline_code", default=None, help="Run the children with this checkout of the code.")
    args = parser.parse_args(argv)
    from modeling_sllm.demo.tiny_clip import save_tiny_random_clip

    work_dir = Path(args.work_dir or tempfile.mkdtemp(prefix="sllm-memory-"))
    work_dir.mkdir(parents=True, exist_ok=True)
    clip_dir = work_dir / "tiny-clip"
    if not (clip_dir / "config.json").is_file():
        save_tiny_random_clip(clip_dir)
    (work_dir / "labels.txt").write_text("".join(f"{i};{name};a person {name}s\n" for i, name in enumerate(CLASSES)))
    clip = make_clip()
    print(f"one video: {len(clip) / 1024:.0f} KiB; datasets in {work_dir}")
    results = []
    for size in args.sizes:
        datasets_by_source = write_datasets(work_dir, clip, size, args.sources)
        for mode in args.modes:
            for source, dataset in datasets_by_source.items():
                if mode == "lazy" and source == "webdataset":
                    continue  # tar shards are read as a stream
                output_dir = tempfile.mkdtemp(prefix="out-", dir=work_dir)
                train_argv = _train_argv(args, str(clip_dir), dataset, source, mode, output_dir)
                measured = _run_child(train_argv, args.baseline_code, work_dir)
                result = {"mode": mode, "source": source, "rows": size, "video_mib": size * len(clip) / 2**20}
                result.update(measured)
                results.append(result)
                print(
                    f"{mode:9} {source:10} {size:6d} rows ({result['video_mib']:6.1f} MiB of video): peak RSS "
                    f"{result['peak_rss']:7.1f} MiB, peak anonymous {result['peak_rss_anon']:7.1f} MiB",
                    flush=True,
                )
    if len(args.sizes) > 1:
        small, large = min(args.sizes), max(args.sizes)
        print(f"\nmemory of {large} rows minus {small} rows (target: under 100 MiB):")
        for mode in args.modes:
            for source in args.sources:
                runs = {r["rows"]: r for r in results if r["mode"] == mode and r["source"] == source}
                if small in runs and large in runs:
                    rss = runs[large]["peak_rss"] - runs[small]["peak_rss"]
                    anon = runs[large]["peak_rss_anon"] - runs[small]["peak_rss_anon"]
                    verdict = "PASS" if rss < 100 else "MISS"
                    print(
                        f"  {mode:9} {source:10} peak RSS {rss:+7.1f} MiB, peak anonymous {anon:+7.1f} MiB {verdict}"
                    )
    return results


def cli() -> None:
    """Console-script entry point."""
    main()


if __name__ == "__main__":
    cli()

# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
Soak test of the data-parallel training's start and end: runs the same tiny 2-process CPU training N times under load
and counts the runs that did not end cleanly.

    python scripts/ddp_soak.py --num_runs 20 --burn_processes 2
    python scripts/ddp_soak.py --num_runs 20 --accelerate_config_file configs/accelerate/cpu_ddp.yaml

Each run is `accelerate launch` (or `torchrun`) of `modeling_sllm.training.cli` on a few demo videos (training and
evaluation, one DataLoader worker per process), while `--burn_processes` processes spin on the CPU. A run fails when
it exits non-zero, prints "terminate called" (a C++ thread still running at exit: the abort issue 11.12 reported for
rank 1), or times out (a hang). The tally is printed and written to `<work_dir>/ddp_soak.json`; the logs of failed
runs are kept in `<work_dir>/logs`. This is a script, not a CI test: it takes minutes.
"""

import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field

from transformers import HfArgumentParser

from modeling_sllm.checks import check_positive_int
from modeling_sllm.demo.data import generate_demo_dataset
from modeling_sllm.demo.tiny_clip import save_tiny_random_clip


__all__ = ["DDPSoakArguments", "cli", "main", "run_once", "training_command"]

ABORT_MARKERS = ("terminate called", "core dumped", "Segmentation fault", "Fatal Python error")


@dataclass
class DDPSoakArguments:
    """Arguments of `scripts/ddp_soak.py`."""

    num_runs: int = field(default=20, metadata={"help": "How many 2-process trainings to run."})
    num_processes: int = field(default=2, metadata={"help": "Data-parallel processes per run."})
    burn_processes: int = field(default=1, metadata={"help": "CPU-burning background processes during the runs."})
    launcher: str = field(default="accelerate", metadata={"help": "accelerate or torchrun."})
    accelerate_config_file: str | None = field(
        default=None,
        metadata={"help": "accelerate config (e.g. configs/accelerate/cpu_ddp.yaml); default: --multi_gpu flags."},
    )
    work_dir: str = field(default="ddp_soak_outputs", metadata={"help": "Data, outputs, logs and the tally."})
    timeout: int = field(default=600, metadata={"help": "Seconds per run before it counts as a hang."})
    train_overrides: list[str] = field(
        default_factory=list, metadata={"help": "Extra train.py arguments for every run."}
    )

    def __post_init__(self):
        for name in ("num_runs", "num_processes", "timeout"):
            check_positive_int(name, getattr(self, name))
        check_positive_int("burn_processes", self.burn_processes, minimum=0)
        if self.launcher not in ("accelerate", "torchrun"):
            raise ValueError(f"launcher must be 'accelerate' or 'torchrun', got {self.launcher!r}.")
        if self.accelerate_config_file is not None and not os.path.isfile(self.accelerate_config_file):
            raise FileNotFoundError(f"accelerate config file {self.accelerate_config_file!r} does not exist.")


def _burn() -> None:
    while True:
        pass


def training_command(args: DDPSoakArguments, data: dict[str, str], clip_dir: str, output_dir: str) -> list[str]:
    """The launcher command of one tiny training + evaluation run into `output_dir`."""
    if args.launcher == "torchrun":
        launch = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
        launch += ["--nproc_per_node", str(args.num_processes), "-m", "modeling_sllm.training.cli"]
    else:
        launch = [sys.executable, "-m", "accelerate.commands.launch"]
        if args.accelerate_config_file:
            launch += ["--config_file", args.accelerate_config_file]
        else:
            launch += ["--multi_gpu"]
        launch += ["--num_processes", str(args.num_processes), "--main_process_port", "0"]
        launch += ["-m", "modeling_sllm.training.cli"]
    training = [
        "--clip_model_name_or_path", clip_dir,
        "--train_dir", data["train_dir"], "--validation_dir", data["validation_dir"],
        "--output_dir", output_dir,
        "--num_frames", "2", "--keep_interval", "2", "--restoration_num_layers", "1", "--temporal_num_layers", "1",
        "--per_device_train_batch_size", "2", "--per_device_eval_batch_size", "4", "--num_train_epochs", "1",
        "--do_train", "--do_eval", "--report_to", "none", "--save_strategy", "no",
        "--dataloader_num_workers", "1", "--dataloader_pin_memory", "false", "--disable_tqdm", "true",
        "--use_cpu", "true",
    ]  # fmt: skip
    return launch + training + list(args.train_overrides)


def run_once(command: list[str], timeout: int, env: dict[str, str]) -> dict:
    """Runs `command`; returns its exit code, seconds, whether it timed out, the abort markers in its output, and the
    output itself (stdout then stderr)."""
    start = time.perf_counter()
    try:
        completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
        returncode, stdout, stderr, timed_out = completed.returncode, completed.stdout, completed.stderr, False
    except subprocess.TimeoutExpired as expired:
        returncode, timed_out = None, True
        stdout = expired.stdout.decode(errors="replace") if isinstance(expired.stdout, bytes) else expired.stdout or ""
        stderr = expired.stderr.decode(errors="replace") if isinstance(expired.stderr, bytes) else expired.stderr or ""
    output = stdout + stderr
    aborts = {marker: output.count(marker) for marker in ABORT_MARKERS if marker in output}
    return {
        "returncode": returncode,
        "seconds": round(time.perf_counter() - start, 1),
        "timed_out": timed_out,
        "aborts": aborts,
        "output": output,
    }


def main(argv: list[str] | None = None) -> dict:
    """Runs the soak as `argv` says (default: the command line); returns the tally (also in ddp_soak.json)."""
    (args,) = HfArgumentParser(DDPSoakArguments).parse_args_into_dataclasses(args=argv)
    work_dir = os.path.abspath(args.work_dir)
    logs = os.path.join(work_dir, "logs")
    os.makedirs(logs, exist_ok=True)
    data = generate_demo_dataset(
        os.path.join(work_dir, "data"), num_train_per_class=2, num_val_per_class=1, num_frames=8, size=32
    )
    clip_dir = os.path.join(work_dir, "tiny-clip")
    if not os.path.isfile(os.path.join(clip_dir, "config.json")):
        save_tiny_random_clip(clip_dir)
    env = dict(os.environ, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1")
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(name, None)

    burners = [multiprocessing.Process(target=_burn, daemon=True) for _ in range(args.burn_processes)]
    for burner in burners:
        burner.start()
    runs = []
    try:
        for index in range(args.num_runs):
            output_dir = os.path.join(work_dir, f"run-{index:03d}")
            shutil.rmtree(output_dir, ignore_errors=True)
            result = run_once(training_command(args, data, clip_dir, output_dir), args.timeout, env)
            result["model_saved"] = os.path.isfile(os.path.join(output_dir, "model.safetensors"))
            failed = result["returncode"] != 0 or result["timed_out"] or result["aborts"] or not result["model_saved"]
            result["failed"] = bool(failed)
            output = result.pop("output")
            if failed:
                with open(os.path.join(logs, f"run-{index:03d}.log"), "w", encoding="utf-8") as handle:
                    handle.write(output)
            else:
                shutil.rmtree(output_dir, ignore_errors=True)
            runs.append(result)
            details = [f"exit {result['returncode']}", f"{result['seconds']} s"]
            details += ["timed out"] * result["timed_out"] + [str(result["aborts"])] * bool(result["aborts"])
            status = "FAILED" if failed else "ok"
            print(f"run {index + 1}/{args.num_runs}: {status} ({', '.join(details)})", flush=True)
    finally:
        for burner in burners:
            burner.terminate()
            burner.join()

    tally = {
        "runs": len(runs),
        "clean": sum(not run["failed"] for run in runs),
        "nonzero_exits": sum(run["returncode"] not in (0, None) for run in runs),
        "timeouts": sum(run["timed_out"] for run in runs),
        "terminate_called": sum("terminate called" in run["aborts"] for run in runs),
        "other_aborts": sum(bool(set(run["aborts"]) - {"terminate called"}) for run in runs),
        "missing_model": sum(not run["model_saved"] for run in runs),
        "command": " ".join(training_command(args, data, clip_dir, "<output_dir>")),
        "burn_processes": args.burn_processes,
        "arguments": asdict(args),
        "per_run": runs,
    }
    with open(os.path.join(work_dir, "ddp_soak.json"), "w", encoding="utf-8") as handle:
        json.dump(tally, handle, indent=2)
    print(
        f"\nDDP soak: {tally['clean']}/{tally['runs']} runs clean; non-zero exits {tally['nonzero_exits']}, "
        f"'terminate called' {tally['terminate_called']}, other aborts {tally['other_aborts']}, "
        f"timeouts {tally['timeouts']}, missing model {tally['missing_model']} "
        f"({args.num_processes} processes, {args.burn_processes} CPU burners; logs of failures in {logs})"
    )
    return tally


def cli() -> None:
    """Console-script entry point; exits 1 when a run did not end cleanly."""
    tally = main()
    sys.exit(0 if tally["clean"] == tally["runs"] else 1)


if __name__ == "__main__":
    cli()

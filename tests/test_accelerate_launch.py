"""The design card's command, `accelerate launch ... scripts/train.py`, trains with 2 real data-parallel CPU processes
(with the shipped config file, and in the plain `--num_processes 2` form); a launch that would give silent copies
stops at start-up with the command that works; two runs cannot share one output folder."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from transformers.training_args import ParallelMode

from test_distributed import assert_data_parallel, tiny_ddp_run
from modeling_sllm.training.cli import main as train_main
from modeling_sllm.training.launch import (
    CPU_DDP_CONFIG,
    LaunchError,
    OutputDirLock,
    check_launch,
    detect_launch,
    prepare_launch_environment,
)


ROOT = Path(__file__).resolve().parents[1]
SITECUSTOMIZE = """import os
if os.environ.get("SLLM_DDP_REPORT_DIR") and "LOCAL_RANK" in os.environ:
    import ddp_worker
    ddp_worker.install_recorders()
"""
needs_accelerate = pytest.mark.skipif(shutil.which("accelerate") is None, reason="accelerate is not installed")
cpu_only = pytest.mark.skipif(torch.accelerator.is_available(), reason="the CPU-only launch paths")


def _accelerate_launch(tmp_path, make_video, launch_arguments: list[str]) -> subprocess.CompletedProcess:
    """Runs `accelerate launch <launch_arguments> scripts/train.py <tiny run>` with the per-process recorders of
    ddp_worker installed through a `sitecustomize.py` (the script itself is unchanged)."""
    arguments, env = tiny_ddp_run(tmp_path, make_video)
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(ROOT / "tests"), env["PYTHONPATH"]])
    command = ["accelerate", "launch", *launch_arguments, str(ROOT / "scripts" / "train.py"), *arguments]
    return subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)


@needs_accelerate
@cpu_only
def test_accelerate_launch_with_the_cpu_ddp_config(tmp_path, make_video):
    completed = _accelerate_launch(tmp_path, make_video, ["--config_file", CPU_DDP_CONFIG, "--main_process_port", "0"])
    assert_data_parallel(tmp_path, completed)
    assert "training data-parallel on the CPU (gloo backend)" in completed.stdout + completed.stderr


@needs_accelerate
@cpu_only
def test_plain_accelerate_launch_num_processes_2_trains_two_processes(tmp_path, make_video):
    """accelerate starts one process for `--num_processes 2` without a GPU; the script restarts it under torchrun."""
    completed = _accelerate_launch(tmp_path, make_video, ["--num_processes", "2"])
    assert_data_parallel(tmp_path, completed)
    assert "restarting as torchrun --standalone --nproc_per_node 2" in completed.stderr


# --------------------------------------------------------------------------------------------------------------------
# The guard


def test_world_size_without_a_launcher_stops_the_cli_with_the_command(tmp_path):
    env = dict(os.environ, WORLD_SIZE="2", HF_HUB_OFFLINE="1")
    for name in ("RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "TORCHELASTIC_RUN_ID"):
        env.pop(name, None)
    command = [sys.executable, str(ROOT / "scripts" / "train.py"), "--train_dir", "videos", "--do_train"]
    command += ["--output_dir", str(tmp_path / "out")]
    completed = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert completed.returncode != 0
    assert "LaunchError: WORLD_SIZE=2 says 2 processes were launched, but this process has no rank" in completed.stderr
    expected = "accelerate launch --config_file configs/accelerate/cpu_ddp.yaml --num_processes 2 "
    assert expected + str(ROOT / "scripts" / "train.py") + " --train_dir videos" in completed.stderr
    assert not (tmp_path / "out").exists()


@cpu_only
def test_hand_set_rank_variables_without_a_launcher_stop_before_waiting_for_peers():
    environ = {"WORLD_SIZE": "2", "RANK": "0", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "1"}
    with pytest.raises(LaunchError, match="not by torchrun or mpirun, there is no GPU") as error:
        prepare_launch_environment(["--train_dir", "v"], environ=environ)
    assert f"accelerate launch --config_file {CPU_DDP_CONFIG} --num_processes 2 scripts/train.py" in str(error.value)
    with pytest.raises(LaunchError, match="MASTER_ADDR/MASTER_PORT are not set"):
        prepare_launch_environment([], environ={"WORLD_SIZE": "2", "RANK": "1"})
    with pytest.raises(LaunchError, match="WORLD_SIZE='two' is not an integer"):
        prepare_launch_environment([], environ={"WORLD_SIZE": "two"})
    # --use_cpu given: the user's own launcher; the environment is left to the Trainer
    prepare_launch_environment(["--use_cpu", "true"], environ=dict(environ))


@cpu_only
def test_torchrun_without_a_gpu_is_set_to_cpu_data_parallelism():
    environ = {"WORLD_SIZE": "2", "RANK": "1", "LOCAL_RANK": "1", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "1"}
    environ["TORCHELASTIC_RUN_ID"] = "none"
    info = prepare_launch_environment([], environ=environ)
    assert (info.launcher, info.world_size, info.rank) == ("torchrun", 2, 1)
    assert environ["ACCELERATE_USE_CPU"] == "true"
    # accelerate trains CPU processes as DDP even when its config says FSDP: an error, not a silent DDP run
    environ = dict(environ, ACCELERATE_USE_FSDP="true")
    with pytest.raises(LaunchError, match="asks for FSDP, but these processes run on the CPU") as error:
        prepare_launch_environment([], environ=environ)
    assert f"accelerate launch --config_file {CPU_DDP_CONFIG} --num_processes 2" in str(error.value)


def _fake_parent(arguments: list[str]) -> subprocess.Popen:
    """A process whose command line reads `... accelerate launch <arguments>` (it only sleeps), run from the root."""
    code = "import time; time.sleep(60)"
    return subprocess.Popen([sys.executable, "-c", code, "accelerate", "launch", *arguments], cwd=ROOT)


@cpu_only
def test_one_process_started_for_several_is_an_error_naming_the_count():
    environ = {"ACCELERATE_MIXED_PRECISION": "no", "ACCELERATE_DYNAMO_BACKEND": "no", "ACCELERATE_USE_CPU": "False"}
    environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT="29500")
    parent = _fake_parent(["--num_processes", "3", "scripts/train.py", "--do_train"])
    try:
        time.sleep(0.5)
        info = detect_launch(environ, parent_pid=parent.pid)
        assert info.launcher == "accelerate" and info.request.num_processes == 3 and info.request.num_machines == 1
        with pytest.raises(LaunchError, match=r"asked for --num_processes 3 but started one process") as error:
            prepare_launch_environment(["--do_train"], environ=environ, parent_pid=parent.pid, relaunch=False)
        assert "--num_processes 3 scripts/train.py --do_train" in str(error.value)
    finally:
        parent.kill()
        parent.wait()
    # the shipped config: 2 processes, on the CPU
    parent = _fake_parent(["--config_file", CPU_DDP_CONFIG, "scripts/train.py"])
    try:
        time.sleep(0.5)
        request = detect_launch(environ, parent_pid=parent.pid).request
        assert (request.num_processes, request.num_machines, request.use_cpu) == (2, 1, True)
    finally:
        parent.kill()
        parent.wait()
    # a parent that is no accelerate launch: nothing known; one process without MASTER_ADDR is fine
    one = {"ACCELERATE_MIXED_PRECISION": "no", "ACCELERATE_DYNAMO_BACKEND": "no"}
    assert detect_launch(one, parent_pid=os.getpid()).request is None
    prepare_launch_environment([], environ=one, parent_pid=os.getpid())
    # accelerate-looking variables exported in a shell (not both launcher variables): no launcher, no error
    prepare_launch_environment([], environ={"ACCELERATE_USE_CPU": "true", "MASTER_ADDR": "127.0.0.1"})


def test_a_run_that_is_not_distributed_under_a_launcher_is_stopped_after_parsing():
    arguments = SimpleNamespace(
        parallel_mode=ParallelMode.NOT_PARALLEL, world_size=1, process_index=0, device=torch.device("cpu")
    )
    environ = {"WORLD_SIZE": "2", "RANK": "0", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "1"}
    with pytest.raises(LaunchError, match="2 processes were launched, but this process is in a run that is not") as e:
        check_launch(arguments, environ=environ)
    assert f"accelerate launch --config_file {CPU_DDP_CONFIG} --num_processes 2" in str(e.value)
    arguments.parallel_mode, arguments.world_size = ParallelMode.DISTRIBUTED, 3
    with pytest.raises(LaunchError, match="a distributed run of 3 processes"):
        check_launch(arguments, environ=environ)
    arguments.world_size = 2
    check_launch(arguments, environ=environ)


# --------------------------------------------------------------------------------------------------------------------
# One run per output folder


def _hold_lock(output_dir: Path) -> subprocess.Popen:
    code = (
        "import sys, time\nfrom modeling_sllm.training.launch import OutputDirLock\n"
        f"lock = OutputDirLock({str(output_dir)!r}).acquire()\nprint('locked', flush=True)\ntime.sleep(120)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_a_second_run_on_a_locked_output_dir_is_refused_naming_the_other_pid(tmp_path, caplog):
    output_dir = tmp_path / "out"
    holder = _hold_lock(output_dir)
    try:
        lock_file = tmp_path / ".out.sllm-lock"
        assert json.loads(lock_file.read_text())["pid"] == holder.pid
        with pytest.raises(LaunchError, match=f"is in use by another run: pid {holder.pid} on host") as error:
            train_main(["--train_dir", str(tmp_path / "videos"), "--do_train", "--output_dir", str(output_dir)])
        assert str(lock_file) in str(error.value)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # the killed run left its record: a stale lock, taken over with a warning, and removed on release
    assert json.loads(lock_file.read_text())["pid"] == holder.pid
    with caplog.at_level("WARNING"), OutputDirLock(output_dir) as lock:
        assert json.loads(lock_file.read_text())["pid"] == os.getpid()
        with pytest.raises(LaunchError, match=f"pid {os.getpid()}"):
            OutputDirLock(output_dir).acquire()
    assert f"Stale lock {lock.path} of pid {holder.pid}" in caplog.text
    assert not lock_file.exists()


def test_lock_records_that_cannot_be_checked_are_refused(tmp_path):
    lock_file = tmp_path / ".out.sllm-lock"
    lock_file.write_text(json.dumps({"pid": 12345, "host": "another-machine", "started": "yesterday"}))
    with pytest.raises(LaunchError, match="another-machine since yesterday.*cannot check whether it still runs"):
        OutputDirLock(tmp_path / "out").acquire()
    lock_file.write_text(json.dumps({"pid": os.getppid(), "host": socket.gethostname()}))
    with pytest.raises(LaunchError, match=f"pid {os.getppid()} .*a reused pid"):
        OutputDirLock(tmp_path / "out").acquire()


def test_the_cli_releases_its_lock_when_the_run_fails(tmp_path):
    output_dir = tmp_path / "out"
    with pytest.raises((ValueError, OSError), match="missing"):
        train_main(["--validation_dir", str(tmp_path / "missing"), "--do_train", "--output_dir", str(output_dir)])
    assert not (tmp_path / ".out.sllm-lock").exists()
    with OutputDirLock(output_dir):  # free again
        pass

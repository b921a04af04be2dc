# Copyright 2026 The SLLM-HF authors. Licensed under the Apache License, Version 2.0.
"""
How a training run was launched, checked before it starts; one run per output folder; a clean end.

Launchers tell their processes how many they are through `WORLD_SIZE`, `RANK`, `LOCAL_RANK`, `MASTER_ADDR` and
`ACCELERATE_*`. Without a GPU, `accelerate launch --num_processes 2` starts ONE process ([`prepare_launch_environment`]
restarts it as `torchrun --standalone --nproc_per_node 2`), and `accelerate launch --multi_gpu` or `torchrun` start
processes that each train alone unless `--use_cpu true` (they are set to CPU data parallelism, gloo, before the
Trainer sets its device up). Any other mismatch stops at start-up with a [`LaunchError`] giving the command that works
([`check_launch`]). [`OutputDirLock`] keeps a second run out of an output folder in use; [`managed_run`] wraps the
training `main`: launch checks before it, locks released and process group destroyed after it.
"""

import contextlib
import functools
import io
import json
import logging
import os
import shlex
import socket
import sys
import time
from dataclasses import dataclass, field


try:
    import fcntl
except ImportError:  # Windows: the lock falls back to an exclusively created file
    fcntl = None


__all__ = [
    "AccelerateLaunchRequest", "LaunchError", "LaunchEnvironment", "OutputDirLock", "check_launch", "detect_launch",
    "lock_output_dir", "managed_run", "prepare_launch_environment", "shutdown_distributed", "suggested_command",
]  # fmt: skip

logger = logging.getLogger(__name__)

CPU_DDP_CONFIG = "configs/accelerate/cpu_ddp.yaml"
MULTI_GPU_CONFIG = "configs/accelerate/multi_gpu.yaml"

_WORLD_SIZE_VARS = ("WORLD_SIZE", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE")
_RANK_VARS = ("RANK", "LOCAL_RANK", "PMI_RANK", "OMPI_COMM_WORLD_RANK", "MV2_COMM_WORLD_RANK")
_MPI_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE")
# written together by `accelerate launch` (its one-process and its torchrun launcher) for the processes it starts
_ACCELERATE_VARS = ("ACCELERATE_MIXED_PRECISION", "ACCELERATE_DYNAMO_BACKEND")
_RELAUNCHED = "SLLM_RELAUNCHED_BY_TORCHRUN"


class LaunchError(RuntimeError):
    """The launcher and the run disagree (several processes asked for, one started; two runs on one output folder)."""


@dataclass
class AccelerateLaunchRequest:
    """What the `accelerate launch` command that started this process asked for (its flags, then its config file)."""

    num_processes: int | None
    num_machines: int
    use_cpu: bool
    config_file: str | None = None


@dataclass
class LaunchEnvironment:
    """What the environment says about the launch: `world_size` is `None` when no launcher variable is set."""

    launcher: str  # "torchrun", "mpi", "launcher" (other), "accelerate" (its one-process launcher) or "python"
    world_size: int | None = None
    world_size_var: str | None = None
    ranks: dict[str, int] = field(default_factory=dict)
    request: AccelerateLaunchRequest | None = None

    @property
    def rank(self) -> int:
        return next(iter(self.ranks.values()), 0)


def _env_int(environ, name: str) -> int | None:
    value = environ.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise LaunchError(f"The environment variable {name}={value!r} is not an integer.") from None


def _flag(value: str | None) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def _accelerator_available() -> bool:
    import torch

    return torch.accelerator.is_available()


def _parent_accelerate_request(pid: int | None = None) -> AccelerateLaunchRequest | None:
    """Parses the command line of the `accelerate launch` process that started this one (None if it is not one)."""
    try:
        import psutil

        parent = psutil.Process(os.getppid() if pid is None else pid)
        tokens, cwd = parent.cmdline(), parent.cwd()
    except Exception:  # no psutil, parent gone or not readable: the request is unknown, the checks still run
        return None
    start = None
    for index, token in enumerate(tokens):
        name = os.path.basename(token)
        if (token == "launch" and index > 0 and os.path.basename(tokens[index - 1]).startswith("accelerate")) or (
            name in ("accelerate-launch", "accelerate.commands.launch")
        ):
            start = index + 1
            break
    if start is None:
        return None
    from accelerate.commands.config.config_args import default_config_file, load_config_from_file
    from accelerate.commands.launch import launch_command_parser

    try:
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            launch_args = launch_command_parser().parse_args(tokens[start:])
    except SystemExit:
        return None
    num_processes, num_machines, use_cpu = launch_args.num_processes, launch_args.num_machines, launch_args.cpu
    config_file = launch_args.config_file
    if config_file is None and os.path.isfile(default_config_file) and not launch_args.cpu:
        config_file = default_config_file
    if config_file is not None:
        try:
            config = load_config_from_file(os.path.join(cwd, config_file))
        except Exception:
            return None
        if num_processes is None and getattr(config, "num_processes", -1) not in (None, -1):
            num_processes = config.num_processes
        if num_machines is None:
            num_machines = getattr(config, "num_machines", 1)
        use_cpu = use_cpu or bool(config.use_cpu)
    return AccelerateLaunchRequest(num_processes, num_machines or 1, bool(use_cpu), config_file)


def detect_launch(environ=None, parent_pid: int | None = None) -> LaunchEnvironment:
    """Reads the launcher's variables from `environ` (default `os.environ`) and, under `accelerate launch`, the
    command that asked for the processes."""
    environ = os.environ if environ is None else environ
    info = LaunchEnvironment(launcher="python")
    for name in _WORLD_SIZE_VARS:
        size = _env_int(environ, name)
        if size is not None:
            info.world_size, info.world_size_var = size, name
            break
    info.ranks = {name: _env_int(environ, name) for name in _RANK_VARS if _env_int(environ, name) is not None}
    if any(name in environ for name in _MPI_VARS):
        info.launcher = "mpi"
    elif "TORCHELASTIC_RUN_ID" in environ:
        info.launcher = "torchrun"
    elif info.world_size is not None or info.ranks:
        info.launcher = "launcher"
    elif all(name in environ for name in _ACCELERATE_VARS):
        info.launcher = "accelerate"
    if all(name in environ for name in _ACCELERATE_VARS):
        info.request = _parent_accelerate_request(parent_pid)
    return info


def suggested_command(num_processes: int | None, argv: list[str] | None = None, gpu: bool | None = None) -> str:
    """The command lines that start `num_processes` data-parallel processes of the script `argv` (script + args)."""
    gpu = _accelerator_available() if gpu is None else gpu
    n = num_processes if num_processes and num_processes > 1 else "N"
    script = shlex.join(argv) if argv else "scripts/train.py --config <your config>"
    if gpu:
        return f"accelerate launch --config_file {MULTI_GPU_CONFIG} --num_processes {n} {script}"
    return (
        f"accelerate launch --config_file {CPU_DDP_CONFIG} --num_processes {n} {script}\n"
        f"  (or: torchrun --nproc_per_node {n} {script} --use_cpu true)"
    )


def _script_argv(args: list[str] | None) -> list[str]:
    if args is None:
        return list(sys.argv)
    return ["scripts/train.py", *args]


def _asks_for_cpu(args: list[str]) -> bool:
    """Whether the training arguments (`--use_cpu`, or `use_cpu` in the `--config` YAML) ask for the CPU."""
    import argparse

    import yaml

    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--config", default=None)
    parser.add_argument("--use_cpu", "--use-cpu", nargs="?", const="true", default=None)
    known, _ = parser.parse_known_args(args)
    value = known.use_cpu
    if value is None and known.config and os.path.isfile(known.config):
        with open(known.config, encoding="utf-8") as handle:
            values = yaml.safe_load(handle)
        value = values.get("use_cpu") if isinstance(values, dict) else None
    return _flag(value)


def prepare_launch_environment(
    args: list[str] | None = None, environ=None, parent_pid: int | None = None, relaunch: bool | None = None
) -> LaunchEnvironment:
    """
    Runs before the arguments are parsed (the Trainer sets its device and process group up while parsing):
    - several processes launched without a GPU (or with accelerate's `use_cpu`): CPU data parallelism (gloo) through
      `ACCELERATE_USE_CPU=true`, as `--use_cpu true` would;
    - `accelerate launch --num_processes N` that started one CPU process: restarts it as `torchrun --standalone
      --nproc_per_node N` (only for the command line, `args=None`, in `os.environ`);
    - variables that cannot make a distributed run (a size with no rank, no `MASTER_ADDR`): [`LaunchError`].
    """
    real_environment = environ is None
    environ = os.environ if environ is None else environ
    relaunch = (args is None and real_environment) if relaunch is None else relaunch
    info = detect_launch(environ, parent_pid)
    cpu_only = not _accelerator_available()
    argv = _script_argv(args)
    if info.world_size is not None and info.world_size > 1:
        variable = f"{info.world_size_var}={info.world_size}"
        if not info.ranks:
            raise LaunchError(
                f"{variable} says {info.world_size} processes were launched, but this process has no rank (RANK and "
                f"LOCAL_RANK are not set): it was not started by a launcher. Unset {info.world_size_var} to train in "
                f"one process, or start {info.world_size} data-parallel processes with:\n  "
                + suggested_command(info.world_size, argv)
            )
        if info.launcher != "mpi" and not (environ.get("MASTER_ADDR") and environ.get("MASTER_PORT")):
            raise LaunchError(
                f"{variable} but MASTER_ADDR/MASTER_PORT are not set: the {info.world_size} processes cannot meet. "
                "Start them with a launcher:\n  " + suggested_command(info.world_size, argv)
            )
        wants_cpu = info.request is not None and info.request.use_cpu
        uses_cpu = _flag(environ.get("ACCELERATE_USE_CPU")) or _asks_for_cpu(argv[1:])
        if cpu_only and info.launcher not in ("torchrun", "mpi") and not uses_cpu:
            # variables set by hand (or leaked into the shell): accelerate would wait for peers, then train alone
            raise LaunchError(
                f"{variable} and RANK are set but not by torchrun or mpirun, there is no GPU and --use_cpu is not "
                "given: this process would wait for its peers and then train alone. Unset WORLD_SIZE, RANK and "
                "LOCAL_RANK to train in one process, or start the processes with:\n  "
                + suggested_command(info.world_size, argv)
            )
        if (cpu_only or uses_cpu or wants_cpu) and _flag(environ.get("ACCELERATE_USE_FSDP")):
            raise LaunchError(
                "The accelerate config asks for FSDP, but these processes run on the CPU, where accelerate trains "
                "plain DDP instead (FSDP needs GPUs). For CPU processes use:\n  "
                + suggested_command(info.world_size, argv, gpu=False)
            )
        if ((cpu_only and info.launcher in ("torchrun", "mpi")) or wants_cpu) and not uses_cpu:
            environ["ACCELERATE_USE_CPU"] = "true"
            if info.rank == 0:
                reason = "no GPU is available" if cpu_only else "the accelerate config says use_cpu"
                logger.warning(
                    f"{info.world_size} processes were launched and {reason}: training data-parallel on the CPU "
                    "(gloo backend), as with --use_cpu true."
                )
        return info
    if info.launcher != "accelerate" or not environ.get("MASTER_ADDR"):
        return info
    # accelerate's one-process launcher sets MASTER_ADDR only when more processes or machines were asked for
    request = info.request
    if request is not None and request.num_machines == 1 and (request.num_processes or 1) <= 1:
        return info
    asked = request.num_processes if request is not None else None
    cpu = cpu_only or _flag(environ.get("ACCELERATE_USE_CPU")) or (request is not None and request.use_cpu)
    if request is not None and request.num_machines == 1 and asked and cpu and relaunch:
        if environ.get(_RELAUNCHED):
            raise LaunchError(f"The torchrun restart for --num_processes {asked} started a process without a rank.")
        _relaunch_with_torchrun(asked, argv, environ)
    if request is not None and request.num_machines > 1:
        problem = (
            f"accelerate launch asked for {request.num_machines} machines but started one process that is not "
            "distributed (its one-process launcher needs mpirun for several CPU machines)"
        )
        command = (
            f"accelerate launch --config_file {CPU_DDP_CONFIG if cpu else MULTI_GPU_CONFIG} "
            f"--num_machines {request.num_machines} --machine_rank <0..{request.num_machines - 1}> "
            f"--main_process_ip <IP of machine 0> --main_process_port 29500 --num_processes <processes in total> "
            f"{shlex.join(argv)}"
        )
    else:
        what = f"--num_processes {asked}" if asked else "more than one process"
        where = "on the CPU" if cpu else "with fewer GPUs than processes"
        problem = f"accelerate launch asked for {what} but started one process that is not distributed ({where})"
        command = suggested_command(asked, argv, gpu=not cpu)
    raise LaunchError(f"{problem}. Start the processes with:\n  {command}")


def _relaunch_with_torchrun(num_processes: int, argv: list[str], environ) -> None:
    """Replaces this process by `torchrun --standalone --nproc_per_node N <script> <args>` on the CPU (no return)."""
    main_spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    target = ["-m", main_spec.name] if main_spec is not None and main_spec.name != "__main__" else [argv[0]]
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(num_processes)]
    command += target + argv[1:]
    env = {key: value for key, value in environ.items() if key not in ("MASTER_ADDR", "MASTER_PORT")}
    env.update({"ACCELERATE_USE_CPU": "true", _RELAUNCHED: "1"})
    logger.warning(
        f"accelerate launch started one process for --num_processes {num_processes} (no GPU): restarting as "
        f"{shlex.join(['torchrun', *command[3:]])} for {num_processes} data-parallel CPU processes "
        f"(the same as accelerate launch --config_file {CPU_DDP_CONFIG})."
    )
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, command, env)


def check_launch(training_args, environ=None) -> None:
    """
    After parsing: the run must be as distributed as the launcher says (`WORLD_SIZE` processes in one process group),
    and have the process count `accelerate launch` asked for; otherwise a [`LaunchError`] with the command that works.
    """
    from transformers.training_args import ParallelMode

    info = detect_launch(environ)
    expected = info.world_size if info.world_size is not None else 1
    distributed = training_args.parallel_mode == ParallelMode.DISTRIBUTED
    actual = training_args.world_size
    argv = _script_argv(None)
    if expected > 1 and (not distributed or actual != expected):
        state = f"a distributed run of {actual} processes" if distributed else "a run that is not distributed"
        raise LaunchError(
            f"{info.world_size_var}={expected}: {expected} processes were launched, but this process is in {state} "
            f"(process {training_args.process_index}, device {training_args.device}): each would train alone on all "
            "the data and write the same output folder. Start the processes with:\n  "
            + suggested_command(expected, argv, gpu=training_args.device.type != "cpu")
        )
    request = info.request
    if request is not None and request.num_processes and request.num_processes != actual and expected > 1:
        raise LaunchError(
            f"accelerate launch asked for {request.num_processes} processes but this run has {actual}. Start them "
            "with:\n  " + suggested_command(request.num_processes, argv, gpu=training_args.device.type != "cpu")
        )


# --------------------------------------------------------------------------------------------------------------------
# One run per output folder


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


class OutputDirLock:
    """
    Exclusive lock of an output folder for a run's lifetime: the file `.<name>.sllm-lock` beside the folder (it
    survives the folder being replaced by the atomic final save) records the holder's pid, host, start time and
    command. The lock is an `fcntl.flock` (released by the system when the holder dies); a record left by a dead
    process on this host is a stale lock, taken over with a warning; a record from another host cannot be checked:
    refused.
    """

    def __init__(self, output_dir: str | os.PathLike):
        self.output_dir = os.path.abspath(os.fspath(output_dir))
        parent, name = os.path.split(self.output_dir.rstrip(os.sep)) if self.output_dir != os.sep else ("/", "root")
        self.path = os.path.join(parent, f".{name}.sllm-lock")
        self._fd: int | None = None

    @staticmethod
    def _holder(raw: bytes) -> dict:
        try:
            holder = json.loads(raw.decode() or "{}")
        except (UnicodeDecodeError, json.JSONDecodeError):
            return {"unreadable": raw[:200].decode(errors="replace")}
        return holder if isinstance(holder, dict) else {}

    def _in_use(self, holder: dict, reason: str = "") -> LaunchError:
        who = f"pid {holder.get('pid', '?')} on host {holder.get('host', '?')}"
        since = f" since {holder['started']}" if holder.get("started") else ""
        command = f" ({holder['command']})" if holder.get("command") else ""
        return LaunchError(
            f"The output folder {self.output_dir} is in use by another run: {who}{since}{command}. {reason}"
            f"Wait for that run to end or choose another --output_dir (lock file {self.path})."
        )

    def _stale_or_raise(self, holder: dict) -> None:
        """Raises unless the run that wrote `holder` is known to be gone (same host, pid not running)."""
        if not holder or "unreadable" in holder:
            return
        if holder.get("host") != socket.gethostname():
            reason = "This machine cannot check whether it still runs; if it has ended, delete the lock file. "
            raise self._in_use(holder, reason)
        pid = holder.get("pid")
        if isinstance(pid, int) and pid != os.getpid() and _pid_alive(pid):
            raise self._in_use(holder, "If that process is not a training run (a reused pid), delete the lock file. ")
        logger.warning(
            f"Stale lock {self.path} of pid {pid} on {holder.get('host')} (that run ended without releasing it): "
            "taking it over."
        )

    def _take(self, fd: int) -> "OutputDirLock":
        record = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
        record["command"] = shlex.join(sys.argv)
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(record).encode())
        self._fd = fd
        return self

    def acquire(self) -> "OutputDirLock":
        if self._fd is not None:
            raise LaunchError(f"{self.path} is already held by this lock.")
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        for _ in range(20):
            if fcntl is None:  # the exclusively created file is the lock; a stale one is removed, then retried
                try:
                    return self._take(os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644))
                except FileExistsError:
                    with open(self.path, "rb") as handle:
                        holder = self._holder(handle.read())
                    if not holder:  # being written by a run starting now
                        raise self._in_use(holder) from None
                    self._stale_or_raise(holder)
                    with contextlib.suppress(FileNotFoundError):
                        os.remove(self.path)
                    continue
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise self._in_use(self._holder(os.pread(fd, 1 << 16, 0))) from None
                # the holder may have removed the file between our open and flock: lock the file at the path
                if not (os.path.exists(self.path) and os.path.samestat(os.fstat(fd), os.stat(self.path))):
                    os.close(fd)
                    continue
                self._stale_or_raise(self._holder(os.pread(fd, 1 << 16, 0)))
                return self._take(fd)
            except BaseException:
                if self._fd is None:
                    os.close(fd)
                raise
        raise LaunchError(f"Could not lock {self.output_dir}: {self.path} kept being replaced by other runs.")

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            with contextlib.suppress(FileNotFoundError):
                if os.path.samestat(os.fstat(self._fd), os.stat(self.path)):
                    os.remove(self.path)
        finally:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "OutputDirLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


_HELD_LOCKS: list[OutputDirLock] = []


def _gather(value) -> list:
    """`value` of every process (an all-gather when a process group exists), in rank order."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        values = [None] * dist.get_world_size()
        dist.all_gather_object(values, value)
        return values
    return [value]


def lock_output_dir(training_args) -> OutputDirLock | None:
    """
    Locks `training_args.output_dir` in the processes that write it (`should_save`) until [`managed_run`] ends the
    run; every process calls it, so that all of them stop with the same [`LaunchError`] if it is in use.
    """
    lock, error = None, None
    if training_args.should_save and training_args.output_dir:
        try:
            lock = OutputDirLock(training_args.output_dir).acquire()
        except LaunchError as exception:
            error = str(exception)
    errors = [message for message in _gather(error) if message]
    if errors:
        if lock is not None:
            lock.release()
        raise LaunchError(errors[0])
    if lock is not None:
        _HELD_LOCKS.append(lock)
    return lock


# --------------------------------------------------------------------------------------------------------------------
# A clean end


def shutdown_distributed(wait: bool = False) -> None:
    """Destroys the process group (after a barrier when `wait`), so that no communication thread outlives the
    interpreter (at exit that aborts with "terminate called without an active exception")."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return
    try:
        if wait:
            dist.barrier()
    finally:
        dist.destroy_process_group()


def managed_run(main):
    """Decorates a training `main(args)`: [`prepare_launch_environment`] before it; after it, every process waits for
    the others (after a success), the output-folder locks it took are released and the process group is destroyed
    (also on error)."""

    @functools.wraps(main)
    def run(args: list[str] | None = None, *more, **kwargs):
        prepare_launch_environment(args)
        held = len(_HELD_LOCKS)
        succeeded = False
        try:
            result = main(args, *more, **kwargs)
            succeeded = True
            return result
        finally:
            import torch.distributed as dist

            try:
                if succeeded and dist.is_available() and dist.is_initialized():
                    dist.barrier()  # the output folder is complete before its lock goes
            finally:
                while len(_HELD_LOCKS) > held:
                    _HELD_LOCKS.pop().release()
                shutdown_distributed()

    return run

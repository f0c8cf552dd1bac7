"""Run commands under strace, one folder per run, and never leave a process or a file behind.

A run folder (under ``out_dir``, default ``runs/``) holds the raw log(s) (``trace.log``, or
``trace.log.PID`` with ``-ff``), the command's ``stdout.txt`` and ``stderr.txt`` (strace's own
messages land there too) and ``metadata.json``. The command runs
with ``TMPDIR`` set to the folder's ``tmp/`` (removed afterwards; files left there are counted in
``leftover_files``) and ``PYTHONHASHSEED=0``.

The traced command runs in its own session and process group: on timeout or Ctrl-C the whole
group, strace included, gets SIGTERM, then SIGKILL after a grace period.

The same command is first run once without strace (same environment, same ambient load) for its
untraced wall time, so ``traced_seconds / untraced_seconds`` is the observer overhead.

stress-ng backend, per condition (bounded by ops and by ``--timeout``; the counts vary run to run
because stress-ng's stressors are time-driven): cpu ``--cpu 1 --cpu-ops 200`` (a handful of
syscalls beyond start-up: ``--cpu`` and ``--vm`` do their work without the kernel); memory
``--mmap 1 --mmap-bytes 4M --mmap-ops 4`` (thousands of mmap, munmap, madvise; without
``--mmap-bytes`` it overruns its timeout under strace); memory-brk ``--brk 1 --brk-ops 20000``;
memory-malloc ``--malloc 1 --malloc-ops 20000``; io ``--hdd 1 --hdd-opts fsync --hdd-bytes 8M
--hdd-ops 400`` (write, read, lseek, fsync); io-mix ``--iomix 1 --iomix-ops 1000``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from syscall_lab.capture.metadata import RunMetadata, collect_metadata, write_metadata
from syscall_lab.conditions import AMBIENT_STRESS_NG, STRESS_NG_STRESSORS
from syscall_lab.errors import CaptureError

__all__ = [
    "Ambient",
    "CaptureResult",
    "StraceOptions",
    "capture_command",
    "capture_condition",
    "capture_series",
    "find_strace",
    "group_members",
    "python_executable",
    "settle",
    "strace_failure",
    "workload_command",
]

LOG_NAME = "trace.log"
GRACE_SECONDS = 2.0

# strace 6.1 when ptrace is refused (no CAP_SYS_PTRACE, yama, or already traced):
#   strace: test_ptrace_get_syscall_info: PTRACE_TRACEME: Operation not permitted
#   strace: attach: ptrace(PTRACE_SEIZE, 7): Operation not permitted
_PTRACE_DENIED = re.compile(r"PTRACE_\w+.*Operation not permitted")
#   strace: Can't stat 'nosuch': No such file or directory
#   strace: exec: No such file or directory
_STRACE_ERROR = re.compile(r"^strace: (?!Process \d+ (?:attached|detached))(.*)$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class StraceOptions:
    """strace flags. Default: ``-f -ttt -T -y -s 64 -o LOG``.

    ``separate_files`` adds ``-ff`` (one log per pid). ``trace`` is a ``-e trace=`` set
    (``%file,%memory``); ``seccomp_bpf`` adds ``--seccomp-bpf`` (needs ``trace`` and following
    forks) so untraced syscalls cost nothing.
    """

    follow_forks: bool = True
    separate_files: bool = False
    string_size: int = 64
    trace: str | None = None
    seccomp_bpf: bool = False

    def __post_init__(self) -> None:
        if self.seccomp_bpf and not (self.trace and self.follow_forks):
            raise ValueError("--seccomp-bpf needs a trace set (-e trace=...) and -f")
        if self.string_size < 0:
            raise ValueError(f"string size must be >= 0, got {self.string_size}")

    def argv(self, log: Path) -> tuple[str, ...]:
        """The strace options (without the strace program and the command) logging to ``log``."""
        flags = ["-ff" if self.separate_files else "-f"] if self.follow_forks else []
        flags += ["-ttt", "-T", "-y", "-s", str(self.string_size)]
        if self.trace:
            flags += ["-e", f"trace={self.trace}"]
        if self.seccomp_bpf:
            flags.append("--seccomp-bpf")
        return (*flags, "-o", str(log))


@dataclass(frozen=True, slots=True)
class Ambient:
    """An untraced load beside the traced command: a condition of ``backend`` (python/stress-ng).

    The load starts ``warmup`` seconds before the runs. After the run it is stopped, the disks
    synced, and ``settle`` waits (at most ``settle_timeout`` seconds) until IO pressure is calm.
    """

    condition: str
    backend: str = "stress-ng"
    warmup: float = 0.3
    settle_timeout: float = 5.0

    def argv(self, temp: Path) -> tuple[str, ...]:
        """The stressor's command line, with its files under ``temp``."""
        if self.backend == "python":
            return (*workload_command(self.condition, scale=1.0, seed=0), "--loop")
        if self.backend == "stress-ng":
            try:
                stressor = AMBIENT_STRESS_NG[self.condition]
            except KeyError:
                raise CaptureError(
                    f"no ambient stress-ng load for {self.condition!r}; "
                    f"one of {', '.join(AMBIENT_STRESS_NG)}"
                ) from None
            return (
                _which("stress-ng"),
                *stressor,
                "--timeout",
                "120s",
                "--temp-path",
                str(temp),
                "-q",
            )
        raise CaptureError(f"unknown backend {self.backend!r}: python or stress-ng")


@dataclass(frozen=True, slots=True)
class CaptureResult:
    """A run folder, its raw strace log(s) in pid order, and its metadata."""

    run_dir: Path
    logs: tuple[Path, ...]
    metadata: RunMetadata

    @property
    def complete(self) -> bool:
        """Whether the run ended on its own and its log is whole."""
        return self.metadata.status == "complete"


def _which(program: str) -> str:
    found = shutil.which(program)
    if found is None:
        install = {"strace": "strace", "stress-ng": "stress-ng"}.get(program)
        hint = f" (install it: apt-get install {install})" if install else ""
        raise CaptureError(f"{program}: command not found{hint}")
    return found


def find_strace() -> str:
    """The strace program's path; CaptureError saying how to install it when missing."""
    return _which("strace")


def python_executable() -> str:
    """The interpreter to trace: this one, never a pyenv shim (the shim alone makes ~9,000 calls).

    A venv's ``bin/python`` symlink is kept as is (its path is how Python finds the venv); what it
    points to must be a binary, not a script.
    """
    real = os.path.realpath(sys.executable)
    with open(real, "rb") as stream:
        if stream.read(2) == b"#!":
            raise CaptureError(f"{sys.executable} is a script (a pyenv shim?), not an interpreter")
    return sys.executable


def workload_command(
    condition: str, *, scale: float = 1.0, seed: int = 0, backend: str = "python"
) -> tuple[str, ...]:
    """The command line of a workload: ``python -m workloads`` or a bounded stress-ng stressor.

    ``normal`` is always the Python workload (stress-ng has no "normal"). stress-ng ignores
    ``seed``; ``scale`` multiplies its ops.
    """
    if backend == "python" or condition == "normal":
        return (python_executable(), "-m", "workloads", condition, "--scale", f"{scale:g}",
                "--seed", str(seed))  # fmt: skip
    if backend != "stress-ng":
        raise CaptureError(f"unknown backend {backend!r}: python or stress-ng")
    try:
        stressor = STRESS_NG_STRESSORS[condition]
    except KeyError:
        raise CaptureError(
            f"no stress-ng stressor for {condition!r}; one of {', '.join(STRESS_NG_STRESSORS)}"
        ) from None
    # Scale multiplies the ops (the last option of every stressor).
    ops = max(1, round(int(stressor[-1]) * scale))
    # No --seed: stress-ng's mmap stressor with --seed 0 spins until its timeout (0.15.06).
    return (_which("stress-ng"), *stressor[:-1], str(ops), "--timeout", "10s", "-q")


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes whose process group is ``pgid``, from a /proc scan."""
    members = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="utf-8", errors="replace") as stream:
                stat = stream.read()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses.
        fields = stat[stat.rfind(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def _stop_group(process: subprocess.Popen[bytes], grace: float = GRACE_SECONDS) -> None:
    """SIGTERM the process's whole group, SIGKILL what is left after ``grace`` seconds, reap."""
    pgid = process.pid
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if process.poll() is not None and not group_members(pgid):
            break
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if process.poll() is not None and not group_members(pgid):
                break
            time.sleep(0.02)
    process.wait()


def strace_failure(stderr: str) -> str | None:
    """Why strace itself failed, from its stderr, or None when it did not complain."""
    if _PTRACE_DENIED.search(stderr):
        return (
            "ptrace is not permitted here (a container without CAP_SYS_PTRACE, "
            "kernel.yama.ptrace_scope, or already traced): strace cannot trace"
        )
    found = _STRACE_ERROR.search(stderr)
    return f"strace: {found.group(1)}" if found else None


def _pressure_total(resource: str) -> int | None:
    # /proc/pressure/io: "some avg10=0.00 avg60=0.00 avg300=0.00 total=123456" (microseconds)
    try:
        with open(f"/proc/pressure/{resource}", encoding="ascii") as stream:
            first = stream.readline()
    except OSError:
        return None
    return int(first.rsplit("total=", 1)[1])


def settle(timeout: float = 5.0, window: float = 0.25, calm: float = 0.05) -> float:
    """Sync the disks and wait until IO stall time falls below ``calm`` (a fraction of a
    ``window``), at most ``timeout`` seconds; return the seconds waited.

    A quiet run started right after disk stress still looks stressed: writeback goes on. CPU
    pressure is not waited on: a stopped CPU stressor leaves none, and on a shared machine other
    users' load would keep it high forever. Without /proc/pressure/io, it waits one window.
    """
    start = time.monotonic()
    os.sync()
    while True:
        before = _pressure_total("io")
        time.sleep(window)
        after = _pressure_total("io")
        stall = 0.0 if before is None or after is None else (after - before) / 1e6
        if stall < calm * window or time.monotonic() - start > timeout:
            return time.monotonic() - start


def _run_dir(out_dir: Path, label: str, repeat: int, start: datetime) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{start:%Y%m%dT%H%M%S%fZ}-{re.sub(r'[^A-Za-z0-9_.-]', '_', label)}-r{repeat:02d}"
    for attempt in range(100):
        run_dir = out_dir / (stem if attempt == 0 else f"{stem}-{attempt}")
        try:
            run_dir.mkdir()
        except FileExistsError:
            continue
        return run_dir
    raise CaptureError(f"cannot make a new run folder for {stem} in {out_dir}")


@contextlib.contextmanager
def _ambient_load(
    ambient: Ambient | None, temp: Path, env: Mapping[str, str]
) -> Iterator[tuple[str, ...] | None]:
    if ambient is None:
        yield None
        return
    argv = ambient.argv(temp)
    stressor = subprocess.Popen(
        argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        time.sleep(ambient.warmup)
        if stressor.poll() is not None:
            raise CaptureError(
                f"ambient load exited early ({stressor.returncode}): {' '.join(argv)}"
            )
        yield argv
    finally:
        _stop_group(stressor)


def _timed(argv: Sequence[str], env: Mapping[str, str], timeout: float) -> float | None:
    """Wall time of an untraced run, or None when it failed or overran."""
    start = time.perf_counter()
    process = subprocess.Popen(
        argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        return None
    finally:
        _stop_group(process)
    return time.perf_counter() - start


def _count_files(folder: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(folder))


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """In the main thread, SIGTERM ends a capture like Ctrl-C: the group is killed, the run
    marked ``killed``, and KeyboardInterrupt raised (so a killed harness leaves nothing)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def capture_command(
    command: Sequence[str],
    *,
    label: str,
    out_dir: Path | str = "runs",
    strace_options: StraceOptions = StraceOptions(),
    timeout: float = 60.0,
    repeat: int = 0,
    ambient: Ambient | None = None,
    measure_untraced: bool = True,
    condition: str | None = None,
    backend: str | None = None,
    scale: float | None = None,
    seed: int | None = None,
) -> CaptureResult:
    """Trace ``command`` once under strace into a new run folder under ``out_dir``.

    A command that exits non-zero is a complete run (its status is in the metadata). Raises
    CaptureError when strace is missing, ptrace is refused, or the command does not exist (then
    the run folder, if made, says ``failed``). On Ctrl-C (or SIGTERM, in the main thread) the
    group is killed, the run is marked ``killed``, and KeyboardInterrupt goes on.
    """
    strace = find_strace()
    if not command:
        raise CaptureError("no command to trace")
    if shutil.which(command[0]) is None:
        raise CaptureError(f"{command[0]}: command not found")
    start = datetime.now(timezone.utc)
    run_dir = _run_dir(Path(out_dir), label, repeat, start)
    temp = run_dir / "tmp"
    temp.mkdir()
    log = run_dir / LOG_NAME
    strace_argv = (strace, *strace_options.argv(log), "--", *command)
    env = {**os.environ, "TMPDIR": str(temp), "PYTHONHASHSEED": "0"}
    metadata = RunMetadata(
        label=label, repeat=repeat, command=tuple(command), strace_argv=strace_argv,
        start_utc=start.isoformat(), status="running", environment=collect_metadata(strace),
        condition=condition, backend=backend, scale=scale, seed=seed,
        ambient=ambient.condition if ambient else None,
    )  # fmt: skip
    write_metadata(run_dir, metadata)
    outcome: dict[str, object] = {"status": "failed"}
    try:
        with _sigterm_interrupts(), _ambient_load(ambient, temp, env) as ambient_argv:
            outcome["ambient_argv"] = ambient_argv
            if measure_untraced:
                outcome["untraced_seconds"] = _timed(command, env, timeout)
            outcome.update(_traced(strace_argv, run_dir, env, timeout))
        if ambient is not None:
            outcome["settle_seconds"] = settle(ambient.settle_timeout)
    except KeyboardInterrupt:
        outcome["status"] = "killed"
        outcome["error"] = "interrupted"
        raise
    except CaptureError as exc:
        outcome["error"] = str(exc)
        raise
    finally:
        outcome["leftover_files"] = _count_files(temp)
        shutil.rmtree(temp, ignore_errors=True)
        outcome["logs"] = tuple(path.name for path in _logs(run_dir))
        metadata = replace(metadata, **outcome)  # type: ignore[arg-type]
        write_metadata(run_dir, metadata)
    return CaptureResult(run_dir, _logs(run_dir), metadata)


def _logs(run_dir: Path) -> tuple[Path, ...]:
    def order(path: Path) -> tuple[int, str]:
        suffix = path.name.rsplit(".", 1)[-1]
        return (int(suffix) if suffix.isdigit() else -1, path.name)

    return tuple(sorted(run_dir.glob(f"{LOG_NAME}*"), key=order))


def _traced(
    strace_argv: Sequence[str], run_dir: Path, env: Mapping[str, str], timeout: float
) -> dict[str, object]:
    """Run strace on the command; the outcome fields of its metadata."""
    stdout_path, stderr_path = run_dir / "stdout.txt", run_dir / "stderr.txt"
    with open(stdout_path, "wb") as stdout, open(stderr_path, "wb") as stderr:
        begin = time.perf_counter()
        process = subprocess.Popen(
            strace_argv, env=env, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
            start_new_session=True,
        )  # fmt: skip
        try:
            returncode = process.wait(timeout)
            status = "complete"
        except subprocess.TimeoutExpired:
            returncode, status = None, "timeout"
        finally:
            _stop_group(process)
        seconds = time.perf_counter() - begin
    stderr_text = stderr_path.read_text(encoding="utf-8", errors="replace")
    failure = strace_failure(stderr_text)
    logged = sum(path.stat().st_size for path in _logs(run_dir))
    # strace complains on stderr and logs nothing when it could not start tracing at all.
    if failure and (_PTRACE_DENIED.search(stderr_text) or not logged):
        raise CaptureError(failure)
    return {"status": status, "exit_status": returncode, "traced_seconds": seconds}


def capture_condition(
    condition: str,
    *,
    scale: float = 1.0,
    seed: int = 0,
    backend: str = "python",
    label: str | None = None,
    **options: object,
) -> CaptureResult:
    """Trace one workload (``workloads`` or stress-ng) with ``capture``'s ``options``."""
    command = workload_command(condition, scale=scale, seed=seed, backend=backend)
    return capture_command(
        command, label=label or condition, condition=condition, scale=scale, seed=seed,
        backend="python" if condition == "normal" else backend, **options,  # type: ignore[arg-type]
    )  # fmt: skip


def capture_series(
    conditions: Iterable[str], *, repeats: int = 5, **options: object
) -> list[CaptureResult]:
    """Trace every condition ``repeats`` times, interleaved (a, b, c, a, b, c, ...), so drift in
    the machine spreads over all conditions instead of biasing one."""
    order = list(conditions)
    return [
        capture_condition(condition, repeat=repeat, **options)  # type: ignore[arg-type]
        for repeat in range(repeats)
        for condition in order
    ]

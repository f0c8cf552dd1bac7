"""Run commands under an observer (strace, or eBPF), one folder per run, nothing left behind.

A run folder (under ``out_dir``, default ``runs/``) holds the raw log(s) of its observer
(strace's ``trace.log``, or ``trace.log.PID`` with ``-ff``; eBPF's ``ebpf-events.log`` or
``ebpf-counts.log``: see :mod:`syscall_lab.capture.observer`), the command's ``stdout.txt`` and
``stderr.txt`` (strace's own messages land there too) and ``metadata.json``. The command runs
with ``TMPDIR`` set to the folder's ``tmp/`` (removed afterwards; files left there are counted in
``leftover_files``) and ``PYTHONHASHSEED=0``.

The traced command runs in its own session and process group: on timeout or Ctrl-C the whole
group, the observer included, is stopped (``syscall_lab.capture.processes``).

The same command is first run once without an observer (same environment, same ambient load)
for its untraced wall time, so ``traced_seconds / untraced_seconds`` is the observer overhead.

stress-ng backend, per condition (bounded by ops and by ``--timeout``; the counts vary run to run
because stress-ng's stressors are time-driven): cpu ``--cpu 1 --cpu-ops 200`` (a handful of
syscalls beyond start-up: ``--cpu`` and ``--vm`` do their work without the kernel); memory
``--mmap 1 --mmap-bytes 4M --mmap-ops 2`` (thousands of mmap, munmap, madvise; without
``--mmap-bytes`` it overruns its timeout under strace); memory-brk ``--brk 1 --brk-ops 20000``;
memory-malloc ``--malloc 1 --malloc-ops 20000``; io ``--hdd 1 --hdd-opts fsync --hdd-bytes 8M
--hdd-ops 400`` (write, read, lseek, fsync); io-mix ``--iomix 1 --iomix-ops 1000``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from syscall_lab.capture.ambient import Ambient, ambient_load, settle
from syscall_lab.capture.metadata import RunMetadata, collect_metadata, write_metadata
from syscall_lab.capture.observer import Observer
from syscall_lab.capture.processes import (
    find_program,
    python_executable,
    sigterm_interrupts,
    timed_run,
)
from syscall_lab.capture.strace import StraceObserver, run_logs
from syscall_lab.conditions import AMBIENT_STRESS_NG, PROGRAM_BACKEND, STRESS_NG_STRESSORS
from syscall_lab.errors import CaptureError
from workloads.programs import PROGRAMS

__all__ = [
    "CaptureResult",
    "ambient_command",
    "capture_command",
    "capture_condition",
    "capture_series",
    "python_executable",
    "run_logs",
    "workload_command",
]


def _stress_ng_options(
    table: Mapping[str, tuple[str, ...]], condition: str, backend: str, what: str
) -> tuple[str, ...]:
    """``condition``'s stress-ng options in ``table``; CaptureError for a backend other than
    stress-ng (the callers take python first) or a condition the table lacks."""
    if backend != "stress-ng":
        raise CaptureError(f"unknown backend {backend!r}: python or stress-ng")
    try:
        return table[condition]
    except KeyError:
        raise CaptureError(f"no {what} for {condition!r}; one of {', '.join(table)}") from None


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
    stressor = _stress_ng_options(STRESS_NG_STRESSORS, condition, backend, "stress-ng stressor")
    # Scale multiplies the ops (the last option of every stressor).
    ops = max(1, round(int(stressor[-1]) * scale))
    # No --seed: stress-ng's mmap stressor with --seed 0 spins until its timeout (0.15.06).
    return (find_program("stress-ng"), *stressor[:-1], str(ops), "--timeout", "10s", "-q")


def ambient_command(ambient: Ambient, temp: Path) -> tuple[str, ...]:
    """The command line of an ambient load, with its files under ``temp``: the Python workload
    looping, or a stress-ng stressor that runs until stopped (or its 120 s timeout)."""
    if ambient.backend == "python":
        return (*workload_command(ambient.condition, scale=1.0, seed=0), "--loop")
    stressor = _stress_ng_options(
        AMBIENT_STRESS_NG, ambient.condition, ambient.backend, "ambient stress-ng load"
    )
    return (find_program("stress-ng"), *stressor, "--timeout", "120s", "--temp-path", str(temp),
            "-q")  # fmt: skip


@dataclass(frozen=True, slots=True)
class CaptureResult:
    """A run folder, its observer's raw log(s) (strace's in pid order), and its metadata."""

    run_dir: Path
    logs: tuple[Path, ...]
    metadata: RunMetadata

    @property
    def complete(self) -> bool:
        """Whether the run ended on its own and its log is whole."""
        return self.metadata.status == "complete"


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


def _count_files(folder: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(folder))


def capture_command(
    command: Sequence[str],
    *,
    label: str,
    out_dir: Path | str = "runs",
    observer: Observer = StraceObserver(),  # noqa: B008 - frozen, safe to share
    timeout: float = 60.0,
    repeat: int = 0,
    ambient: Ambient | None = None,
    measure_untraced: bool = True,
    condition: str | None = None,
    backend: str | None = None,
    scale: float | None = None,
    seed: int | None = None,
) -> CaptureResult:
    """Trace ``command`` once under ``observer`` (strace by default) into a new run folder
    under ``out_dir``.

    A command that exits non-zero is a complete run (its status is in the metadata). Raises
    CaptureError when the observer cannot trace here (strace missing, ptrace refused, eBPF
    unavailable: saying why) or the command does not exist (then the run folder, if made, says
    ``failed``). On Ctrl-C (or SIGTERM, in the main thread) the group is killed, the run is
    marked ``killed``, and KeyboardInterrupt goes on.
    """
    tracer, info = observer.prepare()
    if not command:
        raise CaptureError("no command to trace")
    if shutil.which(command[0]) is None:
        raise CaptureError(f"{command[0]}: command not found")
    start = datetime.now(timezone.utc)
    run_dir = _run_dir(Path(out_dir), label, repeat, start)
    temp = run_dir / "tmp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp), "PYTHONHASHSEED": "0"}
    metadata = RunMetadata(
        label=label, repeat=repeat, command=tuple(command),
        observer_argv=observer.argv(tracer, run_dir, command), start_utc=start.isoformat(),
        status="running", environment=collect_metadata(), observer=info, condition=condition,
        backend=backend, scale=scale, seed=seed, ambient=ambient.condition if ambient else None,
    )  # fmt: skip
    write_metadata(run_dir, metadata)
    outcome: dict[str, object] = {"status": "failed"}
    try:
        with sigterm_interrupts(), contextlib.ExitStack() as stack:
            if ambient is not None:
                ambient_argv = ambient_command(ambient, temp)
                stack.enter_context(ambient_load(ambient_argv, env, ambient.warmup))
                outcome["ambient_argv"] = ambient_argv
            if measure_untraced:
                outcome["untraced_seconds"] = timed_run(command, env, timeout)
            observed, info = observer.observe(tracer, command, run_dir, env, timeout, info)
            outcome.update(observed)
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
        outcome["logs"] = tuple(path.name for path in observer.logs(run_dir))
        metadata = replace(metadata, observer=info, **outcome)  # type: ignore[arg-type]
        write_metadata(run_dir, metadata)
    return CaptureResult(run_dir, observer.logs(run_dir), metadata)


def capture_condition(
    condition: str,
    *,
    scale: float = 1.0,
    seed: int = 0,
    backend: str = "python",
    label: str | None = None,
    **options: object,
) -> CaptureResult:
    """Trace one workload (``workloads`` or stress-ng) with :func:`capture_command`'s options,
    or, with backend ``program``, a real program of ``workloads.programs`` on inputs it makes
    in a temporary folder of its own (removed afterwards)."""
    if backend == PROGRAM_BACKEND:
        if condition not in PROGRAMS:
            raise CaptureError(f"no real program {condition!r}; one of {', '.join(PROGRAMS)}")
        with tempfile.TemporaryDirectory(prefix=f"syscall-lab-{condition}-") as folder:
            command = PROGRAMS[condition].command(Path(folder), scale=scale, seed=seed)
            return capture_command(
                command, label=label or condition, condition=condition, scale=scale, seed=seed,
                backend=backend, **options,  # type: ignore[arg-type]
            )  # fmt: skip
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

"""strace itself: the options a capture passes it, where it is, why it could not trace, and
the observer that runs a command under it (:class:`StraceObserver`)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from syscall_lab.capture.metadata import ObserverInfo, strace_version
from syscall_lab.capture.processes import find_program, start_group, stop_group, wait_exactly
from syscall_lab.errors import CaptureError

__all__ = [
    "LOG_NAME",
    "StraceObserver",
    "StraceOptions",
    "find_strace",
    "ptrace_denied",
    "run_logs",
    "strace_failure",
    "why_strace_cannot_trace",
]

LOG_NAME = "trace.log"

# strace 6.1 when ptrace is refused (no CAP_SYS_PTRACE, yama, or already traced):
#   strace: test_ptrace_get_syscall_info: PTRACE_TRACEME: Operation not permitted
#   strace: attach: ptrace(PTRACE_SEIZE, 7): Operation not permitted
_PTRACE_DENIED = re.compile(r"PTRACE_\w+.*Operation not permitted")
# Any other complaint, not the attach notes of -f:
#   strace: Can't stat 'nosuch': No such file or directory  =>  Can't stat 'nosuch': ...
#   strace: exec: No such file or directory                 =>  exec: No such file or directory
#   strace: Process 7 attached                               =>  (no match)
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


def find_strace() -> str:
    """The strace program's path; CaptureError saying how to install it when missing."""
    return find_program("strace")


def ptrace_denied(stderr: str) -> bool:
    """Whether strace's stderr says ptrace was refused (then it traced nothing whole)."""
    return _PTRACE_DENIED.search(stderr) is not None


def strace_failure(stderr: str) -> str | None:
    """Why strace itself failed, from its stderr, or None when it did not complain."""
    if ptrace_denied(stderr):
        return (
            "ptrace is not permitted here (a container without CAP_SYS_PTRACE, "
            "kernel.yama.ptrace_scope, or already traced): strace cannot trace"
        )
    found = _STRACE_ERROR.search(stderr)
    return f"strace: {found.group(1)}" if found else None


def why_strace_cannot_trace() -> str | None:
    """Why strace cannot trace here (not installed, or ptrace refused), or None when it can.

    It traces ``true`` once to find out (the tests skip with this reason).
    """
    path = shutil.which("strace")
    if path is None:
        return "strace is not installed"
    probe = subprocess.run(
        [path, "-o", os.devnull, "true"], capture_output=True, text=True, timeout=30, check=False
    )
    if probe.returncode != 0:
        return f"strace cannot trace here (ptrace refused?): {probe.stderr.strip()}"
    return None


def run_logs(run_dir: Path) -> tuple[Path, ...]:
    """The raw strace logs in a run folder: ``trace.log``, or ``trace.log.PID`` in pid order."""

    def order(path: Path) -> tuple[int, str]:
        suffix = path.name.rsplit(".", 1)[-1]
        return (int(suffix) if suffix.isdigit() else -1, path.name)

    return tuple(sorted(run_dir.glob(f"{LOG_NAME}*"), key=order))


@dataclass(frozen=True, slots=True)
class StraceObserver:
    """strace as a capture's observer: ``trace.log`` (``trace.log.PID`` with ``-ff``) in the run
    folder, the command's ``stdout.txt`` and ``stderr.txt`` (strace's own messages there too)."""

    options: StraceOptions = field(default_factory=StraceOptions)

    def prepare(self) -> tuple[str, ObserverInfo]:
        """strace's path and version; CaptureError when it is missing."""
        strace = find_strace()
        return strace, ObserverInfo("strace", version=strace_version(strace))

    def argv(self, tracer: str, run_dir: Path, command: Sequence[str]) -> tuple[str, ...]:
        """The whole strace command line of a run into ``run_dir``."""
        return (tracer, *self.options.argv(run_dir / LOG_NAME), "--", *command)

    def logs(self, run_dir: Path) -> tuple[Path, ...]:
        """The logs the run left, even a failed one."""
        return run_logs(run_dir)

    def observe(
        self,
        tracer: str,
        command: Sequence[str],
        run_dir: Path,
        env: Mapping[str, str],
        timeout: float,
        info: ObserverInfo,
    ) -> tuple[dict[str, object], ObserverInfo]:
        """Run strace on the command: the outcome fields of its metadata, and ``info``."""
        stdout_path, stderr_path = run_dir / "stdout.txt", run_dir / "stderr.txt"
        with open(stdout_path, "wb") as stdout, open(stderr_path, "wb") as stderr:
            begin = time.perf_counter()
            process = start_group(
                self.argv(tracer, run_dir, command), env, stdout=stdout, stderr=stderr
            )
            try:
                returncode = wait_exactly(process, timeout)
                status = "complete"
            except subprocess.TimeoutExpired:
                returncode, status = None, "timeout"
            finally:
                seconds = time.perf_counter() - begin  # strace ends after its last tracee
                stop_group(process)
        stderr_text = stderr_path.read_text(encoding="utf-8", errors="replace")
        failure = strace_failure(stderr_text)
        logged = sum(path.stat().st_size for path in run_logs(run_dir))
        # strace complains on stderr and logs nothing when it could not start tracing at all.
        if failure and (ptrace_denied(stderr_text) or not logged):
            raise CaptureError(failure)
        return {"status": status, "exit_status": returncode, "traced_seconds": seconds}, info

"""strace itself: the options a capture passes it, where it is, and why it could not trace."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from syscall_lab.capture.processes import find_program

__all__ = [
    "StraceOptions",
    "find_strace",
    "ptrace_denied",
    "strace_failure",
    "why_strace_cannot_trace",
]

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

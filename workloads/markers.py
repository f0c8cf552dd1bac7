"""Phase markers: the syscalls that open and close a workload's measured phase.

A Python interpreter makes about 1,200 syscalls just starting up. To compare conditions, only the
calls between two markers count. A marker is ``stat`` of a path that cannot exist, so it is
harmless (ENOENT) and unmistakable in a trace. strace 6.1 prints it as ``newfstatat`` on CPython
3.10-3.13 (x86_64); ``stat``, ``lstat``, ``statx`` or ``fstatat64`` elsewhere:

    newfstatat(AT_FDCWD, "/syscall-lab-phase/start", 0x7ffe..., 0) = -1 ENOENT (...)
"""

from __future__ import annotations

import os

__all__ = ["MARKER_ROOT", "PHASE_END", "PHASE_START", "PHASE_SWITCH", "mark"]

MARKER_ROOT = "/syscall-lab-phase"
PHASE_START = f"{MARKER_ROOT}/start"
PHASE_END = f"{MARKER_ROOT}/end"
# Where `python -m workloads.switch` changes behaviour mid-run.
PHASE_SWITCH = f"{MARKER_ROOT}/switch"


def mark(path: str) -> None:
    """Make the one marker syscall for ``path`` (a path that does not exist)."""
    try:
        os.stat(path)
    except FileNotFoundError:
        return
    raise RuntimeError(f"phase marker path {path!r} exists; remove it, markers must fail")

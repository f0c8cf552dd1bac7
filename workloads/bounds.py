"""The limits every workload runs under: memory cap, disk cap, own temporary folder, SIGTERM.

A workload must never take the machine down or leave files behind, even when it is killed:
``bounded()`` caps its address space with ``RLIMIT_AS`` and its file size with ``RLIMIT_FSIZE``,
gives it a fresh folder from ``tempfile.mkdtemp`` (under ``$TMPDIR``), turns SIGTERM into
``SystemExit`` so ``finally`` blocks run, and removes the folder on the way out.
"""

from __future__ import annotations

import contextlib
import resource
import shutil
import signal
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MIB", "Bounds", "bounded"]

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Bounds:
    """Caps for one workload process.

    ``memory`` is the address-space limit (RLIMIT_AS) in bytes; it covers the interpreter itself
    (about 30 MiB of mappings) as well as the workload's buffers. ``disk`` is the most the
    workload may hold on disk at once, and the RLIMIT_FSIZE of each file it writes.
    """

    memory: int = 256 * MIB
    disk: int = 64 * MIB


def _lower_limit(which: int, cap: int) -> None:
    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    if soft == resource.RLIM_INFINITY or soft > cap:
        resource.setrlimit(which, (cap, hard))
    got = resource.getrlimit(which)[0]
    if got == resource.RLIM_INFINITY or got > cap:
        raise RuntimeError(f"could not cap resource {which} at {cap} bytes (soft limit is {got})")


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def bounded(bounds: Bounds) -> Iterator[Path]:
    """Apply ``bounds`` to this process and yield a fresh temporary folder, removed afterwards."""
    _lower_limit(resource.RLIMIT_AS, bounds.memory)
    _lower_limit(resource.RLIMIT_FSIZE, bounds.disk)
    previous = signal.signal(signal.SIGTERM, _terminate)
    folder = Path(tempfile.mkdtemp(prefix="syscall-lab-workload-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        signal.signal(signal.SIGTERM, previous)

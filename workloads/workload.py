"""One workload: its record, and running it between the phase markers under its bounds.

A workload prepares its inputs in a fresh folder, makes the ``start`` marker syscall, does its
measured work, makes the ``end`` marker, and cleans up. :mod:`workloads.conditions` holds our own
workloads (one per condition), :mod:`workloads.programs` the real programs run the same way.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .bounds import Bounds, bounded
from .markers import PHASE_END, PHASE_START, mark

__all__ = ["Prepare", "Workload", "run_in_phase", "scaled"]

# A workload is split in two: `prepare` runs before the start marker (inputs, data) and returns
# the phase function, which does exactly the counted work.
Prepare = Callable[[Path, float, random.Random], Callable[[], None]]


@dataclass(frozen=True, slots=True)
class Workload:
    """One workload: its name, what it does, and its peak disk and buffer use in bytes.

    ``program`` names the real program its phase runs (None for our own workloads).
    """

    name: str
    description: str
    prepare: Prepare
    disk: int = 0
    buffer: int = 0
    program: str | None = None


def scaled(base: int, scale: float) -> int:
    """``base`` operations times ``scale``, at least one; ValueError for a scale that is not > 0."""
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale!r}")
    return max(1, round(base * scale))


def run_in_phase(
    workload: Workload, *, scale: float, seed: int, bounds: Bounds, loop: bool = False
) -> None:
    """Run ``workload`` in this process, between the phase markers, under ``bounds``.

    The limits stay lowered in this process afterwards (a workload is a process of its own).
    ``loop`` repeats the measured work until SIGTERM (for an untraced ambient stressor).
    Raises ``ValueError`` for a bad scale or caps the workload cannot fit in, before any limit.
    """
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale!r}")
    if workload.disk > bounds.disk:
        raise ValueError(
            f"{workload.name} needs {workload.disk} bytes of disk, cap is {bounds.disk}"
        )
    if workload.buffer * 2 > bounds.memory:
        raise ValueError(
            f"{workload.name} needs {workload.buffer} bytes buffers, cap is {bounds.memory}"
        )
    with bounded(bounds) as folder:
        phase = workload.prepare(folder, scale, random.Random(seed))
        mark(PHASE_START)
        phase()
        while loop:
            phase()
        mark(PHASE_END)

"""Cut a workload's trace to its measured phase, between the marker syscalls.

The workloads (``python -m workloads``) mark the start and the end of their measured work with
``stat`` of ``/syscall-lab-phase/start`` and ``/syscall-lab-phase/end``, paths that do not exist.
Everything outside (interpreter start-up: ~1,200 calls; clean-up) is not the workload's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from syscall_lab.errors import SyscallLabError
from syscall_parse.events import Event, Syscall
from workloads.markers import PHASE_END, PHASE_START

__all__ = [
    "MARKER_SYSCALLS",
    "PhaseError",
    "PhaseMarkers",
    "cut_to_phase",
    "find_frame_markers",
    "find_markers",
]

MARKER_SYSCALLS = frozenset({"newfstatat", "stat", "lstat", "statx", "fstatat64", "stat64"})
"""The names strace gives ``os.stat`` across architectures, libc and Python versions."""


class PhaseError(SyscallLabError, ValueError):
    """A trace without exactly one start and one end marker, in that order."""


@dataclass(frozen=True, slots=True)
class PhaseMarkers:
    """Source line numbers of the start and end markers (the phase lies strictly between)."""

    start: int
    end: int


def _is_marker(name: str | None, args: str | None, path: str) -> bool:
    return name in MARKER_SYSCALLS and args is not None and f'"{path}"' in args


def _markers(
    found: dict[str, list[int]], where: str, lines: Sequence[int] | None = None
) -> PhaseMarkers:
    """Check one start before one end; ``found`` holds lines, or row positions into ``lines``."""
    starts, ends = found[PHASE_START], found[PHASE_END]

    def at(indexes: list[int]) -> list[int]:
        return [int(lines[i]) for i in indexes[:5]] if lines is not None else indexes[:5]

    if len(starts) != 1 or len(ends) != 1:
        raise PhaseError(
            f"{where}: expected one start and one end phase marker ({PHASE_START}, {PHASE_END}), "
            f"found {len(starts)} start(s) at lines {at(starts)} and {len(ends)} end(s) at lines "
            f"{at(ends)}; was it traced from a workload (python -m workloads)?"
        )
    if not starts[0] < ends[0]:
        raise PhaseError(
            f"{where}: end marker (line {at(ends)[0]}) before start (line {at(starts)[0]})"
        )
    return PhaseMarkers(starts[0], ends[0])


def find_markers(events: Iterable[Event], *, where: str = "trace") -> PhaseMarkers:
    """The lines of the phase markers among parsed events; PhaseError unless exactly one each."""
    found: dict[str, list[int]] = {PHASE_START: [], PHASE_END: []}
    for event in events:
        if isinstance(event, Syscall):
            for path, lines in found.items():
                if _is_marker(event.name, event.args, path):
                    lines.append(event.lines[0])
    return _markers(found, where)


def _frame_positions(frame: pd.DataFrame, where: str) -> tuple[int, int]:
    """Row positions of the start and end markers in an event table."""
    is_stat = frame["syscall"].isin(MARKER_SYSCALLS).to_numpy(dtype=bool)
    found: dict[str, list[int]] = {PHASE_START: [], PHASE_END: []}
    for position in np.flatnonzero(is_stat):
        args = frame["args"].iat[position]
        for path, positions in found.items():
            if _is_marker("stat", None if args is pd.NA else args, path):
                positions.append(int(position))
    markers = _markers(found, where, frame["line"].to_numpy())
    return markers.start, markers.end


def find_frame_markers(frame: pd.DataFrame, *, where: str = "trace") -> PhaseMarkers:
    """The source lines of the phase markers in an event table (``syscall_parse.schema``)."""
    start, end = _frame_positions(frame, where)
    return PhaseMarkers(int(frame["line"].iat[start]), int(frame["line"].iat[end]))


def cut_to_phase(frame: pd.DataFrame, *, where: str = "trace") -> pd.DataFrame:
    """The rows strictly between the phase markers, all columns and dtypes kept, index reset.

    Rows are cut by position in the table: source order for one log, time order for a merged
    ``-ff`` set (whose line numbers restart in each file). Raises PhaseError (a ValueError)
    naming ``where`` when the markers are missing, repeated or out of order.
    """
    start, end = _frame_positions(frame, where)
    return frame.iloc[start + 1 : end].reset_index(drop=True)

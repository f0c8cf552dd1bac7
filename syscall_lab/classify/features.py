"""The features of a whole trace that tell which resource it stresses.

They are meant to hold for any program, not only our workloads: no phase markers, no
syscall of one program's start-up. Each is an amount of one resource's work, or the share of
the trace's time that work takes:

============== ==============================================================================
feature        what it measures
============== ==============================================================================
longest_gap    log10 seconds of the longest stretch a process spent outside syscalls
               (from the end of one call, by ``-T``, to the start of its next; floor 1 ms):
               computing, or page faults. A sleep is inside a syscall, so it is not a gap.
gap_share      that stretch as a share of the trace's wall time
anonymous_mib  log10(1 + MiB of anonymous memory asked for: successful ``mmap`` with
               MAP_ANONYMOUS (PROT_NONE reservations left out), ``brk`` growth per process
               and exec, ``mremap`` growth)
memory_calls   log10(1 + number of mmap, munmap, brk, mremap, madvise calls)
io_mib         log10(1 + MiB moved by the read/write family: read, write, pread64,
               pwrite64, readv, writev, ... sendfile, copy_file_range, splice)
io_time        share of the wall time spent inside those calls and the sync calls (by ``-T``)
sync_calls     log10(1 + number of fsync, fdatasync, sync_file_range, sync, syncfs, msync)
============== ==============================================================================

Left out on purpose: shares and rates of calls. A short C program's start-up alone is a fifth
``mmap`` and 20,000 calls per second (``date``, ``cat``), so shares and rates would call every
small tool memory stress; amounts of work do not grow with start-up. The share of time inside
memory calls is left out too: the dynamic loader's mmaps take 5% of a small tool's time, half
as much as in our memory workload.

It needs timestamps (``strace -ttt``, ``-tt`` or ``-t``); without ``-T`` durations the time
spent inside calls counts as gap and ``io_time`` is 0.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from syscall_lab.errors import SyscallLabError
from workloads.bounds import MIB

__all__ = [
    "FEATURES",
    "IO_SYSCALLS",
    "MEMORY_SYSCALLS",
    "SYNC_SYSCALLS",
    "ClassifyError",
    "trace_features",
]

FEATURES: tuple[str, ...] = (
    "longest_gap",
    "gap_share",
    "anonymous_mib",
    "memory_calls",
    "io_mib",
    "io_time",
    "sync_calls",
)
MEMORY_SYSCALLS = frozenset({"mmap", "mmap2", "munmap", "brk", "mremap", "madvise"})
IO_SYSCALLS = frozenset(
    {"read", "write", "pread64", "pwrite64", "readv", "writev", "preadv", "pwritev", "preadv2",
     "pwritev2", "sendfile", "sendfile64", "copy_file_range", "splice"}
)  # fmt: skip
SYNC_SYSCALLS = frozenset({"fsync", "fdatasync", "sync_file_range", "sync", "syncfs", "msync"})
GAP_FLOOR = 1e-3  # seconds: below a millisecond a gap is strace's own pace, not work


class ClassifyError(SyscallLabError):
    """A trace the classifier cannot use, or training data without every class."""


def _calls(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    calls = frame.loc[(frame["kind"] == "syscall").fillna(False).to_numpy(dtype=bool)]
    if calls.empty:
        raise ClassifyError(f"{where}: the trace has no syscalls")
    if calls["time"].isna().all():
        raise ClassifyError(f"{where}: the trace has no timestamps (capture with strace -ttt)")
    return calls.loc[calls["time"].notna().to_numpy(dtype=bool)]


def _int_arg(text: object, index: int) -> int | None:
    # "NULL, 4194304, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0" => 4194304 (index 1)
    if not isinstance(text, str):  # a null (pd.NA) argument text
        return None
    parts = text.split(", ")
    try:
        return int(parts[index], 0)
    except (IndexError, ValueError):
        return None


def _anonymous_bytes(names: np.ndarray, calls: pd.DataFrame, order: np.ndarray) -> float:
    ok = calls["errno"].isna().to_numpy(dtype=bool)
    args = calls["args"].astype(object).to_numpy()
    total = 0.0
    for i in np.flatnonzero(ok & np.isin(names, ["mmap", "mmap2"])):
        text = args[i]
        if isinstance(text, str) and "MAP_ANONYMOUS" in text and "PROT_NONE" not in text:
            total += _int_arg(text, 1) or 0
    for i in np.flatnonzero(ok & (names == "mremap")):
        old, new = _int_arg(args[i], 1), _int_arg(args[i], 2)
        if old is not None and new is not None:
            total += max(new - old, 0)
    # brk growth: the rise of the break between consecutive brk calls of one process image
    # (an execve starts a new heap elsewhere, so its first break is no growth).
    pid = calls["pid"].to_numpy(dtype=np.float64, na_value=-1.0)[order]
    sorted_names = names[order]
    image = np.cumsum((sorted_names == "execve") & ok[order])  # failed execs keep the image
    retval = calls["retval"].to_numpy(dtype=np.float64, na_value=np.nan)[order]
    brk = (sorted_names == "brk") & np.isfinite(retval)
    b_pid, b_image, b_ret = pid[brk], image[brk], retval[brk]
    same = (b_pid[1:] == b_pid[:-1]) & (b_image[1:] == b_image[:-1])
    total += float(np.clip(np.diff(b_ret), 0, None)[same].sum())
    return total


def trace_features(frame: pd.DataFrame, *, where: str = "trace") -> np.ndarray:
    """The :data:`FEATURES` of one whole trace (an event table), as float64 in that order.

    Raises ClassifyError when the trace has no syscalls or no timestamps.
    """
    calls = _calls(frame, where)
    names = calls["syscall"].astype(object).to_numpy()
    start = calls["time"].to_numpy(dtype=np.float64)
    duration = np.nan_to_num(calls["duration"].to_numpy(dtype=np.float64, na_value=np.nan))
    pid = calls["pid"].to_numpy(dtype=np.float64, na_value=-1.0)
    wall = max(float(np.max(start + duration) - np.min(start)), GAP_FLOOR)
    order = np.lexsort((start, pid))
    s_pid, s_start, s_end = pid[order], start[order], (start + duration)[order]
    gaps = (s_start[1:] - s_end[:-1])[s_pid[1:] == s_pid[:-1]]
    gap = max(float(gaps.max()) if gaps.size else 0.0, GAP_FLOOR)
    retval = calls["retval"].to_numpy(dtype=np.float64, na_value=np.nan)
    io = np.isin(names, list(IO_SYSCALLS))
    sync = np.isin(names, list(SYNC_SYSCALLS))
    return np.array(
        [
            math.log10(gap),
            min(gap / wall, 1.0),
            math.log10(1 + _anonymous_bytes(names, calls, order) / MIB),
            math.log10(1 + np.isin(names, list(MEMORY_SYSCALLS)).sum()),
            math.log10(1 + retval[io & (retval > 0)].sum() / MIB),
            min(float(duration[io | sync].sum()) / wall, 1.0),
            math.log10(1 + sync.sum()),
        ],
        dtype=np.float64,
    )

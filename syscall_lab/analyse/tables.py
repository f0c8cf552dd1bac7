"""Per-run tables computed from event DataFrames: syscall counts, n-gram counts, timing.

Every function here takes ``runs``, a mapping from a run name to that run's event table (the
schema of :mod:`syscall_parse.schema`, already cut to the measured phase), and returns one row per
run, in the mapping's order. The run is the unit of replication: these tables are what
:mod:`syscall_lab.analyse.stats` compares, never the pooled calls.

Only ``kind == "syscall"`` rows are counted; signals, exits and messages are not calls.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from syscall_lab.errors import SyscallLabError

__all__ = [
    "NGRAM_SEPARATOR",
    "PHASE_COLUMNS",
    "TIMING_COLUMNS",
    "AnalysisError",
    "call_durations",
    "count_table",
    "mean_shares",
    "ngram_table",
    "phase_table",
    "share_table",
    "timing_table",
]

NGRAM_SEPARATOR = " "
"""Joins the syscall names of an n-gram into its column label: ``"openat read close"``."""

TIMING_COLUMNS: tuple[str, ...] = (
    "calls",
    "phase_duration",
    "rate",
    "latency_median",
    "latency_p99",
    "slow_calls",
    "gap_median",
    "gap_p99",
    "gap_max",
)
"""Columns of :func:`timing_table`, in order."""

PHASE_COLUMNS: tuple[str, ...] = ("phase_seconds", "calls", "rate", "gap_max", "gap_share")
"""Columns of :func:`phase_table`: the span between the markers, the calls in it, calls per
second of it, the longest gap between consecutive starts (markers included) and that gap as a
share of the phase."""


class AnalysisError(SyscallLabError, ValueError):
    """Tables that cannot be analysed: missing columns, a run without calls, too few runs."""


def _syscalls(name: str, frame: pd.DataFrame, needed: Iterable[str], returned_only: bool):
    """The syscall rows of one run, with a clear error when a column is missing."""
    missing = [column for column in ("kind", *needed) if column not in frame.columns]
    if missing:
        raise AnalysisError(f"run {name!r}: event table lacks column(s) {', '.join(missing)}")
    mask = (frame["kind"] == "syscall").fillna(False).to_numpy(dtype=bool)
    if returned_only:
        if "returned" not in frame.columns:
            raise AnalysisError(f"run {name!r}: event table lacks column returned")
        mask = mask & frame["returned"].fillna(False).to_numpy(dtype=bool)
    return frame.loc[mask]


def _run_index(runs: Mapping[str, pd.DataFrame]) -> pd.Index:
    return pd.Index(list(runs), dtype=object, name="run")


def count_table(runs: Mapping[str, pd.DataFrame], *, returned_only: bool = False) -> pd.DataFrame:
    """Runs x syscalls table of int64 call counts, 0 where a run never made the call.

    ``returned_only`` counts only calls that returned (as ``strace -c`` does: not
    ``exit_group`` nor calls cut short by the death of their process). Columns are sorted by name.
    """
    counts: dict[str, pd.Series] = {}
    for name, frame in runs.items():
        codes, vocabulary = _codes(_syscalls(name, frame, ("syscall",), returned_only))
        numbers = np.bincount(codes, minlength=len(vocabulary))
        present = numbers > 0
        counts[name] = pd.Series(
            numbers[present], index=pd.Index(vocabulary[present], dtype=object), dtype="int64"
        )
    return _table(counts, _run_index(runs), "syscall")


def _codes(calls: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of the syscall names of ``calls`` and the names they stand for."""
    names = calls["syscall"]
    if isinstance(names.dtype, pd.CategoricalDtype):
        # The parser's categorical column already holds the codes: no string work per row.
        codes = names.cat.codes.to_numpy(dtype=np.int64)
        vocabulary = np.asarray(names.cat.categories, dtype=object).astype(str).astype(object)
        if not (codes < 0).any():
            return codes, vocabulary
    values = names.to_numpy(dtype=object, na_value="?").astype(str)
    vocabulary, codes = np.unique(values, return_inverse=True)
    return codes.astype(np.int64), vocabulary.astype(object)


def _table(rows: Mapping[str, pd.Series], index: pd.Index, columns_name: str) -> pd.DataFrame:
    """Align per-run count Series into one int64 table with sorted object-dtype labels."""
    labels = sorted(set().union(*(series.index for series in rows.values())) if rows else set())
    columns = pd.Index(labels, dtype=object, name=columns_name)
    values = np.zeros((len(index), len(columns)), dtype=np.int64)
    for row, name in enumerate(index):
        series = rows[name]
        values[row, columns.get_indexer(series.index)] = series.to_numpy(dtype=np.int64)
    return pd.DataFrame(values, index=index, columns=columns)


def share_table(counts: pd.DataFrame) -> pd.DataFrame:
    """Each row of a count table divided by its total: the run's distribution (float64)."""
    totals = counts.sum(axis=1).to_numpy(dtype=np.float64)
    empty = [str(name) for name, total in zip(counts.index, totals, strict=True) if total <= 0]
    if empty:
        raise AnalysisError(f"no calls to share out in run(s) {', '.join(empty)}")
    return counts.astype(np.float64).div(totals, axis=0)


def mean_shares(counts: pd.DataFrame) -> pd.Series:
    """Syscall -> mean share of the phase's calls over the runs that made calls (float64).

    Empty when no run made a call: a phase without calls has no distribution.
    """
    totals = counts.sum(axis=1)
    made = counts.loc[totals > 0].astype(np.float64)
    if made.empty:
        return pd.Series([], index=pd.Index([], dtype=object), dtype=np.float64)
    return made.div(totals[totals > 0].astype(np.float64), axis=0).mean(axis=0)


def ngram_table(
    runs: Mapping[str, pd.DataFrame], n: int = 3, *, returned_only: bool = False
) -> pd.DataFrame:
    """Runs x n-grams table of int64 counts of consecutive syscalls of the same process.

    Sequences are per pid, in source order (the order of ``line``; an ``<unfinished ...>`` call
    stands at its first line), never across pids: interleaving of threads is scheduling noise,
    not program behaviour. Events without a pid form one sequence. A label is the names joined
    with :data:`NGRAM_SEPARATOR`. A pid with fewer than ``n`` calls contributes nothing.
    """
    if n < 1:
        raise AnalysisError(f"n-gram length must be at least 1, got {n}")
    counts: dict[str, pd.Series] = {}
    for name, frame in runs.items():
        calls = _syscalls(name, frame, ("syscall", "pid", "line"), returned_only)
        counts[name] = _ngram_counts(calls, n)
    return _table(counts, _run_index(runs), "ngram")


def _ngram_counts(calls: pd.DataFrame, n: int) -> pd.Series:
    empty = pd.Series([], index=pd.Index([], dtype=object), dtype="int64")
    if len(calls) < n:
        return empty
    codes, vocabulary = _codes(calls)
    # -1 cannot be a real pid, so events without one form their own sequence.
    pids = calls["pid"].fillna(-1).to_numpy(dtype=np.int64)
    order = np.lexsort((calls["line"].to_numpy(dtype=np.int64), pids))
    codes, pids = codes[order], pids[order]
    windows = np.lib.stride_tricks.sliding_window_view(codes, n)
    # Rows are sorted by pid, so a window lies within one pid iff its ends share the pid.
    windows = windows[pids[: len(pids) - n + 1] == pids[n - 1 :]]
    if not len(windows):
        return empty
    base = len(vocabulary)
    if base**n < 2**62:
        # One int64 key per window (base-K digits): np.unique on a vector beats axis=0 rows.
        keys = windows @ (base ** np.arange(n - 1, -1, -1, dtype=np.int64))
        unique, numbers = np.unique(keys, return_counts=True)
        grams = (unique[:, None] // base ** np.arange(n - 1, -1, -1, dtype=np.int64)) % base
    else:
        grams, numbers = np.unique(windows, axis=0, return_counts=True)
    labels = [NGRAM_SEPARATOR.join(vocabulary[gram]) for gram in grams]
    return pd.Series(numbers, index=pd.Index(labels, dtype=object), dtype="int64")


def timing_table(runs: Mapping[str, pd.DataFrame], *, slow: float = 0.001) -> pd.DataFrame:
    """Runs x :data:`TIMING_COLUMNS` table (float64) of a run's timing, in seconds.

    - ``calls``: number of syscalls; ``phase_duration``: last start minus first start;
      ``rate``: calls per second of that span.
    - ``latency_median``, ``latency_p99``, ``slow_calls`` (calls longer than ``slow`` seconds):
      from the ``-T`` ``duration`` column; NaN when the trace has no durations.
    - ``gap_median``, ``gap_p99``, ``gap_max``: gaps between consecutive syscall starts of the
      whole run, all pids merged in time order. Merged rather than per pid because the question
      is how long the program made no call at all; a thread blocked in a wait would make
      per-pid gaps measure the wait. NaN without ``time`` values.

    Timestamps from ``-t``/``-tt`` restart at midnight; a run across midnight needs ``-ttt``.
    """
    rows = []
    for name, frame in runs.items():
        calls = _syscalls(name, frame, ("time", "duration"), False)
        rows.append(_timing(calls, slow))
    return pd.DataFrame(
        np.array(rows, dtype=np.float64).reshape(len(rows), len(TIMING_COLUMNS)),
        index=_run_index(runs),
        columns=pd.Index(TIMING_COLUMNS, dtype=object, name="metric"),
    )


def _timing(calls: pd.DataFrame, slow: float) -> list[float]:
    nan = float("nan")
    starts = np.sort(calls["time"].to_numpy(dtype=np.float64, na_value=np.nan))
    starts = starts[np.isfinite(starts)]
    durations = calls["duration"].to_numpy(dtype=np.float64, na_value=np.nan)
    durations = durations[np.isfinite(durations)]
    span = float(starts[-1] - starts[0]) if len(starts) >= 2 else nan
    rate = len(calls) / span if span > 0 else nan
    if len(durations):
        latency = [float(np.median(durations)), float(np.percentile(durations, 99))]
        slow_calls = float(np.count_nonzero(durations > slow))
    else:
        latency, slow_calls = [nan, nan], nan
    gaps = np.diff(starts)
    if len(gaps):
        gap = [float(np.median(gaps)), float(np.percentile(gaps, 99)), float(gaps.max())]
    else:
        gap = [nan, nan, nan]
    return [float(len(calls)), span, rate, *latency, slow_calls, *gap]


def phase_table(
    runs: Mapping[str, pd.DataFrame], phases: Mapping[str, tuple[float, float]]
) -> pd.DataFrame:
    """Runs x :data:`PHASE_COLUMNS` table (float64), each run measured between its markers.

    ``phases`` maps each run to its start and end markers' timestamps. Measured between the
    markers, a phase without calls still has a rate (0) and a longest gap (the whole phase).
    """
    rows = []
    for name, frame in runs.items():
        start, end = phases[name]
        times = _syscalls(name, frame, ("time",), False)["time"]
        times = times.to_numpy(dtype=np.float64, na_value=np.nan)
        starts = np.sort(np.concatenate([[start], times[np.isfinite(times)], [end]]))
        span = end - start
        gap = float(np.diff(starts).max())
        rows.append([span, float(len(times)), len(times) / span, gap, gap / span])
    return pd.DataFrame(
        np.array(rows, dtype=np.float64).reshape(len(rows), len(PHASE_COLUMNS)),
        index=_run_index(runs),
        columns=pd.Index(PHASE_COLUMNS, dtype=object, name="metric"),
    )


def call_durations(runs: Mapping[str, pd.DataFrame]) -> np.ndarray:
    """The ``-T`` durations (seconds) of every syscall of ``runs``, pooled in run order; calls
    without a duration are left out."""
    parts = [np.empty(0, dtype=np.float64)]
    for name, frame in runs.items():
        values = _syscalls(name, frame, ("duration",), False)["duration"]
        values = values.to_numpy(dtype=np.float64, na_value=np.nan)
        parts.append(values[np.isfinite(values)])
    return np.concatenate(parts)

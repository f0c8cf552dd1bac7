"""A ``strace -ff`` file set through the fast engine, merged as ``inputs.iter_trace`` merges it.

Each file's lines get their file's pid as a prefix, in the layout of ``strace -f``
(``_prefixed``): the reference gives an unprefixed line of a ``-ff`` file that pid, so the
file then reads as a ``-f`` log of one pid. Files are read whole, several to a chunk
(``_groups``), each chunk's split calls joined and its rows ordered by its worker. The parent
then sorts the rows of the whole set by the keys of ``inputs._timed`` (the last time seen in
the event's file, the file's rank in tid order, the event's place in its file): a sort of
sorted runs, which is what ``heapq.merge`` gives, as long as each file's times never go back.

Turned down (FastPathUnsupported, the reference then reads the set): a line of a file that is
no event of a pid (unparsed, a continuation, a message: the prefix would be read into its
text), a file whose
times go back, a set of more than ``FF_BYTES`` (the merge holds the set's rows in memory; the
reference merges in bounded memory).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa

from syscall_parse._fast import codes
from syscall_parse._fast.batches import record_batch
from syscall_parse._fast.chunk_table import chunk_table
from syscall_parse._fast.chunks import map_pool, pool_size
from syscall_parse._fast.join import arrange, join_inside
from syscall_parse.counts import Profile
from syscall_parse.engine import FastPathUnsupported
from syscall_parse.schema import arrow_schema

__all__ = ["FF_BYTES", "count_ff", "iter_ff_batches"]

FF_BYTES = 128 << 20
"""The largest ``-ff`` set (bytes of its files) the fast engine merges: its rows take about
1.6 times the set's size in the parent (a 102 MB set of 1M lines: 410-460 MB at the peak, where
a plain log of that size streams in 250 MB). Larger sets go to the reference, which merges
them streaming, in bounded memory, some 10 times slower."""

_BATCH_ROWS = 1 << 16


def _prefixed(pid: int, data: bytes) -> bytes:
    """The lines of one file with ``pid`` before each, padded to 5 columns and a space as
    ``strace -f`` writes it (a last line without a newline gets one, as a plain log's)."""
    if not data:
        return b""
    if not data.endswith(b"\n"):
        data += b"\n"
    prefix = f"{pid:<5} ".encode()
    return prefix + data[:-1].replace(b"\n", b"\n" + prefix) + b"\n"


def _groups(pairs: Sequence[tuple[int, Path]], size: int) -> list[list[tuple[int, int, Path]]]:
    """The files as ``(rank, tid, path)``, in groups of whole files of about ``size`` bytes."""
    groups: list[list[tuple[int, int, Path]]] = [[]]
    total = 0
    for rank, (tid, path) in enumerate(pairs):
        if total >= size:
            groups.append([])
            total = 0
        groups[-1].append((rank, tid, path))
        total += path.stat().st_size
    return groups


def _group_table(group: list[tuple[int, int, Path]]) -> pa.Table:
    """The events of whole files, each file's rows in its order in the reference's stream,
    with ``line`` and ``end_line`` counted in its own file, its ``rank``, and the merge key
    ``last`` (the last time seen in the file up to the event, -inf before any)."""
    texts, line_counts = [], []
    for _, tid, path in group:
        text = _prefixed(tid, path.read_bytes())
        texts.append(text)
        line_counts.append(text.count(b"\n"))
    table = chunk_table(b"".join(texts))
    code = table["code"].to_numpy()
    if ((code == codes.UNPARSED) | (code == codes.SKIP) | (code == codes.MESSAGE)).any():
        raise FastPathUnsupported("a line of a -ff file that is no event")
    joined, _ = join_inside(table)
    rows, _ = arrange(joined)
    # Each row's file: the one holding its first line (its last line is in the same file).
    first_lines = np.cumsum([0, *line_counts])
    line = rows["line"].to_numpy()
    where = np.searchsorted(first_lines, line, side="left") - 1
    ranks = np.array([rank for rank, _, _ in group], np.int64)[where]
    # The last time seen in the file, in the file's order (a stable sort by file).
    order = np.argsort(where, kind="stable")
    in_file = where[order]
    time = rows["time"].to_numpy(zero_copy_only=False)[order]
    seen = np.where(np.isnan(time), -1, np.arange(len(time)))
    seen = np.maximum.accumulate(seen) if len(seen) else seen
    file_start = np.searchsorted(in_file, in_file, side="left")
    last_sorted = np.where(seen >= file_start, time[np.maximum(seen, 0)], -np.inf)
    same_file = in_file[1:] == in_file[:-1]
    if (same_file & (last_sorted[1:] < last_sorted[:-1])).any():
        raise FastPathUnsupported("a -ff file whose times go back")
    last = np.empty_like(last_sorted)
    last[order] = last_sorted
    offset = first_lines[where]
    rows = rows.set_column(rows.column_names.index("line"), "line", pa.array(line - offset))
    end_line = rows["end_line"].to_numpy() - offset
    rows = rows.set_column(rows.column_names.index("end_line"), "end_line", pa.array(end_line))
    return rows.append_column("rank", pa.array(ranks)).append_column("last", pa.array(last))


def _merged(
    pairs: Sequence[tuple[int, Path]],
    workers: int | None,
    chunk_bytes: int,
    columns: Sequence[str] | None = None,
) -> Iterator[pa.Table]:
    """The rows of the ``-ff`` set in the merged order, ``_BATCH_ROWS`` at a time, with the
    ``columns`` of the chunk tables (all if None: the workers drop the others)."""
    size = sum(path.stat().st_size for _, path in pairs)
    if size > FF_BYTES:
        raise FastPathUnsupported(f"a -ff set of more than {FF_BYTES >> 20} MB")
    if workers is None:
        workers = pool_size(size)
    work = _group_table if columns is None else functools.partial(_columns, columns)
    tables = list(map_pool(work, _groups(pairs, chunk_bytes), workers))
    rank = np.concatenate([table["rank"].to_numpy() for table in tables])
    last = np.concatenate([table["last"].to_numpy() for table in tables])
    order = np.lexsort((np.arange(len(rank)), rank, last))
    tables = [table.drop_columns(["rank", "last"]) for table in tables]
    bounds = np.cumsum([0, *(table.num_rows for table in tables)])
    for start in range(0, len(order), _BATCH_ROWS):
        yield _gather(tables, bounds, order[start : start + _BATCH_ROWS])


def _columns(columns: Sequence[str], group: list[tuple[int, int, Path]]) -> pa.Table:
    """``_group_table`` with only ``columns`` and the merge keys."""
    return _group_table(group).select([*columns, "rank", "last"])


def iter_ff_batches(
    pairs: Sequence[tuple[int, Path]], workers: int | None, chunk_bytes: int
) -> Iterator[tuple[pa.RecordBatch, int]]:
    """Record batches of the events of the ``-ff`` set of ``(tid, path)`` pairs (tid order),
    rows and order of ``inputs.iter_trace``'s merge, each with its count of unparsed lines
    (none: a set holding one is turned down). Raises FastPathUnsupported as the module
    docstring says."""
    schema = arrow_schema()
    for rows in _merged(pairs, workers, chunk_bytes):
        yield record_batch(rows, schema), 0


def _gather(tables: list[pa.Table], bounds: np.ndarray, rows: np.ndarray) -> pa.Table:
    """The ``rows`` (numbered across ``tables``, which start at ``bounds``) in their order:
    taken table by table (a take across the chunks of a table of them all would copy them all
    first), then put in order."""
    where = np.searchsorted(bounds, rows, side="right") - 1
    by_table = np.argsort(where, kind="stable")
    rows, where = rows[by_table], where[by_table]
    starts = np.flatnonzero(np.diff(where, prepend=-1))
    parts = [
        tables[where[at]].take(pa.array(rows[at:stop] - bounds[where[at]]))
        for at, stop in zip(starts, [*starts[1:], len(rows)], strict=True)
    ]
    back = np.empty_like(by_table)
    back[by_table] = np.arange(len(by_table))
    return pa.concat_tables(parts).take(pa.array(back))


# The line codes of the rows that are calls (``batches.record_batch`` makes them syscalls).
_CALLS = (codes.WHOLE, codes.RESUMED, codes.JOINED, codes.JOINED_EDGE)


def count_ff(pairs: Sequence[tuple[int, Path]], workers: int | None, chunk_bytes: int) -> Profile:
    """The ``Profile`` of the ``-ff`` set, counted over its merged rows (their counted
    columns only: a fraction of the frame's memory) as ``counts.count_events`` counts events:
    the calls that returned, their errors, their durations summed one by one in the merged
    order (float sums are exact only in the same order), the calls that did not return."""
    calls: dict[str, int] = {}
    errors: dict[str, int] = {}
    unreturned: dict[str, int] = {}
    seconds: dict[str, float] = {}
    events = 0
    counted = ("code", "syscall", "returned", "errno", "duration")  # not the texts
    for rows in _merged(pairs, workers, chunk_bytes, counted):
        events += rows.num_rows
        call = np.isin(rows["code"].to_numpy(), _CALLS)
        name = rows["syscall"].filter(call).to_numpy()
        returned = np.asarray(rows["returned"].filter(call).fill_null(False))
        failed = np.asarray(rows["errno"].filter(call).is_valid())
        duration = rows["duration"].filter(call).to_numpy()
        for tally, mask in ((calls, returned), (errors, returned & failed),
                            (unreturned, ~returned)):  # fmt: skip
            names, counts = np.unique(name[mask], return_counts=True)
            for key, count in zip(names.tolist(), counts.tolist(), strict=True):
                tally[key] = tally.get(key, 0) + count
        timed = returned & ~np.isnan(duration)
        for key in np.unique(name[timed]).tolist():
            values = duration[timed & (name == key)]
            seconds[key] = float(np.cumsum(np.concatenate(([seconds.get(key, 0.0)], values)))[-1])
    return Profile.from_counts(
        calls, errors, seconds, events=events, unparsed=0, unreturned=unreturned
    )

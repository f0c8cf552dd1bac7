"""A ``strace -ff`` file set through the fast engine, merged as ``inputs.iter_trace`` merges it,
streaming, in bounded memory.

The reference merges the files' event streams with ``heapq.merge`` on the keys of
``inputs._timed``: the last time seen in the event's file, the file's rank in tid order, the
event's place in its file. A file's keys grow through it as long as its times never go back,
so the merge is a k-way merge of sorted runs, made here one piece of a file at a time:

- Files are cut into pieces of whole lines (``chunks.chunk_ranges``: a file smaller than a
  piece is one piece), the time of each piece's first line read (``_first_time``), and the
  pieces read in the order of those times (``_schedule``), small ones several to a task.
- A worker gives each line of its pieces its file's pid as a prefix, in the layout of
  ``strace -f`` (``_prefixed``: the reference gives an unprefixed line of a ``-ff`` file that
  pid, so the file reads as a ``-f`` log of one pid), and joins the split calls inside.
- The parent numbers the lines of its windows through all tasks (each file's in its order, so
  that ``join.arrange`` keeps rows in place), joins split calls across pieces and orders rows
  one window at a time as ``batches`` does for a plain log (``arrange`` with ``hold``: the
  pids are the files), counts lines back in their own files (``_localized``), gives each row
  its key (``_keys``), and holds the rows until no file can still give a smaller key. A file
  not read to its end gives none below its bound: the last time seen in it, or the first time
  of its next piece if later (but not later than an unfinished call of it held back). The
  rows below every other file's bound go out in key order (``_safe``, ``_gather``); the keys a
  file gives later are checked against the last key gone out.

Memory: the rows held are the tasks in flight (one per worker and one more) and, of each file,
at most the rows of its last piece read that reach past another file's bound: about (files
running at once + workers + 2) pieces, whatever the size of the set. Thousands of small files
are whole pieces, several to a task: short-lived processes run one after the other, so few of
them are held at once, but a set of thousands of threads running side by side through the
whole trace holds a piece of each (the whole set, if each file is smaller than a piece).

Turned down (FastPathUnsupported, the reference then reads the set): a line of a file that is
no event of a pid (unparsed, a continuation, a message: the prefix would be read into its
text), a file whose times go back (below the last time seen in it, or below a key already gone
out on the promise of its bound: a piece with a time before its first line's).
"""

from __future__ import annotations

import functools
import heapq
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from syscall_parse._fast import arrow, codes
from syscall_parse._fast.batches import record_batch
from syscall_parse._fast.chunk_table import chunk_table
from syscall_parse._fast.chunks import Chunk, chunk_ranges, map_pool, pool_size, read_chunk
from syscall_parse._fast.join import arrange, join_inside
from syscall_parse.counts import Profile
from syscall_parse.engine import FastPathUnsupported
from syscall_parse.lines import parse_line
from syscall_parse.schema import arrow_schema

__all__ = ["PIECE_BYTES", "count_ff", "iter_ff_batches"]

PIECE_BYTES = 1 << 20
"""Bytes per piece of a set's frame, a quarter of a plain log's chunk: the parent holds a piece
of each file running at once besides the tasks in flight. ``parse -o OUT.parquet`` of a 213 MB
set of 4 threads: 223 MB in the parent at 1 MB, 281 MB at 2 MB, 337 MB at 4 MB (the goal:
under 250 MB), for about 8% more CPU time than at 2 MB."""

_PEEK_BYTES = 1 << 16
"""The most read of a piece's first line for its time (a longer line gives none)."""

_BACK = "a -ff file whose times go back"


@dataclass(frozen=True, slots=True)
class _Piece:
    """One piece of a file of the set: the file's rank (tid order), tid and path, the piece's
    byte range, and its start: the time of its first line (that of the piece before when it
    has none, -inf before any)."""

    rank: int
    tid: int
    path: str
    chunk: Chunk
    start: float


def _prefixed(pid: int, data: bytes) -> bytes:
    """The lines of one file with ``pid`` before each, padded to 5 columns and a space as
    ``strace -f`` writes it (a last line without a newline gets one, as a plain log's)."""
    if not data:
        return b""
    if not data.endswith(b"\n"):
        data += b"\n"
    prefix = f"{pid:<5} ".encode()
    return prefix + data[:-1].replace(b"\n", b"\n" + prefix) + b"\n"


def _first_time(fd: int, chunk: Chunk) -> float | None:
    """The time of the first line of ``chunk`` of the open file ``fd`` as the reference reads
    it, or None."""
    head = b""
    for most in (1 << 10, _PEEK_BYTES):  # most first lines are short: a short read first
        head = os.pread(fd, min(chunk.stop - chunk.start, most), chunk.start)
        if b"\n" in head:
            break
    line, newline, _ = head.partition(b"\n")
    if not newline and len(head) < chunk.stop - chunk.start:
        return None
    return getattr(parse_line(line.decode("utf-8", "surrogateescape")), "time", None)


def _pieces(rank: int, tid: int, path: Path, size: int) -> list[_Piece]:
    """The pieces of one file, of about ``size`` bytes, with their starts."""
    chunks = list(chunk_ranges(path, size))
    if not chunks:
        return []
    pieces = []
    start = float("-inf")
    fd = os.open(path, os.O_RDONLY)
    try:
        for chunk in chunks:
            time = _first_time(fd, chunk)
            start = start if time is None else time
            pieces.append(_Piece(rank, tid, str(path), chunk, start))
    finally:
        os.close(fd)
    return pieces


def _schedule(files: list[list[_Piece]], size: int) -> Iterator[list[_Piece]]:
    """The pieces of all files in the order of their starts (each file's in its order), in
    tasks of at most ``size`` bytes (or one piece): a piece alone, or several small ones."""
    task: list[_Piece] = []
    total = 0
    for piece in heapq.merge(*files, key=lambda piece: (piece.start, piece.rank)):
        length = piece.chunk.stop - piece.chunk.start
        if task and total + length > size:
            yield task
            task, total = [], 0
        task.append(piece)
        total += length
    if task:
        yield task


def _task_table(
    columns: Sequence[str] | None, task: list[_Piece]
) -> tuple[list[_Piece], pa.Table, list[int]]:
    """The events of a task's pieces, the split calls inside it joined, lines numbered through
    the task (with ``columns`` only, all if None); the task, and the lines of each piece."""
    datas = [read_chunk(Path(piece.path), piece.chunk) for piece in task]
    texts = [_prefixed(piece.tid, data) for piece, data in zip(task, datas, strict=True)]
    # Each line (ending with a newline: read_chunk) got one prefix: their count, uncounted.
    lines = [
        (len(text) - len(data)) // len(f"{piece.tid:<5} ")
        for piece, data, text in zip(task, datas, texts, strict=True)
    ]
    table = chunk_table(b"".join(texts))
    code = arrow.values(table["code"])
    if ((code == codes.UNPARSED) | (code == codes.SKIP) | (code == codes.MESSAGE)).any():
        raise FastPathUnsupported("a line of a -ff file that is no event")
    joined, _ = join_inside(table)
    if columns is not None:
        joined = joined.select(columns)
    return task, joined, lines


@dataclass(frozen=True, slots=True)
class _Read:
    """Where the pieces read so far lie in the numbering of lines through all tasks (the
    parent's windows are numbered so, each file's lines in its order, so that ``arrange``
    keeps rows in place): each piece's first line there, its file's rank, and the lines of its
    file before it."""

    first: np.ndarray
    rank: np.ndarray
    before: np.ndarray

    def piece(self, lines: np.ndarray) -> np.ndarray:
        """The index of the piece of each of ``lines``."""
        return np.searchsorted(self.first, lines, side="right") - 1


def _shifted(table: pa.Table, by: int) -> pa.Table:
    """``table`` with ``by`` added to its ``line`` and ``end_line``."""
    for name in ("line", "end_line"):
        values = arrow.array(arrow.values(table[name]) + by)
        table = table.set_column(table.column_names.index(name), name, values)
    return table


def _localized(rows: pa.Table, read: _Read) -> pa.Table:
    """Arranged rows with ``line`` and ``end_line`` counted in their own files, and a ``rank``
    column: their file's."""
    piece = np.zeros(0, np.int64)
    for name in ("line", "end_line"):  # end_line last: its piece is the row's
        values = arrow.values(rows[name])
        piece = read.piece(values)
        local = values - read.first[piece] + 1 + read.before[piece]
        rows = rows.set_column(rows.column_names.index(name), name, arrow.array(local))
    return rows.append_column("rank", arrow.array(read.rank[piece]))


def _keys(
    rows: pa.Table, seen: np.ndarray, out: tuple[float, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's merge key (the last time seen in its file up to it, ``seen`` before these
    rows: -inf before any) and file rank; updates ``seen``. Raises FastPathUnsupported when a
    file's keys go back, or a key sorts before ``out``, the last key that went out (a piece's
    time below its first line's, which the file's bound had promised)."""
    rank = arrow.values(rows["rank"])
    if not len(rank):
        return np.zeros(0), rank
    time = arrow.values(rows["time"], fill=np.nan)
    order = np.argsort(rank, kind="stable")
    in_file, time = rank[order], time[order]
    at = np.maximum.accumulate(np.where(np.isnan(time), -1, np.arange(len(time))))
    file_start = np.searchsorted(in_file, in_file, side="left")
    last_sorted = np.where(at >= file_start, time[np.maximum(at, 0)], seen[in_file])
    same_file = in_file[1:] == in_file[:-1]
    if (same_file & (last_sorted[1:] < last_sorted[:-1])).any():
        raise FastPathUnsupported(_BACK)
    if (last_sorted < seen[in_file]).any():  # back from the file's rows before these
        raise FastPathUnsupported(_BACK)
    if ((last_sorted < out[0]) | ((last_sorted == out[0]) & (in_file < out[1]))).any():
        raise FastPathUnsupported(_BACK)
    ends = np.flatnonzero(np.append(~same_file, True))
    seen[in_file[ends]] = last_sorted[ends]
    last = np.empty_like(last_sorted)
    last[order] = last_sorted
    return last, rank


@dataclass(frozen=True, slots=True)
class _Run:
    """Rows held back: a table, the ``rows`` of it still to go, and every row's key."""

    table: pa.Table
    rows: np.ndarray
    last: np.ndarray
    rank: np.ndarray
    seq: np.ndarray


def _safe(run: _Run, bound: np.ndarray, open_files: np.ndarray) -> np.ndarray:
    """Where the rows still held in ``run`` sort below the bound of every file still open but
    their own (``bound``: each file's least key to come, ``open_files``: the ranks of the files
    not read to their end)."""
    last, rank = run.last[run.rows], run.rank[run.rows]
    if not len(open_files):
        return np.ones(len(last), bool)
    order = np.lexsort((open_files, bound[open_files]))[:2]
    first = open_files[order[0]]
    second = open_files[order[1]] if len(order) > 1 else -1
    other = np.where(rank == first, second, first)
    other_bound = np.where(other >= 0, bound[np.maximum(other, 0)], np.inf)
    return (last < other_bound) | ((last == other_bound) & (rank < other))


def _gather(tables: list[pa.Table], which: np.ndarray, rows: np.ndarray) -> pa.Table:
    """The rows ``rows[i]`` of ``tables[which[i]]``, in this order, taken at once from the
    tables joined (a take across chunks is slower than a copy of them into one and a take),
    or none taken when they are one table's rows in place."""
    in_place = len(tables) == 1 and len(rows) == tables[0].num_rows
    if in_place and np.array_equal(rows, np.arange(len(rows))):
        return tables[0]
    starts = np.cumsum([0, *(table.num_rows for table in tables[:-1])])
    return pa.concat_tables(tables).combine_chunks().take(arrow.array(starts[which] + rows))


def _compacted(run: _Run) -> _Run:
    """``run``, its rows still held copied out once they are less than half of its table: so
    a file's piece that runs past the others' bounds frees its memory as its rows go out (each
    row copied about once more at most)."""
    if 2 * len(run.rows) >= run.table.num_rows:
        return run
    rows = run.rows
    table = run.table.take(arrow.array(rows))
    return _Run(table, np.arange(len(rows)), run.last[rows], run.rank[rows], run.seq[rows])


def _emitted(
    runs: list[_Run], bound: np.ndarray, open_files: np.ndarray, out: tuple[float, int]
) -> tuple[pa.Table | None, list[_Run], tuple[float, int]]:
    """The rows of ``runs`` safe to go (``_safe``) in key order (None if none), the runs of
    the rows still held, and the key of the last row gone out (``out`` if none goes)."""
    kept, which, rows, keys = [], [], [], []
    for run in runs:
        safe = _safe(run, bound, open_files)
        if safe.any():
            at = run.rows[safe]
            which.append(np.full(len(at), len(keys), np.int64))
            rows.append(at)
            keys.append((run.last[at], run.rank[at], run.seq[at], run))
        if not safe.all():
            kept.append(_compacted(_Run(run.table, run.rows[~safe], run.last, run.rank, run.seq)))
    if not keys:
        return None, kept, out
    last, rank, seq = (np.concatenate([key[part] for key in keys]) for part in range(3))
    order = np.lexsort((seq, rank, last))
    which_all, rows_all = np.concatenate(which)[order], np.concatenate(rows)[order]
    table = _gather([key[3].table for key in keys], which_all, rows_all)
    return table, kept, (float(last[order[-1]]), int(rank[order[-1]]))


def _merged(
    pairs: Sequence[tuple[int, Path]],
    workers: int | None,
    chunk_bytes: int,
    columns: Sequence[str] | None = None,
) -> Iterator[pa.Table]:
    """The rows of the ``-ff`` set in the merged order, a table at a time, with the
    ``columns`` of the chunk tables (all if None; a ``rank`` column more)."""
    files = [_pieces(rank, tid, path, chunk_bytes) for rank, (tid, path) in enumerate(pairs)]
    count = len(files)
    if workers is None:
        workers = pool_size(sum(p.chunk.stop - p.chunk.start for pieces in files for p in pieces))
    left = np.array([len(pieces) for pieces in files], np.int64)  # pieces not read yet
    next_start = np.array([p[0].start if p else np.inf for p in files])
    lines = np.zeros(count, np.int64)  # lines of each file read so far
    seen = np.full(count, -np.inf)  # the last time seen in each file
    out = (-np.inf, -1)  # the key of the last row that went out
    read = _Read(*(np.zeros(0, np.int64) for _ in range(3)))
    numbered = 0  # lines read, through all tasks
    held: pa.Table | None = None
    runs: list[_Run] = []
    seq = 0
    tasks = _schedule(files, chunk_bytes)
    work = functools.partial(_task_table, columns)
    for task, table, line_counts in map_pool(work, tasks, workers):
        before = np.zeros(len(task), np.int64)
        for at, piece in enumerate(task):
            before[at] = lines[piece.rank]
            lines[piece.rank] += line_counts[at]
            left[piece.rank] -= 1
            pieces = files[piece.rank]
            following = len(pieces) - left[piece.rank]
            next_start[piece.rank] = pieces[following].start if left[piece.rank] else np.inf
        read = _Read(
            np.concatenate((read.first, numbered + np.cumsum([1, *line_counts[:-1]]))),
            np.concatenate((read.rank, [piece.rank for piece in task])),
            np.concatenate((read.before, before)),
        )
        table = _shifted(table, numbered)
        numbered += sum(line_counts)
        window = table if held is None or not held.num_rows else pa.concat_tables([held, table])
        rows, held = arrange(window, hold=True)
        held_rank = read.rank[read.piece(arrow.values(held["end_line"]))]
        ended = left[held_rank] == 0
        if ended.any():  # calls never resumed in files read to their end: at their ends
            rows = pa.concat_tables([rows, arrange(held.filter(arrow.array(ended)))[0]])
            held, held_rank = held.filter(arrow.array(~ended)), held_rank[~ended]
        rows = _localized(rows, read)
        last, rank = _keys(rows, seen, out)
        runs.append(_Run(rows, np.arange(rows.num_rows), last, rank, seq + np.arange(len(last))))
        seq += len(last)
        held_time = np.full(count, np.inf)
        np.fmin.at(held_time, held_rank, arrow.values(held["time"], fill=np.nan))
        bound = np.maximum(seen, np.minimum(next_start, held_time))
        open_files = np.flatnonzero(left > 0)
        table, runs, out = _emitted(runs, bound, open_files, out)
        if table is not None:
            yield table


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


# The line codes of the rows that are calls (``batches.record_batch`` makes them syscalls).
_CALLS = (codes.WHOLE, codes.RESUMED, codes.JOINED, codes.JOINED_EDGE)

# The columns a count needs: its own, and those the merge orders and joins rows by.
_COUNTED = ("line", "end_line", "code", "pid", "syscall", "time", "relative", "returned",
            "errno", "duration")  # fmt: skip


def count_ff(pairs: Sequence[tuple[int, Path]], workers: int | None, chunk_bytes: int) -> Profile:
    """The ``Profile`` of the ``-ff`` set, counted over its merged rows (no texts: the workers
    drop them) as ``counts.count_events`` counts events: the calls that returned, their
    errors, their durations summed one by one in the merged order (float sums are exact only
    in the same order), the calls that did not return."""
    calls: dict[str, int] = {}
    errors: dict[str, int] = {}
    unreturned: dict[str, int] = {}
    seconds: dict[str, float] = {}
    events = 0
    for rows in _merged(pairs, workers, chunk_bytes, _COUNTED):
        events += rows.num_rows
        call = np.isin(arrow.values(rows["code"]), _CALLS)
        encoded = arrow.one(rows["syscall"]).dictionary_encode()
        name = arrow.values(encoded.indices, fill=-1)
        names = encoded.dictionary.to_pylist()
        returned = call & arrow.values(rows["returned"], fill=False)
        failed = returned & arrow.valid(rows["errno"])
        for tally, mask in ((calls, returned), (errors, failed), (unreturned, call & ~returned)):
            counts = np.bincount(name[mask], minlength=len(names))
            for at in np.flatnonzero(counts).tolist():
                tally[names[at]] = tally.get(names[at], 0) + int(counts[at])
        duration = arrow.values(rows["duration"], fill=np.nan)
        timed = returned & ~np.isnan(duration)
        for at in np.unique(name[timed]).tolist():
            values = duration[timed & (name == at)]
            total = np.cumsum(np.concatenate(([seconds.get(names[at], 0.0)], values)))[-1]
            seconds[names[at]] = float(total)
    return Profile.from_counts(
        calls, errors, seconds, events=events, unparsed=0, unreturned=unreturned
    )

"""The profile path: a log's ``Profile`` from per-chunk tallies, with numpy alone (its
processes never import Arrow or pandas: Arrow's compute library takes about 50 MB in each)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from syscall_parse._fast import codes
from syscall_parse._fast.chunks import Chunk, map_chunks, read_chunk
from syscall_parse._fast.kernels import LOW_BYTES, Windows
from syscall_parse._fast.scan import NAME_MAX, record_row, scan_lines
from syscall_parse.counts import Profile
from syscall_parse.engine import FastPathUnsupported
from syscall_parse.lines import parse_line

__all__ = ["count_chunks"]


@dataclass(frozen=True, slots=True)
class _Lean:
    """What a profile needs of each line of a chunk, as numpy arrays in line order: its code,
    pid (-1: none), syscall name (``ids`` into ``names``; -1: none), whether the call ended
    (returned or ``= ?``), returned, failed, and its -T duration (NaN: none)."""

    code: np.ndarray
    pid: np.ndarray
    ids: np.ndarray
    names: list[str]
    ended: np.ndarray
    returned: np.ndarray
    error: np.ndarray
    duration: np.ndarray


def _lean_lines(data: bytes) -> _Lean:
    """The profile view of a chunk: its lines classified (``scan_lines``); the lines the
    checks do not vouch for go through ``parse_line``."""
    scan = scan_lines(data)
    shape, tail, code, fast = scan.prefix, scan.tail, scan.code, scan.fast
    ended, error, returned, duration = tail.ended, tail.error, tail.returned, tail.duration
    pid = np.full(len(code), -1, np.int64)
    # The pids of the lines that join split calls: their halves and the exits.
    state = np.flatnonzero(
        ((code == codes.UNFINISHED) | (code == codes.RESUMED) | (code == codes.EXIT))
        & (shape.pid_len > 0)
    )
    pid[state] = shape.pid[state]
    ids = np.full(len(code), -1, np.int64)
    calls = scan.calls
    ids[calls], names = _name_ids(scan.window, data, shape.name_at[calls], shape.name_len[calls])
    slow = np.flatnonzero(~fast)
    if len(slow):
        numbers = slow + 1  # numbered from 1 in the chunk: counts do not depend on them
        rest = (code, pid, ids, names, ended, returned, error, duration)
        _merge_slow(data, scan.starts, scan.ends, slow, numbers, *rest)
    return _Lean(code, pid, ids, names, ended, returned, error, duration)


def _name_ids(window: Windows, data: bytes, name_at: np.ndarray, name_len: np.ndarray):
    """Ids of the names at ``name_at`` (``name_len`` bytes, at most 31) and the list of names:
    each name hashed from its bytes, and every row checked against its hash's first row, so
    that equal ids are equal names (a collision sends the log to the reference)."""
    words = []
    key = np.zeros(len(name_at), np.uint64)
    for k in range(NAME_MAX // 8):
        kept = LOW_BYTES[np.clip(name_len - 8 * k, 0, 8)]
        word = window.words(name_at + 8 * k) & kept
        words.append(word)
        key = (key ^ word) * np.uint64(0x9E37_79B9_7F4A_7C15)  # multiply: mixes every byte
    _, first, ids = np.unique(key, return_index=True, return_inverse=True)
    ids = ids.reshape(-1)
    for word in words:
        if (word != word[first][ids]).any():
            raise FastPathUnsupported("two syscall names with one hash")
    names = [
        data[at : at + size].decode()
        for at, size in zip(name_at[first].tolist(), name_len[first].tolist(), strict=True)
    ]
    return ids, names


def _merge_slow(
    data, starts, ends, slow, numbers, code, pid, ids, names, ended, returned, error, duration
):
    """Put the reference's reading (``parse_line``) of the ``slow`` lines, numbered
    ``numbers``, into the arrays of a ``_Lean``."""
    index = {name: i for i, name in enumerate(names)}
    for at, number in zip(slow.tolist(), numbers.tolist(), strict=True):
        text = data[starts[at] : ends[at]].decode("utf-8", "surrogateescape")
        row = record_row(parse_line(text, number), number)
        code[at] = row["code"]
        pid[at] = -1 if row.get("pid") is None else row["pid"]
        name = row.get("syscall")
        if name is not None:
            if name not in index:
                index[name] = len(names)
                names.append(name)
            ids[at] = index[name]
        ended[at] = row["code"] in (codes.WHOLE, codes.RESUMED)
        returned[at] = ended[at] and bool(row.get("returned"))
        error[at] = returned[at] and row.get("errno") is not None
        duration[at] = np.nan if row.get("duration") is None else row["duration"]


@dataclass(frozen=True, slots=True)
class _ChunkCounts:
    """What one chunk adds to a profile; ``first``/``last`` are the state rows (unfinished,
    resumed, exit) of each pid at the chunk's edges, joined across chunks by
    ``count_chunks``."""

    events: int
    unparsed: int
    calls: dict[str, int]
    errors: dict[str, int]
    unreturned: dict[str, int]
    unfinished: dict[str, int]
    joined: dict[str, int]
    durations: dict[str, np.ndarray]
    first: dict[int, tuple[int, str | None]]
    last: dict[int, tuple[int, str | None]]


def _bincounts(ids: np.ndarray, names: list[str], mask: np.ndarray) -> dict[str, int]:
    """How many rows of each name ``mask`` selects."""
    counts = np.bincount(ids[mask], minlength=len(names))
    return {names[i]: int(counts[i]) for i in np.flatnonzero(counts).tolist()}


def _chunk_counts(path: str, chunk: Chunk) -> _ChunkCounts:
    lean = _lean_lines(read_chunk(Path(path), chunk))
    code, ids, names = lean.code, lean.ids, lean.names
    returned = lean.returned
    timed = returned & ~np.isnan(lean.duration)
    durations: dict[str, np.ndarray] = {}
    if timed.any():
        timed_ids = ids[timed]
        timed_values = lean.duration[timed]
        # A stable sort keeps line order within each name (radix sort on 16-bit keys).
        key = timed_ids.astype(np.int16) if len(names) < 1 << 15 else timed_ids
        order = np.argsort(key, kind="stable")
        sorted_ids = timed_ids[order]
        bounds = np.flatnonzero(np.diff(sorted_ids)) + 1
        for group, name_id in zip(
            np.split(timed_values[order], bounds),
            sorted_ids[np.r_[0, bounds]].tolist(),
            strict=True,
        ):
            durations[names[name_id]] = group
    rows = np.flatnonzero(
        ((code == codes.UNFINISHED) | (code == codes.RESUMED) | (code == codes.EXIT))
        & (lean.pid >= 0)
    )
    s_code, s_pid, s_ids = code[rows], lean.pid[rows], ids[rows]
    order, same, joined = codes.pairs(s_code, s_pid, s_ids)
    first: dict[int, tuple[int, str | None]] = {}
    last: dict[int, tuple[int, str | None]] = {}
    if len(rows):
        starts = np.concatenate(([0], np.flatnonzero(~same) + 1))
        stops = np.concatenate((starts[1:] - 1, [len(rows) - 1]))
        for edge, positions in ((first, starts), (last, stops)):
            for at in order[positions].tolist():
                edge[int(s_pid[at])] = (
                    int(s_code[at]),
                    names[s_ids[at]] if s_ids[at] >= 0 else None,
                )
    joined_ids = s_ids[order][1:][joined]
    return _ChunkCounts(
        events=int(
            np.isin(
                code, (codes.WHOLE, codes.RESUMED, codes.SIGNAL, codes.EXIT, codes.MESSAGE)
            ).sum()
        ),
        unparsed=int((code == codes.UNPARSED).sum()),
        calls=_bincounts(ids, names, returned),
        errors=_bincounts(ids, names, lean.error),
        unreturned=_bincounts(ids, names, lean.ended & ~returned),
        unfinished=_bincounts(ids, names, code == codes.UNFINISHED),
        joined=_bincounts(joined_ids, names, np.ones(len(joined_ids), bool)),
        durations=durations,
        first=first,
        last=last,
    )


def _add(total: dict[str, int], more: dict[str, int], sign: int = 1) -> None:
    for key, value in more.items():
        total[key] = total.get(key, 0) + sign * value


def count_chunks(path: Path, workers: int | None, chunk_bytes: int) -> Profile:
    """The ``Profile`` of a plain log from the tallies of its chunks, with the split calls
    whose halves lie in two chunks joined here."""
    calls: dict[str, int] = {}
    errors: dict[str, int] = {}
    unreturned: dict[str, int] = {}
    unfinished: dict[str, int] = {}
    joined: dict[str, int] = {}
    seconds: dict[str, float] = {}
    pending: dict[int, str | None] = {}
    events = unparsed = 0
    for counts in map_chunks(path, _chunk_counts, workers, chunk_bytes):
        events += counts.events
        unparsed += counts.unparsed
        _add(calls, counts.calls)
        _add(errors, counts.errors)
        _add(unreturned, counts.unreturned)
        _add(unfinished, counts.unfinished)
        _add(joined, counts.joined)
        for name, values in counts.durations.items():
            # Summed one by one in line order, as the reference does: float sums are exact
            # only in the same order.
            start = seconds.get(name, 0.0)
            seconds[name] = float(np.cumsum(np.concatenate(([start], values)))[-1])
        for pid, (code, name) in counts.first.items():
            if pid in pending and code == codes.RESUMED:
                if pending[pid] != name:
                    raise FastPathUnsupported("a resumed call of another name across chunks")
                joined[name] = joined.get(name, 0) + 1  # type: ignore[index]
        for pid, (code, name) in counts.last.items():
            if code == codes.UNFINISHED:
                pending[pid] = name
            else:
                pending.pop(pid, None)
    _add(unreturned, unfinished)
    _add(unreturned, joined, -1)
    events += sum(unfinished.values()) - sum(joined.values())
    return Profile.from_counts(
        calls, errors, seconds, events=events, unparsed=unparsed, unreturned=unreturned
    )

"""The vectorized fast path of the strace parser: the same tables and profiles, at C speed.

``read_trace_fast(path)`` returns exactly the frame of ``frame.read_trace(path)`` and
``profile_file(path)`` exactly the ``Profile`` of ``count_events(iter_trace(path))``, but
lines are classified in bulk: the log is read in byte chunks cut at newlines, and numpy byte
arithmetic (8 bytes at a time in uint64 lanes, positions of '=' and of the bytes a path may not
hold) reads the prefix, syscall name and result of the layout of
``strace -f -o FILE [-ttt] [-T] [-y]`` (pid padded to 5 columns, -ttt with microseconds). A
frame's text columns are then cut out of the chunk as Arrow strings; a profile needs numpy
alone, so its processes never import Arrow (whose compute library takes about 50 MB in each).
Chunks are parsed on all cores (a process pool of forked workers) when the log is big.

Exactness comes first: any line the fast checks do not classify with certainty (signals,
exits, messages, notes after the result, escaped or non-ASCII bytes, other prefix layouts...)
goes through the reference ``lines.parse_line``; split calls are joined per pid with vectorized
numpy operations that reproduce ``stream.iter_events``. The few situations whose state handling
is not vectorized (a ``<... resumed>`` half whose name differs from its pid's pending call,
``superseded by execve``, pid-less split calls of a stderr trace, a call line cut by a raw
newline, compressed or ``-ff`` inputs) make the whole log go through the reference parser, so
the result is still exact, only slower.
"""

from __future__ import annotations

import itertools
import os
import warnings
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from syscall_parse.counts import Profile
from syscall_parse.engine import FastPathUnsupported, _plain_path
from syscall_parse.events import Exit, Message, Signal, Syscall, Unparsed
from syscall_parse.lines import (
    Continuation,
    OpenCall,
    Resumed,
    SummaryLine,
    Unfinished,
    parse_line,
    return_value,
)
from syscall_parse.schema import COLUMNS

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

__all__ = [
    "CHUNK_BYTES",
    "PROFILE_CHUNK_BYTES",
    "FastPathUnsupported",
    "profile_file",
    "read_trace_fast",
]

CHUNK_BYTES = 4 << 20
"""Bytes per chunk: big enough to amortise the per-call cost of the Arrow kernels, small
enough that a chunk's arrays (a few times its size) stay well under the memory budget."""

PROFILE_CHUNK_BYTES = 1 << 20
"""Bytes per chunk of a profile: its numpy arrays are few and per-chunk costs small, so small
chunks cost no speed and keep each worker near its imports' size (about 30 MB)."""

# Logs smaller than this are parsed in this process: a pool costs more than it saves.
_POOL_MIN_BYTES = 4 * CHUNK_BYTES

# Line codes of a chunk table. _JOINED and _JOINED_EDGE: calls whose halves a worker joined
# in its chunk; an edge one is a state row the parent still needs (the first of its pid in the
# chunk, or the next of a lone unfinished call, which it yields).
(_WHOLE, _UNFINISHED, _RESUMED, _SIGNAL, _EXIT, _MESSAGE, _JOINED, _JOINED_EDGE, _UNPARSED,
 _SKIP) = range(10)  # fmt: skip

_UNFINISHED_END = " <unfinished ...>\n"


@dataclass(frozen=True, slots=True)
class _Chunk:
    """Where one chunk of the log lies: a byte range. Its lines are numbered from 1 by the
    worker; ``_frame_table`` adds the lines of the chunks before (counted by the workers, so
    that the parent does not read the whole log while they work)."""

    start: int
    stop: int


# ---------------------------------------------------------------------------------------------
# Reading chunks


def _chunk_bounds(path: Path, size: int) -> Iterator[tuple[int, int]]:
    """Byte ranges of about ``size`` bytes, each ending after a newline (or at the end)."""
    total = path.stat().st_size
    start = 0
    with path.open("rb") as handle:
        while start < total:
            stop = start + size
            if stop >= total:
                yield start, total
                return
            handle.seek(stop)
            while True:
                block = handle.read(1 << 16)
                if not block:
                    yield start, total
                    return
                at = block.find(b"\n")
                if at >= 0:
                    stop += at + 1
                    break
                stop += len(block)
            yield start, stop
            start = stop


def _read(path: Path, start: int, stop: int) -> bytes:
    with path.open("rb") as handle:
        handle.seek(start)
        data = handle.read(stop - start)
    if data and not data.endswith(b"\n"):
        data += b"\n"  # the last line of a log cut short: a line all the same
    return data


# ---------------------------------------------------------------------------------------------
# One chunk to a table of line records


def _lines(data: bytes) -> tuple[pa.StringArray, np.ndarray, np.ndarray]:
    """The chunk as an Arrow array of lines (each with its '\\n'), and which lines are unsafe.

    Unsafe lines hold bytes the reference treats specially (non-ASCII, ESC colour codes,
    '\\r'): they always go through ``parse_line``. Returns (lines, unsafe mask, line starts).
    """
    raw = np.frombuffer(data, np.uint8)
    ends = np.flatnonzero(raw == 10)
    offsets = np.empty(len(ends) + 1, np.int64)
    offsets[0] = 0
    offsets[1:] = ends + 1
    # bytes methods scan in C at memory speed: most logs skip the per-byte mask below.
    clean = data.isascii() and b"\x1b" not in data and b"\r" not in data
    bad = None if clean else (raw > 127) | (raw == 27) | (raw == 13)
    if bad is not None and bad.any():
        per_line = np.add.reduceat(bad.astype(np.int32), offsets[:-1]) if len(ends) else bad[:0]
        unsafe = per_line > 0
        clean = raw.copy()
        clean[raw > 127] = 1  # keeps the array valid UTF-8; those lines are parsed slowly
        data = clean.tobytes()
    else:
        unsafe = np.zeros(len(ends), bool)
    lines = pa.Array.from_buffers(
        pa.large_string(), len(ends), [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )
    return lines, unsafe, offsets


class _Windows:
    """Fixed-width byte windows of a chunk at many offsets at once: ``self(begin, width)``
    is the matrix of ``raw[b:b + width]`` for each ``b`` (a strided view, copied per row)."""

    def __init__(self, raw: np.ndarray, widest: int) -> None:
        self._padded = np.concatenate((raw, np.zeros(max(widest, 8), np.uint8)))
        self._size = len(raw)
        self._views: dict[int, np.ndarray] = {}
        self._words: np.ndarray | None = None

    def __call__(self, begin: np.ndarray, width: int) -> np.ndarray:
        view = self._views.get(width)
        if view is None:
            view = np.lib.stride_tricks.sliding_window_view(self._padded, width)
            self._views[width] = view
        return view[np.clip(begin, 0, self._size)]

    def words(self, begin: np.ndarray) -> np.ndarray:
        """The 8 bytes at each ``begin`` as one little-endian uint64 (byte 0 lowest)."""
        if self._words is None:
            self._words = np.ndarray((self._size + 1,), np.dtype("<u8"), self._padded.data, 0, (1,))
        return self._words[np.clip(begin, 0, self._size)]


def _views(
    data_buf: pa.Buffer,
    begin: np.ndarray,
    lengths: np.ndarray,
    window: _Windows | None = None,
    valid: np.ndarray | None = None,
) -> pa.Array:
    """``data[begin:begin + length]`` for each row, as one vectorized copy (a string_view
    array over the buffer, cast to plain strings); null where not ``valid`` (if given).
    ``window``: the buffer's ``_Windows``."""
    count = len(begin)
    lengths = lengths.astype(np.int32)
    if window is None:
        window = _Windows(np.frombuffer(data_buf, np.uint8), 12)
    inline = window(begin, 12)  # a copy: zeroed past each length in place
    inline *= np.arange(12, dtype=np.int32) < lengths[:, None]
    views = np.empty((count, 16), np.uint8)
    views[:, 4:16] = inline
    words = views.view(np.int32)
    words[:, 0] = lengths
    # Longer strings: 4-byte prefix (already in place), buffer 0, offset into it.
    long = lengths > 12
    np.copyto(words[:, 2], 0, where=long)
    np.copyto(words[:, 3], begin, casting="unsafe", where=long)  # offsets of a chunk: < 2**31
    validity = None if valid is None else pa.py_buffer(np.packbits(valid, bitorder="little"))
    array = pa.Array.from_buffers(
        pa.string_view(), count, [validity, pa.py_buffer(views), data_buf]
    )
    return array.cast(pa.string())


def _substrings(
    lines: pa.LargeStringArray, starts: np.ndarray, stops: np.ndarray, valid: np.ndarray
) -> pa.Array:
    """``line[start:stop]`` for each line, null where not ``valid``."""
    _, offsets_buf, data_buf = lines.buffers()
    offsets = np.frombuffer(offsets_buf, np.int64, len(lines) + 1, lines.offset * 8)
    return _views(data_buf, offsets[:-1] + starts, stops - starts, valid=valid)


_FIELDS = (
    "line", "code", "pid", "time", "relative", "name", "args", "ret", "retval", "errno",
    "errno_text", "duration", "returned", "signal", "status",
)  # fmt: skip
_ARROW_TYPES = {  # names for pa.type_for_alias: Arrow is imported only for frames
    "line": "int64",
    "code": "int8",
    "pid": "int64",
    "time": "float64",
    "relative": "float64",
    "name": "string",
    "args": "string",
    "ret": "string",
    "retval": "int64",
    "errno": "string",
    "errno_text": "string",
    "duration": "float64",
    "returned": "bool",
    "signal": "string",
    "status": "int64",
}


def _load_arrow() -> None:
    """Import Arrow into this module's globals: only frames need it. Profiles use numpy
    alone, since Arrow's compute library takes about 50 MB in every process that uses it."""
    global pa, pc
    import pyarrow as pa
    import pyarrow.compute as pc


def _arrow_type(field: str) -> pa.DataType:
    return pa.type_for_alias(_ARROW_TYPES[field])


def _record_row(record, number: int) -> dict[str, object]:
    """The chunk-table row of a record from the reference ``parse_line``."""
    row: dict[str, object] = {"line": number}
    if isinstance(record, Syscall):
        row.update(code=_WHOLE, pid=record.pid, time=record.time, relative=record.relative,
                   name=record.name, args=record.args, ret=record.ret, retval=record.retval,
                   errno=record.errno, errno_text=record.errno_text, duration=record.duration,
                   returned=record.returned)  # fmt: skip
    elif isinstance(record, Resumed):
        call = record.call
        if call.pid is None:
            raise FastPathUnsupported("a pid-less resumed call")
        row.update(code=_RESUMED, pid=call.pid, time=call.time, relative=call.relative,
                   name=call.name, args=call.args, ret=call.ret, retval=call.retval,
                   errno=call.errno, errno_text=call.errno_text, duration=call.duration,
                   returned=call.returned)  # fmt: skip
    elif isinstance(record, Unfinished):
        if record.pid is None:
            raise FastPathUnsupported("a pid-less unfinished call")
        row.update(code=_UNFINISHED, pid=record.pid, time=record.time,
                   relative=record.relative, name=record.name, args=record.args)  # fmt: skip
    elif isinstance(record, Signal):
        row.update(code=_SIGNAL, pid=record.pid, time=record.time, relative=record.relative,
                   args=record.info, signal=record.signal)  # fmt: skip
    elif isinstance(record, Exit):
        if record.superseded_by is not None:
            raise FastPathUnsupported("a thread execve (superseded by execve)")
        row.update(code=_EXIT, pid=record.pid, time=record.time, relative=record.relative,
                   args="core dumped" if record.core_dumped else None, signal=record.signal,
                   status=record.status)  # fmt: skip
    elif isinstance(record, Message):
        row.update(code=_MESSAGE, pid=record.pid, args=record.text)
    elif isinstance(record, Unparsed):
        row.update(code=_UNPARSED, args=record.text)
    elif isinstance(record, Continuation | SummaryLine):
        row.update(code=_SKIP)
    elif isinstance(record, OpenCall):
        raise FastPathUnsupported("a call line cut by a raw newline")
    return row


def _arrow(values: object, kind: pa.DataType) -> pa.Array:
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return values.cast(kind)
    return pa.array(values, kind)


def _parse_chunk(data: bytes) -> pa.Table:
    """The line records of one chunk (one row per line, numbered from 1), in line order
    (``_FIELDS``)."""
    _load_arrow()
    lines, unsafe, _ = _lines(data)
    count = len(lines)
    numbers = np.arange(1, count + 1, dtype=np.int64)
    if count == 0:
        return pa.table({f: pa.array([], _arrow_type(f)) for f in _FIELDS})
    _, offsets_buf, data_buf = lines.buffers()
    offsets = np.frombuffer(offsets_buf, np.int64, count + 1)
    starts, ends = offsets[:-1], offsets[1:] - 1
    clean = np.frombuffer(data_buf, np.uint8)
    window = _Windows(clean, _NAME_MAX + 16)
    prefix = _prefix(window, starts, ends, unsafe)
    unfinished = prefix.unfinished
    tail = _results(window, data, clean, starts, ends, prefix.call & ~unfinished | prefix.resumed)
    head_len = prefix.head_end() - starts
    line_len = np.diff(offsets)
    whole = prefix.call & ~unfinished & tail.ended
    resumed = prefix.resumed & tail.ended
    fast = whole | unfinished | resumed

    codes = np.full(count, _WHOLE, np.int8)
    codes[unfinished] = _UNFINISHED
    codes[resumed] = _RESUMED
    pid = _cast_views(data_buf, starts, prefix.pid_len, fast, pa.int64(), window)
    name = _views(data_buf, prefix.name_at, np.where(fast, prefix.name_len, 0), window, fast)
    clock = fast & prefix.timed
    time = np.asarray(
        _cast_views(data_buf, prefix.clock_at, np.full(count, 17), clock, pa.float64(), window),
        np.float64,
    )
    ended = whole | resumed
    has_errno = tail.error & ended
    returned = tail.returned & ended

    def text(begin: np.ndarray, end: np.ndarray, mask: np.ndarray) -> pa.Array:
        """``data[begin:end]`` where ``mask``, else null."""
        return _cast_views(data_buf, begin, end - begin, mask, pa.string(), window)

    result, stop = tail.result, tail.stop
    # The result: '-1'/'?' before an errno, else the whole value ('3</tmp/a b>' included).
    ret = text(result, np.where(has_errno, tail.errno - 1, stop), ended)
    # Values read by return_value: 0x... and octal 0NNN (as the reference reads them).
    octal = ended & tail.number & ~has_errno & (clean[np.minimum(result, len(clean) - 1)] == 48)
    octal &= tail.digits_end - result >= 2
    decimal = ended & tail.number & ~has_errno & ~octal
    special = np.flatnonzero((tail.hexadecimal & ended & ~has_errno) | octal)
    retval = np.asarray(
        _cast_views(
            data_buf, result, tail.digits_end - result, decimal, pa.int64(), window
        ).fill_null(0),
        np.int64,
    )
    retval_valid = decimal | (has_errno & tail.minus_one)
    retval = np.where(has_errno, -1, retval)
    if len(special):
        tokens = pc.take(ret, pa.array(special)).to_pylist()
        retval[special] = [return_value(token) for token in tokens]
        retval_valid[special] = True
    arg_stop = np.where(unfinished, line_len - len(_UNFINISHED_END), tail.close - starts)
    arg_stop = np.where(fast, arg_stop, head_len)
    columns: dict[str, object] = {
        "line": numbers,
        "code": codes,
        "pid": pid,
        "time": time,
        "relative": np.full(count, np.nan),
        "name": name,
        "args": _substrings(lines, head_len, np.maximum(arg_stop, head_len), fast),
        "ret": ret,
        "retval": pa.array(retval, mask=~retval_valid),
        "errno": text(tail.errno, tail.opener - 1, has_errno),
        "errno_text": text(tail.opener + 1, stop - 1, has_errno),
        "duration": np.where(ended, tail.duration, np.nan),
        "returned": pa.array(returned, mask=~ended),
        "signal": pa.nulls(count, pa.string()),
        "status": pa.nulls(count, pa.int64()),
    }
    table = pa.table({f: _arrow(columns[f], _arrow_type(f)) for f in _FIELDS})
    slow = np.flatnonzero(~fast)
    if len(slow) == 0:
        return table
    texts = pc.take(lines, pa.array(slow)).to_pylist()
    if unsafe.any():
        # The cleaned array replaced non-ASCII bytes: take those lines from the original bytes.
        raw_texts = data.split(b"\n")
        texts = [
            raw_texts[i].decode("utf-8", "surrogateescape") if unsafe[i] else text
            for i, text in zip(slow.tolist(), texts, strict=True)
        ]
    rows = [_record_row(parse_line(text, int(numbers[i])), int(numbers[i]))
            for i, text in zip(slow.tolist(), texts, strict=True)]  # fmt: skip
    extra = pa.table({f: pa.array([row.get(f) for row in rows], _arrow_type(f)) for f in _FIELDS})
    # Each slow line's row replaced by the reference's: one take, no sort.
    source = np.arange(count)
    source[slow] = count + np.arange(len(slow))
    return pa.concat_tables([table, extra]).take(pa.array(source))


# ---------------------------------------------------------------------------------------------
# Byte arithmetic in numpy for the prefix, name and result of every line (frames and profiles).
# The end of a call that returned, read by ``_results``, is this language (as a regular
# expression: the ')' closing the arguments, ' = ', the result, an optional -T duration with
# 1 to 6 digits of seconds):
#   \) += (?:0x[0-9a-fA-F]+|-?\d+(?:<[^<>\\()"=]*>)?|(?:-1|\?) E[A-Z0-9_]+ \([^)]*\)|\?)
#   (?: <\d{1,6}\.\d{6}>)?\n$

_NAME_MAX = 32
_RESUMED_CLOSE = np.frombuffer(b" resumed>", np.uint8)


def _cast_views(data: pa.Buffer, begin, lengths, mask, kind, window: _Windows) -> pa.Array:
    """The numbers written at ``data[begin:begin + length]`` where ``mask``, else null."""
    text = _views(data, begin, np.where(mask, lengths, 0), window, valid=mask)
    return text if kind == pa.string() else text.cast(kind)


@dataclass(frozen=True, slots=True)
class _Prefix:
    """Where the parts of each line's prefix lie (absolute offsets into the chunk), and the
    shape of its body; lines of other shapes are all False in ``call`` and ``resumed``."""

    pid_len: np.ndarray
    clock_at: np.ndarray  # the -ttt time, where ``timed``
    timed: np.ndarray
    name_at: np.ndarray
    name_len: np.ndarray
    call: np.ndarray  # 'name(' ...
    resumed: np.ndarray  # '<... name resumed>' followed by something else than a space
    unfinished: np.ndarray  # a call ending in ' <unfinished ...>'

    def head_end(self) -> np.ndarray:
        """Where the arguments start: after 'name(' or '<... name resumed>'."""
        return self.name_at + self.name_len + np.where(self.resumed, len(_RESUMED_CLOSE), 1)


def _prefix(window: _Windows, starts: np.ndarray, ends: np.ndarray, unsafe) -> _Prefix:
    """The prefix of every line, by byte arithmetic: the layout of ``strace -f -o FILE``
    with or without ``-ttt`` (microseconds). Any other layout leaves a line to the patterns.

    Bytes are read 8 at a time as uint64 words and tested as SIMD-within-a-register lanes
    (``_lanes``): a few integer operations per line instead of a byte matrix per test."""
    # '4730  ' or '1234567 ': a pid, padded with spaces to 5 characters, then one space.
    head = window.words(starts)
    pid_len = _first_lane(~_lanes(head, 48, 57) & _HIGH)
    gap = np.maximum(6, pid_len + 1)
    spaces = _SPAN[np.minimum(pid_len, 8), np.minimum(gap, 8)]
    ok = (pid_len > 0) & (pid_len < 8) & ((_lanes(head, 32, 32) & spaces) == spaces) & ~unsafe
    body = starts + gap
    # '1795869296.749720 ': a -ttt time with microseconds (not starting with 0), or none.
    first, second, third = window.words(body), window.words(body + 8), window.words(body + 16)
    timed = (
        (_lanes(first, 48, 57) == _HIGH)
        & ((first & 0xFF) != 48)
        & ((_lanes(second, 48, 57) & _CLOCK_DIGITS) == _CLOCK_DIGITS)
        & ((_lanes(second, 46, 46) & _CLOCK_DOT) == _CLOCK_DOT)
        & ((_lanes(third, 48, 57) & 0x80) != 0)
        & (((third >> 8) & 0xFF) == 32)
    )
    body = np.where(timed, body + 18, body)
    # 'read(' or '<... read resumed>'.
    resumed = (window.words(body) & 0xFF_FFFF_FFFF) == _RESUMED_OPEN_WORD
    name_at = np.where(resumed, body + 5, body)
    name_len = np.full(len(starts), _NAME_MAX, np.int64)
    for k in range(_NAME_MAX // 8 - 1, -1, -1):
        word = window.words(name_at + 8 * k)
        name = _lanes(word, 97, 122) | _lanes(word, 48, 57) | _lanes(word, 95, 95)
        if k == 0:
            first_ok = (_lanes(word, 97, 122) | _lanes(word, 95, 95)) & 0x80 != 0
        other = ~name & _HIGH
        name_len = np.where(other != 0, 8 * k + _first_lane(other), name_len)
    name_end = name_at + name_len
    after = window.words(name_end)
    close = window.words(name_end + 8) & 0xFFFF
    resumed_ok = (after == _RESUMED_CLOSE_WORD) & ((close & 0xFF) == 62) & ((close >> 8) != 32)
    ok &= first_ok & (name_len < _NAME_MAX)
    call = ok & ~resumed & ((after & 0xFF) == 40)
    resumed &= ok & resumed_ok
    unfinished = (
        call
        & (window.words(ends - 17) == _UNFINISHED_WORDS[0])
        & (window.words(ends - 9) == _UNFINISHED_WORDS[1])
        & ((window.words(ends - 1) & 0xFF) == 62)
    )
    return _Prefix(pid_len, starts + gap, timed, name_at, name_len, call, resumed, unfinished)


_ONES = np.uint64(0x0101_0101_0101_0101)
_HIGH = np.uint64(0x8080_8080_8080_8080)


def _lanes(words: np.ndarray, low: int, high: int) -> np.ndarray:
    """The high bit of each byte of ``words`` whose value is in [low, high]. Exact for bytes
    below 128 (no carry crosses a byte); lines' buffers hold only those."""
    above_low = words + np.uint64((0x80 - low) * 0x0101_0101_0101_0101)
    above_high = words + np.uint64((0x7F - high) * 0x0101_0101_0101_0101)
    return above_low & ~above_high & _HIGH


def _first_lane(bits: np.ndarray) -> np.ndarray:
    """The index of the lowest byte whose high bit is set (8 where none)."""
    lowest = bits & (~bits + np.uint64(1))
    _, exponent = np.frexp(lowest.astype(np.float64))  # 2**(8 * byte + 7): exponent 8 * byte + 8
    return np.where(bits == 0, 8, (exponent.astype(np.int64) - 8) >> 3)


def _word(text: bytes) -> np.uint64:
    return np.uint64(int.from_bytes(text, "little"))


# _SPAN[a, b]: the high bits of bytes a to b - 1.
_SPAN = np.array(
    [[sum(0x80 << 8 * i for i in range(a, b)) for b in range(9)] for a in range(9)], np.uint64
)
_CLOCK_DIGITS = _word(b"\x80\x80\x00\x80\x80\x80\x80\x80")  # 'dd.ddddd'
_CLOCK_DOT = _word(b"\x00\x00\x80\x00\x00\x00\x00\x00")
_RESUMED_OPEN_WORD = _word(b"<... ")
_RESUMED_CLOSE_WORD = _word(b" resumed")
_UNFINISHED_WORDS = (_word(_UNFINISHED_END.encode()[:8]), _word(_UNFINISHED_END.encode()[8:16]))


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
    """The profile view of a chunk, with numpy only (no Arrow: a profile's processes stay
    small): the prefix as in ``_parse_chunk``, the result checked against the language of
    the result language by byte positions (``_results``); other lines go through ``parse_line``."""
    raw = np.frombuffer(data, np.uint8)
    ends = np.flatnonzero(raw == 10)  # _read ends every chunk with a newline
    count = len(ends)
    starts = np.zeros(count, np.int64)
    starts[1:] = ends[:-1] + 1
    clean, unsafe = _ascii(data, raw, starts)
    window = _Windows(clean, _NAME_MAX + 16)
    prefix = _prefix(window, starts, ends, unsafe)
    call, resumed, unfinished = prefix.call, prefix.resumed, prefix.unfinished
    tail = _results(window, data, clean, starts, ends, call & ~unfinished | resumed)
    ended, error, returned, duration = tail.ended, tail.error, tail.returned, tail.duration
    whole = call & ~unfinished & ended
    resumed &= ended
    fast = whole | unfinished | resumed
    code = np.full(count, _SKIP, np.int8)
    code[whole] = _WHOLE
    code[unfinished] = _UNFINISHED
    code[resumed] = _RESUMED
    pid = np.full(count, -1, np.int64)
    state = np.flatnonzero(unfinished | resumed)  # only split calls are joined by pid
    # The pid's digits moved to the top of a word of '0's, read as 8 digits.
    pid_len = prefix.pid_len[state]
    digits = window.words(starts[state]) & _LOW_BYTES[pid_len]
    shift = (8 * (8 - pid_len)).astype(np.uint64)
    pid[state] = _eight_digits((digits << shift) | (_ZEROS & _LOW_BYTES[8 - pid_len]))
    ids = np.full(count, -1, np.int64)
    ids[fast], names = _name_ids(window, data, prefix.name_at[fast], prefix.name_len[fast])
    slow = np.flatnonzero(~fast)
    if len(slow):
        numbers = slow + 1  # numbered from 1 in the chunk: counts do not depend on them
        rest = (code, pid, ids, names, ended, returned, error, duration)
        _merge_slow(data, starts, ends, slow, numbers, *rest)
    return _Lean(code, pid, ids, names, ended, returned, error, duration)


def _ascii(data: bytes, raw: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The chunk with bytes above 127 replaced (byte lanes then never carry), and which lines
    hold bytes the reference treats apart (non-ASCII, ESC colour codes, '\\r')."""
    if data.isascii() and b"\x1b" not in data and b"\r" not in data:
        return raw, np.zeros(len(starts), bool)
    bad = (raw > 127) | (raw == 27) | (raw == 13)
    unsafe = np.add.reduceat(bad.astype(np.int32), starts) > 0 if len(starts) else bad[:0]
    return np.where(raw > 127, np.uint8(1), raw), unsafe


def _name_ids(window: _Windows, data: bytes, name_at: np.ndarray, name_len: np.ndarray):
    """Ids of the names at ``name_at`` (``name_len`` bytes, at most 31) and the list of names:
    each name hashed from its bytes, and every row checked against its hash's first row, so
    that equal ids are equal names (a collision sends the log to the reference)."""
    words = []
    key = np.zeros(len(name_at), np.uint64)
    for k in range(_NAME_MAX // 8):
        kept = _LOW_BYTES[np.clip(name_len - 8 * k, 0, 8)]
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


# _LOW_BYTES[n]: a mask of the n lowest bytes of a word.
_LOW_BYTES = np.array([(1 << 8 * n) - 1 for n in range(9)], np.uint64)


@dataclass(frozen=True, slots=True)
class _Tail:
    """Where the result of each line lies (absolute offsets; meaningful where ``ended``):
    ``close`` the ')' of the arguments, the result ``data[result:stop]``, its number
    ``data[result:digits_end]``, an errno name ``data[errno:opener - 1]`` and text
    ``data[opener + 1:stop - 1]``; the result's shape, and the -T duration (NaN: none)."""

    ended: np.ndarray
    error: np.ndarray  # '-1 ERRNO (text)' or '? ERESTART* (text)'
    minus_one: np.ndarray  # the error is '-1 ...'
    question: np.ndarray  # '?': did not return
    hexadecimal: np.ndarray
    number: np.ndarray  # -?DIGITS, alone or before a '<path>'
    close: np.ndarray
    result: np.ndarray
    stop: np.ndarray
    digits_end: np.ndarray
    errno: np.ndarray
    opener: np.ndarray
    duration: np.ndarray

    @property
    def returned(self) -> np.ndarray:
        return self.ended & ~self.question


def _results(window: _Windows, data: bytes, clean: np.ndarray, starts, ends, candidates) -> _Tail:
    """Which ``candidates`` end in a result of the language of the result language, checked by byte
    positions: the last '=' of the line, ' ' on both sides, spaces back to a ')', then one
    of '?', 0xHEX, -?DIGITS, -?DIGITS<path>, (-1|?) ERRNO (text), and the optional duration.
    A line this check does not vouch for (text or path holding one of ``<>\\()"=``, more than
    40 spaces) goes to ``parse_line``."""
    count = len(starts)
    duration, duration_len = _durations(window, starts, ends, candidates)
    rows = np.flatnonzero(candidates)
    line_start = starts[rows]
    stop = ends[rows] - duration_len[rows]  # the result is clean[s:stop]
    equals = np.flatnonzero(clean == 61)
    # '<>\\()"=', the bytes a path may not hold (bytes.translate: one C pass, no index array).
    marks = np.flatnonzero(np.frombuffer(data.translate(_MARKS), np.bool_))
    q = equals[np.maximum(np.searchsorted(equals, stop) - 1, 0)] if len(equals) else stop
    at_q = np.searchsorted(marks, q)  # marks[at_q] == q
    p = marks[np.maximum(at_q - 1, 0)] if len(marks) else q
    gap = q - p - 1
    # (q >= 40: the window of spaces below stays inside the chunk.)
    ok = (q < stop) & (p >= line_start) & (gap >= 1) & (gap <= 40) & (q >= 40)
    ok &= (clean[p] == 41) & (clean[np.minimum(q + 1, len(clean) - 1)] == 32)
    ok &= clean[q - 1] == 32
    padded = np.flatnonzero(ok & (gap > 1))  # ')' then several spaces: '...)      = 0'
    spaces = window(q[padded] - 40, 40) == 32
    ok[padded] &= np.all(spaces | (np.arange(40) < 40 - gap[padded, None]), axis=1)
    s = q + 2
    size = stop - s
    head = window(s, 3)
    last = clean[np.maximum(stop - 1, 0)]
    # The mark before the last byte of the result (a path's '<' or a text's '(').
    previous = marks[np.maximum(np.searchsorted(marks, stop - 1) - 1, 0)] if len(marks) else s
    question = (size == 1) & (head[:, 0] == 63)
    # -?DIGITS, then the end or a '<path>'.
    negative = head[:, 0] == 45
    digit_at = s + negative
    digit_run = _run(window(digit_at, 24), 48, 57)
    after_digits = digit_at + digit_run
    number = (digit_run >= 1) & (after_digits == stop)
    path = (
        (digit_run >= 1)
        & (clean[np.minimum(after_digits, len(clean) - 1)] == 60)
        & (last == 62)
        & (after_digits < stop - 1)
        & (previous == after_digits)
    )
    hexadecimal = (head[:, 0] == 48) & (head[:, 1] == 120)
    hex_run = _run_at(window, s + 2, 24, hexadecimal, 48, 57, 97, 102, 65, 70)
    hexadecimal &= (hex_run >= 1) & (s + 2 + hex_run == stop)
    # (-1|?) ERRNO (text)
    minus_one = (head[:, 0] == 45) & (head[:, 1] == 49) & (head[:, 2] == 32)
    interrupted = (head[:, 0] == 63) & (head[:, 1] == 32)
    name_at = np.where(minus_one, s + 3, s + 2)
    failed = (minus_one | interrupted) & (clean[np.minimum(name_at, len(clean) - 1)] == 69)
    errno_run = _run_at(window, name_at + 1, 25, failed, 65, 90, 48, 57, 95, 95)
    opener = name_at + 1 + errno_run + 1  # the '(' of the text
    failed &= (
        (errno_run >= 1)
        & (clean[np.minimum(opener - 1, len(clean) - 1)] == 32)
        & (clean[np.minimum(opener, len(clean) - 1)] == 40)
        & (last == 41)
        & (opener < stop - 1)
        & (previous == opener)
    )
    ok &= question | number | path | hexadecimal | failed
    duration[rows[~ok]] = np.nan
    duration[~candidates] = np.nan

    def spread(values: np.ndarray) -> np.ndarray:
        full = np.zeros(count, values.dtype)
        full[rows] = values if values.dtype != bool else values & ok
        return full

    return _Tail(
        ended=spread(ok),
        error=spread(failed),
        minus_one=spread(failed & minus_one),
        question=spread(question),
        hexadecimal=spread(hexadecimal),
        number=spread(number | path),
        close=spread(p),
        result=spread(s),
        stop=spread(stop),
        digits_end=spread(after_digits),
        errno=spread(name_at),
        opener=spread(opener),
        duration=duration,
    )


# bytes.translate table: 1 for the bytes a path after a result may not hold ('<>\\()"=').
_MARKS = bytes(1 if byte in b'<>\\()"=' else 0 for byte in range(256))


def _run_at(window: _Windows, begin: np.ndarray, width: int, mask: np.ndarray, *ranges: int):
    """``_run`` of the ``width`` bytes at ``begin`` where ``mask``, else 0."""
    runs = np.zeros(len(begin), np.int64)
    rows = np.flatnonzero(mask)
    runs[rows] = _run(window(begin[rows], width), *ranges)
    return runs


def _run(window: np.ndarray, *ranges: int) -> np.ndarray:
    """How many leading bytes of each row are in the (low, high) ``ranges`` (all of them:
    the width, which the callers treat as too long)."""
    inside = np.zeros(window.shape, bool)
    for low, high in zip(ranges[::2], ranges[1::2], strict=True):
        inside |= (window >= low) & (window <= high)
    return np.where(inside.all(axis=1), window.shape[1], np.argmin(inside, axis=1))


def _merge_slow(
    data, starts, ends, slow, numbers, code, pid, ids, names, ended, returned, error, duration
):
    """Put the reference's reading (``parse_line``) of the ``slow`` lines, numbered
    ``numbers``, into the arrays of a ``_Lean``."""
    index = {name: i for i, name in enumerate(names)}
    for at, number in zip(slow.tolist(), numbers.tolist(), strict=True):
        text = data[starts[at] : ends[at]].decode("utf-8", "surrogateescape")
        row = _record_row(parse_line(text, number), number)
        code[at] = row["code"]
        pid[at] = -1 if row.get("pid") is None else row["pid"]
        name = row.get("name")
        if name is not None:
            if name not in index:
                index[name] = len(names)
                names.append(name)
            ids[at] = index[name]
        ended[at] = row["code"] in (_WHOLE, _RESUMED)
        returned[at] = ended[at] and bool(row.get("returned"))
        error[at] = returned[at] and row.get("errno") is not None
        duration[at] = np.nan if row.get("duration") is None else row["duration"]


def _durations(
    window: _Windows, starts: np.ndarray, ends: np.ndarray, ended: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The -T duration of each line that ``ended`` (NaN where none), and the length of its
    ' <S.uuuuuu>' text (0 where none). Only 1 to 6 digits of seconds and exactly 6 of
    microseconds are read here, as the integer n of microseconds: n / 10**6 is correctly
    rounded, so it equals float('S.uuuuuu'). Other shapes fail the result language and fall back."""
    count = len(starts)
    duration = np.full(count, np.nan)
    duration_len = np.zeros(count, np.int64)
    rows = np.flatnonzero(ended & (ends - starts >= 16))
    fraction = window.words(ends[rows] - 8)  # '.uuuuuu>'
    seconds = window.words(ends[rows] - 16)  # '?? <SSSS' or ' <SSSSSS': right-aligned digits
    # The highest byte of ``seconds`` that is no digit: the '<' before them.
    other = ~_lanes(seconds, 48, 57) & _HIGH
    _, exponent = np.frexp(other.astype(np.float64))  # 2**(8 * byte + 7): 8 * byte + 8
    opener = (exponent.astype(np.int64) - 8) >> 3
    shaped = (
        ((fraction & 0xFF) == 46)
        & ((fraction >> 56) == 62)
        & ((_lanes(fraction, 48, 57) & _FRACTION_DIGITS) == _FRACTION_DIGITS)
        & (opener >= 1)
        & (opener <= 6)
        & (((seconds >> (8 * opener.astype(np.uint64))) & 0xFF) == 60)
        & (((seconds >> (8 * (opener.astype(np.uint64) - 1))) & 0xFF) == 32)
    )
    # Bytes up to the '<' become '0', then both words are read as 8 decimal digits.
    zeros = _LOW_BYTES[np.clip(opener + 1, 0, 8)]
    whole_seconds = _eight_digits((seconds & ~zeros) | (_ZEROS & zeros))
    micros = _eight_digits((fraction & _FRACTION_DIGITS_BYTES) | (_ZEROS & ~_FRACTION_DIGITS_BYTES))
    timed = rows[shaped]
    duration[timed] = (whole_seconds[shaped] * 1_000_000 + micros[shaped] // 10) / 1e6
    duration_len[timed] = 17 - opener[shaped]
    return duration, duration_len


def _eight_digits(words: np.ndarray) -> np.ndarray:
    """The number written by 8 ASCII digits (the first one in the lowest byte)."""
    words = words & np.uint64(0x0F0F_0F0F_0F0F_0F0F)
    words = (words * np.uint64(10 * 256 + 1)) >> np.uint64(8)
    words = ((words & np.uint64(0x00FF_00FF_00FF_00FF)) * np.uint64(100 * 65536 + 1)) >> np.uint64(
        16
    )
    words = ((words & np.uint64(0x0000_FFFF_0000_FFFF)) * np.uint64(10000 * (1 << 32) + 1)) >> (
        np.uint64(32)
    )
    return words.astype(np.int64)


_ZEROS = np.uint64(0x3030_3030_3030_3030)
_FRACTION_DIGITS = np.uint64(0x0080_8080_8080_8000)  # the lanes of 'uuuuuu' in '.uuuuuu>'
_FRACTION_DIGITS_BYTES = np.uint64(0x00FF_FFFF_FFFF_FF00)


# ---------------------------------------------------------------------------------------------
# Chunks on all cores


def _chunks(path: Path, size: int) -> Iterator[_Chunk]:
    for start, stop in _chunk_bounds(path, size):
        yield _Chunk(start, stop)


def _table_of(path: str, chunk: _Chunk) -> tuple[pa.Table, int, int]:
    """The events of one chunk, with the split calls inside it joined, and its counts of lines
    and of unparsed lines."""
    table = _parse_chunk(_read(Path(path), chunk.start, chunk.stop))
    return (*_join_inside(table), table.num_rows)


def _join_inside(table: pa.Table) -> tuple[pa.Table, int]:
    """Joins the split calls whose two halves lie in this chunk (in the workers: most pairs do),
    drops unparsed and skipped lines; returns the table with an ``end_line`` column, and the
    unparsed count. The parent's ``_arrange`` joins the pairs that cross chunk borders and
    yields the calls that did not return."""
    code = table["code"].to_numpy()
    pid_column = _one(table["pid"])
    pid = np.asarray(pid_column.fill_null(-1), np.int64)
    ids = np.asarray(_one(table["name"]).dictionary_encode().indices.fill_null(-1), np.int64)
    state = np.flatnonzero(
        ((code == _UNFINISHED) | (code == _RESUMED) | (code == _EXIT))
        & np.asarray(pid_column.is_valid())
    )
    order, same, joined = _pairs(code[state], pid[state], ids[state])
    rows = state[order]
    at = np.flatnonzero(joined)  # the entry half at rows[at], its resumed half at rows[at + 1]
    entry, exit_half = rows[at], rows[at + 1]
    # An edge: no earlier state row of its pid here, or one left unfinished (yielded at the
    # entry's line by the parent).
    before = at - 1
    has_before = (at > 0) & same[np.maximum(before, 0)]
    edge = ~has_before | (code[rows[np.maximum(before, 0)]] == _UNFINISHED)
    line = table["line"].to_numpy()
    new_line = line.copy()
    new_line[exit_half] = line[entry]
    new_code = code.copy()
    new_code[exit_half] = np.where(edge, _JOINED_EDGE, _JOINED)
    columns = {name: _one(table[name]) for name in table.column_names}
    columns["line"] = pa.array(new_line)
    columns["code"] = pa.array(new_code)
    columns["end_line"] = pa.array(line)
    if len(at):
        partner = np.full(len(code), -1, np.int64)
        partner[exit_half] = entry
        has = partner >= 0
        first = np.where(has, partner, np.arange(len(code)))
        for name in ("time", "relative"):
            columns[name] = columns[name].take(pa.array(first))
        head = columns["args"].take(pa.array(partner, mask=~has))
        columns["args"] = pc.binary_join_element_wise(head.fill_null(""), columns["args"], "")
    keep = code < _UNPARSED
    keep[entry] = False
    unparsed = int((code == _UNPARSED).sum())
    return pa.table(columns).filter(pa.array(keep)), unparsed


def _map_chunks(
    path: Path, work, workers: int | None, chunk_bytes: int, *extra
) -> Iterator[object]:
    """``work(path, chunk, *extra)`` of every chunk, in order, on ``workers`` processes
    (None: all cores; small logs in this process). At most two chunks per worker are in flight,
    so memory does not grow with the log."""
    chunks = _chunks(path, chunk_bytes)
    if workers is None:
        workers = (os.cpu_count() or 1) if path.stat().st_size >= _POOL_MIN_BYTES else 1
    if workers <= 1:
        for chunk in chunks:
            yield work(str(path), chunk, *extra)
        return
    # fork: workers start at once with the parent's modules (spawn and forkserver re-import
    # the package, seconds of startup, and re-run unguarded __main__ scripts). The threads
    # already running (OpenBLAS, Arrow) register at-fork handlers; Python 3.12+ warns about
    # them all the same, so the warning is silenced while the workers are started.
    with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
        pending: deque[Future] = deque()
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", ".*fork", DeprecationWarning)
            for chunk in itertools.islice(chunks, 2 * workers):
                pending.append(pool.submit(work, str(path), chunk, *extra))
        for chunk in chunks:
            yield pending.popleft().result()
            pending.append(pool.submit(work, str(path), chunk, *extra))
        while pending:
            yield pending.popleft().result()


# ---------------------------------------------------------------------------------------------
# Profile


@dataclass(frozen=True, slots=True)
class _ChunkCounts:
    """What one chunk adds to a profile; ``first``/``last`` are the state rows (unfinished,
    resumed, exit) of each pid at the chunk's edges, joined across chunks by ``profile_file``."""

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


def _pairs(code: np.ndarray, pid: np.ndarray, name_ids: np.ndarray):
    """Adjacent state rows of each pid: (sorted order, same-pid mask, joined mask).

    Raises FastPathUnsupported when a resumed half follows its pid's unfinished call of another
    name (the reference then keeps the pending call: not reproduced here)."""
    # pid and position in one int64 key: a plain sort of unique keys is a stable sort by pid.
    order = np.sort((pid << 32) | np.arange(len(pid))) & 0xFFFF_FFFF
    spid, scode, sname = pid[order], code[order], name_ids[order]
    same = spid[1:] == spid[:-1]
    pair = same & (scode[:-1] == _UNFINISHED) & (scode[1:] == _RESUMED)
    joined = pair & (sname[:-1] == sname[1:])
    if (pair & ~joined).any():
        raise FastPathUnsupported("a resumed call of another name than its pid's pending call")
    return order, same, joined


def _bincounts(ids: np.ndarray, names: list[str], mask: np.ndarray) -> dict[str, int]:
    """How many rows of each name ``mask`` selects."""
    counts = np.bincount(ids[mask], minlength=len(names))
    return {names[i]: int(counts[i]) for i in np.flatnonzero(counts).tolist()}


def _chunk_counts(path: str, chunk: _Chunk) -> _ChunkCounts:
    lean = _lean_lines(_read(Path(path), chunk.start, chunk.stop))
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
        ((code == _UNFINISHED) | (code == _RESUMED) | (code == _EXIT)) & (lean.pid >= 0)
    )
    s_code, s_pid, s_ids = code[rows], lean.pid[rows], ids[rows]
    order, same, joined = _pairs(s_code, s_pid, s_ids)
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
        events=int(np.isin(code, (_WHOLE, _RESUMED, _SIGNAL, _EXIT, _MESSAGE)).sum()),
        unparsed=int((code == _UNPARSED).sum()),
        calls=_bincounts(ids, names, returned),
        errors=_bincounts(ids, names, lean.error),
        unreturned=_bincounts(ids, names, lean.ended & ~returned),
        unfinished=_bincounts(ids, names, code == _UNFINISHED),
        joined=_bincounts(joined_ids, names, np.ones(len(joined_ids), bool)),
        durations=durations,
        first=first,
        last=last,
    )


def _add(total: dict[str, int], more: dict[str, int], sign: int = 1) -> None:
    for key, value in more.items():
        total[key] = total.get(key, 0) + sign * value


def profile_file(
    path: str | os.PathLike[str],
    *,
    workers: int | None = None,
    chunk_bytes: int = PROFILE_CHUNK_BYTES,
    fallback: bool = True,
) -> Profile:
    """The ``Profile`` of a log, equal to ``count_events(iter_trace(path))``, computed in bulk.

    ``workers`` is the number of processes (default: all cores for logs of 16 MB and more, this
    process for smaller ones). Memory stays bounded by a few chunks per worker, whatever the
    size of the log; ``chunk_bytes`` sets the size of the pieces the log is cut into. Other
    sources than a plain file (compressed, ``-``, ``-ff`` sets) are profiled by the reference
    parser; so are plain logs with the rare states listed in the module docstring, unless
    ``fallback=False``: then they raise FastPathUnsupported. Raises InputError for missing or
    unreadable sources.
    """
    plain = _plain_path(path)
    if plain is not None:
        try:
            return _profile_plain(plain, workers, chunk_bytes)
        except FastPathUnsupported:
            if not fallback:
                raise
    from syscall_parse.counts import count_events
    from syscall_parse.inputs import iter_trace

    return count_events(iter_trace(path))


def _profile_plain(path: Path, workers: int | None, chunk_bytes: int) -> Profile:
    calls: dict[str, int] = {}
    errors: dict[str, int] = {}
    unreturned: dict[str, int] = {}
    unfinished: dict[str, int] = {}
    joined: dict[str, int] = {}
    seconds: dict[str, float] = {}
    pending: dict[int, str | None] = {}
    events = unparsed = 0
    for counts in _map_chunks(path, _chunk_counts, workers, chunk_bytes):
        assert isinstance(counts, _ChunkCounts)
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
            if pid in pending and code == _RESUMED:
                if pending[pid] != name:
                    raise FastPathUnsupported("a resumed call of another name across chunks")
                joined[name] = joined.get(name, 0) + 1  # type: ignore[index]
        for pid, (code, name) in counts.last.items():
            if code == _UNFINISHED:
                pending[pid] = name
            else:
                pending.pop(pid, None)
    _add(unreturned, unfinished)
    _add(unreturned, joined, -1)
    events += sum(unfinished.values()) - sum(joined.values())
    return Profile.from_counts(
        calls, errors, seconds, events=events, unparsed=unparsed, unreturned=unreturned
    )


# ---------------------------------------------------------------------------------------------
# DataFrame


def _frame_table(path: Path, workers: int | None, chunk_bytes: int) -> tuple[pa.Table, int]:
    """All line records of the log (unparsed and skipped lines removed), and the unparsed count."""
    tables = []
    before = unparsed = 0
    for table, unparsed_lines, lines in _map_chunks(path, _table_of, workers, chunk_bytes):
        for name in ("line", "end_line"):
            at = table.column_names.index(name)
            table = table.set_column(at, name, pc.add(table[name], before))
        tables.append(table)
        before += lines
        unparsed += unparsed_lines
    if not tables:
        return _join_inside(_parse_chunk(b""))
    return pa.concat_tables(tables), unparsed


def _arrange(table: pa.Table) -> pa.Table:
    """Join the split calls across chunk borders and order rows as ``stream.iter_events``
    yields them (the workers joined those inside a chunk: ``_join_inside``)."""
    # No combine_chunks of the whole table: the takes below copy each column once anyway.
    count = table.num_rows
    code = table["code"].to_numpy()
    line = table["line"].to_numpy()  # the first line: where a joined call's entry was
    end_line = table["end_line"].to_numpy()  # where each event is yielded
    pid_column = _one(table["pid"])
    pid = np.asarray(pid_column.fill_null(-1), np.int64)
    name = _one(table["name"])
    ids = np.asarray(name.dictionary_encode().indices.fill_null(-1), np.int64)
    state = np.flatnonzero(
        ((code == _UNFINISHED) | (code == _RESUMED) | (code == _EXIT) | (code == _JOINED_EDGE))
        & np.asarray(pid_column.is_valid())
    )
    order, same, joined = _pairs(code[state], pid[state], ids[state])
    rows = state[order]  # state rows grouped by pid, in line order within a pid
    entry = rows[:-1][joined]  # unfinished halves joined with ...
    exit_half = rows[1:][joined]  # ... the resumed half that follows them
    is_unfinished = code[rows] == _UNFINISHED
    # An unfinished call not joined is yielded, as a call that did not return, just before
    # its pid's next unfinished call or exit, or at the end in line order.
    followed = np.zeros(len(rows), bool)
    followed[:-1] = same
    lone = is_unfinished.copy()
    lone[:-1] &= ~joined
    lone_at = np.flatnonzero(lone)
    trigger = np.where(
        followed[lone_at],
        line[rows[np.minimum(lone_at + 1, len(rows) - 1)]],
        np.iinfo(np.int64).max,
    )
    lone_rows = rows[lone_at]

    keep = np.ones(count, bool)
    keep[code == _UNFINISHED] = False
    kept = np.flatnonzero(keep)
    # Sort keys: (yield line, 0 for an unreturned call yielded before that line's event, 1
    # otherwise, then the call's own line for the calls still pending at the end).
    key_line = np.concatenate((end_line[kept], trigger))
    key_sub = np.concatenate((np.ones(len(kept), np.int8), np.zeros(len(lone_rows), np.int8)))
    key_own = np.concatenate((end_line[kept], line[lone_rows]))
    source = np.concatenate((kept, lone_rows))
    final = np.lexsort((key_own, key_sub, key_line))
    source = source[final]
    is_lone = np.concatenate((np.zeros(len(kept), bool), np.ones(len(lone_rows), bool)))[final]

    # Joined calls: the entry's first line, time and relative time, and leading arguments.
    # Few pairs cross chunk borders: their rows are patched in numpy, and their arguments
    # taken from one more chunk, so that each column is copied once (a replace_with_mask of
    # the strings would copy them again).
    partner = np.full(count, -1, np.int64)
    partner[exit_half] = entry
    taken_partner = partner[source]
    at = np.flatnonzero(taken_partner >= 0)
    numbers = ("line", "time", "relative")
    taken = pa.array(source)
    out = table.drop_columns([*numbers, "args"]).take(taken)
    columns = {name: _one(out[name]) for name in out.column_names}
    for name in numbers:
        values = np.asarray(table[name].to_numpy(), np.int64 if name == "line" else np.float64)
        patched = values[source]
        patched[at] = values[taken_partner[at]]
        columns[name] = pa.array(patched)
    args = table["args"]
    if len(at):
        head = _one(args.take(pa.array(taken_partner[at])))
        tail = _one(args.take(pa.array(source[at])))
        both = pc.binary_join_element_wise(head.fill_null(""), tail, "").cast(args.type)
        args = pa.chunked_array([*args.chunks, both], args.type)
        taken = source.copy()
        taken[at] = count + np.arange(len(at))
        taken = pa.array(taken)
    columns["args"] = _one(args.take(taken))
    if is_lone.any():
        lone_mask = pa.array(is_lone)
        columns["returned"] = pc.if_else(lone_mask, False, columns["returned"])
        columns["code"] = pc.if_else(lone_mask, pa.scalar(_WHOLE, pa.int8()), columns["code"])
    return pa.table(columns)


def _one(column: pa.ChunkedArray) -> pa.Array:
    """A column as one array, copied only if it has several chunks (combine_chunks always
    copies)."""
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


_KINDS = {_WHOLE: "syscall", _RESUMED: "syscall", _UNFINISHED: "syscall", _JOINED: "syscall",
          _JOINED_EDGE: "syscall", _SIGNAL: "signal", _EXIT: "exit",
          _MESSAGE: "message"}  # fmt: skip


def _categorical(array: pa.Array) -> pd.Categorical:
    """Categories sorted, as an object index: what ``frame.events_to_frame`` builds."""
    import pandas as pd

    encoded = array.dictionary_encode()
    dictionary = encoded.dictionary.to_pylist()
    order = sorted(range(len(dictionary)), key=dictionary.__getitem__)
    remap = np.empty(len(dictionary), np.int64)
    remap[order] = np.arange(len(dictionary))
    codes = np.asarray(encoded.indices.fill_null(-1), np.int64)
    codes = np.where(codes >= 0, remap[np.maximum(codes, 0)] if len(dictionary) else -1, -1)
    categories = pd.Index([dictionary[i] for i in order], dtype=object)
    return pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(categories))


def _kinds(code: np.ndarray) -> pd.Categorical:
    """The kind of each row from its line code, as ``_categorical`` of the kind names would
    give it (the kinds present, sorted), without a column of strings."""
    import pandas as pd

    present = sorted({_KINDS[c] for c in np.unique(code).tolist()})
    lookup = np.full(max(_KINDS) + 1, -1, np.int8)
    for c, kind in _KINDS.items():
        if kind in present:
            lookup[c] = present.index(kind)
    categories = pd.Index(present, dtype=object)
    return pd.Categorical.from_codes(lookup[code], dtype=pd.CategoricalDtype(categories))


def _nullable(array: pa.Array, dtype: str):
    import pandas as pd

    mask = np.asarray(array.is_null())
    if dtype == "Int64":
        return pd.arrays.IntegerArray(np.asarray(array.fill_null(0), np.int64), mask)
    return pd.arrays.BooleanArray(np.asarray(array.fill_null(False), bool), mask)


def _to_frame(table: pa.Table, unparsed: int) -> pd.DataFrame:
    # pandas only here: profiles never import it (a third of the memory of a profile run).
    import pandas as pd

    code = table["code"].to_numpy()
    signal = _one(table["signal"])
    syscall_rows = np.isin(code, (_WHOLE, _RESUMED, _UNFINISHED, _JOINED, _JOINED_EDGE))
    string = pd.StringDtype()
    frame = pd.DataFrame(
        {
            "line": table["line"].to_numpy(),
            "end_line": table["end_line"].to_numpy(),
            "pid": _nullable(_one(table["pid"]), "Int64"),
            "kind": _kinds(code),
            "time": np.asarray(table["time"].to_numpy(zero_copy_only=False), np.float64),
            "relative": np.asarray(table["relative"].to_numpy(zero_copy_only=False), np.float64),
            "syscall": _categorical(pc.if_else(pa.array(syscall_rows), _one(table["name"]), None)),
            "args": _one(table["args"]).to_pandas(types_mapper=lambda _: string),
            "ret": _one(table["ret"]).to_pandas(types_mapper=lambda _: string),
            "retval": _nullable(_one(table["retval"]), "Int64"),
            "errno": _categorical(_one(table["errno"])),
            "errno_text": _one(table["errno_text"]).to_pandas(types_mapper=lambda _: string),
            "duration": np.asarray(table["duration"].to_numpy(zero_copy_only=False), np.float64),
            "returned": _nullable(_one(table["returned"]), "boolean"),
            "signal": _categorical(signal),
            "status": _nullable(_one(table["status"]), "Int64"),
        },
        columns=list(COLUMNS),
    )
    frame.attrs["unparsed_lines"] = unparsed
    return frame


def read_trace_fast(
    path: str | os.PathLike[str],
    *,
    workers: int | None = None,
    chunk_bytes: int = CHUNK_BYTES,
    fallback: bool = True,
) -> pd.DataFrame:
    """The frame of ``frame.read_trace(path)`` (same rows, values, dtypes and
    ``attrs["unparsed_lines"]``), built with vectorized operations on ``workers`` processes
    (default: all cores for logs of 16 MB and more). Sources the fast path does not read
    (compressed, ``-``, ``-ff`` sets) go through ``read_trace``; so do plain logs with the rare
    states listed in the module docstring, unless ``fallback=False``: then they raise
    FastPathUnsupported. ``chunk_bytes`` sets the size of the pieces the log is cut into.
    Raises InputError for missing or unreadable sources.
    """
    _load_arrow()
    plain = _plain_path(path)
    if plain is not None:
        try:
            table, unparsed = _frame_table(plain, workers, chunk_bytes)
            return _to_frame(_arrange(table), unparsed)
        except FastPathUnsupported:
            if not fallback:
                raise
    from syscall_parse.table import read_trace

    return read_trace(path)

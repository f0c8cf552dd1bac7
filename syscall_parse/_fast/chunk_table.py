"""One chunk of a log as an Arrow table of line records (the frame path): its lines classified
(``scan.scan_lines``), their text columns cut out of the chunk as Arrow strings in one
vectorized copy each, and the reference's rows for the lines the checks do not vouch for."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from syscall_parse._fast import arrow, codes
from syscall_parse._fast.kernels import Windows, hex_numbers
from syscall_parse._fast.scan import UNFINISHED_END, record_row, scan_lines
from syscall_parse.lines import parse_line, return_value
from syscall_parse.schema import ARROW_TYPES, CATEGORICAL, COLUMNS

try:
    from syscall_parse._fast._texts import cut
except ImportError:  # not built (no C compiler): texts cut as string views
    cut = None

__all__ = ["FIELDS", "chunk_table"]

FIELDS: tuple[str, ...] = (
    "line",
    "code",
    *(name for name in COLUMNS if name not in ("line", "end_line", "kind")),
)
"""The columns of a chunk table: the schema's but ``end_line`` (added by the join) and
``kind`` (told by ``code``)."""

_TYPES = {**ARROW_TYPES, "code": "int8"}


def _field_type(field: str) -> pa.DataType:
    return pa.type_for_alias(_TYPES[field])


# _KEEP[half][n]: the bytes of a view's half (its 16 bytes as two words: the length, then
# 12 inline bytes) that a string of n inline bytes keeps.
_KEEP = np.array(
    [
        [sum(0xFF << 8 * i for i in range(8) if i < 4 or i - 4 < n) for n in range(13)],
        [sum(0xFF << 8 * i for i in range(8) if i + 4 < n) for n in range(13)],
    ],
    np.uint64,
)


def _texts(
    data_buf: pa.Buffer,
    begin: np.ndarray,
    lengths: np.ndarray,
    window: Windows,
    valid: np.ndarray,
) -> pa.Array:
    """``data[begin:begin + length]`` for each row, null where not ``valid``: cut by the
    compiled ``_texts.cut``, else as string views. ``window``: the buffer's ``Windows``."""
    if cut is None:
        return _views(data_buf, begin, lengths, window, valid)
    offsets, values = cut(np.frombuffer(data_buf, np.uint8), begin, lengths, valid.view(np.uint8))
    nulls = len(valid) - int(np.count_nonzero(valid))
    validity = pa.py_buffer(np.packbits(valid, bitorder="little")) if nulls else None
    buffers = [validity, pa.py_buffer(offsets), pa.py_buffer(values)]
    return pa.Array.from_buffers(pa.string(), len(begin), buffers, null_count=nulls)


def _views(
    data_buf: pa.Buffer,
    begin: np.ndarray,
    lengths: np.ndarray,
    window: Windows,
    valid: np.ndarray,
) -> pa.Array:
    """``data[begin:begin + length]`` for each row, as one vectorized copy (a string_view
    array over the buffer, cast to plain strings); null where not ``valid``."""
    count = len(begin)
    lengths = lengths.astype(np.int32)
    views = np.empty((count, 16), np.uint8)
    views[:, 4:16] = window(begin, 12)
    halves = views.view(np.uint64)  # the inline bytes zeroed past each length, 8 at a time
    inline = np.minimum(lengths, 12)
    halves[:, 0] &= _KEEP[0][inline]
    halves[:, 1] &= _KEEP[1][inline]
    words = views.view(np.int32)
    words[:, 0] = lengths
    # Longer strings: 4-byte prefix (already in place), buffer 0, offset into it.
    long = lengths > 12
    np.copyto(words[:, 2], 0, where=long)
    np.copyto(words[:, 3], begin, casting="unsafe", where=long)  # offsets of a chunk: < 2**31
    validity = pa.py_buffer(np.packbits(valid, bitorder="little"))
    array = pa.Array.from_buffers(
        pa.string_view(), count, [validity, pa.py_buffer(views), data_buf]
    )
    return array.cast(pa.string())


def _cast_texts(data: pa.Buffer, begin, lengths, mask, kind, window: Windows) -> pa.Array:
    """The numbers written at ``data[begin:begin + length]`` where ``mask``, else null."""
    text = _texts(data, begin, np.where(mask, lengths, 0), window, mask)
    return text if kind == pa.string() else text.cast(kind)


def _column(field: str, values: object) -> pa.Array:
    """A chunk table's column ``field`` of ``values`` (an array, or numpy values), the
    categorical ones dictionary-encoded here, in the workers, rather than by the parent."""
    kind = _field_type(field)
    if isinstance(values, pa.Array | pa.ChunkedArray):
        column = values.cast(kind)
    else:
        column = arrow.array(np.asarray(values, arrow.dtype(kind)))
    return column.dictionary_encode() if field in CATEGORICAL else column


def chunk_table(data: bytes) -> pa.Table:
    """The line records of one chunk (one row per line, numbered from 1), in line order
    (``FIELDS``)."""
    if not data:
        return pa.table({f: _column(f, pa.nulls(0, _field_type(f))) for f in FIELDS})
    scan = scan_lines(data)
    shape, tail, code, fast, window = scan.prefix, scan.tail, scan.code, scan.fast, scan.window
    starts, clean = scan.starts, scan.clean
    count = len(starts)
    numbers = np.arange(1, count + 1, dtype=np.int64)
    data_buf = pa.py_buffer(clean)
    head = shape.head_end()
    unfinished = code == codes.UNFINISHED
    ended = (code == codes.WHOLE) | (code == codes.RESUMED)
    has_pid = fast & (shape.pid_len > 0)
    pid = np.zeros(count, np.int64)
    pid[has_pid] = shape.pid[has_pid]
    calls, notices = scan.calls, scan.notices
    name = _texts(data_buf, shape.name_at, np.where(calls, shape.name_len, 0), window, calls)
    time, relative = np.where(fast, shape.time, np.nan), np.where(fast, shape.relative, np.nan)
    has_errno = tail.error & ended
    returned = tail.returned & ended

    def text(begin: np.ndarray, end: np.ndarray, mask: np.ndarray) -> pa.Array:
        """``data[begin:end]`` where ``mask``, else null."""
        return _cast_texts(data_buf, begin, end - begin, mask, pa.string(), window)

    result, stop = tail.result, tail.stop
    # The result: '-1'/'?' before an errno, else the whole value ('3</tmp/a b>' included).
    ret = text(result, np.where(has_errno, tail.errno - 1, stop), ended)
    # Values read by return_value: octal 0NNN (as the reference reads them), decimals of 19
    # characters or more, which may not fit an int64 before they wrap, and hexadecimals of more
    # than 16 digits; those of 16 digits or fewer are their 64 bits (``hex_numbers``).
    octal = ended & tail.number & ~has_errno & (clean[np.minimum(result, len(clean) - 1)] == 48)
    octal &= tail.digits_end - result >= 2
    decimal = ended & tail.number & ~has_errno & ~octal
    wide = decimal & (tail.digits_end - result >= 19)
    decimal &= ~wide
    hexadecimal = tail.hexadecimal & ended & ~has_errno
    hex_digits = stop - result - 2
    short_hex = np.flatnonzero(hexadecimal & (hex_digits <= 16))  # read here, the rest below
    special = np.flatnonzero((hexadecimal & (hex_digits > 16)) | octal | wide)
    retval = arrow.values(
        _cast_texts(data_buf, result, tail.digits_end - result, decimal, pa.int64(), window),
        fill=0,
    )
    retval_valid = decimal | (has_errno & tail.minus_one)
    retval = np.where(has_errno, -1, retval)
    retval[short_hex] = hex_numbers(window, stop[short_hex], hex_digits[short_hex])
    retval_valid[short_hex] = True
    if len(special):
        values = [return_value(token) for token in pc.take(ret, arrow.array(special)).to_pylist()]
        retval[special] = [0 if value is None else value for value in values]
        retval_valid[special] = [value is not None for value in values]
    arg_stop = np.where(unfinished, scan.ends + 1 - len(UNFINISHED_END), tail.close)
    arg_stop = np.where(calls, np.maximum(arg_stop, head), head)
    # A signal's info is its args; an exit has none.
    arg_start = np.where(notices.signal, notices.name_end + 1, head)
    arg_stop = np.where(notices.signal, scan.ends - 4, arg_stop)
    body = shape.body  # (of the exit and signal lines)
    columns: dict[str, object] = {
        "line": numbers,
        "code": code,
        "pid": arrow.array(pid, mask=~has_pid),
        "time": time,
        "relative": relative,
        "syscall": name,
        "args": text(arg_start, arg_stop, calls | notices.signal),
        "ret": ret,
        "retval": arrow.array(retval, mask=~retval_valid),
        "errno": text(tail.errno, tail.opener - 1, has_errno),
        "errno_text": text(tail.opener + 1, stop - 1, has_errno),
        "duration": np.where(ended, tail.duration, np.nan),
        "returned": arrow.array(returned, mask=~ended),
        "signal": text(body + 4, notices.name_end, notices.signal),
        "status": _cast_texts(
            data_buf, body + 16, notices.status_end - body - 16, notices.exited, pa.int64(), window
        ),
    }
    table = pa.table({f: _column(f, columns[f]) for f in FIELDS})
    slow = np.flatnonzero(~fast)
    if len(slow) == 0:
        return table
    # (From the original bytes: the cleaned array replaced non-ASCII bytes.)
    texts = [
        data[start : end + 1].decode("utf-8", "surrogateescape")
        for start, end in zip(starts[slow].tolist(), scan.ends[slow].tolist(), strict=True)
    ]
    rows = [record_row(parse_line(text, int(numbers[i])), int(numbers[i]))
            for i, text in zip(slow.tolist(), texts, strict=True)]  # fmt: skip
    extra = pa.table(
        {
            f: _column(f, arrow.from_python([row.get(f) for row in rows], _field_type(f)))
            for f in FIELDS
        }
    )
    # Each slow line's row replaced by the reference's: one take, no sort.
    source = np.arange(count)
    source[slow] = count + np.arange(len(slow))
    return pa.concat_tables([table, extra]).take(arrow.array(source))

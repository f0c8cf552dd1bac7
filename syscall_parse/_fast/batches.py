"""The frame path as a stream: chunk tables made by the workers (their split calls joined
inside), joined across chunk borders and ordered by the parent one window at a time, and
turned into record batches of the schema (``schema.arrow_schema``).

A window is one chunk's table after the unfinished calls held back from the windows before
(at most one per pid): ``join.arrange`` joins and orders it, and holds back again the
unfinished calls that nothing in it resumes or ends. So memory holds a few chunks, whatever
the length of the log, and the rows come out exactly as ``stream.iter_events`` yields them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from syscall_parse._fast import arrow, codes
from syscall_parse._fast.chunk_table import chunk_table
from syscall_parse._fast.chunks import Chunk, map_chunks, read_chunk
from syscall_parse._fast.join import arrange, join_inside
from syscall_parse.engine import FastPathUnsupported
from syscall_parse.events import Exit, Message, Signal, Syscall
from syscall_parse.schema import CATEGORICAL, KINDS, arrow_schema

__all__ = ["iter_batches", "record_batch"]


def _table_of(path: str, chunk: Chunk) -> tuple[pa.Table, int, int]:
    """The events of one chunk, with the split calls inside it joined, and its counts of
    unparsed lines and of lines."""
    table = chunk_table(read_chunk(Path(path), chunk))
    return (*join_inside(table), table.num_rows)


# The event type of the rows of each line code, and so the index of their kind in KINDS.
_TYPE_OF_CODE = {
    **dict.fromkeys((codes.WHOLE, codes.RESUMED, codes.JOINED, codes.JOINED_EDGE), Syscall),
    codes.SIGNAL: Signal,
    codes.EXIT: Exit,
    codes.MESSAGE: Message,
}
_KIND_NAMES = arrow.from_python(list(KINDS.values()), pa.string())
_KIND_OF_CODE = np.full(max(_TYPE_OF_CODE) + 1, -1, np.int32)
_KIND_OF_CODE[list(_TYPE_OF_CODE)] = [list(KINDS).index(t) for t in _TYPE_OF_CODE.values()]


def record_batch(table: pa.Table, schema: pa.Schema) -> pa.RecordBatch:
    """Arranged rows as a record batch of ``schema``: the kind told by the line code, the
    categorical columns dictionary-encoded, missing numbers null."""
    code = arrow.values(table["code"])
    kind = pa.DictionaryArray.from_arrays(arrow.array(_KIND_OF_CODE[code]), _KIND_NAMES)
    arrays = []
    for field in schema:
        if field.name == "kind":
            arrays.append(kind)
        elif field.name in CATEGORICAL:
            arrays.append(arrow.one(table[field.name]).dictionary_encode())
        elif field.type == pa.float64():  # NaN (no value: what the scan leaves) as null
            values = arrow.values(table[field.name], fill=np.nan)
            arrays.append(arrow.array(values, mask=np.isnan(values)))
        else:
            arrays.append(arrow.one(table[field.name]).cast(field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _pid_shown(table: pa.Table) -> set[bool]:
    """Whether the events of a chunk table show a pid (True), none (False), or both. The
    reference gives a line without one the pid of the only live process of the lines with
    one (``stream.iter_events``, for stderr traces): a log holding both is left to it."""
    code = arrow.values(table["code"])
    event = (code <= codes.EXIT) | (code == codes.JOINED) | (code == codes.JOINED_EDGE)
    shown = arrow.valid(table["pid"])[event]
    # (Not np.unique, which loads numpy.ma: 12 ms.)
    return {value for value, present in ((True, shown.any()), (False, not shown.all())) if present}


def iter_batches(
    path: Path, workers: int | None, chunk_bytes: int
) -> Iterator[tuple[pa.RecordBatch, int]]:
    """Record batches of the events of a plain log, in the order of ``stream.iter_events``,
    one per chunk (chunks of no event give none), each with the count of unparsed lines it
    covers. Raises FastPathUnsupported (``_fast``'s docstring) as soon as a chunk shows it."""
    schema = arrow_schema()
    held: pa.Table | None = None
    before = 0
    pid_shown: set[bool] = set()
    for table, unparsed, lines in map_chunks(path, _table_of, workers, chunk_bytes):
        pid_shown |= _pid_shown(table)
        if len(pid_shown) == 2:
            raise FastPathUnsupported("events with and without a pid in one log")
        for name in ("line", "end_line"):
            table = table.set_column(
                table.column_names.index(name),
                name,
                pc.add(table[name], arrow.scalar(before, pa.int64())),
            )
        before += lines
        window = table if held is None or not held.num_rows else pa.concat_tables([held, table])
        rows, held = arrange(window, hold=True)
        if rows.num_rows or unparsed:
            yield record_batch(rows, schema), unparsed
    if held is not None and held.num_rows:
        rows, _ = arrange(held)
        yield record_batch(rows, schema), 0

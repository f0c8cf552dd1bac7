"""Event tables written as they are read: record batches of the schema to CSV (``csv_form``)
in blocks and to Parquet in row groups, each block written on a second thread while the next
is read, each file appearing whole or not at all (``atomic.atomic_path``: a temporary name,
renamed when the last block is written; removed on any error or interrupt). Parquet keeps the
schema's Arrow types, categorical columns dictionary-encoded, in row groups of at least
``ROW_GROUP_ROWS`` rows.
"""

from __future__ import annotations

import itertools
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import pyarrow as pa

from syscall_parse.atomic import atomic_path
from syscall_parse.csv_form import csv_header, csv_lines
from syscall_parse.schema import ARROW_TYPES, CATEGORICAL, COLUMNS, arrow_schema

__all__ = ["IN_FLIGHT", "ROW_GROUP_ROWS", "write_csv_batches", "write_parquet_batches"]

ROW_GROUP_ROWS = 1 << 15
"""Rows per Parquet row group, at least (batches are gathered until they reach it). The parent
holds a few row groups at once (gathering, waiting, being encoded): at 64Ki rows its peak on
a 160 MB -ff set of threads was 241-269 MB, at 32Ki 214-232 MB (the goal: under 250 MB)."""

IN_FLIGHT = 2
"""Blocks read ahead of the one being written, at most."""

T = TypeVar("T")


def _write_behind(blocks: Iterable[T], write: Callable[[T], object]) -> int:
    """``write(block)`` of each block (batches or tables) on a second thread, in order, while
    this one reads the next (Arrow's kernels, encoders and the file's writes release the GIL);
    ``IN_FLIGHT`` blocks at most wait for it; the rows written. An error of the thread is
    raised here, as it was raised there."""
    rows = 0
    pending: deque[Future[object]] = deque()
    writer = ThreadPoolExecutor(1, thread_name_prefix="writer")
    try:
        for block in blocks:
            pending.append(writer.submit(write, block))
            rows += block.num_rows  # type: ignore[attr-defined]
            while len(pending) > IN_FLIGHT:
                pending.popleft().result()
        while pending:
            pending.popleft().result()
    finally:
        writer.shutdown(cancel_futures=True)
    return rows


def write_csv_batches(batches: Iterable[pa.RecordBatch], path: str | os.PathLike[str]) -> int:
    """Write record batches of the schema to ``path`` as CSV (``csv_form``), block by block,
    atomically; the number of rows written."""
    with atomic_path(path) as temp, open(temp, "wb") as out:
        out.write(csv_header())
        return _write_behind(batches, lambda batch: out.write(csv_lines(batch)))


_TEXTS = [name for name, values in ARROW_TYPES.items() if values == "string"]


def _row_groups(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.Table]:
    """Batches gathered into tables of at least ``ROW_GROUP_ROWS`` rows (the last may be
    shorter), their dictionaries unified."""
    gathered: list[pa.RecordBatch] = []
    rows = 0
    for batch in batches:
        gathered.append(batch)
        rows += batch.num_rows
        if rows >= ROW_GROUP_ROWS:
            yield pa.Table.from_batches(gathered).unify_dictionaries()
            gathered, rows = [], 0
    if gathered:
        yield pa.Table.from_batches(gathered).unify_dictionaries()


# Dictionary pages for the categorical columns only (hashing the arguments of every call to
# find few repeats costs more than the rest of the writing), line numbers as deltas (they
# mostly grow by one: a third of the file, 15% of the writing time less), statistics for the
# columns readers filter on (not the long texts), zstd: a third of snappy's size, as fast.
_PARQUET_OPTIONS = {
    "use_dictionary": list(CATEGORICAL),
    "column_encoding": dict.fromkeys(("line", "end_line"), "DELTA_BINARY_PACKED"),
    "write_statistics": [name for name in COLUMNS if name in CATEGORICAL or name not in _TEXTS],
    "compression": "zstd",
    "compression_level": 1,
}


def write_parquet_batches(batches: Iterable[pa.RecordBatch], path: str | os.PathLike[str]) -> int:
    """Write record batches of the schema to ``path`` as Parquet, a row group at a time,
    atomically; the number of rows written."""
    groups = _row_groups(batches)
    # The first row group read before Parquet's module loads (45 ms): the parser's workers
    # have started by then, and work while it loads.
    first = next(groups, None)
    import pyarrow.parquet as pq

    with (
        atomic_path(path) as temp,
        pq.ParquetWriter(temp, arrow_schema(), **_PARQUET_OPTIONS) as writer,
    ):
        return _write_behind(
            itertools.chain(() if first is None else (first,), groups),
            lambda table: writer.write_table(table, row_group_size=table.num_rows),
        )

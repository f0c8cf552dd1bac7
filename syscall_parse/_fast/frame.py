"""The frame path: chunk tables made by the workers, joined and ordered by the parent, and
turned into the DataFrame of ``schema.DTYPES``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from syscall_parse._fast import codes
from syscall_parse._fast.chunk_table import chunk_table, one
from syscall_parse._fast.chunks import Chunk, map_chunks, read_chunk
from syscall_parse._fast.join import arrange, join_inside
from syscall_parse.events import Exit, Message, Signal, Syscall
from syscall_parse.schema import DTYPES, KINDS

__all__ = ["build_frame"]


def _table_of(path: str, chunk: Chunk) -> tuple[pa.Table, int, int]:
    """The events of one chunk, with the split calls inside it joined, and its counts of lines
    and of unparsed lines."""
    table = chunk_table(read_chunk(Path(path), chunk))
    return (*join_inside(table), table.num_rows)


def _frame_table(path: Path, workers: int | None, chunk_bytes: int) -> tuple[pa.Table, int]:
    """All line records of the log (unparsed and skipped lines removed), and the unparsed count."""
    tables = []
    before = unparsed = 0
    for table, unparsed_lines, lines in map_chunks(path, _table_of, workers, chunk_bytes):
        for name in ("line", "end_line"):
            at = table.column_names.index(name)
            table = table.set_column(at, name, pc.add(table[name], before))
        tables.append(table)
        before += lines
        unparsed += unparsed_lines
    if not tables:
        return join_inside(chunk_table(b""))
    return pa.concat_tables(tables), unparsed


def _categorical(array: pa.Array) -> pd.Categorical:
    """Categories sorted, as an object index: what ``table.events_to_frame`` builds."""
    encoded = array.dictionary_encode()
    dictionary = encoded.dictionary.to_pylist()
    order = sorted(range(len(dictionary)), key=dictionary.__getitem__)
    remap = np.empty(len(dictionary), np.int64)
    remap[order] = np.arange(len(dictionary))
    indices = np.asarray(encoded.indices.fill_null(-1), np.int64)
    indices = np.where(indices >= 0, remap[np.maximum(indices, 0)] if len(dictionary) else -1, -1)
    categories = pd.Index([dictionary[i] for i in order], dtype=object)
    return pd.Categorical.from_codes(indices, dtype=pd.CategoricalDtype(categories))


# The kind of the rows of each line code.
_KINDS = {
    **dict.fromkeys(
        (codes.WHOLE, codes.RESUMED, codes.UNFINISHED, codes.JOINED, codes.JOINED_EDGE),
        KINDS[Syscall],
    ),
    codes.SIGNAL: KINDS[Signal],
    codes.EXIT: KINDS[Exit],
    codes.MESSAGE: KINDS[Message],
}


def _kinds(code: np.ndarray) -> pd.Categorical:
    """The kind of each row from its line code, as ``_categorical`` of the kind names would
    give it (the kinds present, sorted), without a column of strings."""
    present = sorted({_KINDS[c] for c in np.unique(code).tolist()})
    lookup = np.full(max(_KINDS) + 1, -1, np.int8)
    for c, kind in _KINDS.items():
        if kind in present:
            lookup[c] = present.index(kind)
    categories = pd.Index(present, dtype=object)
    return pd.Categorical.from_codes(lookup[code], dtype=pd.CategoricalDtype(categories))


def _column(column: pa.ChunkedArray, dtype: str):
    """A column of a chunk table as the pandas column of ``dtype``."""
    if dtype == "int64":
        return column.to_numpy()
    if dtype == "float64":
        return np.asarray(column.to_numpy(zero_copy_only=False), np.float64)
    array = one(column)
    if dtype == "category":
        return _categorical(array)
    if dtype == "string":
        string = pd.StringDtype()
        return array.to_pandas(types_mapper=lambda _: string)
    mask = np.asarray(array.is_null())
    if dtype == "Int64":
        return pd.arrays.IntegerArray(np.asarray(array.fill_null(0), np.int64), mask)
    if dtype == "boolean":
        return pd.arrays.BooleanArray(np.asarray(array.fill_null(False), bool), mask)
    raise ValueError(f"no conversion of an Arrow column to {dtype}")


def build_frame(path: Path, workers: int | None, chunk_bytes: int) -> pd.DataFrame:
    """The frame of a plain log: its chunk tables, joined and ordered, as ``schema.DTYPES``
    columns; ``attrs["unparsed_lines"]`` counts the unparsed lines."""
    table, unparsed = _frame_table(path, workers, chunk_bytes)
    table = arrange(table)
    code = table["code"].to_numpy()
    frame = pd.DataFrame(
        {
            name: _kinds(code) if name == "kind" else _column(table[name], dtype)
            for name, dtype in DTYPES.items()
        }
    )
    frame.attrs["unparsed_lines"] = unparsed
    return frame

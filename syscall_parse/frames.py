"""Record batches of the schema (``schema.arrow_schema``) to the DataFrame of ``schema.DTYPES``.

Both engines' batches become frames here, column by column: each column of the batches is
released once converted (and Arrow's allocator told to give its pages back), so the peak
stays near the frame's own size plus one column.
Categorical columns get the values present, sorted (``_categorical``); text columns keep
their Arrow buffers (pandas' Arrow-backed ``string`` dtype).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa

from syscall_parse.schema import DTYPES, arrow_schema

__all__ = ["batches_to_frame"]


def _categorical(column: pa.ChunkedArray) -> pd.Categorical:
    """A dictionary column as a Categorical of the values present, sorted, as an object index
    (the default string dtype differs in pandas 2 and 3)."""
    column = column.unify_dictionaries()
    dictionary = column.chunk(0).dictionary if column.num_chunks else pa.nulls(0, pa.string())
    indices = pa.chunked_array([chunk.indices for chunk in column.chunks], pa.int32())
    codes = np.asarray(indices.fill_null(-1).to_numpy(), np.int64)
    used = np.bincount(codes[codes >= 0], minlength=len(dictionary)) > 0
    present = dictionary.to_pylist()
    order = sorted(np.flatnonzero(used).tolist(), key=present.__getitem__)
    remap = np.full(len(dictionary) + 1, -1, np.int64)  # the last entry: a null's -1
    remap[order] = np.arange(len(order))
    categories = pd.Index([present[i] for i in order], dtype=object)
    return pd.Categorical.from_codes(remap[codes], dtype=pd.CategoricalDtype(categories))


def _column(column: pa.ChunkedArray, dtype: str):
    """A column of the batches as the pandas column of ``dtype``."""
    if dtype == "category":
        return _categorical(column)
    if dtype in ("int64", "float64"):
        return np.asarray(column.to_numpy(), dtype)  # float nulls become NaN
    mask = np.asarray(column.is_null())
    if dtype == "Int64":
        return pd.arrays.IntegerArray(np.asarray(column.fill_null(0), np.int64), mask)
    if dtype == "boolean":
        return pd.arrays.BooleanArray(np.asarray(column.fill_null(False), bool), mask)
    raise ValueError(f"no conversion of an Arrow column to {dtype}")


def _strings(chunks: list[pa.Array]) -> pd.Series:
    """Text chunks (the only references to them) as pandas' Arrow-backed strings, which hold
    large_string: each chunk cast, then released, so that one chunk at a time is doubled."""
    for at, chunk in enumerate(chunks):
        chunks[at] = chunk.cast(pa.large_string())
    string = pd.StringDtype()
    return pa.chunked_array(chunks, pa.large_string()).to_pandas(types_mapper=lambda _: string)


def batches_to_frame(batches: Iterable[pa.RecordBatch]) -> pd.DataFrame:
    """The DataFrame of record batches of the schema, in their order."""
    table = pa.Table.from_batches(batches, arrow_schema())  # no other reference to them
    columns = {}
    for name, dtype in DTYPES.items():
        if dtype == "string":
            chunks = table[name].chunks
            table = table.drop_columns([name])
            columns[name] = _strings(chunks)
        else:
            columns[name] = _column(table[name], dtype)
            table = table.drop_columns([name])  # its buffers freed once converted
        # ... and given back to the system: Arrow's allocator keeps freed pages, which numpy's
        # next column would not reuse (20 MB less at the peak on a 195 MB frame).
        pa.default_memory_pool().release_unused()
    return pd.DataFrame(columns, copy=False)

"""Record batches of the schema (``schema.arrow_schema``) to the DataFrame of ``schema.DTYPES``.

Both engines' batches become frames here, batch by batch, so that the batches and the frame
never coexist whole: each batch's numbers are copied into numpy arrays that grow as they
fill (``_Growing``: no concatenation at the end needs the pieces and the whole at once), its
categorical columns become codes into the values seen so far, its text chunks are kept (with
offsets widened to large_string: pandas' Arrow-backed ``string`` dtype holds their buffers),
and the batch is dropped before the next comes. Categories are the values present, sorted.
The peak this gives, against the frame's size: docs/performance.md.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa

from syscall_parse.schema import DTYPES

__all__ = ["batches_to_frame"]


class _Growing:
    """A numpy array appended to: when full, its values move to a new one twice as long, whose
    tail costs no memory until written (``np.empty``); ``whole`` trims it to its values in
    place (``ndarray.resize``, a reallocation that shrinks without copying)."""

    __slots__ = ("array", "length")

    def __init__(self, dtype: type) -> None:
        self.array = np.empty(0, dtype)
        self.length = 0

    def append(self, values: np.ndarray) -> None:
        end = self.length + len(values)
        if end > len(self.array):
            grown = np.empty(max(end, 2 * len(self.array)), self.array.dtype)
            grown[: self.length] = self.array[: self.length]
            self.array = grown
        self.array[self.length : end] = values
        self.length = end

    def widen(self, dtype: type) -> None:
        """Holds values of ``dtype`` from now on (the values so far converted)."""
        self.array = self.array.astype(dtype)

    def whole(self) -> np.ndarray:
        self.array.resize(self.length, refcheck=False)
        return self.array


# The numpy type of a column's values (a categorical column's: its codes; a text column's
# are its Arrow chunks, its numpy array left empty).
_NUMPY_TYPES = {
    "int64": np.int64,
    "Int64": np.int64,
    "float64": np.float64,
    "boolean": np.bool_,
    "category": np.int8,  # widened to int32 past 127 values
    "string": np.int8,
}


class _Column:
    """The pieces of one pandas column of ``dtype`` appended batch by batch: ``values`` (the
    numbers, or a categorical column's codes into ``categories``, in the order seen),
    ``mask`` (the nulls of Int64 and boolean columns), ``chunks`` (the texts' Arrow chunks)."""

    __slots__ = ("categories", "chunks", "dtype", "mask", "values")

    def __init__(self, dtype: str) -> None:
        self.dtype = dtype
        self.values = _Growing(_NUMPY_TYPES[dtype])
        self.mask = _Growing(bool)
        self.chunks: list[pa.Array] = []
        self.categories: dict[object, int] = {}

    def append(self, array: pa.Array) -> None:
        """One batch's column: copied, so that no piece holds the batch's buffers but a
        text's characters."""
        if self.dtype == "string":  # pandas' Arrow strings hold large_string: new offsets
            self.chunks.append(array.cast(pa.large_string()))
        elif self.dtype == "category":
            seen = self.categories
            codes = [seen.setdefault(value, len(seen)) for value in array.dictionary.to_pylist()]
            lookup = np.array([*codes, -1], np.int32)  # the last entry: a null's
            if len(seen) > np.iinfo(self.values.array.dtype).max:
                self.values.widen(np.int32)
            self.values.append(lookup[array.indices.fill_null(len(codes)).to_numpy()])
        elif self.dtype in ("int64", "float64"):
            self.values.append(array.to_numpy(zero_copy_only=False))  # float nulls: NaN
        else:  # Int64, boolean
            self.mask.append(np.asarray(array.is_null()))
            empty = False if self.dtype == "boolean" else 0
            self.values.append(array.fill_null(empty).to_numpy(zero_copy_only=False))

    def pandas(self):
        """The pandas column of the pieces appended."""
        if self.dtype == "string":
            string = pd.StringDtype()
            chunked = pa.chunked_array(self.chunks, pa.large_string())
            return chunked.to_pandas(types_mapper=lambda _: string)
        values = self.values.whole()
        if self.dtype == "category":
            return _categorical(values, list(self.categories))
        if self.dtype in ("int64", "float64"):
            return values
        if self.dtype == "Int64":
            return pd.arrays.IntegerArray(values, self.mask.whole())
        return pd.arrays.BooleanArray(values, self.mask.whole())


def _categorical(codes: np.ndarray, values: list[object]) -> pd.Categorical:
    """Codes into ``values`` (-1: null) as a Categorical of the values present, sorted, as an
    object index (the default string dtype differs in pandas 2 and 3)."""
    used = np.bincount(codes[codes >= 0], minlength=len(values)) > 0
    order = sorted(np.flatnonzero(used).tolist(), key=values.__getitem__)
    remap = np.full(len(values) + 1, -1, np.int32)  # the last entry: a null's -1
    remap[order] = np.arange(len(order))
    categories = pd.Index([values[i] for i in order], dtype=object)
    return pd.Categorical.from_codes(remap[codes], dtype=pd.CategoricalDtype(categories))


def batches_to_frame(batches: Iterable[pa.RecordBatch]) -> pd.DataFrame:
    """The DataFrame of record batches of the schema, in their order."""
    columns = {name: _Column(dtype) for name, dtype in DTYPES.items()}
    for batch in batches:
        for name, column in columns.items():
            column.append(batch.column(name))
        del batch  # its buffers freed before the next one comes
    return pd.DataFrame({name: column.pandas() for name, column in columns.items()}, copy=False)

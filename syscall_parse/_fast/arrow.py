"""Arrow arrays to and from numpy and Python values without pyarrow's pandas shim.

``pa.array``, ``pa.scalar``, ``Array.to_numpy`` and compute calls given Python scalars each
import pandas first (pyarrow checks whether its input is a pandas object): 0.2 s of CPU, in
the parent before it starts the workers. The fast engine's frame path (chunk tables, joins,
record batches, Parquet) builds and reads its arrays here instead, from and to the buffers as
they are, so that ``parse -o OUT.parquet`` never loads pandas.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

__all__ = ["array", "dtype", "from_python", "one", "scalar", "valid", "values"]

_TYPES = {
    np.dtype(np.bool_): pa.bool_(),
    np.dtype(np.int8): pa.int8(),
    np.dtype(np.int32): pa.int32(),
    np.dtype(np.int64): pa.int64(),
    np.dtype(np.float64): pa.float64(),
}
_DTYPES = {kind: dtype for dtype, kind in _TYPES.items()}


def dtype(kind: pa.DataType) -> np.dtype:
    """The numpy dtype of the Arrow type ``kind`` (bool, int8, int32, int64 or float64)."""
    return _DTYPES[kind]


def _bits(flags: np.ndarray) -> pa.Buffer:
    return pa.py_buffer(np.packbits(flags, bitorder="little"))


def _unbits(buffer: pa.Buffer, offset: int, count: int) -> np.ndarray:
    bits = np.unpackbits(np.frombuffer(buffer, np.uint8), count=offset + count, bitorder="little")
    return bits[offset:].view(np.bool_)


def one(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A column as one array, copied only if it has several chunks (combine_chunks always
    copies, and imports pandas to make an empty one of no chunks)."""
    if isinstance(column, pa.Array):
        return column
    if column.num_chunks == 0:  # a filter that kept no row can leave none
        return pa.nulls(0, column.type)
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def array(values: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """``values`` (bool, int8, int32, int64 or float64) as an Arrow array, null where
    ``mask``; numbers share the numpy buffer."""
    values = np.ascontiguousarray(values)
    kind = _TYPES[values.dtype]
    data = _bits(values) if kind == pa.bool_() else pa.py_buffer(values)
    nulls = 0 if mask is None else int(np.count_nonzero(mask))
    validity = _bits(~mask) if nulls else None
    return pa.Array.from_buffers(kind, len(values), [validity, data], null_count=nulls)


def values(column: pa.Array | pa.ChunkedArray, fill: object = None) -> np.ndarray:
    """The values of a bool or number column as numpy (a view of its buffer where it can be),
    its nulls replaced by ``fill`` (which must then be given)."""
    column = one(column)
    dtype = _DTYPES[column.type]
    validity, data = column.buffers()[:2]
    if dtype == np.bool_:
        out = _unbits(data, column.offset, len(column))
    else:
        out = np.frombuffer(data, dtype, len(column), column.offset * dtype.itemsize)
    if column.null_count:
        if fill is None:
            raise ValueError("a column with nulls and no fill value")
        out = np.where(_unbits(validity, column.offset, len(column)), out, fill).astype(dtype)
    return out


def valid(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Where ``column`` is valid, as a numpy bool array."""
    column = one(column)
    if not column.null_count:
        return np.ones(len(column), bool)
    return _unbits(column.buffers()[0], column.offset, len(column))


def scalar(value: bool | int | float, kind: pa.DataType) -> pa.Scalar:
    """``value`` as an Arrow scalar of ``kind`` (bool, int8, int32, int64 or float64)."""
    return array(np.array([value], _DTYPES[kind]))[0]


def from_python(items: Sequence[object], kind: pa.DataType) -> pa.Array:
    """Python values (None: null) as an Arrow array of ``kind`` (string, bool, int8, int32,
    int64 or float64), as ``pa.array(items, kind)`` makes it."""
    mask = np.fromiter((item is None for item in items), bool, len(items))
    if kind != pa.string():
        zero = _DTYPES[kind].type(0)
        filled = [zero if item is None else item for item in items]
        return array(np.array(filled, _DTYPES[kind]), mask)
    encoded = [b"" if item is None else item.encode() for item in items]  # type: ignore[union-attr]
    offsets = np.zeros(len(encoded) + 1, np.int32)
    np.cumsum([len(item) for item in encoded], out=offsets[1:])
    nulls = int(mask.sum())
    validity = _bits(~mask) if nulls else None
    buffers = [validity, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
    return pa.Array.from_buffers(pa.string(), len(items), buffers, null_count=nulls)

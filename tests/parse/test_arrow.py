"""The fast engine's pandas-free Arrow conversions give what pyarrow's own give."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from syscall_parse._fast import arrow

KINDS = {
    pa.bool_(): st.booleans(),
    pa.int8(): st.integers(-128, 127),
    pa.int32(): st.integers(-(2**31), 2**31 - 1),
    pa.int64(): st.integers(-(2**63), 2**63 - 1),
    pa.float64(): st.floats(allow_nan=False),
    pa.string(): st.text(st.characters(exclude_categories=["Cs"])),
}


@st.composite
def columns(draw, kinds=tuple(KINDS)):
    """A type and a list of its Python values, some None."""
    kind = draw(st.sampled_from(kinds))
    return kind, draw(st.lists(st.none() | KINDS[kind], max_size=40))


@given(columns())
def test_from_python_is_pa_array(column):
    kind, items = column
    assert pa.array(items, kind).equals(arrow.from_python(items, kind))


@given(columns(tuple(k for k in KINDS if k != pa.string())), st.integers(0, 5))
def test_values_and_valid_read_slices_back(column, offset):
    """Numbers and booleans read back from arrays sliced at any offset (bit-packed booleans
    and validity included), nulls as the fill value."""
    kind, items = column
    sliced = arrow.from_python(items, kind).slice(min(offset, len(items)))
    present = [item is not None for item in sliced.to_pylist()]
    assert present == arrow.valid(sliced).tolist()
    fill = arrow.dtype(kind).type(0)
    expected = [fill if item is None else item for item in sliced.to_pylist()]
    assert expected == arrow.values(sliced, fill=fill).tolist()


@given(columns(tuple(k for k in KINDS if k != pa.string())))
def test_array_shares_numpy_values_and_masks(column):
    kind, items = column
    mask = np.array([item is None for item in items], bool)
    values = np.array([0 if item is None else item for item in items], arrow.dtype(kind))
    assert pa.array(values, kind, mask=mask).equals(arrow.array(values, mask))
    if len(items):
        assert pa.scalar(values[0].item(), kind).equals(arrow.scalar(values[0].item(), kind))


def test_a_column_of_no_chunks_is_an_empty_array_of_its_type():
    """A filter that keeps no row can leave a column of no chunks: it reads as an empty array
    of its type (numbers too), where combine_chunks would import pandas to make one."""
    for kind in KINDS:
        column = pa.chunked_array([], kind)
        assert pa.array([], kind).equals(arrow.one(column))
        if kind != pa.string():
            assert [] == arrow.values(column).tolist()

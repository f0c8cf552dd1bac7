"""Frames from record batches (``frames.batches_to_frame``): the frame does not depend on how
the rows are cut into batches nor on each batch's own dictionaries, and categorical columns
hold the values present, sorted."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from syscall_parse.batches import read_batches
from syscall_parse.frames import batches_to_frame
from syscall_parse.schema import CATEGORICAL, arrow_schema
from syscall_parse.table import read_trace

TRACEE = Path(__file__).with_name("tracee.py")


def _recut(table: pa.Table, sizes: list[int]) -> list[pa.RecordBatch]:
    """The rows of ``table`` as batches of ``sizes`` rows in turn (empty ones included), each
    categorical column encoded again with a dictionary of its own batch's values, in the order
    they come, as another producer of batches would write them."""
    batches, start, turn = [], 0, 0
    while start < table.num_rows:
        size = sizes[turn % len(sizes)]
        batch = table.slice(start, size).combine_chunks().to_batches()
        batch = batch[0] if batch else pa.RecordBatch.from_pylist([], schema=table.schema)
        for name in CATEGORICAL:
            at = table.schema.get_field_index(name)
            column = batch.column(at).dictionary_decode().dictionary_encode()
            batch = batch.set_column(at, table.schema.field(name), column)
        batches.append(batch)
        start, turn = start + size, turn + 1
    return batches


@pytest.mark.strace
def test_frame_does_not_depend_on_the_batches(run_strace, tmp_path):
    """A real log's rows cut into batches of 1 to 500 rows, some empty, each with its own
    dictionaries, make exactly the reference's frame (values and dtypes)."""
    log = tmp_path / "trace.log"
    run_strace(["-f", "-ttt", "-T", "-y", "-o", str(log)], [sys.executable, str(TRACEE)])
    expected = read_trace(log, engine="reference")
    table = pa.Table.from_batches(read_batches(log, engine="reference"), arrow_schema())
    batches = _recut(table, [1, 0, 7, 500, 3, 0, 250])
    assert len(batches) > 10
    pd.testing.assert_frame_equal(expected, batches_to_frame(batches), check_exact=True)


def test_categories_are_the_values_present_sorted():
    """Dictionaries holding values no row uses, in any order, and null indices: the categories
    are the values present, sorted, and a null row stays null."""
    schema = arrow_schema()
    row = dict.fromkeys(schema.names)
    rows = [dict(row, line=n, end_line=n, kind="syscall") for n in (1, 2, 3)]
    first = pa.RecordBatch.from_pylist(rows[:2], schema=schema)
    syscall = schema.get_field_index("syscall")
    unused_first = pa.array(["zz", "write", "read"])
    first = first.set_column(
        syscall,
        schema.field("syscall"),
        pa.DictionaryArray.from_arrays(pa.array([2, None], pa.int32()), unused_first),
    )
    second = pa.RecordBatch.from_pylist(rows[2:], schema=schema)
    second = second.set_column(
        syscall,
        schema.field("syscall"),
        pa.DictionaryArray.from_arrays(pa.array([1], pa.int32()), pa.array(["zz", "close"])),
    )
    frame = batches_to_frame([first, second])
    assert ["close", "read"] == list(frame["syscall"].cat.categories)
    assert ["read", None, "close"] == [
        None if pd.isna(value) else value for value in frame["syscall"].tolist()
    ]
    assert [1, 2, 3] == frame["line"].tolist()


def test_no_batches_make_an_empty_frame_of_the_schema():
    """No batches (a log of no events): no rows, every column of its dtype."""
    frame = batches_to_frame([])
    assert 0 == len(frame)
    assert list(arrow_schema().names) == list(frame.columns)
    assert ["int64", "int64", "Int64", "category"] == [str(t) for t in frame.dtypes[:4]]


def test_many_categories_across_batches():
    """Categorical values beyond what one byte numbers, first met in later batches, keep
    their rows' values."""
    schema = arrow_schema()
    names = [f"call{n:03d}" for n in range(300)]
    rows = [
        dict(dict.fromkeys(schema.names), line=n, end_line=n, kind="syscall", syscall=name)
        for n, name in enumerate(reversed(names), 1)
    ]
    batches = [
        pa.RecordBatch.from_pylist(rows[at : at + 100], schema=schema) for at in (0, 100, 200)
    ]
    frame = batches_to_frame([*batches, batches[0]])
    assert names == list(frame["syscall"].cat.categories)
    assert [row["syscall"] for row in rows + rows[:100]] == frame["syscall"].tolist()

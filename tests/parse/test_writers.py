"""Event tables written as they are read: CSV in pandas' form (held to pandas' own ``to_csv``),
Parquet in row groups with the schema's types, both appearing whole or not at all."""

from __future__ import annotations

import math
import sys

import pandas as pd
import pandas.testing as pdt
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from syscall_parse import writers
from syscall_parse.batches import event_batches
from syscall_parse.csv_form import NULL, csv_lines
from syscall_parse.events import Exit, Message, Signal, Syscall
from syscall_parse.schema import arrow_schema
from syscall_parse.table import events_to_frame, read_csv, read_parquet
from syscall_parse.writers import (
    IN_FLIGHT,
    ROW_GROUP_ROWS,
    write_csv_batches,
    write_parquet_batches,
)

# Texts CSV must quote, escape or leave alone; floats whose repr differs from Arrow's text.
EVENTS = [
    Syscall(7, "getuid", "", "0", 0, time=43066.402136, duration=1e-05, lines=(1, 1)),
    Syscall(7, "write", '1, "a,b\\n\\"q\\"", 9', "9", 9, duration=1.0, lines=(2, 2)),
    Syscall(7, "write", '1, "x\ny"', "3", 3, relative=0.1 + 0.2, lines=(3, 3)),
    Syscall(8, "read", "\\N, 3", "-1", -1, errno="EBADF", errno_text="Bad, bad", lines=(4, 4)),
    Syscall(8, "mmap", "cr\rhere", "0x7f", 127, time=1e16, duration=1e-07, lines=(5, 5)),
    Syscall(8, "exit_group", "0", "?", None, returned=False, time=-0.0, lines=(6, 6)),
    Signal(7, "SIGCHLD", "{si_signo=SIGCHLD}", time=123456789012345.6, lines=(7, 7)),
    Exit(8, None, "SIGKILL", True, lines=(8, 8)),
    Message('strace: "quoted", with comma', 9, (9, 9)),
    Syscall(None, "write", "\\", "1", 1, duration=1e15, lines=(10, 10)),
]


def pandas_csv(frame: pd.DataFrame) -> bytes:
    """The CSV pandas writes for a frame, texts escaped as ``writers`` escapes them: the form
    the writer must give byte for byte."""
    escaped = frame.copy()
    for name in ("args", "ret", "errno_text", "syscall", "errno", "signal", "kind"):
        values = frame[name].astype(object).tolist()
        escaped[name] = pd.array(
            [v if not isinstance(v, str) or not v.startswith("\\") else "\\" + v for v in values],
            dtype=object,
        )
    return escaped.to_csv(index=False, na_rep=NULL, lineterminator="\n").encode()


def test_csv_is_pandas_form(tmp_path):
    """Quotes, commas, newlines, leading backslashes, nulls and floats as pandas writes them;
    read back exactly."""
    path = tmp_path / "events.csv"
    events = [e for e in EVENTS if "\r" not in getattr(e, "args", "")]
    assert len(events) == write_csv_batches(event_batches(events), path)
    assert pandas_csv(events_to_frame(events)) == path.read_bytes()
    pdt.assert_frame_equal(events_to_frame(events), read_csv(path), check_exact=True)


def test_carriage_return_is_quoted(tmp_path):
    """A text holding a carriage return is quoted (pandas leaves it bare, then its reader
    cuts the row there): the file reads back exactly."""
    path = tmp_path / "events.csv"
    write_csv_batches(event_batches(EVENTS), path)
    assert b',"cr\rhere",' in path.read_bytes()
    pdt.assert_frame_equal(events_to_frame(EVENTS), read_csv(path), check_exact=True)


def test_csv_blocks_equal_one_block(tmp_path):
    """Batches of one row each give the file of one batch (dictionaries differ per batch)."""
    one, many = tmp_path / "one.csv", tmp_path / "many.csv"
    write_csv_batches(event_batches(EVENTS), one)
    write_csv_batches(event_batches(EVENTS, rows=1), many)
    assert one.read_bytes() == many.read_bytes()


def test_csv_blocks_keep_their_order(tmp_path):
    """Many more batches than wait for the writing thread: the file is the batches' lines in
    the order they came, as one batch gives them."""
    events = [
        e.__class__(**{**_fields(e), "lines": (i + 1, i + 1)}) for i, e in enumerate(EVENTS * 30)
    ]
    batches = list(event_batches(events, rows=3))
    assert len(batches) > 10 * IN_FLIGHT
    one, many = tmp_path / "one.csv", tmp_path / "many.csv"
    write_csv_batches(event_batches(events), one)
    assert len(events) == write_csv_batches(batches, many)
    assert one.read_bytes() == many.read_bytes()
    pdt.assert_frame_equal(events_to_frame(events), read_csv(many), check_exact=True)


def test_columns_of_one_value_are_pandas_form(tmp_path):
    """A batch whose pid, kind, relative time, signal, status and returned flag are one value
    in every row (those fields are formatted once): the pandas form still, read back."""
    events = [
        Syscall(7, name, args, "3", 3, time=1.5 + i / 8, duration=1e-06, lines=(i + 1, i + 1))
        for i, (name, args) in enumerate([("read", '3, "a,b", 9'), ("\\x", "\\"), ("a", "")])
    ]
    path = tmp_path / "events.csv"
    write_csv_batches(event_batches(events), path)
    assert pandas_csv(events_to_frame(events)) == path.read_bytes()
    pdt.assert_frame_equal(events_to_frame(events), read_csv(path), check_exact=True)


texts = st.sampled_from(["read", "a,b", 'q"x', "x\ny", ""])


@given(
    st.integers(1, 20).flatmap(
        lambda rows: st.tuples(
            *[
                st.one_of(st.lists(values, min_size=rows, max_size=rows), st.just([value] * rows))
                for values, value in (
                    (st.one_of(st.integers(-(2**63), 2**63 - 1), st.none()), 7),
                    (st.one_of(st.booleans(), st.none()), None),
                    (st.one_of(texts, st.none()), "a,b"),
                )
            ]
        )
    )
)
def test_integers_booleans_and_categories_are_pandas_form(columns):
    """Integer, boolean and dictionary columns, their values varied or one in all rows (null
    in all, too), written as pandas writes them."""
    numbers, flags, names = columns
    batch = pa.record_batch(
        [
            pa.array(numbers, pa.int64()),
            pa.array(flags, pa.bool_()),
            pa.array(names, pa.string()).dictionary_encode(),
        ],
        names=["n", "b", "c"],
    )
    frame = pd.DataFrame(
        {
            "n": pd.array(numbers, "Int64"),
            "b": pd.array(flags, "boolean"),
            "c": pd.Categorical(names),
        }
    )
    expected = frame.to_csv(index=False, header=False, na_rep=NULL, lineterminator="\n")
    assert expected == csv_lines(batch).to_pybytes().decode()


@given(st.lists(st.one_of(st.text(alphabet='ab ,"\n\\'), st.none()), min_size=1, max_size=40))
def test_texts_are_pandas_form(values):
    """Any text of the characters CSV quotes or escapes (no carriage return: pandas leaves
    it bare), or null, written as pandas writes it, a leading backslash doubled."""
    batch = pa.record_batch(
        [pa.array(values, pa.string()), pa.array([1] * len(values))], ["t", "n"]
    )
    escaped = [v if v is None or not v.startswith("\\") else "\\" + v for v in values]
    frame = pd.DataFrame({"t": pd.array(escaped, dtype=object), "n": 1})
    expected = frame.to_csv(index=False, header=False, na_rep=NULL, lineterminator="\n")
    assert expected == csv_lines(batch).to_pybytes().decode()


finite = st.floats(allow_nan=False, allow_infinity=True)


@given(st.lists(st.one_of(finite, st.none()), min_size=1, max_size=50))
def test_floats_are_written_as_repr(values):
    """Any float is written as Python's repr (pandas' form), a null as the null mark."""
    column = pa.array(values, pa.float64())
    line = csv_lines(pa.record_batch([column], names=["x"])).to_pybytes().decode()
    assert [NULL if v is None else repr(v) for v in values] == line.splitlines()


def test_parquet_row_groups_keep_the_schema(tmp_path):
    """Row groups of ROW_GROUP_ROWS rows at least, dictionary columns kept, read back whole."""
    events = EVENTS * (2 * ROW_GROUP_ROWS // len(EVENTS))
    events = [e.__class__(**{**_fields(e), "lines": (i + 1, i + 1)}) for i, e in enumerate(events)]
    path = tmp_path / "events.parquet"
    assert len(events) == write_parquet_batches(event_batches(events, rows=1000), path)
    assert arrow_schema() == pq.read_schema(path)
    metadata = pq.ParquetFile(path).metadata
    sizes = [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)]
    assert 2 == len(sizes)
    assert ROW_GROUP_ROWS <= sizes[0]
    pdt.assert_frame_equal(events_to_frame(events), read_parquet(path), check_exact=True)


def test_parquet_row_groups_keep_their_order(tmp_path, monkeypatch):
    """Many more row groups than wait for the writing thread: read back in the order they
    came."""
    monkeypatch.setattr(writers, "ROW_GROUP_ROWS", 3)
    events = [
        e.__class__(**{**_fields(e), "lines": (i + 1, i + 1)}) for i, e in enumerate(EVENTS * 30)
    ]
    path = tmp_path / "events.parquet"
    assert len(events) == write_parquet_batches(event_batches(events, rows=3), path)
    assert 10 * IN_FLIGHT < pq.ParquetFile(path).metadata.num_row_groups
    pdt.assert_frame_equal(events_to_frame(events), read_parquet(path), check_exact=True)


def _fields(event) -> dict[str, object]:
    return {name: getattr(event, name) for name in event.__slots__}


class Failure(Exception):
    """Raised by a batch iterator part-way."""


def _failing(batches):
    yield from batches
    raise Failure


@pytest.mark.parametrize("write", [write_csv_batches, write_parquet_batches])
def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, write):
    """An error part-way: the file already there stays as it was, no temporary file is left."""
    path = tmp_path / "events.out"
    path.write_bytes(b"before")
    with pytest.raises(Failure):
        write(_failing(event_batches(EVENTS, rows=2)), path)
    assert b"before" == path.read_bytes()
    assert ["events.out"] == [p.name for p in tmp_path.iterdir()]


@pytest.mark.parametrize(
    ("write", "error"),
    [(write_csv_batches, "list<item: int64>"), (write_parquet_batches, "[Ss]chema")],
    ids=["csv", "parquet"],
)
def test_error_of_the_writing_thread_is_raised_as_it_was(tmp_path, write, error):
    """A batch that cannot be written (a column no event table has): its error, raised on
    the writing thread (CSV) or while gathering a row group (Parquet), reaches the caller,
    the file already there stays, no temporary is left."""
    path = tmp_path / "events.out"
    path.write_bytes(b"before")
    bad = pa.record_batch([pa.array([[1], [2]])], names=["x"])
    with pytest.raises((pa.ArrowException, ValueError, TypeError), match=error):
        write([*event_batches(EVENTS, rows=2), bad, *event_batches(EVENTS)], path)
    assert b"before" == path.read_bytes()
    assert ["events.out"] == [p.name for p in tmp_path.iterdir()]


def test_float_oracle_is_repr():
    """The oracle of the float test: pandas writes repr (1e-05, 1.0, -0.0)."""
    frame = pd.DataFrame({"x": [1e-05, 1.0, -0.0, math.inf, 0.1 + 0.2, sys.float_info.min]})
    expected = "x\n" + "".join(f"{v!r}\n" for v in frame["x"])
    assert expected == frame.to_csv(index=False, lineterminator="\n")

"""Event frames: the schema's dtypes, and CSV/Parquet round trips that are exact."""

from __future__ import annotations

import pandas as pd
import pandas.testing as pdt
import pytest

from syscall_parse.errors import InputError
from syscall_parse.events import Exit, Message, Signal, Syscall, Unparsed
from syscall_parse.schema import COLUMNS, DTYPES
from syscall_parse.stream import ParseStats
from syscall_parse.table import (
    events_to_frame,
    read_csv,
    read_parquet,
    read_trace,
    write_csv,
    write_parquet,
)

EVENTS = [
    Syscall(7, "getuid", "", "0", 0, time=43066.402136, lines=(1, 1)),
    Syscall(
        7,
        "openat",
        'AT_FDCWD, "/a,b\\n\\"q\\""',
        "-1",
        -1,
        errno="ENOENT",
        errno_text="No such file or directory",
        duration=1.2e-05,
        lines=(2, 3),
    ),
    Syscall(8, "mmap", "NULL, 8192", "0x7f62bf257000", 0x7F62BF257000, lines=(4, 4)),
    Syscall(8, "exit_group", "0", "?", None, returned=False, relative=0.1 + 0.2, lines=(5, 5)),
    Signal(7, "SIGCHLD", "{si_signo=SIGCHLD}", lines=(6, 6)),
    Exit(8, None, "SIGKILL", True, lines=(7, 7)),
    Exit(9, superseded_by=10, lines=(8, 8)),
    Message("strace: Process 9 attached", 9, (9, 9)),
    Unparsed("junk", (10, 10)),
    Syscall(None, "write", r"\N", "1", 1, lines=(11, 11)),
    Exit(7, 0, lines=(12, 12)),
]


def test_frame_follows_schema():
    """Columns in schema order with the schema's dtypes; Unparsed lines are not rows."""
    frame = events_to_frame(EVENTS)
    assert list(COLUMNS) == list(frame.columns)
    assert DTYPES == {name: str(dtype) for name, dtype in frame.dtypes.items()}
    assert 10 == len(frame)
    expected_kinds = ["syscall"] * 4 + ["signal", "exit", "exit", "message", "syscall", "exit"]
    assert expected_kinds == list(frame["kind"].astype(object))
    assert "" == frame["args"][0]
    assert "core dumped" == frame["args"][5]
    assert pd.isna(frame["args"][9])
    assert "superseded by execve in pid 10" == frame["args"][6]
    assert pd.isna(frame["ret"][4])


def test_empty_frame_follows_schema():
    """No events: an empty frame that still has every column and dtype."""
    frame = events_to_frame([])
    assert DTYPES == {name: str(dtype) for name, dtype in frame.dtypes.items()}


@pytest.mark.parametrize(
    ("write", "read", "suffix"),
    [
        pytest.param(write_csv, read_csv, ".csv", id="csv"),
        pytest.param(write_parquet, read_parquet, ".parquet", id="parquet"),
    ],
)
def test_round_trip_is_exact(tmp_path, write, read, suffix):
    """Written and read back: equal frames, nulls apart from empty strings, floats exact."""
    frame = events_to_frame(EVENTS)
    path = tmp_path / f"events{suffix}"
    write(frame, path)
    back = read(path)
    pdt.assert_frame_equal(frame, back, check_exact=True)
    assert ("", r"\N") == (back["args"][0], back["args"][8])
    assert pd.isna(back["args"][9])
    assert [path.name] == [p.name for p in tmp_path.iterdir()]  # no temporary file left


def test_read_trace_counts_unparsed(tmp_path):
    """read_trace parses a log; unparsed lines are counted in attrs and listed in stats."""
    log = tmp_path / "t.log"
    log.write_text("5  getpid() = 5\nnoise\n5  +++ exited with 0 +++\n")
    stats = ParseStats()
    frame = read_trace(log, stats=stats)
    assert [5, 5] == frame["pid"].tolist()
    assert 1 == frame.attrs["unparsed_lines"]
    assert [(2, "noise")] == stats.unparsed


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_reading_a_table_that_is_not_events_is_input_error(tmp_path, suffix):
    """A table without the schema's columns is refused with the columns it lacks."""
    path = tmp_path / f"other{suffix}"
    other = pd.DataFrame({"line": [1]})
    other.to_csv(path) if suffix == ".csv" else other.to_parquet(path)
    with pytest.raises(InputError, match="missing columns end_line"):
        (read_csv if suffix == ".csv" else read_parquet)(path)

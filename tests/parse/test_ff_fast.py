"""``strace -ff`` sets through the fast engine: the same frame as the reference's merge of the
set, or turned down (FastPathUnsupported) for what it does not reproduce."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_fast import ODD_LINES, TRACEE

from syscall_parse._fast import count_file, read_frame
from syscall_parse._fast.ff import _prefixed
from syscall_parse.counts import count_trace
from syscall_parse.engine import FastPathUnsupported
from syscall_parse.inputs import ff_set
from syscall_parse.table import read_trace

# The lines of a -ff file: its pid is the file's, so the lines carry none.
FF_LINES = [line.replace("{pid}  ", "").replace("{pid}", "7") for line in ODD_LINES]
# Its events (the lines before the non-ASCII ones), but a thread's execve (never fast).
EVENT_LINES = [
    line
    for line in FF_LINES[: FF_LINES.index('{t} write(1, "h\\303\\251", 3) = 3 <0.000004>')]
    if "superseded" not in line
]
STAMPS = ["{seconds:.6f} ", "{clock} ", "     0.{micros:06d} ", ""]


def _write_set(directory: Path, files: list[list[str]], stamp: str, times_back: bool) -> Path:
    """Files ``trace.TID`` of the lines, stamped with times that grow through each file (or go
    back at its second line when ``times_back``); returns the prefix."""
    for number, lines in enumerate(files):
        stamped = []
        for at, line in enumerate(lines):
            micros = 10 * at + number if not (times_back and at == 1) else 0
            seconds = 1795869296 + micros / 1e6
            clock = f"12:34:56.{micros:06d}"
            prefix = stamp.format(seconds=seconds, clock=clock, micros=micros)
            stamped.append(line.replace("{t} ", prefix).format(pad=" " * 45))
        text = "\n".join(stamped) + ("\n" if stamped else "")
        (directory / f"trace.{100 + 7 * number}").write_bytes(
            text.encode("utf-8", "surrogateescape")
        )
    return directory / "trace"


def assert_same_set(prefix: Path, **options) -> None:
    """The fast engine's frame and profile of the set equal the reference's, unless it turns
    it down; ``engine="auto"`` gives the reference's either way."""
    expected = read_trace(prefix, engine="reference")
    expected_profile = count_trace(prefix, engine="reference")
    pd.testing.assert_frame_equal(expected, read_trace(prefix))
    assert expected_profile == count_trace(prefix)
    try:
        frame = read_frame(ff_set(prefix), **options)
    except FastPathUnsupported:
        return
    pd.testing.assert_frame_equal(expected, frame)
    assert expected.attrs == frame.attrs
    assert expected_profile == count_file(ff_set(prefix), **options)


@given(
    files=st.lists(
        st.lists(st.sampled_from(EVENT_LINES), max_size=12) | st.lists(st.sampled_from(FF_LINES)),
        min_size=1,
        max_size=4,
    ),
    stamp=st.sampled_from(STAMPS),
    times_back=st.booleans(),
    chunk_bytes=st.sampled_from([64, 1 << 20]),
)
def test_sets_of_any_lines(tmp_path_factory, files, stamp, times_back, chunk_bytes):
    """Files of any lines, stamped in each layout, their times growing or going back, grouped
    one file or all to a chunk: the reference's frame."""
    prefix = _write_set(tmp_path_factory.mktemp("ff"), files, stamp, times_back)
    assert_same_set(prefix, workers=1, chunk_bytes=chunk_bytes)


# Two threads' files: split calls in each (some never resumed), signals, exits; an empty file.
THREADS = [
    [
        "{t} read(3,  <unfinished ...>",
        '{t} <... read resumed>"ab", 2) = 2 <0.000027>',
        "{t} --- SIGCHLD {{si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=1}} ---",
        "{t} futex(0x1, FUTEX_WAIT, 0, NULL <unfinished ...>",
        '{t} write(1, "x", 1 <unfinished ...>',
    ],
    [
        "{t} getpid() = 8 <0.000001>",
        "{t} nanosleep(NULL,  <unfinished ...>",
        "{t} +++ exited with 0 +++",
    ],
    [],
]


@pytest.mark.parametrize("workers", [1, 2], ids=["one-process", "pool"])
@pytest.mark.parametrize("stamp", STAMPS, ids=["ttt", "tt", "r", "none"])
def test_split_calls_and_pending_calls_of_each_file(tmp_path, workers, stamp):
    """Split calls joined in their file, calls never resumed yielded at their pid's exit or
    at the end of their file, merged with the other files by time: the reference's rows."""
    prefix = _write_set(tmp_path, THREADS, stamp, times_back=False)
    expected = read_trace(prefix, engine="reference")
    frame = read_frame(ff_set(prefix), workers=workers, chunk_bytes=64)
    pd.testing.assert_frame_equal(expected, frame)
    profile = count_file(ff_set(prefix), workers=workers, chunk_bytes=64)
    assert count_trace(prefix, engine="reference") == profile
    assert [100, 107] == sorted(frame["pid"].unique().tolist())
    assert 7 == len(frame)


def test_times_going_back_and_odd_lines_are_turned_down(tmp_path):
    """A file whose times go back, or holding a line that is no event, goes to the
    reference."""
    (tmp_path / "back").mkdir()
    back = _write_set(tmp_path / "back", THREADS, STAMPS[0], times_back=True)
    with pytest.raises(FastPathUnsupported, match="times go back"):
        read_frame(ff_set(back))
    (tmp_path / "odd").mkdir()
    odd = _write_set(tmp_path / "odd", [["{t} getpid() = 1", "some program output"]], "", False)
    with pytest.raises(FastPathUnsupported, match="no event"):
        read_frame(ff_set(odd))
    assert_same_set(back)
    assert_same_set(odd)


def test_prefix_is_the_layout_of_strace_f():
    """Each line gets its pid padded to 5 columns and a space; a last line without a newline
    gets one."""
    assert b"" == _prefixed(7, b"")
    assert b"7     a\n7     b\n" == _prefixed(7, b"a\nb")
    assert b"1234567 a\n" == _prefixed(1234567, b"a\n")


@pytest.mark.strace
def test_real_set_reads_fast(run_strace, tmp_path):
    """A real -ff set of a program with threads and children: the reference's frame, through
    the fast engine (not turned down)."""
    prefix = tmp_path / "ff"
    run_strace(["-ff", "-ttt", "-T", "-y", "-o", str(prefix)], [sys.executable, str(TRACEE)])
    assert len(ff_set(prefix)) >= 2
    expected = read_trace(prefix, engine="reference")
    pd.testing.assert_frame_equal(expected, read_trace(prefix, engine="fast"))
    pd.testing.assert_frame_equal(expected, read_frame(ff_set(prefix), workers=2, chunk_bytes=64))
    assert count_trace(prefix, engine="reference") == count_trace(prefix, engine="fast")

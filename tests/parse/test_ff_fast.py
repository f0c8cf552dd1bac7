"""``strace -ff`` sets through the fast engine: the same frame as the reference's merge of the
set, or turned down (FastPathUnsupported) for what it does not reproduce."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_fast import ODD_LINES, TRACEE

from syscall_parse._fast import count_file, read_frame
from syscall_parse._fast.chunks import chunk_ranges
from syscall_parse._fast.ff import _prefixed
from syscall_parse.counts import count_trace
from syscall_parse.engine import FastPathUnsupported
from syscall_parse.inputs import ff_set
from syscall_parse.table import read_parquet, read_trace

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


@pytest.mark.parametrize("workers", [1, 2], ids=["one-process", "pool"])
def test_set_to_parquet_and_profile_do_not_import_pandas(tmp_path, workers):
    """Parquet and the profile of a -ff set from the fast engine never load pandas (0.2 s of a
    command's start-up): the merge builds and reads its arrays from numpy buffers."""
    prefix = _write_set(tmp_path, THREADS, STAMPS[0], times_back=False)
    out = tmp_path / "events.parquet"
    code = (
        "import sys\n"
        "from syscall_parse._fast import count_file, iter_batches\n"
        "from syscall_parse.inputs import ff_set\n"
        "from syscall_parse.writers import write_parquet_batches\n"
        f"pairs = ff_set({str(prefix)!r})\n"
        f"batches = iter_batches(pairs, workers={workers}, chunk_bytes=64)\n"
        f"assert write_parquet_batches((b for b, _ in batches), {str(out)!r})\n"
        f"assert count_file(pairs, workers={workers}, chunk_bytes=64).syscalls\n"
        "print('pandas' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=120
    )
    assert "False" == result.stdout.strip()
    pd.testing.assert_frame_equal(read_trace(prefix, engine="reference"), read_parquet(out))


def test_times_going_back_across_pieces_are_turned_down(tmp_path):
    """A file whose times go back from one piece to the next (whose first lines, resumed
    halves, tell no time to merge by) is turned down, not merged out of order; and the time
    of a piece's first line promises no more than its file's rows give: a later line before
    it sends the set to the reference too."""
    resumed = "{t} <... nanosleep resumed>NULL) = ? ERESTART_RESTARTBLOCK (Interrupted) <0.5>"
    (tmp_path / "across").mkdir()
    across = _write_set(
        tmp_path / "across", [[EVENT_LINES[0]], [resumed, resumed]], STAMPS[0], True
    )
    (tmp_path / "promise").mkdir()
    getpid = "{t} getpid() = 8 <0.000001>"
    files = [[], [getpid], ["{t} nanosleep(NULL,  <unfinished ...>", getpid]]
    promise = _write_set(tmp_path / "promise", files, STAMPS[0], times_back=True)
    for prefix in (across, promise):
        with pytest.raises(FastPathUnsupported, match="times go back"):
            read_frame(ff_set(prefix), workers=1, chunk_bytes=64)
        assert_same_set(prefix)


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


# A thread's lines, over and over: whole calls, calls split over two lines, a signal, a call
# never resumed (yielded before its thread's next call).
CYCLE = [
    "{t} getpid() = 8 <0.000001>",
    "{t} read(3,  <unfinished ...>",
    '{t} <... read resumed>"ab", 2) = 2 <0.000027>',
    "{t} --- SIGCHLD {{si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=1}} ---",
    "{t} futex(0x1, FUTEX_WAIT, 0, NULL <unfinished ...>",
    '{t} write(1, "x", 1 <unfinished ...>',
    "{t} <... write resumed>) = 1 <0.000004>",
    '{t} openat(AT_FDCWD, "/tmp/a", O_RDONLY) = -1 ENOENT (No such file) <0.000011>',
]


def _straddling(prefix: Path, frame: pd.DataFrame, chunk_bytes: int) -> int:
    """The joined calls of ``frame`` whose halves lie in different pieces of their file."""
    straddling = 0
    for tid, path in ff_set(prefix):
        data = path.read_bytes()
        borders = [data.count(b"\n", 0, chunk.start) for chunk in chunk_ranges(path, chunk_bytes)]
        rows = frame[frame["pid"] == tid]
        first = pd.Series(borders).searchsorted(rows["line"], side="left")
        last = pd.Series(borders).searchsorted(rows["end_line"], side="left")
        straddling += int((first != last).sum())
    return straddling


@pytest.mark.parametrize("workers", [1, 2], ids=["one-process", "pool"])
def test_files_of_many_pieces_with_calls_split_across_them(tmp_path, workers):
    """Files read in many pieces each, their split calls joined across piece borders, threads
    ending at different times (one with a call never resumed, one with its exit) while the
    others go on: the reference's rows and profile, read fast (not turned down)."""
    lengths = (1500, 1000, 600, 1200)
    files = [(CYCLE * 200)[:length] for length in lengths]
    files[1][-1] = "{t} nanosleep(NULL,  <unfinished ...>"
    files[2][-1] = "{t} +++ exited with 0 +++"
    prefix = _write_set(tmp_path, files, STAMPS[0], times_back=False)
    expected = read_trace(prefix, engine="reference")
    frame = read_frame(ff_set(prefix), workers=workers, chunk_bytes=2048)
    pd.testing.assert_frame_equal(expected, frame)
    profile = count_file(ff_set(prefix), workers=workers, chunk_bytes=2048)
    assert count_trace(prefix, engine="reference") == profile
    assert _straddling(prefix, frame, 2048) > 20
    assert sorted(100 + 7 * n for n in range(4)) == sorted(frame["pid"].unique().tolist())


# '1795869296.000010 ': the time of a -ff -ttt line.
_TIME = re.compile(rb"^(\d+)\.(\d{6}) ", re.MULTILINE)


def _repeated_set(prefix: Path, target: Path, copies: int) -> Path:
    """The -ff set at ``prefix`` written ``copies`` times over into files at ``target`` (one
    per file of the set), each copy's times moved past the copy before; returns ``target``."""
    pairs = ff_set(prefix)
    texts = {tid: path.read_bytes() for tid, path in pairs}
    seconds = [int(m.group(1)) for text in texts.values() for m in _TIME.finditer(text)]
    span = max(seconds) - min(seconds) + 1
    for tid, text in texts.items():
        with open(f"{target}.{tid}", "wb") as out:
            for copy in range(copies):
                out.write(_TIME.sub(lambda m, c=copy: b"%d.%s " % (int(m.group(1)) + span * c,
                                                                   m.group(2)), text))  # fmt: skip
    return target


# Runs argv[1:] and prints the largest ru_maxrss (kB) of its process tree.
_PEAK = (
    "import resource, subprocess, sys\n"
    "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def _peak_mb(prefix: Path, out: Path) -> float:
    """The peak RSS of the largest process of ``syscall-lab parse PREFIX -o OUT``."""
    result = subprocess.run(
        [sys.executable, "-c", _PEAK, sys.executable, "-m", "syscall_lab", "parse", str(prefix),
         "-o", str(out)],
        cwd=Path(__file__).parents[2], check=True, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    return int(result.stdout) / 1024


@pytest.mark.slow
@pytest.mark.strace
def test_memory_does_not_grow_with_the_set(run_strace, tmp_path):
    """A real -ff set of threads made 40 MB and 160 MB long: the largest process of the
    parse to Parquet grows far less than the set (it held 1.6 times the set: 460 MB at 100 MB)
    and stays under 300 MB, as a plain log's parse does (test_batches). Its peak RSS counts
    the libraries' pages mapped from the page cache: 214-232 MB here, 250-273 MB on a machine
    whose libraries were just installed (90 MB of them against 54), docs/performance.md."""
    real = tmp_path / "real"
    run_strace(["-ff", "-ttt", "-T", "-o", str(real)], [sys.executable, str(TRACEE)])
    copies = 40_000_000 // sum(path.stat().st_size for _, path in ff_set(real)) + 1
    small = _repeated_set(real, tmp_path / "small", copies)
    large = _repeated_set(real, tmp_path / "large", 4 * copies)
    count_file(ff_set(small))  # read by the fast engine (not turned down to the reference)
    small_mb = _peak_mb(small, tmp_path / "small.parquet")
    large_mb = _peak_mb(large, tmp_path / "large.parquet")
    rows = [pq.read_metadata(tmp_path / f"{name}.parquet").num_rows for name in ("small", "large")]
    assert 4 * rows[0] == rows[1]
    assert large_mb < 1.5 * small_mb, (small_mb, large_mb)
    assert large_mb < 300, large_mb

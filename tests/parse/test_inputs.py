"""Reading logs: plain, compressed, non-UTF-8 bytes, -ff sets, and clear errors for bad paths."""

from __future__ import annotations

import gzip
import io
import lzma
import os
import sys

import pytest

from syscall_parse.errors import InputError
from syscall_parse.events import Syscall, Unparsed
from syscall_parse.inputs import ff_files, iter_trace, read_lines

LOG = b'openat(AT_FDCWD, "/x", O_RDONLY) = -1 ENOENT (No such file or directory)\n'


@pytest.mark.parametrize(
    ("name", "compress"),
    [
        pytest.param("t.log", lambda b: b, id="plain"),
        pytest.param("t.log.gz", gzip.compress, id="gz"),
        pytest.param("t.log.xz", lzma.compress, id="xz"),
    ],
)
def test_compressed_logs_read_transparently(tmp_path, name, compress):
    """.gz and .xz files give the same lines as the plain file."""
    path = tmp_path / name
    path.write_bytes(compress(LOG * 3))
    assert [LOG.decode()] * 3 == list(read_lines(path))


def test_stdin_is_dash(monkeypatch):
    """'-' reads standard input."""
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(LOG * 2)))
    assert 2 == sum(isinstance(e, Syscall) for e in iter_trace("-"))


def test_non_utf8_bytes_survive(tmp_path):
    """Bytes that are not UTF-8 (spliced program output) never crash and come back intact."""
    raw = b"\xff\xfe program output\n" + LOG
    path = tmp_path / "t.log"
    path.write_bytes(raw)
    events = list(iter_trace(path))
    assert isinstance(events[1], Syscall)
    assert b"\xff\xfe program output" == events[0].text.encode("utf-8", "surrogateescape")


def _write_ff(tmp_path, timed: bool) -> None:
    stamp = (lambda s: f"1700000000.{s:06d} ") if timed else (lambda s: "")
    (tmp_path / "trace.200").write_text(
        f"{stamp(2)}getpid() = 200\n{stamp(4)}+++ exited with 0 +++\n"
    )
    (tmp_path / "trace.100").write_text(
        f"{stamp(1)}getppid() = 1\n{stamp(3)}wait4(-1, NULL, 0, NULL) = 200\n"
        f"{stamp(5)}+++ exited with 0 +++\n"
    )
    (tmp_path / "trace.other").write_text("not part of the set\n")


def test_ff_prefix_merges_by_time(tmp_path):
    """A -ff prefix: pids from the file names, events merged by timestamp."""
    _write_ff(tmp_path, timed=True)
    events = list(iter_trace(tmp_path / "trace"))
    expected = [(100, 1), (200, 2), (100, 3), (200, 4), (100, 5)]
    assert expected == [(e.pid, round((e.time - 1700000000) * 1e6)) for e in events]


def test_ff_without_times_concatenates_in_pid_order(tmp_path):
    """Without timestamps the files follow one another in pid order."""
    _write_ff(tmp_path, timed=False)
    events = list(iter_trace([tmp_path / "trace.200", tmp_path / "trace.100"]))
    assert [100, 100, 100, 200, 200] == [e.pid for e in events]
    assert [(100, tmp_path / "trace.100"), (200, tmp_path / "trace.200")] == ff_files(
        tmp_path / "trace"
    )


def test_several_logs_are_read_in_turn(tmp_path):
    """Logs that are not a -ff set are read one after another."""
    (tmp_path / "a.log").write_bytes(LOG)
    (tmp_path / "b.log").write_text("garbage\n")
    events = list(iter_trace([tmp_path / "a.log", tmp_path / "b.log"]))
    assert [Syscall, Unparsed] == [type(e) for e in events]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(lambda p: p / "missing.log", "no such file", id="missing"),
        pytest.param(lambda p: p, "is a directory", id="directory"),
    ],
)
def test_bad_paths_raise_input_error(tmp_path, make, message):
    """A missing path or a directory is an InputError with a one-line message."""
    with pytest.raises(InputError, match=message) as info:
        list(iter_trace(make(tmp_path)))
    assert "\n" not in str(info.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_raises_input_error(tmp_path):
    """A file without read permission is an InputError."""
    path = tmp_path / "t.log"
    path.write_bytes(LOG)
    path.chmod(0)
    with pytest.raises(InputError, match="permission denied"):
        list(iter_trace(path))


def test_corrupt_gzip_raises_input_error(tmp_path):
    """A .gz file that is not gzip data is an InputError, not a traceback."""
    path = tmp_path / "t.log.gz"
    path.write_bytes(b"not gzip at all\n")
    with pytest.raises(InputError, match="cannot read"):
        list(iter_trace(path))

"""Any bytes and every number strace prints: both engines read them alike, and both table
writers hold them exactly (bytes that are not UTF-8 as ``\\xNN``, ``schema.table_text``)."""

from __future__ import annotations

import contextlib
import subprocess
import sys

import pandas as pd
import pandas.testing as pdt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import log_bytes, register_values

from syscall_parse._fast import count_file, read_frame
from syscall_parse.counts import count_trace
from syscall_parse.engine import FastPathUnsupported
from syscall_parse.lines import parse_line, return_value
from syscall_parse.schema import table_text
from syscall_parse.table import read_csv, read_parquet, read_trace, write_csv, write_parquet


def _frames(path) -> list[pd.DataFrame]:
    """The frames of the reference, of ``engine="auto"`` and of the fast engine cut into
    64-byte chunks (unless it declines the log); equal to each other, unparsed counts too."""
    frames = [read_trace(path, engine="reference"), read_trace(path)]
    with contextlib.suppress(FastPathUnsupported):
        frames.append(read_frame(path, workers=1, chunk_bytes=64))
    for frame in frames[1:]:
        pdt.assert_frame_equal(frames[0], frame)
        assert frames[0].attrs == frame.attrs
    return frames


@given(data=log_bytes())
def test_any_bytes_read_alike_and_written_exactly(tmp_path_factory, data):
    """Arbitrary bytes among strace lines: equal frames and profiles from both engines, and
    CSV and Parquet files that read back to the very frame."""
    folder = tmp_path_factory.mktemp("bytes")
    path = folder / "trace.log"
    path.write_bytes(data)
    frame = _frames(path)[0]
    profile = count_trace(path, engine="reference")
    assert profile == count_trace(path)
    with contextlib.suppress(FastPathUnsupported):
        assert profile == count_file(path, workers=1, chunk_bytes=64)
    for suffix, write, read in ((".csv", write_csv, read_csv), (".parquet", write_parquet,
                                                               read_parquet)):  # fmt: skip
        out = folder / f"events{suffix}"
        write(frame, out)
        pdt.assert_frame_equal(frame, read(out), check_exact=True)


@given(output=st.binary(max_size=30).filter(lambda b: not set(b) & set(b'\n()"[]{}<>=\\')))
def test_bytes_spliced_into_a_call_are_kept_as_backslash_x(tmp_path_factory, output):
    """Program bytes spliced into a call line reach its args: valid UTF-8 as text, every other
    byte as \\xNN, which is what ``bytes.decode("utf-8", "backslashreplace")`` gives."""
    path = tmp_path_factory.mktemp("spliced") / "trace.log"
    path.write_bytes(b'7  write(2, "x", 1%s) = 1\n' % output)
    for frame in _frames(path):
        assert ['2, "x", 1' + output.decode("utf-8", "backslashreplace")] == list(frame["args"])


def test_table_text_escapes_only_what_is_not_utf8():
    """Valid text stays as it is, backslashes included; each byte that is not UTF-8 is \\xNN."""
    raw = b"h\xc3\xa9 \\x41 \xff\xfe\x00\r"
    assert r"hé \x41 \xff\xfe" + "\x00\r" == table_text(raw.decode("utf-8", "surrogateescape"))


@given(register_values())
def test_every_return_value_strace_prints(tmp_path_factory, value):
    """-2**63 to 2**64 - 1, decimal, hex or octal, decorated or not: ``retval`` is the 64-bit
    register's signed value and ``ret`` the exact text, in both engines."""
    text, expected = value
    path = tmp_path_factory.mktemp("numbers") / "trace.log"
    path.write_text(f"7  lseek(3, 0, SEEK_END) = {text} <0.000001>\n")
    assert expected == return_value(text) == parse_line(path.read_text()).retval
    for frame in _frames(path):
        assert ([text], [expected]) == (list(frame["ret"]), list(frame["retval"]))


def test_numbers_no_register_holds_have_no_value(tmp_path):
    """Numbers beyond 64 bits (program output, not strace's) keep their text, with no value."""
    path = tmp_path / "trace.log"
    tokens = ["18446744073709551616", "-9223372036854775809", "0x1" + "0" * 16, "9" * 5000]
    path.write_text("".join(f"7  lseek(3, 0, SEEK_END) = {t}\n" for t in tokens))
    for frame in _frames(path):
        assert (tokens, [pd.NA] * 4) == (list(frame["ret"]), list(frame["retval"]))


HUGE_LINE_RUNNER = """
import resource, sys
from syscall_parse.counts import count_trace
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
profile = count_trace(sys.argv[1], engine=sys.argv[2])
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(profile.counts()["write"][0], profile.counts()["read"][0], (after - before) * 1024)
"""


@pytest.mark.parametrize("engine", ["reference", "fast"])
def test_a_huge_line_costs_memory_of_its_own_size(tmp_path, engine):
    """A 32 MB string argument and a 32 MB fd path are read in memory of a few times their size
    (a regex repeating a group per character once took 144 bytes a character: 4.6 GB here)."""
    size = 32 << 20
    log = tmp_path / "huge.log"
    log.write_bytes(
        b'7  write(1, "' + b"a\\\\" * (size // 3) + b'", 3) = 3\n'
        b"7  read(3</" + b"p" * size + b'>, "x", 1) = 1\n'
    )
    done = subprocess.run(
        [sys.executable, "-c", HUGE_LINE_RUNNER, str(log), engine],
        capture_output=True, text=True, timeout=600, check=True,
    )  # fmt: skip
    writes, reads, grown = map(int, done.stdout.split())
    assert (1, 1) == (writes, reads)
    assert grown < 16 * size

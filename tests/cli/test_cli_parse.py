"""``syscall-lab parse`` and ``profile``: outputs, one-line errors with exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas.testing as pdt
import pytest

from syscall_lab.cli import main
from syscall_parse.table import read_csv, read_parquet, read_trace

LOG = (
    '5  openat(AT_FDCWD, "/x", O_RDONLY) = -1 ENOENT (No such file or directory) <0.000010>\n'
    '5  openat(AT_FDCWD, "/y", O_RDONLY) = 3 <0.000020>\n'
    "5  read(3,  <unfinished ...>\n"
    "6  getpid() = 6 <0.000001>\n"
    '5  <... read resumed>"", 10) = 0 <0.000005>\n'
    "noise from the program\n"
    "5  exit_group(0) = ?\n"
    "5  +++ exited with 0 +++\n"
)


@pytest.fixture
def log(tmp_path):
    path = tmp_path / "trace.log"
    path.write_text(LOG)
    return path


@pytest.mark.parametrize(("suffix", "read"), [(".csv", read_csv), (".parquet", read_parquet)])
def test_parse_writes_events_and_one_summary_line(log, tmp_path, capsys, suffix, read):
    """The table written equals read_trace's; one line says how many events and unparsed."""
    out = tmp_path / f"events{suffix}"
    assert 0 == main(["parse", str(log), "-o", str(out)])
    assert f"wrote 6 events to {out} (1 unparsed lines)\n" == capsys.readouterr().out
    pdt.assert_frame_equal(read_trace(log), read(out))


def test_parse_lists_unparsed_lines(log, tmp_path, capsys):
    """--unparsed lists each unparsed line with its number."""
    assert 0 == main(["parse", str(log), "-o", str(tmp_path / "e.csv"), "--unparsed"])
    assert "6: noise from the program" == capsys.readouterr().out.splitlines()[-1]


def test_profile_table(log, capsys):
    """A table like strace -c, most calls first, with a total row and the counts below."""
    assert 0 == main(["profile", str(log)])
    lines = capsys.readouterr().out.splitlines()
    assert ["calls", "errors", "seconds", "syscall"] == lines[0].split()
    assert ["2", "1", "0.000030", "openat"] == lines[2].split()
    assert ["4", "1", "0.000036", "total"] == lines[-2].split()
    assert "6 events, 1 unparsed lines" == lines[-1]


def test_profile_json(log, capsys):
    """--json prints the documented object."""
    assert 0 == main(["profile", str(log), "--json"])
    document = json.loads(capsys.readouterr().out)
    assert {
        "syscalls": {
            "openat": {"calls": 2, "errors": 1, "seconds": pytest.approx(0.00003)},
            "getpid": {"calls": 1, "errors": 0, "seconds": pytest.approx(0.000001)},
            "read": {"calls": 1, "errors": 0, "seconds": pytest.approx(0.000005)},
        },
        "events": 6,
        "unparsed": 1,
        "unreturned": {"exit_group": 1},
    } == document


@pytest.mark.parametrize("command", ["parse", "profile"])
@pytest.mark.parametrize(
    ("make", "status", "message"),
    [
        pytest.param(lambda p: p / "missing.log", 2, "no such file", id="missing"),
        pytest.param(lambda p: p, 2, "is a directory", id="directory"),
        pytest.param(lambda p: p / "text.txt", 3, "not strace output", id="not-strace"),
    ],
)
def test_bad_input_is_one_line_and_exit_code(tmp_path, capsys, command, make, status, message):
    """Bad input: one line on stderr naming the problem, the documented status, no output."""
    (tmp_path / "text.txt").write_text("just some text\nnothing else\n")
    argv = [command, str(make(tmp_path))]
    if command == "parse":
        argv += ["-o", str(tmp_path / "out.csv")]
    assert status == main(argv)
    captured = capsys.readouterr()
    assert 1 == len(captured.err.splitlines()), captured.err
    assert message in captured.err
    assert "" == captured.out
    assert not (tmp_path / "out.csv").exists()


def test_bad_input_in_a_real_process_has_no_traceback(tmp_path):
    """Run as a command: exit status 2 and one line, no traceback."""
    done = subprocess.run(
        [sys.executable, "-m", "syscall_lab", "parse", str(tmp_path / "x.log"), "-o", "o.csv"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert (2, 1) == (done.returncode, len(done.stderr.splitlines())), done.stderr
    assert "Traceback" not in done.stderr

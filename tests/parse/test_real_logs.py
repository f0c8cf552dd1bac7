"""The parser on logs strace 6.x writes here, checked against strace's own ``-C`` table.

Each run traces a real program with one option set plus ``-C``, so the trace and strace's
count of the very same calls come in one log; ``count_events`` must match it syscall by
syscall (calls and errors). ``-ff`` refuses ``-c``/``-C``, so its merge is checked on
structural facts instead.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import pytest

from syscall_parse.arguments import fd_paths
from syscall_parse.counts import count_events, count_trace
from syscall_parse.engine import FastPathUnsupported
from syscall_parse.events import Exit, Signal, Syscall, Unparsed
from syscall_parse.inputs import ff_files, iter_trace, read_lines
from syscall_parse.strace_summary import read_summary
from syscall_parse.stream import ParseStats, iter_events

# The real interpreter, not a pyenv shim: a shim would add its own processes to the trace.
PYTHON = os.path.realpath(sys.executable)
TRACEE = Path(__file__).with_name("tracee.py")
pytestmark = pytest.mark.strace

PROGRAMS = {
    "python": [PYTHON, str(TRACEE)],
    "ls": ["ls", "-la", "/", "/nonexistent"],
    "cat-missing": ["cat", "/etc/hostname", "/nonexistent"],
}

# (option set, program): every option set on the Python program, a few on coreutils.
CASES = [
    pytest.param(["-o", "trace.log"], "python", id="plain-python"),
    pytest.param(["-f", "-o", "trace.log"], "python", id="f-python"),
    pytest.param(["-f", "-tt", "-T", "-o", "trace.log"], "python", id="f-tt-T-python"),
    pytest.param(["-f", "-ttt", "-T", "-y", "-o", "trace.log"], "python", id="f-ttt-T-y-python"),
    pytest.param(["-f", "-r", "-o", "trace.log"], "python", id="f-r-python"),
    pytest.param(["-ttt", "-T", "-y", "-o", "trace.log"], "python", id="ttt-T-y-python"),
    pytest.param(["-tt", "-o", "trace.log"], "python", id="tt-python"),
    pytest.param(["-r", "-T", "-o", "trace.log"], "ls", id="r-T-ls"),
    pytest.param(
        ["-f", "-s", "256", "-yy", "-X", "verbose", "-o", "trace.log"], "python", id="f-yy-Xv"
    ),
    pytest.param(["-f"], "python", id="f-stderr-python"),
    pytest.param(["-f", "-k", "-o", "trace.log"], "cat-missing", id="f-k-stack-frames"),
    pytest.param(["-e", "write=1,2", "-o", "trace.log"], "ls", id="write-dumps-ls"),
    pytest.param(["-o", "trace.log"], "ls", id="plain-ls"),
    pytest.param(["-f", "-t", "-r", "-o", "trace.log"], "ls", id="t-r-ls"),
    pytest.param([], "cat-missing", id="stderr-cat-missing"),
    pytest.param(["-f", "-tt"], "cat-missing", id="f-tt-stderr-cat-missing"),
]


def _log_lines(run, options: list[str], tmp_path: Path) -> list[str]:
    """The lines holding the trace and the table: the -o file, or strace's stderr."""
    if "-o" in options:
        return list(read_lines(tmp_path / "trace.log"))
    return run.stderr.splitlines(keepends=True)


@pytest.mark.parametrize(("options", "program"), CASES)
def test_profile_equals_strace_table(run_strace, tmp_path, options, program):
    """Calls and errors per syscall equal strace's -C table of the same run, read by the
    reference and (a log file) by the fast engine; nothing unparsed."""
    run = run_strace(["-C", *options], PROGRAMS[program])
    lines = _log_lines(run, options, tmp_path)
    table = read_summary(lines).native
    assert table is not None, run.stderr[-2000:]
    stats = ParseStats()
    events = list(iter_events(lines, stats=stats))
    profile = count_events(events)

    assert table.counts() == profile.counts()
    if "-o" in options:
        with contextlib.suppress(FastPathUnsupported):
            assert table.counts() == count_trace(tmp_path / "trace.log", engine="fast").counts()
    assert stats.unparsed == []
    assert sum(calls for calls, _ in table.counts().values()) == table.total.calls
    _check_option_facts(options, events)
    if "-k" in options or "write=1,2" in options:
        assert stats.continuations > 0


def _check_option_facts(options: list[str], events: list) -> None:
    """What each option adds must be in the records."""
    calls = [e for e in events if isinstance(e, Syscall)]
    assert calls
    assert any(isinstance(e, Exit) for e in events)
    if "-f" in options and "-o" in options:
        assert all(e.pid is not None for e in events if isinstance(e, Syscall | Exit | Signal))
    if {"-tt", "-ttt", "-t"} & set(options):
        assert all(c.time is not None for c in calls)
    if "-r" in options:
        assert all(c.relative is not None for c in calls)
    if "-T" in options:
        assert all(c.duration is not None for c in calls if c.returned and c.ret != "?")
    if "-y" in options or "-yy" in options:
        assert any(fd_paths(c.args) for c in calls)


@pytest.mark.parametrize("program", ["python", "ls"])
def test_ff_merge(run_strace, tmp_path, program):
    """-ff files merge into one stream: pids from the file names, in time order, all parsed;
    the prefix and the list of its files give the same stream."""
    run_strace(["-ff", "-ttt", "-o", "trace"], PROGRAMS[program])
    files = ff_files(tmp_path / "trace")
    stats = ParseStats()
    events = [e for e in iter_trace(tmp_path / "trace", stats=stats) if not isinstance(e, Unparsed)]

    assert {tid for tid, _ in files} == {e.pid for e in events}
    times = [e.time for e in events if e.time is not None]
    assert sorted(times) == times
    assert stats.unparsed == []
    assert sum(1 for _ in events) == stats.events
    if len(files) > 1:  # a single PREFIX.TID file is not taken for a -ff set
        listed = list(iter_trace([path for _, path in files]))
        assert events == [e for e in listed if not isinstance(e, Unparsed)]

"""Program output on the stderr strace writes to, checked against strace's own ``-C`` table.

``talker.py`` writes prose, source code, JSON, binary bytes with and without newlines, lines
that look like strace's, and output with no newline at all, from two processes, in writes whose
lines its output cuts (within a line, across lines, inside another process's open line, before
strace's next line), every process traced (``-f``). The counts must equal strace's table of
the same run; the lines that are not strace's are counted as unparsed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from talker import OUTPUT

from syscall_parse.counts import count_events, count_trace
from syscall_parse.strace_summary import read_summary
from syscall_parse.stream import ParseStats, iter_events

PYTHON = os.path.realpath(sys.executable)
TALKER = Path(__file__).with_name("talker.py")
pytestmark = pytest.mark.strace

KINDS = [
    pytest.param(
        kind,
        marks=pytest.mark.xfail(
            reason="output that looks like strace's, written inside another process's open "
            "line, reads as strace's: only the bytes of each write (not lines) tell them apart",
            strict=True,
        ),
    )
    if kind == "strace-like"
    else kind
    for kind in OUTPUT
]


@pytest.mark.parametrize("kind", KINDS)
def test_counts_equal_strace_table_under_program_output(run_strace, tmp_path, kind):
    """Calls and errors per syscall equal strace's -C table; both engines agree."""
    run = run_strace(["-f", "-C"], [PYTHON, str(TALKER), kind])
    lines = run.stderr.splitlines(keepends=True)
    table = read_summary(lines).native
    assert table is not None, run.stderr[-2000:]
    stats = ParseStats()
    profile = count_events(iter_events(lines, stats=stats))

    assert table.counts() == profile.counts()
    log = tmp_path / "trace.log"
    log.write_text(run.stderr, errors="surrogateescape")
    assert count_trace(log, engine="reference") == count_trace(log)

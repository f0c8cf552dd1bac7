"""``iter_events``: joining split calls per pid, attributing unprefixed lines, keeping the rest."""

from __future__ import annotations

import tracemalloc

import pytest

from syscall_parse.errors import StraceParseError
from syscall_parse.events import Exit, Message, Signal, Syscall, Unparsed
from syscall_parse.stream import ParseStats, iter_events


def run(text: str, **options) -> tuple[list, ParseStats]:
    stats = ParseStats()
    events = list(iter_events(text.splitlines(keepends=True), stats=stats, **options))
    return events, stats


def test_joins_interleaved_calls_of_many_pids():
    """The real -f -o sequence from the grammar: halves joined per pid, at the resumed line."""
    events, stats = run(
        "7832  vfork( <unfinished ...>\n"
        '7833  execve("/bin/true", ["/bin/true"], 0x558daf617bd8 /* 39 vars */ <unfinished ...>\n'
        "7832  <... vfork resumed>)              = 7833\n"
        "7832  wait4(-1,  <unfinished ...>\n"
        "7833  <... execve resumed>)             = 0\n"
        "7833  +++ exited with 0 +++\n"
        "7832  <... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 7833\n"
    )
    expected = [
        Syscall(7832, "vfork", "", "7833", 7833, lines=(1, 3)),
        Syscall(
            7833,
            "execve",
            '"/bin/true", ["/bin/true"], 0x558daf617bd8 /* 39 vars */',
            "0",
            0,
            lines=(2, 5),
        ),
        Exit(7833, 0, lines=(6, 6)),
        Syscall(
            7832,
            "wait4",
            "-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL",
            "7833",
            7833,
            lines=(4, 7),
        ),
    ]
    assert expected == events
    assert (7, 4, 0, 0, []) == (
        stats.lines,
        stats.events,
        stats.unresumed,
        stats.orphans,
        stats.unparsed,
    )


def test_entry_time_and_exit_duration_are_kept():
    """A joined call has the entry half's timestamp and the exit half's -T duration."""
    events, _ = run(
        "5  10:00:00.000001 read(3,  <unfinished ...>\n"
        '5  10:00:00.500000 <... read resumed>"x", 1) = 1 <0.499999>\n'
    )
    expected = Syscall(
        5, "read", '3, "x", 1', "1", 1, duration=0.499999, time=36000.000001, lines=(1, 2)
    )
    assert [expected] == events


def test_unresumed_call_ends_with_its_pid_or_the_input():
    """An unfinished call never resumed is a call that did not return (not an -c count)."""
    events, stats = run(
        "9  nanosleep({tv_sec=5, tv_nsec=0},  <unfinished ...>\n"
        "9  +++ killed by SIGKILL +++\n"
        "10  read(0,  <unfinished ...>\n"
    )
    expected = [
        Syscall(
            9, "nanosleep", "{tv_sec=5, tv_nsec=0}, ", None, None, returned=False, lines=(1, 1)
        ),
        Exit(9, None, "SIGKILL", lines=(2, 2)),
        Syscall(10, "read", "0, ", None, None, returned=False, lines=(3, 3)),
    ]
    assert expected == events
    assert 2 == stats.unresumed


def test_resumed_without_entry_is_kept_as_partial_call():
    """A resumed half whose entry is not in the log (attach, cut log) is an orphan call."""
    events, stats = run('4  <... read resumed>"ab", 2) = 2\n')
    assert [Syscall(4, "read", '"ab", 2', "2", 2, lines=(1, 1))] == events
    assert 1 == stats.orphans


def test_name_mismatch_is_not_joined():
    """Halves are paired by pid and name: a different name is an orphan, not a join."""
    events, stats = run("4  read(3,  <unfinished ...>\n4  <... write resumed>) = 1\n")
    assert [
        Syscall(4, "write", "", "1", 1, lines=(2, 2)),
        Syscall(4, "read", "3, ", None, None, returned=False, lines=(1, 1)),
    ] == events
    assert (1, 1) == (stats.orphans, stats.unresumed)


def test_superseded_execve_moves_to_leader():
    """A thread's execve resumes under the leader's pid after 'superseded by execve'."""
    events, _ = run(
        '17971 execve("/bin/true", ["true"], 0x1 /* 3 vars */ <unfinished ...>\n'
        "17970 +++ superseded by execve in pid 17971 +++\n"
        "17970 <... execve resumed>)             = 0\n"
    )
    assert [
        Exit(17970, superseded_by=17971, lines=(2, 2)),
        Syscall(17970, "execve", '"/bin/true", ["true"], 0x1 /* 3 vars */', "0", 0, lines=(1, 3)),
    ] == events


def test_stderr_mode_learns_initial_pid_and_splits_message():
    """strace -f on stderr: the unprefixed vfork, split by strace's message, joins with its
    half resumed under [pid N]; unprefixed lines after the last child belong to that pid."""
    events, stats = run(
        "getpid()                                = 100\n"
        "vfork(strace: Process 101 attached\n"
        " <unfinished ...>\n"
        '[pid   101] execve("/bin/true", ["true"], 0x1 /* 3 vars */) = 0\n'
        "[pid   100] <... vfork resumed>)        = 101\n"
        "[pid   100] wait4(-1,  <unfinished ...>\n"
        "[pid   101] +++ exited with 0 +++\n"
        "<... wait4 resumed>NULL, 0, NULL)       = 101\n"
        "--- SIGCHLD {si_signo=SIGCHLD} ---\n"
    )
    assert [
        Syscall(None, "getpid", "", "100", 100, lines=(1, 1)),
        Message("strace: Process 101 attached", 101, (2, 2)),
        Syscall(101, "execve", '"/bin/true", ["true"], 0x1 /* 3 vars */', "0", 0, lines=(4, 4)),
        Syscall(100, "vfork", "", "101", 101, lines=(2, 5)),
        Exit(101, 0, lines=(7, 7)),
        Syscall(100, "wait4", "-1, NULL, 0, NULL", "101", 101, lines=(6, 8)),
        Signal(100, "SIGCHLD", "{si_signo=SIGCHLD}", lines=(9, 9)),
    ] == events
    assert [] == stats.unparsed


def test_line_cut_by_program_output_is_joined():
    """A call whose line the tracee's own output cut in two is one call over two lines."""
    events, _ = run('write(2, "\\n", 1\n)                       = 1\n')
    assert [Syscall(None, "write", '2, "\\n", 1', "1", 1, lines=(1, 2))] == events


def test_event_of_a_pid_not_tracing_inside_an_open_line_is_output():
    """While a call's line is open, a signal line of a pid that is not tracing is the
    program's output: kept as unparsed, with its text."""
    opened, signal = "7     getpid() = 5< <0.1>", "8     --- stopped by SIGSTOP ---"
    events, stats = run(f"7     umask(022) = 022\n{opened}\n{signal}\n")
    assert [(3, signal), (2, opened)] == stats.unparsed
    assert [Unparsed(signal, (3, 3)), Unparsed(opened, (2, 2))] == events[1:]


def test_pid_option_for_ff_files():
    """pid= gives unprefixed lines (a -ff file's) their pid."""
    events, _ = run("getpid() = 8\n+++ exited with 0 +++\n", pid=8)
    assert [Syscall(8, "getpid", "", "8", 8, lines=(1, 1)), Exit(8, 0, lines=(2, 2))] == events


def test_unparsed_and_continuation_lines_are_kept_and_counted():
    """Garbage is yielded as Unparsed and listed; frames, dumps and the table are counted."""
    events, stats = run(
        "hello\n"
        'write(1, "vm\\n", 3) = 3\n'
        " > /lib/libc.so.6(__write+0x10) [0xf8350]\n"
        " | 00000  76 6d 0a    vm.  |\n"
        "% time     seconds  usecs/call     calls    errors syscall\n"
        "------ ----------- ----------- --------- --------- ----------------\n"
        "100.00    0.000010          10         1           write\n"
        'read(0, "cut\n'
    )
    assert [
        Unparsed("hello", (1, 1)),
        Syscall(None, "write", '1, "vm\\n", 3', "3", 3, lines=(2, 2)),
        Unparsed('read(0, "cut', (8, 8)),
    ] == events
    assert [(1, "hello"), (8, 'read(0, "cut')] == stats.unparsed
    assert (2, 3, 8) == (stats.continuations, stats.summary_lines, stats.lines)


def test_strict_raises_on_first_unparsed_line():
    """strict=True stops at the first line that is not strace output, naming its number."""
    with pytest.raises(StraceParseError, match="line 2"):
        run("getpid() = 1\nnot strace\n", strict=True)


def _peak_memory(count: int) -> int:
    lines = (
        f"{1000 + i % 50}  read(3,  <unfinished ...>\n{1000 + i % 50}  <... read resumed>"
        f'"x", 1) = 1\n'
        for i in range(count)
    )
    tracemalloc.start()
    try:
        for _ in iter_events(line for pair in lines for line in pair.splitlines(True)):
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_log():
    """Only pending calls are held: ten times the lines, about the same peak memory."""
    small, large = _peak_memory(1_000), _peak_memory(10_000)
    assert large < 2 * small

"""The eBPF observer's log format: header, lines, time order, counts, and strace's conventions."""

from __future__ import annotations

import errno
import gzip
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syscall_parse.counts import Profile, SyscallCount, count_events
from syscall_parse.ebpf_log import (
    EbpfCounts,
    EbpfHeader,
    EbpfLog,
    KernelCount,
    errno_of,
    parse_event_line,
    read_ebpf_counts,
    read_ebpf_log,
    read_header,
    scan_events_log,
)
from syscall_parse.errors import InputError
from syscall_parse.events import Message, Syscall, Unparsed
from syscall_parse.schema import COLUMNS
from syscall_parse.syscall_table import syscall_name
from syscall_parse.table import events_to_frame

OFFSET = 1_700_000_000_000_000_000
MARKERS = ("/syscall-lab-phase/start", "/syscall-lab-phase/end")
EVENTS = EbpfHeader("events", OFFSET, "6.1.0-13-amd64", "v0.17.0", MARKERS)
COUNTS = EbpfHeader("counts", OFFSET, "6.1.0-13-amd64", "v0.17.0", MARKERS)


def write_log(path: Path, header: EbpfHeader, lines: list[str]) -> Path:
    path.write_text(header.text() + "".join(f"{line}\n" for line in lines))
    return path


def test_header_round_trips() -> None:
    """The identifying line reads back to the header that wrote it; a legend line follows."""
    first, legend, *rest = EVENTS.text().splitlines()

    assert EVENTS == EbpfHeader.parse(first)
    assert ("# ts tid pid nr ret dur [path]", []) == (legend, rest)


def test_header_without_markers_round_trips() -> None:
    """A log of a command that is not a workload names no markers."""
    header = EbpfHeader("counts", -5, "6.18.44", "v0.21.2")

    assert header == EbpfHeader.parse(header.text().splitlines()[0])


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("execve(...) = 0", "not an eBPF observer log"),
        ("# syscall-lab-ebpf version=2 mode=events", "eBPF log version 2, expected 1"),
        ("# syscall-lab-ebpf version=1 mode=events abi=x86_64", "bad eBPF log header"),
        (EVENTS.text().splitlines()[0].replace("mode=events", "mode=lines"), "mode 'lines'"),
        (EVENTS.text().splitlines()[0].replace("clock=monotonic", "clock=tai"), "clock 'tai'"),
    ],
    ids=["strace", "version", "missing-fields", "mode", "clock"],
)
def test_bad_headers_are_input_errors(line: str, message: str) -> None:
    """A header this reader cannot read is an InputError that says why, naming the log."""
    with pytest.raises(InputError, match=message) as raised:
        EbpfHeader.parse(line, where="run/ebpf-events.log")
    assert str(raised.value).startswith("run/ebpf-events.log: ")


def test_header_values_must_be_words() -> None:
    """A value with a space would split the header line: refused when it is written."""
    with pytest.raises(ValueError, match="words"):
        EbpfHeader("events", 0, "6.1 custom", "v0.17.0").text()


def test_read_header_tells_ebpf_logs_from_strace_logs(tmp_path: Path) -> None:
    """The first line decides: the header of an eBPF log, None for an strace log."""
    strace_log = tmp_path / "trace.log"
    strace_log.write_text('1700000000.000001 execve("/bin/true", ["true"], 0x7ffc) = 0 <0.0001>\n')
    ebpf_log = write_log(tmp_path / "ebpf-events.log", EVENTS, [])

    assert (None, EVENTS) == (read_header(strace_log), read_header(ebpf_log))


@pytest.mark.parametrize(
    ("ret", "expected"),
    [
        (0, None),
        (3, None),
        (-2, ("ENOENT", "No such file or directory", False)),
        (-11, ("EAGAIN", "Resource temporarily unavailable", False)),
        (-35, ("EDEADLK", "Resource deadlock avoided", False)),
        (-95, ("EOPNOTSUPP", "Operation not supported", False)),
        (-41, ("ERRNO_41", "Unknown error 41", False)),
        (-512, ("ERESTARTSYS", "To be restarted if SA_RESTART is set", True)),
        (-513, ("ERESTARTNOINTR", "To be restarted", True)),
        (-514, ("ERESTARTNOHAND", "To be restarted if no handler", True)),
        (-516, ("ERESTART_RESTARTBLOCK", "Interrupted by signal", True)),
        (-515, ("ERRNO_515", "Unknown error 515", False)),
        (-4095, ("ERRNO_4095", "Unknown error 4095", False)),
        (-4096, None),
    ],
)  # fmt: skip
def test_errno_names_are_straces(ret: int, expected: tuple[str, str, bool] | None) -> None:
    """-4095..-1 are errors, named as strace names them (the kernel's name where Python's
    errno module picks an alias), the restart codes as strace prints them."""
    assert expected == errno_of(ret)


def test_every_python_errno_name_is_kept_but_the_aliases() -> None:
    """Apart from the kernel's own names for 35 and 95, names are Python's errno module's."""
    renamed = {
        number: errno_of(-number)[0]  # type: ignore[index]
        for number, name in errno.errorcode.items()
        if errno_of(-number)[0] != name  # type: ignore[index]
    }
    assert {35: "EDEADLK", 95: "EOPNOTSUPP"} == renamed


T0 = 1_000_000_000  # a monotonic ns stamp; + OFFSET is the epoch time below
TIME = (T0 + OFFSET) / 1e9


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f"{T0} 7 7 0 832 1502",
         Syscall(7, "read", None, "832", 832, duration=1.502e-6, time=TIME, lines=(9, 9))),
        (f"{T0} 8 7 262 -2 1222",
         Syscall(8, "newfstatat", None, "-1", -1, "ENOENT", "No such file or directory",
                 duration=1.222e-6, time=TIME, lines=(9, 9))),
        (f"{T0} 7 7 230 -516 20",
         Syscall(7, "clock_nanosleep", None, "?", None, "ERESTART_RESTARTBLOCK",
                 "Interrupted by signal", duration=2e-8, time=TIME, lines=(9, 9))),
        (f"{T0} 7 7 9 140737354125312 900",
         Syscall(7, "mmap", None, "140737354125312", 140737354125312, duration=9e-7, time=TIME,
                 lines=(9, 9))),
        (f"{T0} 7 7 8 -5000 900",
         Syscall(7, "lseek", None, "-5000", -5000, duration=9e-7, time=TIME, lines=(9, 9))),
        (f"{T0} 7 7 231 ? ?",
         Syscall(7, "exit_group", None, "?", None, time=TIME, returned=False, lines=(9, 9))),
        (f"{T0} 7 7 262 -2 1222 /syscall-lab-phase/start",
         Syscall(7, "newfstatat", '"/syscall-lab-phase/start"', "-1", -1, "ENOENT",
                 "No such file or directory", duration=1.222e-6, time=TIME, lines=(9, 9))),
        (f"{T0} 7 7 999 0 5",
         Syscall(7, "syscall_0x3e7", None, "0", 0, duration=5e-9, time=TIME, lines=(9, 9))),
        ("Lost 35 events", None),
        ("@recorded: 12", None),
        (f"{T0} 7 7 0 832", None),
    ],
    ids=["read", "enoent", "restart", "address", "negative-not-errno", "unreturned", "marker",
         "unknown-number", "lost", "recorded", "short"],
)  # fmt: skip
def test_event_lines(line: str, expected: Syscall | None) -> None:
    """Each events line is the record strace's line for that call gives, without arguments:
    pid is the thread, time epoch seconds, duration seconds, errors -1 and their errno."""
    assert expected == parse_event_line(line, 9, EVENTS)


@given(
    ts=st.integers(0, 2**63 - 1),
    tid=st.integers(1, 2**22),
    nr=st.integers(0, 600),
    ret=st.integers(-(2**63), 2**63 - 1),
    dur=st.integers(0, 2**63 - 1),
)
def test_any_event_line_keeps_its_numbers(ts: int, tid: int, nr: int, ret: int, dur: int) -> None:
    """Whatever the kernel writes, the record keeps its thread, syscall, time and duration, and
    fails exactly when the value is minus an errno."""
    call = parse_event_line(f"{ts} {tid} {tid} {nr} {ret} {dur}", 2, EVENTS)

    assert call is not None
    assert (tid, syscall_name(nr, "x86_64"), (ts + OFFSET) / 1e9, dur / 1e9) == (
        call.pid, call.name, call.time, call.duration
    )  # fmt: skip
    assert (-4095 <= ret < 0) == call.failed
    assert call.retval in (ret, -1, None)


def test_log_is_read_in_time_order_with_its_messages(tmp_path: Path) -> None:
    """Lines come in batches per thread; the reader orders calls by entry time (then line),
    counts what bpftrace lost, keeps its messages, skips comments, and keeps bad lines."""
    log = write_log(tmp_path / "ebpf-events.log", EVENTS, [
        "__BPFTRACE_NOTIFY_PROBES_ATTACHED",
        f"{T0 + 30} 8 7 1 5 10",
        f"{T0 + 10} 7 7 0 5 10",
        "Lost 2 events",
        f"{T0 + 20} 7 7 1 5 10",
        "# a comment",
        "",
        f"{T0 + 10} 9 7 3 0 10",
        "garbage here",
        "@recorded: 20",
    ])  # fmt: skip

    result = read_ebpf_log(log)

    assert [(7, 5), (9, 10), (7, 7), (8, 4)] == [(c.pid, c.lines[0]) for c in result.events]
    assert (EVENTS, 20, 2, False) == (result.header, result.recorded, result.lost, result.complete)
    assert (
        Message("__BPFTRACE_NOTIFY_PROBES_ATTACHED", lines=(3, 3)),
        Message("Lost 2 events", lines=(6, 6)),
    ) == result.messages
    assert (Unparsed("garbage here", (11, 11)),) == result.unparsed


def test_whole_log_is_complete_and_compressed_logs_read(tmp_path: Path) -> None:
    """A log with as many calls as the kernel recorded and nothing lost is complete; a gzip
    copy reads the same."""
    lines = [f"{T0} 7 7 0 5 10", f"{T0 + 1} 7 7 231 ? ?", "", "@recorded: 2"]
    log = write_log(tmp_path / "ebpf-events.log", EVENTS, lines)
    packed = tmp_path / "ebpf-events.log.gz"
    packed.write_bytes(gzip.compress(log.read_bytes()))

    assert read_ebpf_log(log).complete
    assert read_ebpf_log(log) == read_ebpf_log(packed)


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([f"{T0} 7 7 0 5 10", f"{T0} 7 7 231 ? ?", "", "@recorded: 2"], (2, 2)),
        ([f"{T0} 7 7 0 5 10", "Lost 1 events", "# note", "@recorded: 9"], (1, 9)),
        ([f"{T0} 7 7 0 5 10"], (1, None)),
    ],
    ids=["whole", "lost", "no-end"],
)
def test_quick_scan_counts_calls_and_recorded(tmp_path: Path, lines, expected) -> None:
    """The scan a capture makes at its end: call lines, and the kernel's count of calls."""
    assert expected == scan_events_log(write_log(tmp_path / "e.log", EVENTS, lines))


def test_events_feed_the_same_pipeline(tmp_path: Path) -> None:
    """The records make an event table of the schema, args null, and count like strace -c:
    unreturned calls apart, restart codes as errors."""
    log = read_ebpf_log(write_log(tmp_path / "e.log", EVENTS, [
        f"{T0} 7 7 0 5 1000",
        f"{T0 + 1} 7 7 0 -512 3000",
        f"{T0 + 2} 7 7 257 -2 500",
        f"{T0 + 3} 7 7 231 ? ?",
    ]))  # fmt: skip

    frame = events_to_frame(log.events)
    profile = count_events(log.events)

    assert list(COLUMNS) == list(frame.columns)
    assert [True] * 4 == frame["args"].isna().tolist()
    assert ["read", "read", "openat", "exit_group"] == frame["syscall"].tolist()
    assert Profile(
        (("read", SyscallCount(2, 1, 4e-6)), ("openat", SyscallCount(1, 1, 5e-7))),
        events=4, unparsed=0, unreturned=(("exit_group", 1),),
    ) == profile  # fmt: skip


def test_mode_mismatch_and_missing_log_are_input_errors(tmp_path: Path) -> None:
    """Reading a counts log as events (or the reverse), or no log at all, says which."""
    counts = write_log(tmp_path / "c.log", COUNTS, [])
    events = write_log(tmp_path / "e.log", EVENTS, [])

    with pytest.raises(InputError, match="an eBPF counts log, not an events log"):
        read_ebpf_log(counts)
    with pytest.raises(InputError, match="an eBPF events log, not an counts log"):
        read_ebpf_counts(events)
    with pytest.raises(InputError, match="no such file"):
        read_ebpf_log(tmp_path / "missing.log")


COUNTS_LINES = [
    "", "",
    "@recorded: 14",
    "@unreturned[2, 231]: 1",
    "@markers[1]: 1",
    "@markers[2]: 1",
    "@calls[0, 0]: count 4, average 1000, total 4000",
    "@calls[0, 262]: count 1, average 1000, total 1000",
    "@calls[1, 9]: count 2, average 1000, total 2000",
    "@calls[1, 11]: count 2, average 1000, total 2000",
    "@calls[1, 262]: count 3, average 1000, total 3000",
    "@calls[2, 262]: count 1, average 1000, total 1000",
    "@errors[0, 262]: 1",
    "@errors[1, 262]: 3",
    "@errors[2, 262]: 1",
]  # fmt: skip


def test_counts_log_rows(tmp_path: Path) -> None:
    """The kernel's counts read into rows by segment (before, between, after the markers) and
    syscall, names from the x86-64 table; the marker calls and recorded calls beside."""
    counts = read_ebpf_counts(write_log(tmp_path / "c.log", COUNTS, COUNTS_LINES))

    expected = EbpfCounts(
        COUNTS,
        (
            KernelCount(0, "newfstatat", 1, 1, 1000),
            KernelCount(0, "read", 4, 0, 4000),
            KernelCount(1, "mmap", 2, 0, 2000),
            KernelCount(1, "munmap", 2, 0, 2000),
            KernelCount(1, "newfstatat", 3, 3, 3000),
            KernelCount(2, "exit_group", unreturned=1),
            KernelCount(2, "newfstatat", 1, 1, 1000),
        ),
        markers=(1, 1),
        recorded=14,
    )
    assert expected == counts


def test_counts_log_profiles(tmp_path: Path) -> None:
    """A segment's profile or the whole run's, like strace -c, nanoseconds summed before they
    become seconds; complete when the counts hold every recorded call."""
    counts = read_ebpf_counts(write_log(tmp_path / "c.log", COUNTS, COUNTS_LINES))
    short = read_ebpf_counts(write_log(tmp_path / "d.log", COUNTS, COUNTS_LINES[3:]))

    assert Profile(
        (("newfstatat", SyscallCount(3, 3, 3e-6)), ("mmap", SyscallCount(2, 0, 2e-6)),
         ("munmap", SyscallCount(2, 0, 2e-6))),
        events=7, unparsed=0,
    ) == counts.profile([1])  # fmt: skip
    assert Profile(
        (("newfstatat", SyscallCount(5, 5, 5e-6)), ("read", SyscallCount(4, 0, 4e-6)),
         ("mmap", SyscallCount(2, 0, 2e-6)), ("munmap", SyscallCount(2, 0, 2e-6))),
        events=14, unparsed=0, unreturned=(("exit_group", 1),),
    ) == counts.profile()  # fmt: skip
    assert (True, None, False) == (counts.complete, short.recorded, short.complete)


def test_counts_log_keeps_bad_lines(tmp_path: Path) -> None:
    """A line that is not a count of the format is kept and counted as unparsed."""
    counts = read_ebpf_counts(
        write_log(tmp_path / "c.log", COUNTS, ["@errors[7, 0]: 1", "@other: 2", "@errors[0, 0]: 1"])
    )

    assert (Unparsed("@errors[7, 0]: 1", (3, 3)), Unparsed("@other: 2", (4, 4))) == counts.unparsed
    assert 2 == counts.profile().unparsed


def test_log_record_is_frozen() -> None:
    """Read logs are values: frozen and slotted."""
    log = EbpfLog(EVENTS, (), None, 0)
    with pytest.raises(AttributeError):
        log.lost = 1  # type: ignore[misc]

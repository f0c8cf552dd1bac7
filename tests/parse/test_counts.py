"""``count_events`` counts like strace -c: returned calls, errors, -T seconds."""

from __future__ import annotations

from syscall_parse.counts import Profile, SyscallCount, count_events
from syscall_parse.events import Exit, Syscall, Unparsed

EVENTS = [
    Syscall(1, "read", "3, ...", "4", 4, duration=0.25),
    Syscall(1, "read", "3, ...", "?", None, errno="ERESTARTSYS", errno_text="x", duration=0.5),
    Syscall(1, "openat", "...", "-1", -1, errno="ENOENT", errno_text="No such file"),
    Syscall(1, "openat", "...", "3", 3),
    Syscall(1, "openat", "...", "4", 4),
    Syscall(1, "getpid", "", "?", None, note="<unavailable>"),
    Syscall(1, "exit_group", "0", "?", None, returned=False),
    Exit(1, 0),
    Unparsed("junk"),
]


def test_counts_like_strace_c():
    """Returned calls only, errors include ERESTART*, seconds only where -T gave durations."""
    expected = Profile(
        (
            ("openat", SyscallCount(3, 1, None)),
            ("read", SyscallCount(2, 1, 0.75)),
            ("getpid", SyscallCount(1, 0, None)),
        ),
        events=8,
        unparsed=1,
        unreturned=(("exit_group", 1),),
    )
    assert expected == count_events(EVENTS)


def test_json_shape():
    """The documented JSON form, syscalls most calls first."""
    assert {
        "syscalls": {
            "openat": {"calls": 3, "errors": 1, "seconds": None},
            "read": {"calls": 2, "errors": 1, "seconds": 0.75},
            "getpid": {"calls": 1, "errors": 0, "seconds": None},
        },
        "events": 8,
        "unparsed": 1,
        "unreturned": {"exit_group": 1},
    } == count_events(EVENTS).to_json()

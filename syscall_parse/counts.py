"""Per-syscall counts of a trace, counted the way ``strace -c`` counts them.

A call counts when it returned: ``= ?`` calls (``exit_group``, calls cut short by the death
of their process, unfinished calls never resumed) are listed apart as ``unreturned``. Errors
are the calls that returned an errno: ``-1 ENOENT (...)``, ``-1 (errno N)`` and the
``? ERESTART*`` results of interrupted calls. ``seconds`` sums the ``-T`` durations, or is
None when the trace has none for that syscall.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from syscall_parse.engine import Engine, FastPathUnsupported, Source, fast_path
from syscall_parse.events import Event, Syscall, Unparsed

__all__ = ["Profile", "SyscallCount", "count_events", "count_trace"]


@dataclass(frozen=True, slots=True)
class SyscallCount:
    """Calls that returned, how many of them failed, and their summed ``-T`` durations."""

    calls: int
    errors: int
    seconds: float | None


@dataclass(frozen=True, slots=True)
class Profile:
    """A trace's per-syscall counts, most calls first (then by name).

    ``events`` counts every event but unparsed lines, ``unparsed`` those lines, and
    ``unreturned`` the calls per syscall that never returned (not in ``syscalls``).
    """

    syscalls: tuple[tuple[str, SyscallCount], ...]
    events: int
    unparsed: int
    unreturned: tuple[tuple[str, int], ...] = ()

    @classmethod
    def from_counts(
        cls,
        calls: Mapping[str, int],
        errors: Mapping[str, int],
        seconds: Mapping[str, float],
        *,
        events: int,
        unparsed: int,
        unreturned: Mapping[str, int],
    ) -> Profile:
        """A profile from per-syscall tallies (missing errors are 0, missing seconds None);
        syscalls and unreturned calls sorted most first, then by name."""
        order = sorted(calls, key=lambda name: (-calls[name], name))
        return cls(
            tuple(
                (name, SyscallCount(calls[name], errors.get(name, 0), seconds.get(name)))
                for name in order
            ),
            events,
            unparsed,
            tuple(
                sorted(((n, c) for n, c in unreturned.items() if c), key=lambda i: (-i[1], i[0]))
            ),
        )

    def counts(self) -> dict[str, tuple[int, int]]:
        """``{syscall: (calls, errors)}``, the shape of ``SummaryTable.counts``."""
        return {name: (count.calls, count.errors) for name, count in self.syscalls}

    def to_json(self) -> dict[str, object]:
        """``{"syscalls": {name: {"calls", "errors", "seconds"}}, "events", "unparsed",
        "unreturned": {name: calls}}``, syscalls most calls first."""
        return {
            "syscalls": {
                name: {"calls": c.calls, "errors": c.errors, "seconds": c.seconds}
                for name, c in self.syscalls
            },
            "events": self.events,
            "unparsed": self.unparsed,
            "unreturned": dict(self.unreturned),
        }


def count_events(events: Iterable[Event], *, unparsed: int = 0) -> Profile:
    """Count ``events`` like ``strace -c``; ``Unparsed`` events add to ``unparsed``."""
    calls: dict[str, int] = {}
    errors: dict[str, int] = {}
    seconds: dict[str, float] = {}
    unreturned: dict[str, int] = {}
    total = 0
    for event in events:
        if isinstance(event, Unparsed):
            unparsed += 1
            continue
        total += 1
        if not isinstance(event, Syscall):
            continue
        name = event.name
        if not event.returned:
            unreturned[name] = unreturned.get(name, 0) + 1
            continue
        calls[name] = calls.get(name, 0) + 1
        if event.errno is not None:
            errors[name] = errors.get(name, 0) + 1
        if event.duration is not None:
            seconds[name] = seconds.get(name, 0.0) + event.duration
    return Profile.from_counts(
        calls, errors, seconds, events=total, unparsed=unparsed, unreturned=unreturned
    )


def count_trace(source: Source, *, engine: Engine = "auto") -> Profile:
    """Count the calls of logs (any source ``table.read_trace`` takes) like ``strace -c``.

    ``engine`` as for ``read_trace``: the vectorized engine counts a plain log in bounded
    memory on every core; both engines give the same Profile. Raises InputError for
    unreadable sources. An eBPF observer's log (its first line says so) is counted by its own
    reader, whatever the engine: an events log's calls, or a counts log's kernel counts.
    """
    from syscall_parse.ebpf_log import ebpf_source, read_ebpf_counts, read_ebpf_log

    ebpf = ebpf_source(source)
    if ebpf is not None:
        log, header = ebpf
        if header.mode == "counts":
            return read_ebpf_counts(log).profile()
        calls = read_ebpf_log(log)
        return count_events(calls.events, unparsed=len(calls.unparsed))
    path = fast_path(source, engine)
    if path is not None:
        from syscall_parse._fast import count_file

        try:
            return count_file(path)
        except FastPathUnsupported:
            if engine == "fast":
                raise
    from syscall_parse.inputs import iter_trace
    from syscall_parse.stream import ParseStats

    return count_events(iter_trace(source, stats=ParseStats()))

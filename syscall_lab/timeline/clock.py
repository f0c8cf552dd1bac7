"""Each log's timestamps on one clock, in whole microseconds.

strace stamps lines four ways (strace-format.md, section 2): ``-ttt`` seconds since the epoch,
``-tt`` and ``-t`` the time of day (``-t`` whole seconds; no date, so midnight wraps), and ``-r``
the time since the previous line's start. ``Clock.stamp`` turns an event's ``time`` and
``relative`` into microseconds: epoch stamps as they are, times of day since midnight (a day
added each time the clock goes back more than twelve hours), ``-r`` deltas summed from 0, and
``-t -r`` deltas summed from the first ``-t`` stamp and held inside the second ``-t`` names.
Logs whose stamps are absolute share the clock; a ``-r`` log starts at 0.

A ``-r`` delta is the time since strace's previous line, and the line order is not the rows'
order: a call split across an ``<unfinished ...>`` and a ``<... resumed>`` line is one row, at
its resumed line, holding its entry line's delta only. So a ``-r`` clock also reads the log's
text (``lines``) beside the rows: the deltas of the split halves (``parse_line``) are summed in
line order with those of the rows, and a split call starts at the sum reached at its entry line.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from enum import Enum

from syscall_lab.errors import SyscallLabError
from syscall_parse.lines import Resumed, Unfinished, parse_line

__all__ = ["Clock", "ClockKind", "TimelineError"]

SECOND = 1_000_000  # microseconds
_DAY = 86_400 * SECOND
_EPOCH_MIN = 1e8  # an epoch stamp is above this (strace's own rule); a time of day below
_SPLIT_MARKS = ("<unfinished ...>", " resumed>")  # in every line of a split call's halves


class TimelineError(SyscallLabError):
    """A log that cannot be put on a timeline: no timestamps, or clocks that do not meet."""


class ClockKind(Enum):
    """What a log's stamps measure."""

    EPOCH = "epoch"  # -ttt
    DAY = "time of day"  # -tt
    DAY_SECONDS = "time of day in seconds, -r deltas within"  # -t -r (-t alone: DAY)
    RELATIVE = "-r deltas from the start of the log"  # -r

    @property
    def absolute(self) -> bool:
        return self is not ClockKind.RELATIVE


@dataclass(slots=True)
class Clock:
    """The clock of one log; ``kind`` is learnt from its first stamped event."""

    source: str
    lines: Generator[str, None, None] | None = None  # the log's text, for -r split calls
    kind: ClockKind | None = None
    now: int = 0  # microseconds of the last stamp
    _days: int = 0
    _read: int = 0  # lines of ``lines`` read
    _entries: dict[int, int] = field(default_factory=dict)  # entry line of a split call -> sum

    def stamp(self, time: float | None, relative: float | None, line: int, end_line: int) -> int:
        """Microseconds of an event's stamps (the event on lines ``line`` to ``end_line``); an
        event without any keeps the last stamp. Raises TimelineError on the first event of a
        log without timestamps, and on a split call in a -r log read without ``lines``."""
        if self.kind is None:
            self.kind = self._learn(time, relative)
        if self.kind is ClockKind.RELATIVE:
            return self._relative(relative, line, end_line)
        if time is None:
            pass
        elif self.kind is ClockKind.EPOCH:
            self.now = round(time * SECOND)
        else:
            at = round(time * SECOND) + self._days * _DAY
            if at < self.now - _DAY // 2:  # past midnight
                self._days += 1
                at += _DAY
            if self.kind is ClockKind.DAY_SECONDS and relative is not None:
                # the -r sum, held inside the second -t names
                at = min(max(self.now + round(relative * SECOND), at), at + SECOND - 1)
            self.now = at
        return self.now

    def _relative(self, relative: float | None, line: int, end_line: int) -> int:
        if self.lines is None:
            if line != end_line:
                raise TimelineError(
                    f"{self.source}: -r stamps with split calls need the log as a file "
                    "(a resumed line's delta is not in the events); trace with -ttt"
                )
        elif end_line > self._read:
            self._read_split_lines(end_line)
        entry = self._entries.pop(line, None)
        if entry is not None:  # a split call: its deltas were read from the text
            return entry
        self.now += round((relative or 0.0) * SECOND)
        return self.now

    def _read_split_lines(self, end_line: int) -> None:
        """Sum the deltas of the split calls' halves up to line ``end_line``, noting the sum
        at each entry line."""
        assert self.lines is not None
        for text in self.lines:
            self._read += 1
            if any(mark in text for mark in _SPLIT_MARKS):
                half = parse_line(text, self._read)
                if isinstance(half, Resumed):
                    self.now += round((half.call.relative or 0.0) * SECOND)
                elif isinstance(half, Unfinished):
                    self.now += round((half.relative or 0.0) * SECOND)
                    self._entries[self._read] = self.now
            if self._read == end_line:
                return

    def _learn(self, time: float | None, relative: float | None) -> ClockKind:
        if time is None and relative is None:
            raise TimelineError(
                f"{self.source}: no timestamps; trace with -ttt (or -tt, -t, -r) for a timeline"
            )
        if time is None:
            return ClockKind.RELATIVE
        if time >= _EPOCH_MIN:
            return ClockKind.EPOCH
        if relative is not None and time == int(time):
            self.now = round(time * SECOND)  # the -r sum starts at the first -t stamp
            return ClockKind.DAY_SECONDS
        return ClockKind.DAY

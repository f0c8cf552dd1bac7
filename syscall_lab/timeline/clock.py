"""Each log's timestamps on one clock, in whole microseconds.

strace stamps lines four ways (strace-format.md, section 2): ``-ttt`` seconds since the epoch,
``-tt`` and ``-t`` the time of day (``-t`` whole seconds; no date, so midnight wraps), and ``-r``
the time since the previous line's start. ``Clock.stamp`` turns an event's ``time`` and
``relative`` into microseconds: epoch stamps as they are, times of day since midnight (a day
added each time the clock goes back more than twelve hours), ``-r`` deltas summed from 0, and
``-t -r`` deltas summed from the first ``-t`` stamp and held inside the second ``-t`` names.
Logs whose stamps are absolute share the clock; a ``-r`` log starts at 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from syscall_lab.errors import SyscallLabError

__all__ = ["Clock", "ClockKind", "TimelineError"]

SECOND = 1_000_000  # microseconds
_DAY = 86_400 * SECOND
_EPOCH_MIN = 1e8  # an epoch stamp is above this (strace's own rule); a time of day below


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
    kind: ClockKind | None = None
    now: int = 0  # microseconds of the last stamp
    _days: int = 0

    def stamp(self, time: float | None, relative: float | None) -> int:
        """Microseconds of an event's stamps; an event without any keeps the last stamp.
        Raises TimelineError on the first event of a log without timestamps."""
        if self.kind is None:
            self.kind = self._learn(time, relative)
        if self.kind is ClockKind.RELATIVE:
            self.now += round((relative or 0.0) * SECOND)
        elif time is None:
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

"""Windows of N consecutive calls: what each holds (counts, errors, latency, top syscalls), cut
one call at a time, the same way for a baseline log and a live trace.

A window is N calls in the order strace wrote them, every traced process and thread together;
a call is every ``Syscall`` event (one that never returned too). Counting calls, not seconds,
makes every window the same size for the detector, whatever the program's rate; the live view
gives the rate.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from syscall_parse.events import Event, Syscall

__all__ = ["TOP", "Window", "WindowCutter", "window_slices"]

TOP = 5  # syscalls listed as a window's top


@dataclass(frozen=True, slots=True)
class Window:
    """N consecutive calls: their names in order, and what the live view and the alerts show.

    ``time`` is the trace timestamp of the last call (seconds since the epoch with ``-ttt``),
    ``start`` that of the first; ``pid`` the process that made most of the calls (the first of
    them on a tie); ``p50``/``p99`` the latency percentiles in seconds over the calls ``-T``
    timed (None when none was); ``top`` the ``TOP`` most frequent syscalls with their counts.
    """

    index: int
    names: tuple[str, ...]
    start: float | None
    time: float | None
    pid: int | None
    errors: int
    p50: float | None
    p99: float | None
    top: dict[str, int]

    @property
    def calls(self) -> int:
        return len(self.names)


def _window(index: int, calls: Sequence[Syscall]) -> Window:
    durations = [call.duration for call in calls if call.duration is not None]
    p50, p99 = np.percentile(durations, [50, 99]).tolist() if durations else (None, None)
    pids = Counter(call.pid for call in calls)
    return Window(
        index=index,
        names=tuple(call.name for call in calls),
        start=calls[0].time,
        time=calls[-1].time,
        pid=pids.most_common(1)[0][0],
        errors=sum(call.failed for call in calls),
        p50=p50,
        p99=p99,
        top=dict(Counter(call.name for call in calls).most_common(TOP)),
    )


class WindowCutter:
    """Calls in, a :class:`Window` out every ``size`` calls (the last, partial one is dropped:
    it is not comparable with the baseline's full windows)."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"a window holds at least 1 call, got {size}")
        self.size = size
        self.calls = 0  # every call pushed so far
        self._calls: list[Syscall] = []
        self._count = 0

    def push(self, event: Event) -> Window | None:
        """Take the next event; the window it completes, or None."""
        if not isinstance(event, Syscall):
            return None
        self._calls.append(event)
        self.calls += 1
        if len(self._calls) < self.size:
            return None
        window = _window(self._count, self._calls)
        self._count += 1
        self._calls = []
        return window


def window_slices(names: Sequence[str], size: int, stride: int) -> list[Sequence[str]]:
    """Every full window of ``size`` calls starting each ``stride`` calls: the baseline's
    windows (overlapping when ``stride < size``, so they meet a live window at any offset)."""
    return [names[start : start + size] for start in range(0, len(names) - size + 1, stride)]

"""A live trace's events in, scored windows out: the watch itself, without input or output.

:class:`Monitor` cuts the calls into windows of the model's size, scores the windows with the
model's detector against its threshold (those completed since the last :meth:`Monitor.score`,
together: the session scores each time it has drained the pipe), and keeps what the live view
reads (``calls``, ``latest``, ``alerts``): plain attributes rebound whole, so a thread reading
them never waits on this one, nor this one on it.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass

from syscall_lab.watch.baseline import WatchModel
from syscall_lab.watch.windows import Window, WindowCutter
from syscall_parse.events import Event, Exit

__all__ = ["Monitor", "Summary", "Verdict"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """A scored window: its score, the threshold, and the syscalls in it the baseline never
    made. It is an alert when the score is above the threshold."""

    window: Window
    score: float
    threshold: float
    new_syscalls: tuple[str, ...]

    @property
    def alert(self) -> bool:
        return self.score > self.threshold


@dataclass(frozen=True, slots=True)
class Summary:
    """The end of a watch: alerts raised, calls seen, seconds of trace time from its first to
    its last event, and the exit status (a command's; an attached process's when it exited
    while watched, else None)."""

    alerts: int
    calls: int
    seconds: float
    exit_status: int | None


def _exit_status(event: Exit) -> int | None:
    if event.status is not None:
        return event.status
    if event.signal is not None and event.signal in signal.Signals.__members__:
        return 128 + signal.Signals[event.signal].value
    return None


class Monitor:
    """Scores the windows of one live trace against ``model``. ``root`` is the watched pid
    (``-p``), whose exit, if it comes, gives the summary's exit status."""

    def __init__(self, model: WatchModel, *, root: int | None = None) -> None:
        self.model = model
        self.root = root
        self.alerts = 0
        self.latest: Verdict | None = None
        self.last_alert: Verdict | None = None
        self._cutter = WindowCutter(model.window)
        self._pending: list[Window] = []
        self._first: float | None = None
        self._last: float | None = None
        self._root_status: int | None = None

    @property
    def calls(self) -> int:
        """Calls seen so far."""
        return self._cutter.calls

    def push(self, event: Event) -> None:
        """Take the next event of the trace (a window it completes waits for :meth:`score`)."""
        time = getattr(event, "time", None)
        if time is not None:
            self._first = time if self._first is None else self._first
            self._last = time
        if isinstance(event, Exit) and event.pid == self.root and event.superseded_by is None:
            self._root_status = _exit_status(event)
        window = self._cutter.push(event)
        if window is not None:
            self._pending.append(window)

    def score(self) -> list[Verdict]:
        """The verdicts on the windows completed since the last call, in order: scored
        together, which costs the detector about what one window does."""
        windows, self._pending = self._pending, []
        if not windows:
            return []
        scores = self.model.detector.score_many([window.names for window in windows])
        verdicts = [
            Verdict(
                window,
                float(score),
                self.model.threshold,
                tuple(sorted(set(window.names) - self.model.syscalls)),
            )
            for window, score in zip(windows, scores, strict=True)
        ]
        alerts = [verdict for verdict in verdicts if verdict.alert]
        self.alerts += len(alerts)
        self.last_alert = alerts[-1] if alerts else self.last_alert
        self.latest = verdicts[-1]
        return verdicts

    def summary(self, exit_status: int | None) -> Summary:
        """The summary, with a command's ``exit_status`` (None: the watched pid's, if it
        exited)."""
        span = (self._first, self._last)
        seconds = span[1] - span[0] if span[0] is not None and span[1] is not None else 0.0
        status = exit_status if exit_status is not None else self._root_status
        return Summary(self.alerts, self.calls, seconds, status)

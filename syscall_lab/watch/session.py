"""One watch from start to end: the live trace's lines parsed as they come, every window
handed to a reporter, Ctrl-C and SIGTERM turned into a clean end.

From before strace starts, the first SIGINT or SIGTERM stops the trace (strace detaches from
an attached process, or a command's group is stopped); the log then ends, every line already
written is still read and scored, and the summary is made. A second one raises
KeyboardInterrupt (the trace is then killed on the way out).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator

from syscall_lab.errors import CaptureError
from syscall_lab.watch.ebpf_source import EbpfTrace
from syscall_lab.watch.monitor import Monitor, Summary, Verdict
from syscall_lab.watch.source import LiveTrace

__all__ = ["forwarded_signals", "watch_trace"]


@contextlib.contextmanager
def forwarded_signals(trace: LiveTrace | EbpfTrace) -> Iterator[None]:
    """In the main thread, SIGINT and SIGTERM stop ``trace`` (the second one interrupts)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        if trace.stopped_by is not None:
            raise KeyboardInterrupt
        trace.stop(signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def watch_trace(
    trace: LiveTrace | EbpfTrace,
    monitor: Monitor,
    report: Callable[[Verdict], None],
    *,
    niceness: int = 0,
) -> Summary:
    """Start ``trace`` (not yet entered: strace's or the eBPF observer's), read it to its end
    through ``monitor``, ``report``
    each window's verdict (the windows of one read of the pipe together, after it); the
    summary. ``niceness`` is added to this process's once strace runs, so that on busy CPUs
    strace and the program come first (for good: a process cannot raise its priority again
    unprivileged, so only a process that exits after the watch, like the command, asks for it).
    CaptureError when strace failed before it traced a
    call."""

    def score() -> None:
        for verdict in monitor.score():
            report(verdict)

    with forwarded_signals(trace), trace:
        if niceness:
            os.nice(niceness)
        # A line is taken once the events before it are pushed: when the pipe is drained,
        # every window its lines completed is in the monitor.
        for event in trace.events(drained=score):
            monitor.push(event)
        score()
        status = trace.exit_status()
        failure = trace.failure()
    if monitor.calls == 0 and failure is not None:
        raise CaptureError(failure)
    return monitor.summary(status)

"""The live view draws what the monitor holds, from a real trace."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from syscall_lab.watch.monitor import Monitor
from syscall_lab.watch.view import LiveView
from syscall_parse.inputs import iter_trace


@pytest.mark.strace
def test_the_view_shows_the_monitor(model, baseline_logs: list[Path]) -> None:
    """Fed a normal run, the view ends showing its calls, the last window's score against the
    threshold, its top syscalls, and no alert."""
    monitor = Monitor(model)
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100, color_system=None)
    with LiveView(monitor, "watch: a normal run", console):
        for event in iter_trace(baseline_logs[0]):
            monitor.push(event)
        monitor.score()
    text = screen.getvalue()
    assert monitor.latest is not None
    assert not monitor.latest.alert
    assert f"{monitor.calls:,}" in text
    assert "threshold" in text
    assert "normal" in text
    assert next(iter(monitor.latest.window.top)) in text
    assert "alerts       0" in text

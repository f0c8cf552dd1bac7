"""The live view on a terminal: rich's Live, redrawn a few times a second on its own thread
from what the :class:`~syscall_lab.watch.monitor.Monitor` holds at that moment.

The reading thread never waits on the display: the view only reads the monitor's attributes
(each rebound whole by the reader), and rich draws on its refresh thread.
"""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from syscall_lab.formatting import MISSING, number, timing
from syscall_lab.watch.monitor import Monitor, Verdict

__all__ = ["REFRESH_PER_SECOND", "LiveView"]

REFRESH_PER_SECOND = 4


def _clock(epoch: float | None) -> str:
    if epoch is None:
        return MISSING
    return time.strftime("%H:%M:%S", time.localtime(epoch)) + f".{int(epoch % 1 * 1000):03d}"


def _latency(value: float | None) -> str:
    return timing("latency_median", value) if value is not None else MISSING


class LiveView:
    """The monitor drawn on ``console`` while the context is open."""

    def __init__(self, monitor: Monitor, title: str, console: Console) -> None:
        self._monitor = monitor
        self._title = title
        self._rate = (time.monotonic(), 0, 0.0)  # (when, calls then, calls per second)
        self._live = Live(
            get_renderable=self._render,
            console=console,
            refresh_per_second=REFRESH_PER_SECOND,
            transient=False,
        )

    def _calls_per_second(self) -> tuple[int, float]:
        calls, now = self._monitor.calls, time.monotonic()
        when, before, rate = self._rate
        if now - when >= 1.0:
            rate = (calls - before) / (now - when)
            self._rate = (now, calls, rate)
        return calls, rate

    def _verdict_rows(self, table: Table, verdict: Verdict | None) -> None:
        if verdict is None:
            table.add_row("last window", f"waiting for {self._monitor.model.window} calls")
            return
        window = verdict.window
        state = Text("ALERT", style="bold red") if verdict.alert else Text("normal", "green")
        table.add_row("last window", Text.assemble(f"ends {_clock(window.time)}  ", state))
        table.add_row("score", f"{number(verdict.score)}  (threshold {number(verdict.threshold)})")
        table.add_row("errors", f"{window.errors} of {window.calls}")
        table.add_row("latency", f"p50 {_latency(window.p50)}  p99 {_latency(window.p99)}")
        table.add_row("top", "  ".join(f"{name} {count}" for name, count in window.top.items()))
        if verdict.new_syscalls:
            table.add_row("new", Text(" ".join(verdict.new_syscalls), style="bold red"))

    def _render(self) -> Group:
        monitor = self._monitor
        calls, rate = self._calls_per_second()
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        table.add_row("calls", f"{calls:,}  ({rate:,.0f}/s)")
        self._verdict_rows(table, monitor.latest)
        alert = monitor.last_alert
        last = f", last at {_clock(alert.window.time)} (pid {alert.window.pid})" if alert else ""
        table.add_row("alerts", f"{monitor.alerts}{last}")
        return Group(Text(self._title, style="bold"), table)

    def __enter__(self) -> LiveView:
        self._live.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._live.stop()

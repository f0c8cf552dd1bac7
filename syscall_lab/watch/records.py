"""The JSON lines of ``watch --json``: one object per window, one per alert, a last summary.

Times are the trace's own timestamps (seconds since the epoch). The shapes are a contract
(docs/json.md); each is built here and nowhere else.
"""

from __future__ import annotations

from typing import Any

from syscall_lab.watch.monitor import Summary, Verdict

__all__ = ["alert_record", "summary_record", "window_record"]


def window_record(verdict: Verdict) -> dict[str, Any]:
    """``{"event": "window", "time", "calls", "score", "threshold", "top"}``."""
    window = verdict.window
    return {
        "event": "window",
        "time": window.time,
        "calls": window.calls,
        "score": verdict.score,
        "threshold": verdict.threshold,
        "top": window.top,
    }


def alert_record(verdict: Verdict) -> dict[str, Any]:
    """``{"event": "alert", "time", "pid", "score", "threshold", "top", "new_syscalls"}``."""
    window = verdict.window
    return {
        "event": "alert",
        "time": window.time,
        "pid": window.pid,
        "score": verdict.score,
        "threshold": verdict.threshold,
        "top": window.top,
        "new_syscalls": list(verdict.new_syscalls),
    }


def summary_record(summary: Summary) -> dict[str, Any]:
    """``{"event": "summary", "alerts", "calls", "seconds", "exit_status"}``."""
    return {
        "event": "summary",
        "alerts": summary.alerts,
        "calls": summary.calls,
        "seconds": summary.seconds,
        "exit_status": summary.exit_status,
    }

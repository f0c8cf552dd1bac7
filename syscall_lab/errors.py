"""The lab's exceptions. Only the command line turns them into a message and an exit code."""

from __future__ import annotations

__all__ = ["CaptureError", "SyscallLabError"]


class SyscallLabError(Exception):
    """Base of the errors the lab reports to a user as one line (the parser's: TraceError)."""


class CaptureError(SyscallLabError):
    """strace missing, ptrace refused, a command that does not exist."""

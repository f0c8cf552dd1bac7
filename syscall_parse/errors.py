"""Exceptions with context. Only the command line turns them into a message and an exit code."""

from __future__ import annotations

__all__ = ["CaptureError", "InputError", "StraceParseError", "SyscallLabError"]


class SyscallLabError(Exception):
    """Base of the errors syscall-lab reports to a user as one line."""


class InputError(SyscallLabError):
    """An input that cannot be read: missing, a directory, unreadable, not a trace."""


class StraceParseError(SyscallLabError, ValueError):
    """A line the strict parser cannot read; carries its number and text."""

    def __init__(self, message: str, line_number: int, line: str) -> None:
        super().__init__(f"line {line_number}: {message}: {line!r}")
        self.line_number = line_number
        self.line = line


class CaptureError(SyscallLabError):
    """strace missing, ptrace refused, a command that does not exist."""

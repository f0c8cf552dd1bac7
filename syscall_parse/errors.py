"""Exceptions with context. Only a command line turns them into a message and an exit code."""

from __future__ import annotations

__all__ = ["InputError", "NotStraceOutput", "StraceParseError", "TraceError"]


class TraceError(Exception):
    """Base of the parser's errors: each says in one line what is wrong with which input."""


class InputError(TraceError):
    """An input that cannot be read: missing, a directory, unreadable, not a trace."""


class NotStraceOutput(InputError):
    """An input that holds no strace output at all: a text, an executable, an image..."""


class StraceParseError(TraceError, ValueError):
    """A line the strict parser cannot read; carries its number and text."""

    def __init__(self, message: str, line_number: int, line: str) -> None:
        super().__init__(f"line {line_number}: {message}: {line!r}")
        self.line_number = line_number
        self.line = line

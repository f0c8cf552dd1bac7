"""The exit of ``parse`` and ``profile`` when their input is not strace output."""

from __future__ import annotations

import sys

NOT_STRACE = 3  # exit status of parse/profile when the input is not strace output


def not_strace(command: str, message: str) -> int:
    """Say on stderr that the input is not strace output; return :data:`NOT_STRACE`."""
    print(f"syscall-lab {command}: {message}", file=sys.stderr)
    return NOT_STRACE


def none_recognised(logs: list[str], lines: int) -> str:
    """The message for logs whose every line was read and none was strace's."""
    return f"{', '.join(logs)}: not strace output (none of {lines} lines recognised)"

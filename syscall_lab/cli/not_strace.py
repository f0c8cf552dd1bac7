"""The exit of ``parse`` and ``profile`` when no line of their input is strace output."""

from __future__ import annotations

import sys

NOT_STRACE = 3  # exit status of parse/profile when no line of the input is strace output


def not_strace(command: str, logs: list[str], lines: int) -> int:
    """Say on stderr that ``logs`` are not strace output; return :data:`NOT_STRACE`."""
    print(
        f"syscall-lab {command}: {', '.join(logs)}: not strace output "
        f"(none of {lines} lines recognised)",
        file=sys.stderr,
    )
    return NOT_STRACE

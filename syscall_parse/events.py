"""Typed records for the events of an strace log: one frozen record per event.

Every record carries the prefix fields strace prints on an event line (pid, timestamps) and
``lines``, the 1-based numbers of the first and last source lines it was built from (an
``<unfinished ...>`` call joined with its ``<... resumed>`` half spans two lines).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Event",
    "Exit",
    "Message",
    "Signal",
    "Syscall",
    "Unparsed",
]


@dataclass(frozen=True, slots=True)
class Syscall:
    """One system call, whole or joined from its unfinished and resumed halves.

    ``time`` is the absolute timestamp in seconds: since the epoch with ``-ttt``, since local
    midnight with ``-t``/``-tt``. ``relative`` is the ``-r`` delta. ``args`` is the raw argument
    text between the parentheses. ``ret`` is the raw return token (``"3"``, ``"0x7f3a..."``,
    ``"3</etc/hosts>"``, ``"-1"``, ``"?"``), ``retval`` its integer value when it has one.
    ``returned`` is false for a call that never returned (``exit_group(0) = ?``, a call cut short
    by the death of its process, an unfinished call never resumed): strace's ``-c`` table does not
    count those. An interrupted call (``= ? ERESTARTSYS (...)``) did return, as an error.
    """

    pid: int | None
    name: str
    args: str
    ret: str | None
    retval: int | None
    errno: str | None = None
    errno_text: str | None = None
    note: str | None = None
    duration: float | None = None
    time: float | None = None
    relative: float | None = None
    returned: bool = True
    lines: tuple[int, int] = (0, 0)

    @property
    def failed(self) -> bool:
        """Whether strace's ``-c`` table counts this call as an error."""
        return self.returned and self.errno is not None


@dataclass(frozen=True, slots=True)
class Signal:
    """A delivered signal: ``--- SIGCHLD {si_signo=SIGCHLD, ...} ---``."""

    pid: int | None
    signal: str
    info: str
    time: float | None = None
    relative: float | None = None
    lines: tuple[int, int] = (0, 0)


@dataclass(frozen=True, slots=True)
class Exit:
    """The end of a tracee: ``+++ exited with 0 +++``, ``+++ killed by SIGKILL +++``,
    or ``+++ superseded by execve in pid N +++`` (``superseded_by`` set)."""

    pid: int | None
    status: int | None = None
    signal: str | None = None
    core_dumped: bool = False
    superseded_by: int | None = None
    time: float | None = None
    relative: float | None = None
    lines: tuple[int, int] = (0, 0)


@dataclass(frozen=True, slots=True)
class Message:
    """A line strace writes about itself: ``strace: Process 7758 attached``."""

    text: str
    pid: int | None = None
    lines: tuple[int, int] = (0, 0)


@dataclass(frozen=True, slots=True)
class Unparsed:
    """A line that is not strace output (or not understood): kept, counted, never dropped."""

    text: str
    lines: tuple[int, int] = (0, 0)


Event = Syscall | Signal | Exit | Message | Unparsed

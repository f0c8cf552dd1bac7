"""The lines strace writes about a process rather than a call, read in bulk: a process's exit
'+++ exited with N +++' and a signal '--- SIGNAME INFO ---' (one of each per child of a
program that starts processes: 2% of such a log's lines, each 10 us through ``parse_line``).

Read where the reference's patterns (``lines._EXITED``, ``lines._SIGNAL``) read them alike: an
exit status of 1 to 9 digits (no sign), a signal name of letters, digits and '_' starting
with 'SIG' (so never the 'stopped by' form), then a space, the info to the ' ---' that ends
the line. Other forms (killed, superseded, negative statuses, 'SIGRTMIN+1') go to the
reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from syscall_parse._fast.kernels import Windows, run_at, word

__all__ = ["Notices", "scan_notices"]

_NAME_MAX = 32
_EXITED = (word(b"+++ exit"), word(b"ed with "))
_EXIT_END = word(b" +++")
_SIGNAL = word(b"--- SIG")
_SIGNAL_END = word(b" ---")
_LOW_4 = np.uint64((1 << 32) - 1)
_LOW_7 = np.uint64((1 << 56) - 1)


@dataclass(frozen=True, slots=True)
class Notices:
    """Which lines are exits (their status ``line[body + 16:status_end]``) and signals (their
    name ``line[body + 4:name_end]``, their info ``line[name_end + 1:end - 4]``)."""

    exited: np.ndarray
    status_end: np.ndarray
    signal: np.ndarray
    name_end: np.ndarray


def scan_notices(
    window: Windows, body: np.ndarray, ends: np.ndarray, usable: np.ndarray
) -> Notices:
    """The exit and signal lines among the ``usable`` ones, whose bodies start at ``body``
    and end before the newline at ``ends``."""
    first = window.words(body)
    exited = usable & (first == _EXITED[0]) & (window.words(body + 8) == _EXITED[1])
    digits = run_at(window, body + 16, 10, exited, 48, 57)
    status_end = body + 16 + digits
    exited &= (digits >= 1) & (digits <= 9) & (status_end + 4 == ends)
    exited &= (window.words(status_end) & _LOW_4) == _EXIT_END
    signal = usable & ((first & _LOW_7) == _SIGNAL)
    name = 3 + run_at(window, body + 7, _NAME_MAX - 3, signal, 65, 90, 97, 122, 48, 57, 95, 95)
    name_end = body + 4 + name
    signal &= (name < _NAME_MAX) & ((window.words(name_end) & 0xFF) == 32)
    signal &= (name_end + 1 <= ends - 4) & ((window.words(ends - 4) & _LOW_4) == _SIGNAL_END)
    return Notices(exited, status_end, signal, name_end)

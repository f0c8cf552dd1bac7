"""glibc's malloc told to keep the memory a parse frees, for the next chunk to reuse.

A chunk's arrays are a few hundred kB to a few MB each. glibc maps such blocks afresh from the
kernel and unmaps them on free (its dynamic threshold rises only after a first free), so each
chunk touches new pages: on a 1M-line log about 300,000 page faults, a third of the parse's CPU
time. Raising the mapping threshold to its maximum and the trimming threshold above a parse's
working set keeps the freed blocks in the heap. The process then keeps up to that much freed
memory (its peak does not grow). The setting is process-wide: the engine's workers (its own
processes) and the command line set it; a program calling the library keeps its own.
"""

from __future__ import annotations

import ctypes
import functools
import os

__all__ = ["keep_freed_memory"]

# mallopt(3) parameters and values.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD = 32 << 20  # glibc's maximum on 64-bit systems
_TRIM_THRESHOLD = 128 << 20


@functools.cache
def keep_freed_memory() -> bool:
    """Tune glibc's malloc as the module says, once per process; False where the C library
    is not glibc (the setting then stays the system's)."""
    try:
        glibc = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError):  # no such name here (not Linux)
        glibc = ""
    if not glibc.startswith("glibc"):
        return False
    libc = ctypes.CDLL(None)  # the C library this process runs on
    return bool(
        libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
        and libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)
    )

"""IO stress against normal: file syscalls rise, significantly.

The io workload writes 16 files in 8 chunks of 64 KiB with ``os.write``, ``fsync``s each,
reads them back in 64 KiB reads (8 reads and one at end of file per file) and unlinks them:
write 128, read 144, openat 32, close 32, fsync 16, unlink 16 per run. Normal writes 8 and reads
16 small files, opens 16, and never fsyncs or unlinks. ``openat`` is glibc's name for
``open`` (since glibc 2.26); an older libc would show ``open`` instead.
"""

from __future__ import annotations

import pytest

from syscall_lab.experiment.analysis import find_shift

pytestmark = [
    pytest.mark.strace,
    pytest.mark.slow,
    pytest.mark.usefixtures("python_backend", "enough_runs"),
]


@pytest.mark.parametrize("syscall", ["write", "read", "fsync", "openat", "unlink"])
def test_io_stress_raises_file_calls(experiment, syscall: str) -> None:
    """Under IO stress write, read, fsync, openat and unlink rise: significant after
    correction, upward, with complete separation of the runs (Cliff's delta 1)."""
    shift = find_shift(experiment, "io", syscall)
    assert (True, "up", 1.0) == (shift.significant, shift.direction, shift.effect)


@pytest.mark.parametrize("syscall", ["write", "fsync"])
def test_io_stress_multiplies_writes_and_syncs(experiment, syscall: str) -> None:
    """write (8 -> 128) and fsync (0 -> 16) rise by more than x10 (pseudo-count 1)."""
    assert find_shift(experiment, "io", syscall).ratio >= 10

"""Ambient load: an untraced stressor running beside a traced run, and the settling after it."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from syscall_lab.capture.processes import start_group, stop_group
from syscall_lab.errors import CaptureError

__all__ = ["Ambient", "ambient_load", "settle"]


@dataclass(frozen=True, slots=True)
class Ambient:
    """An untraced load beside the traced command: a condition of ``backend`` (python/stress-ng).

    The load starts ``warmup`` seconds before the runs. After the run it is stopped, the disks
    synced, and ``settle`` waits (at most ``settle_timeout`` seconds) until IO pressure is calm.
    """

    condition: str
    backend: str = "stress-ng"
    warmup: float = 0.3
    settle_timeout: float = 5.0


@contextlib.contextmanager
def ambient_load(argv: Sequence[str], env: Mapping[str, str], warmup: float) -> Iterator[None]:
    """Run ``argv`` untraced for the block, after ``warmup`` seconds; then stop its group.

    Raises CaptureError when the load exits during its warmup.
    """
    stressor = start_group(argv, env)
    try:
        time.sleep(warmup)
        if stressor.poll() is not None:
            raise CaptureError(
                f"ambient load exited early ({stressor.returncode}): {' '.join(argv)}"
            )
        yield
    finally:
        stop_group(stressor)


def _pressure_total(resource: str) -> int | None:
    # /proc/pressure/io: "some avg10=0.00 avg60=0.00 avg300=0.00 total=123456" (microseconds)
    try:
        with open(f"/proc/pressure/{resource}", encoding="ascii") as stream:
            first = stream.readline()
    except OSError:
        return None
    return int(first.rsplit("total=", 1)[1])


def settle(timeout: float = 5.0, window: float = 0.25, calm: float = 0.05) -> float:
    """Sync the disks and wait until IO stall time falls below ``calm`` (a fraction of a
    ``window``), at most ``timeout`` seconds; return the seconds waited.

    A quiet run started right after disk stress still looks stressed: writeback goes on. CPU
    pressure is not waited on: a stopped CPU stressor leaves none, and on a shared machine other
    users' load would keep it high forever. Without /proc/pressure/io, it waits one window.
    """
    start = time.monotonic()
    os.sync()
    while True:
        before = _pressure_total("io")
        time.sleep(window)
        after = _pressure_total("io")
        stall = 0.0 if before is None or after is None else (after - before) / 1e6
        if stall < calm * window or time.monotonic() - start > timeout:
            return time.monotonic() - start

"""Running a process group and waiting for it: real processes, exit statuses and timeouts."""

from __future__ import annotations

import os
import subprocess

import pytest

from syscall_lab.capture.processes import start_group, stop_group, wait_exactly


def test_wait_exactly_gives_the_exit_status() -> None:
    """The process's own exit status, as Popen.wait gives it."""
    process = start_group(["sh", "-c", "exit 3"], os.environ)
    try:
        assert 3 == wait_exactly(process, timeout=60)
    finally:
        stop_group(process)


def test_wait_exactly_times_out_and_the_group_is_stopped() -> None:
    """A process that outlives the timeout raises TimeoutExpired; stopping its group ends it."""
    process = start_group(["sleep", "600"], os.environ)
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            wait_exactly(process, timeout=0.05)
        assert process.poll() is None
    finally:
        stop_group(process)
    assert process.poll() is not None

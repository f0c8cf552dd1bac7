"""The processes a capture starts: each in a session of its own, stopped as a whole group.

A traced command forks (strace, the command, its children); killing one pid would leave the rest.
So every process starts as the leader of a new session, its process group id is its pid, and
:func:`stop_group` sends SIGTERM to the whole group, then SIGKILL after a grace period.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import IO

from syscall_lab.errors import CaptureError

__all__ = [
    "GRACE_SECONDS",
    "find_program",
    "group_members",
    "python_executable",
    "sigterm_interrupts",
    "start_group",
    "stop_group",
    "timed_run",
    "wait_exactly",
]

GRACE_SECONDS = 2.0


def find_program(program: str) -> str:
    """The path of ``program`` (strace, stress-ng); CaptureError saying how to install it."""
    found = shutil.which(program)
    if found is None:
        raise CaptureError(f"{program}: command not found (install it: apt-get install {program})")
    return found


def python_executable() -> str:
    """The interpreter to trace: this one, never a pyenv shim (the shim alone makes ~9,000 calls).

    A venv's ``bin/python`` symlink is kept as is (its path is how Python finds the venv); what it
    points to must be a binary, not a script.
    """
    real = os.path.realpath(sys.executable)
    with open(real, "rb") as stream:
        if stream.read(2) == b"#!":
            raise CaptureError(f"{sys.executable} is a script (a pyenv shim?), not an interpreter")
    return sys.executable


def start_group(
    argv: Sequence[str],
    env: Mapping[str, str],
    *,
    stdout: int | IO[bytes] = subprocess.DEVNULL,
    stderr: int | IO[bytes] = subprocess.DEVNULL,
) -> subprocess.Popen[bytes]:
    """Start ``argv`` in a new session (its group id is its pid), reading nothing on stdin."""
    return subprocess.Popen(
        argv, env=env, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
        start_new_session=True,
    )  # fmt: skip


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes whose process group is ``pgid``, from a /proc scan."""
    members = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="utf-8", errors="replace") as stream:
                stat = stream.read()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses.
        fields = stat[stat.rfind(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def stop_group(process: subprocess.Popen[bytes], grace: float = GRACE_SECONDS) -> None:
    """SIGTERM the group of a process from :func:`start_group`, SIGKILL what is left after
    ``grace`` seconds, and reap it."""
    pgid = process.pid
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if process.poll() is not None and not group_members(pgid):
            break
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if process.poll() is not None and not group_members(pgid):
                break
            time.sleep(0.02)
    process.wait()


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """In the main thread, SIGTERM ends a capture like Ctrl-C: the group is killed, the run
    marked ``killed``, and KeyboardInterrupt raised (so a killed harness leaves nothing)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def wait_exactly(process: subprocess.Popen, timeout: float) -> int:
    """``process.wait(timeout)``, returning when the process ends: ``Popen.wait`` with a
    timeout polls, at last every 50 ms, which rounds a run's wall time up by as much (a pidfd
    says when it ends). TimeoutExpired when it outlives ``timeout``."""
    descriptor = os.pidfd_open(process.pid)
    try:
        if not select.select([descriptor], [], [], timeout)[0]:
            raise subprocess.TimeoutExpired(process.args, timeout)
    finally:
        os.close(descriptor)
    return process.wait()


def timed_run(argv: Sequence[str], env: Mapping[str, str], timeout: float) -> float | None:
    """Wall time of an untraced run of ``argv`` (start to exit), or None when it overran
    ``timeout``."""
    start = time.perf_counter()
    process = start_group(argv, env)
    try:
        wait_exactly(process, timeout)
        return time.perf_counter() - start
    except subprocess.TimeoutExpired:
        return None
    finally:
        stop_group(process)

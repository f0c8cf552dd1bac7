"""Shared fixtures: running real programs under strace (Hypothesis profiles: the root conftest).

Tests marked ``strace`` take the ``strace`` fixture of :mod:`syscall_lab.pytest_plugin`, which
checks once per session that strace exists and that ptrace is allowed here, and skips them with
the reason otherwise.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

RunStrace = Callable[[Sequence[str], Sequence[str]], subprocess.CompletedProcess[str]]


@pytest.fixture(autouse=True, scope="session")
def _interruptible_children():
    """Children start with Ctrl-C handled as from a terminal, also when the tests run in the
    background: a shell starts background commands with SIGINT ignored and children inherit
    that, so the tests that interrupt a parse or a capture would test the shell instead."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.fixture
def run_strace(strace: str, tmp_path: Path) -> RunStrace:
    """Run ``strace OPTIONS -- COMMAND`` in ``tmp_path``; stdout and stderr captured.

    The run is bounded by a timeout so no child outlives the test.
    """

    def run(options: Sequence[str], command: Sequence[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [strace, *options, "--", *command],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            errors="surrogateescape",
            timeout=60,
            check=False,
        )

    return run


def _processes_with(token: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if token.encode() in cmdline and state != "Z":
            found.append(int(entry))
    return found


@pytest.fixture
def processes_with() -> Callable[[str], list[int]]:
    """Live processes whose command line holds a token (a /proc scan, zombies left out): what
    a test left running."""
    return _processes_with

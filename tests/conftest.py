"""Shared fixtures: running real programs under strace (Hypothesis profiles: the root conftest).

Tests marked ``strace`` take the ``strace`` fixture, which checks once per session that
strace exists and that ptrace is allowed here, and skips them with the reason otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def strace() -> str:
    """The strace executable, after checking that it can trace here (else skip)."""
    path = shutil.which("strace")
    if path is None:
        pytest.skip("strace is not installed")
    probe = subprocess.run(
        [path, "-o", os.devnull, "true"], capture_output=True, text=True, timeout=30, check=False
    )
    if probe.returncode != 0:
        pytest.skip(f"strace cannot trace here (ptrace refused?): {probe.stderr.strip()}")
    return path


RunStrace = Callable[[Sequence[str], Sequence[str]], subprocess.CompletedProcess[str]]


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

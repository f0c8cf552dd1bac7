"""Shared fixtures: running real programs under strace (Hypothesis profiles: the root conftest).

Tests marked ``strace`` take the ``strace`` fixture of :mod:`syscall_lab.pytest_plugin`, which
checks once per session that strace exists and that ptrace is allowed here, and skips them with
the reason otherwise.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

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

"""Real normal runs of the switch workload under strace, and a watch model fitted on them, made
once per session (a few seconds) for the watch tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from syscall_lab.watch.baseline import WatchModel, fit_baseline

BASELINE_RUNS = 4
ROUNDS = 100  # normal rounds before and after the switch: about 3,000 calls a run
WINDOW = 100


def switch_command(burst: str, *extra: str) -> list[str]:
    """The switch workload (see workloads.switch) with this test suite's rounds."""
    return [sys.executable, "-m", "workloads.switch", burst, "--rounds", str(ROUNDS), *extra]


@pytest.fixture(scope="session")
def baseline_logs(strace: str, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """strace logs (-f -ttt -T -y) of normal runs, one after another, as a user would take
    them."""
    folder = tmp_path_factory.mktemp("watch-baseline")
    logs = []
    for run in range(BASELINE_RUNS):
        log = folder / f"normal-{run}.log"
        subprocess.run(
            [strace, "-f", "-ttt", "-T", "-y", "-o", str(log), "--",
             *switch_command("none", "--seed", str(run))],
            check=True, timeout=120, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        logs.append(log)
    return logs


@pytest.fixture(scope="session")
def model(baseline_logs: list[Path]) -> WatchModel:
    """The default detector fitted on the baseline runs."""
    return fit_baseline(baseline_logs, window=WINDOW)


@pytest.fixture(scope="session")
def model_file(model: WatchModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The model saved for ``watch --model``."""
    return model.save(tmp_path_factory.mktemp("watch-model") / "model.json")


@pytest.fixture(scope="session")
def switch():
    """``switch(burst, *extra)``: the switch workload's command line at this suite's rounds."""
    return switch_command

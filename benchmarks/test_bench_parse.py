"""pytest-benchmark timings of the parser paths on a real log of about 60,000 lines.

Not collected by the default ``pytest`` run (testpaths are tests/ and experiments/). Run:
``.venv/bin/pytest benchmarks/test_bench_parse.py --benchmark-enable`` (the project's addopts
disable benchmarks otherwise; then each one runs once, as a smoke test). The full-size
measurement, with peak memory, is ``benchmarks/parse_speed.py``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

# The script beside this file (pytest's default import mode puts its folder on sys.path).
from parse_speed import DRIVER, WORKLOAD

from syscall_parse._fast import count_file, read_frame
from syscall_parse.counts import count_trace
from syscall_parse.table import read_trace, write_parquet

pytestmark = pytest.mark.strace


@pytest.fixture(scope="module")
def log(tmp_path_factory) -> Path:
    """A real ``strace -f -ttt -T -y`` log of the parse_speed workload (threads, file I/O)."""
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed")
    directory = tmp_path_factory.mktemp("bench")
    (directory / "workload.py").write_text(WORKLOAD)
    (directory / "driver.py").write_text(DRIVER)
    (directory / "files here").mkdir()
    path = directory / "trace.log"
    subprocess.run(
        ["strace", "-f", "-ttt", "-T", "-y", "-o", str(path), "--", sys.executable,
         str(directory / "driver.py"), str(directory / "workload.py"),
         str(directory / "files here"), "150"],
        check=True, timeout=600,
    )  # fmt: skip
    return path


def test_reference_frame(benchmark, log):
    """table.read_trace with the per-line reference engine."""
    frame = benchmark(read_trace, log, engine="reference")
    assert len(frame) > 0


def test_fast_frame(benchmark, log):
    """The fast engine's read_frame in this process; equal to the reference."""
    frame = benchmark(read_frame, log, workers=1)
    pd.testing.assert_frame_equal(read_trace(log, engine="reference"), frame)


def test_fast_frame_to_parquet(benchmark, log, tmp_path):
    """read_frame, then table.write_parquet."""
    benchmark(lambda: write_parquet(read_frame(log, workers=1), tmp_path / "t.parquet"))
    assert (tmp_path / "t.parquet").stat().st_size > 0


def test_reference_profile(benchmark, log):
    """counts.count_trace with the per-line reference engine."""
    profile = benchmark(count_trace, log, engine="reference")
    assert profile.syscalls


def test_fast_profile(benchmark, log):
    """The fast engine's count_file in this process; equal to the reference."""
    profile = benchmark(count_file, log, workers=1)
    assert count_trace(log, engine="reference") == profile

"""pytest-benchmark timings of the parser's library paths on a real log of about 100,000 lines.

Not collected by the default ``pytest`` run (testpaths are tests/ and experiments/). Run:
``.venv/bin/pytest benchmarks/test_bench_parse.py --benchmark-enable`` (the project's addopts
disable benchmarks otherwise; then each one runs once, as a smoke test). The commands as users
meet them, on every log shape, with peak memory, are measured by ``benchmarks/suite.py``.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pandas as pd
import pytest

# The module beside this file (pytest's default import mode puts its folder on sys.path).
from shapes import SHAPES, capture

from syscall_parse._fast import count_file, read_frame
from syscall_parse.batches import read_batches
from syscall_parse.counts import count_trace
from syscall_parse.table import read_trace
from syscall_parse.writers import write_csv_batches, write_parquet_batches

pytestmark = pytest.mark.strace


@pytest.fixture(scope="module")
def log(tmp_path_factory) -> Path:
    """A real log of the suite's first shape (``strace -f -ttt -T -y``, file I/O and mmap)."""
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed")
    shape = dataclasses.replace(SHAPES[0], start=6_000)
    return capture(shape, tmp_path_factory.mktemp("bench"), 100_000)


def test_reference_frame(benchmark, log):
    """table.read_trace with the per-line reference engine."""
    frame = benchmark(read_trace, log, engine="reference")
    assert len(frame) > 0


def test_fast_frame(benchmark, log):
    """The fast engine's frame in this process; equal to the reference."""
    frame = benchmark(read_frame, log, workers=1)
    pd.testing.assert_frame_equal(read_trace(log, engine="reference"), frame)


@pytest.mark.parametrize("write", [write_parquet_batches, write_csv_batches])
def test_batches_written(benchmark, log, tmp_path, write):
    """read_batches streamed into a file."""
    benchmark(lambda: write(read_batches(log), tmp_path / "events.out"))
    assert (tmp_path / "events.out").stat().st_size > 0


def test_reference_profile(benchmark, log):
    """counts.count_trace with the per-line reference engine."""
    profile = benchmark(count_trace, log, engine="reference")
    assert profile.syscalls


def test_fast_profile(benchmark, log):
    """The fast engine's count_file in this process; equal to the reference."""
    profile = benchmark(count_file, log, workers=1)
    assert count_trace(log, engine="reference") == profile

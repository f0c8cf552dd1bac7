"""The streaming API and the streaming ``parse`` command: record batches hold exactly the rows
of ``read_trace``'s frame, in its order, whatever the chunks; the fast engine turning a log down
part-way hands over to the reference at the row where it stopped; the command writes as it
reads, in bounded memory, and leaves nothing behind when it fails or is interrupted."""

from __future__ import annotations

import importlib.util
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from syscall_parse._fast import iter_batches
from syscall_parse._fast.chunks import CHUNK_BYTES, POOL_MIN_BYTES
from syscall_parse.batches import read_batches
from syscall_parse.engine import FastPathUnsupported
from syscall_parse.frames import batches_to_frame
from syscall_parse.schema import arrow_schema
from syscall_parse.table import read_trace

ROOT = Path(__file__).resolve().parents[2]
TRACEE = Path(__file__).with_name("tracee.py")
FAST_LINE = "7  1795869296.{:06d} getpid() = 7 <0.000001>\n"


def _synthetic_log(path: Path, size: int, last: str = "") -> Path:
    """A log of ``size`` bytes at least of one call line repeated, then ``last``."""
    count = size // len(FAST_LINE.format(0)) + 1
    with path.open("w") as out:
        out.writelines(FAST_LINE.format(i % 1_000_000) for i in range(count))
        out.write(last)
    return path


@pytest.mark.strace
def test_batches_hold_the_frame_rows(run_strace, tmp_path):
    """Batches of the schema, whole or cut into 4 KiB chunks, make the reference's frame."""
    log = tmp_path / "trace.log"
    run_strace(["-f", "-ttt", "-T", "-y", "-o", str(log)], [sys.executable, str(TRACEE)])
    expected = read_trace(log, engine="reference")
    batches = read_batches(log)
    listed = list(batches)
    assert all(arrow_schema() == batch.schema for batch in listed)
    pd.testing.assert_frame_equal(expected, batches_to_frame(listed))
    assert (len(expected), 0) == (batches.rows, batches.unparsed_lines)
    small = [batch for batch, _ in iter_batches(log, workers=1, chunk_bytes=4096)]
    assert len(small) > 1
    pd.testing.assert_frame_equal(expected, batches_to_frame(small))


def test_fast_engine_turning_down_a_later_chunk(tmp_path):
    """A state the fast engine does not reproduce, in the log's second chunk: ``"fast"``
    raises after the first chunk's batch; ``"auto"`` goes on with the reference from the row
    where the fast engine stopped, and the rows are the reference's."""
    log = _synthetic_log(
        tmp_path / "trace.log", CHUNK_BYTES + 1000, "7  +++ superseded by execve in pid 8 +++\n"
    )
    fast = read_batches(log, engine="fast")
    assert next(fast).num_rows > 0
    with pytest.raises(FastPathUnsupported, match="execve"):
        list(fast)
    batches = read_batches(log)
    pd.testing.assert_frame_equal(
        read_trace(log, engine="reference"), batches_to_frame(batches), check_exact=True
    )
    assert 0 == batches.unparsed_lines


def _parse(log: Path, out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "syscall_lab", "parse", str(log), "-o", str(out)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_not_strace_leaves_the_output_as_it_was(tmp_path):
    """No line is strace output: exit 3, an output already there untouched, no temporary."""
    log = tmp_path / "noise.txt"
    log.write_text("hello\nworld\n")
    out = tmp_path / "events.parquet"
    out.write_bytes(b"before")
    process = _parse(log, out)
    _, errors = process.communicate(timeout=120)
    assert 3 == process.returncode, errors
    assert b"before" == out.read_bytes()
    assert {"noise.txt", "events.parquet"} == {p.name for p in tmp_path.iterdir()}


# Runs the command with its files limited to 64 KiB: a write past that fails (EFBIG).
_SMALL_FILES = """
import resource, sys
resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 16, 1 << 16))
from syscall_lab.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_failed_write_is_one_line_and_leaves_nothing(tmp_path, suffix):
    """The output cannot grow past 64 KiB (RLIMIT_FSIZE) part-way through a log of several
    batches (CSV written on a thread): one line, exit 2, the old output kept, no temporary."""
    log = _synthetic_log(tmp_path / "trace.log", 3 * CHUNK_BYTES)
    out = tmp_path / "out" / f"events{suffix}"
    out.parent.mkdir()
    out.write_bytes(b"before")
    result = subprocess.run(
        [sys.executable, "-c", _SMALL_FILES, "parse", str(log), "-o", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert (2, "") == (result.returncode, result.stdout)
    assert 1 == len(result.stderr.splitlines())
    assert result.stderr.startswith("syscall-lab parse: ")
    assert "File too large" in result.stderr
    assert [out] == list(out.parent.iterdir())
    assert b"before" == out.read_bytes()


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
@pytest.mark.parametrize(
    ("sent", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 128 + signal.SIGTERM)]
)
def test_interrupted_parse_leaves_nothing(tmp_path, sent, status, suffix):
    """A parse interrupted while it writes (CSV on a thread) exits with 128 + the signal and
    leaves no file."""
    log = _synthetic_log(tmp_path / "trace.log", 200 << 20)
    out = tmp_path / "out" / f"events{suffix}"
    out.parent.mkdir()
    process = _parse(log, out)
    deadline = time.monotonic() + 120
    while not any(out.parent.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)  # batches are being written
    process.send_signal(sent)
    _, errors = process.communicate(timeout=120)
    assert status == process.returncode, errors
    assert [] == list(out.parent.iterdir())


# Interrupts itself with SIGINT inside the at-fork handler that runs after the pool's first
# fork (where logging's handler releases its lock), and stays there long enough for another
# thread (numpy's OpenBLAS threads block no signal) to take it, then maps work over the pool.
_INTERRUPTED_FORK = """
import os, signal, sys, time
from syscall_parse._fast.chunks import map_pool
fired = []
def interrupt():
    if not fired:
        fired.append(True)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.2)
os.register_at_fork(after_in_parent=interrupt)
try:
    print(sum(map_pool(abs, range(-20, 0), 2)))
except KeyboardInterrupt:
    sys.exit(130)
"""


def test_interrupt_while_the_workers_fork_is_not_lost():
    """A SIGINT landing while the pool forks its workers (inside an at-fork handler, whose
    exceptions Python ignores) still interrupts the parse: it was held until the workers had
    started (it was lost, and the parse ran to its end: the flaky interrupted-parse test)."""
    result = subprocess.run(
        [sys.executable, "-c", _INTERRUPTED_FORK],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert 130 == result.returncode, result.stdout + result.stderr
    assert "Exception ignored" not in result.stderr


def _shapes():
    """The benchmarks' log shapes module (``repeat_log``: a real log made long)."""
    name = "benchmark_shapes"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / "shapes.py")
        sys.modules[name] = importlib.util.module_from_spec(spec)  # its dataclass looks there
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


# Runs argv[1:] and prints the largest ru_maxrss (kB) of its process tree.
_PEAK = (
    "import resource, subprocess, sys\n"
    "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


@pytest.mark.slow
@pytest.mark.strace
@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_parse_memory_does_not_grow_with_the_log(run_strace, tmp_path, suffix):
    """A real log made 1.5M lines long (160 MB): no process of the command passes 300 MB,
    where holding the log's frame alone would take more (the command held 900 MB)."""
    small = tmp_path / "small.log"
    run_strace(["-f", "-ttt", "-T", "-y", "-o", str(small)], [sys.executable, str(TRACEE)])
    log = _shapes().repeat_log(small, tmp_path / "trace.log", 1_500_000)
    out = tmp_path / f"events{suffix}"
    result = subprocess.run(
        [sys.executable, "-c", _PEAK, sys.executable, "-m", "syscall_lab", "parse", str(log),
         "-o", str(out)],
        cwd=ROOT, check=True, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    peak_mb = int(result.stdout) / 1024
    assert peak_mb < 300, peak_mb
    assert os.path.getsize(out) > 0


def _frame_in_a_daemon(log: Path, queue) -> None:
    try:
        queue.put(read_trace(log))
    except Exception as exc:  # sent to the test, which shows it
        queue.put(repr(exc))


def test_a_daemonic_process_reads_a_large_log_in_itself(tmp_path):
    """A daemonic process (a multiprocessing or Dask worker) may not have children: there the
    fast engine reads a log of pool size in its own process, and gives the same rows."""
    log = _synthetic_log(tmp_path / "trace.log", POOL_MIN_BYTES + 1000)
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    daemon = context.Process(target=_frame_in_a_daemon, args=(log, queue), daemon=True)
    daemon.start()
    frame = queue.get(timeout=600)
    daemon.join(timeout=600)
    assert 0 == daemon.exitcode
    pd.testing.assert_frame_equal(read_trace(log), frame)

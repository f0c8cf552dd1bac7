"""The workloads run untraced: bounded memory and disk, no files left, SIGTERM cleans up."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workloads import CONDITIONS, Bounds, run_workload
from workloads.bounds import MIB

PYTHON = sys.executable


def _python(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` with ``TMPDIR`` set to ``tmp_path``; output captured, one minute at most."""
    return subprocess.run(
        [PYTHON, *args],
        env={**os.environ, "TMPDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _workload(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return _python(tmp_path, "-m", "workloads", *args)


@pytest.mark.parametrize("condition", list(CONDITIONS), ids=list(CONDITIONS))
def test_workload_runs_and_leaves_no_files(tmp_path: Path, condition: str) -> None:
    """Every workload exits 0, prints nothing, and removes its temporary folder."""
    done = _workload(tmp_path, condition, "--scale", "0.25")

    assert (0, "", "") == (done.returncode, done.stdout, done.stderr)
    assert [] == list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("condition", "scale", "bounds", "message"),
    [
        ("nosuch", 1.0, Bounds(), "unknown condition"),
        ("cpu", 0.0, Bounds(), "scale must be positive"),
        ("cpu", -1.0, Bounds(), "scale must be positive"),
        ("io", 1.0, Bounds(disk=1 * MIB), "bytes of disk"),
        ("memory", 1.0, Bounds(memory=4 * MIB), "buffers"),
    ],
    ids=["unknown", "zero-scale", "negative-scale", "disk-too-small", "memory-too-small"],
)
def test_bad_arguments_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, condition: str, scale: float,
    bounds: Bounds, message: str,
) -> None:  # fmt: skip
    """Arguments the workload cannot honour raise ValueError before any work or limit (a bad
    scale once lowered this test process's RLIMIT_AS, and pytest then ran out of memory)."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    limits = [resource.getrlimit(which) for which in (resource.RLIMIT_AS, resource.RLIMIT_FSIZE)]

    with pytest.raises(ValueError, match=message):
        run_workload(condition, scale=scale, bounds=bounds)
    assert limits == [
        resource.getrlimit(which) for which in (resource.RLIMIT_AS, resource.RLIMIT_FSIZE)
    ]
    assert [] == list(tmp_path.iterdir())


def test_cli_reports_bad_scale_in_one_line(tmp_path: Path) -> None:
    """``python -m workloads`` turns ValueError into one line and exit status 2."""
    done = _workload(tmp_path, "cpu", "--scale", "0")

    assert 2 == done.returncode
    assert ["workloads: scale must be positive, got 0.0"] == done.stderr.splitlines()


def test_memory_cap_is_enforced(tmp_path: Path) -> None:
    """Inside ``bounded``, an allocation above the address-space cap fails with MemoryError."""
    probe = (
        "from workloads.bounds import Bounds, MIB, bounded\n"
        "with bounded(Bounds(memory=128 * MIB)):\n"
        "    try:\n"
        "        bytearray(160 * MIB)\n"
        "    except MemoryError:\n"
        "        print('refused')\n"
    )
    done = _python(tmp_path, "-c", probe)

    assert (0, "refused\n") == (done.returncode, done.stdout)


def test_disk_cap_is_enforced(tmp_path: Path) -> None:
    """Inside ``bounded``, writing a file past the disk cap fails with EFBIG (RLIMIT_FSIZE)."""
    probe = (
        "import errno, os\n"
        "from workloads.bounds import Bounds, MIB, bounded\n"
        "with bounded(Bounds(disk=1 * MIB)) as folder:\n"
        "    try:\n"
        "        (folder / 'big').write_bytes(bytes(2 * MIB))\n"
        "    except OSError as exc:\n"
        "        print(errno.errorcode[exc.errno])\n"
    )
    done = _python(tmp_path, "-c", probe)

    assert (0, "EFBIG\n") == (done.returncode, done.stdout)
    assert [] == list(tmp_path.iterdir())


@pytest.mark.parametrize("condition", ["memory", "memory-brk"], ids=["mmap", "brk"])
def test_peak_memory_stays_under_cap(tmp_path: Path, condition: str) -> None:
    """The peak RSS of a memory workload (its only child's ru_maxrss) is far below 256 MiB."""
    probe = (
        "import resource, subprocess, sys\n"
        f"subprocess.run([sys.executable, '-m', 'workloads', {condition!r}], check=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    done = _python(tmp_path, "-c", probe)
    done.check_returncode()
    peak_kib = int(done.stdout)

    assert peak_kib < Bounds().memory // 1024
    # The buffer really is touched: the peak is above the interpreter's own ~10 MiB (as seen on
    # CPython 3.11; the 8 MiB floor under it is a regression band, not a derivation).
    assert peak_kib > 4 * 1024 + 8 * 1024


def _disk_use(folder: Path) -> int:
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_blocks * 512
            except FileNotFoundError:
                continue
    return total


def test_io_disk_use_stays_under_cap(tmp_path: Path) -> None:
    """Disk use sampled while ``io`` runs at scale 4 stays within one 8 MiB batch (cap 64 MiB)."""
    peak = 0
    process = subprocess.Popen(
        [PYTHON, "-m", "workloads", "io", "--scale", "4"],
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )
    try:
        while process.poll() is None:
            peak = max(peak, _disk_use(tmp_path))
            time.sleep(0.002)
    finally:
        process.wait(timeout=60)

    assert 0 == process.returncode
    assert 0 < peak <= 8 * MIB + 64 * 1024
    assert [] == list(tmp_path.iterdir())


def test_sigterm_removes_temporary_folder(tmp_path: Path) -> None:
    """A looping workload killed with SIGTERM exits 143 after removing its folder."""
    process = subprocess.Popen(
        [PYTHON, "-m", "workloads", "io", "--loop"],
        env={**os.environ, "TMPDIR": str(tmp_path)},
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    seen = False
    while not seen and time.monotonic() < deadline:
        seen = any(tmp_path.glob("syscall-lab-workload-*/data-*"))
        time.sleep(0.01)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)

    assert seen
    assert (128 + signal.SIGTERM, b"") == (process.returncode, stderr)
    assert [] == list(tmp_path.iterdir())

"""The phase cut: rows strictly between the workload's marker syscalls, clear errors otherwise."""

from __future__ import annotations

import glob
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from syscall_lab.analyse.phase import (
    PhaseError,
    PhaseMarkers,
    cut_to_phase,
    find_frame_markers,
    find_markers,
)
from syscall_parse import iter_events, read_trace
from syscall_parse.schema import DTYPES

REPO = Path(__file__).resolve().parents[2]

# Lines of a real capture (strace 6.1 -f -ttt -T -y, CPython 3.11, `python -m workloads normal`),
# with the run folder's path shortened.
BEFORE = (
    "6474  1795869524.849609 close(3</tmp/run/config.json>) = 0 <0.000010>"
)  # fmt: skip
START = (
    '6474  1795869524.849659 newfstatat(AT_FDCWD</work/main>, "/syscall-lab-phase/start", '
    "0x7ffe3ef80140, 0) = -1 ENOENT (No such file or directory) <0.000009>"
)
INSIDE = (
    '6474  1795869524.849705 openat(AT_FDCWD</work/main>, "/tmp/run/config.json", '
    "O_RDONLY|O_CLOEXEC) = 3</tmp/run/config.json> <0.000012>",
    '6474  1795869524.849744 newfstatat(3</tmp/run/config.json>, "", {st_mode=S_IFREG|0644, '
    "st_size=33, ...}, AT_EMPTY_PATH) = 0 <0.000008>",
    "6474  1795869524.858309 close(3</tmp/run/output.json>) = 0 <0.000067>",
)
END = (
    '6474  1795869524.858470 newfstatat(AT_FDCWD</work/main>, "/syscall-lab-phase/end", '
    "0x7ffe3ef80140, 0) = -1 ENOENT (No such file or directory) <0.000013>"
)
AFTER = "6474  1795869524.859000 exit_group(0)                    = ?"


def _frame(tmp_path: Path, lines: list[str]) -> pd.DataFrame:
    log = tmp_path / "trace.log"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return read_trace(log)


def test_cut_keeps_rows_strictly_between_markers(tmp_path: Path) -> None:
    """The three calls between the markers, nothing of the markers or around them."""
    phase = cut_to_phase(_frame(tmp_path, [BEFORE, START, *INSIDE, END, AFTER]))

    assert [3, 4, 5] == phase["line"].tolist()
    assert ["openat", "newfstatat", "close"] == phase["syscall"].astype("object").tolist()
    assert DTYPES == {column: str(dtype) for column, dtype in phase.dtypes.items()}
    assert list(range(3)) == phase.index.tolist()


def test_markers_from_events_and_from_frame_agree(tmp_path: Path) -> None:
    """find_markers (events) and find_frame_markers (table) give the same lines."""
    lines = [BEFORE, START, *INSIDE, END, AFTER]

    assert PhaseMarkers(2, 6) == find_markers(iter_events(lines))
    assert PhaseMarkers(2, 6) == find_frame_markers(_frame(tmp_path, lines))


@pytest.mark.parametrize(
    "start",
    [
        'stat("/syscall-lab-phase/start", 0x7ffd5c3b1e40) = -1 ENOENT (No such file or directory)',
        'statx(AT_FDCWD, "/syscall-lab-phase/start", AT_STATX_SYNC_AS_STAT, STATX_BASIC_STATS, '
        "0x7ffc1b2d0e60) = -1 ENOENT (No such file or directory)",
        'fstatat64(AT_FDCWD, "/syscall-lab-phase/start", 0xbe8f1a40, 0) = -1 ENOENT (No such '
        "file or directory)",
    ],
    ids=["stat", "statx", "fstatat64"],
)
def test_marker_syscall_names_of_other_platforms(tmp_path: Path, start: str) -> None:
    """``os.stat`` appears under other names elsewhere; each is recognised."""
    assert PhaseMarkers(1, 5) == find_frame_markers(_frame(tmp_path, [start, *INSIDE, END]))


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([BEFORE, *INSIDE, AFTER], "found 0 start"),
        ([BEFORE, START, *INSIDE, AFTER], "and 0 end"),
        ([START, START, *INSIDE, END], "found 2 start"),
        ([END, *INSIDE, START], "before start"),
    ],
    ids=["no-markers", "no-end", "two-starts", "reversed"],
)
def test_bad_markers_raise_phase_error(tmp_path: Path, lines: list[str], message: str) -> None:
    """Missing, repeated or reversed markers raise PhaseError (a ValueError) naming the trace."""
    frame = _frame(tmp_path, lines)

    with pytest.raises(PhaseError, match=message) as raised:
        cut_to_phase(frame, where="run-7/trace.log")
    assert isinstance(raised.value, ValueError)
    assert str(raised.value).startswith("run-7/trace.log: ")


def test_marker_mentioned_by_another_syscall_is_not_a_marker(tmp_path: Path) -> None:
    """Only a stat-family call counts: an openat of the marker path is ordinary."""
    impostor = (
        '6474  1795869524.849700 openat(AT_FDCWD, "/syscall-lab-phase/start", O_RDONLY) = -1 '
        "ENOENT (No such file or directory) <0.000004>"
    )

    assert PhaseMarkers(2, 6) == find_frame_markers(
        _frame(tmp_path, [impostor, START, *INSIDE, END])
    )


def _pythons() -> list[str]:
    found = sorted(glob.glob("/root/.pyenv/versions/3.1[0-3].*/bin/python"))
    return found or [sys.executable]


@pytest.mark.strace
@pytest.mark.parametrize("python", _pythons(), ids=lambda path: Path(path).parent.parent.name)
def test_markers_of_a_real_workload_on_each_python(
    strace: str, tmp_path: Path, python: str
) -> None:
    """On every CPython 3.10-3.13 found, the markers appear once each, around the phase."""
    log = tmp_path / "trace.log"
    env = {**os.environ, "TMPDIR": str(tmp_path), "PYTHONPATH": str(REPO)}
    subprocess.run(
        [strace, "-f", "-ttt", "-T", "-y", "-o", str(log), python, "-m", "workloads", "memory",
         "--scale", "0.25"],
        env=env, check=True, timeout=60,
    )  # fmt: skip
    phase = cut_to_phase(read_trace(log))

    counts = phase["syscall"].value_counts()
    assert {"mmap": 16, "munmap": 16} == {name: int(n) for name, n in counts.items() if n}

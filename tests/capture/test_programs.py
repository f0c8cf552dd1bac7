"""The real programs: their inputs come from the seed, they run again in the same folder with
the same calls, and a capture traces them whole and leaves no input behind."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from syscall_lab.capture.run import capture_condition
from syscall_lab.errors import CaptureError
from syscall_parse.table import read_trace
from workloads.programs import PROGRAMS, missing_programs


def _files(folder: Path) -> dict[str, bytes]:
    """Each file under ``folder``, its content with the folder's path written ``F``."""
    return {
        str(path.relative_to(folder)): path.read_bytes().replace(bytes(folder), b"F")
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_inputs_come_from_the_seed(tmp_path: Path, name: str) -> None:
    """The same seed writes the same inputs and the same command (but for its folder);
    another seed other inputs. The command names its inputs by absolute path."""
    program = PROGRAMS[name]
    first = program.command(tmp_path / "a", scale=0.1, seed=0)
    again = program.command(tmp_path / "b", scale=0.1, seed=0)
    other = program.command(tmp_path / "c", scale=0.1, seed=1)

    assert program.executable == first[0]
    assert _files(tmp_path / "a") == _files(tmp_path / "b") != _files(tmp_path / "c")
    assert [arg.replace(str(tmp_path / "a"), "F") for arg in first] == [
        arg.replace(str(tmp_path / "b"), "F") for arg in again
    ]
    assert any(str(tmp_path / "a") in arg for arg in first)
    assert [] != [arg for arg in other if str(tmp_path / "c") in arg]


def test_a_bad_scale_is_refused(tmp_path: Path) -> None:
    """A scale that is not > 0 is a ValueError before any input is written."""
    with pytest.raises(ValueError, match="scale must be positive"):
        PROGRAMS["sqlite"].command(tmp_path / "inputs", scale=0.0)
    assert [] == list(tmp_path.iterdir())


def test_missing_programs_are_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Without their executables on PATH, every program is missing."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert list(PROGRAMS) == missing_programs(list(PROGRAMS))


def test_an_unknown_program_is_a_capture_error(tmp_path: Path) -> None:
    """capture_condition with the program backend names the programs it knows."""
    with pytest.raises(CaptureError, match="no real program 'emacs'; one of git-grep, sqlite"):
        capture_condition("emacs", backend="program", out_dir=tmp_path)


@pytest.mark.strace
@pytest.mark.parametrize("name", list(PROGRAMS))
def test_capture_traces_the_program_whole(strace: str, tmp_path: Path, name: str) -> None:
    """A capture traces the program itself from its execve, records the program backend, and
    removes its inputs with the temporary folder; the untraced run before it leaves nothing
    the traced one depends on beyond what every run sees."""
    if missing_programs([name]):
        pytest.skip(f"{PROGRAMS[name].executable} is not installed")
    runs = [
        capture_condition(name, backend="program", scale=0.25, out_dir=tmp_path / "runs", repeat=r)
        for r in range(2)
    ]
    counts = []
    for result in runs:
        meta = result.metadata
        assert ("complete", 0, "program") == (meta.status, meta.exit_status, meta.backend)
        assert shutil.which(PROGRAMS[name].executable) == shutil.which(meta.command[0])
        events = read_trace(list(result.logs))
        calls = events[events["kind"] == "syscall"]["syscall"].astype(str)
        assert "execve" == calls.iloc[0]
        counts.append(calls.value_counts().to_dict())
    assert [] == list(Path(tempfile.gettempdir()).glob(f"syscall-lab-{name}-*"))
    if name == "sqlite":
        # A single thread: the same calls in every run.
        assert counts[0] == counts[1]
        assert counts[0]["fdatasync"] > 0

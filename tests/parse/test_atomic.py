"""Atomic writes: a file appears whole or not at all, and no temporary file is left behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from syscall_parse.atomic import atomic_path, write_text


def test_write_text_replaces_whole(tmp_path: Path) -> None:
    """The new text replaces the old one; the folder holds nothing else."""
    target = tmp_path / "report.md"
    target.write_text("old\n")
    write_text(target, "new\n")
    assert "new\n" == target.read_text()
    assert [target] == list(tmp_path.iterdir())


def test_failed_write_keeps_old_file_and_removes_temp(tmp_path: Path) -> None:
    """An error inside the block leaves the target as it was and removes the temporary file."""
    target = tmp_path / "data.csv"
    target.write_text("complete\n")

    def write_half() -> None:
        with atomic_path(target) as temp:
            temp.write_text("half")
            raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        write_half()
    assert "complete\n" == target.read_text()
    assert [target] == list(tmp_path.iterdir())


def test_mode_follows_umask(tmp_path: Path) -> None:
    """Files get the mode open() would give them (mkstemp alone would make them 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    path = write_text(tmp_path / "model.json", "{}")
    assert 0o666 & ~umask == path.stat().st_mode & 0o777

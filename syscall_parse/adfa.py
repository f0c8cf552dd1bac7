"""Load the ADFA-LD host-intrusion data set (Creech & Hu 2013) as traces of syscall names.

Research use only: the project reads the data where it lies and never copies it. A trace file
is one line of i386 syscall numbers; they are mapped to names with the i386 table so that
ADFA-LD and our x86-64 strace captures share one vocabulary.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError
from .syscall_table import syscall_name

__all__ = [
    "ADFA_SPLITS",
    "AdfaDataset",
    "AdfaTrace",
    "default_adfa_dir",
    "load_adfa",
    "read_adfa_trace",
]

# Folder of each split, in the order of the usual protocol: train, test normal, test attack.
ADFA_SPLITS = {
    "train": "Training_Data_Master",
    "validation": "Validation_Data_Master",
    "attack": "Attack_Data_Master",
}

# Attack folder name => type: "Hydra_FTP_3" => "Hydra_FTP".
_ATTACK_FOLDER = re.compile(r"^(?P<type>[A-Za-z_]+?)_(?P<run>\d+)$")


@dataclass(frozen=True, slots=True)
class AdfaTrace:
    """One ADFA-LD trace: its path relative to the data set root, split, attack type and calls."""

    path: str
    split: str
    attack: str | None
    calls: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AdfaDataset:
    """The three splits of ADFA-LD, each sorted by path."""

    root: Path
    train: tuple[AdfaTrace, ...]
    validation: tuple[AdfaTrace, ...]
    attack: tuple[AdfaTrace, ...]

    @property
    def attack_types(self) -> tuple[str, ...]:
        """The sorted attack types (six in ADFA-LD)."""
        return tuple(sorted({t.attack for t in self.attack if t.attack is not None}))


def default_adfa_dir() -> Path:
    """``$ADFA_LD_DIR``, else ``<repo>/../shared/data/adfa-ld``."""
    env = os.environ.get("ADFA_LD_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "adfa-ld"


def read_adfa_trace(path: Path) -> tuple[str, ...]:
    """The syscall names of one ADFA-LD trace file (i386 numbers separated by spaces)."""
    text = path.read_text(encoding="ascii", errors="strict")
    try:
        numbers = [int(token) for token in text.split()]
    except ValueError as exc:
        raise InputError(
            f"{path}: not an ADFA-LD trace (expected syscall numbers): {exc}"
        ) from None
    return tuple(syscall_name(number, "i386") for number in numbers)


def load_adfa(root: Path | str) -> AdfaDataset:
    """Read every trace of the ADFA-LD folder ``root``; InputError if it is not one."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"{root}: not a directory (expected the ADFA-LD folder)")
    missing = [folder for folder in ADFA_SPLITS.values() if not (root / folder).is_dir()]
    if missing:
        raise InputError(f"{root}: not an ADFA-LD folder, missing {', '.join(missing)}")
    splits: dict[str, list[AdfaTrace]] = {split: [] for split in ADFA_SPLITS}
    for split, folder in ADFA_SPLITS.items():
        for path in sorted((root / folder).rglob("*.txt")):
            attack = None
            if split == "attack":
                match = _ATTACK_FOLDER.match(path.parent.name)
                if match is None:
                    raise InputError(f"{path.parent}: attack folder name is not <type>_<run>")
                attack = match["type"]
            relative = path.relative_to(root).as_posix()
            splits[split].append(AdfaTrace(relative, split, attack, read_adfa_trace(path)))
    empty = [ADFA_SPLITS[split] for split, traces in splits.items() if not traces]
    if empty:
        raise InputError(f"{root}: no trace files in {', '.join(empty)}")
    return AdfaDataset(
        root, tuple(splits["train"]), tuple(splits["validation"]), tuple(splits["attack"])
    )

"""Real programs and their inputs: what the experiment traces beside our own workloads.

Our workloads make the same calls in every run by construction. Real programs vary: threads
wait on each other (``futex``, with ``EAGAIN`` when the word changed first), allocators trim
their arenas when they happen to be free. Each program here is traced whole, from its
``execve`` (it has no phase markers), on inputs that :meth:`Program.command` writes from the
seed into a folder of its own, so every run sees the same inputs; the command line names them
by absolute path and can run again in the same folder with the same calls.

========= ========================================================================================
program   what it does at scale 1
========= ========================================================================================
git-grep  ``git grep --no-index --threads 2 -c`` over a tree of 120 generated text files
          (10 folders, about 2 KiB each, 0.25 MiB): two threads hand files to each other
sqlite    ``sqlite3`` runs a generated SQL script on a new database (``.open --new``, which
          removes the one a run before left) in WAL mode: 10 transactions of 200 inserts (one
          ``fdatasync`` of the log each), an index, a grouped query (0.5 MiB on disk)
========= ========================================================================================

Each program's executable is also the Debian package that installs it (``git``, ``sqlite3``);
``quickstart.sh`` installs both, and an experiment skips the conditions of a missing one, saying
so. The inputs are bounded by construction (at most a few MiB at scale 1); the capture's timeout
bounds the time.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PROGRAMS", "Program", "missing_programs"]

TREE_FOLDERS = 10
TREE_FILES = 120
TREE_LINES = 40  # lines of 8 words per file: about 2 KiB
SQL_TRANSACTIONS = 10
SQL_INSERTS = 200
VOCABULARY = 400
GREP_PATTERN = "ab"


def _scaled(base: int, scale: float) -> int:
    return max(1, round(base * scale))


def _vocabulary(rng: random.Random) -> list[str]:
    return [
        "".join(rng.choice("abcdefghijklmnop") for _ in range(rng.randint(2, 9)))
        for _ in range(VOCABULARY)
    ]


def _git_grep(folder: Path, scale: float, rng: random.Random) -> tuple[str, ...]:
    words = _vocabulary(rng)
    tree = folder / "tree"
    for index in range(_scaled(TREE_FILES, scale)):
        path = tree / f"d{index % TREE_FOLDERS}" / f"f{index:04d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = (" ".join(rng.choices(words, k=8)) for _ in range(TREE_LINES))
        path.write_text("\n".join(lines) + "\n", encoding="ascii")
    return ("git", "-C", str(tree), "grep", "--no-index", "--threads", "2", "-c", "-e",
            GREP_PATTERN)  # fmt: skip


def _sqlite(folder: Path, scale: float, rng: random.Random) -> tuple[str, ...]:
    words = _vocabulary(rng)
    statements = [
        f".open --new {folder / 'work.db'}",
        "PRAGMA journal_mode=WAL;",
        "CREATE TABLE item(id INTEGER PRIMARY KEY, word TEXT, value REAL);",
    ]
    for _ in range(_scaled(SQL_TRANSACTIONS, scale)):
        statements.append("BEGIN;")
        statements += [
            f"INSERT INTO item(word, value) VALUES ('{rng.choice(words)}', {rng.random():.6f});"
            for _ in range(SQL_INSERTS)
        ]
        statements.append("COMMIT;")
    statements += [
        "CREATE INDEX item_word ON item(word);",
        "SELECT word, count(*), avg(value) FROM item GROUP BY word ORDER BY 2 DESC LIMIT 5;",
    ]
    script = folder / "script.sql"
    script.write_text("\n".join(statements) + "\n", encoding="ascii")
    return ("sqlite3", "-bail", "-batch", ":memory:", f".read {script}")


@dataclass(frozen=True, slots=True)
class Program:
    """A real program: its name, the executable it runs (and Debian package that installs it),
    what it does, and how its inputs are made."""

    name: str
    executable: str
    description: str
    prepare: Callable[[Path, float, random.Random], tuple[str, ...]]

    def command(self, folder: Path, *, scale: float = 1.0, seed: int = 0) -> tuple[str, ...]:
        """Write the inputs for ``scale`` and ``seed`` into ``folder``; the command line that
        runs the program on them (from any working directory). ValueError for a bad scale."""
        folder = Path(folder).absolute()
        if not scale > 0:
            raise ValueError(f"scale must be positive, got {scale!r}")
        folder.mkdir(parents=True, exist_ok=True)
        return self.prepare(folder, scale, random.Random(seed))


PROGRAMS: dict[str, Program] = {
    program.name: program
    for program in (
        Program(
            "git-grep", "git", "git grep with 2 threads over a generated tree of text files",
            _git_grep,
        ),
        Program(
            "sqlite", "sqlite3", "sqlite3 runs a generated script of inserts in WAL mode",
            _sqlite,
        ),
    )
}  # fmt: skip
"""The real programs by name."""


def missing_programs(names: Sequence[str]) -> list[str]:
    """The programs of ``names`` whose executable is not installed."""
    return [name for name in names if shutil.which(PROGRAMS[name].executable) is None]

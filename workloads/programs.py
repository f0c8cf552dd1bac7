"""Real programs, run in the measured phase on inputs generated here: ``python -m workloads NAME``.

Our own workloads make the same calls in every run by construction. Real programs vary: threads
wait on each other (``futex``, with ``EAGAIN`` when the word changed first), allocators trim
their arenas when they happen to be free. Each program runs as a child of the workload process,
between the phase markers, in the workload's own temporary folder, under its bounds (the caps
are inherited by the child), with a clean environment (``HOME`` in the folder, ``LC_ALL=C``) so
no rc file of the machine's user changes its calls; its output goes to files in the folder. The
inputs are generated before the start marker, from the seed, so every run sees the same inputs.

========= ========================================================================================
program   measured phase at scale 1
========= ========================================================================================
git-grep  ``git grep --no-index --threads 2 -c`` over a tree of 300 generated text files
          (10 folders, about 2 KiB each, 0.6 MiB): two threads hand files to each other
sqlite    ``sqlite3`` runs a generated SQL script on a new database in WAL mode: 20 transactions
          of 200 inserts (one ``fdatasync`` of the log each), an index, a grouped query (1 MiB)
========= ========================================================================================

Each program's executable is also the Debian package that installs it (``git``, ``sqlite3``);
``quickstart.sh`` installs both. Without it, the workload refuses to run (ValueError, before the
start marker) and an experiment skips its conditions, saying so.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from .bounds import MIB
from .workload import Workload, scaled

__all__ = ["PROGRAMS", "missing_programs"]

TREE_FOLDERS = 10
TREE_FILES = 150
TREE_WORDS = 320  # words per file: about 2 KiB
SQL_TRANSACTIONS = 10
SQL_INSERTS = 200
VOCABULARY = 400
GREP_PATTERN = "ab"


def _vocabulary(rng: random.Random) -> list[str]:
    return [
        "".join(rng.choice("abcdefghijklmnop") for _ in range(rng.randint(2, 9)))
        for _ in range(VOCABULARY)
    ]


def _run_program(folder: Path, argv: Sequence[str], cwd: Path) -> Callable[[], None]:
    """The phase that runs ``argv`` in ``cwd``: its executable looked up now, before the marker;
    ValueError when it is not installed."""
    executable = shutil.which(argv[0])
    if executable is None:
        raise ValueError(f"{argv[0]}: command not found (install it: apt-get install {argv[0]})")
    env = {"PATH": os.environ.get("PATH", os.defpath), "HOME": str(folder), "LC_ALL": "C"}
    command = [executable, *argv[1:]]

    def phase() -> None:
        with open(folder / "stdout.txt", "wb") as stdout, open(folder / "stderr.txt", "wb") as err:
            done = subprocess.run(
                command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=stdout, stderr=err,
                check=False,
            )  # fmt: skip
        if done.returncode != 0:
            message = (folder / "stderr.txt").read_text(errors="replace").strip()
            raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: {message}")

    return phase


def _prepare_git_grep(folder: Path, scale: float, rng: random.Random) -> Callable[[], None]:
    words = _vocabulary(rng)
    tree = folder / "tree"
    for index in range(scaled(TREE_FILES, scale)):
        path = tree / f"d{index % TREE_FOLDERS}" / f"f{index:04d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = (" ".join(rng.choices(words, k=8)) for _ in range(TREE_WORDS // 8))
        path.write_text("\n".join(lines) + "\n", encoding="ascii")
    argv = ("git", "grep", "--no-index", "--threads", "2", "-c", "-e", GREP_PATTERN)
    return _run_program(folder, argv, tree)


def _prepare_sqlite(folder: Path, scale: float, rng: random.Random) -> Callable[[], None]:
    words = _vocabulary(rng)
    statements = [
        "PRAGMA journal_mode=WAL;",
        "CREATE TABLE item(id INTEGER PRIMARY KEY, word TEXT, value REAL);",
    ]
    for _ in range(scaled(SQL_TRANSACTIONS, scale)):
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
    (folder / "script.sql").write_text("\n".join(statements) + "\n", encoding="ascii")
    argv = ("sqlite3", "-bail", "-batch", "work.db", ".read script.sql")
    return _run_program(folder, argv, folder)


PROGRAMS: dict[str, Workload] = {
    workload.name: workload
    for workload in (
        Workload(
            "git-grep",
            "git grep with 2 threads over a generated tree of 300 text files",
            _prepare_git_grep,
            disk=MIB,
            program="git",
        ),
        Workload(
            "sqlite",
            "sqlite3 runs a generated script: 20 transactions of 200 inserts in WAL mode",
            _prepare_sqlite,
            disk=2 * MIB,
            program="sqlite3",
        ),
    )
}
"""The real programs by name."""


def missing_programs(names: Sequence[str]) -> list[str]:
    """The programs of ``names`` whose executable is not installed."""
    return [name for name in names if shutil.which(PROGRAMS[name].program or name) is None]

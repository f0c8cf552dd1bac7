"""The workloads: one program per experimental condition, with counted (not timed) work.

Each workload prepares its inputs, makes the ``start`` marker syscall, does its measured work,
makes the ``end`` marker, and cleans up. The work is a fixed number of operations times
``scale``, so at a given scale the syscalls inside the phase are the same run after run and grow
linearly with the scale. The seed only changes the data, never the amount of work.

=========== ==================================================================================
condition   measured phase at scale 1
=========== ==================================================================================
normal      8 rounds: read a small JSON config, sort and hash a little data, write a small output
cpu         SHA-256 chained over a 64 KiB block, 8,000 times (about 0.5 s); almost no syscalls
memory      64 anonymous ``mmap.mmap(-1, 4 MiB)``, every page touched, then closed: one ``mmap``
            and one ``munmap`` each (explicit mmap: a loop of same-size bytearrays makes almost
            no syscalls, because glibc raises its mmap threshold after the first free)
memory-brk  64 rounds of 64 x 64 KiB bytearrays (below glibc's 128 KiB mmap threshold, so the
            heap grows with ``brk``), touched, then freed (the heap is trimmed with ``brk``):
            about 22 ``brk`` per round; the exact number per round can differ by one with the
            heap layout start-up leaves (it depends on argv), so it is exact only per argv
io          16 files x 8 chunks of 64 KiB written with ``os.write`` and one ``fsync`` per file,
            read back in 64 KiB reads, then unlinked (8 MiB on disk at most, any scale)
=========== ==================================================================================
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .bounds import MIB, Bounds, bounded
from .markers import PHASE_END, PHASE_START, mark

__all__ = ["CONDITIONS", "DEFAULT_BOUNDS", "Workload", "run_workload"]

PAGE = mmap.PAGESIZE
CPU_BLOCK = 64 * 1024
CPU_ROUNDS = 8_000
NORMAL_ROUNDS = 8
MEMORY_BUFFERS = 64
MEMORY_BUFFER = 4 * MIB
BRK_CHUNK = 64 * 1024
IO_FILES = 16
IO_CHUNKS = 8
IO_CHUNK = 64 * 1024
DEFAULT_BOUNDS = Bounds()


def _count(base: int, scale: float) -> int:
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale!r}")
    return max(1, round(base * scale))


# Each workload is split in two: `prepare` runs before the start marker (inputs, data) and returns
# the phase function, which does exactly the counted work.
Prepare = Callable[[Path, float, random.Random], Callable[[], None]]


def _prepare_normal(folder: Path, scale: float, rng: random.Random) -> Callable[[], None]:
    config = folder / "config.json"
    output = folder / "output.json"
    config.write_text(json.dumps({"items": 200, "salt": rng.randrange(1 << 30)}))
    rounds = _count(NORMAL_ROUNDS, scale)

    def phase() -> None:
        for index in range(rounds):
            with open(config, "rb") as stream:
                settings = json.loads(stream.read())
            values = sorted(rng.random() for _ in range(settings["items"]))
            digest = hashlib.sha256(repr((settings["salt"], index, values)).encode()).hexdigest()
            summary = {"round": index, "median": values[len(values) // 2], "digest": digest}
            with open(output, "w", encoding="utf-8") as stream:
                stream.write(json.dumps(summary))

    return phase


def _prepare_cpu(folder: Path, scale: float, rng: random.Random) -> Callable[[], None]:
    block = rng.randbytes(CPU_BLOCK)
    rounds = _count(CPU_ROUNDS, scale)

    def phase() -> None:
        digest = b""
        for _ in range(rounds):
            digest = hashlib.sha256(digest + block).digest()

    return phase


def _touch(buffer: mmap.mmap | bytearray, value: int) -> None:
    for offset in range(0, len(buffer), PAGE):
        buffer[offset] = value


def _prepare_memory(folder: Path, scale: float, rng: random.Random) -> Callable[[], None]:
    buffers = _count(MEMORY_BUFFERS, scale)
    value = rng.randrange(1, 256)

    def phase() -> None:
        for _ in range(buffers):
            buffer = mmap.mmap(-1, MEMORY_BUFFER)
            try:
                _touch(buffer, value)
            finally:
                buffer.close()

    return phase


def _prepare_memory_brk(folder: Path, scale: float, rng: random.Random) -> Callable[[], None]:
    rounds = _count(MEMORY_BUFFERS, scale)
    per_round = MEMORY_BUFFER // BRK_CHUNK
    value = rng.randrange(1, 256)

    def phase() -> None:
        # The list is allocated before the chunks, so it sits below them on the heap and the
        # freed chunks merge into the top of the heap, which glibc then trims with brk.
        chunks: list[bytearray | None] = [None] * per_round
        for _ in range(rounds):
            for index in range(per_round):
                chunks[index] = chunk = bytearray(BRK_CHUNK)
                _touch(chunk, value)
            del chunk
            for index in range(per_round):
                chunks[index] = None

    return phase


def _prepare_io(folder: Path, scale: float, rng: random.Random) -> Callable[[], None]:
    files = _count(IO_FILES, scale)
    chunk = rng.randbytes(IO_CHUNK)

    def batch(names: list[Path]) -> None:
        for name in names:
            fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                for _ in range(IO_CHUNKS):
                    os.write(fd, chunk)
                os.fsync(fd)
            finally:
                os.close(fd)
        for name in names:
            fd = os.open(name, os.O_RDONLY)
            try:
                while os.read(fd, IO_CHUNK):
                    pass
            finally:
                os.close(fd)
        for name in names:
            os.unlink(name)

    def phase() -> None:
        # Batches of IO_FILES keep at most 8 MiB on disk whatever the scale.
        for first in range(0, files, IO_FILES):
            batch(
                [
                    folder / f"data-{index:05d}"
                    for index in range(first, min(files, first + IO_FILES))
                ]
            )

    return phase


@dataclass(frozen=True, slots=True)
class Workload:
    """One condition: its name, what it does, and its peak disk and buffer use in bytes."""

    name: str
    description: str
    prepare: Prepare
    disk: int = 0
    buffer: int = 0


CONDITIONS: dict[str, Workload] = {
    workload.name: workload
    for workload in (
        Workload(
            "normal",
            "read a small config, compute a little, write a small output",
            _prepare_normal,
            disk=64 * 1024,
        ),
        Workload("cpu", "chained SHA-256 over a 64 KiB block", _prepare_cpu),
        Workload(
            "memory",
            "anonymous mmap of 4 MiB buffers, touched and unmapped",
            _prepare_memory,
            buffer=MEMORY_BUFFER,
        ),
        Workload(
            "memory-brk",
            "64 KiB bytearrays that grow and trim the brk heap",
            _prepare_memory_brk,
            buffer=MEMORY_BUFFER,
        ),
        Workload(
            "io",
            "files written in 64 KiB chunks with fsync, read back, unlinked",
            _prepare_io,
            disk=IO_FILES * IO_CHUNKS * IO_CHUNK,
        ),
    )
}


def run_workload(
    condition: str,
    *,
    scale: float = 1.0,
    seed: int = 0,
    bounds: Bounds = DEFAULT_BOUNDS,
    loop: bool = False,
) -> None:
    """Run one workload in this process, between the phase markers, under ``bounds``.

    The limits stay lowered in this process afterwards (a workload is a process of its own).

    ``loop`` repeats the measured work until SIGTERM (for an untraced ambient stressor).
    Raises ``ValueError`` for an unknown condition, a bad scale, or caps the workload cannot fit in.
    """
    try:
        workload = CONDITIONS[condition]
    except KeyError:
        raise ValueError(
            f"unknown condition {condition!r}; one of {', '.join(CONDITIONS)}"
        ) from None
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale!r}")
    if workload.disk > bounds.disk:
        raise ValueError(f"{condition} needs {workload.disk} bytes of disk, cap is {bounds.disk}")
    if workload.buffer * 2 > bounds.memory:
        raise ValueError(
            f"{condition} needs {workload.buffer} bytes buffers, cap is {bounds.memory}"
        )
    with bounded(bounds) as folder:
        phase = workload.prepare(folder, scale, random.Random(seed))
        mark(PHASE_START)
        phase()
        while loop:
            phase()
        mark(PHASE_END)

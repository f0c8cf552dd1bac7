"""A log cut into chunks of whole lines, each read alone, and work mapped over the chunks on a
pool of forked processes (or in this process for small logs)."""

from __future__ import annotations

import contextlib
import functools
import itertools
import multiprocessing
import os
import pickle
import signal
import threading
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import TypeVar

from syscall_parse.allocator import keep_freed_memory

__all__ = [
    "CHUNK_BYTES",
    "POOL_MIN_BYTES",
    "PROFILE_CHUNK_BYTES",
    "Chunk",
    "chunk_ranges",
    "map_chunks",
    "map_pool",
    "pool_size",
    "read_chunk",
]

CHUNK_BYTES = 3 << 20
"""Bytes per chunk of a frame: big enough to amortise the per-call cost of the Arrow kernels,
small enough that the chunks in flight stay well under the memory budget. With the compiled
scan the parent receives chunks faster than it writes them, so they wait in it: its peak on a
1.5M-line log of threads, to Parquet, was 215-237 MB at 4 MB, 189-201 MB at 3 MB and 173 MB
at 2 MB (a loaded machine adds up to 60 MB; the budget is 250); 2 MB chunks parse 6% slower
than 4 MB ones (in turns), 3 MB ones about half that."""

PROFILE_CHUNK_BYTES = 2 << 20
"""Bytes per chunk of a profile: its numpy arrays are few, so a worker stays near its imports'
size (40 MB, 35 MB at 1 MB a chunk), and the per-call costs of numpy are spread over enough
lines (10% faster than 1 MB a chunk; 4 MB gains no more)."""

# Logs smaller than this are parsed in this process: a pool costs more than it saves.
POOL_MIN_BYTES = 16 << 20


def pool_size(size: int) -> int:
    """The processes to parse ``size`` bytes on: every core from :data:`POOL_MIN_BYTES` up,
    else this process alone; this one alone too inside a daemonic process (a worker of
    multiprocessing or Dask), which may not have children."""
    if size < POOL_MIN_BYTES or multiprocessing.current_process().daemon:
        return 1
    return os.cpu_count() or 1


T = TypeVar("T")
U = TypeVar("U")


@dataclass(frozen=True, slots=True)
class Chunk:
    """Where one chunk of the log lies: a byte range. Its lines are numbered from 1 by the
    worker; the frame path adds the lines of the chunks before (counted by the workers, so
    that the parent does not read the whole log while they work)."""

    start: int
    stop: int


def chunk_ranges(path: Path, size: int) -> Iterator[Chunk]:
    """Byte ranges of about ``size`` bytes, each ending after a newline (or at the end)."""
    total = path.stat().st_size
    if total <= size:  # one chunk, the file unopened (-ff sets: thousands of small files)
        if total:
            yield Chunk(0, total)
        return
    start = 0
    with path.open("rb") as handle:
        while start < total:
            stop = start + size
            if stop >= total:
                yield Chunk(start, total)
                return
            handle.seek(stop)
            while True:
                block = handle.read(1 << 16)
                if not block:
                    yield Chunk(start, total)
                    return
                at = block.find(b"\n")
                if at >= 0:
                    stop += at + 1
                    break
                stop += len(block)
            yield Chunk(start, stop)
            start = stop


def read_chunk(path: Path, chunk: Chunk) -> bytes:
    """The bytes of ``chunk``, ending with a newline."""
    with path.open("rb") as handle:
        handle.seek(chunk.start)
        data = handle.read(chunk.stop - chunk.start)
    if data and not data.endswith(b"\n"):
        data += b"\n"  # the last line of a log cut short: a line all the same
    return data


# The signals a parse ends on: Ctrl-C, and SIGTERM, which the command turns into an exit.
_ENDING = {signal.SIGINT, signal.SIGTERM}


@contextlib.contextmanager
def _ending_signals_held() -> Iterator[None]:
    """The ending signals held while the pool forks its workers, then acted on: a Python
    signal handler that runs inside an at-fork handler (logging's takes its lock) has its
    KeyboardInterrupt ignored, and the interrupt was lost. Blocking them in this thread is not
    enough, since the kernel then hands them to another thread (numpy's OpenBLAS threads
    block none) and Python runs the handler here all the same: in the main thread the
    handlers only note them meanwhile; elsewhere, where no handler can be set and none runs,
    the thread blocks them."""
    if threading.current_thread() is not threading.main_thread():
        held = signal.pthread_sigmask(signal.SIG_BLOCK, _ENDING)
        try:
            yield
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
        return
    noted: list[int] = []
    previous = {
        ending: signal.signal(ending, lambda got, _: noted.append(got)) for ending in _ENDING
    }
    try:
        yield
    finally:
        for ending, handler in previous.items():
            signal.signal(ending, signal.SIG_DFL if handler is None else handler)
        for ending in noted[:1]:
            signal.raise_signal(ending)


def _worker_start() -> None:
    """In each worker: Ctrl-C (sent to the whole process group by a terminal) is the parent's
    to handle, a SIGTERM ends the worker, and the signals held while it was forked are not;
    the memory of one chunk is kept for the next (``allocator``)."""
    keep_freed_memory()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _ENDING)


def _pickled(work: Callable[[U], T], item: U) -> bytes:
    """``work(item)`` pickled with protocol 5 in the worker: the pool's queue pickles with
    protocol 4, which copies each Arrow buffer twice (8 ms for a chunk's 5 MB table, 1 ms
    here); the queue then sends these bytes as they are."""
    return pickle.dumps(work(item), protocol=5)


def map_chunks(
    path: Path, work: Callable[[str, Chunk], T], workers: int | None, chunk_bytes: int
) -> Iterator[T]:
    """``work(path, chunk)`` of every chunk, in order, on ``workers`` processes (None:
    :func:`pool_size`), as ``map_pool`` maps them."""
    if workers is None:
        workers = pool_size(path.stat().st_size)
    return map_pool(functools.partial(work, str(path)), chunk_ranges(path, chunk_bytes), workers)


def map_pool(work: Callable[[U], T], items: Iterable[U], workers: int) -> Iterator[T]:
    """``work(item)`` of every item, in order, on ``workers`` forked processes (in this one
    if ``workers`` <= 1). At most one item per worker and one more are in flight (their
    results wait in this process while it is busy), so memory does not grow with the items;
    the next item goes out before a result is handed over, so no worker waits for the caller."""
    items = iter(items)
    if workers <= 1:
        for item in items:
            yield work(item)
        return
    # fork: workers start at once with the parent's modules (spawn and forkserver re-import
    # the package, seconds of startup, and re-run unguarded __main__ scripts). The threads
    # already running (OpenBLAS, Arrow) register at-fork handlers; Python 3.12+ warns about
    # them all the same, so the warning is silenced while the workers are started. The ending
    # signals are held meanwhile (``_ending_signals_held``).
    task = functools.partial(_pickled, work)
    with ProcessPoolExecutor(
        workers, mp_context=get_context("fork"), initializer=_worker_start
    ) as pool:
        pending: deque[Future[bytes]] = deque()
        with _ending_signals_held(), warnings.catch_warnings():
            warnings.filterwarnings("ignore", ".*fork", DeprecationWarning)
            for item in itertools.islice(items, workers + 1):
                pending.append(pool.submit(task, item))
        for item in items:
            done = pending.popleft().result()
            pending.append(pool.submit(task, item))  # before the caller works on ``done``
            yield pickle.loads(done)
        while pending:
            yield pickle.loads(pending.popleft().result())

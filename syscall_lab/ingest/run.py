"""One ingest: sources to tasks on a Dask cluster, their outcomes into the manifest, a summary.

Sources go to the workers in batches (``batches``): a task per source would cost the scheduler
more than reading a small log does.

The client puts each part in place as it records its outcome (``worker.commit``), and writes
the manifest as outcomes come in (every ``MANIFEST_SECONDS``) and once more at the end, whether
the run ends well, on an error, or on SIGINT or SIGTERM (both raise KeyboardInterrupt while an
ingest runs, never between a part's rename and its record, nor within the manifest's write): so
the manifest lists every part on disk, and a stopped run keeps what it finished. Only SIGKILL
(or a lost machine) skips the last write: then the parts done since the last one are not
listed, and the next run reads their sources again. The parts still being written are hidden
temporary files, removed at the end of the next run (or of this one when it ends well). One
ingest at a time writes a dataset (a lock file, ``.ingest.lock``, holds the others off).
"""

from __future__ import annotations

import fcntl
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from syscall_lab.errors import SyscallLabError
from syscall_lab.ingest.cluster import worker_count
from syscall_lab.ingest.manifest import Entry, read_manifest, write_manifest
from syscall_lab.ingest.sources import Source
from syscall_lab.ingest.worker import Outcome, commit, ingest_sources

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["BATCH_BYTES", "BATCH_SOURCES", "MANIFEST_SECONDS", "IngestSummary", "batches", "ingest"]

MANIFEST_SECONDS = 2.0
"""How often the manifest is written while outcomes come in."""

BATCH_SOURCES = 32
"""Sources per task, at most."""

BATCH_BYTES = 32 << 20
"""Bytes of source files per task, at most (a larger source is a task alone)."""

_LOCK = ".ingest.lock"


@dataclass(frozen=True, slots=True)
class IngestSummary:
    """What an ingest did: sources found, ``ingested`` (read now), ``skipped`` (unchanged),
    ``failed``; the ``events`` and ``unparsed`` lines read now; its wall ``seconds``; the
    cluster's ``workers``; and the ``failures``' entries."""

    sources: int
    ingested: int
    skipped: int
    failed: int
    events: int
    unparsed: int
    seconds: float
    workers: int
    failures: tuple[Entry, ...]

    def to_json(self) -> dict[str, int | float]:
        """The ``--json`` object of ``syscall-lab ingest`` (docs/json.md)."""
        return {
            "sources": self.sources,
            "ingested": self.ingested,
            "skipped": self.skipped,
            "failed": self.failed,
            "events": self.events,
            "unparsed": self.unparsed,
            "seconds": self.seconds,
            "workers": self.workers,
        }


def _remove_leftovers(dataset: Path) -> None:
    """The temporary files of parts a killed run was writing."""
    for temp in dataset.glob("label=*/.part-*.tmp"):
        temp.unlink(missing_ok=True)


def batches(sources: Sequence[Source], workers: int) -> list[list[Source]]:
    """``sources`` in order, cut into batches of at most ``BATCH_SOURCES`` sources and
    ``BATCH_BYTES`` bytes, and small enough that each worker gets four of them or more."""
    per_batch = max(1, min(BATCH_SOURCES, len(sources) // (4 * max(workers, 1))))
    cut: list[list[Source]] = []
    size = 0
    for source in sources:
        source_size = sum(os.stat(path).st_size for path in source.paths if os.path.isfile(path))
        if not cut or len(cut[-1]) == per_batch or size + source_size > BATCH_BYTES:
            cut.append([])
            size = 0
        cut[-1].append(source)
        size += source_size
    return cut


class _Stop:
    """The SIGINT and SIGTERM handler of an ingest: KeyboardInterrupt, held back inside
    ``held()`` and raised as it ends."""

    def __init__(self) -> None:
        self.holding = False
        self.pending = False

    def __call__(self, signum: int, frame: object) -> None:
        if self.holding:
            self.pending = True
        else:
            raise KeyboardInterrupt

    @contextmanager
    def held(self) -> Iterator[None]:
        """A block that SIGINT and SIGTERM do not cut short."""
        self.holding = True
        try:
            yield
        finally:
            self.holding = False
        if self.pending:
            self.pending = False
            raise KeyboardInterrupt


@contextmanager
def _stopping() -> Iterator[_Stop]:
    """SIGINT and SIGTERM handled by a ``_Stop`` (in the main thread; elsewhere signals do not
    reach Python code), the previous handlers restored after."""
    stop = _Stop()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {number: signal.signal(number, stop) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for number, handler in previous.items():
            signal.signal(number, signal.SIG_DFL if handler is None else handler)


def _outcomes(future: object, batch: Sequence[Source]) -> list[Outcome]:
    from distributed import KilledWorker

    try:
        return future.result()  # type: ignore[attr-defined, no-any-return]
    except KilledWorker as exc:
        return [
            Outcome(Entry.failed(source, f"{source.key}: workers died reading it ({exc})"), False)
            for source in batch
        ]


def ingest(
    sources: Sequence[Source],
    dataset: Path,
    client: Client,
    *,
    progress: Callable[[Outcome], None] | None = None,
) -> IngestSummary:
    """Ingest ``sources`` into the ``dataset`` folder on ``client``'s cluster, in batches;
    ``progress(outcome)`` after each source. Raises SyscallLabError when another ingest is
    writing the dataset, InputError when its manifest cannot be read."""
    from distributed import as_completed

    start = time.perf_counter()
    dataset = dataset.absolute()
    dataset.mkdir(parents=True, exist_ok=True)
    with open(dataset / _LOCK, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SyscallLabError(f"{dataset}: another ingest is writing this dataset") from None
        _remove_leftovers(dataset)
        entries = read_manifest(dataset)
        by_future = {}
        outcomes: list[Outcome] = []
        written = time.monotonic()
        with _stopping() as stop:
            try:
                cut = batches(sources, worker_count(client))
                futures = client.map(
                    ingest_sources,
                    cut,
                    [str(dataset)] * len(cut),
                    [[entries.get(source.key) for source in batch] for batch in cut],
                    pure=False,
                )
                by_future = dict(zip(futures, cut, strict=True))
                for future in as_completed(futures):
                    done = _outcomes(future, by_future[future])
                    with stop.held():
                        for outcome in done:
                            commit(outcome, dataset)
                            outcomes.append(outcome)
                            entries[outcome.entry.source] = outcome.entry
                    if progress is not None:
                        for outcome in done:
                            progress(outcome)
                    if time.monotonic() - written >= MANIFEST_SECONDS:
                        with stop.held():
                            write_manifest(dataset, entries)
                        written = time.monotonic()
                _remove_leftovers(dataset)  # of workers killed mid-write: their sources redone
            finally:
                with stop.held():
                    for future in by_future:
                        future.cancel()
                    write_manifest(dataset, entries)
    read = [o.entry for o in outcomes if not o.skipped and o.entry.status == "ingested"]
    failures = tuple(o.entry for o in outcomes if o.entry.status == "failed")
    return IngestSummary(
        sources=len(sources),
        ingested=len(read),
        skipped=sum(o.skipped for o in outcomes),
        failed=len(failures),
        events=sum(entry.events for entry in read),
        unparsed=sum(entry.unparsed for entry in read),
        seconds=time.perf_counter() - start,
        workers=worker_count(client),
        failures=failures,
    )

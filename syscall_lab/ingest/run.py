"""One ingest: sources to tasks on a Dask cluster, their outcomes into the manifest, a summary.

Sources go to the workers in batches (``batches``): a task per source would cost the scheduler
more than reading a small log does.

The manifest is written as outcomes come in (every ``MANIFEST_SECONDS``) and once more at the
end, however the run ends, so a killed or interrupted run keeps what it finished; the parts it
was writing were never renamed into place (hidden temporary files, removed at the end of the
next run, or of this one when it ends well), and the next run reads their sources again. One
ingest at a time writes a dataset (a lock file, ``.ingest.lock``, holds the others off).
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from syscall_lab.errors import SyscallLabError
from syscall_lab.ingest.cluster import worker_count
from syscall_lab.ingest.manifest import Entry, read_manifest, write_manifest
from syscall_lab.ingest.sources import Source
from syscall_lab.ingest.worker import Outcome, ingest_sources

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
                for outcome in _outcomes(future, by_future[future]):
                    outcomes.append(outcome)
                    entries[outcome.entry.source] = outcome.entry
                    if progress is not None:
                        progress(outcome)
                if time.monotonic() - written >= MANIFEST_SECONDS:
                    write_manifest(dataset, entries)
                    written = time.monotonic()
            _remove_leftovers(dataset)  # of workers killed mid-write: their sources were redone
        finally:
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

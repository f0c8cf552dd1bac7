"""A dataset read back, out of core: counts per syscall by label or source and n-grams per label
computed on the Dask cluster a part at a time, and the traces the detectors fit and score.

Only the parts the manifest lists as ingested are read (a part no manifest entry names, left by
a source that has since failed, is never counted). Each task of a profile or of n-gram counts
reads its parts a record batch at a time and returns small tallies; no process holds the
dataset. ``read_traces`` is the exception: it loads every selected trace into the caller.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from syscall_lab.ingest.manifest import MANIFEST_FILE, Entry, read_manifest
from syscall_parse.counts import Profile
from syscall_parse.errors import InputError

if TYPE_CHECKING:
    import pyarrow as pa
    from distributed import Client

__all__ = [
    "GROUPINGS",
    "DatasetTrace",
    "dataset_entries",
    "is_dataset",
    "ngram_counts",
    "profile_dataset",
    "read_traces",
]

GROUPINGS = ("label", "source")
"""What a dataset's profile is grouped by."""

_PARTS_PER_TASK = 256
_READ_ROWS = 1 << 20

# One syscall's tally in a part: calls (returned), errors, summed -T seconds, calls with a -T
# duration, calls that never returned.
Tally = dict[str, list[float]]


@dataclass(frozen=True, slots=True)
class DatasetTrace:
    """One source's syscall names in order, with the names of its source."""

    source: str
    label: str
    condition: str | None
    run: str | None
    calls: tuple[str, ...]


def is_dataset(path: str | Path) -> bool:
    """Whether ``path`` is a dataset folder (it holds ``manifest.json``)."""
    return (Path(path) / MANIFEST_FILE).is_file()


def dataset_entries(dataset: str | Path) -> list[Entry]:
    """The ingested sources of ``dataset``, sorted by source; InputError when it is no dataset."""
    root = Path(dataset)
    if not is_dataset(root):
        raise InputError(f"{root}: not a dataset (no {MANIFEST_FILE})")
    entries = read_manifest(root)
    return [entries[key] for key in sorted(entries) if entries[key].status == "ingested"]


def _syscall_batches(path: str, columns: Sequence[str]) -> Iterator[pa.Table]:
    """The ``syscall`` rows of a part, ``columns`` only (dictionaries decoded), in order."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    def plain(column: pa.ChunkedArray) -> pa.ChunkedArray:
        kind = column.type
        return column.cast(kind.value_type) if pa.types.is_dictionary(kind) else column

    with pq.ParquetFile(path) as part:
        for batch in part.iter_batches(batch_size=_READ_ROWS, columns=["kind", *columns]):
            table = pa.Table.from_batches([batch])
            syscalls = pc.equal(plain(table["kind"]), "syscall")
            yield pa.table({name: plain(table[name]) for name in columns}).filter(syscalls)


def _tally_part(path: str) -> Tally:

    tally: Tally = {}
    for table in _syscall_batches(path, ["syscall", "errno", "duration", "returned"]):
        sums = table.group_by(["syscall", "returned"]).aggregate(
            [("syscall", "count"), ("errno", "count"), ("duration", "sum"), ("duration", "count")]
        )
        columns = ("syscall", "returned", "syscall_count", "errno_count", "duration_sum",
                   "duration_count")  # fmt: skip
        for name, returned, calls, errors, seconds, timed in zip(
            *(sums[c].to_pylist() for c in columns), strict=True
        ):
            row = tally.setdefault(name, [0, 0, 0.0, 0, 0])
            if returned:
                row[0] += calls
                row[1] += errors
                row[2] += seconds or 0.0
                row[3] += timed
            else:
                row[4] += calls
    return tally


def _tally_parts(paths: Sequence[str]) -> list[Tally]:
    return [_tally_part(path) for path in paths]


def _calls(path: str) -> tuple[str, ...]:
    return tuple(
        name
        for table in _syscall_batches(path, ["syscall"])
        for name in table["syscall"].to_pylist()
    )


def _ngrams_parts(paths: Sequence[str], n: int) -> Counter[tuple[str, ...]]:
    counts: Counter[tuple[str, ...]] = Counter()
    for path in paths:
        calls = _calls(path)
        counts.update(zip(*(calls[i:] for i in range(n)), strict=False))
    return counts


def _groups(paths: Sequence[str], workers: int) -> list[list[str]]:
    """``paths`` in order, in about four groups per worker, at most ``_PARTS_PER_TASK`` each."""
    size = max(1, min(_PARTS_PER_TASK, -(-len(paths) // (4 * max(workers, 1)))))
    return [list(paths[i : i + size]) for i in range(0, len(paths), size)]


def _profile(tallies: Sequence[Tally], entries: Sequence[Entry]) -> Profile:
    calls: dict[str, int] = {}
    errors: dict[str, int] = {}
    seconds: dict[str, float] = {}
    unreturned: dict[str, int] = {}
    for tally in tallies:
        for name, (returned, failed, summed, timed, lost) in tally.items():
            if returned:
                calls[name] = calls.get(name, 0) + int(returned)
                errors[name] = errors.get(name, 0) + int(failed)
            if timed:
                seconds[name] = seconds.get(name, 0.0) + summed
            if lost:
                unreturned[name] = unreturned.get(name, 0) + int(lost)
    return Profile.from_counts(
        calls, errors, seconds,
        events=sum(e.events for e in entries), unparsed=sum(e.unparsed for e in entries),
        unreturned=unreturned,
    )  # fmt: skip


def profile_dataset(
    dataset: str | Path, client: Client, *, by: str = "label"
) -> dict[str, Profile]:
    """Calls, errors and seconds per syscall of each label (``by="label"``) or source
    (``"source"``) of ``dataset``, as ``count_trace`` counts a log, computed on ``client``'s
    cluster; groups sorted by name. InputError when ``dataset`` is no dataset."""
    from syscall_lab.ingest.cluster import worker_count

    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {', '.join(GROUPINGS)}, not {by!r}")
    root = Path(dataset).absolute()
    entries = [entry for entry in dataset_entries(root) if entry.part is not None]
    paths = [str(root / entry.part) for entry in entries if entry.part is not None]
    groups = _groups(paths, worker_count(client))
    tallies = [t for group in client.gather(client.map(_tally_parts, groups)) for t in group]
    members: dict[str, tuple[list[Tally], list[Entry]]] = {}
    for entry, tally in zip(entries, tallies, strict=True):
        key = entry.label if by == "label" else entry.source
        member = members.setdefault(key, ([], []))
        member[0].append(tally)
        member[1].append(entry)
    return {key: _profile(*members[key]) for key in sorted(members)}


def ngram_counts(
    dataset: str | Path, client: Client, n: int
) -> dict[str, Counter[tuple[str, ...]]]:
    """How often each ``n``-gram of syscall names occurs in each label's sources (n-grams never
    span two sources), computed on ``client``'s cluster; labels sorted."""
    from syscall_lab.ingest.cluster import worker_count

    if n < 1:
        raise ValueError(f"n must be 1 or more, not {n}")
    root = Path(dataset).absolute()
    by_label: dict[str, list[str]] = {}
    for entry in dataset_entries(root):
        if entry.part is not None:
            by_label.setdefault(entry.label, []).append(str(root / entry.part))
    workers = worker_count(client)
    tasks = [
        (label, group) for label, paths in by_label.items() for group in _groups(paths, workers)
    ]
    futures = client.map(_ngrams_parts, [group for _, group in tasks], n=n)
    counts: dict[str, Counter[tuple[str, ...]]] = {label: Counter() for label in by_label}
    for (label, _), result in zip(tasks, client.gather(futures), strict=True):
        counts[label].update(result)
    return {label: counts[label] for label in sorted(counts)}


def read_traces(
    dataset: str | Path, *, labels: Collection[str] | None = None
) -> tuple[DatasetTrace, ...]:
    """The syscall names of each ingested source of ``dataset`` in order (of the ``labels``
    only, when given), sorted by source: what the detectors fit and score. All of them are
    loaded into this process (the detectors take whole traces in memory)."""
    root = Path(dataset)
    return tuple(
        DatasetTrace(e.source, e.label, e.condition, e.run, _calls(str(root / e.part)))
        for e in dataset_entries(root)
        if e.part is not None and (labels is None or e.label in labels)
    )

"""The task a Dask worker runs: each source of a batch into one Parquet part of the dataset.

A part is ``DATASET/label=LABEL/part-ID.parquet`` (hive partitioning: the label is in the
folder's name, percent-encoded, not in the file; ID is derived from the source's key, so a
source read again replaces its own part and never adds a second one). It holds the event
schema (``syscall_parse.schema.arrow_schema``) plus ``source``, ``condition`` and ``run``, and
is written a record batch at a time under a hidden temporary name, ``.part-ID.parquet.*.tmp``,
which the client renames into place (``commit``) when it records the outcome: a worker killed
mid-write, or a run stopped before the client took the outcome, leaves at most such a file,
which readers never see and the next ingest removes.

An ADFA-LD trace (one line of i386 syscall numbers) becomes one ``syscall`` row per call, names
from the i386 table, each with ``line`` 1 (the file's one line), returned; its calls are in
row order.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pyarrow as pa

from syscall_lab.ingest.manifest import Entry, checksum, unchanged
from syscall_lab.ingest.sources import Source
from syscall_parse.errors import TraceError
from syscall_parse.schema import arrow_schema

__all__ = [
    "NAME_COLUMNS",
    "Outcome",
    "commit",
    "ingest_source",
    "ingest_sources",
    "part_path",
    "part_schema",
]

NAME_COLUMNS = ("source", "condition", "run")
"""The columns a part adds to the event schema (the label is its folder's)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a task did with its source: its manifest ``entry``, whether it was ``skipped``
    (ingested before, unchanged), the temporary file ``written`` to become its part and the
    parts ``removed`` with it (paths relative to the dataset; see ``commit``)."""

    entry: Entry
    skipped: bool
    written: str | None = None
    removed: tuple[str, ...] = ()


def part_schema() -> pa.Schema:
    """The schema of a part: the event schema, then ``NAME_COLUMNS`` (dictionary texts)."""
    names = pa.dictionary(pa.int32(), pa.string())
    return (
        arrow_schema()
        .append(pa.field("source", names))
        .append(pa.field("condition", names))
        .append(pa.field("run", names))
    )


def part_path(source: Source) -> str:
    """The part of ``source``, relative to the dataset."""
    name = hashlib.sha256(source.key.encode("utf-8", "surrogateescape")).hexdigest()[:24]
    return f"label={quote(source.label, safe='')}/part-{name}.parquet"


def _adfa_batches(source: Source) -> Iterator[pa.RecordBatch]:
    from syscall_lab.detect.adfa import read_adfa_trace

    calls = read_adfa_trace(Path(source.paths[0]))
    rows = len(calls)
    schema = arrow_schema()
    columns = {
        "line": pa.array([1] * rows, pa.int64()),
        "end_line": pa.array([1] * rows, pa.int64()),
        "kind": pa.array(["syscall"] * rows).dictionary_encode(),
        "syscall": pa.array(calls, pa.string()).dictionary_encode(),
        "returned": pa.array([True] * rows, pa.bool_()),
    }
    arrays = [
        columns[field.name] if field.name in columns else pa.nulls(rows, field.type)
        for field in schema
    ]
    yield pa.RecordBatch.from_arrays(arrays, schema=schema)


def _names(source: Source, rows: int, schema: pa.Schema) -> list[pa.Array]:
    values = {"source": source.key, "condition": source.condition, "run": source.run}
    return [
        pa.DictionaryArray.from_arrays(
            pa.array([0] * rows, pa.int32()), pa.array([values[name]], pa.string())
        )
        if values[name] is not None
        else pa.nulls(rows, schema.field(name).type)
        for name in NAME_COLUMNS
    ]


def _temp_part(path: Path) -> Path:
    """A new hidden temporary file beside the part ``path`` (``.part-ID.parquet.HEX.tmp``),
    made with the mode ``open`` gives."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    temp.open("xb").close()
    return temp


def _write_part(source: Source, path: Path) -> tuple[int, int, Path]:
    """Write ``source``'s rows to a temporary file beside the part ``path``;
    ``(events, unparsed lines, the temporary file)``. Nothing is left behind on an error."""
    import pyarrow.parquet as pq

    from syscall_parse.batches import read_batches
    from syscall_parse.inputs import check_strace_output

    schema = part_schema()
    if source.form == "adfa":
        batches: Iterator[pa.RecordBatch] = _adfa_batches(source)
    else:
        check_strace_output(source.paths)
        # In a Dask worker (a daemonic process) the fast engine reads in this process.
        batches = read_batches(list(source.paths))
    events = 0
    temp = _temp_part(path)
    try:
        with pq.ParquetWriter(temp, schema) as writer:
            for batch in batches:
                columns = [*batch.columns, *_names(source, batch.num_rows, schema)]
                writer.write_batch(pa.RecordBatch.from_arrays(columns, schema=schema))
                events += batch.num_rows
        unparsed = getattr(batches, "unparsed_lines", 0)
        if events == 0 and unparsed:
            raise TraceError(f"{source.key}: not strace output (no line of {unparsed} parsed)")
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return events, unparsed, temp


def ingest_source(source: Source, dataset: str, previous: Entry | None) -> Outcome:
    """Ingest ``source`` into the ``dataset`` folder, unless ``previous`` (its manifest entry)
    shows it unchanged: its part is written under a temporary name, which ``commit`` puts in
    place. Never raises for a bad source: its entry says ``failed`` and why."""
    root = Path(dataset)
    if source.error is not None:
        return Outcome(Entry.failed(source, source.error), skipped=False)
    try:
        size, check = checksum(source.paths)
    except TraceError as exc:
        return Outcome(Entry.failed(source, str(exc)), skipped=False)
    if unchanged(previous, source, size, check, root):
        assert previous is not None
        return Outcome(previous, skipped=True)
    part = part_path(source)
    old = (previous.part,) if previous is not None and previous.part is not None else ()
    try:
        events, unparsed, temp = _write_part(source, root / part)
    except (TraceError, OSError, UnicodeDecodeError) as exc:
        message = str(exc) if isinstance(exc, TraceError) else f"{source.key}: {exc}"
        return Outcome(Entry.failed(source, message, size, check), False, removed=(*old, part))
    entry = Entry(
        source.key, source.paths, source.form, source.label, source.condition, source.run,
        source.repeat, size, check, events, unparsed, "ingested", None, part,
    )  # fmt: skip
    stale = tuple(name for name in old if name != part)
    return Outcome(entry, False, written=str(temp.relative_to(root)), removed=stale)


def ingest_sources(
    sources: Sequence[Source], dataset: str, previous: Sequence[Entry | None]
) -> list[Outcome]:
    """``ingest_source`` of each source with its ``previous`` entry: one task of a few sources,
    so that small sources do not cost a task each."""
    return [
        ingest_source(source, dataset, entry)
        for source, entry in zip(sources, previous, strict=True)
    ]


def commit(outcome: Outcome, dataset: Path) -> None:
    """Put ``outcome``'s part in place in ``dataset`` (rename its temporary file) and remove
    the parts it replaces: done by the client, as it records the outcome in the manifest, so
    that the parts on disk are the ones the manifest lists."""
    if outcome.written is not None and outcome.entry.part is not None:
        os.replace(dataset / outcome.written, dataset / outcome.entry.part)
    for part in outcome.removed:
        (dataset / part).unlink(missing_ok=True)

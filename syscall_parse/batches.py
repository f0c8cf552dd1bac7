"""Logs to Arrow record batches of the event schema, as they are read: the streaming form of
``table.read_trace``, for logs larger than memory and for writers that write as they read.

``read_batches(source)`` takes what ``read_trace`` takes and yields ``pyarrow.RecordBatch``
objects of ``schema.arrow_schema()`` (categorical columns dictionary-encoded, each batch with
its own dictionary), rows in the order of the frame ``read_trace`` returns. The vectorized
engine yields one batch per chunk of the log (a few MB) and holds only the calls still pending
between chunks; the reference yields batches of ``REFERENCE_ROWS`` events. Memory stays
bounded whatever the length of a strace log. It imports Arrow, never pandas.

An eBPF observer's events log (``ebpf_log``: its first line says so) is read by its own reader,
whatever the engine, into rows of the same schema (arguments and paths null). That reader
holds the whole log: its lines come in batches per thread and are sorted by entry time at the
end, so memory grows with the log (the observer caps its logs at 64 MiB by default, about 1.7
million calls). A counts log has no events, and is refused with an InputError that says to
count it (``count_trace``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pyarrow as pa

from syscall_parse.engine import Engine, FastPathUnsupported, Source, fast_path
from syscall_parse.errors import InputError, StraceParseError
from syscall_parse.events import Event, Unparsed
from syscall_parse.inputs import iter_trace
from syscall_parse.schema import CATEGORICAL, COLUMNS, arrow_schema, event_row
from syscall_parse.stream import ParseStats

__all__ = ["REFERENCE_ROWS", "EventBatches", "event_batches", "read_batches"]

REFERENCE_ROWS = 1 << 16
"""Rows per batch of the reference parser's events."""


def _batch(columns: dict[str, list[object]], schema: pa.Schema) -> pa.RecordBatch:
    arrays = []
    for field in schema:
        values = columns[field.name]
        if field.name in CATEGORICAL:
            arrays.append(pa.array(values, pa.string()).dictionary_encode())
        else:
            arrays.append(pa.array(values, field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def event_batches(events: Iterable[Event], rows: int = REFERENCE_ROWS) -> Iterator[pa.RecordBatch]:
    """Events (``Unparsed`` ones skipped) as record batches of ``rows`` rows of the schema
    (the last one shorter), values of ``schema.event_row``."""
    schema = arrow_schema()
    columns: dict[str, list[object]] = {name: [] for name in COLUMNS}
    line = columns["line"]
    for event in events:
        if isinstance(event, Unparsed):
            continue
        row = event_row(event)
        for name, values in columns.items():
            values.append(row.get(name))
        if len(line) == rows:
            yield _batch(columns, schema)
            for values in columns.values():
                values.clear()
    if line:
        yield _batch(columns, schema)


class EventBatches(Iterator[pa.RecordBatch]):
    """The record batches of logs (``read_batches``), to iterate once. ``schema`` is the
    batches' schema; ``rows`` counts the rows yielded so far and ``unparsed_lines`` the lines
    that were not strace output (final once the iterator is exhausted)."""

    def __init__(
        self, source: Source, *, engine: Engine, stats: ParseStats | None, strict: bool
    ) -> None:
        from syscall_parse.ebpf_log import ebpf_source

        self.schema = arrow_schema()
        self.rows = 0
        self.unparsed_lines = 0
        ebpf = ebpf_source(source)
        if ebpf is not None:
            self._batches = self._read_ebpf(*ebpf, stats, strict)
            return
        path = fast_path(source, engine, reference_only=stats is not None or strict)
        self._batches = self._read(source, path, engine, stats, strict)

    def __next__(self) -> pa.RecordBatch:
        batch = next(self._batches)
        self.rows += batch.num_rows
        return batch

    def _read_ebpf(self, path, header, stats, strict) -> Iterator[pa.RecordBatch]:
        from syscall_parse.ebpf_log import read_ebpf_log

        if header.mode == "counts":
            raise InputError(
                f"{path}: a counts-only eBPF log has no events; count it (syscall-lab profile, "
                "count_trace) or capture with the events mode"
            )
        log = read_ebpf_log(path)
        if strict and log.unparsed:
            first = log.unparsed[0]
            raise StraceParseError("not a line of the eBPF log", first.lines[0], first.text)
        if stats is not None:
            stats.events += len(log.events)
            stats.unparsed.extend((u.lines[0], u.text) for u in log.unparsed)
        self.unparsed_lines = len(log.unparsed)
        yield from event_batches(log.events)

    def _read(self, source, path, engine, stats, strict) -> Iterator[pa.RecordBatch]:
        if path is not None:
            from syscall_parse._fast import iter_batches

            try:
                for batch, unparsed in iter_batches(path):
                    self.unparsed_lines += unparsed
                    yield batch
                return
            except FastPathUnsupported:
                if engine == "fast":
                    raise
        # The reference reads the log from its start: the rows the fast engine already
        # yielded (its rows are the reference's, in the same order) are skipped.
        skip = self.rows
        if stats is None:
            stats = ParseStats()
        for batch in event_batches(iter_trace(source, stats=stats, strict=strict)):
            if skip >= batch.num_rows:
                skip -= batch.num_rows
                continue
            yield batch.slice(skip)
            skip = 0
        self.unparsed_lines = len(stats.unparsed)


def read_batches(
    source: Source,
    *,
    engine: Engine = "auto",
    stats: ParseStats | None = None,
    strict: bool = False,
) -> EventBatches:
    """The events of logs as Arrow record batches of ``schema.arrow_schema()``, yielded as the
    logs are read; sources, ``engine``, ``stats`` and ``strict`` as for ``table.read_trace``,
    whose frame holds the same rows in the same order. When the fast engine turns a log down
    part-way (``engine="auto"``), the reference goes on from the row where it stopped.
    Raises InputError for unreadable sources (when the first batch is asked for)."""
    return EventBatches(source, engine=engine, stats=stats, strict=strict)

"""Logs to a Chrome Trace Event file, written as the parser streams (``write_timeline``).

The file is the format's JSON object form: ``{"traceEvents": [...], "displayTimeUnit": "ns",
"otherData": {...}}``, the events written batch by batch as ``syscall_parse.read_batches``
yields the rows, so memory holds one batch and the per-thread state, whatever the length of
the log. ``.gz`` output is gzip-compressed as it is written; the file appears whole or not at
all (``syscall_parse.atomic``).
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pyarrow as pa

from syscall_lab.timeline.clock import Clock, ClockKind, TimelineError
from syscall_lab.timeline.tracks import Ids, LogTracks, TrackCounts
from syscall_parse.atomic import atomic_path
from syscall_parse.inputs import ff_name, read_lines

__all__ = ["FIELDS", "Timeline", "log_sets", "write_timeline"]

FIELDS = (
    "line", "end_line", "pid", "kind", "time", "relative", "syscall", "args", "ret", "retval",
    "errno", "errno_text", "duration", "returned", "signal", "status",
)  # fmt: skip
"""The columns of the parser's batches a timeline reads, in ``LogTracks.feed``'s order."""

# 'trace.7832' => the -ff file of tid 7832 under the prefix 'trace'.


@dataclass(frozen=True, slots=True)
class Timeline:
    """A written timeline: its path, what it holds, and what its logs were."""

    path: Path
    logs: tuple[str, ...]
    clocks: tuple[str, ...]  # each log's clock (``ClockKind`` values)
    rows: int  # the parser's events read
    unparsed_lines: int
    timed: bool  # whether calls have -T durations
    complete: int  # calls that returned: X events
    open: int  # calls that never returned: B events without an E
    instants: int
    flows: int
    processes: int
    threads: int
    flows_dropped: int


def log_sets(sources: Sequence[str | os.PathLike[str]]) -> list[list[str]]:
    """The logs among ``sources``: the ``PREFIX.TID`` files of one prefix (two or more) are one
    ``-ff`` log, each other source a log of its own; in the order they are first given."""
    groups: dict[str, list[str]] = {}
    for source in map(str, sources):
        named = ff_name(source)
        key = named[0] if named is not None else source
        groups.setdefault(key, []).append(source)
    logs: list[list[str]] = []
    for key, members in groups.items():
        if len(members) > 1 and key not in members:
            logs.append(members)
        else:
            logs.extend([member] for member in members)
    return logs


def _values(column: pa.Array) -> list[object]:
    """A column's Python values; a dictionary column decoded first (20x faster than its own
    ``to_pylist``)."""
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    return column.to_pylist()


def _is_ff(log: list[str]) -> bool:
    return len(log) > 1 or (not Path(log[0]).exists() and log[0] != "-")


def _open(temp: Path, gz: bool) -> IO[str]:
    if gz:
        return gzip.open(temp, "wt", encoding="utf-8", compresslevel=6)
    return open(temp, "w", encoding="utf-8", buffering=1 << 20)


def write_timeline(
    sources: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str], *, engine: str = "auto"
) -> Timeline:
    """Write the timeline of ``sources`` (logs: files, ``-ff`` sets by prefix or files,
    compressed logs) to ``out`` (gzip when it ends in ``.gz``), atomically; what it holds.

    Raises TimelineError for a log without timestamps, a ``-ff`` set with ``-r`` stamps alone
    (its deltas count from lines in other files), clocks that do not meet (``-ttt`` with
    ``-t``/``-tt``: no date in the latter; ``-r`` with either: no start), a ``-r`` log from
    stdin with split calls, or no event at all; InputError (the parser's) for a log that
    cannot be read.
    """
    from syscall_parse.batches import read_batches

    logs = log_sets(sources)
    names = ["+".join(log) if len(log) > 1 else log[0] for log in logs]
    counts = TrackCounts()
    ids = Ids()
    clocks: list[Clock] = []
    rows = unparsed = 0
    timed = False
    out = Path(out)
    with atomic_path(out) as temp, _open(temp, out.suffix == ".gz") as handle:
        handle.write('{"traceEvents":[\n')
        parts: list[str] = []
        first = True
        for index, (log, name) in enumerate(zip(logs, names, strict=True)):
            clock = Clock(name, None if _is_ff(log) or log[0] == "-" else read_lines(log[0]))
            clocks.append(clock)
            tracks = LogTracks(
                clock, ids.for_log(index), parts.append, counts, name if len(logs) > 1 else None
            )
            batches = read_batches(log if len(log) > 1 else log[0], engine=engine)  # type: ignore[arg-type]
            for batch in batches:
                columns = [_values(batch.column(field)) for field in FIELDS]
                for row in zip(*columns, strict=True):
                    tracks.feed(*row)
                timed = timed or batch.column("duration").null_count < batch.num_rows
                _check_clocks(clocks, _is_ff(log))
                first = _write(handle, parts, first)
            tracks.close()
            if clock.lines is not None:
                clock.lines.close()
            first = _write(handle, parts, first)
            if batches.rows == 0:
                raise TimelineError(f"{name}: no strace event to put on a timeline")
            rows += batches.rows
            unparsed += batches.unparsed_lines
        other = {
            "generator": "syscall-lab timeline",
            "logs": names,
            "clocks": [clock.kind.value for clock in clocks if clock.kind is not None],
            "durations": "strace -T"
            if timed
            else "none: the logs have no -T, calls are 0-length slices at their start",
        }
        handle.write(f'\n],\n"displayTimeUnit":"ns",\n"otherData":{json.dumps(other)}}}\n')
    return Timeline(
        out, tuple(names), tuple(other["clocks"]), rows, unparsed, timed,  # type: ignore[arg-type]
        counts.complete, counts.open, counts.instants, counts.flows, counts.processes,
        counts.threads, counts.flows_dropped,
    )  # fmt: skip


def _write(handle: IO[str], parts: list[str], first: bool) -> bool:
    """Write the events of ``parts`` after those written (none yet: ``first``) and empty it;
    whether none is written yet."""
    if not parts:
        return first
    handle.write(("" if first else ",\n") + ",\n".join(parts))
    parts.clear()
    return False


def _check_clocks(clocks: list[Clock], ff: bool) -> None:
    """Raise TimelineError when the last log's clock cannot meet the others'."""
    kind = clocks[-1].kind
    if kind is ClockKind.RELATIVE and ff:
        raise TimelineError(
            f"{clocks[-1].source}: a -ff set with -r stamps alone cannot be put on one clock "
            "(each delta counts from the line before it in any file); trace with -ttt"
        )
    known = [clock.kind for clock in clocks if clock.kind is not None]
    if ClockKind.RELATIVE in known and any(kind.absolute for kind in known):
        raise TimelineError(
            f"{clocks[-1].source}: a -r log cannot share a clock with -ttt, -tt or -t logs "
            "(its stamps have no start); trace all with -ttt"
        )
    epoch = {kind is ClockKind.EPOCH for kind in known if kind.absolute}
    if len(epoch) > 1:
        raise TimelineError(
            f"{clocks[-1].source}: -ttt and -t/-tt logs cannot share a clock "
            "(-t and -tt stamps have no date)"
        )

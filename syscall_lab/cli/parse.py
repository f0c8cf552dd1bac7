"""``syscall-lab parse``: strace logs -> an event table (CSV or Parquet)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from typing import TYPE_CHECKING

from syscall_lab.cli.not_strace import NOT_STRACE, none_recognised, not_strace
from syscall_lab.errors import SyscallLabError

if TYPE_CHECKING:
    import pyarrow as pa

    from syscall_parse.batches import EventBatches


def add_parse(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        "parse",
        help="parse strace logs into an event table (CSV or Parquet)",
        description="Parse strace logs (files, '-' for stdin, .gz/.xz/.bz2/.zst, a -ff prefix "
        "or its PREFIX.PID files, merged by time) into one row per event with the columns of "
        "syscall_parse.schema, and print one summary line (it says when the last line has no "
        "newline: a log still being written or cut). Bytes that are not UTF-8 are written "
        "\\xNN. Exit status: 0 done (unparsed lines are counted, not fatal); 2 unreadable "
        "input (missing, a directory, no permission, corrupt compression) or output, or "
        f"--strict and an unparsed line; {NOT_STRACE} not strace output (no strace line in the "
        "first 256 KiB of any LOG, or in the whole input).",
    )
    parser.add_argument("logs", nargs="+", metavar="LOG", help="strace output to read")
    parser.add_argument(
        "-o", "--output", required=True, metavar="OUT",
        help="where to write the events: OUT.csv (nulls as \\N) or OUT.parquet",
    )  # fmt: skip
    parser.add_argument(
        "--unparsed", action="store_true", help="also list the unparsed lines as LINE: TEXT"
    )
    parser.add_argument(
        "--strict", action="store_true", help="fail (status 2) on the first unparsed line"
    )
    return parser


class _NotStrace(Exception):
    """No line of the input was strace output: nothing is written."""


def _strace_only(batches: EventBatches) -> Iterator[pa.RecordBatch]:
    """The batches, then _NotStrace if they held no row but unparsed lines (the writer then
    removes its temporary file: an output already there stays as it was)."""
    yield from batches
    if batches.rows == 0 and batches.unparsed_lines:
        raise _NotStrace


def run_parse(args: argparse.Namespace) -> int:
    import signal
    import sys
    from pathlib import Path

    from syscall_parse.batches import read_batches
    from syscall_parse.errors import NotStraceOutput
    from syscall_parse.inputs import check_strace_output, partial_last_line
    from syscall_parse.stream import ParseStats
    from syscall_parse.writers import write_csv_batches, write_parquet_batches

    suffix = Path(args.output).suffix
    writers = {".csv": write_csv_batches, ".parquet": write_parquet_batches}
    if suffix not in writers:
        raise SyscallLabError(f"{args.output}: output must end in .csv or .parquet")
    try:
        check_strace_output(args.logs)
    except NotStraceOutput as exc:
        return not_strace("parse", str(exc))
    # A SIGTERM ends the parse as Ctrl-C does, through the writer, which removes its file.
    signal.signal(signal.SIGTERM, lambda number, _: sys.exit(128 + number))
    # Only the list of unparsed lines and strict errors need the reference parser.
    stats = ParseStats() if args.unparsed or args.strict else None
    batches = read_batches(args.logs, stats=stats, strict=args.strict)
    try:
        rows = writers[suffix](_strace_only(batches), args.output)
    except _NotStrace:
        return not_strace("parse", none_recognised(args.logs, batches.unparsed_lines))
    unparsed = batches.unparsed_lines
    partial = "; the last line has no newline" if partial_last_line(args.logs) else ""
    print(f"wrote {rows} events to {args.output} ({unparsed} unparsed lines{partial})")
    if stats is not None and args.unparsed:
        for number, text in stats.unparsed:
            print(f"{number}: {text}")
    return 0

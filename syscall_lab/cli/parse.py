"""``syscall-lab parse``: strace logs -> an event table (CSV or Parquet)."""

from __future__ import annotations

import argparse

from syscall_lab.cli.not_strace import NOT_STRACE, none_recognised, not_strace
from syscall_lab.errors import SyscallLabError


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


def run_parse(args: argparse.Namespace) -> int:
    from pathlib import Path

    from syscall_parse.errors import NotStraceOutput
    from syscall_parse.inputs import check_strace_output, partial_last_line
    from syscall_parse.stream import ParseStats
    from syscall_parse.table import read_trace, write_csv, write_parquet

    suffix = Path(args.output).suffix
    writers = {".csv": write_csv, ".parquet": write_parquet}
    if suffix not in writers:
        raise SyscallLabError(f"{args.output}: output must end in .csv or .parquet")
    try:
        check_strace_output(args.logs)
    except NotStraceOutput as exc:
        return not_strace("parse", str(exc))
    # Only the list of unparsed lines and strict errors need the reference parser.
    stats = ParseStats() if args.unparsed or args.strict else None
    frame = read_trace(args.logs, stats=stats, strict=args.strict)
    unparsed = frame.attrs["unparsed_lines"]
    if frame.empty and unparsed:
        return not_strace("parse", none_recognised(args.logs, unparsed))
    writers[suffix](frame, args.output)
    partial = "; the last line has no newline" if partial_last_line(args.logs) else ""
    print(f"wrote {len(frame)} events to {args.output} ({unparsed} unparsed lines{partial})")
    if stats is not None and args.unparsed:
        for number, text in stats.unparsed:
            print(f"{number}: {text}")
    return 0

"""``syscall-lab timeline``: strace logs as a Chrome Trace Event file for Perfetto's UI."""

from __future__ import annotations

import argparse

from syscall_lab.cli.not_strace import NOT_STRACE, not_strace


def add_timeline(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        "timeline",
        help="write a timeline to open in Perfetto's UI or chrome://tracing",
        description="Write strace logs as one timeline in the Chrome Trace Event format "
        "(JSON), which Perfetto's UI (ui.perfetto.dev) and chrome://tracing open: a track "
        "per thread under its process, each call a slice with its arguments and result, "
        "signals and exits as instants, clones as arrows. The logs need timestamps (-ttt, "
        "-tt, -t or -r); -T gives the slices their lengths. PREFIX.TID files of one prefix "
        "are one -ff log; several logs share the clock when their stamps are absolute. "
        "Exit status: 0 written; 2 unreadable input, no timestamps, clocks that do not meet; "
        f"{NOT_STRACE} not strace output.",
    )
    parser.add_argument("logs", nargs="+", metavar="LOG", help="strace output (or -ff prefix)")
    parser.add_argument(
        "-o", "--output", required=True, metavar="OUT",
        help="the timeline to write: OUT.json, or OUT.json.gz compressed",
    )  # fmt: skip
    return parser


def run_timeline(args: argparse.Namespace) -> int:
    from syscall_lab.timeline.writer import write_timeline
    from syscall_parse.errors import NotStraceOutput
    from syscall_parse.inputs import check_strace_output

    try:
        check_strace_output(args.logs)
    except NotStraceOutput as exc:
        return not_strace("timeline", str(exc))
    timeline = write_timeline(args.logs, args.output)
    print(
        f"{timeline.path}: {timeline.complete} calls, {timeline.open} unreturned, "
        f"{timeline.instants} signals and exits, {timeline.flows} clones on "
        f"{timeline.threads} threads of {timeline.processes} processes "
        f"({timeline.unparsed_lines} unparsed lines)"
    )
    return 0

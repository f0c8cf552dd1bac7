"""``syscall-lab profile``: calls and errors per syscall, like ``strace -c``.

It loads neither pandas, scipy nor matplotlib, so that it starts in a fraction of a second.
"""

from __future__ import annotations

import argparse

from syscall_lab.cli.not_strace import NOT_STRACE, none_recognised, not_strace


def add_profile(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        "profile",
        help="count calls and errors per syscall, like strace -c",
        description="Count the calls that returned and their errors (-1 ERRNO and ? ERESTART*) "
        "per syscall, like strace -c, most calls first; 'seconds' sums the -T durations "
        'when the log has them. --json prints {"syscalls": {NAME: {"calls": N, '
        '"errors": E, "seconds": S or null}}, "events": N, "unparsed": K, '
        '"unreturned": {NAME: N}} (unreturned: calls that never returned, not counted). '
        "Exit status: 0 done; 2 unreadable input (missing, a directory, no permission, "
        f"corrupt compression); {NOT_STRACE} not strace output (no strace line in the first "
        "256 KiB of any LOG, or in the whole input).",
    )
    parser.add_argument("logs", nargs="+", metavar="LOG", help="strace output to read")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return parser


def run_profile(args: argparse.Namespace) -> int:
    import json

    from syscall_parse.counts import count_trace
    from syscall_parse.errors import NotStraceOutput
    from syscall_parse.inputs import check_strace_output

    try:
        check_strace_output(args.logs)
    except NotStraceOutput as exc:
        return not_strace("profile", str(exc))
    profile = count_trace(args.logs)
    if profile.events == 0 and profile.unparsed:
        return not_strace("profile", none_recognised(args.logs, profile.unparsed))
    if args.json:
        print(json.dumps(profile.to_json(), indent=2))
        return 0
    from tabulate import tabulate  # the table only: --json starts without it

    timed = any(count.seconds is not None for _, count in profile.syscalls)
    headers = ["calls", "errors", "seconds", "syscall"] if timed else ["calls", "errors", "syscall"]
    rows = [
        [c.calls, c.errors or "", *([c.seconds] if timed else []), name]
        for name, c in profile.syscalls
    ]
    calls = sum(c.calls for _, c in profile.syscalls)
    errors = sum(c.errors for _, c in profile.syscalls)
    seconds = sum(c.seconds or 0.0 for _, c in profile.syscalls)
    rows.append([calls, errors or "", *([seconds] if timed else []), "total"])
    print(tabulate(rows, headers=headers, floatfmt=".6f", disable_numparse=False))
    print(f"{profile.events} events, {profile.unparsed} unparsed lines")
    return 0

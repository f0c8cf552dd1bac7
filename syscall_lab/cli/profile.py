"""``syscall-lab profile``: calls and errors per syscall, like ``strace -c``; of a dataset's
labels or sources (``syscall-lab ingest``), counted on a Dask cluster.

It loads neither pandas, scipy nor matplotlib, so that it starts in a fraction of a second.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from typing import TYPE_CHECKING

from syscall_lab.cli.not_strace import NOT_STRACE, none_recognised, not_strace
from syscall_lab.errors import SyscallLabError
from syscall_lab.formatting import number
from syscall_lab.ingest.dataset import GROUPINGS

if TYPE_CHECKING:
    from syscall_parse.counts import Profile


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
        "256 KiB of any LOG, or in the whole input). A DATASET folder written by ingest (it "
        "holds manifest.json) is counted per label or per source (--by) on a local Dask "
        "cluster or the one at --scheduler, a part at a time; its --json prints "
        '{"by": "label", "groups": {NAME: {the object above}}, "sources": N, "events": N, '
        '"unparsed": K}.',
    )
    parser.add_argument(
        "logs", nargs="+", metavar="LOG", help="strace output to read, or one DATASET folder"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--by",
        choices=GROUPINGS,
        help="a dataset's counts per label (default) or per source",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="a dataset's counts on this Dask scheduler, tcp://HOST:PORT (default: a local "
        "cluster)",
    )
    return parser


def _timed(profiles: Iterable[Profile]) -> bool:
    return any(count.seconds is not None for p in profiles for _, count in p.syscalls)


def _rows(profile: Profile, timed: bool, *group: str) -> list[list[object]]:
    return [
        [*group, c.calls, c.errors or "", *([c.seconds] if timed else []), name]
        for name, c in profile.syscalls
    ]


def _profile_dataset(args: argparse.Namespace) -> int:
    import json

    from syscall_lab.ingest.cluster import dask_client
    from syscall_lab.ingest.dataset import dataset_entries, profile_dataset

    (dataset,) = args.logs
    by = args.by or "label"
    with dask_client(args.scheduler) as client:
        profiles = profile_dataset(dataset, client, by=by)
    events = sum(p.events for p in profiles.values())
    unparsed = sum(p.unparsed for p in profiles.values())
    if args.json:
        document = {
            "by": by,
            "groups": {name: p.to_json() for name, p in profiles.items()},
            "sources": len(dataset_entries(dataset)),
            "events": events,
            "unparsed": unparsed,
        }
        print(json.dumps(document, indent=2))
        return 0
    from tabulate import tabulate

    timed = _timed(profiles.values())
    headers = [by, "calls", "errors", *(["seconds"] if timed else []), "syscall"]
    rows = [row for name, p in profiles.items() for row in _rows(p, timed, name)]
    print(tabulate(rows, headers=headers, floatfmt=".6f", disable_numparse=False))
    print(f"{len(profiles)} {by}s, {number(events)} events, {number(unparsed)} unparsed lines")
    return 0


def run_profile(args: argparse.Namespace) -> int:
    import json

    from syscall_lab.ingest.dataset import is_dataset

    if len(args.logs) == 1 and is_dataset(args.logs[0]):
        return _profile_dataset(args)
    if args.by or args.scheduler:
        raise SyscallLabError(
            "--by and --scheduler apply to a dataset (a folder with manifest.json)"
        )

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

    timed = _timed([profile])
    headers = ["calls", "errors", "seconds", "syscall"] if timed else ["calls", "errors", "syscall"]
    rows = _rows(profile, timed)
    calls = sum(c.calls for _, c in profile.syscalls)
    errors = sum(c.errors for _, c in profile.syscalls)
    seconds = sum(c.seconds or 0.0 for _, c in profile.syscalls)
    rows.append([calls, errors or "", *([seconds] if timed else []), "total"])
    print(tabulate(rows, headers=headers, floatfmt=".6f", disable_numparse=False))
    print(f"{number(profile.events)} events, {number(profile.unparsed)} unparsed lines")
    return 0

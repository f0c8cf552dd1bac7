"""The ``syscall-lab`` command line.

Each command is a pair of functions in its module, ``add_NAME(subparsers) -> ArgumentParser``
and ``run_NAME(args) -> int``, listed in ``COMMANDS``: ``run`` and ``report`` in
:mod:`~syscall_lab.cli.run`, ``train`` and ``classify`` in :mod:`~syscall_lab.cli.classify`,
``watch`` and ``fit`` in :mod:`~syscall_lab.cli.watch`, each other command in the module of its
name. The modules import
their libraries inside ``run_NAME``, so building the parser stays light. Library errors surface
here, in ``main``, as one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from syscall_lab.cli import (
    capture,
    classify,
    evaluate,
    ingest,
    parse,
    profile,
    run,
    timeline,
    watch,
)
from syscall_lab.errors import SyscallLabError
from syscall_parse.allocator import keep_freed_memory
from syscall_parse.errors import TraceError

__all__ = ["main"]


Subparsers = argparse._SubParsersAction  # argparse's (private) type of add_subparsers()
AddCommand = Callable[[Subparsers], argparse.ArgumentParser]
RunCommand = Callable[[argparse.Namespace], int]

# (add, run) of every command, in the order `syscall-lab --help` lists them.
COMMANDS: list[tuple[AddCommand, RunCommand]] = [
    (run.add_run, run.run_run),
    (run.add_report, run.run_report),
    (capture.add_capture, capture.run_capture),
    (parse.add_parse, parse.run_parse),
    (profile.add_profile, profile.run_profile),
    (evaluate.add_evaluate, evaluate.run_evaluate),
    (classify.add_train, classify.run_train),
    (classify.add_classify, classify.run_classify),
    (timeline.add_timeline, timeline.run_timeline),
    (ingest.add_ingest, ingest.run_ingest),
    (watch.add_watch, watch.run_watch),
    (watch.add_fit, watch.run_fit),
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="syscall-lab",
        description="Capture, parse, compare and classify programs' system calls.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add, run_command in COMMANDS:
        add(sub).set_defaults(run=run_command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    keep_freed_memory()
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (SyscallLabError, TraceError) as exc:
        print(f"syscall-lab {args.command}: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        print(f"syscall-lab {args.command}: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"syscall-lab {args.command}: interrupted", file=sys.stderr)
        return 130

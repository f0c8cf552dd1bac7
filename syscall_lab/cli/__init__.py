"""The ``syscall-lab`` command line.

Each command is a pair of functions in its module, ``add_NAME(subparsers) -> ArgumentParser``
and ``run_NAME(args) -> int``; ``COMMANDS`` names the module of each: ``run`` and ``report`` in
:mod:`~syscall_lab.cli.run`, ``train`` and ``classify`` in :mod:`~syscall_lab.cli.classify`,
``watch`` and ``fit`` in :mod:`~syscall_lab.cli.watch`, each other command in the module of its
name. The modules import their libraries inside ``run_NAME``, and a command line naming a
command builds that command's parser alone: the others' modules (capture's eBPF programs,
ingest's datasets, the workloads) are not even imported (60 ms of a ``profile``'s start-up).
Library errors surface here, in ``main``, as one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from syscall_lab.errors import SyscallLabError
from syscall_parse.allocator import keep_freed_memory
from syscall_parse.errors import TraceError

__all__ = ["COMMANDS", "build_parser", "main"]


Subparsers = argparse._SubParsersAction  # argparse's (private) type of add_subparsers()
AddCommand = Callable[[Subparsers], argparse.ArgumentParser]
RunCommand = Callable[[argparse.Namespace], int]

COMMANDS: dict[str, str] = {
    "run": "run",
    "report": "run",
    "capture": "capture",
    "parse": "parse",
    "profile": "profile",
    "evaluate": "evaluate",
    "train": "classify",
    "classify": "classify",
    "timeline": "timeline",
    "ingest": "ingest",
    "watch": "watch",
    "fit": "watch",
}
"""The module of :mod:`syscall_lab.cli` holding each command, in the order ``syscall-lab
--help`` lists them."""


def _command(name: str) -> tuple[AddCommand, RunCommand]:
    module = importlib.import_module(f"syscall_lab.cli.{COMMANDS[name]}")
    return getattr(module, f"add_{name}"), getattr(module, f"run_{name}")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser: with every command, or with ``command``'s alone."""
    parser = argparse.ArgumentParser(
        prog="syscall-lab",
        description="Capture, parse, compare and classify programs' system calls.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in [command] if command in COMMANDS else COMMANDS:
        add, run_command = _command(name)
        add(sub).set_defaults(run=run_command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    keep_freed_memory()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv[0] if argv else None).parse_args(argv)
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

"""The ``syscall-lab`` command line.

Each command is a pair of functions, ``_add_NAME(subparsers) -> ArgumentParser`` and
``_run_NAME(args) -> int``, listed in ``COMMANDS``. Library errors surface here as one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from .errors import SyscallLabError

__all__ = ["main"]


AddCommand = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], argparse.ArgumentParser]
RunCommand = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="syscall-lab",
        description="Capture, parse, compare and classify programs' system calls.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add, run in COMMANDS:
        add(sub).set_defaults(run=run)
    return parser


# (add, run) of every command, in the order `syscall-lab --help` lists them.
COMMANDS: list[tuple[AddCommand, RunCommand]] = []


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except SyscallLabError as exc:
        print(f"syscall-lab {args.command}: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        print(f"syscall-lab {args.command}: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"syscall-lab {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""The command line's parser, built whole or for the one command a command line names."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from syscall_lab.cli import COMMANDS, build_parser


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return action.choices


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_command_built_alone_is_the_same_parser(name, monkeypatch):
    """Each command's parser, built alone, has the name it is listed under and the help it
    has among all the others."""
    monkeypatch.setenv("COLUMNS", "80")
    alone = _subparsers(build_parser(name))
    assert [name] == list(alone)
    assert _subparsers(build_parser())[name].format_help() == alone[name].format_help()


def test_a_command_line_loads_its_command_alone():
    """``syscall-lab parse --help`` imports neither the other commands' modules nor numpy
    (the detectors' registry of ``evaluate`` loads it)."""
    code = (
        "import sys\n"
        "from syscall_lab.cli import main\n"
        "try:\n"
        "    main(['parse', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('syscall_lab.cli.') or m == 'numpy'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=120
    )
    loaded = result.stdout.strip().splitlines()[-1]  # after the help
    assert "['syscall_lab.cli.not_strace', 'syscall_lab.cli.parse']" == loaded

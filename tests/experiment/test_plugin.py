"""Tests of the experiments plugin, :mod:`syscall_lab.pytest_plugin`, with pytester.

Each test runs pytest in a fresh folder whose conftest.py loads the plugin by name, so the options,
the header and the fixtures are the ones ``pytest experiments/`` gets.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

# Imported here, before any in-process pytester run: pytester removes the modules a run imports
# when it ends, and numpy's extension modules cannot be loaded twice in one process.
import syscall_lab.capture.metadata
import syscall_lab.experiment.analysis
import syscall_lab.experiment.store  # noqa: F401
from syscall_lab.pytest_plugin import parse_backend, parse_repeats, parse_scale, parse_seed


@pytest.fixture
def plugin(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester folder whose conftest.py loads the plugin."""
    pytester.makeconftest('pytest_plugins = ["syscall_lab.pytest_plugin"]')
    return pytester


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--syscall-repeats", "1", "argument --syscall-repeats: expected an integer >= 2, got 1"),
        ("--syscall-repeats", "five", "expected an integer >= 2, got 'five'"),
        ("--syscall-scale", "0", "argument --syscall-scale: expected a number > 0, got '0'"),
        ("--syscall-scale", "-1", "expected a number > 0, got '-1'"),
        ("--syscall-scale", "inf", "expected a number > 0, got 'inf'"),
        ("--syscall-scale", "big", "expected a number > 0, got 'big'"),
        ("--syscall-backend", "perl", "expected one of python, stress-ng, got 'perl'"),
        ("--syscall-seed", "-3", "argument --syscall-seed: expected an integer >= 0, got -3"),
        ("--syscall-seed", "x", "expected an integer >= 0, got 'x'"),
    ],
    ids=[
        "one-repeat", "word-repeats", "zero-scale", "negative-scale", "infinite-scale",
        "word-scale", "backend", "negative-seed", "word-seed",
    ],
)  # fmt: skip
def test_bad_option_is_a_usage_error(
    plugin: pytest.Pytester, option: str, value: str, message: str
) -> None:
    """A bad --syscall-* value stops pytest with a usage error that says what is wrong."""
    result = plugin.runpytest(option, value)
    assert pytest.ExitCode.USAGE_ERROR == result.ret
    result.stderr.fnmatch_lines([f"*{message}*"])


@pytest.mark.parametrize(
    ("parse", "text", "value"),
    [
        (parse_repeats, "2", 2),
        (parse_repeats, "10", 10),
        (parse_scale, "0.25", 0.25),
        (parse_scale, "3", 3.0),
        (parse_seed, "0", 0),
        (parse_backend, "stress-ng", "stress-ng"),
    ],
    ids=["repeats-2", "repeats-10", "scale-quarter", "scale-3", "seed-0", "backend"],
)
def test_parsers_accept_good_values(
    parse: Callable[[str], object], text: str, value: object
) -> None:
    """The converters return the value in its type."""
    assert value == parse(text)


def test_parsers_raise_argparse_errors() -> None:
    """The converters raise ArgumentTypeError, which argparse (and pytest) turn into usage
    errors."""
    with pytest.raises(argparse.ArgumentTypeError, match="expected an integer >= 2"):
        parse_repeats("0")


def test_header_shows_strace_and_the_settings(plugin: pytest.Pytester) -> None:
    """The report header names strace's version and every setting in force."""
    plugin.makepyfile("def test_nothing():\n    assert 1 + 1 == 2\n")
    result = plugin.runpytest(
        "--syscall-repeats", "7", "--syscall-scale", "0.5", "--syscall-backend", "stress-ng",
        "--syscall-seed", "3", "--syscall-observer", "strace", "--syscall-out", "here",
    )  # fmt: skip
    assert pytest.ExitCode.OK == result.ret
    strace = "strace [0-9]*" if shutil.which("strace") else "strace not found"
    result.stdout.fnmatch_lines(
        [f"syscall-lab: {strace}, stress-ng *; "
         "repeats=7, scale=0.5, backend=stress-ng, seed=3, observer=strace, out=here"]
    )  # fmt: skip


def test_header_defaults(plugin: pytest.Pytester) -> None:
    """Without options: 5 repeats, scale 1, python backend, seed 0, observer auto, pytest's
    temporary base."""
    plugin.makepyfile("def test_nothing():\n    assert 1 + 1 == 2\n")
    result = plugin.runpytest()
    result.stdout.fnmatch_lines(
        [
            "syscall-lab: *; repeats=5, scale=1, backend=python, seed=0, observer=auto, "
            "out=<pytest tmp>"
        ]
    )


def test_help_lists_the_options(plugin: pytest.Pytester) -> None:
    """pytest --help shows the syscall-lab group and its options."""
    result = plugin.runpytest("--help")
    result.stdout.fnmatch_lines(
        [
            "syscall-lab experiments*",
            "*--syscall-repeats=N*",
            "*--syscall-scale=X*",
            "*--syscall-backend=NAME*",
            "*--syscall-seed=N*",
            "*--syscall-observer=NAME*",
            "*--syscall-out=DIR*",
        ]
    )


def test_settings_fixture_follows_the_options(plugin: pytest.Pytester) -> None:
    """experiment_settings holds the options' values, and out_dir the --syscall-out folder."""
    plugin.makepyfile(
        """
        from pathlib import Path

        def test_settings(experiment_settings):
            assert 3 == experiment_settings.repeats
            assert 0.5 == experiment_settings.scale
            assert "stress-ng" == experiment_settings.backend
            assert 9 == experiment_settings.seed
            assert Path("runs/x") == experiment_settings.out_dir
        """
    )
    result = plugin.runpytest(
        "--syscall-repeats", "3", "--syscall-scale", "0.5", "--syscall-backend", "stress-ng",
        "--syscall-seed", "9", "--syscall-out", "runs/x",
    )  # fmt: skip
    result.assert_outcomes(passed=1)


def test_default_out_dir_is_under_pytest_tmp(plugin: pytest.Pytester) -> None:
    """Without --syscall-out the experiment goes to a fresh folder under pytest's base."""
    plugin.makepyfile(
        """
        def test_out(experiment_settings, tmp_path_factory):
            base = tmp_path_factory.getbasetemp()
            assert base == experiment_settings.out_dir.parent
            assert experiment_settings.out_dir.name.startswith("syscall-experiment")
        """
    )
    plugin.runpytest().assert_outcomes(passed=1)


def test_experiments_skip_without_strace(
    plugin: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Where strace is not on PATH the experiment tests skip, saying why; no report is
    written and nothing is captured."""
    empty = tmp_path / "bin"
    empty.mkdir()
    (empty / "python").symlink_to(sys.executable)
    monkeypatch.setenv("PATH", str(empty))
    plugin.makepyfile(
        """
        def test_data(experiment_data):
            raise AssertionError("must not run")

        def test_condition(condition):
            raise AssertionError("must not run")
        """
    )
    result = plugin.runpytest("-rs", "--syscall-out", "out")
    result.assert_outcomes(skipped=5)
    result.stdout.fnmatch_lines(["*strace is not installed*"])
    assert not (plugin.path / "out").exists()


def test_condition_fixture_is_parametrized(plugin: pytest.Pytester) -> None:
    """The condition fixture gives one test per main condition: normal, cpu, memory, io."""
    plugin.makepyfile("def test_one(condition):\n    assert condition.name\n")
    result = plugin.runpytest("--collect-only", "-q")
    result.stdout.fnmatch_lines(
        [
            "*test_one?normal?",
            "*test_one?cpu?",
            "*test_one?memory?",
            "*test_one?io?",
        ]
    )

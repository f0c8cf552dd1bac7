"""The experiments' pytest plugin (registered by the root ``conftest.py``).

After pytest-benchmark's: options under ``--syscall-*``, each checked by a small ``parse_*``
converter that makes a bad value a usage error; a report header with the settings in force;
session fixtures that check strace once (``strace``), run the experiment once (only when a test
asks for it) and share its data and analysis; and, when the experiment ran, the report written
at the end of the session into the output folder.

``--syscall-backend`` is the backend of the stressed conditions: ``python`` (default) captures
``python -m workloads cpu|memory|io`` and, when stress-ng is installed, the ``stress-ng-*``
conditions too; ``stress-ng`` captures only the stress-ng stressors for them (the tests of the
Python workloads' conditions then skip, saying so).

``--syscall-observer`` is who traces the conditions, as ``syscall-lab run --observer``:
``auto`` (default: strace and the eBPF observer in the same rounds where eBPF is available,
else strace alone, and the report says why), ``both``, ``strace`` or ``ebpf``.
"""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from syscall_lab.capture.observer import OBSERVER_CHOICES
from syscall_lab.conditions import BACKENDS, DEFAULT_WORKLOADS

if TYPE_CHECKING:
    import pandas as pd

REPORT_NAME = "REPORT.md"
_ANALYSIS = pytest.StashKey[object]()
_REPORT = pytest.StashKey[Path]()


def _integer_at_least(text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= {least}, got {text!r}") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"expected an integer >= {least}, got {value}")
    return value


def parse_repeats(text: str) -> int:
    """``--syscall-repeats``: an integer >= 2 (a rank test needs two runs per side)."""
    return _integer_at_least(text, 2)


def parse_scale(text: str) -> float:
    """``--syscall-scale``: a finite number > 0 (multiplies every workload's work)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def parse_seed(text: str) -> int:
    """``--syscall-seed``: an integer >= 0."""
    return _integer_at_least(text, 0)


def parse_backend(text: str) -> str:
    """``--syscall-backend``: python or stress-ng."""
    if text not in BACKENDS:
        raise argparse.ArgumentTypeError(f"expected one of {', '.join(BACKENDS)}, got {text!r}")
    return text


def parse_observer(text: str) -> str:
    """``--syscall-observer``: auto, both, strace or ebpf."""
    if text not in OBSERVER_CHOICES:
        raise argparse.ArgumentTypeError(
            f"expected one of {', '.join(OBSERVER_CHOICES)}, got {text!r}"
        )
    return text


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("syscall-lab", "syscall-lab experiments (pytest experiments/)")
    group.addoption(
        "--syscall-repeats", type=parse_repeats, default=5, metavar="N",
        help="runs per condition, interleaved (>= 2; default 5)",
    )  # fmt: skip
    group.addoption(
        "--syscall-scale", type=parse_scale, default=1.0, metavar="X",
        help="workload scale, > 0 (default 1)",
    )  # fmt: skip
    group.addoption(
        "--syscall-backend", type=parse_backend, default="python", metavar="NAME",
        help="backend of the stressed conditions: python (default; stress-ng-* conditions are "
        "added when stress-ng is installed) or stress-ng (only the stress-ng stressors)",
    )  # fmt: skip
    group.addoption(
        "--syscall-seed", type=parse_seed, default=0, metavar="N",
        help="workload seed (default 0)",
    )  # fmt: skip
    group.addoption(
        "--syscall-observer", type=parse_observer, default="auto", metavar="NAME",
        help="who traces: auto (default: strace and eBPF where eBPF is available, else "
        "strace), both, strace or ebpf",
    )  # fmt: skip
    group.addoption(
        "--syscall-out", type=Path, default=None, metavar="DIR",
        help="experiment folder (datasets, raw runs, experiment.json, REPORT.md), which must not "
        "hold an earlier experiment; default: a new folder under pytest's temporary base",
    )  # fmt: skip


def _settings_text(config: pytest.Config) -> str:
    out = config.getoption("syscall_out")
    return (
        f"repeats={config.getoption('syscall_repeats')}, "
        f"scale={config.getoption('syscall_scale'):g}, "
        f"backend={config.getoption('syscall_backend')}, "
        f"seed={config.getoption('syscall_seed')}, "
        f"observer={config.getoption('syscall_observer')}, "
        f"out={out if out is not None else '<pytest tmp>'}"
    )


def pytest_report_header(config: pytest.Config) -> str:
    from syscall_lab.capture.metadata import strace_version

    path = shutil.which("strace")
    version = strace_version(path) if path else None
    tracer = f"strace {version}" if version else "strace not found"
    stress_ng = "stress-ng found" if shutil.which("stress-ng") else "stress-ng not found"
    return f"syscall-lab: {tracer}, {stress_ng}; {_settings_text(config)}"


@pytest.fixture(scope="session")
def strace() -> str:
    """The strace executable, after checking once that it can trace here (else skip)."""
    from syscall_lab.capture.strace import find_strace, why_strace_cannot_trace

    reason = why_strace_cannot_trace()
    if reason is not None:
        pytest.skip(reason)
    return find_strace()


@pytest.fixture(scope="session")
def experiment_settings(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory):
    """The ``ExperimentSettings`` of the ``--syscall-*`` options."""
    from syscall_lab.errors import CaptureError
    from syscall_lab.experiment.dataset import ExperimentSettings
    from syscall_lab.experiment.plan import chosen_observers

    out = pytestconfig.getoption("syscall_out")
    try:
        observers = chosen_observers(pytestconfig.getoption("syscall_observer"))
    except CaptureError as exc:
        pytest.skip(str(exc))
    return ExperimentSettings(
        repeats=pytestconfig.getoption("syscall_repeats"),
        scale=pytestconfig.getoption("syscall_scale"),
        seed=pytestconfig.getoption("syscall_seed"),
        backend=pytestconfig.getoption("syscall_backend"),
        observers=observers,
        out_dir=out if out is not None else tmp_path_factory.mktemp("syscall-experiment"),
    )


@pytest.fixture(scope="session")
def experiment_data(pytestconfig: pytest.Config, experiment_settings, strace: str):
    """The experiment's :class:`~syscall_lab.experiment.dataset.ExperimentData`, captured once
    per session (skips where strace cannot trace)."""
    from syscall_lab.experiment.store import run_experiment

    reporter = pytestconfig.pluginmanager.get_plugin("terminalreporter")

    def progress(condition: str, index: int, total: int) -> None:
        if reporter is not None and pytestconfig.getoption("verbose") > 0:
            reporter.write_line(f"syscall-lab: run {index + 1}/{total}: {condition}")

    return run_experiment(experiment_settings, progress=progress)


@pytest.fixture(scope="session")
def experiment(pytestconfig: pytest.Config, experiment_data):
    """The :class:`~syscall_lab.experiment.analysis.ExperimentAnalysis` of the session's experiment;
    the report is written from it at the end of the session."""
    from syscall_lab.experiment.analysis import analyse_experiment

    analysis = analyse_experiment(experiment_data, seed=experiment_data.settings.seed)
    pytestconfig.stash[_ANALYSIS] = analysis
    return analysis


@pytest.fixture(scope="session")
def enough_runs(experiment) -> None:
    """Skip a test of significance when no test on this many runs could reach alpha (2 runs
    per side: the smallest exact p is 1/3), so that no such test passes or fails vacuously."""
    from syscall_lab.analyse.stats import rank_test

    repeats = experiment.data.settings.repeats
    smallest = rank_test(list(range(repeats)), list(range(repeats, 2 * repeats))).p_value
    if smallest > experiment.alpha:
        pytest.skip(
            f"with {repeats} runs per condition the smallest attainable p is {smallest:.3f} > "
            f"alpha {experiment.alpha}: no test could reject; use --syscall-repeats 4 or more"
        )


@pytest.fixture(scope="session")
def python_backend(experiment_settings) -> None:
    """Skip tests of the Python workloads' stressed conditions under --syscall-backend stress-ng
    (they are not captured then)."""
    if experiment_settings.backend != "python":
        pytest.skip(
            f"backend {experiment_settings.backend}: the Python workloads' cpu, memory and io "
            "conditions are not captured (see the stress-ng-* tests)"
        )


@dataclass(frozen=True, slots=True)
class ConditionRuns:
    """One condition's name and its runs (run id -> phase-cut events)."""

    name: str
    runs: Mapping[str, pd.DataFrame]


@pytest.fixture(scope="session", params=DEFAULT_WORKLOADS)
def condition(request: pytest.FixtureRequest, experiment_data) -> ConditionRuns:
    """Each main condition's runs from the session's single interleaved capture."""
    name = request.param
    if name not in experiment_data.conditions:
        pytest.skip(f"{name} was not captured (backend {experiment_data.settings.backend})")
    return ConditionRuns(name, experiment_data.runs_of(name))


def pytest_sessionfinish(session: pytest.Session) -> None:
    analysis = session.config.stash.get(_ANALYSIS, None)
    if analysis is None:
        return
    from syscall_lab.detect.on_conditions import detect_on_conditions
    from syscall_lab.report.markdown import write_report

    out = Path(analysis.data.settings.out_dir) / REPORT_NAME
    detection = detect_on_conditions(analysis.data, seed=analysis.seed)
    path = write_report(analysis, out, detection=detection)
    session.config.stash[_REPORT] = path


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    path = config.stash.get(_REPORT, None)
    if path is not None:
        terminalreporter.write_line(f"syscall-lab: report written to {path}")

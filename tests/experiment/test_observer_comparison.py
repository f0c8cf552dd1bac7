"""The experiment under two observers: the plan interleaves them, each one's runs are analysed
alone, the findings and the report set them side by side.

The plan's tests need nothing; one module-scoped experiment (normal, its control, io; 2
repeats at scale 0.25, under strace and eBPF) is captured for real where eBPF is available
(marker ``ebpf``; skipped, saying why, elsewhere).
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from pathlib import Path

import pytest

from syscall_lab.analyse.stats import Shift
from syscall_lab.capture.ebpf import ebpf_unavailable
from syscall_lab.errors import CaptureError
from syscall_lab.experiment.analysis import analyse_experiment
from syscall_lab.experiment.dataset import ExperimentData, ExperimentError, ExperimentSettings
from syscall_lab.experiment.findings import findings
from syscall_lab.experiment.observers import Agreement
from syscall_lab.experiment.plan import check_settings, chosen_observers, plan_runs
from syscall_lab.experiment.store import load_experiment, run_experiment
from syscall_lab.report.markdown import render_report

QUIET = {"ambient": (), "programs": (), "stress_ng": False}


def _all_installed(program: str) -> bool:
    return True


def test_both_observers_share_each_shuffled_round() -> None:
    """With both observers each round holds every condition once under each, shuffled together
    (so the two observers' runs of a condition interleave); strace alone keeps the order it had
    before there was a choice."""
    strace = ExperimentSettings(repeats=3, **QUIET)
    both = dataclasses.replace(strace, observers=("strace", "ebpf"))
    alone, _ = plan_runs(strace, _all_installed, lambda: None)
    plan, skipped = plan_runs(both, _all_installed, lambda: None)
    rounds = [[(p.condition.name, p.observer) for p in plan if p.repeat == r] for r in range(3)]
    expected = sorted((p.condition.name, o) for p in alone if p.repeat == 0 for o in both.observers)

    assert [] == skipped
    assert [expected] * 3 == [sorted(r) for r in rounds]
    sequences = [[observer for _, observer in r] for r in rounds]
    assert all(seq not in (sorted(seq), sorted(seq, reverse=True)) for seq in sequences)
    assert {"strace"} == {p.observer for p in alone}
    legacy = plan_runs(dataclasses.replace(strace, observers=("strace",)), _all_installed)[0]
    assert [(p.condition, p.repeat) for p in legacy] == [(p.condition, p.repeat) for p in alone]


def test_unavailable_ebpf_falls_back_to_strace_and_says_why() -> None:
    """With both observers and no eBPF, every run is strace's and the reason is kept; eBPF
    alone cannot fall back; ``both`` and ``ebpf`` as a choice say why in one line."""
    both = ExperimentSettings(repeats=2, observers=("strace", "ebpf"), **QUIET)
    plan, skipped = plan_runs(both, _all_installed, lambda: "eBPF tracing needs root")

    assert {"strace"} == {p.observer for p in plan}
    assert [
        "the eBPF observer: eBPF tracing needs root; every condition was traced by strace alone"
    ] == skipped
    with pytest.raises(ExperimentError, match=r"^the eBPF observer is unavailable: no bpftrace$"):
        plan_runs(
            dataclasses.replace(both, observers=("ebpf",)), _all_installed, lambda: "no bpftrace"
        )
    for choice in ("both", "ebpf"):
        with pytest.raises(CaptureError, match=r"^the eBPF observer is unavailable: no root$"):
            chosen_observers(choice, lambda: "no root")
    assert ("strace", "ebpf") == chosen_observers("auto", lambda: "no root")
    assert ("strace",) == chosen_observers("strace", lambda: "no root")


@pytest.mark.parametrize(
    ("observers", "message"),
    [(("dtrace",), "observers must be one or both of strace, ebpf"),
     (("strace", "strace"), "observers must be one or both"), ((), "observers must be one")],
    ids=["unknown", "twice", "none"],
)  # fmt: skip
def test_bad_observers_are_refused(observers, message) -> None:
    """An unknown, repeated or missing observer is refused before anything runs."""
    settings = ExperimentSettings(repeats=2, observers=observers, **QUIET)
    with pytest.raises(ExperimentError, match=message):
        check_settings(settings)


def _shift(significant: bool, direction: str = "up") -> Shift:
    return Shift(
        "x", 1.0, 2.0, 2.0, 1.0, (0.5, 1.5), 0.0, 0.01, 0.01, 1.0, direction, significant, True,
        5, 5, "exact", 0.95,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("first", "second", "verdict"),
    [
        (_shift(True), _shift(True), "both"),
        (_shift(True), _shift(False), "first only"),
        (_shift(False), _shift(True), "second only"),
        (_shift(True, "up"), _shift(True, "down"), "opposite"),
        (_shift(False), _shift(False), "neither"),
        (_shift(True), None, "untested"),
    ],
    ids=["both", "first", "second", "opposite", "neither", "untested"],
)
def test_agreement_verdicts(first, second, verdict) -> None:
    """A shift holds under both observers only when both find it significant the same way."""
    assert verdict == Agreement("normal", "io", "timing", "rate", first, second).verdict


@pytest.fixture(scope="module")
def two(strace: str, tmp_path_factory: pytest.TempPathFactory) -> ExperimentData:
    """A real experiment under both observers: normal, normal-control, io; 2 repeats each."""
    reason = ebpf_unavailable(probe=True)
    if reason is not None:
        pytest.skip(f"eBPF tracing is unavailable: {reason}")
    settings = ExperimentSettings(
        repeats=2, scale=0.25, conditions=("normal", "io"), observers=("strace", "ebpf"),
        out_dir=tmp_path_factory.mktemp("two-observers"), **QUIET,
    )  # fmt: skip
    return run_experiment(settings)


@pytest.mark.ebpf
@pytest.mark.strace
@pytest.mark.slow
def test_two_observers_are_captured_analysed_and_reported(two: ExperimentData) -> None:
    """Each condition has its runs under each observer, stored and loaded back with their
    observer; each observer's runs are analysed alone and their counts agree; the findings
    and the report compare them."""
    analysis = analyse_experiment(two)
    both = analysis.observers
    found = findings(analysis)
    report = render_report(analysis, date="today", host="here")
    loaded = load_experiment(two.settings.out_dir)

    expected = Counter(
        {(c, o): 2 for c in ("normal", "normal-control", "io") for o in ("strace", "ebpf")}
    )
    assert expected == Counter((run.condition, run.observer) for run in two.runs)
    assert [r.observer for r in two.runs] == [r.observer for r in loaded.runs]
    assert ("strace", "ebpf") == (analysis.observer, both.second.observer)
    assert {"strace"} == {run.observer for run in analysis.data.runs}
    assert {"ebpf"} == {run.observer for run in both.second.data.runs}
    assert all(match.equal for match in both.counts), both.counts
    assert {"overhead", "counts test", "observers"} <= {f.topic for f in found}
    assert "## Under both observers" in report
    assert "under eBPF: 3 conditions" in report
    assert "from 12 traced runs (2 per condition and observer)" in report
    assert re.search(r"\| strace flags +\| `strace -", report)
    assert re.search(r"\| eBPF observer +\| bpftrace v[\d.]+, events mode, start-up", report)
    assert all(Path(run.run_dir).is_dir() for run in two.runs)

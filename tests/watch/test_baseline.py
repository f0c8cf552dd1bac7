"""The baseline: windows cut from real traces, the threshold rule, the model file."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from syscall_lab.capture.ebpf import EbpfObserver, ebpf_unavailable
from syscall_lab.capture.run import capture_command
from syscall_lab.detect.base import DetectorError
from syscall_lab.watch.baseline import (
    held_out_scores,
    load_watch_model,
    read_baseline,
    threshold_for,
)
from syscall_lab.watch.windows import WindowCutter
from syscall_parse.errors import InputError
from syscall_parse.events import Syscall
from syscall_parse.inputs import iter_trace


def test_threshold_is_the_maximum_below_one_over_budget() -> None:
    """With fewer held-out windows than 1 / budget the threshold is their maximum: none of
    them alerts."""
    scores = np.array([0.1, 0.4, 0.2])
    assert 0.4 == threshold_for(scores, 1 / 1000)


def test_threshold_is_an_observed_quantile_within_budget() -> None:
    """With enough windows the threshold is an observed score with at most budget of the
    windows above it, and the next lower observed score would exceed the budget."""
    scores = np.random.default_rng(0).random(5000)
    budget = 1 / 1000
    threshold = threshold_for(scores, budget)
    assert threshold in scores
    assert (scores > threshold).mean() <= budget
    below = scores[scores < threshold].max()
    assert (scores > below).mean() > budget


@pytest.mark.parametrize("budget", [0.0, 1.0, -0.5])
def test_threshold_refuses_a_budget_outside_zero_one(budget: float) -> None:
    """A budget is a share of windows strictly between 0 and 1."""
    with pytest.raises(DetectorError, match="budget"):
        threshold_for(np.array([0.1, 0.2]), budget)


@pytest.mark.strace
def test_held_out_windows_within_budget(model, baseline_logs: list[Path]) -> None:
    """The guarantee of the rule: on the baseline's held-out windows, the share above the
    threshold is at most the budget."""
    traces = [read_baseline(log) for log in baseline_logs]
    scores = held_out_scores(model.detector.name, traces, model.window)
    assert model.held_out == scores.size
    assert (scores > model.threshold).mean() <= model.budget


@pytest.mark.strace
def test_a_window_of_syscalls_never_seen_scores_the_maximum(model) -> None:
    """A window made only of syscalls the baseline never made is at distance 1 (the
    detector's maximum) from every normal window, so it alerts whenever the threshold is
    below 1, as it is on this baseline."""
    window = ["fsync", "fdatasync"] * (model.window // 2)
    assert not set(window) & model.syscalls
    assert model.threshold < 1.0
    assert 1.0 == pytest.approx(model.detector.score(window))


@pytest.mark.strace
def test_model_file_round_trip(model, model_file: Path, baseline_logs: list[Path]) -> None:
    """A saved model reads back with the same threshold, syscalls, and scores."""
    loaded = load_watch_model(model_file)
    names = read_baseline(baseline_logs[0])
    size = model.window
    windows = [names[i : i + size] for i in range(0, 10 * size, size)]
    assert (model.window, model.threshold, model.syscalls) == (
        loaded.window,
        loaded.threshold,
        loaded.syscalls,
    )
    assert (
        model.detector.score_many(windows).tolist() == loaded.detector.score_many(windows).tolist()
    )


@pytest.mark.strace
def test_windows_cut_from_a_real_trace(baseline_logs: list[Path]) -> None:
    """The cutter gives full windows of N calls in trace order, their counts, errors and
    latencies those of their calls."""
    size = 100
    events = list(iter_trace(baseline_logs[0]))
    calls = [e for e in events if isinstance(e, Syscall)]
    cutter = WindowCutter(size)
    windows = [w for w in map(cutter.push, events) if w is not None]
    assert len(calls) // size == len(windows)
    assert len(calls) == cutter.calls
    for window in windows:
        chunk = calls[window.index * size : (window.index + 1) * size]
        assert tuple(c.name for c in chunk) == window.names
        assert sum(c.failed for c in chunk) == window.errors
        assert dict(Counter(window.names).most_common(5)) == window.top
        assert (chunk[0].time, chunk[-1].time) == (window.start, window.time)
        assert window.p50 is not None
        assert window.p99 is not None
        assert window.p50 <= window.p99


@pytest.mark.strace
def test_a_run_folder_is_a_baseline(strace: str, switch, tmp_path: Path) -> None:
    """A capture run folder gives the calls of its trace.log."""
    result = capture_command(
        switch("none"), label="normal", out_dir=tmp_path, measure_untraced=False
    )
    assert read_baseline(result.logs[0]) == read_baseline(result.run_dir)


@pytest.mark.ebpf
def test_an_ebpf_run_folder_is_a_baseline(switch, tmp_path: Path) -> None:
    """A run of the eBPF observer gives the calls of its events log, as strace's run does of
    its trace.log: the same program's calls, the tracer's own start-up aside."""
    reason = ebpf_unavailable(probe=True)
    if reason is not None:
        pytest.skip(f"eBPF tracing is unavailable: {reason}")
    result = capture_command(
        switch("none"), label="normal", out_dir=tmp_path, observer=EbpfObserver(),
        measure_untraced=False,
    )  # fmt: skip
    names = read_baseline(result.run_dir)
    assert read_baseline(result.logs[0]) == names
    assert "execve" == names[0]
    assert {"openat", "read", "write"} <= set(names)


def test_a_folder_without_a_log_is_refused(tmp_path: Path) -> None:
    """An empty folder is not a run: a one-line InputError."""
    with pytest.raises(InputError, match="not a run folder"):
        read_baseline(tmp_path)


@pytest.mark.parametrize(("field", "value"), [("window", 0), ("held_out", 0), ("budget", 1.5)])
def test_a_model_with_impossible_settings_is_refused(
    model_file: Path, tmp_path: Path, field: str, value: float
) -> None:
    """A model whose window, held-out count or budget no fit could have made: a one-line
    InputError, not a failure later while watching."""
    data = json.loads(model_file.read_text())
    data[field] = value
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match=f"malformed watch model .*{field} {value}"):
        load_watch_model(path)


def test_a_file_that_is_not_a_model_is_refused(tmp_path: Path) -> None:
    """A detector model or any other JSON is not a watch model."""
    path = tmp_path / "other.json"
    path.write_text(json.dumps({"format_version": 1, "detector": "stide"}))
    with pytest.raises(InputError, match="not a watch model"):
        load_watch_model(path)

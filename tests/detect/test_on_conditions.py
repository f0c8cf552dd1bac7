"""Tests of anomaly detection on our own conditions, on a small real experiment.

The experiment (2 runs each of normal, memory and io, of normal under ambient CPU load, and of
the real program sqlite, its control and sqlite under ambient io load) is captured once per
session with real strace. Each baseline (normal, sqlite) has its own detectors.
"""

from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np
import pytest

from syscall_lab.classify.features import ClassifyError
from syscall_lab.classify.training import train_model, training_runs
from syscall_lab.detect.on_conditions import (
    SEPARATING_AUC,
    AmbientFalseAlarms,
    ExperimentDetection,
    detect_on_conditions,
    run_sequences,
)
from syscall_lab.errors import SyscallLabError
from syscall_lab.experiment.dataset import ExperimentData, ExperimentSettings
from syscall_lab.experiment.store import run_experiment

DETECTORS = ("stide", "frequency-knn", "ngram-lm", "ensemble")


@pytest.fixture(scope="session")
def experiment(strace: str, tmp_path_factory: pytest.TempPathFactory) -> ExperimentData:
    settings = ExperimentSettings(
        repeats=2,
        conditions=("normal", "memory", "io"),
        control=False,
        ambient=("cpu",),
        programs=("sqlite",),
        stress_ng=False,
        out_dir=tmp_path_factory.mktemp("experiment"),
    )
    return run_experiment(settings)


@pytest.fixture(scope="session")
def detection(experiment: ExperimentData) -> ExperimentDetection:
    return detect_on_conditions(experiment, DETECTORS, resamples=200)


@pytest.mark.strace
def test_memory_and_io_score_above_normal(detection: ExperimentDetection) -> None:
    """Some detector separates memory and io runs from normal ones completely."""
    best = {}
    for record in detection.separations:
        best[record.condition] = max(best.get(record.condition, 0.0), record.auc)
    assert 1.0 == best["memory"]
    assert 1.0 == best["io"]


@pytest.mark.strace
def test_records_are_well_formed(detection: ExperimentDetection) -> None:
    """One record per detector and condition, normal's conditions first, then sqlite's (each
    against its own baseline); AUC inside its interval, scores out of sample; a baseline with a
    control batch has its control runs among the negatives."""
    conditions = {"normal": ("memory", "io", "normal-under-cpu"), "sqlite": ("sqlite-under-io",)}
    fitted = [d for d in DETECTORS if d != "ensemble"]
    assert [(b, d, c) for b, names in conditions.items() for d in fitted for c in names] == [
        (r.baseline, r.detector, r.condition) for r in detection.separations
    ]
    for record in detection.separations:
        negatives = 2 if record.baseline == "normal" else 4  # sqlite's control: 2 more
        assert negatives == record.n_normal == len(record.normal_scores)
        assert 2 == record.n_condition == len(record.scores)
        low, high = record.auc_ci
        assert 0.0 <= low <= record.auc <= high <= 1.0
        assert np.isfinite(record.normal_scores + record.scores).all()
        assert 0 == record.empty  # memory, io and normal phases all make calls


@pytest.mark.strace
def test_ensemble_needs_two_training_runs(detection: ExperimentDetection) -> None:
    """With 2 normal runs, leave-one-out leaves 1 to fit: the ensemble cannot cross-fit."""
    assert 1 == len(detection.skipped)
    assert detection.skipped[0].startswith("ensemble: ")


@pytest.mark.strace
def test_ambient_false_alarms(detection: ExperimentDetection) -> None:
    """A false-alarm rate per detector and baseline under quiet and ambient runs, at a fixed
    threshold: normal's beside the CPU load, sqlite's beside the io load."""
    fitted = ["stide", "frequency-knn", "ngram-lm"]
    assert [("normal", d) for d in fitted] + [("sqlite", d) for d in fitted] == [
        (r.baseline, r.detector) for r in detection.false_alarms
    ]
    ambient = {"normal": "normal-under-cpu", "sqlite": "sqlite-under-io"}
    for record in detection.false_alarms:
        condition = ambient[record.baseline]
        assert (2 if record.baseline == "normal" else 4) == record.n_quiet
        assert {condition: 2} == dict(record.ambient_runs)
        rates = [record.quiet_far, *record.ambient_far.values()]
        assert all(rate in (0.0, 0.25, 0.5, 0.75, 1.0) for rate in rates)
        assert record.within_budget == (record.ambient_far[condition] <= 2 * record.quiet_far)


@pytest.mark.strace
def test_threshold_is_the_largest_quiet_score(detection: ExperimentDetection) -> None:
    """The threshold is the largest leave-one-out score of the normal runs."""
    for alarms in detection.false_alarms:
        normal = next(
            r
            for r in detection.separations
            if (r.detector, r.baseline) == (alarms.detector, alarms.baseline)
        )
        assert max(normal.normal_scores[:2]) == alarms.threshold


@pytest.mark.strace
def test_rows_and_frames(detection: ExperimentDetection) -> None:
    """The renderable forms hold the records' numbers."""
    frame = detection.separation_frame()
    assert ["detector", "condition", "auc", "auc_low", "auc_high", "n_normal",
            "n_condition", "empty"] == list(frame.columns)  # fmt: skip
    assert [r.auc for r in detection.separations] == frame["auc"].tolist()
    assert object == frame["detector"].dtype
    assert "float64" == frame["auc"].dtype
    alarm_frame = detection.false_alarm_frame()
    assert ["detector", "baseline", "threshold", "quiet_far", "n_quiet", "far_normal-under-cpu",
            "far_sqlite-under-io", "within_budget"] == list(alarm_frame.columns)  # fmt: skip
    assert len(detection.false_alarms) == len(alarm_frame)


@pytest.mark.strace
def test_sequences_are_the_phase_calls(experiment: ExperimentData) -> None:
    """A run's sequence is its cut events' syscall names: memory runs map and unmap."""
    memory = [run.events for run in experiment.runs if run.condition == "memory"]
    sequences = run_sequences(memory)
    assert [64, 64] == [s.count("munmap") for s in sequences]
    calls = [int((e["kind"] == "syscall").sum()) for e in memory]
    assert calls == [len(s) for s in sequences]


@pytest.mark.strace
def test_separating_detectors(detection: ExperimentDetection) -> None:
    """A detector separates a condition when its AUC reaches SEPARATING_AUC: memory and io by
    some detector, named in detector order."""
    for condition in ("memory", "io"):
        separating = detection.separating(condition)
        assert separating
        assert list(separating) == [d for d in detection.detectors if d in separating]
        assert all(
            r.auc >= SEPARATING_AUC
            for r in detection.separations
            if r.condition == condition and r.detector in separating
        )


@pytest.mark.strace
def test_needs_two_normal_runs(experiment: ExperimentData) -> None:
    one_normal = dataclasses.replace(
        experiment,
        runs=tuple(r for r in experiment.runs if r.condition != "normal" or r.repeat == 0),
    )
    with pytest.raises(SyscallLabError, match="at least 2 normal runs, have 1"):
        detect_on_conditions(one_normal, ("stide",))


@pytest.mark.strace
def test_training_runs_of_an_experiment(experiment: ExperimentData) -> None:
    """`train` reads an experiment folder: ambient runs of normal train the normal class, and
    a class without runs (no cpu here) is an error."""
    found = training_runs(experiment.settings.out_dir)
    assert {"normal": 4, "memory": 2, "io": 2} == dict(Counter(label for label, _ in found))
    assert all(log.name == "trace.log" and log.is_file() for _, logs in found for log in logs)
    with pytest.raises(ClassifyError, match="no training runs of cpu"):
        train_model(experiment.settings.out_dir)


@pytest.mark.parametrize(
    ("quiet", "ambient", "expected"),
    [
        pytest.param(0.0, {}, True, id="no-ambient"),
        pytest.param(0.0, {"normal-under-io": 0.0}, True, id="both-zero"),
        pytest.param(0.1, {"normal-under-io": 0.2}, True, id="twice"),
        pytest.param(0.1, {"normal-under-io": 0.3}, False, id="three-times"),
        pytest.param(0.0, {"normal-under-io": 0.2, "normal-under-cpu": 0.0}, False, id="one-over"),
    ],
)
def test_within_budget(quiet: float, ambient: dict[str, float], expected: bool) -> None:
    """Robust when every ambient false-alarm rate is at most twice the quiet one."""
    record = AmbientFalseAlarms("stide", 0.0, quiet, 10, ambient, dict.fromkeys(ambient, 5))
    assert expected == record.within_budget

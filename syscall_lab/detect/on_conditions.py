"""Anomaly detection on our own conditions: do detectors fitted on quiet runs of a baseline flag
the stressed runs (cpu, memory, io against normal), and do they stay quiet on the baseline's runs
under ambient stress (normal's, and each real program's against its own quiet runs)?

A run's trace is the sequence of syscall names of its measured phase (the experiment's cut
events), every pid merged in the order strace wrote them: the workloads are one process, and a
child's calls belong to the run's behaviour as much as the parent's.

Each baseline (``normal``, and each real program) has its own detectors, fitted on its runs
only, and they score the conditions compared with it (:mod:`syscall_lab.conditions`): the
stressed workloads and the ambient conditions; stress-ng's whole traces are another program.
Scoring is out of sample throughout, and every score comes from a detector fitted on n-1 of
the n baseline runs (a detector fitted on more runs scores lower, so mixing training sizes would
bias the comparison): a baseline run is scored by the detector fitted on the other baseline
runs; a control run (an independent quiet batch) or any other condition's run gets the mean of
its scores by those n leave-one-out detectors.

The AUC of a condition takes those baseline and control scores as negatives and the condition's
runs as positives, with a stratified-bootstrap 95% interval
(:func:`~syscall_lab.detect.evaluation.auc_interval`). With five runs a side that interval says
little: the bootstrap only resamples the runs it has, so when the scores separate completely
every resample does too and the interval is [1, 1]. It shows that these runs separate, not
that a sixth run would; read it as a range over the runs, not a measurement of the detector.
A condition whose phase makes no syscall (``cpu``) has empty sequences (``empty`` counts
them): a detector can only score them by convention (STIDE 0, the kNN detectors' empty
profile at distance 1), so its AUC there says nothing about the stress.

A detector *separates* a condition from its baseline when its AUC is at least
:data:`SEPARATING_AUC`.

Stress robustness (:class:`AmbientFalseAlarms`): the alarm threshold is fixed on quiet runs
only, the largest leave-one-out score of the baseline runs (a run is flagged when its score is
strictly above). The quiet false-alarm rate counts flagged quiet runs: each baseline run against
the largest leave-one-out score of the *other* baseline runs, each control run against the
threshold. The ambient rate is the share of the ambient condition's runs flagged. The aim is an
ambient rate of at most twice the quiet rate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from syscall_lab.conditions import NORMAL, Kind, condition_named, control_condition
from syscall_lab.detect.base import Detector
from syscall_lab.detect.ensemble import Ensemble
from syscall_lab.detect.evaluation import auc, auc_interval
from syscall_lab.detect.registry import DETECTORS, make_detector
from syscall_lab.errors import SyscallLabError
from syscall_lab.experiment.dataset import ExperimentData

__all__ = [
    "SEPARATING_AUC",
    "AmbientFalseAlarms",
    "ConditionSeparation",
    "ExperimentDetection",
    "detect_on_conditions",
    "run_sequences",
]

SEPARATING_AUC = 0.9
"""The AUC from which a detector is said to separate a condition from its baseline."""


@dataclass(frozen=True, slots=True)
class ConditionSeparation:
    """How well one detector separates one condition's runs from quiet runs of its baseline.

    ``normal_scores`` are the negatives (the baseline's leave-one-out scores, then its
    control's), ``scores`` the condition's runs; ``auc_ci`` is a stratified-bootstrap 95%
    interval. ``empty`` counts the condition's runs without a syscall in their phase (scored by
    convention only).
    """

    detector: str
    condition: str
    auc: float
    auc_ci: tuple[float, float]
    n_normal: int
    n_condition: int
    normal_scores: tuple[float, ...]
    scores: tuple[float, ...]
    empty: int = 0
    baseline: str = NORMAL

    @property
    def separates(self) -> bool:
        """Whether the AUC reaches :data:`SEPARATING_AUC`."""
        return self.auc >= SEPARATING_AUC


@dataclass(frozen=True, slots=True)
class AmbientFalseAlarms:
    """False alarms of one detector at a threshold fixed on quiet runs of a baseline.

    ``quiet_far`` is the share of quiet runs flagged (``n_quiet`` runs: the baseline's
    leave-one-out and its control), ``ambient_far`` the share flagged per ambient condition of
    the baseline (``ambient_runs`` runs each). ``within_budget`` is whether every ambient rate
    is at most twice the quiet one.
    """

    detector: str
    threshold: float
    quiet_far: float
    n_quiet: int
    ambient_far: Mapping[str, float] = field(default_factory=dict)
    ambient_runs: Mapping[str, int] = field(default_factory=dict)
    baseline: str = NORMAL

    @property
    def within_budget(self) -> bool:
        """Every ambient false-alarm rate is at most twice the quiet rate."""
        return all(rate <= 2 * self.quiet_far for rate in self.ambient_far.values())


@dataclass(frozen=True, slots=True, eq=False)
class ExperimentDetection:
    """What :func:`detect_on_conditions` found in one experiment: each detector's
    :class:`ConditionSeparation` per condition (``separations``) and its
    :class:`AmbientFalseAlarms` (``false_alarms``); ``skipped`` says which detector could not
    run and why."""

    separations: tuple[ConditionSeparation, ...]
    false_alarms: tuple[AmbientFalseAlarms, ...]
    resamples: int
    seed: int
    skipped: tuple[str, ...] = ()

    def separating(self, condition: str) -> tuple[str, ...]:
        """The detectors that separate ``condition`` from its baseline, in detector order."""
        return tuple(
            d.detector for d in self.separations if d.condition == condition and d.separates
        )

    @property
    def detectors(self) -> tuple[str, ...]:
        """The detectors that ran, in order."""
        return tuple(dict.fromkeys(d.detector for d in self.separations))

    def separation_rows(self) -> list[dict[str, Any]]:
        """One dict per (detector, condition): detector, condition, auc, auc_low, auc_high,
        n_normal, n_condition, empty."""
        return [
            {
                "detector": d.detector, "condition": d.condition, "auc": d.auc,
                "auc_low": d.auc_ci[0], "auc_high": d.auc_ci[1], "n_normal": d.n_normal,
                "n_condition": d.n_condition, "empty": d.empty,
            }
            for d in self.separations
        ]  # fmt: skip

    def false_alarm_rows(self) -> list[dict[str, Any]]:
        """One dict per detector and baseline: detector, baseline, threshold, quiet_far,
        n_quiet, one ``far_<condition>`` per ambient condition of the baseline, within_budget."""
        return [
            {
                "detector": r.detector, "baseline": r.baseline, "threshold": r.threshold,
                "quiet_far": r.quiet_far,
                "n_quiet": r.n_quiet,
                **{f"far_{condition}": rate for condition, rate in r.ambient_far.items()},
                "within_budget": r.within_budget,
            }
            for r in self.false_alarms
        ]  # fmt: skip

    def separation_frame(self) -> pd.DataFrame:
        """:meth:`separation_rows` as a DataFrame: names as object, numbers as float64/int64."""
        dtypes = {"detector": object, "condition": object, "auc": "float64",
                  "auc_low": "float64", "auc_high": "float64", "n_normal": "int64",
                  "n_condition": "int64", "empty": "int64"}  # fmt: skip
        return _frame(self.separation_rows(), dtypes)

    def false_alarm_frame(self) -> pd.DataFrame:
        """:meth:`false_alarm_rows` as a DataFrame: one ``far_<condition>`` column (float64)
        per ambient condition."""
        ambient = dict.fromkeys(c for r in self.false_alarms for c in r.ambient_far)
        dtypes = {"detector": object, "baseline": object, "threshold": "float64",
                  "quiet_far": "float64",
                  "n_quiet": "int64", **{f"far_{c}": "float64" for c in ambient},
                  "within_budget": "bool"}  # fmt: skip
        return _frame(self.false_alarm_rows(), dtypes)


def _frame(rows: list[dict[str, Any]], dtypes: dict[str, Any]) -> pd.DataFrame:
    # Column by column with explicit dtypes: pandas 3 would make the names its str dtype.
    return pd.DataFrame(
        {
            name: pd.Series([row.get(name) for row in rows], dtype=dtype)
            for name, dtype in dtypes.items()
        }
    )


def run_sequences(events: Sequence[pd.DataFrame]) -> list[list[str]]:
    """Each run's syscall names, in source order (every pid merged)."""
    sequences = []
    for frame in events:
        calls = frame.loc[(frame["kind"] == "syscall").fillna(False).to_numpy(dtype=bool)]
        sequences.append([str(name) for name in calls["syscall"].astype(object)])
    return sequences


def _factory(name: str, n_train: int) -> Callable[[], Detector]:
    if name == "ensemble":
        # The ensemble cross-fits its calibration: at most one fold per training run.
        folds = min(5, n_train)
        if folds < 2:
            raise SyscallLabError(f"ensemble needs 2 training runs per fold set, has {n_train}")
        return lambda: Ensemble(folds=folds)
    return lambda: make_detector(name)


def _leave_one_out(
    make: Callable[[], Detector], normal: list[list[str]], others: list[list[str]]
) -> tuple[np.ndarray, np.ndarray]:
    """Each normal run's score by the detector fitted without it, and each other run's mean
    score over those same detectors (so every score comes from n-1 training runs)."""
    held = np.empty(len(normal), dtype=np.float64)
    total = np.zeros(len(others), dtype=np.float64)
    for i in range(len(normal)):
        detector = make().fit(normal[:i] + normal[i + 1 :])
        held[i] = detector.score(normal[i])
        if others:
            total += detector.score_many(others)
    return held, total / len(normal)


def _quiet_flags(loo: np.ndarray, control: np.ndarray, threshold: float) -> np.ndarray:
    # Each normal run against the largest leave-one-out score of the others.
    own = np.array(
        [loo[i] > np.delete(loo, i).max() for i in range(loo.size)] if loo.size > 1 else [],
        dtype=bool,
    )
    return np.concatenate([own, control > threshold])


def _scored(data: ExperimentData) -> dict[str, list[str]]:
    """Each baseline with runs (normal, the real programs) -> the conditions its detectors
    score: the stressed and ambient conditions compared with it that have runs."""
    scored: dict[str, list[str]] = {}
    for condition in data.conditions:
        record = condition_named(condition)
        if record.kind in (Kind.STRESSED, Kind.AMBIENT) and record.baseline in data.conditions:
            scored.setdefault(record.baseline, []).append(condition)
    if NORMAL in data.conditions:
        scored.setdefault(NORMAL, [])
    return scored


def _detect_baseline(
    baseline: str,
    runs: Mapping[str, list[pd.DataFrame]],
    others: Sequence[str],
    detectors: Sequence[str],
    resamples: int,
    seed: int,
) -> tuple[list[ConditionSeparation], list[AmbientFalseAlarms], list[str]]:
    """Every detector fitted on ``baseline``'s runs, scoring ``others``."""
    normal = run_sequences(runs.get(baseline, []))
    if len(normal) < 2:
        raise SyscallLabError(f"detection needs at least 2 {baseline} runs, have {len(normal)}")
    control = run_sequences(runs.get(control_condition(baseline).name, []))
    sequences = {condition: run_sequences(runs[condition]) for condition in others}
    separations: list[ConditionSeparation] = []
    false_alarms: list[AmbientFalseAlarms] = []
    skipped: list[str] = []
    for name in detectors:
        try:
            make_loo = _factory(name, len(normal) - 1)
        except SyscallLabError as exc:
            skipped.append(f"{name}: {exc}")
            continue
        pooled = control + [trace for traces in sequences.values() for trace in traces]
        loo, pooled_scores = _leave_one_out(make_loo, normal, pooled)
        control_scores = pooled_scores[: len(control)]
        negatives = np.concatenate([loo, control_scores])
        at = len(control)
        ambient: dict[str, np.ndarray] = {}
        for condition, traces in sequences.items():
            scores = pooled_scores[at : at + len(traces)]
            at += len(traces)
            separations.append(
                ConditionSeparation(
                    detector=name, condition=condition, auc=auc(negatives, scores),
                    auc_ci=auc_interval(negatives, scores, resamples=resamples, seed=seed),
                    n_normal=int(negatives.size), n_condition=int(scores.size),
                    normal_scores=tuple(map(float, negatives)), scores=tuple(map(float, scores)),
                    empty=sum(not trace for trace in traces), baseline=baseline,
                )
            )  # fmt: skip
            if condition_named(condition).kind is Kind.AMBIENT:
                ambient[condition] = scores
        threshold = float(loo.max())
        quiet = _quiet_flags(loo, control_scores, threshold)
        false_alarms.append(
            AmbientFalseAlarms(
                detector=name, threshold=threshold, quiet_far=float(quiet.mean()),
                n_quiet=int(quiet.size),
                ambient_far={c: float(np.mean(s > threshold)) for c, s in ambient.items()},
                ambient_runs={c: int(s.size) for c, s in ambient.items()}, baseline=baseline,
            )
        )  # fmt: skip
    return separations, false_alarms, skipped


def detect_on_conditions(
    data: ExperimentData,
    detectors: Sequence[str] = tuple(DETECTORS),
    *,
    resamples: int = 1000,
    seed: int = 0,
) -> ExperimentDetection:
    """Fit each detector on the runs of each baseline of ``data`` (normal, each real program)
    and score the stressed and ambient conditions compared with it: AUC with its interval per
    condition, and the false alarms under ambient stress. Pure and deterministic in ``seed``.
    Raises SyscallLabError without at least 2 runs of a baseline (normal included).
    """
    runs: dict[str, list[pd.DataFrame]] = {}
    for run in data.runs:
        runs.setdefault(run.condition, []).append(run.events)
    if NORMAL not in runs:
        raise SyscallLabError("detection needs at least 2 normal runs, have 0")
    separations: list[ConditionSeparation] = []
    false_alarms: list[AmbientFalseAlarms] = []
    skipped: list[str] = []
    for baseline, others in _scored(data).items():
        found = _detect_baseline(baseline, runs, others, detectors, resamples, seed)
        separations += found[0]
        false_alarms += found[1]
        skipped += [reason for reason in found[2] if reason not in skipped]
    return ExperimentDetection(
        tuple(separations), tuple(false_alarms), resamples, seed, tuple(skipped)
    )

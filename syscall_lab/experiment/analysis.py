"""The analysis of an experiment: every statistic the findings and the report need, once.

:func:`analyse_experiment` summarises each condition (per-run tables, their medians, observer
overhead), checks each against itself, and compares each with its baseline (see
:mod:`syscall_lab.conditions`): syscall counts, distributions, n-grams, timing, and the
measured phase. For every count and timing column whose shift is not significant it says how
large a shift the test could have detected (:class:`Sensitivity`), and for every baseline with
a control batch whether the control held. It is pure and deterministic in its seed; the results
are records.

An experiment under two observers is analysed per observer (conditions are compared within one
observer's runs, never across): the first (strace) gives the analysis, the second's sits beside
it in ``observers`` (:mod:`syscall_lab.experiment.observers`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from syscall_lab.analyse.stats import (
    Comparison,
    DetectableShift,
    Equivalence,
    Shift,
    compare_conditions,
    compare_tables,
    detectable_shift,
    detection_level,
)
from syscall_lab.analyse.tables import (
    call_durations,
    count_table,
    mean_shares,
    phase_table,
    share_table,
    timing_table,
)
from syscall_lab.conditions import Kind, condition_named
from syscall_lab.experiment.dataset import ExperimentData, ExperimentError
from syscall_lab.experiment.observers import ObserverComparison, compare_observers

__all__ = [
    "DETECTION_POWER",
    "ConditionSummary",
    "ExperimentAnalysis",
    "SelfCheck",
    "Sensitivity",
    "analyse_experiment",
    "find_shift",
]


@dataclass(frozen=True, slots=True, eq=False)
class ConditionSummary:
    """One condition's per-run tables, their medians, and its observer overhead.

    ``counts``, ``shares`` (None when a run made no call) and ``timing`` are the tables of
    :mod:`syscall_lab.analyse.tables`; ``phase`` (None without phase markers) has
    :data:`~syscall_lab.analyse.tables.PHASE_COLUMNS`. ``calls`` is the median of the runs'
    calls, ``count_medians``, ``timing_medians`` and ``phase_medians`` the medians over runs
    of each column, ``mean_shares`` each syscall's mean share of the calls (over the runs that
    made calls), ``durations`` every call's ``-T`` duration (seconds, the runs pooled).

    ``overhead`` is the median over runs of traced / untraced wall time (None without untraced
    times); the wall times are medians in seconds.
    """

    condition: str
    runs: tuple[str, ...]
    counts: pd.DataFrame
    shares: pd.DataFrame | None
    timing: pd.DataFrame
    phase: pd.DataFrame | None
    calls: float
    count_medians: pd.Series
    mean_shares: pd.Series
    timing_medians: pd.Series
    phase_medians: pd.Series | None
    durations: np.ndarray
    traced_seconds: float | None
    untraced_seconds: float | None
    overhead: float | None


@dataclass(frozen=True, slots=True)
class SelfCheck:
    """A condition against itself: are its runs' syscall counts the same over repeats?

    ``identical`` when every run has exactly the same count row. ``spread`` is the largest
    (max - min) / max(median, 1) over syscalls, ``worst`` that syscall (None when identical).
    """

    condition: str
    runs: int
    identical: bool
    spread: float
    worst: str | None


DETECTION_POWER = 0.8
"""The power at which a detectable shift is stated: detected in 80% of simulated experiments."""

# Timing metrics that count (calls, calls over 1 ms): their detectable shift is whole calls.
_COUNTED_TIMING = frozenset({"calls", "slow_calls"})


@dataclass(frozen=True, slots=True)
class Sensitivity:
    """What one comparison could have detected: the :class:`DetectableShift` of each syscall
    (``counts``) and each timing metric (``timing``) whose shift is not significant, in the
    order of the comparison's shifts, with power :data:`DETECTION_POWER`.

    Each is tested at the level its family leaves it
    (:func:`~syscall_lab.analyse.stats.detection_level`). Where that level is below the
    smallest p-value these runs can give, no lone shift of the column could have been
    significant (with 5 runs a side, one timing metric among 7 corrected together): those
    columns are listed in ``alone``, and their shift is the one detectable at alpha, as if
    the column had been tested alone.
    """

    counts: tuple[DetectableShift, ...]
    timing: tuple[DetectableShift, ...]
    alone: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class ExperimentAnalysis:
    """Everything :func:`analyse_experiment` computed; pure data for the findings and report.

    ``comparisons`` maps ``(baseline, condition)`` to a ``Comparison`` for every condition
    whose baseline was captured: each stressed condition, the control and each ambient
    condition against normal, each stress-ng condition against ``stress-ng-cpu``.
    ``phase_shifts`` holds, for each compared pair whose both sides have phase markers, the
    shifts of the phase table's columns (rate, longest gap...). ``ambient`` holds the count
    equivalence of each ambient condition (normal or a real program beside a load) against its
    baseline. ``sensitivity`` holds, for each comparison, the shifts it could have detected
    where it found none. ``controls`` maps each baseline whose control batch was captured to
    whether the control held: no syscall count and no distribution shifts significantly
    between the two batches.

    ``data`` holds the runs of one observer (``observer``); with a second, ``observers`` holds
    its analysis and how the two agree (None with one observer).
    """

    data: ExperimentData
    summaries: Mapping[str, ConditionSummary]
    comparisons: Mapping[tuple[str, str], Comparison]
    phase_shifts: Mapping[tuple[str, str], tuple[Shift, ...]]
    self_checks: Mapping[str, SelfCheck]
    ambient: Mapping[str, Equivalence]
    sensitivity: Mapping[tuple[str, str], Sensitivity]
    controls: Mapping[str, bool]
    alpha: float
    correction: str
    seed: int
    observer: str = "strace"
    observers: ObserverComparison | None = None


def _median(values: list[float | None]) -> float | None:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return float(np.median(finite)) if finite else None


def _summary(data: ExperimentData, condition: str) -> ConditionSummary:
    runs = data.runs_of(condition)
    records = [run for run in data.runs if run.condition == condition]
    counts = count_table(runs)
    timing = timing_table(runs)
    phases = {run.run_id: run.phase for run in records if run.phase is not None}
    phase = phase_table(runs, phases) if len(phases) == len(records) else None
    traced = [run.metadata.traced_seconds for run in records]
    untraced = [run.metadata.untraced_seconds for run in records]
    ratios = [t / u for t, u in zip(traced, untraced, strict=True) if t and u]
    return ConditionSummary(
        condition=condition, runs=tuple(runs), counts=counts,
        shares=share_table(counts) if bool((counts.sum(axis=1) > 0).all()) else None,
        timing=timing, phase=phase, calls=float(counts.sum(axis=1).median()),
        count_medians=counts.median(axis=0), mean_shares=mean_shares(counts),
        timing_medians=timing.median(axis=0),
        phase_medians=None if phase is None else phase.median(axis=0),
        durations=call_durations(runs), traced_seconds=_median(traced),
        untraced_seconds=_median(untraced), overhead=_median(ratios),
    )  # fmt: skip


def _self_check(summary: ConditionSummary) -> SelfCheck:
    counts = summary.counts.to_numpy(dtype=np.float64)
    if not counts.size:
        return SelfCheck(summary.condition, len(counts), True, 0.0, None)
    spread = (counts.max(axis=0) - counts.min(axis=0)) / np.maximum(np.median(counts, axis=0), 1)
    worst = int(np.argmax(spread))
    identical = bool((spread == 0).all())
    return SelfCheck(
        summary.condition, len(counts), identical, float(spread[worst]),
        None if identical else str(summary.counts.columns[worst]),
    )  # fmt: skip


def _pairs(conditions: tuple[str, ...]) -> list[tuple[str, str]]:
    """(baseline, condition) of every condition whose baseline is among ``conditions``."""
    baselines = [condition_named(condition).baseline for condition in conditions]
    return [
        (baseline, condition)
        for baseline, condition in zip(baselines, conditions, strict=True)
        if baseline is not None and baseline in conditions
    ]


def _column(table: pd.DataFrame, name: str) -> pd.Series:
    """A column of a per-run table; a syscall the condition never made counts 0 in each run."""
    return table[name] if name in table.columns else pd.Series(0.0, index=table.index)


def _detectable(
    shifts: tuple[Shift, ...],
    baseline: pd.DataFrame,
    treated: pd.DataFrame,
    counted: frozenset[str] | None,
    comparison: Comparison,
) -> tuple[list[DetectableShift], list[str]]:
    """The detectable shift of each column whose shift is not significant, and the names of
    those whose family left no attainable level (their shift is then the one at alpha); a
    column counts whole calls when ``counted`` is None (every column) or holds it."""
    alpha = comparison.alpha
    family = {shift.name: shift.p_value for shift in shifts if shift.in_family}
    found, alone = [], []
    for shift in (shift for shift in shifts if not shift.significant):
        others = [p for name, p in family.items() if name != shift.name]
        level = detection_level(others, alpha, comparison.correction)
        for attempt in (level, alpha) if level < alpha else (level,):
            detectable = detectable_shift(
                _column(baseline, shift.name), _column(treated, shift.name), level=attempt,
                power=DETECTION_POWER, seed=comparison.seed, name=shift.name,
                resolution=1.0 if counted is None or shift.name in counted else 0.0,
            )  # fmt: skip
            if math.isfinite(detectable.shift):
                break
        if detectable.level != level and math.isfinite(detectable.shift):
            alone.append(shift.name)
        found.append(detectable)
    return found, alone


def _sensitivity(
    base: ConditionSummary, cond: ConditionSummary, comparison: Comparison
) -> Sensitivity:
    counts, alone = _detectable(comparison.shifts, base.counts, cond.counts, None, comparison)
    timing, alone_timing = _detectable(
        comparison.timing, base.timing, cond.timing, _COUNTED_TIMING, comparison
    )
    return Sensitivity(tuple(counts), tuple(timing), (*alone, *alone_timing))


def _held(comparison: Comparison) -> bool:
    distance = comparison.distance
    shifted = any(shift.significant for shift in comparison.shifts)
    return not shifted and (distance is None or distance.p_value > comparison.alpha)


def analyse_experiment(
    data: ExperimentData, *, alpha: float = 0.05, correction: str = "bh", seed: int = 0
) -> ExperimentAnalysis:
    """Compare the conditions of ``data``; pure (no capture, no output), deterministic in seed.

    With two observers' runs, each observer's are analysed alone; the first's (strace's)
    analysis is returned, holding the second's beside it (``observers``).
    """
    observers = data.observers
    if len(observers) < 2:
        return _analyse(data, observers[0] if observers else "strace", alpha, correction, seed)
    if len(observers) > 2:
        raise ExperimentError(f"at most two observers, got {', '.join(observers)}")
    first, second = (
        _analyse(data.observed(name), name, alpha, correction, seed) for name in observers
    )
    both = compare_observers(first, second, (observers[0], observers[1]), data)
    return dataclasses.replace(first, observers=both)


def _analyse(
    data: ExperimentData, observer: str, alpha: float, correction: str, seed: int
) -> ExperimentAnalysis:
    """The analysis of one observer's runs.

    Comparisons: every condition against its baseline. The self-check of a condition asks
    whether its runs' counts are identical: with 5 runs, splitting a condition in halves (2 vs
    3 runs) gives a smallest rank-test p of 0.2, a test that can never reject, so the
    independent control batch (normal-control) is the statistical control and identical counts
    the self-check. Raises ConditionError for a condition the catalogue does not hold.
    """
    summaries = {condition: _summary(data, condition) for condition in data.conditions}
    pairs = _pairs(data.conditions)
    comparisons = {
        (baseline, condition): compare_conditions(
            data.runs_of(baseline),
            data.runs_of(condition),
            alpha=alpha,
            correction=correction,
            seed=seed,
        )
        for baseline, condition in pairs
    }
    phase_shifts = {
        (baseline, condition): compare_tables(
            base, phase, alpha=alpha, correction=correction, pseudo_count=0.0, seed=seed
        )
        for baseline, condition in pairs
        if (base := summaries[baseline].phase) is not None
        and (phase := summaries[condition].phase) is not None
    }
    ambient = {
        condition: comparison.equivalence
        for (_, condition), comparison in comparisons.items()
        if condition_named(condition).kind is Kind.AMBIENT
    }
    sensitivity = {
        (baseline, condition): _sensitivity(summaries[baseline], summaries[condition], comparison)
        for (baseline, condition), comparison in comparisons.items()
    }
    controls = {
        baseline: _held(comparison)
        for (baseline, condition), comparison in comparisons.items()
        if condition_named(condition).kind is Kind.CONTROL
    }
    return ExperimentAnalysis(
        data=data, summaries=summaries, comparisons=comparisons, phase_shifts=phase_shifts,
        self_checks={c: _self_check(s) for c, s in summaries.items()}, ambient=ambient,
        sensitivity=sensitivity, controls=controls, alpha=alpha, correction=correction,
        seed=seed, observer=observer,
    )  # fmt: skip


def find_shift(
    analysis: ExperimentAnalysis, condition: str, syscall: str, baseline: str = "normal"
) -> Shift:
    """The count ``Shift`` of ``syscall`` from baseline to condition.

    Raises ExperimentError when the pair was not compared or neither side made the call.
    """
    try:
        comparison = analysis.comparisons[baseline, condition]
    except KeyError:
        raise ExperimentError(f"{condition} was not compared with {baseline}") from None
    for shift in comparison.shifts:
        if shift.name == syscall:
            return shift
    raise ExperimentError(f"neither {baseline} nor {condition} made a {syscall} call")

"""The findings of an analysis: which statements the statistics support, with their numbers.

Each :class:`Finding` holds the numbers behind it and its sentence, worded by
:mod:`syscall_lab.experiment.sentences`. A shift that is not significant is a finding too,
reported as such, never hidden.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from syscall_lab.analyse.stats import Comparison, Shift
from syscall_lab.conditions import NORMAL, Condition, Kind, condition_named
from syscall_lab.experiment.analysis import ConditionSummary, ExperimentAnalysis, SelfCheck
from syscall_lab.experiment.sentences import (
    AMBIENT_TIMING,
    ambient_sentence,
    comparison_sentence,
    cpu_sentence,
    overhead_sentence,
    self_check_sentence,
    shift_sentence,
    skipped_sentence,
    slight_sentence,
    vanished_sentence,
)

__all__ = ["SLIGHT_FACTOR", "Finding", "findings"]

# Significant shifts smaller than this factor either way are summed up in one sentence (the
# shift tables list each); larger ones get a sentence of their own.
SLIGHT_FACTOR = 1.5


@dataclass(frozen=True, slots=True)
class Finding:
    """One sentence of the report, generated from the statistics, and the numbers behind it.

    ``topic`` groups findings (``shift``, ``cpu``, ``control``, ``self``, ``ambient``,
    ``stress-ng``, ``overhead``, ``skipped``); ``significant`` is whether the statement reports a
    significant effect (None when no test is involved).
    """

    topic: str
    condition: str
    baseline: str | None
    sentence: str
    significant: bool | None
    numbers: Mapping[str, float] = field(default_factory=dict)


def _order(shift: Shift) -> tuple[bool, bool, float]:
    """Significant first, rises before falls, larger factors first."""
    size = abs(math.log(shift.ratio)) if 0 < shift.ratio < math.inf else math.inf
    return (not shift.significant, shift.direction != "up", -size)


def _shift_finding(condition: Condition, baseline: str, shift: Shift, topic: str) -> Finding:
    numbers = {
        "baseline_median": shift.baseline_median, "median": shift.median, "ratio": shift.ratio,
        "effect": shift.effect, "p_value": shift.p_value, "p_adjusted": shift.p_adjusted,
        "n": float(shift.n), "n_baseline": float(shift.n_baseline),
    }  # fmt: skip
    return Finding(
        topic, condition.name, baseline, shift_sentence(condition, shift), shift.significant,
        numbers,
    )  # fmt: skip


def _group_finding(
    condition: Condition, baseline: str, shifts: list[Shift], topic: str, sentence: str
) -> Finding:
    numbers = {
        "syscalls": float(len(shifts)),
        "max_p_adjusted": max(s.p_adjusted for s in shifts),
    }
    return Finding(topic, condition.name, baseline, sentence, True, numbers)


def _shift_findings(
    condition: Condition, baseline: str, comparison: Comparison, topic: str
) -> list[Finding]:
    """A finding per large or not significant shift (never hidden), then one for the calls of
    the baseline that vanish and one for the significant but slight shifts."""
    shifts = [
        shift
        for shift in sorted(comparison.shifts, key=_order)
        if shift.in_family or shift.difference != 0 or shift.effect != 0
    ]
    vanished = [s for s in shifts if s.significant and s.median == 0 < s.baseline_median]
    slight = [
        s
        for s in shifts
        if s.significant and s not in vanished and 1 / SLIGHT_FACTOR < s.ratio < SLIGHT_FACTOR
    ]
    found = [
        _shift_finding(condition, baseline, shift, topic)
        for shift in shifts
        if shift not in vanished and shift not in slight
    ]
    if vanished:
        sentence = vanished_sentence(condition, baseline, vanished)
        found.append(_group_finding(condition, baseline, vanished, topic, sentence))
    if slight:
        sentence = slight_sentence(condition, slight, SLIGHT_FACTOR)
        found.append(_group_finding(condition, baseline, slight, topic, sentence))
    return found


def _comparison_finding(
    topic: str, baseline: str, condition: Condition, comparison: Comparison
) -> Finding:
    significant = [shift for shift in comparison.shifts if shift.significant]
    distance = comparison.distance
    distance_significant = distance is not None and distance.p_value <= comparison.alpha
    numbers = (
        {}
        if distance is None
        else {
            "jsd_between": distance.between,
            "jsd_within": distance.within,
            "jsd_p_value": distance.p_value,
        }
    )
    numbers |= {
        "shifts_significant": float(len(significant)),
        "syscalls": float(len(comparison.shifts)),
        "testable": float(sum(shift.in_family for shift in comparison.shifts)),
        "identical": float(comparison.equivalence.identical),
    }
    flagged = bool(significant or distance_significant)
    sentence = comparison_sentence(baseline, condition, comparison, flagged)
    return Finding(topic, condition.name, baseline, sentence, flagged, numbers)


def _cpu_finding(analysis: ExperimentAnalysis, condition: Condition) -> Finding:
    base = analysis.summaries[NORMAL]
    cond = analysis.summaries[condition.name]
    shifts = {shift.name: shift for shift in analysis.phase_shifts[NORMAL, condition.name]}
    rate, gap = shifts["rate"], shifts["gap_share"]
    counted = analysis.comparisons[NORMAL, condition.name].shifts
    rises = [shift.name for shift in counted if shift.significant and shift.direction == "up"]
    numbers = {
        "calls": cond.calls, "baseline_calls": base.calls, "rate": rate.median,
        "baseline_rate": rate.baseline_median, "rate_p_adjusted": rate.p_adjusted,
        "gap_share": gap.median, "baseline_gap_share": gap.baseline_median,
        "gap_p_adjusted": gap.p_adjusted, "gap_effect": gap.effect,
    }  # fmt: skip
    return Finding(
        "cpu", condition.name, NORMAL, cpu_sentence(cond, base, rate, gap, rises),
        rate.significant and gap.significant, numbers,
    )  # fmt: skip


def _ambient_finding(analysis: ExperimentAnalysis, condition: Condition) -> Finding:
    comparison = analysis.comparisons[NORMAL, condition.name]
    same = comparison.equivalence
    numbers = {"identical": float(same.identical), "equivalent": float(same.equivalent)}
    timing = {shift.name: shift for shift in comparison.timing}
    for name in AMBIENT_TIMING:
        if (shift := timing.get(name)) is not None:
            numbers |= {
                f"{name}_baseline": shift.baseline_median, name: shift.median,
                f"{name}_effect": shift.effect, f"{name}_p_adjusted": shift.p_adjusted,
            }  # fmt: skip
    sentence = ambient_sentence(condition, comparison)
    return Finding("ambient", condition.name, NORMAL, sentence, None, numbers)


def _self_finding(check: SelfCheck) -> Finding:
    numbers = {"runs": float(check.runs), "spread": check.spread}
    return Finding("self", check.condition, None, self_check_sentence(check), None, numbers)


def _overhead_finding(summary: ConditionSummary) -> Finding | None:
    if summary.overhead is None:
        return None
    traced = summary.traced_seconds or math.nan
    untraced = summary.untraced_seconds or math.nan
    numbers = {
        "overhead": summary.overhead,
        "traced_seconds": traced,
        "untraced_seconds": untraced,
    }
    sentence = overhead_sentence(summary.condition, summary.overhead, traced, untraced)
    return Finding("overhead", summary.condition, None, sentence, None, numbers)


def findings(analysis: ExperimentAnalysis) -> tuple[Finding, ...]:
    """The report's findings, in order: for each stressed and stress-ng condition its shifts
    (significant or not: a shift that is not significant is reported as such; significant
    rises first, larger factors first), CPU stress's phase timing before its shifts; then the
    control, the self-checks, ambient load, observer overhead, what was skipped."""
    found: list[Finding] = []
    controls: list[Finding] = []
    for (baseline, name), comparison in analysis.comparisons.items():
        condition = condition_named(name)
        if condition.kind is Kind.CONTROL:
            controls.append(_comparison_finding("control", baseline, condition, comparison))
            continue
        if condition.kind is Kind.AMBIENT:
            continue  # the ambient findings follow the self-checks
        cpu = condition.kind is Kind.STRESSED and condition.resource == "cpu"
        if cpu and (NORMAL, name) in analysis.phase_shifts:
            found.append(_cpu_finding(analysis, condition))
        topic = "stress-ng" if condition.kind is Kind.STRESS_NG else "shift"
        found += _shift_findings(condition, baseline, comparison, topic)
    found += controls
    found += [_self_finding(check) for check in analysis.self_checks.values()]
    found += [_ambient_finding(analysis, condition_named(name)) for name in analysis.ambient]
    found += [
        finding
        for summary in analysis.summaries.values()
        if (finding := _overhead_finding(summary)) is not None
    ]
    found += [
        Finding("skipped", "", None, skipped_sentence(reason), None)
        for reason in analysis.data.skipped
    ]
    return tuple(found)

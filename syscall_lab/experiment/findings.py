"""The findings of an analysis: which statements the statistics support, with their numbers.

Each :class:`Finding` holds the numbers behind it and its sentence, worded by
:mod:`syscall_lab.experiment.sentences`. The findings come grouped by condition, a few per
condition: its count signature (every significant shift, in one sentence), the shifts that are
not significant with the shift that was detectable, its timing, its runs. A shift that is not
significant is a finding too, reported as such, never hidden.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from syscall_lab.analyse.stats import Shift
from syscall_lab.conditions import Condition, Kind, condition_named
from syscall_lab.experiment.analysis import ExperimentAnalysis
from syscall_lab.experiment.sentences import (
    STATED_TIMING,
    ambient_sentence,
    control_sentence,
    count_match_sentence,
    cpu_sentence,
    observer_sentence,
    order_sentence,
    overhead_sentence,
    runs_sentence,
    signature_sentence,
    skipped_sentence,
    timing_sentence,
    unmoved_sentence,
)

__all__ = ["TOPICS", "Finding", "findings"]

TOPICS: dict[str, str] = {
    "order": "how the runs were captured",
    "signature": "the syscall counts that shift significantly",
    "unmoved": "the syscall counts that do not, and the shift that was detectable",
    "phase": "CPU stress's measured phase: its rate and its longest gap",
    "timing": "latency, rate and gaps",
    "control": "a control batch against its baseline",
    "ambient": "a baseline beside an ambient load: counts and timing",
    "runs": "the condition's runs against each other, and its observer overhead",
    "overhead": "how much each observer slowed the runs",
    "counts test": "each condition's counts under both observers",
    "observers": "a comparison under both observers: which count and timing shifts hold",
    "skipped": "what the experiment left out",
}
"""Each topic of a finding, and what its sentence is about."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One sentence of the report, generated from the statistics, and the numbers behind it.

    ``topic`` is one of :data:`TOPICS`; ``condition`` the condition it is about (empty for the
    experiment as a whole), ``baseline`` the one it is compared with. ``significant`` is
    whether the statement reports a significant effect (None when no test is involved).
    """

    topic: str
    condition: str
    baseline: str | None
    sentence: str
    significant: bool | None
    numbers: Mapping[str, float] = field(default_factory=dict)


def _order(shift: Shift) -> tuple[bool, float, str]:
    """Larger factors first (either way), then by name."""
    size = abs(math.log(shift.ratio)) if 0 < shift.ratio < math.inf else math.inf
    return (shift.direction != "up", -size, shift.name)


def _compared(analysis: ExperimentAnalysis, condition: Condition) -> list[Finding]:
    """The findings of a stressed or stress-ng condition against its baseline."""
    baseline = condition.baseline or ""
    comparison = analysis.comparisons[baseline, condition.name]
    sensitivity = analysis.sensitivity[baseline, condition.name]
    found = []
    phase = {
        shift.name: shift for shift in analysis.phase_shifts.get((baseline, condition.name), ())
    }
    if condition.kind is Kind.STRESSED and condition.resource == "cpu" and phase:
        rate, gap = phase["rate"], phase["gap_share"]
        rises = [s.name for s in comparison.shifts if s.significant and s.direction == "up"]
        summary, base = analysis.summaries[condition.name], analysis.summaries[baseline]
        numbers = {
            "calls": summary.calls, "baseline_calls": base.calls, "rate": rate.median,
            "baseline_rate": rate.baseline_median, "rate_p_adjusted": rate.p_adjusted,
            "gap_share": gap.median, "baseline_gap_share": gap.baseline_median,
            "gap_p_adjusted": gap.p_adjusted, "gap_effect": gap.effect,
        }  # fmt: skip
        sentence = cpu_sentence(summary, base, rate, gap, rises)
        significant = rate.significant and gap.significant
        found.append(Finding("phase", condition.name, baseline, sentence, significant, numbers))
    shifted = sorted((s for s in comparison.shifts if s.significant), key=_order)
    if shifted:
        numbers = {
            "syscalls": float(len(shifted)),
            "max_p_adjusted": max(s.p_adjusted for s in shifted),
            **{f"ratio_{s.name}": s.ratio for s in shifted},
        }
        sentence = signature_sentence(condition, baseline, shifted)
        found.append(Finding("signature", condition.name, baseline, sentence, True, numbers))
    quiet = [s for s in comparison.shifts if not s.significant]
    if quiet:
        detectable = [d.shift for d in sensitivity.counts]
        numbers = {"syscalls": float(len(quiet)), "max_detectable": max(detectable)}
        sentence = unmoved_sentence(condition, quiet, sensitivity)
        found.append(Finding("unmoved", condition.name, baseline, sentence, False, numbers))
    timed = [s for s in comparison.timing if s.name in STATED_TIMING]
    if timed:
        numbers = {f"{s.name}_ratio": s.ratio for s in timed}
        sentence = timing_sentence(condition, comparison, sensitivity)
        significant = any(s.significant for s in timed)
        found.append(Finding("timing", condition.name, baseline, sentence, significant, numbers))
    return found


def _timing_numbers(analysis: ExperimentAnalysis, baseline: str, name: str) -> dict[str, float]:
    comparison = analysis.comparisons[baseline, name]
    detectable = {d.name: d.shift for d in analysis.sensitivity[baseline, name].timing}
    numbers: dict[str, float] = {}
    for shift in comparison.timing:
        if shift.name in STATED_TIMING:
            numbers |= {
                f"{shift.name}_baseline": shift.baseline_median, shift.name: shift.median,
                f"{shift.name}_effect": shift.effect, f"{shift.name}_p_value": shift.p_value,
                f"{shift.name}_p_adjusted": shift.p_adjusted,
                f"{shift.name}_detectable": detectable.get(shift.name, math.nan),
            }  # fmt: skip
    return numbers


def _against(analysis: ExperimentAnalysis, condition: Condition) -> list[Finding]:
    """The finding of a control or an ambient condition against its baseline."""
    baseline = condition.baseline or ""
    comparison = analysis.comparisons[baseline, condition.name]
    sensitivity = analysis.sensitivity[baseline, condition.name]
    same = comparison.equivalence
    numbers = {
        "identical": float(same.identical),
        "equivalent": float(same.equivalent),
        "shifts_significant": float(sum(s.significant for s in comparison.shifts)),
        "syscalls": float(len(comparison.shifts)),
        "max_detectable": max((d.shift for d in sensitivity.counts), default=math.nan),
    }
    if condition.kind is Kind.CONTROL:
        held = analysis.controls[baseline]
        if comparison.distance is not None:
            numbers["jsd_p_value"] = comparison.distance.p_value
        sentence = control_sentence(baseline, condition, comparison, sensitivity, held)
        return [Finding("control", condition.name, baseline, sentence, not held, numbers)]
    numbers |= _timing_numbers(analysis, baseline, condition.name)
    sentence = ambient_sentence(condition, comparison, sensitivity)
    significant = any(s.significant for s in (*comparison.shifts, *comparison.timing))
    return [Finding("ambient", condition.name, baseline, sentence, significant, numbers)]


def _runs(analysis: ExperimentAnalysis, name: str) -> Finding:
    check, summary = analysis.self_checks[name], analysis.summaries[name]
    numbers = {"runs": float(check.runs), "spread": check.spread}
    if summary.overhead is not None:
        numbers |= {
            "overhead": summary.overhead,
            "traced_seconds": summary.traced_seconds or math.nan,
            "untraced_seconds": summary.untraced_seconds or math.nan,
        }
    return Finding("runs", name, None, runs_sentence(check, summary), None, numbers)


def _observer_findings(analysis: ExperimentAnalysis) -> list[Finding]:
    """The experiment-wide findings of two observers: each one's overhead, the counts test."""
    both = analysis.observers
    if both is None:
        return []
    ratios = {
        name: [s.overhead for s in result.summaries.values() if s.overhead is not None]
        for name, result in zip(both.observers, (analysis, both.second), strict=True)
    }
    numbers = {f"overhead_{name}": float(np.median(r)) for name, r in ratios.items() if r}
    found = [Finding("overhead", "", None, overhead_sentence(ratios), None, numbers)]
    numbers = {
        "conditions": float(len(both.counts)),
        "equal": float(sum(match.equal for match in both.counts)),
    }
    sentence = count_match_sentence(both.counts, both.observers)
    found.append(Finding("counts test", "", None, sentence, None, numbers))
    return found


def _under_both(analysis: ExperimentAnalysis, condition: Condition) -> list[Finding]:
    """A comparison under both observers: its count shifts and its timing claims."""
    both = analysis.observers
    baseline = condition.baseline or ""
    if both is None or (baseline, condition.name) not in both.second.comparisons:
        return []
    counts = both.of_pair(baseline, condition.name, "count")
    timing = [
        a
        for kind in ("timing", "phase")
        for a in both.of_pair(baseline, condition.name, kind)
        if (kind == "phase" or a.name in STATED_TIMING) and a.verdict not in ("neither", "untested")
    ]
    verdicts = [a.verdict for a in (*counts, *timing)]
    numbers = {
        f"{kind}_{verdict.replace(' ', '_')}": float(sum(a.verdict == verdict for a in group))
        for kind, group in (("counts", counts), ("timing", timing))
        for verdict in ("both", "first only", "second only", "opposite")
    }
    sentence = observer_sentence(condition, baseline, counts, timing, both.observers)
    significant = any(v not in ("neither", "untested") for v in verdicts) if verdicts else None
    return [Finding("observers", condition.name, baseline, sentence, significant, numbers)]


def findings(analysis: ExperimentAnalysis) -> tuple[Finding, ...]:
    """The report's findings, in order: how the runs were captured (and, under two observers,
    each one's overhead and the counts test); then for each condition (catalogue order) its
    comparison with its baseline (the CPU phase, the count signature, the counts that do not
    shift, the timing; or the control's or the ambient load's one finding; under two observers,
    which of its shifts hold under both), then its runs; last what was skipped."""
    data = analysis.observers.whole if analysis.observers is not None else analysis.data
    found: list[Finding] = []
    if data.runs:
        repeats = [run.repeat for run in data.runs]
        sentence = order_sentence(
            len(data.rounds), len(data.runs), len(data.conditions), data.settings.seed,
            in_rounds=repeats == sorted(repeats), shuffled=len(set(data.rounds)) > 1,
            observers=data.observers,
        )  # fmt: skip
        numbers = {"rounds": float(len(data.rounds)), "runs": float(len(data.runs))}
        found.append(Finding("order", "", None, sentence, None, numbers))
    found += _observer_findings(analysis)
    for name in analysis.summaries:
        condition = condition_named(name)
        if (condition.baseline, name) in analysis.comparisons:
            if condition.kind in (Kind.CONTROL, Kind.AMBIENT):
                found += _against(analysis, condition)
            else:
                found += _compared(analysis, condition)
            if condition.kind is not Kind.CONTROL:
                found += _under_both(analysis, condition)
        found.append(_runs(analysis, name))
    found += [
        Finding("skipped", "", None, skipped_sentence(reason), None) for reason in data.skipped
    ]
    return tuple(found)

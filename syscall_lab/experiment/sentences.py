"""The English of the findings: one function per kind of sentence, numbers written by
:mod:`syscall_lab.formatting`.

Each function takes the records a finding is about (shifts, comparisons, summaries) and returns
its sentence; which findings there are, and the numbers behind them, is
:mod:`syscall_lab.experiment.findings`' business.
"""

from __future__ import annotations

from collections.abc import Sequence

from syscall_lab.analyse.stats import Comparison, Distance, Shift
from syscall_lab.conditions import Condition
from syscall_lab.experiment.analysis import ConditionSummary, SelfCheck
from syscall_lab.formatting import effect, factor, p_value, percent, seconds

__all__ = [
    "AMBIENT_TIMING",
    "ambient_sentence",
    "comparison_sentence",
    "cpu_sentence",
    "overhead_sentence",
    "self_check_sentence",
    "shift_sentence",
    "skipped_sentence",
    "slight_sentence",
    "vanished_sentence",
]

AMBIENT_TIMING: dict[str, tuple[str, float, str]] = {
    "latency_p99": ("p99 latency", 1e3, " ms"),
    "slow_calls": ("calls over 1 ms", 1.0, ""),
}
"""The timing metrics an ambient finding gives: metric -> its words, scale and unit."""

_VERBS = {"up": "rises", "down": "falls", "none": "stays"}


def shift_sentence(condition: Condition, shift: Shift) -> str:
    """``Under cpu stress read falls from 8 to 0 calls per run (x0.111, ...).``; a shift that
    is not significant says so, and whether any test on these runs could have been."""
    verdict = (
        ""
        if shift.significant
        else "; not significant"
        if shift.in_family
        else "; not significant: no test on these runs could be"
    )
    return (
        f"Under {condition.description} {shift.name} {_VERBS[shift.direction]} from "
        f"{shift.baseline_median:g} to {shift.median:g} calls per run ({factor(shift.ratio)}, "
        f"Cliff's delta {effect(shift.effect)}, p_adj = {p_value(shift.p_adjusted)}, "
        f"{shift.n} vs {shift.n_baseline} runs{verdict})."
    )


def _shifts_sentence(condition: Condition, what: str, shifts: Sequence[Shift]) -> str:
    effects = sorted({round(s.effect, 2) for s in shifts})
    deltas = (
        effect(effects[0])
        if len(effects) == 1
        else f"{effect(effects[0])} to {effect(effects[-1])}"
    )
    worst = max(s.p_adjusted for s in shifts)
    runs = {(s.n, s.n_baseline) for s in shifts}
    sizes = ", ".join(f"{n} vs {n_baseline}" for n, n_baseline in sorted(runs))
    return (
        f"Under {condition.description} {what}: Cliff's delta {deltas}, "
        f"p_adj <= {p_value(worst)}, {sizes} runs."
    )


def vanished_sentence(condition: Condition, baseline: str, shifts: Sequence[Shift]) -> str:
    """The baseline's calls that fall to none, each with its count, in one sentence."""
    listed = ", ".join(f"{s.name} {s.baseline_median:g}" for s in shifts)
    return _shifts_sentence(
        condition,
        f"{len(shifts)} syscalls of {baseline}'s phase fall to 0 calls per run ({listed})",
        shifts,
    )


def slight_sentence(condition: Condition, shifts: Sequence[Shift], limit: float) -> str:
    """Significant shifts by less than ``limit`` either way, in one sentence."""
    listed = ", ".join(f"{s.name} {s.baseline_median:g} -> {s.median:g}" for s in shifts)
    return _shifts_sentence(
        condition,
        f"{len(shifts)} more syscalls shift significantly but by less than {factor(limit)} "
        f"either way ({listed})",
        shifts,
    )


def _distance(distance: Distance | None) -> str:
    if distance is None:
        return "no distance (a run made no call)"
    return (
        f"JSD {distance.between:.3f} between vs {distance.within:.3f} within, "
        f"p = {p_value(distance.p_value)}"
    )


def comparison_sentence(
    baseline: str, condition: Condition, comparison: Comparison, significant: bool
) -> str:
    """A whole comparison: the syscalls that shift significantly and the distance, or that
    none does (``significant`` is whether a shift or the distance is)."""
    shifted = [shift for shift in comparison.shifts if shift.significant]
    tested = [shift for shift in comparison.shifts if shift.in_family]
    distance = _distance(comparison.distance)
    if significant:
        names = ", ".join(shift.name for shift in shifted) or "none"
        verdict = f"significant shift in {len(shifted)} of {len(comparison.shifts)} syscalls"
        return (
            f"{baseline.capitalize()} vs {condition.description}: {verdict} ({names}; {distance})."
        )
    identical = " (counts identical in every run)" if comparison.equivalence.identical else ""
    return (
        f"{baseline.capitalize()} vs {condition.description}: no significant shift (0 of "
        f"{len(comparison.shifts)} syscalls, {len(tested)} testable{identical}; {distance})."
    )


def cpu_sentence(
    summary: ConditionSummary,
    baseline: ConditionSummary,
    rate: Shift,
    gap: Shift,
    rises: Sequence[str],
) -> str:
    """CPU stress: its count signature (the syscalls that rise), its calls, and how its
    phase's syscall rate and longest gap move."""
    signature = (
        "has no count signature" if not rises else f"raises {', '.join(rises)} significantly"
    )
    return (
        f"CPU stress {signature}: its phase makes {summary.calls:g} syscalls per run (normal: "
        f"{baseline.calls:g}); the syscall rate falls from {rate.baseline_median:.0f}/s to "
        f"{rate.median:.0f}/s (p_adj = {p_value(rate.p_adjusted)}) and the longest gap grows "
        f"from {percent(gap.baseline_median, 0)} to {percent(gap.median, 0)} of the phase "
        f"(Cliff's delta {effect(gap.effect)}, p_adj = {p_value(gap.p_adjusted)})."
    )


def ambient_sentence(condition: Condition, comparison: Comparison) -> str:
    """An ambient load: whether the counts stay, and how the :data:`AMBIENT_TIMING` move."""
    same = comparison.equivalence
    counts = (
        "keeps identical syscall counts"
        if same.identical
        else "keeps equivalent syscall counts"
        if same.equivalent
        else f"changes its syscall counts ({', '.join(same.outside)} outside "
        f"+-{percent(same.margin, 0)})"
    )
    timing = {shift.name: shift for shift in comparison.timing}
    parts = []
    for name, (label, scale, unit) in AMBIENT_TIMING.items():
        shift = timing.get(name)
        if shift is None:
            continue
        verdict = "significant" if shift.significant else "not significant"
        parts.append(
            f"{label} {shift.baseline_median * scale:.3g}{unit} -> {shift.median * scale:.3g}"
            f"{unit} (Cliff's delta {effect(shift.effect)}, p_adj = "
            f"{p_value(shift.p_adjusted)}, {verdict})"
        )
    return f"{condition.description.capitalize()} {counts}; " + "; ".join(parts) + "."


def self_check_sentence(check: SelfCheck) -> str:
    """Whether a condition's runs make identical counts, else where they vary most."""
    if check.identical:
        return f"{check.condition}: its {check.runs} runs make identical syscall counts."
    return (
        f"{check.condition}: counts vary over its {check.runs} runs (largest spread "
        f"{percent(check.spread, 0)} of the median, in {check.worst})."
    )


def overhead_sentence(condition: str, overhead: float, traced: float, untraced: float) -> str:
    """The observer overhead of a condition: traced / untraced wall time (medians)."""
    return (
        f"Observer overhead of {condition}: traced / untraced wall time {factor(overhead, 2)} "
        f"(median of the runs' ratios; medians {seconds(traced)} traced, {seconds(untraced)} "
        "untraced)."
    )


def skipped_sentence(reason: str) -> str:
    """What the experiment left out, and why."""
    return f"Skipped: {reason}."

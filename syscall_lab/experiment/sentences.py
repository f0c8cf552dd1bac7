"""The English of the findings: one function per kind of sentence, numbers written by
:mod:`syscall_lab.formatting`.

Each function takes the records a finding is about (shifts, detectable shifts, comparisons,
summaries) and returns its sentence; which findings there are, and the numbers behind them, is
:mod:`syscall_lab.experiment.findings`' business. A shift that is not significant is written
with the shift the test could have detected ("detectable +-X"), so that "not significant"
reads as "no shift larger than X".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from syscall_lab.analyse.stats import Comparison, DetectableShift, Distance, Shift
from syscall_lab.conditions import Condition
from syscall_lab.experiment.analysis import ConditionSummary, SelfCheck, Sensitivity
from syscall_lab.experiment.observers import Agreement, CountMatch
from syscall_lab.formatting import (
    TIMING_METRICS,
    effect,
    factor,
    number,
    p_value,
    percent,
    seconds,
    timing,
)

__all__ = [
    "LISTED",
    "OBSERVER_NAMES",
    "SLIGHT_FACTOR",
    "STATED_TIMING",
    "ambient_sentence",
    "control_sentence",
    "count_match_sentence",
    "cpu_sentence",
    "observer_sentence",
    "order_sentence",
    "overhead_sentence",
    "runs_sentence",
    "signature_sentence",
    "skipped_sentence",
    "timing_sentence",
    "unmoved_sentence",
]

STATED_TIMING: tuple[str, ...] = (
    "latency_median",
    "latency_p99",
    "rate",
    "slow_calls",
    "gap_max",
)
"""The timing metrics the findings state for every comparison (the report's tables hold all)."""

SLIGHT_FACTOR = 1.5
"""Significant shifts smaller than this factor either way are listed apart, without a factor."""

LISTED = 6
"""At most this many syscalls that vary but do not shift are named in a sentence."""


def _span(shifts: Sequence[Shift]) -> str:
    """``Cliff's delta 1.00, p_adj <= 0.008, 5 vs 5 runs`` over a group of shifts."""
    effects = sorted({round(s.effect, 2) for s in shifts})
    deltas = (
        effect(effects[0])
        if len(effects) == 1
        else f"{effect(effects[0])} to {effect(effects[-1])}"
    )
    worst = max(s.p_adjusted for s in shifts)
    sizes = ", ".join(f"{n} vs {m}" for n, m in sorted({(s.n, s.n_baseline) for s in shifts}))
    return f"Cliff's delta {deltas}, p_adj <= {p_value(worst)}, {sizes} runs"


def _moved(shift: Shift) -> str:
    return f"{shift.name} {shift.baseline_median:g} -> {shift.median:g} ({factor(shift.ratio)})"


def signature_sentence(condition: Condition, baseline: str, shifts: Sequence[Shift]) -> str:
    """The significant count shifts of a condition in one sentence: rises and falls with their
    factors (largest first), the baseline's calls that fall to none, the slight ones."""
    vanished = [s for s in shifts if s.median == 0 < s.baseline_median]
    slight = [
        s for s in shifts if s not in vanished and 1 / SLIGHT_FACTOR < s.ratio < SLIGHT_FACTOR
    ]
    rises = [s for s in shifts if s.direction == "up" and s not in slight]
    falls = [s for s in shifts if s.direction == "down" and s not in slight + vanished]
    parts = []
    if rises:
        parts.append("up " + ", ".join(_moved(s) for s in rises))
    if falls:
        parts.append("down " + ", ".join(_moved(s) for s in falls))
    if vanished:
        listed = ", ".join(f"{s.name} {s.baseline_median:g}" for s in vanished)
        parts.append(f"to 0 calls, of {baseline}'s phase: {listed}")
    if slight:
        listed = ", ".join(f"{s.name} {s.baseline_median:g} -> {s.median:g}" for s in slight)
        parts.append(f"by less than {factor(SLIGHT_FACTOR)} either way: {listed}")
    return (
        f"Under {condition.description} {len(shifts)} syscall"
        f"{'s shift' if len(shifts) != 1 else ' shifts'} significantly ({_span(shifts)}): "
        + "; ".join(parts)
        + "."
    )


def _detectable(detectable: DetectableShift) -> str:
    """``detectable +-95 calls (88%)`` (of the baseline's median), or why nothing was."""
    if not math.isfinite(detectable.shift):
        return "no test on these runs could detect a shift"
    relative = f" ({percent(detectable.relative, 0)})" if math.isfinite(detectable.relative) else ""
    return f"detectable ±{number(detectable.shift)} calls{relative}"


def _unmoved(shifts: Sequence[Shift], sensitivity: Sensitivity) -> str:
    """The count shifts that are not significant: how many make the same count in every run
    (one call detectable), and the ones that vary, each with its detectable shift."""
    detectable = {d.name: d for d in sensitivity.counts}
    same = [s for s in shifts if detectable[s.name].spread == 0 and s.difference == 0]
    varying = sorted(
        (s for s in shifts if s not in same),
        key=lambda s: (-abs(s.effect), -abs(s.difference), s.name),
    )
    parts = []
    if same:
        seen = all(math.isfinite(detectable[s.name].shift) for s in same)
        parts.append(
            f"{len(same)} the same in every run, where a shift of 1 call per run would have "
            "been detected"
            if seen
            else f"{len(same)} the same in every run, though no test on these runs could "
            "detect a shift"
        )
    named = [
        f"{s.name} {s.baseline_median:g} -> {s.median:g} (Cliff's delta {effect(s.effect)}, "
        f"{_detectable(detectable[s.name])})"
        for s in varying[:LISTED]
    ]
    if len(varying) > LISTED:
        named.append(f"and {len(varying) - LISTED} more (see the shift tables)")
    if named:
        parts.append(", ".join(named))
    return "; ".join(parts)


def unmoved_sentence(
    condition: Condition, shifts: Sequence[Shift], sensitivity: Sensitivity
) -> str:
    """The count shifts of a condition that are not significant, with what was detectable."""
    return (
        f"Under {condition.description} no significant shift in the other {len(shifts)} "
        f"syscall{'s' if len(shifts) != 1 else ''}: {_unmoved(shifts, sensitivity)}."
    )


def _timing_shift(shift: Shift, detectable: Mapping[str, DetectableShift]) -> str:
    """``median latency 40 -> 11 µs (Cliff's delta -0.36, p_adj = 0.690; detectable +-38
    µs)``, or with its factor when significant."""
    words = TIMING_METRICS[shift.name].words
    moved = (
        f"{words} {timing(shift.name, shift.baseline_median, unit=False)} -> "
        f"{timing(shift.name, shift.median)}"
    )
    tests = f"Cliff's delta {effect(shift.effect)}, p_adj = {p_value(shift.p_adjusted)}"
    if shift.significant:
        return f"{moved} ({factor(shift.ratio)}, {tests})"
    found = detectable[shift.name]
    if not math.isfinite(found.shift):
        return f"{moved} ({tests}; no test on these runs could detect a shift)"
    if found.shift == 0:
        return f"{moved} ({tests}; any shift would have been detected: the runs do not vary)"
    return f"{moved} ({tests}; detectable ±{timing(shift.name, found.shift)})"


def _timing(comparison: Comparison, sensitivity: Sensitivity) -> str:
    """The :data:`STATED_TIMING` metrics, then, when some could not reach significance among
    the timing metrics corrected together, that their detectable shift is for each alone."""
    detectable = {d.name: d for d in sensitivity.timing}
    stated = [shift for shift in comparison.timing if shift.name in STATED_TIMING]
    stated.sort(key=lambda shift: STATED_TIMING.index(shift.name))
    text = "; ".join(_timing_shift(shift, detectable) for shift in stated)
    alone = [TIMING_METRICS[s.name].words for s in stated if s.name in sensitivity.alone]
    if alone:
        text += (
            f" ({', '.join(alone)}: no lone shift could be significant among the "
            f"{len(comparison.timing)} timing metrics corrected together on these runs, so "
            "the detectable shift is for the metric tested alone)"
        )
    return text


def timing_sentence(condition: Condition, comparison: Comparison, sensitivity: Sensitivity) -> str:
    """How the :data:`STATED_TIMING` metrics move: the significant ones with their factor,
    the others with what was detectable (see
    :class:`~syscall_lab.experiment.analysis.Sensitivity` for a metric tested alone)."""
    return f"Timing under {condition.description}: {_timing(comparison, sensitivity)}."


def _distance(distance: Distance | None) -> str:
    if distance is None:
        return "no distance (a run made no call)"
    return (
        f"JSD {distance.between:.3f} between vs {distance.within:.3f} within, "
        f"p = {p_value(distance.p_value)}"
    )


def control_sentence(
    baseline: str, condition: Condition, comparison: Comparison, sensitivity: Sensitivity,
    held: bool,
) -> str:  # fmt: skip
    """A control batch against its baseline: no significant shift, with what would have been
    detected, or the syscalls that shift (``held`` is whether none and no distance does)."""
    shifts = comparison.shifts
    distance = _distance(comparison.distance)
    if not held:
        shifted = [shift for shift in shifts if shift.significant]
        names = ", ".join(shift.name for shift in shifted) or "none"
        return (
            f"{baseline.capitalize()} vs {condition.description}: the control fails, "
            f"significant shift in {len(shifted)} of {len(shifts)} syscalls ({names}; "
            f"{distance})."
        )
    return (
        f"{baseline.capitalize()} vs {condition.description}: no significant shift in "
        f"{len(shifts)} syscalls ({_unmoved(shifts, sensitivity)}; {distance})."
    )


def ambient_sentence(condition: Condition, comparison: Comparison, sensitivity: Sensitivity) -> str:
    """A baseline beside an ambient load: whether its counts stay (and what was detectable),
    and how the :data:`STATED_TIMING` metrics move."""
    same = comparison.equivalence
    shifted = [shift for shift in comparison.shifts if shift.significant]
    if shifted:
        moved = ", ".join(_moved(s) for s in shifted)
        counts = f"changes its syscall counts ({_span(shifted)}): {moved}"
    else:
        kept = (
            "keeps identical syscall counts"
            if same.identical
            else f"keeps equivalent syscall counts (within ±{percent(same.margin, 0)})"
            if same.equivalent
            else "shifts no syscall count significantly"
        )
        counts = f"{kept} ({_unmoved(comparison.shifts, sensitivity)})"
    return f"{condition.description.capitalize()} {counts}; {_timing(comparison, sensitivity)}."


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


def runs_sentence(check: SelfCheck, summary: ConditionSummary) -> str:
    """A condition's runs: whether they make identical counts (else where they vary most),
    and its observer overhead (traced / untraced wall time, medians)."""
    if check.identical:
        counts = f"its {check.runs} runs make identical syscall counts"
    else:
        counts = (
            f"counts vary over its {check.runs} runs (largest spread "
            f"{percent(check.spread, 0)} of the median, in {check.worst})"
        )
    overhead = ""
    if summary.overhead is not None:
        traced = summary.traced_seconds or math.nan
        untraced = summary.untraced_seconds or math.nan
        overhead = (
            f"; observer overhead {factor(summary.overhead, 2)} (median of the runs' traced / "
            f"untraced wall time; medians {seconds(traced)} traced, {seconds(untraced)} "
            "untraced)"
        )
    return f"{check.condition}: {counts}{overhead}."


def order_sentence(
    rounds: int, runs: int, conditions: int, seed: int, in_rounds: bool, shuffled: bool,
    observers: Sequence[str] = ("strace",),
) -> str:  # fmt: skip
    """How the runs were captured: in rounds of every condition (under each of ``observers``,
    when more than one) (``in_rounds``), in an order that changes from round to round
    (``shuffled``, by the seed) or not."""
    if not in_rounds:
        return (
            f"The {runs} runs were captured {rounds} per condition, not round by round: some "
            "conditions were captured after the others (the order is listed under Environment "
            "and method)."
        )
    order = (
        f"in an order shuffled afresh for each round (seed {seed}; experiment.json keeps it): "
        "ambient runs were interleaved with all the others"
        if shuffled
        else "in the same order in every round"
    )
    under = (
        f" under each observer ({' and '.join(OBSERVER_NAMES.get(o, o) for o in observers)}; "
        "the two observers' runs interleaved in the same rounds)"
        if len(observers) > 1
        else ""
    )
    return (
        f"The {runs} runs were captured in {rounds} rounds, each one run of every one of the "
        f"{conditions} conditions{under}, {order}."
    )


def skipped_sentence(reason: str) -> str:
    """What the experiment left out, and why."""
    return f"Skipped: {reason}."


OBSERVER_NAMES: dict[str, str] = {"strace": "strace", "ebpf": "eBPF"}
"""The observers as a sentence names them."""

_PHASE_WORDS = {
    "rate": "the phase's call rate",
    "gap_max": "the phase's longest gap",
    "gap_share": "the longest gap's share of the phase",
    "phase_seconds": "the phase's length",
    "calls": "the phase's calls",
}


def overhead_sentence(observers: Mapping[str, Sequence[float]]) -> str:
    """How much each observer slowed the runs: the median over conditions of each condition's
    median traced / untraced wall time, and its range."""
    parts = [
        f"{OBSERVER_NAMES.get(name, name)} {factor(float(np.median(ratios)), 2)} "
        f"({factor(min(ratios), 2)} to {factor(max(ratios), 2)})"
        for name, ratios in observers.items()
        if ratios
    ]
    return (
        "Observer overhead, traced / untraced wall time (the median over conditions of each "
        f"condition's median; its range): {'; '.join(parts)}. The eBPF observer's start-up "
        "(bpftrace compiling and attaching its probes, before the command starts) is not in it."
    )


def count_match_sentence(matches: Sequence[CountMatch], observers: Sequence[str]) -> str:
    """Whether each condition's median counts are the same under both observers, and where
    not, which syscalls differ."""
    first, second = (OBSERVER_NAMES.get(o, o) for o in observers)
    equal = [m.condition for m in matches if m.equal]
    differ = [m for m in matches if not m.equal]
    sentence = (
        f"The counts test: each syscall's median count is the same under {first} and {second} "
        f"in {len(equal)} of {len(matches)} conditions"
    )
    if not differ:
        return sentence + "."
    listed = "; ".join(
        f"{m.condition} ("
        + ", ".join(f"{name} {a:g} vs {b:g}" for name, a, b in m.differences[:LISTED])
        + (f" and {len(m.differences) - LISTED} more" if len(m.differences) > LISTED else "")
        + ")"
        for m in differ
    )
    return (
        f"{sentence}; they differ in {listed}. Why is not tested here: a count that varies "
        "between runs under one observer (a threaded program's futex calls) can differ "
        "between observers by chance, or by how much each slows the program."
    )


def _claim(agreement: Agreement, observers: Sequence[str]) -> str:
    """``median latency x3.1 under strace (p_adj 0.008), x1.02 under eBPF (p_adj 0.69)``."""
    words = (
        _PHASE_WORDS.get(agreement.name, agreement.name)
        if agreement.kind == "phase"
        else TIMING_METRICS[agreement.name].words
        if agreement.name in TIMING_METRICS
        else agreement.name
    )
    sides = []
    for name, shift in zip(observers, (agreement.first, agreement.second), strict=True):
        label = OBSERVER_NAMES.get(name, name)
        if shift is None:
            sides.append(f"untested under {label}")
            continue
        mark = "" if shift.significant else ", not significant"
        sides.append(
            f"{factor(shift.ratio)} under {label} (p_adj {p_value(shift.p_adjusted)}{mark})"
        )
    return f"{words} {', '.join(sides)}"


def observer_sentence(
    condition: Condition,
    baseline: str,
    counts: Sequence[Agreement],
    timing: Sequence[Agreement],
    observers: Sequence[str],
) -> str:
    """One comparison under both observers: how many of the first observer's significant count
    shifts hold under the second (and which do not), and, for each timing claim significant
    under either (``timing``), both factors and whether it survives the quieter observer."""
    first, second = (OBSERVER_NAMES.get(o, o) for o in observers)
    shifted = [a for a in counts if a.verdict in ("both", "first only", "opposite")]
    held = [a for a in shifted if a.verdict == "both"]
    lost = [a.name for a in shifted if a.verdict != "both"]
    gained = [a.name for a in counts if a.verdict == "second only"]
    if shifted:
        count_part = (
            f"{len(held)} of the {len(shifted)} count shifts significant under {first} hold "
            f"under {second}"
        )
        if lost:
            count_part += f" (not: {', '.join(lost)})"
    else:
        count_part = f"no count shift is significant under {first}"
    if gained:
        count_part += f"; significant under {second} alone: {', '.join(gained)}"
    survives = [a for a in timing if a.verdict == "both"]
    falls = [a for a in timing if a.verdict in ("first only", "opposite")]
    appears = [a for a in timing if a.verdict == "second only"]
    parts = []
    if survives:
        parts.append(f"survive {second}: " + "; ".join(_claim(a, observers) for a in survives))
    if falls:
        parts.append(
            f"do not survive {second} (strace's own slowdown): "
            + "; ".join(_claim(a, observers) for a in falls)
        )
    if appears:
        parts.append(
            f"appear under {second} alone: " + "; ".join(_claim(a, observers) for a in appears)
        )
    timing_part = (
        "timing claims " + "; ".join(parts)
        if parts
        else "no timing claim is significant under either observer"
    )
    sizes = sorted(
        {(s.n_baseline, s.n) for a in (*counts, *timing) for s in (a.first, a.second) if s}
    )
    runs = f" ({' / '.join(f'{b} vs {n}' for b, n in sizes)} runs)" if sizes else ""
    return (
        f"{condition.description.capitalize()} against {baseline}, under {first} and "
        f"{second}{runs}: {count_part}; {timing_part}."
    )

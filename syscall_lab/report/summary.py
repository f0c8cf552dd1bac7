"""The report's first screen and its findings: one row per condition, then the findings grouped
by condition.

A row says what changed under the condition against its baseline: the syscall counts that
shift significantly (largest first) or the largest shift that was detectable, the timing
metrics that shift, whether the baseline's control held, and which detectors separate it. Every
number comes computed; this module only chooses which to show and formats them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from syscall_lab.analyse.stats import Comparison, DetectableShift, Shift
from syscall_lab.conditions import Kind, condition_named
from syscall_lab.detect.on_conditions import SEPARATING_AUC, ExperimentDetection
from syscall_lab.experiment.analysis import DETECTION_POWER, ExperimentAnalysis
from syscall_lab.experiment.findings import TOPICS, Finding
from syscall_lab.experiment.sentences import STATED_TIMING
from syscall_lab.formatting import MISSING, TIMING_METRICS, number, ratio, timing
from syscall_lab.report.markup import figure_link, table, versus

__all__ = ["findings_section", "glance_section"]

_GLANCE_SHIFTS = 3  # syscalls named per row of the table at a glance
_GLANCE_TIMING = 2  # timing metrics named per row of the table at a glance
# The phase's metrics at a glance, where its calls cannot be timed (a phase without calls).
_PHASE_WORDS = {"rate": "phase's call rate", "gap_share": "longest gap / phase"}


def _arrow(shift: Shift) -> str:
    """An up arrow, the name and the ratio (a down arrow for a fall; "to 0" for a vanished call)."""
    if shift.median == 0 < shift.baseline_median:
        return f"↓ {shift.name} to 0"
    return f"{'↑' if shift.direction == 'up' else '↓'} {shift.name} {ratio(shift.ratio)}"


def _size(shift: Shift) -> float:
    return abs(math.log(shift.ratio)) if 0 < shift.ratio < math.inf else math.inf


def _named(items: Sequence[str], total: int) -> str:
    more = f" (+{total - len(items)} more)" if total > len(items) else ""
    return ", ".join(items) + more


def _detectable_counts(detectable: Sequence[DetectableShift]) -> str:
    """The largest detectable shift of the syscalls that vary, or one call when none does."""
    varying = [d for d in detectable if d.spread > 0]
    if not varying:
        return "±1 call detectable" if detectable else "no syscall"
    worst = max(varying, key=lambda d: (d.shift, d.name))
    if not math.isfinite(worst.shift):
        return f"{worst.name}: nothing detectable"
    return f"{worst.name} ±{number(worst.shift)} detectable"


def _glance_counts(comparison: Comparison, detectable: Sequence[DetectableShift]) -> str:
    shifted = sorted((s for s in comparison.shifts if s.significant), key=lambda s: -_size(s))
    if shifted:
        return _named([_arrow(s) for s in shifted[:_GLANCE_SHIFTS]], len(shifted))
    same = "identical" if comparison.equivalence.identical else "no shift"
    return f"{same}; {_detectable_counts(detectable)}"


def _glance_timing(
    comparison: Comparison, detectable: Sequence[DetectableShift], phase: Sequence[Shift]
) -> str:
    """The significant shifts of the stated timing metrics or, where the phase makes no call
    to time (CPU stress), of its rate and longest gap."""
    stated = [s for s in comparison.timing if s.name in STATED_TIMING]
    cells = [f"{TIMING_METRICS[s.name].words} {ratio(s.ratio)}" for s in stated if s.significant]
    cells = cells or [
        f"{_PHASE_WORDS[s.name]} {ratio(s.ratio)}"
        for s in phase
        if s.significant and s.name in _PHASE_WORDS
    ]
    if cells:
        return _named(cells[:_GLANCE_TIMING], len(cells))
    median = next((d for d in detectable if d.name == "latency_median"), None)
    if median is None or not math.isfinite(median.shift):
        return "no shift"
    if median.shift == 0:
        return "no shift; the runs do not vary"
    return f"no shift; median latency ±{timing('latency_median', median.shift)} detectable"


def _glance_detectors(detection: ExperimentDetection | None, condition: str) -> str:
    if detection is None:
        return MISSING
    scored = [d for d in detection.separations if d.condition == condition]
    if not scored:
        return MISSING
    separating = detection.separating(condition)
    names = ", ".join(separating) if 0 < len(separating) < len(scored) else ""
    count = (
        f"all {len(scored)}"
        if len(separating) == len(scored)
        else f"none of {len(scored)}"
        if not separating
        else f"{names} ({len(separating)} of {len(scored)})"
    )
    empty = " (empty phase: by convention)" if any(d.empty for d in scored) else ""
    return count + empty


def _glance_control(analysis: ExperimentAnalysis, name: str, baseline: str | None) -> str:
    if condition_named(name).kind is Kind.CONTROL:
        return "this is the control: " + ("held" if analysis.controls[baseline or ""] else "FAILED")
    key = baseline if baseline is not None else name
    if key not in analysis.controls:
        return MISSING
    return "held" if analysis.controls[key] else "FAILED"


def glance_section(
    analysis: ExperimentAnalysis, detection: ExperimentDetection | None, figures: Mapping[str, str]
) -> list[str]:
    lines = ["## At a glance", ""]
    if not analysis.summaries:
        return [*lines, "No condition was captured."]
    rows = []
    for name, summary in analysis.summaries.items():
        baseline = condition_named(name).baseline
        comparison = analysis.comparisons.get((baseline or "", name))
        if comparison is None:
            check = analysis.self_checks[name]
            runs = "runs identical" if check.identical else f"runs vary most in {check.worst}"
            overhead = (
                f"observer overhead {ratio(summary.overhead)}"
                if summary.overhead is not None
                else MISSING
            )
            control = _glance_control(analysis, name, None)
            rows.append([name, "(baseline)", runs, overhead, control, MISSING])
            continue
        sensitivity = analysis.sensitivity[baseline or "", name]
        rows.append(
            [
                name,
                baseline or "",
                _glance_counts(comparison, sensitivity.counts),
                _glance_timing(
                    comparison, sensitivity.timing, analysis.phase_shifts.get((baseline, name), ())
                ),
                _glance_control(analysis, name, baseline),
                _glance_detectors(detection, name),
            ]
        )
    headers = ["condition", "against", "syscall counts", "timing", "control", "detectors"]
    lines += [
        table(rows, headers),
        "",
        f"Syscall counts: the significant shifts (α = {analysis.alpha}, {analysis.correction} "
        "correction), largest first; where none, the largest shift the test would have "
        f"detected with power {DETECTION_POWER:g}. Timing: the significant shifts of "
        f"{', '.join(TIMING_METRICS[m].words for m in STATED_TIMING)}. Control: whether the "
        "baseline's independent second batch showed no shift. Detectors: those fitted on the "
        f"baseline's runs alone whose AUC reaches {SEPARATING_AUC}. Each line is explained "
        "under Findings.",
    ]
    return lines + figure_link(figures, "signatures", "each condition's signature")


def findings_section(records: Sequence[Finding]) -> list[str]:
    """Findings under a heading per condition (``condition vs baseline``), in their order;
    findings about the experiment as a whole under their own headings."""
    lines = ["## Findings", ""]
    if not records:
        return [*lines, "No finding: the experiment produced no comparison."]
    lines.append(
        "Each sentence is generated from the statistics below; a shift that is not significant "
        "is reported as such, with the shift the test would have detected."
    )
    groups: dict[str, list[Finding]] = {}
    for finding in records:
        if finding.condition:
            title = (
                versus(finding.baseline, finding.condition)
                if finding.baseline
                else finding.condition
            )
            # A condition's findings without a baseline (its runs) join its comparison.
            title = next((t for t in groups if t.startswith(f"{finding.condition} vs ")), title)
        else:
            title = TOPICS.get(finding.topic, finding.topic).capitalize()
        groups.setdefault(title, []).append(finding)
    for title, group in groups.items():
        lines += ["", f"### {title}", ""]
        lines += [f"- {finding.sentence}" for finding in group]
    return lines

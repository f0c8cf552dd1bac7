"""The experiment's markdown report: at a glance, findings, detection, method, tables, figures.

The first screen is one table, one row per condition: what changed in its syscall counts and
its timing against its baseline, whether the baseline's control held, and which detectors
separate it from its baseline. Then the findings, grouped by condition; the anomaly detection
as a detector x condition matrix of AUCs; the method; and the long per-syscall tables, each in
a collapsible ``<details>`` block.

Renderers only format. Every number comes in computed (an
:class:`~syscall_lab.experiment.analysis.ExperimentAnalysis`, its findings, the detection on
the conditions, optional extra anomaly tables) and is written by :mod:`syscall_lab.formatting`;
the volatile values, date and host, come in as arguments, so the same analysis always renders
to the same text (the golden tests rely on it). :func:`write_report` is the one function that
touches the disk: it draws the figures beside the report and writes both atomically.
"""

from __future__ import annotations

import math
import platform
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
from tabulate import tabulate

from syscall_lab.analyse.stats import Comparison, DetectableShift, Distance, ShareDifference, Shift
from syscall_lab.analyse.tables import PHASE_COLUMNS
from syscall_lab.conditions import Kind, condition_named
from syscall_lab.detect.on_conditions import SEPARATING_AUC, ExperimentDetection
from syscall_lab.experiment.analysis import DETECTION_POWER, ExperimentAnalysis
from syscall_lab.experiment.findings import TOPICS, Finding, findings
from syscall_lab.experiment.sentences import STATED_TIMING
from syscall_lab.formatting import (
    MISSING,
    TIMING_METRICS,
    divergence,
    interval,
    number,
    p_value,
    percent,
    ratio,
    signed,
    timing,
)
from syscall_parse.atomic import write_text

__all__ = [
    "DEFAULT_REPORT",
    "extract_section",
    "render_report",
    "write_report",
]

DEFAULT_REPORT = Path("reports/REPORT.md")
"""Where ``syscall-lab run`` writes the report, relative to the current folder."""

_TOP_SYSCALLS = 8  # per condition, in the table of syscalls per condition
_TOP_SHIFTS = 12  # rows per comparison in the shift tables (every significant one is kept)
_TOP_NGRAMS = 5  # n-gram share differences per comparison
_GLANCE_SHIFTS = 3  # syscalls named per row of the table at a glance
_GLANCE_TIMING = 2  # timing metrics named per row of the table at a glance
# The phase's metrics at a glance, where its calls cannot be timed (a phase without calls).
_PHASE_WORDS = {"rate": "phase's call rate", "gap_share": "longest gap / phase"}
_SHIFT_HEADERS = (
    "baseline", "condition", "ratio", "95% CI of Δ", "δ", "p", "p adj", "sig.", "detectable",
)  # fmt: skip


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> str:
    # disable_numparse: cells arrive formatted; tabulate must not re-format or re-align them.
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def _details(summary: str, body: Sequence[str]) -> list[str]:
    """A collapsible block (GitHub renders the markdown inside after a blank line)."""
    return [f"<details><summary>{summary}</summary>", "", *body, "", "</details>"]


def _count(number_of: int, noun: str) -> str:
    """``1 condition``, ``5 conditions``."""
    return f"{number_of} {noun}{'' if number_of == 1 else 's'}"


def _label(baseline: str, condition: str) -> str:
    return f"{condition} vs {baseline}"


def _figure(figures: Mapping[str, str], key: str, caption: str) -> list[str]:
    return ["", f"![{caption}]({figures[key]})"] if key in figures else []


# -- the table at a glance -----------------------------------------------------------------------


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


def _glance(
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
        _table(rows, headers),
        "",
        f"Syscall counts: the significant shifts (α = {analysis.alpha}, {analysis.correction} "
        "correction), largest first; where none, the largest shift the test would have "
        f"detected with power {DETECTION_POWER:g}. Timing: the significant shifts of "
        f"{', '.join(TIMING_METRICS[m].words for m in STATED_TIMING)}. Control: whether the "
        "baseline's independent second batch showed no shift. Detectors: those fitted on the "
        f"baseline's runs alone whose AUC reaches {SEPARATING_AUC}. Each line is explained "
        "under Findings.",
    ]
    return lines + _figure(figures, "signatures", "each condition's signature")


# -- findings ------------------------------------------------------------------------------------


def _findings(records: Sequence[Finding]) -> list[str]:
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
                _label(finding.baseline, finding.condition)
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


# -- anomaly detection ---------------------------------------------------------------------------


def _detection(
    detection: ExperimentDetection | None, tables: Mapping[str, pd.DataFrame] | None
) -> list[str]:
    if detection is None and not tables:
        return []
    lines = ["## Anomaly detection"]
    if detection is not None and detection.separations:
        conditions = list(dict.fromkeys(d.condition for d in detection.separations))
        cells = {(d.detector, d.condition): d for d in detection.separations}
        rows = [
            [
                detector,
                *(
                    number(cells[detector, c].auc) if (detector, c) in cells else MISSING
                    for c in conditions
                ),
            ]
            for detector in detection.detectors
        ]
        empty = [c for c in conditions if any(d.empty for d in detection.separations
                                               if d.condition == c)]  # fmt: skip
        lines += [
            "",
            "AUC of each condition against its baseline, by detectors fitted on the baseline's "
            "quiet runs alone (normal; each real program), scored out of sample; a detector "
            f"separates a condition from AUC {SEPARATING_AUC}. With five runs a side the AUC "
            "says that these runs separate, not that a sixth would.",
            "",
            _table(rows, ["detector", *conditions]),
        ]
        if empty:
            lines += [
                "",
                f"{', '.join(empty)}: the phase makes no syscall, so a detector scores it by "
                "convention only (STIDE 0, the kNN detectors' empty profile at distance 1).",
            ]
        if detection.skipped:
            lines += ["", "Not run: " + "; ".join(detection.skipped) + "."]
        interval_rows = [
            [
                d.detector, _label(d.baseline, d.condition), number(d.auc),
                interval(d.auc_ci), f"{d.n_condition} vs {d.n_normal}",
            ]
            for d in detection.separations
        ]  # fmt: skip
        lines += [
            "",
            *_details(
                "Each AUC with its stratified-bootstrap 95% interval",
                [_table(interval_rows, ["detector", "comparison", "AUC", "95% CI", "runs"])],
            ),
        ]
        lines += _false_alarms(detection)
    for caption, table in (tables or {}).items():
        rows = [[_cell(value) for value in row] for row in table.itertuples(index=False)]
        lines += ["", caption, "", _table(rows, [str(column) for column in table.columns])]
    return lines


def _false_alarms(detection: ExperimentDetection) -> list[str]:
    baselines = list(dict.fromkeys(r.baseline for r in detection.false_alarms))
    lines = []
    for baseline in baselines:
        records = [r for r in detection.false_alarms if r.baseline == baseline]
        ambient = list(dict.fromkeys(c for r in records for c in r.ambient_far))
        if not ambient:
            continue
        rows = [
            [
                r.detector, number(r.threshold), percent(r.quiet_far),
                *(percent(r.ambient_far[c]) for c in ambient), _yes(r.within_budget),
            ]
            for r in records
        ]  # fmt: skip
        lines += [
            "",
            f"False alarms beside ambient load, {baseline}: the share of runs flagged at a "
            f"threshold fixed on {baseline}'s quiet runs (budget: at most twice the quiet "
            "rate).",
            "",
            _table(rows, ["detector", "threshold", "quiet", *ambient, "within budget"]),
        ]
    return lines


def _cell(value: object) -> str:
    if isinstance(value, (bool, np.bool_)):
        return _yes(bool(value))
    if isinstance(value, (float, np.floating)):
        return number(float(value))
    return str(value)


# -- method --------------------------------------------------------------------------------------


def _strace_flags(analysis: ExperimentAnalysis) -> str:
    """The strace options of the first run, without the program, the log path and the command."""
    if not analysis.data.runs:
        return MISSING
    argv = list(analysis.data.runs[0].metadata.strace_argv)
    flags = argv[1 : argv.index("-o")] if "-o" in argv else argv[1:]
    return " ".join(["strace", *flags, "-o", "trace.log"])


def _environment(analysis: ExperimentAnalysis) -> list[str]:
    data = analysis.data
    env, settings = data.environment, data.settings
    rows = [
        ["strace", env.strace_version or "not found"],
        ["strace flags", f"`{_strace_flags(analysis)}`"],
        ["kernel", env.kernel],
        ["Python", f"{env.python_implementation} {env.python}"],
        ["CPU", f"{env.cpu_count or '?'} × {env.cpu_model or 'unknown'}"],
        ["platform", env.platform],
        ["repeats per condition", str(settings.repeats)],
        ["workload scale", number(settings.scale)],
        ["seed", str(settings.seed)],
        ["stressed conditions' backend", settings.backend],
        ["conditions", ", ".join(data.conditions)],
        ["significance", f"α = {analysis.alpha}, correction {analysis.correction}"],
        ["detectable shifts", f"power {DETECTION_POWER:g}, simulated"],
        ["resampling seed", str(analysis.seed)],
    ]
    lines = ["## Environment and method", "", _table(rows, ["", "value"]), ""]
    lines.append(
        "An experiment captures its runs in rounds, each one run of every condition, in an "
        "order shuffled afresh for each round with the seed (the order used is listed below), "
        "so neither drift of the machine nor the run before favours a condition; an ambient "
        "run starts its untraced load, waits for it to settle, is traced, stops the load, "
        "syncs the disks and waits for the I/O pressure to calm. Our workloads are cut to "
        "their measured phase between two marker calls; the real programs and stress-ng's "
        "stressors are traced whole. A shift compares the per-run counts of a "
        "syscall between two conditions with a two-sided Mann-Whitney test (exact permutation "
        "p-value over all labellings of the runs), Cliff's delta as effect size (−1 … +1) and "
        "a percentile bootstrap 95% interval of the difference of medians; p-values are "
        f"corrected ({analysis.correction}) over the syscalls that could reach significance at "
        "all. Where a shift is not significant, the detectable shift is the smallest one the "
        f"same test, at the level its family leaves it, detects in {DETECTION_POWER:.0%} of "
        "experiments simulated from the runs' own spread (each run's value minus its "
        "condition's median, resampled): one call for a count equal in every run. Distances "
        "are Jensen-Shannon divergences (base 2) between runs of different conditions against "
        "those between runs of the same condition, with a permutation p-value."
    )
    if data.skipped:
        lines += ["", "Skipped: " + "; ".join(data.skipped) + "."]
    order = [f"{index + 1}. {', '.join(names)}" for index, names in enumerate(data.rounds)]
    if order:
        lines += ["", *_details("The capture order, round by round", order)]
    return lines


# -- the tables ----------------------------------------------------------------------------------


def _top_syscalls(analysis: ExperimentAnalysis, figures: Mapping[str, str]) -> list[str]:
    summaries = analysis.summaries
    lines = ["## Syscalls per condition", ""]
    if not summaries:
        return [*lines, "No condition was captured."]
    names: list[str] = []
    for summary in summaries.values():
        medians = summary.count_medians
        top = medians[medians > 0].sort_values(ascending=False, kind="stable").head(_TOP_SYSCALLS)
        names += [str(name) for name in top.index if str(name) not in names]
    lines.append(
        "Median calls per run in the phase and, in parentheses, the mean share of the phase's "
        f"calls; the {_TOP_SYSCALLS} most frequent syscalls of each condition."
    )
    rows = []
    for name in names:
        row = [f"`{name}`"]
        for summary in summaries.values():
            if name in summary.counts.columns and summary.counts[name].any():
                median = float(summary.count_medians[name])
                share = float(summary.mean_shares[name])
                row.append(f"{number(median)} ({percent(share)})")
            else:
                row.append("0")
        rows.append(row)
    rows.append(["**total**", *(number(summary.calls) for summary in summaries.values())])
    table = [_table(rows, ["syscall", *summaries])]
    lines += ["", *_details(f"{len(names)} syscalls x {len(summaries)} conditions", table)]
    return lines + _figure(figures, "shares", "syscall distributions")


def _self_checks(analysis: ExperimentAnalysis) -> list[str]:
    if not analysis.self_checks:
        return []
    rows = [
        [
            check.condition,
            str(check.runs),
            _yes(check.identical),
            percent(check.spread),
            f"`{check.worst}`" if check.worst else MISSING,
        ]
        for check in analysis.self_checks.values()
    ]
    varying = sum(not check.identical for check in analysis.self_checks.values())
    return [
        "## Each condition against itself",
        "",
        "Whether the runs of one condition make the same calls: identical count rows, else the "
        "largest spread (max − min) / max(median, 1) over syscalls and where it is.",
        "",
        *_details(
            f"{varying} of {len(rows)} conditions vary over their runs",
            [_table(rows, ["condition", "runs", "identical counts", "largest spread", "syscall"])],
        ),
    ]


def _detectable_cell(found: DetectableShift | None, value: Callable[[float], str]) -> str:
    if found is None:
        return ""
    if not math.isfinite(found.shift):
        return "none"
    return "any" if found.shift == 0 else f"±{value(found.shift)}"


def _shift_row(
    shift: Shift, found: DetectableShift | None, value: Callable[[float], str] = number
) -> list[str]:
    """A table row of a shift; ``value`` formats the medians, the interval's ends and the
    detectable shift (given where the shift is not significant)."""
    return [
        f"`{shift.name}`",
        value(shift.baseline_median),
        value(shift.median),
        ratio(shift.ratio),
        interval(shift.ci, value),
        signed(shift.effect),
        p_value(shift.p_value),
        p_value(shift.p_adjusted) if shift.in_family else "not testable",
        "**yes**" if shift.significant else "no",
        _detectable_cell(found, value),
    ]


def _shift_summary(comparison: Comparison) -> str:
    tested = [s for s in comparison.shifts if s.in_family]
    up = sum(s.significant and s.direction == "up" for s in comparison.shifts)
    down = sum(s.significant and s.direction == "down" for s in comparison.shifts)
    return (
        f"{len(comparison.runs)} vs {len(comparison.baseline_runs)} runs; "
        f"{len(comparison.shifts)} syscalls compared, {len(tested)} could reach α = "
        f"{comparison.alpha}; significant: {up} up, {down} down"
    )


def _shifts(analysis: ExperimentAnalysis, figures: Mapping[str, str]) -> list[str]:
    lines = ["## Shifts between conditions", ""]
    if not analysis.comparisons:
        return [*lines, "No comparison."]
    lines.append(
        "Per syscall: the baseline's and the condition's median calls per run, their ratio "
        "(with one pseudo-call), the bootstrap 95% interval of the difference of medians, "
        "Cliff's delta, the raw and corrected p-values and, where the shift is not significant, "
        "the shift that was detectable. Every significant shift is listed, then the next ones "
        f"up to {_TOP_SHIFTS} rows; 'not testable' marks a syscall whose counts no labelling of "
        "the runs could make significant (e.g. equal in every run)."
    )
    lines += _figure(figures, "log_ratios", "log-ratios against the baseline")
    headers = ["syscall", *_SHIFT_HEADERS]
    for (baseline, condition), comparison in analysis.comparisons.items():
        detectable = {d.name: d for d in analysis.sensitivity[baseline, condition].counts}
        significant = [s for s in comparison.shifts if s.significant]
        shown = list(comparison.shifts[: max(_TOP_SHIFTS, len(significant))])
        summary = f"{_label(baseline, condition)}: {_shift_summary(comparison)}"
        if not shown:
            lines += ["", f"{summary}. No syscall in either condition's phase."]
            continue
        body = [_table([_shift_row(s, detectable.get(s.name)) for s in shown], headers)]
        hidden = len(comparison.shifts) - len(shown)
        if hidden:
            body += ["", f"{hidden} more syscalls, none significant."]
        lines += ["", *_details(summary, body)]
    return lines


def _distance_cells(distance: Distance | None) -> list[str]:
    if distance is None:
        return [MISSING] * 4
    exact = "exact" if distance.exact else "sampled"
    return [
        divergence(distance.between),
        divergence(distance.within),
        number(distance.ratio),
        f"{p_value(distance.p_value)} ({distance.permutations} {exact})",
    ]


def _ngram_row(difference: ShareDifference) -> list[str]:
    return [
        f"`{difference.name}`",
        percent(difference.baseline_share),
        percent(difference.share),
        signed(difference.difference),
    ]


def _distances(analysis: ExperimentAnalysis) -> list[str]:
    if not analysis.comparisons:
        return []
    ngram = next(iter(analysis.comparisons.values())).ngram
    rows = [
        [
            _label(baseline, condition),
            *_distance_cells(comparison.distance),
            *_distance_cells(comparison.ngram_distance),
        ]
        for (baseline, condition), comparison in analysis.comparisons.items()
    ]
    headers = [
        "comparison", "JSD between", "JSD within", "ratio", "p (permutations)",
        f"{ngram}-gram between", f"{ngram}-gram within", f"{ngram}-gram ratio", f"{ngram}-gram p",
    ]  # fmt: skip
    body = [_table(rows, headers)]
    for (baseline, condition), comparison in analysis.comparisons.items():
        differences = comparison.ngram_differences[:_TOP_NGRAMS]
        if not differences or not any(d.difference for d in differences):
            continue
        body += ["", f"{ngram}-grams whose share differs most, {_label(baseline, condition)}:", ""]
        body.append(
            _table(
                [_ngram_row(d) for d in differences],
                [f"{ngram}-gram", baseline, condition, "difference"],
            )
        )
    return [
        "## Distribution distances",
        "",
        "Jensen-Shannon divergence of the syscall distributions (and of the "
        f"{ngram}-gram distributions, per process) between runs of the two conditions, against "
        "that between runs of the same condition; the p-value is the share of relabellings of "
        "the runs with at least the observed between − within. '—' where a condition's phase "
        "makes no call (a run without calls has no distribution).",
        "",
        *_details(
            f"{_count(len(rows), 'comparison')}, and the {ngram}-grams that differ most", body
        ),
    ]


def _timing_value(metric: str) -> Callable[[float], str]:
    return lambda value: timing(metric, value, unit=False)


def _timing(analysis: ExperimentAnalysis, figures: Mapping[str, str]) -> list[str]:
    if not analysis.summaries:
        return []
    metrics = list(TIMING_METRICS)
    rows = [
        [
            condition,
            *(timing(m, float(summary.timing_medians.get(m, math.nan)), False) for m in metrics),
        ]
        for condition, summary in analysis.summaries.items()
    ]
    lines = [
        "## Latency and gaps",
        "",
        "Medians over runs of each run's timing in the phase: calls, span, call rate, per-call "
        "latency (strace -T, which includes the tracer's own cost), calls slower than 1 ms, and "
        "gaps between consecutive call starts (all processes merged).",
        "",
        *_details(
            _count(len(rows), "condition"),
            [_table(rows, ["condition", *(TIMING_METRICS[m].label for m in metrics)])],
        ),
    ]
    lines += _figure(figures, "latencies", "latency distributions")
    shift_rows = []
    for (baseline, condition), comparison in analysis.comparisons.items():
        detectable = {d.name: d for d in analysis.sensitivity[baseline, condition].timing}
        for shift in comparison.timing:
            if shift.name in STATED_TIMING or shift.significant:
                row = _shift_row(shift, detectable.get(shift.name), _timing_value(shift.name))
                row[0] = TIMING_METRICS[shift.name].label
                shift_rows.append([_label(baseline, condition), *row])
    if shift_rows:
        lines += [
            "",
            "Timing shifts (ratio without pseudo-count; metrics that are missing in a run, as "
            "latencies in a phase without calls, are left out; a detectable shift is for the "
            "metric alone where its family of timing metrics left no attainable level):",
            "",
            *_details(
                _count(len(shift_rows), "timing shift"),
                [_table(shift_rows, ["comparison", "metric", *_SHIFT_HEADERS])],
            ),
        ]
    return lines + _phase(analysis)


_PHASE_LABELS = {
    "phase_seconds": "phase (s)",
    "calls": "calls",
    "rate": "rate (calls/s)",
    "gap_max": "longest gap (ms)",
    "gap_share": "longest gap / phase",
}
_PHASE_FORMAT: dict[str, Callable[[float], str]] = {
    "gap_max": lambda value: number(value * 1e3),
    "gap_share": percent,
}


def _phase_value(metric: str, value: float) -> str:
    return MISSING if math.isnan(value) else _PHASE_FORMAT.get(metric, number)(value)


def _phase(analysis: ExperimentAnalysis) -> list[str]:
    phased = {
        c: s.phase_medians for c, s in analysis.summaries.items() if s.phase_medians is not None
    }
    if not phased:
        return []
    metrics = [m for m in _PHASE_LABELS if m in PHASE_COLUMNS]
    rows = [
        [condition, *(_phase_value(m, float(medians[m])) for m in metrics)]
        for condition, medians in phased.items()
    ]
    body = [_table(rows, ["condition", *(_PHASE_LABELS[m] for m in metrics)])]
    shift_rows = []
    for (baseline, condition), shifts in analysis.phase_shifts.items():
        for shift in shifts:
            if shift.name in ("rate", "gap_share"):
                row = _shift_row(shift, None, _PHASE_FORMAT.get(shift.name, number))
                row[0] = _PHASE_LABELS[shift.name]
                shift_rows.append([_label(baseline, condition), *row[:-1]])
    if shift_rows:
        body += ["", _table(shift_rows, ["comparison", "metric", *_SHIFT_HEADERS[:-1]])]
    return [
        "",
        "### The measured phase",
        "",
        "Measured between the two marker calls, so a phase without any call still has a rate "
        "(0) and a longest gap (all of it); medians over runs.",
        "",
        *_details(f"{_count(len(rows), 'condition')}, and the rate and longest gap shifts", body),
    ]


def _timing_shift(comparison: Comparison, metric: str) -> str:
    for shift in comparison.timing:
        if shift.name == metric:
            flag = ", significant" if shift.significant else ""
            return f"{ratio(shift.ratio)} (p adj {p_value(shift.p_adjusted)}{flag})"
    return MISSING


def _ambient(analysis: ExperimentAnalysis) -> list[str]:
    if not analysis.ambient:
        return []
    rows = []
    for condition, check in analysis.ambient.items():
        baseline = condition_named(condition).baseline or ""
        comparison = analysis.comparisons[baseline, condition]
        rows.append(
            [
                _label(baseline, condition),
                _yes(check.identical),
                f"{_yes(check.equivalent)} (±{percent(check.margin, 0)})",
                f"`{check.worst}` ({check.worst_relative:.2f} of the margin)"
                if check.worst and not check.identical
                else MISSING,
                *(_timing_shift(comparison, m) for m in ("latency_median", "latency_p99")),
                *(_timing_shift(comparison, m) for m in ("slow_calls", "gap_max")),
            ]
        )
    headers = [
        "comparison", "identical counts", "equivalent", "worst syscall", "latency median",
        "latency p99", "calls > 1 ms", "gap max",
    ]  # fmt: skip
    return [
        "## Ambient stress",
        "",
        "A baseline (normal, a real program) traced beside an untraced stressor: does it make "
        "the same calls (identical counts, or equivalent: every bootstrap interval of a "
        "difference of medians within the margin), and how does its timing move against its "
        "quiet runs?",
        "",
        *_details(_count(len(rows), "ambient condition"), [_table(rows, headers)]),
    ]


def _overhead(analysis: ExperimentAnalysis) -> list[str]:
    rows = [
        [
            condition,
            str(len(summary.runs)),
            number(summary.untraced_seconds),
            number(summary.traced_seconds),
            ratio(summary.overhead) if summary.overhead is not None else MISSING,
        ]
        for condition, summary in analysis.summaries.items()
    ]
    if not rows:
        return []
    headers = ["condition", "runs", "untraced (s)", "traced (s)", "traced / untraced"]
    return [
        "## Observer overhead",
        "",
        "Wall time of the whole command run without strace, then under strace (same "
        "environment, same ambient load); medians over runs, and the median of the per-run "
        "ratios.",
        "",
        *_details(_count(len(rows), "condition"), [_table(rows, headers)]),
    ]


def _header(analysis: ExperimentAnalysis, date: str, host: str) -> list[str]:
    settings = analysis.data.settings
    return [
        "# syscall-lab report",
        "",
        f"Generated {date} on {host} from {len(analysis.data.runs)} traced runs "
        f"({settings.repeats} per condition) stored in `{settings.out_dir}`. Each table "
        "compares conditions over repeated runs; "
        "the run, never the single call, is the unit of replication.",
    ]


def render_report(
    analysis: ExperimentAnalysis,
    *,
    date: str,
    host: str,
    figures: Mapping[str, str] | None = None,
    records: Sequence[Finding] | None = None,
    detection: ExperimentDetection | None = None,
    anomaly: Mapping[str, pd.DataFrame] | None = None,
) -> str:
    """The markdown report of ``analysis``.

    ``figures`` maps a figure key (see :data:`syscall_lab.report.figures.FIGURES`) to the path the
    report links (relative to the report); figures not listed are not linked. ``records`` are
    the findings (default: :func:`~syscall_lab.experiment.findings.findings` of ``analysis``).
    ``detection`` (:func:`~syscall_lab.detect.on_conditions.detect_on_conditions` of the same
    data) fills the detectors column at a glance and the "Anomaly detection" section, where
    ``anomaly``, when given, adds each caption (a sentence saying what the table measures)
    followed by its table, columns as they are (floats to 3 significant digits, booleans as
    yes/no), e.g. the ADFA-LD benchmark.
    """
    figures = dict(figures or {})
    sections: list[list[str]] = [
        _header(analysis, date, host),
        _glance(analysis, detection, figures),
        _findings(findings(analysis) if records is None else records),
        _detection(detection, anomaly),
        _environment(analysis),
        _top_syscalls(analysis, figures),
        _self_checks(analysis),
        _shifts(analysis, figures),
        _distances(analysis),
        _timing(analysis, figures),
        _ambient(analysis),
        _overhead(analysis),
    ]
    return "\n\n".join("\n".join(section) for section in sections if section) + "\n"


def extract_section(markdown: str, title: str) -> str:
    """The ``## title`` section of a rendered report, heading included ("" when absent)."""
    lines: list[str] = []
    inside = False
    for line in markdown.splitlines():
        if line.startswith("## "):
            inside = line[3:].strip() == title
        if inside:
            lines.append(line)
    return "\n".join(lines).strip() + "\n" if lines else ""


def write_report(
    analysis: ExperimentAnalysis,
    out: Path | str = DEFAULT_REPORT,
    *,
    date: str | None = None,
    host: str | None = None,
    detection: ExperimentDetection | None = None,
    anomaly: Mapping[str, pd.DataFrame] | None = None,
) -> Path:
    """Draw the figures beside ``out``, render the report and write it atomically; its path.

    ``date`` defaults to now (UTC, to the minute), ``host`` to this machine's name;
    ``detection`` and ``anomaly`` as in :func:`render_report`. The figures
    (:func:`syscall_lab.report.figures.write_figures`) land in ``out``'s folder.
    """
    from syscall_lab.report.figures import write_figures

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    figures = write_figures(analysis, out.parent)
    text = render_report(
        analysis,
        date=date or datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        host=host or platform.node(),
        figures=figures,
        detection=detection,
        anomaly=anomaly,
    )
    write_text(out, text)
    return out

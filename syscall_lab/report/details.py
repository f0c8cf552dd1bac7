"""The report's sections after the summary: the environment and method, then the long tables,
each collapsed in a ``<details>`` block (syscalls per condition, each condition against itself,
the shifts of every comparison with what was detectable, distances, timing and the measured
phase, ambient stress, observer overhead)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping

from syscall_lab.analyse.stats import Comparison, DetectableShift, Distance, ShareDifference, Shift
from syscall_lab.analyse.tables import PHASE_COLUMNS
from syscall_lab.conditions import condition_named
from syscall_lab.experiment.analysis import DETECTION_POWER, ExperimentAnalysis
from syscall_lab.experiment.dataset import Run
from syscall_lab.experiment.sentences import OBSERVER_NAMES, STATED_TIMING
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
from syscall_lab.report.markup import collapsed, figure_link, plural, table, versus, yes_no

__all__ = [
    "ambient_section",
    "distances_section",
    "method_section",
    "overhead_section",
    "self_checks_section",
    "shifts_section",
    "syscalls_section",
    "timing_section",
]

_TOP_SYSCALLS = 8  # per condition, in the table of syscalls per condition
_TOP_SHIFTS = 12  # rows per comparison in the shift tables (every significant one is kept)
_TOP_NGRAMS = 5  # n-gram share differences per comparison
_SHIFT_HEADERS = (
    "baseline", "condition", "ratio", "95% CI of Δ", "δ", "p", "p adj", "sig.", "detectable",
)  # fmt: skip


def _runs_under(analysis: ExperimentAnalysis, observer: str) -> list[Run]:
    """The runs ``observer`` traced, whether its analysis leads or is the second."""
    second = [analysis.observers.second.data] if analysis.observers is not None else []
    return [
        run for data in (analysis.data, *second) for run in data.runs if run.observer == observer
    ]


def _strace_flags(analysis: ExperimentAnalysis) -> str:
    """The strace options of the first strace run, without the program, the log path and the
    command."""
    runs = _runs_under(analysis, "strace")
    if not runs:
        return MISSING
    argv = list(runs[0].metadata.observer_argv)
    flags = argv[1 : argv.index("-o")] if "-o" in argv else argv[1:]
    return " ".join(["strace", *flags, "-o", "trace.log"])


def _ebpf_observer(analysis: ExperimentAnalysis) -> list[list[str]]:
    """The eBPF observer's row, when it traced runs: bpftrace's version, the mode and the
    median start-up (bpftrace's start to its probes attached, outside the traced time)."""
    infos = [run.metadata.observer for run in _runs_under(analysis, "ebpf")]
    if not infos:
        return []
    startups = [info.startup_seconds for info in infos if info.startup_seconds is not None]
    startup = f", start-up {number(statistics.median(startups))} s (median)" if startups else ""
    return [["eBPF observer", f"bpftrace {infos[0].version or '?'}, {infos[0].mode} mode{startup}"]]


def method_section(analysis: ExperimentAnalysis) -> list[str]:
    data = analysis.data
    env, settings = data.environment, data.settings
    rows = [
        ["strace", env.strace_version or "not found"],
        ["strace flags", f"`{_strace_flags(analysis)}`"],
        *_ebpf_observer(analysis),
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
    lines = ["## Environment and method", "", table(rows, ["", "value"]), ""]
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
        lines += ["", *collapsed("The capture order, round by round", order)]
    return lines


def syscalls_section(analysis: ExperimentAnalysis, figures: Mapping[str, str]) -> list[str]:
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
    body = [table(rows, ["syscall", *summaries])]
    lines += ["", *collapsed(f"{len(names)} syscalls x {len(summaries)} conditions", body)]
    return lines + figure_link(figures, "shares", "syscall distributions")


def self_checks_section(analysis: ExperimentAnalysis) -> list[str]:
    if not analysis.self_checks:
        return []
    rows = [
        [
            check.condition,
            str(check.runs),
            yes_no(check.identical),
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
        *collapsed(
            f"{varying} of {len(rows)} conditions vary over their runs",
            [table(rows, ["condition", "runs", "identical counts", "largest spread", "syscall"])],
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


def shifts_section(analysis: ExperimentAnalysis, figures: Mapping[str, str]) -> list[str]:
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
    lines += figure_link(figures, "log_ratios", "log-ratios against the baseline")
    headers = ["syscall", *_SHIFT_HEADERS]
    for (baseline, condition), comparison in analysis.comparisons.items():
        detectable = {d.name: d for d in analysis.sensitivity[baseline, condition].counts}
        significant = [s for s in comparison.shifts if s.significant]
        shown = list(comparison.shifts[: max(_TOP_SHIFTS, len(significant))])
        summary = f"{versus(baseline, condition)}: {_shift_summary(comparison)}"
        if not shown:
            lines += ["", f"{summary}. No syscall in either condition's phase."]
            continue
        body = [table([_shift_row(s, detectable.get(s.name)) for s in shown], headers)]
        hidden = len(comparison.shifts) - len(shown)
        if hidden:
            body += ["", f"{hidden} more syscalls, none significant."]
        lines += ["", *collapsed(summary, body)]
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


def distances_section(analysis: ExperimentAnalysis) -> list[str]:
    if not analysis.comparisons:
        return []
    ngram = next(iter(analysis.comparisons.values())).ngram
    rows = [
        [
            versus(baseline, condition),
            *_distance_cells(comparison.distance),
            *_distance_cells(comparison.ngram_distance),
        ]
        for (baseline, condition), comparison in analysis.comparisons.items()
    ]
    headers = [
        "comparison", "JSD between", "JSD within", "ratio", "p (permutations)",
        f"{ngram}-gram between", f"{ngram}-gram within", f"{ngram}-gram ratio", f"{ngram}-gram p",
    ]  # fmt: skip
    body = [table(rows, headers)]
    for (baseline, condition), comparison in analysis.comparisons.items():
        differences = comparison.ngram_differences[:_TOP_NGRAMS]
        if not differences or not any(d.difference for d in differences):
            continue
        body += ["", f"{ngram}-grams whose share differs most, {versus(baseline, condition)}:", ""]
        body.append(
            table(
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
        *collapsed(
            f"{plural(len(rows), 'comparison')}, and the {ngram}-grams that differ most", body
        ),
    ]


def _timing_value(metric: str) -> Callable[[float], str]:
    return lambda value: timing(metric, value, unit=False)


def timing_section(analysis: ExperimentAnalysis, figures: Mapping[str, str]) -> list[str]:
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
        *collapsed(
            plural(len(rows), "condition"),
            [table(rows, ["condition", *(TIMING_METRICS[m].label for m in metrics)])],
        ),
    ]
    lines += figure_link(figures, "latencies", "latency distributions")
    shift_rows = []
    for (baseline, condition), comparison in analysis.comparisons.items():
        detectable = {d.name: d for d in analysis.sensitivity[baseline, condition].timing}
        for shift in comparison.timing:
            if shift.name in STATED_TIMING or shift.significant:
                row = _shift_row(shift, detectable.get(shift.name), _timing_value(shift.name))
                row[0] = TIMING_METRICS[shift.name].label
                shift_rows.append([versus(baseline, condition), *row])
    if shift_rows:
        lines += [
            "",
            "Timing shifts (ratio without pseudo-count; metrics that are missing in a run, as "
            "latencies in a phase without calls, are left out; a detectable shift is for the "
            "metric alone where its family of timing metrics left no attainable level):",
            "",
            *collapsed(
                plural(len(shift_rows), "timing shift"),
                [table(shift_rows, ["comparison", "metric", *_SHIFT_HEADERS])],
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
    body = [table(rows, ["condition", *(_PHASE_LABELS[m] for m in metrics)])]
    shift_rows = []
    for (baseline, condition), shifts in analysis.phase_shifts.items():
        for shift in shifts:
            if shift.name in ("rate", "gap_share"):
                row = _shift_row(shift, None, _PHASE_FORMAT.get(shift.name, number))
                row[0] = _PHASE_LABELS[shift.name]
                shift_rows.append([versus(baseline, condition), *row[:-1]])
    if shift_rows:
        body += ["", table(shift_rows, ["comparison", "metric", *_SHIFT_HEADERS[:-1]])]
    return [
        "",
        "### The measured phase",
        "",
        "Measured between the two marker calls, so a phase without any call still has a rate "
        "(0) and a longest gap (all of it); medians over runs.",
        "",
        *collapsed(f"{plural(len(rows), 'condition')}, and the rate and longest gap shifts", body),
    ]


def _timing_shift(comparison: Comparison, metric: str) -> str:
    for shift in comparison.timing:
        if shift.name == metric:
            flag = ", significant" if shift.significant else ""
            return f"{ratio(shift.ratio)} (p adj {p_value(shift.p_adjusted)}{flag})"
    return MISSING


def ambient_section(analysis: ExperimentAnalysis) -> list[str]:
    if not analysis.ambient:
        return []
    rows = []
    for condition, check in analysis.ambient.items():
        baseline = condition_named(condition).baseline or ""
        comparison = analysis.comparisons[baseline, condition]
        rows.append(
            [
                versus(baseline, condition),
                yes_no(check.identical),
                f"{yes_no(check.equivalent)} (±{percent(check.margin, 0)})",
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
        *collapsed(plural(len(rows), "ambient condition"), [table(rows, headers)]),
    ]


def _overhead_table(analysis: ExperimentAnalysis) -> str:
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
    headers = ["condition", "runs", "untraced (s)", "traced (s)", "traced / untraced"]
    return table(rows, headers)


def overhead_section(analysis: ExperimentAnalysis) -> list[str]:
    """The observer overhead per condition: one table per observer."""
    if not analysis.summaries:
        return []
    analyses = [analysis]
    if analysis.observers is not None:
        analyses.append(analysis.observers.second)
    blocks = []
    for each in analyses:
        name = OBSERVER_NAMES.get(each.observer, each.observer)
        summary = plural(len(each.summaries), "condition")
        if len(analyses) > 1:
            summary = f"under {name}: {summary}"
        blocks += ["", *collapsed(summary, [_overhead_table(each)])]
    observers = " or ".join(OBSERVER_NAMES.get(each.observer, each.observer) for each in analyses)
    return [
        "## Observer overhead",
        "",
        f"Wall time of the whole command run without an observer, then under {observers} "
        "(same environment, same ambient load); medians over runs, and the median of the "
        "per-run ratios.",
        *blocks,
    ]

"""The experiment's markdown report: findings, method, tables and figures.

Renderers only format. Every number comes in computed (an
:class:`~syscall_lab.experiment.analysis.ExperimentAnalysis`, its findings, an optional anomaly
table) and is written by :mod:`syscall_lab.formatting`; the volatile values, date and host,
come in as arguments, so the same analysis always renders to the same text (the golden tests
rely on it). :func:`write_report` is the one function
that touches the disk: it draws the figures beside the report and writes both atomically.
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

from syscall_lab.analyse.stats import Comparison, Distance, ShareDifference, Shift
from syscall_lab.analyse.tables import PHASE_COLUMNS
from syscall_lab.experiment.analysis import ExperimentAnalysis
from syscall_lab.experiment.findings import Finding, findings
from syscall_lab.formatting import (
    MISSING,
    divergence,
    interval,
    number,
    p_value,
    percent,
    ratio,
    signed,
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
_TIMING_SHOWN = ("rate", "latency_median", "latency_p99", "slow_calls", "gap_max")
_TIMING_LABELS = {
    "calls": "calls",
    "phase_duration": "phase (s)",
    "rate": "rate (calls/s)",
    "latency_median": "latency median (µs)",
    "latency_p99": "latency p99 (µs)",
    "slow_calls": "calls > 1 ms",
    "gap_median": "gap median (µs)",
    "gap_p99": "gap p99 (µs)",
    "gap_max": "gap max (ms)",
}
# Seconds are shown in the unit that keeps them readable: latencies and gaps in µs, the longest
# gap in ms.
_TIMING_SCALE = {
    "latency_median": 1e6,
    "latency_p99": 1e6,
    "gap_median": 1e6,
    "gap_p99": 1e6,
    "gap_max": 1e3,
}


# Headings of the Findings section, by Finding.topic, in the order topics first appear.
_TOPIC_TITLES = {
    "shift": "Stressed conditions against normal",
    "cpu": "Stressed conditions against normal",
    "stress-ng": "stress-ng stressors",
    "control": "Controls",
    "self": "Controls",
    "ambient": "Ambient stress",
    "overhead": "Observer overhead",
    "skipped": "Skipped",
}
_SHIFT_HEADERS = ("baseline", "condition", "ratio", "95% CI of Δ", "δ", "p", "p adj", "sig.")


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> str:
    # disable_numparse: cells arrive formatted; tabulate must not re-format or re-align them.
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def _label(baseline: str, condition: str) -> str:
    return f"{condition} vs {baseline}"


# -- sections ------------------------------------------------------------------------------------


def _header(analysis: ExperimentAnalysis, date: str, host: str) -> list[str]:
    settings = analysis.data.settings
    return [
        "# syscall-lab report",
        "",
        f"Generated {date} on {host} from {len(analysis.data.runs)} traced runs "
        f"({settings.repeats} per condition) stored in `{settings.out_dir}`. Each table "
        "compares conditions over repeated runs; the run, never the single call, is the unit "
        "of replication.",
    ]


def _findings(records: Sequence[Finding]) -> list[str]:
    """Findings under a heading per topic; several about one comparison nest under its name."""
    lines = ["## Findings", ""]
    if not records:
        return [*lines, "No finding: the experiment produced no comparison."]
    lines.append(
        "Each sentence is generated from the statistics below; a shift that is not significant "
        "is reported as such."
    )
    groups: dict[str, list[list[Finding]]] = {}
    for finding in records:
        title = _TOPIC_TITLES.get(finding.topic, finding.topic)
        runs = groups.setdefault(title, [])
        last = runs[-1][-1] if runs else None
        if last is not None and (last.condition, last.baseline) == (
            finding.condition,
            finding.baseline,
        ):
            runs[-1].append(finding)
        else:
            runs.append([finding])
    for title, runs in groups.items():
        lines += ["", f"### {title}", ""]
        for run in runs:
            if len(run) == 1:
                lines.append(f"- {run[0].sentence}")
                continue
            first = run[0]
            name = f"{first.condition} vs {first.baseline}" if first.baseline else first.condition
            lines.append(f"- **{name}**:")
            lines += [f"  - {finding.sentence}" for finding in run]
    return lines


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
        ["resampling seed", str(analysis.seed)],
    ]
    lines = ["## Environment and method", "", _table(rows, ["", "value"]), ""]
    lines.append(
        "Conditions are captured in interleaved order (one run of each, then the next repeat) "
        "so drift of the machine spreads over all of them. Our workloads are cut to their "
        "measured phase between two marker calls; stress-ng stressors are traced whole. "
        "A shift compares the per-run counts of a syscall between two conditions with a "
        "two-sided Mann-Whitney test (exact permutation p-value over all labellings of the "
        "runs), Cliff's delta as effect size (−1 … +1) and a percentile bootstrap 95% interval "
        f"of the difference of medians; p-values are corrected ({analysis.correction}) over the "
        "syscalls that could reach significance at all. Distances are Jensen-Shannon "
        "divergences (base 2) between runs of different conditions against those between runs "
        "of the same condition, with a permutation p-value."
    )
    if data.skipped:
        lines += ["", "Skipped: " + "; ".join(data.skipped) + "."]
    return lines


def _top_syscalls(analysis: ExperimentAnalysis) -> list[str]:
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
    lines.append("")
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
    totals = ["**total**"]
    for summary in summaries.values():
        totals.append(number(summary.calls))
    rows.append(totals)
    lines.append(_table(rows, ["syscall", *summaries]))
    return lines


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
    return [
        "## Each condition against itself",
        "",
        "Whether the runs of one condition make the same calls: identical count rows, else the "
        "largest spread (max − min) / max(median, 1) over syscalls and where it is.",
        "",
        _table(rows, ["condition", "runs", "identical counts", "largest spread", "syscall"]),
    ]


def _shift_row(shift: Shift, value: Callable[[float], str] = number) -> list[str]:
    """A table row of a shift; ``value`` formats the medians and the interval's ends."""
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
    ]


def _shift_summary(comparison: Comparison) -> str:
    tested = [s for s in comparison.shifts if s.in_family]
    up = sum(s.significant and s.direction == "up" for s in comparison.shifts)
    down = sum(s.significant and s.direction == "down" for s in comparison.shifts)
    return (
        f"{len(comparison.runs)} vs {len(comparison.baseline_runs)} runs; "
        f"{len(comparison.shifts)} syscalls compared, {len(tested)} could reach α = "
        f"{comparison.alpha}; significant: {up} up, {down} down."
    )


def _shifts(analysis: ExperimentAnalysis, figures: Mapping[str, str]) -> list[str]:
    lines = ["## Shifts between conditions", ""]
    if not analysis.comparisons:
        return [*lines, "No comparison."]
    lines.append(
        "Per syscall: the baseline's and the condition's median calls per run, their ratio "
        "(with one pseudo-call), the bootstrap 95% interval of the difference of medians, "
        "Cliff's delta, the raw and corrected p-values. Every significant shift is listed, then "
        f"the next ones up to {_TOP_SHIFTS} rows; 'not testable' marks a syscall whose counts "
        "no labelling of the runs could make significant (e.g. equal in every run)."
    )
    if "log_ratios" in figures:
        lines += ["", f"![log-ratios against the baseline]({figures['log_ratios']})"]
    headers = ["syscall", *_SHIFT_HEADERS]
    for (baseline, condition), comparison in analysis.comparisons.items():
        lines += ["", f"### {_label(baseline, condition)}", "", _shift_summary(comparison), ""]
        significant = [s for s in comparison.shifts if s.significant]
        shown = list(comparison.shifts[: max(_TOP_SHIFTS, len(significant))])
        if not shown:
            lines.append("No syscall in either condition's phase.")
            continue
        lines.append(_table([_shift_row(s) for s in shown], headers))
        hidden = len(comparison.shifts) - len(shown)
        if hidden:
            lines += ["", f"{hidden} more syscalls, none significant."]
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
        "comparison",
        "JSD between",
        "JSD within",
        "ratio",
        "p (permutations)",
        f"{ngram}-gram between",
        f"{ngram}-gram within",
        f"{ngram}-gram ratio",
        f"{ngram}-gram p",
    ]
    lines = [
        "## Distribution distances",
        "",
        "Jensen-Shannon divergence of the syscall distributions (and of the "
        f"{ngram}-gram distributions, per process) between runs of the two conditions, against "
        "that between runs of the same condition; the p-value is the share of relabellings of "
        "the runs with at least the observed between − within. '—' where a condition's phase "
        "makes no call (a run without calls has no distribution).",
        "",
        _table(rows, headers),
    ]
    for (baseline, condition), comparison in analysis.comparisons.items():
        differences = comparison.ngram_differences[:_TOP_NGRAMS]
        if not differences or not any(d.difference for d in differences):
            continue
        lines += ["", f"{ngram}-grams whose share differs most, {_label(baseline, condition)}:", ""]
        lines.append(
            _table(
                [_ngram_row(d) for d in differences],
                [f"{ngram}-gram", baseline, condition, "difference"],
            )
        )
    return lines


def _ngram_row(difference: ShareDifference) -> list[str]:
    return [
        f"`{difference.name}`",
        percent(difference.baseline_share),
        percent(difference.share),
        signed(difference.difference),
    ]


def _timing_value(metric: str, value: float) -> str:
    return number(value * _TIMING_SCALE.get(metric, 1.0))


def _timing(analysis: ExperimentAnalysis, figures: Mapping[str, str]) -> list[str]:
    if not analysis.summaries:
        return []
    metrics = list(_TIMING_LABELS)
    rows = []
    for condition, summary in analysis.summaries.items():
        medians = summary.timing_medians
        rows.append(
            [condition, *(_timing_value(m, float(medians.get(m, float("nan")))) for m in metrics)]
        )
    lines = [
        "## Latency and gaps",
        "",
        "Medians over runs of each run's timing in the phase: calls, span, call rate, per-call "
        "latency (strace -T, which includes the tracer's own cost), calls slower than 1 ms, and "
        "gaps between consecutive call starts (all processes merged).",
        "",
        _table(rows, ["condition", *(_TIMING_LABELS[m] for m in metrics)]),
    ]
    if "latencies" in figures:
        lines += ["", f"![latency distributions]({figures['latencies']})"]
    shift_rows = []
    for (baseline, condition), comparison in analysis.comparisons.items():
        for shift in comparison.timing:
            if shift.name in _TIMING_SHOWN or shift.significant:
                scale = _TIMING_SCALE.get(shift.name, 1.0)
                row = _shift_row(shift, lambda value, scale=scale: number(value * scale))
                row[0] = _TIMING_LABELS.get(shift.name, shift.name)
                shift_rows.append([_label(baseline, condition), *row])
    if shift_rows:
        lines += [
            "",
            "Timing shifts (ratio without pseudo-count; metrics that are missing in a run, as "
            "latencies in a phase without calls, are left out):",
            "",
            _table(
                shift_rows,
                ["comparison", "metric", *_SHIFT_HEADERS],
            ),
        ]
    return lines


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
    lines = [
        "",
        "### The measured phase",
        "",
        "Measured between the two marker calls, so a phase without any call still has a rate "
        "(0) and a longest gap (all of it); medians over runs.",
        "",
        _table(rows, ["condition", *(_PHASE_LABELS[m] for m in metrics)]),
    ]
    shift_rows = []
    for (baseline, condition), shifts in analysis.phase_shifts.items():
        for shift in shifts:
            if shift.name in ("rate", "gap_share"):
                row = _shift_row(shift, _PHASE_FORMAT.get(shift.name, number))
                row[0] = _PHASE_LABELS[shift.name]
                shift_rows.append([_label(baseline, condition), *row])
    if shift_rows:
        lines += ["", _table(shift_rows, ["comparison", "metric", *_SHIFT_HEADERS])]
    return lines


def _timing_shift(comparison: Comparison | None, metric: str) -> str:
    if comparison is None:
        return MISSING
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
        comparison = next(
            (c for (b, name), c in analysis.comparisons.items() if name == condition), None
        )
        rows.append(
            [
                condition,
                _yes(check.identical),
                f"{_yes(check.equivalent)} (±{percent(check.margin, 0)})",
                f"`{check.worst}` ({check.worst_relative:.2f} of the margin)"
                if check.worst and not check.identical
                else MISSING,
                _timing_shift(comparison, "latency_p99"),
                _timing_shift(comparison, "slow_calls"),
                _timing_shift(comparison, "gap_max"),
            ]
        )
    late = ["calls > 1 ms", "gap max"]
    return [
        "## Ambient stress",
        "",
        "The normal workload traced beside an untraced stressor: does it make the same calls "
        "(identical counts, or equivalent: every bootstrap interval of a difference of medians "
        "within the margin), and how does its timing move against normal?",
        "",
        _table(
            rows,
            ["condition", "identical counts", "equivalent", "worst syscall", "latency p99", *late],
        ),
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
    return [
        "## Observer overhead",
        "",
        "Wall time of the whole command run without strace, then under strace (same "
        "environment, same ambient load); medians over runs, and the median of the per-run "
        "ratios.",
        "",
        _table(rows, ["condition", "runs", "untraced (s)", "traced (s)", "traced / untraced"]),
    ]


def _anomaly(tables: Mapping[str, pd.DataFrame] | None) -> list[str]:
    if not tables:
        return []
    lines = ["## Anomaly detection"]
    for caption, table in tables.items():
        rows = [[_cell(value) for value in row] for row in table.itertuples(index=False)]
        lines += ["", caption, "", _table(rows, [str(column) for column in table.columns])]
    return lines


def _cell(value: object) -> str:
    if isinstance(value, (bool, np.bool_)):
        return _yes(bool(value))
    if isinstance(value, (float, np.floating)):
        return number(float(value))
    return str(value)


def _figure(figures: Mapping[str, str], key: str, caption: str) -> list[str]:
    return ["", f"![{caption}]({figures[key]})"] if key in figures else []


def render_report(
    analysis: ExperimentAnalysis,
    *,
    date: str,
    host: str,
    figures: Mapping[str, str] | None = None,
    records: Sequence[Finding] | None = None,
    anomaly: Mapping[str, pd.DataFrame] | None = None,
) -> str:
    """The markdown report of ``analysis``.

    ``figures`` maps a figure key (see :data:`syscall_lab.report.figures.FIGURES`) to the path the
    report links (relative to the report); figures not listed are not linked. ``records`` are
    the findings (default: :func:`~syscall_lab.experiment.findings.findings` of ``analysis``).
    ``anomaly``, when given, is rendered as the "Anomaly detection" section: each caption
    (a sentence saying what the table measures) followed by its table, columns as they are
    (floats to 3 significant digits, booleans as yes/no), e.g. the frames of
    :class:`~syscall_lab.detect.on_conditions.ExperimentDetection`.
    """
    figures = dict(figures or {})
    sections: list[list[str]] = [
        _header(analysis, date, host),
        _findings(findings(analysis) if records is None else records),
        _environment(analysis),
        _top_syscalls(analysis) + _figure(figures, "shares", "syscall distributions"),
        _self_checks(analysis),
        _shifts(analysis, figures),
        _distances(analysis),
        _timing(analysis, figures) + _phase(analysis),
        _ambient(analysis),
        _overhead(analysis),
        _anomaly(anomaly),
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
    anomaly: Mapping[str, pd.DataFrame] | None = None,
) -> Path:
    """Draw the figures beside ``out``, render the report and write it atomically; its path.

    ``date`` defaults to now (UTC, to the minute), ``host`` to this machine's name; ``anomaly``
    as in :func:`render_report`. The figures (:func:`syscall_lab.report.figures.write_figures`) land
    in ``out``'s folder.
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
        anomaly=anomaly,
    )
    write_text(out, text)
    return out

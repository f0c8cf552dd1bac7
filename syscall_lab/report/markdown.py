"""The experiment's markdown report: at a glance, findings, detection, method, tables, figures.

The first screen is one table, one row per condition: what changed in its syscall counts and
its timing against its baseline, whether the baseline's control held, and which detectors
separate it from its baseline. Then the findings, grouped by condition; the anomaly detection
as a detector x condition matrix of AUCs; the method; and the long per-syscall tables, each in
a collapsible ``<details>`` block. The sections are :mod:`~syscall_lab.report.summary`'s,
:mod:`~syscall_lab.report.anomaly`'s and :mod:`~syscall_lab.report.details`'; this module puts
them together.

Renderers only format. Every number comes in computed (an
:class:`~syscall_lab.experiment.analysis.ExperimentAnalysis`, its findings, the detection on
the conditions, optional extra anomaly tables) and is written by :mod:`syscall_lab.formatting`;
the volatile values, date and host, come in as arguments, so the same analysis always renders
to the same text (the golden tests rely on it). :func:`write_report` is the one function that
touches the disk: it draws the figures beside the report and writes both atomically.
"""

from __future__ import annotations

import platform
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from syscall_lab.detect.on_conditions import ExperimentDetection
from syscall_lab.experiment.analysis import ExperimentAnalysis
from syscall_lab.experiment.findings import Finding, findings
from syscall_lab.report.anomaly import anomaly_section
from syscall_lab.report.details import (
    ambient_section,
    distances_section,
    method_section,
    overhead_section,
    self_checks_section,
    shifts_section,
    syscalls_section,
    timing_section,
)
from syscall_lab.report.observers import observers_section
from syscall_lab.report.summary import findings_section, glance_section
from syscall_parse.atomic import write_text

__all__ = [
    "DEFAULT_REPORT",
    "extract_section",
    "render_report",
    "write_report",
]

DEFAULT_REPORT = Path("reports/REPORT.md")
"""Where ``syscall-lab run`` writes the report, relative to the current folder."""


def _header(analysis: ExperimentAnalysis, date: str, host: str) -> list[str]:
    data = analysis.observers.whole if analysis.observers is not None else analysis.data
    settings = data.settings
    each = "per condition and observer" if analysis.observers is not None else "per condition"
    return [
        "# syscall-lab report",
        "",
        f"Generated {date} on {host} from {len(data.runs)} traced runs "
        f"({settings.repeats} {each}) stored in `{settings.out_dir}`. Each table "
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
        glance_section(analysis, detection, figures),
        findings_section(findings(analysis) if records is None else records),
        anomaly_section(detection, anomaly),
        method_section(analysis),
        syscalls_section(analysis, figures),
        self_checks_section(analysis),
        shifts_section(analysis, figures),
        distances_section(analysis),
        timing_section(analysis, figures),
        ambient_section(analysis),
        overhead_section(analysis),
        observers_section(analysis),
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
    from syscall_lab.report.timelines import write_timelines

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
    timelines = write_timelines(analysis.data, out.parent)
    write_text(out, text + ("\n" + "\n".join(timelines) + "\n" if timelines else ""))
    return out

"""The report's "Anomaly detection" section: the detector x condition matrix of AUCs, each AUC
with its interval (collapsed), the false alarms beside ambient load per baseline, and any extra
table as it comes (the ADFA-LD benchmark)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from syscall_lab.detect.on_conditions import SEPARATING_AUC, ExperimentDetection
from syscall_lab.formatting import MISSING, interval, number, percent
from syscall_lab.report.markup import collapsed, table, versus, yes_no

__all__ = ["anomaly_section"]


def anomaly_section(
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
            table(rows, ["detector", *conditions]),
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
                d.detector, versus(d.baseline, d.condition), number(d.auc),
                interval(d.auc_ci), f"{d.n_condition} vs {d.n_normal}",
            ]
            for d in detection.separations
        ]  # fmt: skip
        lines += [
            "",
            *collapsed(
                "Each AUC with its stratified-bootstrap 95% interval",
                [table(interval_rows, ["detector", "comparison", "AUC", "95% CI", "runs"])],
            ),
        ]
        lines += _false_alarms(detection)
    for caption, frame in (tables or {}).items():
        rows = [[_cell(value) for value in row] for row in frame.itertuples(index=False)]
        lines += ["", caption, "", table(rows, [str(column) for column in frame.columns])]
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
                *(percent(r.ambient_far[c]) for c in ambient), yes_no(r.within_budget),
            ]
            for r in records
        ]  # fmt: skip
        lines += [
            "",
            f"False alarms beside ambient load, {baseline}: the share of runs flagged at a "
            f"threshold fixed on {baseline}'s quiet runs (budget: at most twice the quiet "
            "rate).",
            "",
            table(rows, ["detector", "threshold", "quiet", *ambient, "within budget"]),
        ]
    return lines


def _cell(value: object) -> str:
    if isinstance(value, (bool, np.bool_)):
        return yes_no(bool(value))
    if isinstance(value, (float, np.floating)):
        return number(float(value))
    return str(value)

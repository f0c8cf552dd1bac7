"""A timeline of one run of each condition, written beside the report, and its links.

``write_timelines`` writes ``timelines/<condition>.json.gz`` (``syscall-lab timeline`` of the
condition's first run, strace's where strace traced it, its whole raw log) under the report's
folder and returns the markdown section linking them; conditions whose raw logs are not on disk
(an experiment copied without its ``runs/``) are left out, and a log that cannot be put on a
timeline is said to be.
"""

from __future__ import annotations

from pathlib import Path

from syscall_lab.experiment.dataset import ExperimentData
from syscall_lab.timeline.clock import TimelineError
from syscall_lab.timeline.writer import write_timeline
from syscall_parse.errors import TraceError

__all__ = ["TIMELINES", "write_timelines"]

TIMELINES = "timelines"
"""The folder of the timelines, beside the report."""


def write_timelines(data: ExperimentData, folder: Path) -> list[str]:
    """Write one timeline per condition (its first run, strace's first) under
    ``folder / TIMELINES``; the markdown lines linking them (none when no run has its raw log)."""
    links = []
    for condition in data.conditions:
        runs = [r for r in data.runs if r.condition == condition]
        run = min(runs, key=lambda r: (r.observer != data.observers[0], r.repeat))
        logs = [run.run_dir / name for name in run.metadata.logs if (run.run_dir / name).is_file()]
        if not logs:
            continue
        out = folder / TIMELINES / f"{condition}.json.gz"
        out.parent.mkdir(parents=True, exist_ok=True)
        try:
            write_timeline(logs, out)
        except (TimelineError, TraceError) as exc:  # one run's log: the report goes on
            links.append(f"- {condition}: no timeline ({exc})")
            continue
        links.append(f"- [{condition}]({TIMELINES}/{out.name}) (run `{run.run_id}`)")
    if not links:
        return []
    return [
        "## Timelines",
        "",
        "One run of each condition as a timeline (Chrome Trace Event format; open it in "
        "[Perfetto's UI](https://ui.perfetto.dev) or chrome://tracing): a track per thread, "
        "each call a slice. How it is built: docs/timeline.md.",
        "",
        *links,
    ]

"""The report links a timeline of one run of each condition, written beside it."""

from __future__ import annotations

import gzip
import json
import os
import sys

import pytest

from syscall_lab.capture.run import capture_command
from syscall_lab.experiment.dataset import ExperimentData, ExperimentSettings, Run
from syscall_lab.report.timelines import write_timelines
from syscall_parse.table import read_trace

pytestmark = pytest.mark.strace
PYTHON = os.path.realpath(sys.executable)


def test_one_timeline_per_condition(strace, tmp_path):
    """Two conditions of two real runs each: one timeline per condition, of its first run,
    under timelines/, each linked; a condition whose raw log is gone is left out."""
    runs = []
    for repeat in range(2):
        for condition, code in [("quiet", "pass"), ("busy", "open('/dev/null').read()")]:
            result = capture_command(
                [PYTHON, "-c", code], label=condition, out_dir=tmp_path / "runs", repeat=repeat,
                measure_untraced=False,
            )  # fmt: skip
            events = read_trace(list(result.logs))
            runs.append(Run(condition, repeat, result.run_dir.name, result.run_dir,
                            result.metadata, events))  # fmt: skip
    gone = Run("gone", 0, "gone-run", tmp_path / "nowhere", runs[0].metadata, runs[0].events)
    data = ExperimentData(ExperimentSettings(), (*runs, gone), runs[0].metadata.environment)

    lines = write_timelines(data, tmp_path / "report")

    assert "## Timelines" == lines[0]
    firsts = {run.condition: run.run_id for run in runs if run.repeat == 0}
    for condition, run_id in firsts.items():
        assert f"- [{condition}](timelines/{condition}.json.gz) (run `{run_id}`)" in lines
        with gzip.open(tmp_path / "report" / "timelines" / f"{condition}.json.gz") as handle:
            trace = json.load(handle)
        assert any(e["ph"] == "X" and e["name"] == "execve" for e in trace["traceEvents"])
    assert {"busy.json.gz", "quiet.json.gz"} == {
        p.name for p in (tmp_path / "report" / "timelines").iterdir()
    }
    assert not any("gone" in line for line in lines)

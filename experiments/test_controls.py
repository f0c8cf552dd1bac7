"""Controls: the statistics do not cry wolf.

normal-control is a second batch of normal runs, captured independently and interleaved with
all the others; normal against it must show no shift. Each workload condition against itself:
its runs' counts are identical (the workloads do counted, not timed, work). A half split of 5
runs (2 vs 3) cannot reach significance at all (smallest p 0.2), so it would be a check that
cannot fail; the independent control batch is the statistical control.
"""

from __future__ import annotations

import pytest

from syscall_lab.analyse.tables import count_table
from syscall_lab.conditions import CONTROL

pytestmark = [pytest.mark.strace, pytest.mark.slow]


@pytest.mark.usefixtures("enough_runs")
def test_normal_against_an_independent_batch_shifts_no_syscall(experiment) -> None:
    """Normal vs normal-control: no syscall count shifts significantly."""
    comparison = experiment.comparisons["normal", CONTROL]
    assert [] == [shift.name for shift in comparison.shifts if shift.significant]


@pytest.mark.usefixtures("enough_runs")
def test_normal_against_an_independent_batch_has_no_distance(experiment) -> None:
    """Normal vs normal-control: the Jensen-Shannon distance is not significant."""
    distance = experiment.comparisons["normal", CONTROL].distance
    assert distance is not None
    assert distance.p_value > experiment.alpha


def test_normal_against_an_independent_batch_counts_identical(experiment) -> None:
    """Normal vs normal-control: every run of both batches makes the same counts."""
    assert experiment.comparisons["normal", CONTROL].equivalence.identical


def test_condition_counts_identical_over_repeats(condition) -> None:
    """Each workload condition against itself: its runs' syscall counts are identical."""
    counts = count_table(condition.runs)
    assert len(condition.runs) >= 2
    assert [counts.iloc[0].tolist()] * len(counts) == counts.to_numpy().tolist()


@pytest.mark.usefixtures("python_backend", "enough_runs")
def test_stressed_conditions_differ_from_their_control(experiment) -> None:
    """The test that finds nothing between normal and its control does find the stressed
    conditions (memory, io): it can reject."""
    for condition in ("memory", "io"):
        comparison = experiment.comparisons["normal", condition]
        assert any(shift.significant for shift in comparison.shifts), condition

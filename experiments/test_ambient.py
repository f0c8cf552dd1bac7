"""Ambient load: a baseline traced beside an untraced stressor, in rounds with all the others.

The normal workload's behaviour is counted, not timed, so its syscall counts must not change
when another process loads the CPU, memory or disk. Latency does change (median, p99, calls
over 1 ms), but on a shared 2-core machine its shift is not robust over 5 runs: the report gives
it with its test and the shift that was detectable, and this module asserts only the counts and
how the runs were captured. The ambient runs used to come after all the others, so the time of
capture was confounded with the load; now each round holds one run of every condition, shuffled.
"""

from __future__ import annotations

import math

import pytest

from syscall_lab.conditions import RESOURCES, Kind, ambient_condition, condition_named

pytestmark = [pytest.mark.strace, pytest.mark.slow]


@pytest.mark.parametrize("resource", RESOURCES)
def test_ambient_load_keeps_the_counts(experiment, resource: str) -> None:
    """Under ambient load of each resource, normal's counts are identical to normal's."""
    condition = ambient_condition(resource).name
    if condition not in experiment.ambient:
        pytest.skip(f"{condition} was not captured")
    assert experiment.ambient[condition].identical


def test_ambient_runs_are_interleaved_with_the_others(experiment_data) -> None:
    """Every round holds one run of every condition (under each observer), the ambient ones
    too, round after round; in some round an ambient run comes before a quiet run of its
    baseline."""
    ambient = [c for c in experiment_data.conditions if condition_named(c).kind is Kind.AMBIENT]
    if not ambient:
        pytest.skip("no ambient condition was captured")
    repeats = [run.repeat for run in experiment_data.runs]
    assert sorted(repeats) == repeats
    rounds = experiment_data.rounds
    slots = sorted(
        f"{c}@{o}" if o != "strace" else c
        for c in experiment_data.conditions
        for o in experiment_data.observers
    )
    assert [slots] * len(rounds) == [sorted(r) for r in rounds]
    assert any(
        names.index(name) < names.index(condition_named(name).baseline or "")
        for names in rounds
        for name in ambient
    )


@pytest.mark.usefixtures("enough_runs")
@pytest.mark.parametrize("resource", RESOURCES)
def test_latency_is_stated_with_what_was_detectable(experiment, resource: str) -> None:
    """Whether or not normal's median latency shifts beside the load, the report can say how
    large a shift was detectable: significant, or a finite detectable shift."""
    condition = ambient_condition(resource).name
    if condition not in experiment.ambient:
        pytest.skip(f"{condition} was not captured")
    shift = {s.name: s for s in experiment.comparisons["normal", condition].timing}
    detectable = {d.name: d for d in experiment.sensitivity["normal", condition].timing}
    median = shift["latency_median"]
    assert median.significant or math.isfinite(detectable["latency_median"].shift)

"""Ambient load: the normal workload traced beside an untraced stressor of each resource.

The workload's behaviour is counted, not timed, so its syscall counts must not change when
another process loads the CPU, memory or disk. Latency does change (p99, calls over 1 ms),
but on a shared 2-core machine its shift is not robust over 5 runs: the report gives it
with its test, and this module asserts only the counts.
"""

from __future__ import annotations

import pytest

from syscall_lab.conditions import RESOURCES, ambient_condition

pytestmark = [pytest.mark.strace, pytest.mark.slow]


@pytest.mark.parametrize("resource", RESOURCES)
def test_ambient_load_keeps_the_counts(experiment, resource: str) -> None:
    """Under ambient load of each resource, normal's counts are identical to normal's."""
    condition = ambient_condition(resource).name
    if condition not in experiment.ambient:
        pytest.skip(f"{condition} was not captured")
    assert experiment.ambient[condition].identical

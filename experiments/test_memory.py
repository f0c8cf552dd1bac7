"""Memory stress against normal: the workload's memory syscalls rise, significantly.

The memory workload maps 64 anonymous 4 MiB regions with ``mmap.mmap(-1, ...)``, touches every
page and closes each: one ``mmap`` and one ``munmap`` per region, in every run (explicit mmap,
so glibc's adaptive malloc threshold, which would serve repeated same-size buffers from the
heap without a syscall, plays no part). Normal makes neither call in its phase.
"""

from __future__ import annotations

import pytest

from syscall_lab.experiment.analysis import find_shift

pytestmark = [
    pytest.mark.strace,
    pytest.mark.slow,
    pytest.mark.usefixtures("python_backend", "enough_runs"),
]


@pytest.mark.parametrize("syscall", ["mmap", "munmap"])
def test_memory_stress_raises_mapping_calls(experiment, syscall: str) -> None:
    """Under memory stress mmap and munmap rise from 0 to 64 calls per run: significant after
    correction, upward, complete separation of the runs (Cliff's delta 1), ratio >= 10."""
    shift = find_shift(experiment, "memory", syscall)
    assert (True, "up", 1.0) == (shift.significant, shift.direction, shift.effect)
    assert shift.ratio >= 10


def test_memory_stress_changes_the_distribution(experiment) -> None:
    """The whole syscall distribution of the memory phase differs from normal's: the
    Jensen-Shannon distance between conditions exceeds the one within them (permutation p <=
    alpha)."""
    distance = experiment.comparisons["normal", "memory"].distance
    assert distance is not None
    assert distance.p_value <= experiment.alpha
    assert distance.between > distance.within

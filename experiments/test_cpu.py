"""CPU stress against normal: no count signature, only a silent phase.

The cpu workload chains SHA-256 over a 64 KiB block 8,000 times: computation in CPython's C
code. Each round allocates a 64 KiB bytes object, below glibc's 128 KiB mmap threshold, so
malloc serves it from the heap it already has and reuses it after the free: no brk, no mmap.
Measured with CPython 3.11 on glibc 2.36: 0 calls in the phase, in every run. What
distinguishes the phase is timing measured between the phase markers: the syscall rate falls to
0 and the longest gap between syscalls is the whole phase. A libc or Python whose allocator
returned memory to the kernel mid-loop would show a few brk/mmap/munmap here; then the first
test fails and says so.
"""

from __future__ import annotations

import pytest

from syscall_lab.analyse.tables import count_table

pytestmark = [
    pytest.mark.strace,
    pytest.mark.slow,
    pytest.mark.usefixtures("python_backend", "enough_runs"),
]


def test_cpu_phase_makes_no_syscalls(experiment_data) -> None:
    """Every cpu run's measured phase makes 0 syscalls."""
    counts = count_table(experiment_data.runs_of("cpu"))
    assert [0] * len(counts) == counts.sum(axis=1).tolist()


def test_cpu_stress_has_no_count_signature(experiment) -> None:
    """No syscall rises under CPU stress: every significant count shift is a fall (normal's
    own calls vanishing), never a call of its own."""
    shifts = experiment.comparisons["normal", "cpu"].shifts
    assert [] == [s.name for s in shifts if s.significant and s.direction == "up"]
    assert all(s.median == 0 for s in shifts)


def test_cpu_stress_lowers_the_syscall_rate(experiment) -> None:
    """The syscall rate of the phase falls (significant, Cliff's delta -1)."""
    rate = {s.name: s for s in experiment.phase_shifts["normal", "cpu"]}["rate"]
    assert (True, "down", -1.0) == (rate.significant, rate.direction, rate.effect)


def test_cpu_stress_makes_the_longest_gap_most_of_the_phase(experiment) -> None:
    """The longest gap between syscalls (phase markers included) grows significantly, to more
    than 90% of the phase in the median run."""
    gap = {s.name: s for s in experiment.phase_shifts["normal", "cpu"]}["gap_share"]
    assert (True, "up") == (gap.significant, gap.direction)
    assert gap.median > 0.9

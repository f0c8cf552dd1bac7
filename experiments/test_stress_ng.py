"""stress-ng's stressors, traced whole, against stress-ng's cpu stressor.

stress-ng has no phase markers, so each stressor is compared with ``stress-ng --cpu``, whose
work needs no kernel: stress-ng's own start-up (a few hundred calls) is in both. The stressors
are time-driven, so their counts vary from run to run; what holds is complete separation of the
runs in the characteristic syscalls. Measured with stress-ng 0.15 (Debian 12): ``--mmap`` maps,
unmaps and madvises thousands of times; ``--hdd --hdd-opts fsync`` writes, seeks and fsyncs
hundreds of times. Other stress-ng versions choose other calls (e.g. ``pwrite``); a test that
fails there names the call.
"""

from __future__ import annotations

import pytest

from syscall_lab.conditions import STRESS_NG_BASELINE, stress_ng_condition
from syscall_lab.experiment.analysis import find_shift

pytestmark = [
    pytest.mark.strace,
    pytest.mark.slow,
    pytest.mark.stress_ng,
    pytest.mark.usefixtures("enough_runs"),
]


@pytest.fixture
def stress_ng_analysis(experiment):
    """The experiment, when it holds the stress-ng conditions (else skip, with the reason)."""
    if STRESS_NG_BASELINE not in experiment.summaries:
        pytest.skip("; ".join(experiment.data.skipped) or "no stress-ng conditions captured")
    return experiment


@pytest.mark.parametrize(
    ("stressor", "syscall"),
    [
        ("memory", "mmap"),
        ("memory", "munmap"),
        ("memory", "madvise"),
        ("io", "write"),
        ("io", "fsync"),
        ("io", "lseek"),
    ],
)
def test_stressor_raises_its_syscalls(stress_ng_analysis, stressor: str, syscall: str) -> None:
    """Each stressor's characteristic syscalls rise against stress-ng --cpu: significant,
    upward, complete separation (Cliff's delta 1), ratio >= 10."""
    condition = stress_ng_condition(stressor).name
    shift = find_shift(stress_ng_analysis, condition, syscall, baseline=STRESS_NG_BASELINE)
    assert (True, "up", 1.0) == (shift.significant, shift.direction, shift.effect)
    assert shift.ratio >= 10

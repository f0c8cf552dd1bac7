"""Real programs beside ambient load: git grep (two threads) and sqlite3 (fdatasync).

Our workload makes the same calls in every run by construction, so its identical counts under
load say little. Real programs vary: git grep's two threads wait on each other (futex, with
EAGAIN), its allocator trims arenas when it happens to (munmap). Measured with git 2.39 and
sqlite 3.40 (Debian 12): sqlite3, one thread, makes the same calls in every run, quiet or beside
an io load; git grep's futex, ioctl and munmap counts vary from run to run, quiet or not, and no
shift between two quiet batches is significant; its calls on the files it searches do not vary.
Beside a CPU load its futex count rose threefold in one experiment (significant) and not in
others, and a run now and then makes one mmap and one mprotect fewer (a second malloc arena
never made): that is where load shows in counts, and the report gives it with the shift that
was detectable, without asserting it.
"""

from __future__ import annotations

import math

import pytest

from syscall_lab.conditions import ambient_condition, control_condition

pytestmark = [pytest.mark.strace, pytest.mark.slow]


def _program(experiment, name: str) -> str:
    if name not in experiment.summaries:
        pytest.skip("; ".join(experiment.data.skipped) or f"{name} was not captured")
    return name


def test_sqlite_makes_the_same_calls_quiet_and_under_io_load(experiment) -> None:
    """sqlite3's runs make identical counts: in its own batch, in an independent one (the
    control), and beside an io load."""
    name = _program(experiment, "sqlite")
    assert experiment.self_checks[name].identical
    for other in (control_condition(name).name, ambient_condition("io", name).name):
        assert experiment.comparisons[name, other].equivalence.identical, other


def test_git_grep_counts_vary_between_runs(experiment) -> None:
    """git grep's runs do not all make the same counts (the check of identical counts above
    can fail on a real program)."""
    name = _program(experiment, "git-grep")
    check = experiment.self_checks[name]
    assert (False, True) == (check.identical, check.spread > 0)


@pytest.mark.usefixtures("enough_runs")
def test_git_grep_control_holds(experiment) -> None:
    """Two quiet batches of git grep: no syscall count shifts significantly, counts varying as
    they do (the rank tests do not cry wolf on real programs' variation)."""
    name = _program(experiment, "git-grep")
    comparison = experiment.comparisons[name, control_condition(name).name]
    assert [] == [shift.name for shift in comparison.shifts if shift.significant]
    assert experiment.controls[name]


FILE_CALLS = ("openat", "newfstatat", "getdents64", "read", "write", "close")
"""git grep's calls on the tree it searches and on its output."""


@pytest.mark.parametrize("other", ["control", "under-cpu"])
def test_git_grep_calls_on_its_files_stay_under_load(experiment, other: str) -> None:
    """git grep opens, reads and closes each file once whichever thread does it: the counts of
    its calls on files are one row, the same in every run of its quiet batch, of its control
    batch (the control) and beside a CPU load."""
    name = _program(experiment, "git-grep")
    batch = (
        control_condition(name).name if other == "control" else ambient_condition("cpu", name).name
    )
    rows = {
        tuple(int(v) for v in row)
        for condition in (name, batch)
        for row in experiment.summaries[condition]
        .counts.reindex(columns=list(FILE_CALLS), fill_value=0)
        .to_numpy()
    }
    assert 1 == len(rows), rows


@pytest.mark.usefixtures("enough_runs")
def test_git_grep_shift_under_load_is_stated_with_what_was_detectable(experiment) -> None:
    """The futex count under CPU load: significant, or with a finite detectable shift, so that
    "no significant shift" reads as "no shift larger than X"."""
    name = _program(experiment, "git-grep")
    condition = ambient_condition("cpu", name).name
    shifts = {s.name: s for s in experiment.comparisons[name, condition].shifts}
    detectable = {d.name: d for d in experiment.sensitivity[name, condition].counts}
    futex = shifts["futex"]
    assert futex.significant or math.isfinite(detectable["futex"].shift)

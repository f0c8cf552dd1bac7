"""The experiment under both observers: strace and the eBPF observer see the same calls, and
the timing findings are measured under both.

Under ``--syscall-observer auto`` (the default) or ``both`` every condition is captured under
strace and under the eBPF observer in the same rounds. Our workloads make counted, not timed,
calls, so each one's phase counts must be the same whoever observes them (the counts test).
Their timing is another matter: strace stops the program twice per call, so latencies, rates
and gaps under strace are the program's and its observer's; the eBPF observer barely slows it.
Where the experiment ran under strace alone (eBPF unavailable, or ``--syscall-observer
strace``), these tests skip and say why.
"""

from __future__ import annotations

import pytest

from syscall_lab.analyse.tables import count_table
from syscall_lab.conditions import CONTROL, DEFAULT_WORKLOADS
from syscall_lab.experiment.observers import ObserverComparison

pytestmark = [pytest.mark.strace, pytest.mark.ebpf, pytest.mark.slow]


@pytest.fixture(scope="session")
def both(experiment) -> ObserverComparison:
    """The comparison of the two observers; skip, saying why, when there is one observer."""
    if experiment.observers is None:
        reasons = [s for s in experiment.data.skipped if "eBPF" in s]
        pytest.skip(reasons[0] if reasons else "captured under one observer (--syscall-observer)")
    return experiment.observers


@pytest.mark.parametrize("name", [*DEFAULT_WORKLOADS, CONTROL])
def test_phase_counts_are_equal_under_both_observers(both, experiment_data, name) -> None:
    """Every run of a workload makes the same count of each syscall in its phase under strace
    and under eBPF: one count row for all runs of both (none at all for cpu)."""
    if name not in experiment_data.conditions:
        pytest.skip(f"{name} was not captured (backend {experiment_data.settings.backend})")
    rows = {
        observer: {
            tuple(sorted((k, v) for k, v in row.items() if v))
            for row in count_table(experiment_data.runs_of(name, observer)).to_dict("records")
        }
        for observer in both.observers
    }
    strace, ebpf = (rows[observer] for observer in both.observers)

    assert 1 == len(strace)
    assert strace == ebpf


def test_io_timing_is_evaluated_under_both_observers(both, experiment, experiment_data) -> None:
    """IO stress against normal: its median latency, p99 latency, rate and longest gap are
    each tested under both observers, over every run of each, and given a verdict."""
    if ("normal", "io") not in experiment.comparisons:
        pytest.skip("io was not captured against normal")
    agreements = {a.name: a for a in both.of_pair("normal", "io", "timing")}
    repeats = experiment_data.settings.repeats

    for metric in ("latency_median", "latency_p99", "rate", "gap_max"):
        agreement = agreements[metric]
        for shift in (agreement.first, agreement.second):
            assert (repeats, repeats) == (shift.n_baseline, shift.n)


@pytest.mark.parametrize("name", [*DEFAULT_WORKLOADS, CONTROL])
def test_strace_inflates_every_runs_median_latency(both, experiment, name) -> None:
    """strace's -T time holds its own stops; the kernel's entry-to-exit time does not: every
    run's median call latency under strace exceeds every run's under eBPF, and the median over
    runs by at least 1.5x (measured here: normal 7-10 against 1.2-1.8 µs, io 16-21 against 8-9,
    memory 330-600 against 85-100)."""
    summaries = (experiment.summaries.get(name), both.second.summaries.get(name))
    if any(s is None or s.timing["latency_median"].isna().all() for s in summaries):
        pytest.skip(f"{name} has no timed call under one of the observers")
    strace, ebpf = (s.timing["latency_median"].dropna() for s in summaries)

    assert strace.min() > ebpf.max()
    assert strace.median() > 1.5 * ebpf.median()


def test_ebpf_disturbs_the_runs_less_than_strace(both, experiment) -> None:
    """The median over conditions of each one's median traced / untraced wall time is lower
    under the eBPF observer than under strace."""
    first = [s.overhead for s in experiment.summaries.values() if s.overhead is not None]
    second = [s.overhead for s in both.second.summaries.values() if s.overhead is not None]

    assert sorted(first)[len(first) // 2] > sorted(second)[len(second) // 2]

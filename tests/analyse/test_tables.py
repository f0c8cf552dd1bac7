"""Tests of syscall_lab.analyse.tables: per-run count, share, n-gram and timing tables.

Event tables are built directly in the schema of syscall_parse.schema, with known answers.
"""

from __future__ import annotations

import math
import subprocess

import numpy as np
import pandas as pd
import pytest

from syscall_lab.analyse.tables import (
    PHASE_COLUMNS,
    TIMING_COLUMNS,
    AnalysisError,
    call_durations,
    count_table,
    mean_shares,
    ngram_table,
    phase_table,
    share_table,
    timing_table,
)
from syscall_parse.schema import COLUMNS, DTYPES
from syscall_parse.table import read_trace


def events(*rows: dict) -> pd.DataFrame:
    """An event table in the schema; each row gives some columns, the rest are null.

    ``kind`` defaults to ``syscall`` and ``returned`` to true; ``line`` counts from 1.
    """
    records = []
    for number, row in enumerate(rows, start=1):
        record = dict.fromkeys(COLUMNS)
        record.update(line=number, end_line=number, kind="syscall", returned=True)
        record.update(row)
        records.append(record)
    frame = pd.DataFrame.from_records(records, columns=list(COLUMNS))
    return frame.astype(DTYPES)


def calls(*names: str, pid: int = 1) -> list[dict]:
    return [{"syscall": name, "pid": pid} for name in names]


def test_count_table_counts_each_run_and_fills_zero():
    """Counts per run, runs in mapping order, syscalls sorted, 0 where a run never called."""
    runs = {
        "b": events(*calls("read", "read", "write")),
        "a": events(*calls("openat", "read")),
    }

    table = count_table(runs)

    expected = pd.DataFrame(
        [[0, 2, 1], [1, 1, 0]],
        index=pd.Index(["b", "a"], dtype=object, name="run"),
        columns=pd.Index(["openat", "read", "write"], dtype=object, name="syscall"),
        dtype="int64",
    )
    pd.testing.assert_frame_equal(expected, table)


def test_count_table_ignores_other_events_and_can_skip_unreturned_calls():
    """Signals and exits are not calls; returned_only drops calls that never returned."""
    run = events(
        {"syscall": "read", "pid": 1},
        {"kind": "signal", "signal": "SIGCHLD", "pid": 1},
        {"syscall": "exit_group", "pid": 1, "returned": False},
        {"kind": "exit", "status": 0, "pid": 1},
    )

    assert {"exit_group": 1, "read": 1} == count_table({"r": run}).iloc[0].to_dict()
    assert {"read": 1} == count_table({"r": run}, returned_only=True).iloc[0].to_dict()


def test_count_table_names_the_run_missing_a_column():
    """A table without the syscall column is refused with the run's name."""
    with pytest.raises(AnalysisError, match=r"run 'x'.*syscall"):
        count_table({"x": pd.DataFrame({"kind": ["syscall"]})})


def test_count_table_of_runs_without_calls_has_no_columns():
    """Runs without any call give zero-width rows, not an error."""
    table = count_table({"quiet": events({"kind": "exit", "status": 0})})

    assert (1, 0) == table.shape


def test_share_table_rows_sum_to_one():
    """Shares are the counts divided by the run's total."""
    counts = pd.DataFrame({"read": [3, 1], "write": [1, 1]}, index=["a", "b"])

    shares = share_table(counts)

    assert [[0.75, 0.25], [0.5, 0.5]] == shares.to_numpy().tolist()


def test_share_table_refuses_a_run_without_calls():
    """A run with no calls has no distribution; the error names it."""
    counts = pd.DataFrame({"read": [3, 0]}, index=["a", "silent"])

    with pytest.raises(AnalysisError, match="silent"):
        share_table(counts)


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        pytest.param({"read": [1, 3], "write": [1, 1]}, {"read": 0.625, "write": 0.375}, id="mean"),
        pytest.param({"read": [0, 2], "write": [0, 2]}, {"read": 0.5, "write": 0.5}, id="no-call"),
        pytest.param({"read": [0, 0]}, {}, id="never"),
    ],
)
def test_mean_shares(counts: dict[str, list[int]], expected: dict[str, float]) -> None:
    """Mean share over the runs that made calls; empty when none did."""
    table = pd.DataFrame(counts, dtype="int64")
    actual = mean_shares(table)
    assert expected == {name: value for name, value in actual.items() if not math.isnan(value)}


def test_ngram_table_follows_each_pid_never_across_pids():
    """Interleaved pids give n-grams of each pid's own sequence in line order."""
    run = events(
        {"syscall": "openat", "pid": 1},
        {"syscall": "mmap", "pid": 2},
        {"syscall": "read", "pid": 1},
        {"syscall": "mmap", "pid": 2},
        {"syscall": "close", "pid": 1},
        {"syscall": "munmap", "pid": 2},
        {"syscall": "openat", "pid": 1},
    )

    table = ngram_table({"r": run}, 3)

    expected = {"mmap mmap munmap": 1, "openat read close": 1, "read close openat": 1}
    assert expected == table.iloc[0].to_dict()
    assert "ngram" == table.columns.name


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        pytest.param(1, {"a": 2, "b": 2}, id="unigrams-are-counts"),
        pytest.param(2, {"a b": 2, "b a": 1}, id="bigrams"),
        pytest.param(5, {}, id="longer-than-the-sequence"),
    ],
)
def test_ngram_table_lengths(n, expected):
    """n-grams of the sequence a b a b for several n."""
    table = ngram_table({"r": events(*calls("a", "b", "a", "b"))}, n)

    assert expected == table.iloc[0].to_dict()


def test_ngram_table_of_unigrams_equals_count_table():
    """1-grams are the syscall counts, whatever the pids."""
    runs = {"r": events(*calls("a", "b", "a"), *calls("c", "a", pid=2))}

    assert count_table(runs).to_numpy().tolist() == ngram_table(runs, 1).to_numpy().tolist()


def test_ngram_table_events_without_pid_form_one_sequence():
    """A log without pids (no -f) is one sequence."""
    run = events({"syscall": "a"}, {"syscall": "b"}, {"syscall": "c"})

    assert {"a b c": 1} == ngram_table({"r": run}, 3).iloc[0].to_dict()


def test_ngram_table_refuses_length_zero():
    """An n-gram has at least one call."""
    with pytest.raises(AnalysisError, match="at least 1"):
        ngram_table({"r": events(*calls("a"))}, 0)


def test_timing_table_known_values():
    """Rate, latency and gaps of a hand-made run (times in seconds, -T durations)."""
    run = events(
        {"syscall": "read", "pid": 1, "time": 10.0, "duration": 0.0001},
        {"syscall": "read", "pid": 2, "time": 10.5, "duration": 0.002},
        {"syscall": "write", "pid": 1, "time": 10.75, "duration": 0.0003},
        {"kind": "signal", "signal": "SIGCHLD", "pid": 1, "time": 12.0},
        {"syscall": "close", "pid": 1, "time": 12.0, "duration": 0.005},
    )

    row = timing_table({"r": run}).loc["r"]

    durations = np.array([0.0001, 0.002, 0.0003, 0.005])
    expected = {
        "calls": 4.0,
        "phase_duration": 2.0,
        "rate": 2.0,
        "latency_median": float(np.median(durations)),
        "latency_p99": float(np.percentile(durations, 99)),
        "slow_calls": 2.0,
        "gap_median": 0.5,
        "gap_p99": float(np.percentile([0.5, 0.25, 1.25], 99)),
        "gap_max": 1.25,
    }
    assert list(TIMING_COLUMNS) == list(row.index)
    assert expected == pytest.approx(row.to_dict())


def test_timing_table_without_durations_or_times_gives_nan():
    """A trace without -T or timestamps has no latency or gap figures, but still a call count."""
    row = timing_table({"r": events(*calls("read", "write"))}).loc["r"]

    assert 2.0 == row["calls"]
    assert all(math.isnan(row[column]) for column in TIMING_COLUMNS if column != "calls")


def test_phase_table_measures_between_the_markers():
    """Span, calls, rate and longest gap between the markers; a phase without calls has rate 0
    and its whole span as the longest gap."""
    busy = events(
        {"syscall": "read", "pid": 1, "time": 10.5},
        {"kind": "signal", "signal": "SIGCHLD", "pid": 1, "time": 10.6},
        {"syscall": "write", "pid": 2, "time": 10.75},
        {"syscall": "close", "pid": 1, "time": 11.0},
    )
    quiet = events({"kind": "exit", "status": 0, "pid": 1, "time": 20.1})

    table = phase_table({"busy": busy, "quiet": quiet}, {"busy": (10.0, 12.0), "quiet": (20, 20.5)})

    assert list(PHASE_COLUMNS) == list(table.columns)
    assert [2.0, 3.0, 1.5, 1.0, 0.5] == table.loc["busy"].tolist()
    assert [0.5, 0.0, 0.0, 0.5, 1.0] == table.loc["quiet"].tolist()


def test_call_durations_pool_the_runs_in_order():
    """The -T durations of every call, run after run; other events and calls without a
    duration are left out."""
    runs = {
        "b": events({"syscall": "read", "duration": 0.5}, {"syscall": "write"}),
        "a": events({"kind": "exit", "status": 0}, {"syscall": "close", "duration": 0.25}),
    }

    assert [0.5, 0.25] == call_durations(runs).tolist()
    assert [] == call_durations({}).tolist()


def strace_summary(path) -> dict[str, int]:
    """Calls per syscall from an ``strace -c`` table: rows between the dashed rules."""
    counts = {}
    for row in path.read_text().splitlines():
        fields = row.split()
        if len(fields) >= 5 and fields[3].isdigit() and fields[-1] != "total":
            counts[fields[-1]] = int(fields[3])
    return counts


@pytest.mark.strace
def test_count_table_of_a_real_trace_agrees_with_strace_c(strace, tmp_path):
    """dd traced twice (deterministic): our counts of returned calls equal strace -c's."""
    command = ["dd", "if=/dev/zero", "of=/dev/null", "bs=4096", "count=50"]
    log, summary = tmp_path / "dd.log", tmp_path / "dd.c"
    for options in (["-ttt", "-T", "-o", str(log)], ["-c", "-o", str(summary)]):
        subprocess.run(
            [strace, "-f", *options, "--", *command], check=True, capture_output=True, timeout=60
        )

    counts = count_table({"dd": read_trace(log)}, returned_only=True).loc["dd"]

    expected = strace_summary(summary)
    assert 50 < expected["read"]
    assert expected == {name: int(n) for name, n in counts.items() if n}


def test_tables_do_not_need_a_categorical_syscall_column():
    """A syscall column of plain strings (as from another reader) gives the same tables."""
    run = events(*calls("a", "b", "a", "c"), *calls("b", "b", pid=2))
    plain = run.assign(syscall=run["syscall"].astype("string"))

    pd.testing.assert_frame_equal(count_table({"r": run}), count_table({"r": plain}))
    pd.testing.assert_frame_equal(ngram_table({"r": run}, 2), ngram_table({"r": plain}, 2))


def test_ngram_table_of_long_grams():
    """n = 64 over two names (2**64 possible grams) still counts windows right."""
    run = events(*calls(*["a", "b"] * 35))

    counts = ngram_table({"r": run}, 64).iloc[0]

    assert {"a": 4, "b": 3} == {label[0]: int(n) for label, n in counts.items()}
    assert all(64 == len(label.split()) for label in counts.index)

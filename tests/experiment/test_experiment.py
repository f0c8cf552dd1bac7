"""Tests of the experiment: settings checks, the plan, a small real capture, its data set,
reload, analysis.

One module-scoped experiment (normal, its control, cpu and io, normal under an ambient CPU
load, and the real program sqlite with its control and beside its io load; 2 repeats at scale
0.25; no stress-ng) is captured for real and shared: several seconds.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest

from syscall_lab.capture.metadata import read_metadata
from syscall_lab.conditions import CATALOGUE, CONTROL, Kind
from syscall_lab.errors import SyscallLabError
from syscall_lab.experiment.analysis import analyse_experiment, find_shift
from syscall_lab.experiment.dataset import ExperimentData, ExperimentError, ExperimentSettings, Run
from syscall_lab.experiment.findings import findings
from syscall_lab.experiment.plan import check_settings, plan_runs
from syscall_lab.experiment.store import (
    EXPERIMENT_FILE,
    FORMAT_VERSION,
    load_experiment,
    run_experiment,
)
from syscall_parse.table import read_csv, read_parquet


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"repeats": 1}, "repeats must be >= 2"),
        ({"scale": 0.0}, "scale must be > 0"),
        ({"scale": float("nan")}, "scale must be > 0"),
        ({"backend": "perl"}, "unknown backend 'perl'"),
        ({"conditions": ("io", "normal")}, "conditions must start with normal"),
        ({"conditions": ()}, "conditions must start with normal"),
        ({"ambient": ("gpu",)}, "no ambient load for gpu"),
        ({"conditions": ("normal", "disk")}, r"unknown condition\(s\) disk; workloads: normal"),
        ({"programs": ("emacs",)}, r"unknown program\(s\) emacs; one of git-grep, sqlite"),
    ],
    ids=[
        "one-repeat",
        "zero-scale",
        "nan-scale",
        "backend",
        "order",
        "empty",
        "ambient",
        "name",
        "program",
    ],
)
def test_bad_settings_are_refused(changes: dict, message: str, tmp_path: Path) -> None:
    """Settings run_experiment cannot run raise ExperimentError saying what is wrong, before
    anything is captured."""
    settings = dataclasses.replace(ExperimentSettings(out_dir=tmp_path), **changes)
    with pytest.raises(ExperimentError, match=message):
        check_settings(settings)
    with pytest.raises(ExperimentError, match=message):
        run_experiment(settings)
    assert [] == list(tmp_path.iterdir())


def test_experiment_error_is_a_syscall_lab_error() -> None:
    """The CLI turns every SyscallLabError into one line; ExperimentError is one."""
    assert issubclass(ExperimentError, SyscallLabError)


def _installed(program: str) -> bool:
    """Every program is installed (the plans below do not depend on this machine)."""
    return True


def _round_names(settings: ExperimentSettings) -> list[list[str]]:
    """The condition names of each round of the plan of ``settings``, in capture order."""
    plan, _ = plan_runs(settings, _installed)
    repeats = sorted({p.repeat for p in plan})
    assert [p.repeat for p in plan] == sorted(p.repeat for p in plan)
    return [[p.condition.name for p in plan if p.repeat == repeat] for repeat in repeats]


def test_each_round_is_every_condition_shuffled_by_the_seed(tmp_path: Path) -> None:
    """Round after round, each holds one run of every condition (the ambient ones with their
    load); the order inside each round is shuffled afresh, the same for the same seed, another
    for another seed."""
    settings = ExperimentSettings(repeats=4, out_dir=tmp_path)
    plan, skipped = plan_runs(settings, _installed)
    names = _round_names(settings)

    assert [] == skipped
    assert 4 == len(names)
    assert [sorted(names[0])] * 4 == [sorted(r) for r in names]
    assert len({tuple(r) for r in names}) > 1
    assert names == _round_names(settings)
    assert names != _round_names(dataclasses.replace(settings, seed=1))
    for planned in plan:
        ambient = planned.condition.kind is Kind.AMBIENT
        assert ambient == (planned.ambient is not None)
        assert planned.ambient is None or planned.ambient.condition == planned.condition.resource


def test_ambient_runs_are_interleaved_not_last() -> None:
    """Over seeds, an ambient run takes every position in its round (before, the ambient runs
    all came after the others)."""
    settings = ExperimentSettings(repeats=2, stress_ng=False, programs=())
    positions = set()
    for seed in range(40):
        first = _round_names(dataclasses.replace(settings, seed=seed))[0]
        positions.add(first.index("normal-under-cpu"))
    assert set(range(len(first))) == positions


def test_missing_programs_are_skipped_and_said_so() -> None:
    """Without git and stress-ng, their conditions are left out and the reasons kept; the
    ambient load is then the Python workload looping."""
    settings = ExperimentSettings(repeats=2)
    plan, skipped = plan_runs(settings, lambda program: program == "sqlite3")
    captured = {p.condition.name for p in plan}
    assert {"git-grep", "git-grep-control", "git-grep-under-cpu"}.isdisjoint(captured)
    assert {"sqlite", "sqlite-control", "sqlite-under-io"} <= captured
    assert [
        "stress-ng conditions (stress-ng-cpu, stress-ng-memory, stress-ng-io): stress-ng is not "
        "installed",
        "git-grep conditions: git is not installed",
    ] == skipped
    assert {"python"} == {p.ambient.backend for p in plan if p.ambient is not None}


SMALL = {
    "repeats": 2,
    "scale": 0.25,
    "conditions": ("normal", "cpu", "io"),
    "ambient": ("cpu",),
    "programs": ("sqlite",),
    "stress_ng": False,
}
CAPTURED = (
    "normal", CONTROL, "cpu", "io", "normal-under-cpu", "sqlite", "sqlite-control",
    "sqlite-under-io",
)  # fmt: skip
"""The conditions of the SMALL experiment, in catalogue order."""


@pytest.fixture(scope="module")
def small(strace: str, tmp_path_factory: pytest.TempPathFactory) -> ExperimentData:
    """A real experiment: normal, normal-control, cpu, io, normal-under-cpu, sqlite,
    sqlite-control, sqlite-under-io; 2 repeats each."""
    settings = ExperimentSettings(out_dir=tmp_path_factory.mktemp("experiment"), **SMALL)
    calls: list[tuple[str, int, int]] = []
    data = run_experiment(settings, progress=lambda *call: calls.append(call))
    data.settings.out_dir.joinpath("progress.json").write_text(json.dumps(calls))
    return data


@pytest.mark.strace
def test_runs_go_in_shuffled_rounds_and_progress_reported(small: ExperimentData) -> None:
    """Runs go in the planned order, round by round; experiment.json keeps each round's order;
    progress sees each run before it starts."""
    plan, _ = plan_runs(small.settings)
    order = [(p.condition.name, p.repeat) for p in plan]
    assert order == [(run.condition, run.repeat) for run in small.runs]
    assert CAPTURED == small.conditions
    starts = [run.metadata.start_utc for run in small.runs]
    assert sorted(starts) == starts
    stored = json.loads(small.settings.out_dir.joinpath(EXPERIMENT_FILE).read_text())
    assert [list(names) for names in small.rounds] == stored["rounds"]
    assert [[c for c, r in order if r == repeat] for repeat in range(2)] == stored["rounds"]
    progress = json.loads(small.settings.out_dir.joinpath("progress.json").read_text())
    assert [[condition, i, 16] for i, (condition, _) in enumerate(order)] == progress


@pytest.mark.strace
def test_control_runs_are_normal_workload_runs(small: ExperimentData) -> None:
    """normal-control runs the normal workload: same command, another label."""
    control = [run for run in small.runs if run.condition == CONTROL]
    normal = [run for run in small.runs if run.condition == "normal"]
    assert [n.metadata.command for n in normal] == [c.metadata.command for c in control]
    assert {CONTROL} == {run.metadata.label for run in control}
    assert {"normal"} == {run.metadata.condition for run in control}


@pytest.mark.strace
def test_events_are_cut_to_the_phase(small: ExperimentData) -> None:
    """A workload run's events lie between its markers: at scale 0.25 normal makes 2 rounds,
    32 calls; cpu none. A real program's run is its whole trace, from its execve."""
    for run in small.runs:
        if CATALOGUE[run.condition].program == "sqlite":
            assert run.phase is None
            assert "execve" == run.events["syscall"].dropna().astype(str).iloc[0]
            continue
        assert run.phase is not None
        start, end = run.phase
        times = run.events["time"].to_numpy(dtype=float)
        assert ((start < times) & (times < end)).all()
    assert [32, 32] == [len(events) for events in small.runs_of("normal").values()]
    assert [0, 0] == [len(events) for events in small.runs_of("cpu").values()]


@pytest.mark.strace
def test_dataset_layout(small: ExperimentData) -> None:
    """Each run is stored as CSV, Parquet and metadata JSON in its condition's folder; the
    raw logs stay in the run folders; experiment.json lists the runs."""
    out = small.settings.out_dir
    for run in small.runs:
        folder = out / "datasets" / run.condition
        assert run.events.equals(read_parquet(folder / f"{run.run_id}.parquet"))
        assert run.events.equals(read_csv(folder / f"{run.run_id}.csv"))
        assert read_metadata(run.run_dir) == run.metadata
        assert (out / "runs" / run.run_id / "trace.log").is_file()
    stored = json.loads((out / EXPERIMENT_FILE).read_text())
    assert FORMAT_VERSION == stored["format_version"]
    assert [run.run_id for run in small.runs] == [entry["run_id"] for entry in stored["runs"]]
    folders = {p.name for p in (out / "datasets").iterdir()}
    assert set(CAPTURED) == folders


@pytest.mark.strace
def test_load_gives_back_the_experiment(small: ExperimentData) -> None:
    """load_experiment reads back the same runs, events, metadata and settings."""
    loaded = load_experiment(small.settings.out_dir)
    assert small.settings == loaded.settings
    assert small.environment == loaded.environment
    assert len(small.runs) == len(loaded.runs)
    for run, back in zip(small.runs, loaded.runs, strict=True):
        assert (run.condition, run.repeat, run.run_id, run.phase) == (
            back.condition, back.repeat, back.run_id, back.phase,
        )  # fmt: skip
        assert run.metadata == back.metadata
        assert run.events.equals(back.events)


def test_load_refuses_a_folder_that_is_not_an_experiment(tmp_path: Path) -> None:
    """A folder without experiment.json is named in the error."""
    with pytest.raises(ExperimentError, match=f"{tmp_path} is not an experiment"):
        load_experiment(tmp_path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "cannot read"),
        ('{"format_version": 99}', "format_version 99, expected 2"),
        ("[]", "format_version None"),
        ('{"format_version": 2}', "cannot load the experiment"),
    ],
    ids=["invalid-json", "newer-format", "not-an-object", "no-settings"],
)
def test_load_refuses_a_bad_experiment_file(tmp_path: Path, text: str, message: str) -> None:
    """An experiment.json that is not one of this format is an ExperimentError."""
    (tmp_path / EXPERIMENT_FILE).write_text(text)
    with pytest.raises(ExperimentError, match=message):
        load_experiment(tmp_path)


@pytest.mark.strace
def test_an_experiment_is_never_overwritten(small: ExperimentData) -> None:
    """Running again into a folder that holds an experiment is refused before any capture."""
    out = small.settings.out_dir
    before = sorted(path.name for path in (out / "runs").iterdir())
    with pytest.raises(ExperimentError, match="already holds an experiment"):
        run_experiment(small.settings)
    assert before == sorted(path.name for path in (out / "runs").iterdir())


@pytest.mark.strace
def test_load_names_a_missing_run_file(small: ExperimentData, tmp_path: Path) -> None:
    """A data set whose Parquet file is gone cannot be loaded; the error says which file."""
    out = tmp_path / "copy"
    out.mkdir()
    (out / EXPERIMENT_FILE).write_bytes((small.settings.out_dir / EXPERIMENT_FILE).read_bytes())
    with pytest.raises(ExperimentError, match=r"\.json|\.parquet"):
        load_experiment(out)


@pytest.mark.strace
def test_analysis_compares_with_normal(small: ExperimentData) -> None:
    """Every condition is compared with normal; summaries and self-checks cover all."""
    analysis = analyse_experiment(small)
    pairs = {("normal", c) for c in (CONTROL, "cpu", "io", "normal-under-cpu")}
    pairs |= {("sqlite", "sqlite-control"), ("sqlite", "sqlite-under-io")}
    assert pairs == set(analysis.comparisons)
    assert list(CAPTURED) == list(analysis.summaries)
    assert {True} == {check.identical for check in analysis.self_checks.values()}
    assert {"normal": True, "sqlite": True} == dict(analysis.controls)
    io = analysis.summaries["io"]
    # scale 0.25: 4 files, each written in 8 chunks.
    assert [32, 32] == io.counts["write"].tolist()
    assert io.overhead is not None
    assert io.overhead > 0


@pytest.mark.strace
def test_two_runs_cannot_be_significant_and_findings_say_so(small: ExperimentData) -> None:
    """With 2 runs per side the smallest exact p is 1/3: io's writes rise (Cliff's delta 1)
    but not significantly, and the finding reports it, as not significant, not hidden, and
    says that no test on these runs could have detected a shift."""
    analysis = analyse_experiment(small)
    shift = find_shift(analysis, "io", "write")
    assert (1.0, "up", False) == (shift.effect, shift.direction, shift.significant)
    (found,) = [f for f in findings(analysis) if f.condition == "io" and f.topic == "unmoved"]
    assert found.significant is False
    # scale 0.25: 4 files written in 8 chunks each, read back in 9 reads each.
    assert "read 4 -> 36 (Cliff's delta 1.00, no test on these runs could detect a shift)" in (
        found.sentence
    )
    detectable = {d.name: d for d in analysis.sensitivity["normal", "io"].counts}
    assert math.inf == detectable["write"].shift == detectable["read"].shift


@pytest.mark.strace
def test_findings_of_the_control(small: ExperimentData) -> None:
    """The control's finding: no significant shift, counts identical, with its distance; on
    2 runs a side even a shift of one call could not have been detected, and it says so."""
    control = [f for f in findings(analyse_experiment(small)) if f.topic == "control"]
    assert ["normal-control", "sqlite-control"] == [f.condition for f in control]
    assert {False} == {f.significant for f in control}
    assert control[0].sentence.startswith(
        "Normal vs an independent batch of normal: no significant shift in 7 syscalls (7 the "
        "same in every run, though no test on these runs could detect a shift; JSD 0.000"
    )
    assert 0.0 == control[0].numbers["shifts_significant"]


@pytest.mark.strace
def test_ambient_run_and_its_finding(small: ExperimentData) -> None:
    """normal-under-cpu runs normal beside an untraced CPU load (recorded in its metadata),
    sqlite-under-io sqlite beside an io load; their counts are their baseline's, and the
    findings say so and give the timing shifts."""
    for condition, resource in (("normal-under-cpu", "cpu"), ("sqlite-under-io", "io")):
        runs = [run for run in small.runs if run.condition == condition]
        assert {resource} == {run.metadata.ambient for run in runs}
        assert all(run.metadata.ambient_argv for run in runs)
    analysis = analyse_experiment(small)
    assert analysis.ambient["normal-under-cpu"].identical
    assert analysis.ambient["sqlite-under-io"].identical
    found = {f.condition: f for f in findings(analysis) if f.topic == "ambient"}
    assert ["normal-under-cpu", "sqlite-under-io"] == list(found)
    assert found["normal-under-cpu"].sentence.startswith(
        "Normal under ambient cpu load keeps identical syscall counts (7 the same in every run"
    )
    assert "; median latency " in found["normal-under-cpu"].sentence
    assert found["sqlite-under-io"].sentence.startswith(
        "Sqlite under ambient io load keeps identical syscall counts ("
    )
    assert 1.0 == found["normal-under-cpu"].numbers["identical"]


@pytest.mark.strace
def test_real_program_is_traced_whole(small: ExperimentData) -> None:
    """sqlite's runs are sqlite3 itself: it starts (execve), writes its database and syncs its
    log (fdatasync), the same calls in every run."""
    counts = analyse_experiment(small).summaries["sqlite"].counts
    assert {"execve", "fdatasync", "pwrite64"} <= set(counts.columns)
    assert [1, 1] == counts["execve"].tolist()
    assert counts["fdatasync"].iloc[0] > 0
    assert 1 == len({tuple(row) for row in counts.to_numpy().tolist()})


@pytest.mark.strace
def test_cpu_finding(small: ExperimentData) -> None:
    """The cpu phase makes no call; its finding says so, with the rate and the longest gap
    (here on 2 runs, so not significant)."""
    analysis = analyse_experiment(small)
    assert analysis.summaries["cpu"].shares is None
    (found,) = [f for f in findings(analysis) if f.topic == "phase"]
    assert found.sentence.startswith(
        "CPU stress has no count signature: its phase makes 0 syscalls per run (normal: 32)"
    )
    assert (0.0, 0.0, 1.0) == (
        found.numbers["calls"],
        found.numbers["rate"],
        found.numbers["gap_share"],
    )
    assert found.significant is False


@pytest.mark.strace
def test_self_check_names_the_syscall_that_varies(small: ExperimentData) -> None:
    """A condition whose runs differ is not identical; the self-check names the syscall and
    its spread: one io run with its first write dropped (32 -> 31 writes, spread 1/31.5)."""
    runs = []
    for run in small.runs:
        events = run.events
        if run.condition == "io" and run.repeat == 0:
            first_write = events.index[events["syscall"] == "write"][0]
            events = events.drop(index=first_write).reset_index(drop=True)
        runs.append(dataclasses.replace(run, events=events))
    changed = dataclasses.replace(small, runs=tuple(runs))
    check = analyse_experiment(changed).self_checks["io"]
    assert (False, "write", 2) == (check.identical, check.worst, check.runs)
    assert pytest.approx(1 / 31.5) == check.spread


@pytest.mark.strace
def test_phase_shifts_measure_between_the_markers(small: ExperimentData) -> None:
    """Phase timing of io against normal: rate, longest gap and its share, one shift each."""
    shifts = analyse_experiment(small).phase_shifts["normal", "io"]
    names = {shift.name for shift in shifts}
    assert {"phase_seconds", "calls", "rate", "gap_max", "gap_share"} == names
    calls = {shift.name: shift for shift in shifts}["calls"]
    # io at scale 0.25: 4 files, 32 writes, 36 reads, 8 opens, 8 closes, 4 fsyncs, 4 unlinks.
    assert (32.0, 92.0) == (calls.baseline_median, calls.median)


@pytest.mark.strace
def test_find_shift_errors(small: ExperimentData) -> None:
    """find_shift says when a pair was not compared or no side made the call."""
    analysis = analyse_experiment(small)
    with pytest.raises(ExperimentError, match="memory was not compared with normal"):
        find_shift(analysis, "memory", "mmap")
    with pytest.raises(ExperimentError, match="neither normal nor io made a brk call"):
        find_shift(analysis, "io", "brk")


@pytest.mark.strace
def test_runs_of_an_unknown_condition(small: ExperimentData) -> None:
    """Asking for a condition that has no runs names the ones that do."""
    with pytest.raises(
        ExperimentError, match="no runs of condition 'memory' under strace; have normal"
    ):
        small.runs_of("memory")


def test_run_records_are_frozen(tmp_path: Path) -> None:
    """Run and settings are immutable records."""
    settings = ExperimentSettings(out_dir=tmp_path)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.repeats = 3  # type: ignore[misc]
    assert "events" in {field.name for field in dataclasses.fields(Run)}

"""Tests of the catalogue of conditions: its records, their kinds and baselines, the look-up."""

from __future__ import annotations

import dataclasses

import pytest

from syscall_lab.conditions import (
    AMBIENT_STRESS_NG,
    CATALOGUE,
    PROGRAM_LOADS,
    RESOURCE_OF,
    RESOURCES,
    STRESS_NG_STRESSORS,
    Condition,
    ConditionError,
    Kind,
    ambient_condition,
    condition_named,
    control_condition,
    program_condition,
    stress_ng_condition,
    workload_condition,
)
from syscall_lab.errors import SyscallLabError
from workloads.conditions import CONDITIONS as WORKLOADS
from workloads.programs import PROGRAMS


@pytest.mark.parametrize(
    "expected",
    [
        pytest.param(
            Condition("normal", Kind.BASELINE, "normal", "python", None, None,
                      "the normal workload"),
            id="baseline",
        ),
        pytest.param(
            Condition("normal-control", Kind.CONTROL, "normal", "python", None, "normal",
                      "an independent batch of normal"),
            id="control",
        ),
        pytest.param(
            Condition("cpu", Kind.STRESSED, "cpu", "python", "cpu", "normal", "cpu stress"),
            id="stressed",
        ),
        pytest.param(
            Condition("memory-brk", Kind.STRESSED, "memory-brk", "python", "memory", "normal",
                      "memory-brk stress"),
            id="stressed-variant",
        ),
        pytest.param(
            Condition("normal-under-io", Kind.AMBIENT, "normal", "python", "io", "normal",
                      "normal under ambient io load"),
            id="ambient",
        ),
        pytest.param(
            Condition("git-grep", Kind.PROGRAM, "git-grep", "program", None, None, "git-grep"),
            id="program",
        ),
        pytest.param(
            Condition("sqlite-control", Kind.CONTROL, "sqlite", "program", None, "sqlite",
                      "an independent batch of sqlite"),
            id="program-control",
        ),
        pytest.param(
            Condition("git-grep-under-cpu", Kind.AMBIENT, "git-grep", "program", "cpu",
                      "git-grep", "git-grep under ambient cpu load"),
            id="program-ambient",
        ),
        pytest.param(
            Condition("stress-ng-cpu", Kind.STRESS_NG, "cpu", "stress-ng", "cpu", None,
                      "stress-ng's cpu stressor"),
            id="stress-ng-baseline",
        ),
        pytest.param(
            Condition("stress-ng-io-mix", Kind.STRESS_NG, "io-mix", "stress-ng", "io",
                      "stress-ng-cpu", "stress-ng's io-mix stressor"),
            id="stress-ng",
        ),
    ],
)  # fmt: skip
def test_condition_named(expected: Condition) -> None:
    """Each kind of condition: how its runs are made, what it stresses, what it is compared
    with, and its words in a sentence."""
    assert expected == condition_named(expected.name)


def test_an_unknown_condition_is_named_in_the_error() -> None:
    """A name the catalogue does not hold is a ConditionError (a SyscallLabError) naming it."""
    with pytest.raises(ConditionError, match="unknown condition 'disk'; one of normal, "):
        condition_named("disk")
    assert issubclass(ConditionError, SyscallLabError)


def test_the_catalogue_holds_every_workload_stressor_and_ambient_load() -> None:
    """A stressed condition per workload, an ambient one per ambient load of normal and per
    load of each real program, a control per baseline, a stress-ng one per stressor; each
    program's resource is one of the resources."""
    kinds = {kind: [c.program for c in CATALOGUE.values() if c.kind is kind] for kind in Kind}
    assert ["normal"] == kinds[Kind.BASELINE]
    assert [w for w in WORKLOADS if w != "normal"] == kinds[Kind.STRESSED]
    assert list(PROGRAMS) == kinds[Kind.PROGRAM] == list(PROGRAM_LOADS)
    assert ["normal", *PROGRAMS] == kinds[Kind.CONTROL]
    assert list(STRESS_NG_STRESSORS) == kinds[Kind.STRESS_NG]
    ambient = [(c.baseline, c.resource) for c in CATALOGUE.values() if c.kind is Kind.AMBIENT]
    loads = [(p, r) for p, resources in PROGRAM_LOADS.items() for r in resources]
    assert [("normal", r) for r in AMBIENT_STRESS_NG] + loads == ambient
    assert list(RESOURCES) == list(AMBIENT_STRESS_NG)
    assert {r for _, r in loads} <= set(RESOURCES)
    assert set(RESOURCE_OF.values()) == set(RESOURCES)


def test_every_baseline_is_a_condition_without_one() -> None:
    """Baselines are in the catalogue and are compared with nothing themselves."""
    baselines = {c.baseline for c in CATALOGUE.values() if c.baseline is not None}
    assert {"normal", "stress-ng-cpu", *PROGRAMS} == baselines
    assert {None} == {CATALOGUE[name].baseline for name in baselines}


def test_the_builders_give_the_catalogue_records() -> None:
    """Built again, a condition is the catalogue's record: a frozen value."""
    assert CATALOGUE["io"] == workload_condition("io")
    assert CATALOGUE["normal-under-cpu"] == ambient_condition("cpu")
    assert CATALOGUE["normal-control"] == control_condition()
    assert CATALOGUE["sqlite-under-io"] == ambient_condition("io", "sqlite")
    assert CATALOGUE["git-grep"] == program_condition("git-grep")
    assert CATALOGUE["stress-ng-memory"] == stress_ng_condition("memory")
    with pytest.raises(dataclasses.FrozenInstanceError):
        CATALOGUE["io"].baseline = None  # type: ignore[misc]


def test_only_the_workloads_are_cut_to_a_phase() -> None:
    """Workload runs (normal under load too) have phase markers; the real programs and the
    stress-ng stressors are traced whole."""
    whole = (Kind.STRESS_NG, Kind.PROGRAM)
    assert [c.kind not in whole and c.program not in PROGRAMS for c in CATALOGUE.values()] == [
        c.phased for c in CATALOGUE.values()
    ]

"""The catalogue of conditions: every condition an experiment can capture, one record each.

A condition is a data-set folder (``datasets/<name>/``) of runs made one way: the program traced
(a workload of ``python -m workloads``, a real program of ``workloads.programs`` or a stress-ng
stressor), an untraced load beside it or not, and the condition it is compared with. Code tells
conditions apart by their record's ``kind``, never by the shape of the name; the names are built
here, once.

==================== ========= ================================================ =============
name                 kind      runs                                             baseline
==================== ========= ================================================ =============
normal               baseline  the normal workload, cut to its measured phase  -
normal-control       control   a second, independent batch of normal           normal
cpu, memory, io...   stressed  the workload of that name, cut to its phase     normal
normal-under-cpu...  ambient   normal beside an untraced load of the resource  normal
git-grep, sqlite     program   a real program on generated inputs, traced whole -
git-grep-control...  control   a second, independent batch of the program      the program
git-grep-under-cpu   ambient   the program beside an untraced load             the program
stress-ng-cpu        stress-ng ``stress-ng --cpu``, traced whole (no markers)  -
stress-ng-io...      stress-ng the stressor, traced whole                      stress-ng-cpu
==================== ========= ================================================ =============

``stress-ng-cpu`` is the stress-ng conditions' baseline: its stressor computes without the
kernel, so stress-ng's own start-up is on both sides of each comparison. Each real program is
traced beside the load that reaches what it waits on (:data:`PROGRAM_LOADS`). New conditions
(another program under ambient load, another observer) are new records: build them with
:class:`Condition` and add them to :data:`CATALOGUE`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from syscall_lab.errors import SyscallLabError
from workloads.conditions import CONDITIONS as WORKLOADS
from workloads.programs import PROGRAMS

__all__ = [
    "AMBIENT_STRESS_NG",
    "BACKENDS",
    "CATALOGUE",
    "CONTROL",
    "DEFAULT_WORKLOADS",
    "NORMAL",
    "PROGRAM_BACKEND",
    "PROGRAM_LOADS",
    "RESOURCES",
    "RESOURCE_OF",
    "STRESS_NG_BASELINE",
    "STRESS_NG_PREFIX",
    "STRESS_NG_STRESSORS",
    "Condition",
    "ConditionError",
    "Kind",
    "ambient_condition",
    "condition_named",
    "control_condition",
    "program_condition",
    "stress_ng_condition",
    "workload_condition",
]

RESOURCES: tuple[str, ...] = ("cpu", "memory", "io")
"""The resources a condition stresses."""

BACKENDS: tuple[str, ...] = ("python", "stress-ng")
"""What runs a stressing program: ``python -m workloads`` or a bounded stress-ng stressor."""

PROGRAM_BACKEND = "program"
"""The backend of the real programs' conditions: the program itself, traced whole."""

NORMAL = "normal"
DEFAULT_WORKLOADS: tuple[str, ...] = (NORMAL, *RESOURCES)
"""The workloads an experiment captures by default: normal, and the workload named for each
resource."""
CONTROL = "normal-control"
STRESS_NG_PREFIX = "stress-ng-"
STRESS_NG_BASELINE = "stress-ng-cpu"
"""The stress-ng conditions' baseline: its stressor computes without the kernel."""

STRESS_NG_STRESSORS: dict[str, tuple[str, ...]] = {
    "cpu": ("--cpu", "1", "--cpu-ops", "200"),
    "memory": ("--mmap", "1", "--mmap-bytes", "4M", "--mmap-ops", "2"),
    "memory-brk": ("--brk", "1", "--brk-ops", "20000"),
    "memory-malloc": ("--malloc", "1", "--malloc-ops", "20000"),
    "io": ("--hdd", "1", "--hdd-opts", "fsync", "--hdd-bytes", "8M", "--hdd-ops", "400"),
    "io-mix": ("--iomix", "1", "--iomix-ops", "1000"),
}
"""Traced stress-ng stressors per condition: bounded work, the stressed condition's syscalls."""

AMBIENT_STRESS_NG: dict[str, tuple[str, ...]] = {
    "cpu": ("--cpu", "1"),
    "memory": ("--vm", "1", "--vm-bytes", "256M"),
    "io": ("--hdd", "1", "--hdd-bytes", "64M"),
}
"""Untraced stress-ng load beside an ambient run, per resource: runs until stopped (or its
--timeout)."""

PROGRAM_LOADS: dict[str, tuple[str, ...]] = {"git-grep": ("cpu",), "sqlite": ("io",)}
"""The loads each real program of ``workloads.programs`` is traced beside: the resource it waits
on (git grep's two threads share the CPUs with the load; sqlite waits on ``fdatasync``)."""

RESOURCE_OF: dict[str, str] = {
    "cpu": "cpu",
    "memory": "memory",
    "memory-brk": "memory",
    "memory-malloc": "memory",
    "io": "io",
    "io-mix": "io",
}
"""The resource each stressing program loads: the workloads but normal, the stress-ng
stressors."""


class ConditionError(SyscallLabError, ValueError):
    """A condition name the catalogue does not hold."""


class Kind(enum.Enum):
    """What a condition is, and so how it is captured, compared and reported."""

    BASELINE = "baseline"
    """The normal workload, the baseline of the workload conditions."""
    CONTROL = "control"
    """A second batch of a baseline (normal or a real program): what no effect looks like."""
    STRESSED = "stressed"
    """A workload that stresses a resource."""
    AMBIENT = "ambient"
    """A baseline (normal or a real program) traced beside an untraced load of a resource."""
    PROGRAM = "program"
    """A real program traced whole, without load: its control's and its ambient conditions'
    baseline."""
    STRESS_NG = "stress-ng"
    """A stress-ng stressor traced whole."""


@dataclass(frozen=True, slots=True)
class Condition:
    """One condition: its data-set name, what it is, how its runs are made, its baseline.

    ``program`` is traced with ``backend``: a workload (``python -m workloads PROGRAM``, cut to
    its measured phase), a real program (:data:`PROGRAM_BACKEND`, ``workloads.programs``,
    traced whole) or a stress-ng stressor (:data:`STRESS_NG_STRESSORS`, traced whole).
    ``resource`` is the resource it stresses (of the untraced load, for an ambient condition;
    None for a baseline and a control). ``baseline`` names the condition it is compared with
    (None for a baseline). ``description`` names it in a sentence ("cpu stress").
    """

    name: str
    kind: Kind
    program: str
    backend: str
    resource: str | None
    baseline: str | None
    description: str

    @property
    def phased(self) -> bool:
        """Whether its runs are cut to a measured phase (the workloads mark theirs)."""
        return self.backend == "python"


def workload_condition(workload: str) -> Condition:
    """The condition of a stressing workload: its runs, cut to the phase, against normal."""
    return Condition(
        workload, Kind.STRESSED, workload, "python", RESOURCE_OF[workload], NORMAL,
        f"{workload} stress",
    )  # fmt: skip


def program_condition(program: str) -> Condition:
    """A real program of ``workloads.programs`` without load: a baseline."""
    return Condition(program, Kind.PROGRAM, program, PROGRAM_BACKEND, None, None, program)


def _backend(baseline: str) -> str:
    return PROGRAM_BACKEND if baseline in PROGRAMS else "python"


def control_condition(baseline: str = NORMAL) -> Condition:
    """A second, independent batch of ``baseline`` (normal or a real program), against it."""
    return Condition(
        f"{baseline}-control", Kind.CONTROL, baseline, _backend(baseline), None, baseline,
        f"an independent batch of {baseline}",
    )  # fmt: skip


def ambient_condition(resource: str, baseline: str = NORMAL) -> Condition:
    """``baseline`` (normal or a real program) traced beside an untraced load of ``resource``,
    against ``baseline``."""
    return Condition(
        f"{baseline}-under-{resource}", Kind.AMBIENT, baseline, _backend(baseline), resource,
        baseline, f"{baseline} under ambient {resource} load",
    )  # fmt: skip


def stress_ng_condition(stressor: str) -> Condition:
    """A stress-ng stressor traced whole, against :data:`STRESS_NG_BASELINE` (None for it)."""
    name = STRESS_NG_PREFIX + stressor
    return Condition(
        name, Kind.STRESS_NG, stressor, "stress-ng", RESOURCE_OF[stressor],
        None if name == STRESS_NG_BASELINE else STRESS_NG_BASELINE,
        f"stress-ng's {stressor} stressor",
    )  # fmt: skip


CATALOGUE: dict[str, Condition] = {
    condition.name: condition
    for condition in (
        Condition(NORMAL, Kind.BASELINE, NORMAL, "python", None, None, "the normal workload"),
        control_condition(NORMAL),
        *(workload_condition(workload) for workload in WORKLOADS if workload != NORMAL),
        *(ambient_condition(resource) for resource in AMBIENT_STRESS_NG),
        *(
            condition
            for program in PROGRAMS
            for condition in (
                program_condition(program),
                control_condition(program),
                *(ambient_condition(resource, program) for resource in PROGRAM_LOADS[program]),
            )
        ),
        *(stress_ng_condition(stressor) for stressor in STRESS_NG_STRESSORS),
    )
}
"""Every condition by name, in the order an experiment captures them."""


def condition_named(name: str) -> Condition:
    """The catalogue's record of the condition ``name`` (of a loaded experiment, say).

    Raises ConditionError for a name the catalogue does not hold.
    """
    try:
        return CATALOGUE[name]
    except KeyError:
        raise ConditionError(f"unknown condition {name!r}; one of {', '.join(CATALOGUE)}") from None

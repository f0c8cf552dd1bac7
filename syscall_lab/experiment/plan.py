"""What an experiment captures, in which order: its settings checked, then one entry per run.

The runs go in rounds, one per repeat: each round holds one run of every condition (normal, its
control, the stressed workloads, normal beside each ambient load, each real program with its
control and beside its load, the stress-ng stressors) in an order shuffled by the seed, afresh for
every round. So neither drift of the machine nor the run before a condition favours it: an
ambient run (which starts its untraced load, waits for it to settle, is traced, stops the load,
syncs and settles) is as likely to come first in a round as last. The order is stored with the
experiment (``ExperimentData.rounds``).

With two observers (``ExperimentSettings.observers``: strace and eBPF), every condition is in
each round once per observer, all shuffled together: the two observers' runs of a condition are
interleaved, in the same rounds, under the same drift. Where eBPF is unavailable it is skipped,
with the reason, and the experiment goes on under strace alone; an experiment under eBPF alone
cannot.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass

from syscall_lab.capture.ambient import Ambient
from syscall_lab.capture.ebpf import ebpf_unavailable
from syscall_lab.capture.observer import OBSERVER_CHOICES, OBSERVERS
from syscall_lab.conditions import (
    AMBIENT_STRESS_NG,
    BACKENDS,
    NORMAL,
    PROGRAM_LOADS,
    STRESS_NG_BASELINE,
    STRESS_NG_STRESSORS,
    Condition,
    ambient_condition,
    condition_named,
    control_condition,
    program_condition,
    stress_ng_condition,
)
from syscall_lab.errors import CaptureError
from syscall_lab.experiment.dataset import ExperimentError, ExperimentSettings
from workloads.conditions import CONDITIONS as WORKLOADS
from workloads.programs import PROGRAMS

__all__ = ["PlannedRun", "check_settings", "chosen_observers", "plan_runs"]


def check_settings(settings: ExperimentSettings) -> None:
    """Raise ExperimentError for settings :func:`plan_runs` cannot plan."""
    if settings.repeats < 2:
        raise ExperimentError(f"repeats must be >= 2 (a test needs runs), got {settings.repeats}")
    if not settings.scale > 0:
        raise ExperimentError(f"scale must be > 0, got {settings.scale}")
    if settings.backend not in BACKENDS:
        raise ExperimentError(f"unknown backend {settings.backend!r}: python or stress-ng")
    if not settings.conditions or settings.conditions[0] != NORMAL:
        raise ExperimentError(f"conditions must start with normal, got {settings.conditions}")
    unknown = [c for c in settings.conditions if c not in WORKLOADS]
    if unknown:
        raise ExperimentError(
            f"unknown condition(s) {', '.join(unknown)}; workloads: {', '.join(WORKLOADS)}"
        )
    unknown = [c for c in settings.ambient if c not in AMBIENT_STRESS_NG]
    if unknown:
        raise ExperimentError(
            f"no ambient load for {', '.join(unknown)}; one of {', '.join(AMBIENT_STRESS_NG)}"
        )
    unknown = [o for o in settings.observers if o not in OBSERVERS]
    if unknown or not settings.observers or len(set(settings.observers)) < len(settings.observers):
        raise ExperimentError(
            f"observers must be one or both of {', '.join(OBSERVERS)}, got {settings.observers}"
        )
    unknown = [p for p in settings.programs if p not in PROGRAMS]
    if unknown:
        raise ExperimentError(
            f"unknown program(s) {', '.join(unknown)}; one of {', '.join(PROGRAMS)}"
        )


@dataclass(frozen=True, slots=True)
class PlannedRun:
    """One capture to make: its condition, repeat, the untraced load beside it (if any), and
    its observer."""

    condition: Condition
    repeat: int
    ambient: Ambient | None = None
    observer: str = "strace"


def _installed(program: str) -> bool:
    return shutil.which(program) is not None


def _round(
    settings: ExperimentSettings, installed: Callable[[str], bool]
) -> tuple[list[tuple[Condition, str | None]], list[str]]:
    """One run of every condition of ``settings`` (with the resource of its untraced load, if
    any), in catalogue order, and what is skipped (and why)."""
    skipped: list[str] = []
    main = [condition_named(NORMAL), *([control_condition()] if settings.control else [])]
    stressed = [name for name in settings.conditions if name != NORMAL]
    # stress-ng's conditions: its baseline, then a stressor for each stressed workload that has one.
    baseline = condition_named(STRESS_NG_BASELINE).program
    stressors = [baseline, *[c for c in stressed if c != baseline and c in STRESS_NG_STRESSORS]]
    if settings.backend == "python":
        main += [condition_named(name) for name in stressed]
        if not settings.stress_ng:
            stressors = []
    else:
        skipped += [
            f"{c}: stress-ng has no stressor for it" for c in stressed if c not in stressors
        ]
    stress_ng = [stress_ng_condition(stressor) for stressor in stressors]
    if stress_ng and not installed("stress-ng"):
        names = ", ".join(condition.name for condition in stress_ng)
        skipped.append(f"stress-ng conditions ({names}): stress-ng is not installed")
        stress_ng = []
    programs = []
    for name in settings.programs:
        executable = PROGRAMS[name].executable
        if not installed(executable):
            skipped.append(f"{name} conditions: {executable} is not installed")
            continue
        loads = [(ambient_condition(r, name), r) for r in PROGRAM_LOADS[name]]
        programs += [(program_condition(name), None), (control_condition(name), None), *loads]
    return [
        *((condition, None) for condition in main),
        *((ambient_condition(resource), resource) for resource in settings.ambient),
        *programs,
        *((condition, None) for condition in stress_ng),
    ], skipped


def _ebpf_unavailable() -> str | None:
    return ebpf_unavailable(probe=True)


def chosen_observers(
    choice: str, ebpf_reason: Callable[[], str | None] = _ebpf_unavailable
) -> tuple[str, ...]:
    """The observers of a choice of :data:`OBSERVER_CHOICES`; CaptureError with the reason
    when it needs eBPF and eBPF is unavailable, ExperimentError for an unknown choice."""
    if choice not in OBSERVER_CHOICES:
        raise ExperimentError(
            f"unknown observer choice {choice!r}: one of {', '.join(OBSERVER_CHOICES)}"
        )
    if choice in ("both", "ebpf"):
        reason = ebpf_reason()
        if reason is not None:
            raise CaptureError(f"the eBPF observer is unavailable: {reason}")
    return OBSERVER_CHOICES[choice]


def _observers(
    settings: ExperimentSettings, unavailable: Callable[[], str | None]
) -> tuple[tuple[str, ...], list[str]]:
    """The observers to capture under, and what is skipped (and why); ExperimentError when
    eBPF alone was asked for and is unavailable."""
    if "ebpf" not in settings.observers:
        return settings.observers, []
    reason = unavailable()
    if reason is None:
        return settings.observers, []
    if settings.observers == ("ebpf",):
        raise ExperimentError(f"the eBPF observer is unavailable: {reason}")
    return ("strace",), [f"the eBPF observer: {reason}; every condition was traced by strace alone"]


def plan_runs(
    settings: ExperimentSettings,
    installed: Callable[[str], bool] = _installed,
    ebpf_reason: Callable[[], str | None] = _ebpf_unavailable,
) -> tuple[list[PlannedRun], list[str]]:
    """Every capture of ``settings`` in order, and what is skipped (and why).

    ``installed(program)`` says whether a program (stress-ng, a real program's executable) can
    be run here; ``ebpf_reason()`` why eBPF tracing cannot (None when it can). The untraced
    load is stress-ng's when it is installed, else the Python workload looping.
    """
    conditions, skipped = _round(settings, installed)
    observers, left_out = _observers(settings, ebpf_reason)
    load = "stress-ng" if installed("stress-ng") else "python"
    rng = random.Random(settings.seed)
    plan = []
    for repeat in range(settings.repeats):
        order = [(c, r, observer) for observer in observers for c, r in conditions]
        rng.shuffle(order)
        plan += [
            PlannedRun(
                condition, repeat, None if resource is None else Ambient(resource, load), observer
            )
            for condition, resource, observer in order
        ]
    return plan, [*skipped, *left_out]

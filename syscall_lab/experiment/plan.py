"""What an experiment captures, in which order: its settings checked, then one entry per run.

Order: each repeat of normal, normal-control and the stressed workloads (interleaved, so drift
in the machine spreads over all of them), then each ambient resource's runs (each run starts
the load, and stops it, syncs and settles after), then the stress-ng conditions (interleaved).
"""

from __future__ import annotations

from dataclasses import dataclass

from syscall_lab.capture.ambient import Ambient
from syscall_lab.conditions import (
    AMBIENT_STRESS_NG,
    BACKENDS,
    CONTROL,
    NORMAL,
    STRESS_NG_BASELINE,
    STRESS_NG_STRESSORS,
    Condition,
    ambient_condition,
    condition_named,
    stress_ng_condition,
)
from syscall_lab.experiment.dataset import ExperimentError, ExperimentSettings
from workloads.conditions import CONDITIONS as WORKLOADS

__all__ = ["PlannedRun", "check_settings", "plan_runs"]


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


@dataclass(frozen=True, slots=True)
class PlannedRun:
    """One capture to make: its condition, repeat, and the untraced load beside it (if any)."""

    condition: Condition
    repeat: int
    ambient: Ambient | None = None


def plan_runs(
    settings: ExperimentSettings, have_stress_ng: bool
) -> tuple[list[PlannedRun], list[str]]:
    """Every capture of ``settings`` in order, and what is skipped (and why)."""
    skipped: list[str] = []
    main = [NORMAL, *([CONTROL] if settings.control else [])]
    stressed = [name for name in settings.conditions if name != NORMAL]
    # stress-ng's conditions: its baseline, then a stressor for each stressed workload that has one.
    baseline = condition_named(STRESS_NG_BASELINE).program
    stressors = [baseline, *[c for c in stressed if c != baseline and c in STRESS_NG_STRESSORS]]
    if settings.backend == "python":
        main += stressed
        if not settings.stress_ng:
            stressors = []
    else:
        skipped += [
            f"{c}: stress-ng has no stressor for it" for c in stressed if c not in stressors
        ]
    stress_ng = [stress_ng_condition(stressor) for stressor in stressors]
    if stress_ng and not have_stress_ng:
        names = ", ".join(condition.name for condition in stress_ng)
        skipped.append(f"stress-ng conditions ({names}): stress-ng is not installed")
        stress_ng = []
    plan = [
        PlannedRun(condition_named(name), repeat)
        for repeat in range(settings.repeats)
        for name in main
    ]
    # The untraced load is stress-ng's when it is installed, else the Python workload looping.
    load = "stress-ng" if have_stress_ng else "python"
    for resource in settings.ambient:
        plan += [
            PlannedRun(ambient_condition(resource), repeat, Ambient(resource, load))
            for repeat in range(settings.repeats)
        ]
    plan += [
        PlannedRun(condition, repeat)
        for repeat in range(settings.repeats)
        for condition in stress_ng
    ]
    return plan, skipped

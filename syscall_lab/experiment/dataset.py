"""An experiment's records: the settings it ran with, and every run it captured."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from syscall_lab.capture.metadata import Environment, RunMetadata
from syscall_lab.conditions import CATALOGUE, DEFAULT_WORKLOADS, RESOURCES
from syscall_lab.errors import SyscallLabError
from workloads.programs import PROGRAMS

__all__ = ["ExperimentData", "ExperimentError", "ExperimentSettings", "Run"]


class ExperimentError(SyscallLabError):
    """A folder that is not an experiment, bad settings, or a run that did not complete."""


@dataclass(frozen=True, slots=True)
class ExperimentSettings:
    """What :func:`~syscall_lab.experiment.store.run_experiment` captures.

    ``conditions`` (first must be ``normal``) are traced ``repeats`` times each, in rounds
    shuffled by ``seed`` (:mod:`syscall_lab.experiment.plan`); ``control`` adds
    ``normal-control``; ``ambient`` lists the resources to trace normal beside
    (``normal-under-X``); ``programs`` the real programs to trace, each with its control and
    beside its loads (``X``, ``X-control``, ``X-under-Y``) when installed; ``stress_ng`` adds
    the ``stress-ng-*`` conditions when stress-ng is installed. ``backend`` is the backend of
    the stressed ``conditions``: ``python`` traces the workloads (and the stress-ng conditions
    when ``stress_ng``), ``stress-ng`` only the ``stress-ng-*`` conditions. See
    :mod:`syscall_lab.conditions` for the conditions. ``observers`` are who traces every
    condition: ``strace``, ``ebpf`` (its events mode), or both, in the same rounds; with both,
    eBPF is skipped (and the report says why) where it is unavailable.
    """

    repeats: int = 5
    scale: float = 1.0
    seed: int = 0
    backend: str = "python"
    conditions: tuple[str, ...] = DEFAULT_WORKLOADS
    control: bool = True
    ambient: tuple[str, ...] = RESOURCES
    programs: tuple[str, ...] = tuple(PROGRAMS)
    stress_ng: bool = True
    observers: tuple[str, ...] = ("strace",)
    out_dir: Path = Path("runs/experiments")


@dataclass(frozen=True, slots=True, eq=False)
class Run:
    """One traced run: its condition, repeat, run folder, metadata and events.

    ``events`` are cut to the measured phase for the workloads (``phase`` then holds the start
    and end markers' timestamps), the whole trace for stress-ng stressors (``phase`` None).
    """

    condition: str
    repeat: int
    run_id: str
    run_dir: Path
    metadata: RunMetadata
    events: pd.DataFrame
    phase: tuple[float, float] | None = None

    @property
    def observer(self) -> str:
        """Who traced the run: ``strace`` or ``ebpf``."""
        return self.metadata.observer.name

    @property
    def slot(self) -> str:
        """The run's place in its round: its condition, and its observer unless strace
        (``normal``, ``normal@ebpf``)."""
        return self.condition if self.observer == "strace" else f"{self.condition}@{self.observer}"


@dataclass(frozen=True, slots=True, eq=False)
class ExperimentData:
    """Every run of an experiment, the settings and machine, and what was skipped (and why)."""

    settings: ExperimentSettings
    runs: tuple[Run, ...]
    environment: Environment
    skipped: tuple[str, ...] = ()

    @property
    def conditions(self) -> tuple[str, ...]:
        """The conditions with runs, in catalogue order (unknown names last, as captured)."""
        order = {name: index for index, name in enumerate(CATALOGUE)}
        found = dict.fromkeys(run.condition for run in self.runs)
        return tuple(sorted(found, key=lambda name: order.get(name, len(order))))

    @property
    def rounds(self) -> tuple[tuple[str, ...], ...]:
        """The runs of each round (repeat) in the order they were captured, each named by its
        ``Run.slot`` (its condition, and its observer unless strace)."""
        repeats = sorted({run.repeat for run in self.runs})
        return tuple(
            tuple(run.slot for run in self.runs if run.repeat == repeat) for repeat in repeats
        )

    @property
    def observers(self) -> tuple[str, ...]:
        """The observers with runs, strace first."""
        found = dict.fromkeys(run.observer for run in self.runs)
        return tuple(sorted(found, key=lambda name: name != "strace"))

    def observed(self, observer: str) -> ExperimentData:
        """The runs ``observer`` traced, with the same settings, machine and skipped list."""
        runs = tuple(run for run in self.runs if run.observer == observer)
        return ExperimentData(self.settings, runs, self.environment, self.skipped)

    def runs_of(self, condition: str, observer: str | None = None) -> dict[str, pd.DataFrame]:
        """Run id -> events of ``condition`` under ``observer`` (default the first of
        :attr:`observers`, strace when it traced), in repeat order (the analysis functions'
        input)."""
        observer = observer or (self.observers[0] if self.runs else "strace")
        selected = {
            run.run_id: run.events
            for run in self.runs
            if run.condition == condition and run.observer == observer
        }
        if not selected:
            raise ExperimentError(
                f"no runs of condition {condition!r} under {observer}; have "
                f"{', '.join(self.conditions)} under {', '.join(self.observers)}"
            )
        return selected

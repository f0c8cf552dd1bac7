"""The experiment: every condition traced over repeated interleaved runs, stored, analysed.

Conditions (one folder each under ``<out>/datasets/``, the behavioural category):

- ``normal``, ``cpu``, ``memory``, ``io``: ``python -m workloads CONDITION`` (or, with
  ``backend="stress-ng"``, the stressed ones as bounded stress-ng stressors), cut to the
  workload's measured phase.
- ``normal-control``: a second, independent batch of ``normal`` runs, interleaved with the
  others; normal against it is the control that shows the statistics do not cry wolf.
- ``normal-under-cpu``, ``normal-under-memory``, ``normal-under-io``: the normal workload traced
  beside an untraced stress-ng load of that resource (:class:`~syscall_parse.capture.Ambient`).
- ``stress-ng-cpu``, ``stress-ng-memory``, ``stress-ng-io``: stress-ng's own stressors traced
  whole (stress-ng has no phase markers). They are compared with ``stress-ng-cpu``, whose
  stressor does its work without the kernel, so stress-ng's start-up is in both sides.

Layout of ``out_dir``: ``experiment.json`` (format_version, settings, environment, runs),
``datasets/<condition>/<run-id>.csv|.parquet|.json`` (events and run metadata) and
``runs/<run-id>/`` (raw strace logs, as :func:`~syscall_parse.capture.capture` leaves them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import SyscallLabError
from .metadata import Environment, RunMetadata
from .stats import Comparison, Equivalence

__all__ = [
    "CONTROL",
    "EXPERIMENT_FILE",
    "FORMAT_VERSION",
    "STRESS_NG_BASELINE",
    "ConditionSummary",
    "ExperimentAnalysis",
    "ExperimentData",
    "ExperimentError",
    "ExperimentSettings",
    "Finding",
    "Run",
    "SelfCheck",
]

FORMAT_VERSION = 1
EXPERIMENT_FILE = "experiment.json"
CONTROL = "normal-control"
AMBIENT_PREFIX = "normal-under-"
STRESS_NG_PREFIX = "stress-ng-"
STRESS_NG_BASELINE = "stress-ng-cpu"
"""The stress-ng conditions' baseline: its stressor computes without the kernel."""


class ExperimentError(SyscallLabError):
    """A folder that is not an experiment, bad settings, or a run that did not complete."""


@dataclass(frozen=True, slots=True)
class ExperimentSettings:
    """What :func:`run_experiment` captures.

    ``conditions`` (first must be ``normal``) are traced ``repeats`` times each, interleaved;
    ``control`` adds ``normal-control``; ``ambient`` lists the resources to trace normal beside
    (``normal-under-X``); ``stress_ng`` adds the ``stress-ng-*`` conditions when stress-ng is
    installed. ``backend`` is the backend of the stressed ``conditions``.
    """

    repeats: int = 5
    scale: float = 1.0
    seed: int = 0
    backend: str = "python"
    conditions: tuple[str, ...] = ("normal", "cpu", "memory", "io")
    control: bool = True
    ambient: tuple[str, ...] = ("cpu", "memory", "io")
    stress_ng: bool = True
    out_dir: Path = Path("runs/experiments")


@dataclass(frozen=True, slots=True, eq=False)
class Run:
    """One traced run: its condition, repeat, run folder, metadata and (phase-cut) events."""

    condition: str
    repeat: int
    run_id: str
    run_dir: Path
    metadata: RunMetadata
    events: pd.DataFrame


@dataclass(frozen=True, slots=True, eq=False)
class ExperimentData:
    """Every run of an experiment, the settings and machine, and what was skipped (and why)."""

    settings: ExperimentSettings
    runs: tuple[Run, ...]
    environment: Environment
    skipped: tuple[str, ...] = ()

    @property
    def conditions(self) -> tuple[str, ...]:
        """The conditions with runs, in capture order."""
        return tuple(dict.fromkeys(run.condition for run in self.runs))

    def runs_of(self, condition: str) -> dict[str, pd.DataFrame]:
        """Run id -> events of ``condition``, in repeat order (the analysis functions' input)."""
        selected = {run.run_id: run.events for run in self.runs if run.condition == condition}
        if not selected:
            raise ExperimentError(
                f"no runs of condition {condition!r}; have {', '.join(self.conditions)}"
            )
        return selected


@dataclass(frozen=True, slots=True, eq=False)
class ConditionSummary:
    """One condition's per-run tables and observer overhead.

    ``overhead`` is the median over runs of traced / untraced wall time (None without untraced
    times); the wall times are medians in seconds.
    """

    condition: str
    runs: tuple[str, ...]
    counts: pd.DataFrame
    shares: pd.DataFrame
    timing: pd.DataFrame
    traced_seconds: float | None
    untraced_seconds: float | None
    overhead: float | None


@dataclass(frozen=True, slots=True)
class SelfCheck:
    """A condition against itself: are its runs' syscall counts the same over repeats?

    ``identical`` when every run has exactly the same count row. ``spread`` is the largest
    (max - min) / max(median, 1) over syscalls, ``worst`` that syscall (None when identical).
    """

    condition: str
    runs: int
    identical: bool
    spread: float
    worst: str | None


@dataclass(frozen=True, slots=True)
class Finding:
    """One sentence of the report, generated from the statistics, and the numbers behind it.

    ``topic`` groups findings (``shift``, ``cpu``, ``control``, ``self``, ``ambient``,
    ``stress-ng``, ``overhead``, ``skipped``); ``significant`` is whether the statement reports a
    significant effect (None when no test is involved).
    """

    topic: str
    condition: str
    baseline: str | None
    sentence: str
    significant: bool | None
    numbers: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, eq=False)
class ExperimentAnalysis:
    """Everything :func:`analyse_experiment` computed; pure data for the report.

    ``comparisons`` maps ``(baseline, condition)`` to a :class:`~syscall_parse.stats.Comparison`:
    each stressed condition against normal, the control (normal, normal-control), each ambient
    condition against normal, each stress-ng condition against ``stress-ng-cpu``.
    ``ambient`` holds the count equivalence of each ``normal-under-X`` against normal.
    """

    data: ExperimentData
    summaries: Mapping[str, ConditionSummary]
    comparisons: Mapping[tuple[str, str], Comparison]
    self_checks: Mapping[str, SelfCheck]
    ambient: Mapping[str, Equivalence]
    alpha: float
    correction: str
    seed: int

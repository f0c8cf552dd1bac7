"""The experiment: every condition traced over repeated interleaved runs, stored, analysed.

Conditions (one folder each under ``<out>/datasets/``, the behavioural category):

- ``normal``, ``cpu``, ``memory``, ``io``: ``python -m workloads CONDITION``, cut to the
  workload's measured phase (with ``backend="stress-ng"`` only ``normal``: the stressed
  conditions are then the ``stress-ng-*`` ones).
- ``normal-control``: a second, independent batch of ``normal`` runs, interleaved with the
  others; normal against it is the control that shows the statistics do not cry wolf.
- ``normal-under-cpu``, ``normal-under-memory``, ``normal-under-io``: the normal workload traced
  beside an untraced stress-ng load of that resource (:class:`~syscall_lab.capture.ambient.Ambient`;
  the Python workload looping when stress-ng is not installed).
- ``stress-ng-cpu``, ``stress-ng-memory``, ``stress-ng-io``: stress-ng's own stressors traced
  whole (stress-ng has no phase markers). They are compared with ``stress-ng-cpu``, whose
  stressor does its work without the kernel, so stress-ng's start-up is in both sides. Without
  stress-ng they are skipped, and ``ExperimentData.skipped`` says so.

Layout of ``out_dir``: ``experiment.json`` (format_version, settings, environment, runs),
``datasets/<condition>/<run-id>.csv|.parquet|.json`` (events and run metadata) and
``runs/<run-id>/`` (raw strace logs, as :func:`~syscall_lab.capture.run.capture` leaves them).
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from syscall_lab.analyse.phase import cut_to_phase, find_frame_markers
from syscall_lab.analyse.stats import (
    Comparison,
    Equivalence,
    Shift,
    compare_conditions,
    compare_tables,
)
from syscall_lab.analyse.tables import count_table, share_table, timing_table
from syscall_lab.capture.ambient import Ambient
from syscall_lab.capture.metadata import Environment, RunMetadata, collect_metadata
from syscall_lab.capture.run import (
    AMBIENT_STRESS_NG,
    STRESS_NG_STRESSORS,
    CaptureResult,
    capture_condition,
)
from syscall_lab.capture.strace import find_strace
from syscall_lab.errors import SyscallLabError
from syscall_parse.atomic import write_text
from syscall_parse.table import read_parquet, read_trace, write_csv, write_parquet
from workloads.conditions import CONDITIONS as WORKLOADS

__all__ = [
    "CONTROL",
    "EXPERIMENT_FILE",
    "FORMAT_VERSION",
    "PHASE_COLUMNS",
    "STRESS_NG_BASELINE",
    "ConditionSummary",
    "ExperimentAnalysis",
    "ExperimentData",
    "ExperimentError",
    "ExperimentSettings",
    "Finding",
    "Run",
    "SelfCheck",
    "analyse_experiment",
    "check_settings",
    "find_shift",
    "findings",
    "load_experiment",
    "phase_shifts",
    "run_experiment",
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
    installed. ``backend`` is the backend of the stressed ``conditions``: ``python`` traces the
    workloads (and the stress-ng conditions when ``stress_ng``), ``stress-ng`` only the
    ``stress-ng-*`` conditions.
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

    ``counts``, ``shares`` (None when a run made no call) and ``timing`` are the tables of
    :mod:`syscall_lab.analyse.tables`; ``phase`` (None without phase markers) has
    :data:`PHASE_COLUMNS`, measured between the markers so that a phase without calls has a
    rate (0) and a longest gap (the whole phase).

    ``overhead`` is the median over runs of traced / untraced wall time (None without untraced
    times); the wall times are medians in seconds.
    """

    condition: str
    runs: tuple[str, ...]
    counts: pd.DataFrame
    shares: pd.DataFrame | None
    timing: pd.DataFrame
    phase: pd.DataFrame | None
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

    ``comparisons`` maps ``(baseline, condition)`` to a ``Comparison``:
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


PHASE_COLUMNS: tuple[str, ...] = ("phase_seconds", "calls", "rate", "gap_max", "gap_share")
"""Columns of a condition's phase table: the span between the markers, the calls in it, calls
per second of it, the longest gap between consecutive starts (markers included) and that gap
as a share of the phase."""


def _stressed(settings: ExperimentSettings) -> list[str]:
    return [condition for condition in settings.conditions if condition != "normal"]


def check_settings(settings: ExperimentSettings) -> None:
    """Raise ExperimentError for settings :func:`run_experiment` cannot run."""
    if settings.repeats < 2:
        raise ExperimentError(f"repeats must be >= 2 (a test needs runs), got {settings.repeats}")
    if not settings.scale > 0:
        raise ExperimentError(f"scale must be > 0, got {settings.scale}")
    if settings.backend not in ("python", "stress-ng"):
        raise ExperimentError(f"unknown backend {settings.backend!r}: python or stress-ng")
    if not settings.conditions or settings.conditions[0] != "normal":
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
class _Planned:
    """One capture to make: the dataset condition, and how to run it."""

    condition: str
    workload: str
    backend: str
    repeat: int
    ambient: Ambient | None = None


def _plan(settings: ExperimentSettings, have_stress_ng: bool) -> tuple[list[_Planned], list[str]]:
    """Every capture in order, and what is skipped (and why)."""
    skipped: list[str] = []
    main = ["normal", *([CONTROL] if settings.control else [])]
    stressed = _stressed(settings)
    sng: list[str] = []
    if settings.backend == "python":
        main += stressed
        if settings.stress_ng:
            sng = ["cpu", *[c for c in stressed if c != "cpu" and c in STRESS_NG_STRESSORS]]
    else:
        sng = ["cpu", *[c for c in stressed if c != "cpu" and c in STRESS_NG_STRESSORS]]
        skipped += [f"{c}: stress-ng has no stressor for it" for c in stressed if c not in sng]
    if sng and not have_stress_ng:
        skipped.append(
            "stress-ng conditions ("
            + ", ".join(STRESS_NG_PREFIX + c for c in sng)
            + "): stress-ng is not installed"
        )
        sng = []
    plan = [
        _Planned(c, "normal" if c == CONTROL else c, settings.backend, r)
        for r in range(settings.repeats)
        for c in main
    ]
    # The untraced load is stress-ng's when it is installed, else the Python workload looping.
    load = "stress-ng" if have_stress_ng else "python"
    for resource in settings.ambient:
        plan += [
            _Planned(AMBIENT_PREFIX + resource, "normal", "python", r, Ambient(resource, load))
            for r in range(settings.repeats)
        ]
    plan += [
        _Planned(STRESS_NG_PREFIX + c, c, "stress-ng", r)
        for r in range(settings.repeats)
        for c in sng
    ]
    return plan, skipped


def _phase_times(frame: pd.DataFrame) -> tuple[float, float]:
    markers = find_frame_markers(frame)
    lines = frame["line"].to_numpy()
    times = frame["time"].to_numpy(dtype=np.float64, na_value=np.nan)
    return float(times[lines == markers.start][0]), float(times[lines == markers.end][0])


def _events(result: CaptureResult, cut: bool) -> tuple[pd.DataFrame, tuple[float, float] | None]:
    frame = read_trace(list(result.logs))
    if not cut:
        return frame, None
    events = cut_to_phase(frame, where=str(result.run_dir))
    # The categories of what is left, as the stored table has them (read_parquet, read_csv).
    for name, dtype in events.dtypes.items():
        if isinstance(dtype, pd.CategoricalDtype):
            events[name] = events[name].cat.remove_unused_categories()
    return events, _phase_times(frame)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple | list):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    return value


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    """Write JSON atomically."""
    write_text(path, json.dumps(_jsonable(data), indent=2, sort_keys=True) + "\n")


def _store(out_dir: Path, run: Run) -> None:
    folder = out_dir / "datasets" / run.condition
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(run.events, folder / f"{run.run_id}.csv")
    write_parquet(run.events, folder / f"{run.run_id}.parquet")
    _write_json(folder / f"{run.run_id}.json", dataclasses.asdict(run.metadata))


def _run_entry(run: Run) -> dict[str, Any]:
    return {
        "condition": run.condition,
        "repeat": run.repeat,
        "run_id": run.run_id,
        "phase": run.phase,
        "status": run.metadata.status,
    }


def run_experiment(
    settings: ExperimentSettings,
    *,
    progress: Callable[[str, int, int], None] | None = None,
) -> ExperimentData:
    """Capture every condition of ``settings``, one run at a time, and store the data set.

    Order: each repeat of normal, normal-control and the stressed conditions (interleaved, so
    drift in the machine spreads over all of them), then each ambient resource's runs (each
    run starts the load, and stops it, syncs and settles after), then the stress-ng conditions
    (interleaved). ``progress(condition, index, total)`` is called before each run. Raises
    CaptureError (strace missing, ptrace refused) and ExperimentError (bad settings, an
    ``out_dir`` that already holds an experiment, a run that did not complete).
    """
    check_settings(settings)
    out_dir = Path(settings.out_dir)
    # A data set is one experiment's: never mix runs into (or overwrite) an earlier one.
    for earlier in (out_dir / EXPERIMENT_FILE, out_dir / "datasets"):
        if earlier.exists():
            raise ExperimentError(
                f"{out_dir} already holds an experiment ({earlier.name}); "
                "remove it or choose another folder"
            )
    out_dir.mkdir(parents=True, exist_ok=True)
    environment = collect_metadata(find_strace())
    plan, skipped = _plan(settings, shutil.which("stress-ng") is not None)
    runs = []
    for index, planned in enumerate(plan):
        if progress is not None:
            progress(planned.condition, index, len(plan))
        result = capture_condition(
            planned.workload, scale=settings.scale, seed=settings.seed,
            backend=planned.backend, label=planned.condition, out_dir=out_dir / "runs",
            repeat=planned.repeat, ambient=planned.ambient,
        )  # fmt: skip
        if not result.complete or result.metadata.exit_status != 0:
            raise ExperimentError(
                f"run {result.run_dir} of {planned.condition} ended {result.metadata.status} "
                f"(exit status {result.metadata.exit_status}); see its stderr.txt"
            )
        cut = planned.workload == "normal" or planned.backend == "python"
        events, phase = _events(result, cut)
        run = Run(
            planned.condition, planned.repeat, result.run_dir.name, result.run_dir,
            result.metadata, events, phase,
        )  # fmt: skip
        _store(out_dir, run)
        runs.append(run)
    data = ExperimentData(settings, tuple(runs), environment, tuple(skipped))
    _write_json(
        out_dir / EXPERIMENT_FILE,
        {
            "format_version": FORMAT_VERSION,
            "settings": dataclasses.asdict(settings),
            "environment": dataclasses.asdict(environment),
            "skipped": list(skipped),
            "runs": [_run_entry(run) for run in runs],
        },
    )
    return data


def _tuples(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _read_run_metadata(path: Path) -> RunMetadata:
    data = json.loads(path.read_text(encoding="utf-8"))
    environment = Environment(**{k: _tuples(v) for k, v in data.pop("environment").items()})
    return RunMetadata(environment=environment, **{k: _tuples(v) for k, v in data.items()})


def load_experiment(out_dir: Path | str) -> ExperimentData:
    """Read back what :func:`run_experiment` stored in ``out_dir`` (events from Parquet).

    Raises ExperimentError when ``out_dir`` holds no readable ``experiment.json`` of this
    format, or a run's files are missing or unreadable.
    """
    out_dir = Path(out_dir)
    path = out_dir / EXPERIMENT_FILE
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ExperimentError(f"{out_dir} is not an experiment: no {EXPERIMENT_FILE}") from None
    except (OSError, ValueError) as exc:
        raise ExperimentError(f"cannot read {path}: {exc}") from exc
    if not isinstance(stored, dict) or stored.get("format_version") != FORMAT_VERSION:
        version = stored.get("format_version") if isinstance(stored, dict) else None
        raise ExperimentError(f"{path}: format_version {version!r}, expected {FORMAT_VERSION}")
    try:
        raw = stored["settings"]
        settings = ExperimentSettings(
            **{k: _tuples(v) for k, v in raw.items() if k != "out_dir"}, out_dir=out_dir
        )
        environment = Environment(**{k: _tuples(v) for k, v in stored["environment"].items()})
        runs = []
        for entry in stored["runs"]:
            folder = out_dir / "datasets" / entry["condition"]
            run_id = entry["run_id"]
            runs.append(
                Run(
                    entry["condition"], int(entry["repeat"]), run_id, out_dir / "runs" / run_id,
                    _read_run_metadata(folder / f"{run_id}.json"),
                    read_parquet(folder / f"{run_id}.parquet"),
                    tuple(entry["phase"]) if entry["phase"] is not None else None,
                )
            )  # fmt: skip
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise ExperimentError(f"{path}: cannot load the experiment: {exc}") from exc
    return ExperimentData(settings, tuple(runs), environment, tuple(stored.get("skipped", ())))


def _median(values: list[float]) -> float | None:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return float(np.median(finite)) if finite else None


def _phase_row(events: pd.DataFrame, phase: tuple[float, float]) -> list[float]:
    start, end = phase
    calls = events.loc[(events["kind"] == "syscall").fillna(False).to_numpy(dtype=bool)]
    times = calls["time"].to_numpy(dtype=np.float64, na_value=np.nan)
    starts = np.sort(np.concatenate([[start], times[np.isfinite(times)], [end]]))
    span = end - start
    gap = float(np.diff(starts).max())
    return [span, float(len(calls)), len(calls) / span, gap, gap / span]


def _summary(data: ExperimentData, condition: str) -> ConditionSummary:
    runs = data.runs_of(condition)
    records = [run for run in data.runs if run.condition == condition]
    counts = count_table(runs)
    shares = share_table(counts) if bool((counts.sum(axis=1) > 0).all()) else None
    rows = [_phase_row(run.events, run.phase) for run in records if run.phase is not None]
    phase = None
    if len(rows) == len(records):
        phase = pd.DataFrame(
            np.array(rows, dtype=np.float64),
            index=pd.Index(list(runs), dtype=object, name="run"),
            columns=pd.Index(PHASE_COLUMNS, dtype=object, name="metric"),
        )
    traced = [run.metadata.traced_seconds for run in records]
    untraced = [run.metadata.untraced_seconds for run in records]
    ratios = [t / u for t, u in zip(traced, untraced, strict=True) if t and u]
    return ConditionSummary(
        condition=condition, runs=tuple(runs), counts=counts, shares=shares,
        timing=timing_table(runs), phase=phase, traced_seconds=_median(traced),
        untraced_seconds=_median(untraced), overhead=_median(ratios),
    )  # fmt: skip


def _self_check(summary: ConditionSummary) -> SelfCheck:
    counts = summary.counts.to_numpy(dtype=np.float64)
    if not counts.size:
        return SelfCheck(summary.condition, len(counts), True, 0.0, None)
    spread = (counts.max(axis=0) - counts.min(axis=0)) / np.maximum(np.median(counts, axis=0), 1)
    worst = int(np.argmax(spread))
    identical = bool((spread == 0).all())
    return SelfCheck(
        summary.condition, len(counts), identical, float(spread[worst]),
        None if identical else str(summary.counts.columns[worst]),
    )  # fmt: skip


def _pairs(conditions: tuple[str, ...]) -> list[tuple[str, str]]:
    pairs = []
    for condition in conditions:
        if condition in ("normal", STRESS_NG_BASELINE):
            continue
        if condition.startswith(STRESS_NG_PREFIX):
            if STRESS_NG_BASELINE in conditions:
                pairs.append((STRESS_NG_BASELINE, condition))
        elif "normal" in conditions:
            pairs.append(("normal", condition))
    return pairs


def analyse_experiment(
    data: ExperimentData, *, alpha: float = 0.05, correction: str = "bh", seed: int = 0
) -> ExperimentAnalysis:
    """Compare the conditions of ``data``; pure (no capture, no output), deterministic in seed.

    Comparisons: every stressed, control and ambient condition against normal, every stress-ng
    condition against ``stress-ng-cpu``. The self-check of a condition asks whether its runs'
    counts are identical: with 5 runs, splitting a condition in halves (2 vs 3 runs) gives a
    smallest rank-test p of 0.2, a test that can never reject, so the independent control batch
    (normal-control) is the statistical control and identical counts the self-check.
    """
    summaries = {condition: _summary(data, condition) for condition in data.conditions}
    comparisons = {
        (baseline, condition): compare_conditions(
            data.runs_of(baseline),
            data.runs_of(condition),
            alpha=alpha,
            correction=correction,
            seed=seed,
        )
        for baseline, condition in _pairs(data.conditions)
    }
    ambient = {
        condition: comparison.equivalence
        for (_, condition), comparison in comparisons.items()
        if condition.startswith(AMBIENT_PREFIX)
    }
    return ExperimentAnalysis(
        data=data, summaries=summaries, comparisons=comparisons,
        self_checks={c: _self_check(s) for c, s in summaries.items()},
        ambient=ambient, alpha=alpha, correction=correction, seed=seed,
    )  # fmt: skip


def phase_shifts(
    analysis: ExperimentAnalysis, condition: str, baseline: str = "normal"
) -> tuple[Shift, ...]:
    """Shifts of the :data:`PHASE_COLUMNS` (rate, longest gap...) from baseline to condition."""
    base, cond = analysis.summaries[baseline].phase, analysis.summaries[condition].phase
    if base is None or cond is None:
        raise ExperimentError(f"{baseline} or {condition} has no phase markers")
    return compare_tables(
        base, cond, alpha=analysis.alpha, correction=analysis.correction,
        pseudo_count=0.0, seed=analysis.seed,
    )  # fmt: skip


def find_shift(
    analysis: ExperimentAnalysis, condition: str, syscall: str, baseline: str = "normal"
) -> Shift:
    """The count ``Shift`` of ``syscall`` from baseline to condition.

    Raises ExperimentError when the pair was not compared or neither side made the call.
    """
    try:
        comparison = analysis.comparisons[baseline, condition]
    except KeyError:
        raise ExperimentError(f"{condition} was not compared with {baseline}") from None
    for shift in comparison.shifts:
        if shift.name == syscall:
            return shift
    raise ExperimentError(f"neither {baseline} nor {condition} made a {syscall} call")


def _describe(condition: str) -> str:
    if condition == CONTROL:
        return "an independent batch of normal"
    if condition.startswith(AMBIENT_PREFIX):
        return f"normal under ambient {condition.removeprefix(AMBIENT_PREFIX)} load"
    if condition.startswith(STRESS_NG_PREFIX):
        return f"stress-ng's {condition.removeprefix(STRESS_NG_PREFIX)} stressor"
    return f"{condition} stress"


def _p(value: float) -> str:
    return f"{value:.3f}" if value >= 0.001 else f"{value:.1e}"


def _ratio(value: float) -> str:
    return f"{value:.0f}" if value >= 10 else f"{value:.3g}"


def _order(shift: Shift) -> tuple[bool, bool, float]:
    """Significant first, rises before falls, larger factors first."""
    size = abs(math.log(shift.ratio)) if 0 < shift.ratio < math.inf else math.inf
    return (not shift.significant, shift.direction != "up", -size)


def _shift_finding(condition: str, baseline: str, shift: Shift, topic: str) -> Finding:
    verb = {"up": "rises", "down": "falls", "none": "stays"}[shift.direction]
    verdict = (
        ""
        if shift.significant
        else "; not significant"
        if shift.in_family
        else "; not significant: no test on these runs could be"
    )
    sentence = (
        f"Under {_describe(condition)} {shift.name} {verb} from {shift.baseline_median:g} to "
        f"{shift.median:g} calls per run (x{_ratio(shift.ratio)}, Cliff's delta "
        f"{shift.effect:.2f}, p_adj = {_p(shift.p_adjusted)}, {shift.n} vs "
        f"{shift.n_baseline} runs{verdict})."
    )
    numbers = {
        "baseline_median": shift.baseline_median, "median": shift.median, "ratio": shift.ratio,
        "effect": shift.effect, "p_value": shift.p_value, "p_adjusted": shift.p_adjusted,
        "n": float(shift.n), "n_baseline": float(shift.n_baseline),
    }  # fmt: skip
    return Finding(topic, condition, baseline, sentence, shift.significant, numbers)


# Significant shifts smaller than this factor either way are summed up in one sentence (the
# shift tables list each); larger ones get a sentence of their own.
SLIGHT_FACTOR = 1.5


def _shift_findings(
    condition: str, baseline: str, comparison: Comparison, topic: str
) -> list[Finding]:
    """A sentence per large or not significant shift (never hidden), then one for the calls of
    the baseline that vanish and one for the significant but slight shifts."""
    shifts = [
        shift
        for shift in sorted(comparison.shifts, key=_order)
        if shift.in_family or shift.difference != 0 or shift.effect != 0
    ]
    vanished = [s for s in shifts if s.significant and s.median == 0 < s.baseline_median]
    slight = [
        s
        for s in shifts
        if s.significant and s not in vanished and 1 / SLIGHT_FACTOR < s.ratio < SLIGHT_FACTOR
    ]
    found = [
        _shift_finding(condition, baseline, shift, topic)
        for shift in shifts
        if shift not in vanished and shift not in slight
    ]
    if vanished:
        listed = ", ".join(f"{s.name} {s.baseline_median:g}" for s in vanished)
        found.append(
            _group_finding(
                condition, baseline, vanished, topic,
                f"{len(vanished)} syscalls of {baseline}'s phase fall to 0 calls per run "
                f"({listed})",
            )
        )  # fmt: skip
    if slight:
        listed = ", ".join(f"{s.name} {s.baseline_median:g} -> {s.median:g}" for s in slight)
        found.append(
            _group_finding(
                condition, baseline, slight, topic,
                f"{len(slight)} more syscalls shift significantly but by less than "
                f"x{SLIGHT_FACTOR:g} either way ({listed})",
            )
        )  # fmt: skip
    return found


def _group_finding(
    condition: str, baseline: str, shifts: list[Shift], topic: str, what: str
) -> Finding:
    effects = sorted({round(s.effect, 2) for s in shifts})
    effect = f"{effects[0]:.2f}" if len(effects) == 1 else f"{effects[0]:.2f} to {effects[-1]:.2f}"
    worst = max(s.p_adjusted for s in shifts)
    runs = {(s.n, s.n_baseline) for s in shifts}
    sizes = ", ".join(f"{n} vs {n_baseline}" for n, n_baseline in sorted(runs))
    sentence = (
        f"Under {_describe(condition)} {what}: Cliff's delta {effect}, "
        f"p_adj <= {_p(worst)}, {sizes} runs."
    )
    numbers = {"syscalls": float(len(shifts)), "max_p_adjusted": worst}
    return Finding(topic, condition, baseline, sentence, True, numbers)


def _distance_text(comparison: Comparison) -> tuple[str, dict[str, float]]:
    distance = comparison.distance
    if distance is None:
        return "no distance (a run made no call)", {}
    return (
        f"JSD {distance.between:.3f} between vs {distance.within:.3f} within, "
        f"p = {_p(distance.p_value)}",
        {"jsd_between": distance.between, "jsd_within": distance.within,
         "jsd_p_value": distance.p_value},
    )  # fmt: skip


def _no_shift_finding(topic: str, baseline: str, condition: str, comparison: Comparison) -> Finding:
    significant = [shift for shift in comparison.shifts if shift.significant]
    tested = [shift for shift in comparison.shifts if shift.in_family]
    distance_text, numbers = _distance_text(comparison)
    distance_significant = (
        comparison.distance is not None and comparison.distance.p_value <= comparison.alpha
    )
    identical = " (counts identical in every run)" if comparison.equivalence.identical else ""
    if significant or distance_significant:
        names = ", ".join(shift.name for shift in significant) or "none"
        verdict = f"significant shift in {len(significant)} of {len(comparison.shifts)} syscalls"
        sentence = (
            f"{baseline.capitalize()} vs {_describe(condition)}: {verdict} ({names}; "
            f"{distance_text})."
        )
    else:
        sentence = (
            f"{baseline.capitalize()} vs {_describe(condition)}: no significant shift (0 of "
            f"{len(comparison.shifts)} syscalls, {len(tested)} testable{identical}; "
            f"{distance_text})."
        )
    numbers |= {
        "shifts_significant": float(len(significant)),
        "syscalls": float(len(comparison.shifts)),
        "testable": float(len(tested)),
        "identical": float(comparison.equivalence.identical),
    }
    return Finding(
        topic, condition, baseline, sentence, bool(significant or distance_significant), numbers
    )


def _cpu_finding(analysis: ExperimentAnalysis, condition: str) -> Finding:
    base = analysis.summaries["normal"]
    cond = analysis.summaries[condition]
    calls = float(cond.counts.sum(axis=1).median())
    base_calls = float(base.counts.sum(axis=1).median())
    shifts = {shift.name: shift for shift in phase_shifts(analysis, condition)}
    rate, gap = shifts["rate"], shifts["gap_share"]
    counted = analysis.comparisons["normal", condition].shifts
    rises = [shift.name for shift in counted if shift.significant and shift.direction == "up"]
    signature = (
        "has no count signature" if not rises else f"raises {', '.join(rises)} significantly"
    )
    sentence = (
        f"CPU stress {signature}: its phase makes {calls:g} syscalls per run (normal: "
        f"{base_calls:g}); the syscall rate falls from {rate.baseline_median:.0f}/s to "
        f"{rate.median:.0f}/s (p_adj = {_p(rate.p_adjusted)}) and the longest gap grows from "
        f"{gap.baseline_median:.0%} to {gap.median:.0%} of the phase (Cliff's delta "
        f"{gap.effect:.2f}, p_adj = {_p(gap.p_adjusted)})."
    )
    numbers = {
        "calls": calls, "baseline_calls": base_calls, "rate": rate.median,
        "baseline_rate": rate.baseline_median, "rate_p_adjusted": rate.p_adjusted,
        "gap_share": gap.median, "baseline_gap_share": gap.baseline_median,
        "gap_p_adjusted": gap.p_adjusted, "gap_effect": gap.effect,
    }  # fmt: skip
    return Finding(
        "cpu", condition, "normal", sentence, rate.significant and gap.significant, numbers
    )


def _ambient_finding(analysis: ExperimentAnalysis, condition: str) -> Finding:
    comparison = analysis.comparisons["normal", condition]
    same = comparison.equivalence
    counts = (
        "keeps identical syscall counts"
        if same.identical
        else "keeps equivalent syscall counts"
        if same.equivalent
        else f"changes its syscall counts ({', '.join(same.outside)} outside +-{same.margin:.0%})"
    )
    timing = {shift.name: shift for shift in comparison.timing}
    parts = []
    numbers = {"identical": float(same.identical), "equivalent": float(same.equivalent)}
    for name, label, scale, unit in (
        ("latency_p99", "p99 latency", 1e3, " ms"),
        ("slow_calls", "calls over 1 ms", 1.0, ""),
    ):
        shift = timing.get(name)
        if shift is None:
            continue
        verdict = "significant" if shift.significant else "not significant"
        parts.append(
            f"{label} {shift.baseline_median * scale:.3g}{unit} -> {shift.median * scale:.3g}"
            f"{unit} (Cliff's delta {shift.effect:.2f}, p_adj = {_p(shift.p_adjusted)}, "
            f"{verdict})"
        )
        numbers |= {
            f"{name}_baseline": shift.baseline_median, name: shift.median,
            f"{name}_effect": shift.effect, f"{name}_p_adjusted": shift.p_adjusted,
        }  # fmt: skip
    sentence = f"{_describe(condition).capitalize()} {counts}; " + "; ".join(parts) + "."
    return Finding("ambient", condition, "normal", sentence, None, numbers)


def _self_finding(check: SelfCheck) -> Finding:
    if check.identical:
        sentence = f"{check.condition}: its {check.runs} runs make identical syscall counts."
    else:
        sentence = (
            f"{check.condition}: counts vary over its {check.runs} runs (largest spread "
            f"{check.spread:.0%} of the median, in {check.worst})."
        )
    numbers = {"runs": float(check.runs), "spread": check.spread}
    return Finding("self", check.condition, None, sentence, None, numbers)


def _overhead_finding(summary: ConditionSummary) -> Finding | None:
    if summary.overhead is None:
        return None
    sentence = (
        f"Observer overhead of {summary.condition}: traced / untraced wall time "
        f"x{summary.overhead:.2f} (median of the runs' ratios; medians "
        f"{summary.traced_seconds:.2f} s traced, {summary.untraced_seconds:.2f} s untraced)."
    )
    numbers = {
        "overhead": summary.overhead,
        "traced_seconds": summary.traced_seconds or math.nan,
        "untraced_seconds": summary.untraced_seconds or math.nan,
    }
    return Finding("overhead", summary.condition, None, sentence, None, numbers)


def findings(analysis: ExperimentAnalysis) -> tuple[Finding, ...]:
    """The report's sentences, in order: shifts of each stressed condition (significant or
    not: a shift that is not significant is reported as such; significant rises first, larger
    factors first), CPU timing, control,
    self-checks, ambient, stress-ng, observer overhead, what was skipped."""
    found: list[Finding] = []
    for (baseline, condition), comparison in analysis.comparisons.items():
        if condition == CONTROL or condition.startswith(AMBIENT_PREFIX):
            continue
        topic = "stress-ng" if condition.startswith(STRESS_NG_PREFIX) else "shift"
        if condition == "cpu" and analysis.summaries[condition].phase is not None:
            found.append(_cpu_finding(analysis, condition))
        found += _shift_findings(condition, baseline, comparison, topic)
    if ("normal", CONTROL) in analysis.comparisons:
        found.append(
            _no_shift_finding("control", "normal", CONTROL, analysis.comparisons["normal", CONTROL])
        )
    found += [_self_finding(check) for check in analysis.self_checks.values()]
    found += [_ambient_finding(analysis, condition) for condition in analysis.ambient]
    found += [
        finding
        for summary in analysis.summaries.values()
        if (finding := _overhead_finding(summary)) is not None
    ]
    found += [
        Finding("skipped", "", None, f"Skipped: {reason}.", None)
        for reason in analysis.data.skipped
    ]
    return tuple(found)

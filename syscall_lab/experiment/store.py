"""Capture an experiment into its folder, and load it back.

Conditions (one folder each under ``<out>/datasets/``; see :mod:`syscall_lab.conditions`):
the workloads cut to their measured phase (with ``backend="stress-ng"`` only ``normal`` and its
control: the stressed conditions are then the ``stress-ng-*`` ones), ``normal-control``,
``normal-under-X`` (the normal workload beside an untraced load of X:
:class:`~syscall_lab.capture.ambient.Ambient`, the Python workload looping when stress-ng is
not installed), the real programs with their controls and loads (``git-grep``,
``git-grep-control``, ``git-grep-under-cpu``...; skipped when the program is not installed) and
``stress-ng-X`` (stress-ng's own stressors traced whole; without stress-ng they are skipped).
``ExperimentData.skipped`` says what was skipped and why. With two observers
(``ExperimentSettings.observers``) each condition is captured under each, in the same rounds;
the runs' metadata says who traced them (``RunMetadata.observer``).

Layout of ``out_dir``: ``experiment.json`` (format_version, settings, environment, skipped,
runs in capture order with their observer, and ``rounds``: each round's runs in capture order,
named by condition, ``@ebpf`` added to the eBPF observer's),
``datasets/<condition>/<run-id>.csv|.parquet|.json`` (events and run metadata) and
``runs/<run-id>/`` (raw logs, as :func:`~syscall_lab.capture.run.capture_command` leaves
them).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from syscall_lab.analyse.phase import cut_to_phase, find_frame_markers
from syscall_lab.capture.metadata import (
    Environment,
    RunMetadata,
    collect_metadata,
    metadata_from_dict,
)
from syscall_lab.capture.observer import make_observer
from syscall_lab.capture.run import CaptureResult, capture_condition
from syscall_lab.capture.strace import find_strace
from syscall_lab.experiment.dataset import ExperimentData, ExperimentError, ExperimentSettings, Run
from syscall_lab.experiment.plan import check_settings, plan_runs
from syscall_parse.atomic import write_text
from syscall_parse.table import read_parquet, read_trace, write_csv, write_parquet

__all__ = ["EXPERIMENT_FILE", "FORMAT_VERSION", "load_experiment", "run_experiment"]

FORMAT_VERSION = 2
"""2: each run carries its observer, and its metadata is ``RunMetadata`` format 2."""
EXPERIMENT_FILE = "experiment.json"


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
        "observer": run.observer,
    }


def run_experiment(
    settings: ExperimentSettings,
    *,
    progress: Callable[[str, int, int], None] | None = None,
) -> ExperimentData:
    """Capture every condition of ``settings``, one run at a time, and store the data set.

    The runs go in the order of :func:`~syscall_lab.experiment.plan.plan_runs`.
    ``progress(condition, index, total)`` is called before each run. Raises CaptureError (strace
    missing, ptrace refused) and ExperimentError (bad settings, an ``out_dir`` that already
    holds an experiment, a run that did not complete, eBPF alone asked for and unavailable).
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
    plan, skipped = plan_runs(settings)
    if any(planned.observer == "strace" for planned in plan):
        find_strace()  # before any folder is made: a missing strace leaves nothing behind
    out_dir.mkdir(parents=True, exist_ok=True)
    environment = collect_metadata()
    runs = []
    for index, planned in enumerate(plan):
        condition = planned.condition
        if progress is not None:
            progress(condition.name, index, len(plan))
        result = capture_condition(
            condition.program, scale=settings.scale, seed=settings.seed,
            backend=condition.backend, label=condition.name, out_dir=out_dir / "runs",
            repeat=planned.repeat, ambient=planned.ambient,
            observer=make_observer(planned.observer),
        )  # fmt: skip
        if not result.complete or result.metadata.exit_status != 0:
            raise ExperimentError(
                f"run {result.run_dir} of {condition.name} ended {result.metadata.status} "
                f"(exit status {result.metadata.exit_status}); see its stderr.txt"
            )
        events, phase = _events(result, condition.phased)
        run = Run(
            condition.name, planned.repeat, result.run_dir.name, result.run_dir,
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
            "rounds": [list(conditions) for conditions in data.rounds],
        },
    )
    return data


def _tuples(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _read_run_metadata(path: Path) -> RunMetadata:
    return metadata_from_dict(json.loads(path.read_text(encoding="utf-8")))


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

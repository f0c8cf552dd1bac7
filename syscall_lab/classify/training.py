"""Training the classifier: the runs it learns from, and the default model cached per user."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from syscall_lab.capture.metadata import METADATA_FILE, read_metadata
from syscall_lab.capture.run import capture_condition, run_logs
from syscall_lab.classify.features import trace_features
from syscall_lab.classify.model import CLASSES, FORMAT_VERSION, ResourceModel, fit_model, load_model
from syscall_parse.errors import InputError
from syscall_parse.table import read_trace

__all__ = ["cache_path", "class_of", "default_model", "train_model", "training_runs"]


def class_of(condition: str | None, label: str | None = None) -> str | None:
    """The class a run trains: its workload condition's resource (``memory-brk`` => memory,
    ``stress-ng`` stressors by their condition), else its label when that is a class name."""
    for name in (condition, label):
        if name is not None and name.split("-")[0] in CLASSES:
            return name.split("-")[0]
    return None


def _run_logs(run_dir: Path, names: Sequence[str]) -> tuple[Path, ...]:
    logs = tuple(run_dir / name for name in names) or run_logs(run_dir)
    missing = [str(log) for log in logs if not log.is_file()]
    if not logs or missing:
        raise InputError(f"{run_dir}: raw strace logs missing ({', '.join(missing) or 'none'})")
    return logs


def training_runs(folder: Path | str) -> list[tuple[str, tuple[Path, ...]]]:
    """``(class, raw logs)`` of every complete strace run in ``folder`` whose condition is a
    class. Runs of the eBPF observer are left out: the features read ``mmap``'s flags and the
    bytes moved, which only strace decodes.

    ``folder`` is an experiment (``experiment.json``, read with
    :func:`~syscall_lab.experiment.store.load_experiment`; the raw logs of ``runs/``) or a folder
    holding run folders (``metadata.json`` and ``trace.log*``, at any depth), as ``capture``
    makes them. Raises InputError when there is no such run.
    """
    # Deferred: the experiment module loads the statistics (scipy), which classifying never needs.
    from syscall_lab.experiment.store import EXPERIMENT_FILE, load_experiment

    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder")
    found: list[tuple[str, tuple[Path, ...]]] = []
    if (folder / EXPERIMENT_FILE).is_file():
        for run in load_experiment(folder).runs:
            label = class_of(run.metadata.condition, run.metadata.label)
            if label is not None and run.metadata.observer.name == "strace":
                found.append((label, _run_logs(run.run_dir, run.metadata.logs)))
    else:
        for path in sorted(folder.rglob(METADATA_FILE)):
            metadata = read_metadata(path.parent)
            label = class_of(metadata.condition, metadata.label)
            strace = metadata.observer.name == "strace"
            if label is not None and strace and metadata.status == "complete":
                found.append((label, _run_logs(path.parent, metadata.logs)))
    if not found:
        raise InputError(
            f"{folder}: no complete strace run of {', '.join(CLASSES)} (an experiment folder, "
            "or run folders with metadata.json)"
        )
    return found


def train_model(folder: Path | str) -> ResourceModel:
    """Fit the model on the whole raw traces of the runs in ``folder`` (:func:`training_runs`)."""
    samples = []
    for label, logs in training_runs(folder):
        source = logs[0] if len(logs) == 1 else logs
        samples.append((label, trace_features(read_trace(source), where=str(logs[0]))))
    return fit_model(samples)


def cache_path() -> Path:
    """Where the default model is kept: ``$XDG_CACHE_HOME/syscall-lab/`` (else ``~/.cache``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "syscall-lab" / f"resource-model-v{FORMAT_VERSION}.json"


def default_model(
    *, repeats: int = 2, say: Callable[[str], None] | None = None
) -> tuple[ResourceModel, Path]:
    """The cached default model and its path; on first use it is built from a fresh capture of
    the four conditions (``repeats`` runs each, scale 1, in a temporary folder, removed after)
    and cached. ``say`` is told what happens (the command line prints it on stderr)."""
    path = cache_path()
    if path.is_file():
        try:
            model = load_model(path)
        except InputError as exc:
            if say:
                say(f"rebuilding the cached model ({exc})")
        else:
            if say:
                say(f"using the cached model {path}")
            return model, path
    if say:
        say(f"no model given: capturing {', '.join(CLASSES)} x{repeats} to build one ...")
    with tempfile.TemporaryDirectory(prefix="syscall-lab-train-") as temp:
        for repeat in range(repeats):
            for condition in CLASSES:
                capture_condition(
                    condition, repeat=repeat, out_dir=Path(temp), measure_untraced=False
                )
        model = train_model(temp)
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    if say:
        say(f"cached the model in {path}")
    return model, path

"""Which resource a trace stresses (normal, cpu, memory, io), from features of the whole trace.

The features are meant to hold for any program, not only our workloads: no phase markers, no
syscall of one program's start-up. Each is an amount of one resource's work, or the share of
the trace's time that work takes:

============== ==============================================================================
feature        what it measures
============== ==============================================================================
longest_gap    log10 seconds of the longest stretch a process spent outside syscalls
               (from the end of one call, by ``-T``, to the start of its next; floor 1 ms):
               computing, or page faults. A sleep is inside a syscall, so it is not a gap.
gap_share      that stretch as a share of the trace's wall time
anonymous_mib  log10(1 + MiB of anonymous memory asked for: successful ``mmap`` with
               MAP_ANONYMOUS (PROT_NONE reservations left out), ``brk`` growth per process
               and exec, ``mremap`` growth)
memory_calls   log10(1 + number of mmap, munmap, brk, mremap, madvise calls)
io_mib         log10(1 + MiB moved by the read/write family: read, write, pread64,
               pwrite64, readv, writev, ... sendfile, copy_file_range, splice)
io_time        share of the wall time spent inside those calls and the sync calls (by ``-T``)
sync_calls     log10(1 + number of fsync, fdatasync, sync_file_range, sync, syncfs, msync)
============== ==============================================================================

Left out on purpose: shares and rates of calls. A short C program's start-up alone is a fifth
``mmap`` and 20,000 calls per second (``date``, ``cat``), so shares and rates would call every
small tool memory stress; amounts of work do not grow with start-up. The share of time inside
memory calls is left out too: the dynamic loader's mmaps take 5% of a small tool's time, half
as much as in our memory workload.

The model is a nearest-centroid classifier on standardized features: each feature is centred
and divided by its standard deviation over the training runs; a class is the mean of its runs;
the score of class ``k`` is ``softmax(-d_k^2 / 2)`` over the squared distances ``d_k^2`` to the
centroids (the posterior of unit-variance Gaussians with equal priors), so the scores sum to 1.

It needs timestamps (``strace -ttt``, ``-tt`` or ``-t``); without ``-T`` durations the time
spent inside calls counts as gap and ``io_time`` is 0. Model files are JSON with
``format_version``, written atomically.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from syscall_lab.errors import SyscallLabError
from syscall_parse.atomic import write_text
from syscall_parse.errors import InputError
from syscall_parse.table import read_trace

__all__ = [
    "CLASSES",
    "FEATURES",
    "FORMAT_VERSION",
    "Classification",
    "ClassifyError",
    "ResourceModel",
    "cache_path",
    "class_of",
    "classify_trace",
    "default_model",
    "fit_model",
    "load_model",
    "trace_features",
    "train_model",
    "training_runs",
]

FORMAT_VERSION = 1
CLASSES: tuple[str, ...] = ("normal", "cpu", "memory", "io")
FEATURES: tuple[str, ...] = (
    "longest_gap",
    "gap_share",
    "anonymous_mib",
    "memory_calls",
    "io_mib",
    "io_time",
    "sync_calls",
)
MEMORY_SYSCALLS = frozenset({"mmap", "mmap2", "munmap", "brk", "mremap", "madvise"})
IO_SYSCALLS = frozenset(
    {"read", "write", "pread64", "pwrite64", "readv", "writev", "preadv", "pwritev", "preadv2",
     "pwritev2", "sendfile", "sendfile64", "copy_file_range", "splice"}
)  # fmt: skip
SYNC_SYSCALLS = frozenset({"fsync", "fdatasync", "sync_file_range", "sync", "syncfs", "msync"})
MIB = 1 << 20
GAP_FLOOR = 1e-3  # seconds: below a millisecond a gap is strace's own pace, not work


class ClassifyError(SyscallLabError):
    """A trace the classifier cannot use, or training data without every class."""


def _calls(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    calls = frame.loc[(frame["kind"] == "syscall").fillna(False).to_numpy(dtype=bool)]
    if calls.empty:
        raise ClassifyError(f"{where}: the trace has no syscalls")
    if calls["time"].isna().all():
        raise ClassifyError(f"{where}: the trace has no timestamps (capture with strace -ttt)")
    return calls.loc[calls["time"].notna().to_numpy(dtype=bool)]


def _int_arg(text: object, index: int) -> int | None:
    # "NULL, 4194304, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0" => 4194304 (index 1)
    if not isinstance(text, str):  # a null (pd.NA) argument text
        return None
    parts = text.split(", ")
    try:
        return int(parts[index], 0)
    except (IndexError, ValueError):
        return None


def _anonymous_bytes(names: np.ndarray, calls: pd.DataFrame, order: np.ndarray) -> float:
    ok = calls["errno"].isna().to_numpy(dtype=bool)
    args = calls["args"].astype(object).to_numpy()
    total = 0.0
    for i in np.flatnonzero(ok & np.isin(names, ["mmap", "mmap2"])):
        text = args[i]
        if isinstance(text, str) and "MAP_ANONYMOUS" in text and "PROT_NONE" not in text:
            total += _int_arg(text, 1) or 0
    for i in np.flatnonzero(ok & (names == "mremap")):
        old, new = _int_arg(args[i], 1), _int_arg(args[i], 2)
        if old is not None and new is not None:
            total += max(new - old, 0)
    # brk growth: the rise of the break between consecutive brk calls of one process image
    # (an execve starts a new heap elsewhere, so its first break is no growth).
    pid = calls["pid"].to_numpy(dtype=np.float64, na_value=-1.0)[order]
    sorted_names = names[order]
    image = np.cumsum((sorted_names == "execve") & ok[order])  # failed execs keep the image
    retval = calls["retval"].to_numpy(dtype=np.float64, na_value=np.nan)[order]
    brk = (sorted_names == "brk") & np.isfinite(retval)
    b_pid, b_image, b_ret = pid[brk], image[brk], retval[brk]
    same = (b_pid[1:] == b_pid[:-1]) & (b_image[1:] == b_image[:-1])
    total += float(np.clip(np.diff(b_ret), 0, None)[same].sum())
    return total


def trace_features(frame: pd.DataFrame, *, where: str = "trace") -> np.ndarray:
    """The :data:`FEATURES` of one whole trace (an event table), as float64 in that order.

    Raises ClassifyError when the trace has no syscalls or no timestamps.
    """
    calls = _calls(frame, where)
    names = calls["syscall"].astype(object).to_numpy()
    start = calls["time"].to_numpy(dtype=np.float64)
    duration = np.nan_to_num(calls["duration"].to_numpy(dtype=np.float64, na_value=np.nan))
    pid = calls["pid"].to_numpy(dtype=np.float64, na_value=-1.0)
    wall = max(float(np.max(start + duration) - np.min(start)), GAP_FLOOR)
    order = np.lexsort((start, pid))
    s_pid, s_start, s_end = pid[order], start[order], (start + duration)[order]
    gaps = (s_start[1:] - s_end[:-1])[s_pid[1:] == s_pid[:-1]]
    gap = max(float(gaps.max()) if gaps.size else 0.0, GAP_FLOOR)
    retval = calls["retval"].to_numpy(dtype=np.float64, na_value=np.nan)
    io = np.isin(names, list(IO_SYSCALLS))
    sync = np.isin(names, list(SYNC_SYSCALLS))
    return np.array(
        [
            math.log10(gap),
            min(gap / wall, 1.0),
            math.log10(1 + _anonymous_bytes(names, calls, order) / MIB),
            math.log10(1 + np.isin(names, list(MEMORY_SYSCALLS)).sum()),
            math.log10(1 + retval[io & (retval > 0)].sum() / MIB),
            min(float(duration[io | sync].sum()) / wall, 1.0),
            math.log10(1 + sync.sum()),
        ],
        dtype=np.float64,
    )


@dataclass(frozen=True, slots=True)
class Classification:
    """One trace's label (the most likely class) and its score per class (they sum to 1)."""

    label: str
    scores: Mapping[str, float]
    trace: str | None = None

    def to_json(self) -> dict[str, Any]:
        """``{"trace": PATH, "label": CLASS, "scores": {CLASS: p}}``."""
        return {"trace": self.trace, "label": self.label, "scores": dict(self.scores)}


@dataclass(frozen=True, slots=True, eq=False)
class ResourceModel:
    """A fitted nearest-centroid model: per-feature centre and scale, and class centroids
    (rows in ``classes`` order, in standardized units). ``runs`` counts training runs per class.
    """

    classes: tuple[str, ...]
    features: tuple[str, ...]
    center: np.ndarray
    scale: np.ndarray
    centroids: np.ndarray
    runs: Mapping[str, int]

    def scores(self, features: np.ndarray) -> np.ndarray:
        """Class scores (softmax of ``-d^2/2``) of one feature vector; they sum to 1."""
        z = (np.asarray(features, dtype=np.float64) - self.center) / self.scale
        logits = -0.5 * ((self.centroids - z) ** 2).sum(axis=1)
        weights = np.exp(logits - logits.max())
        return weights / weights.sum()

    def classify(self, frame: pd.DataFrame, *, trace: str | None = None) -> Classification:
        """Label one event table (a whole trace)."""
        scores = self.scores(trace_features(frame, where=trace or "trace"))
        return Classification(
            label=self.classes[int(np.argmax(scores))],
            scores={c: float(p) for c, p in zip(self.classes, scores, strict=True)},
            trace=trace,
        )

    def to_dict(self) -> dict[str, Any]:
        """The model as JSON-ready data, with ``format_version``."""
        return {
            "format_version": FORMAT_VERSION,
            "model": "nearest-centroid",
            "classes": list(self.classes),
            "features": list(self.features),
            "center": self.center.tolist(),
            "scale": self.scale.tolist(),
            "centroids": self.centroids.tolist(),
            "runs": dict(self.runs),
        }

    def save(self, path: Path | str) -> Path:
        """Write the model as JSON, atomically."""
        return write_text(path, json.dumps(self.to_dict(), indent=2) + "\n")


def fit_model(samples: Iterable[tuple[str, np.ndarray]]) -> ResourceModel:
    """Fit the model on ``(class, feature vector)`` pairs; every class of :data:`CLASSES` needs
    at least one run. Raises ClassifyError otherwise."""
    pairs = list(samples)
    labels = np.array([label for label, _ in pairs], dtype=object)
    missing = [c for c in CLASSES if not (labels == c).any()]
    if missing:
        raise ClassifyError(f"no training runs of {', '.join(missing)}: every class needs runs")
    unknown = sorted({str(label) for label in labels} - set(CLASSES))
    if unknown:
        raise ClassifyError(f"unknown classes {', '.join(unknown)}; one of {', '.join(CLASSES)}")
    x = np.vstack([np.asarray(v, dtype=np.float64) for _, v in pairs])
    center = x.mean(axis=0)
    # A feature constant over the training runs says nothing: unit scale keeps it harmless.
    scale = x.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    z = (x - center) / scale
    centroids = np.vstack([z[labels == c].mean(axis=0) for c in CLASSES])
    runs = {c: int((labels == c).sum()) for c in CLASSES}
    return ResourceModel(CLASSES, FEATURES, center, scale, centroids, runs)


def _vector(data: Mapping[str, Any], key: str, size: int, where: str) -> np.ndarray:
    array = np.asarray(data[key], dtype=np.float64)
    if array.shape != (size,) or not np.isfinite(array).all():
        raise InputError(f"{where}: {key} must be {size} finite numbers")
    return array


def load_model(path: Path | str) -> ResourceModel:
    """Read a model written by :meth:`ResourceModel.save`.

    Raises InputError for a missing, unreadable or malformed file, or a ``format_version``
    this version does not read.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such model file") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{path}: not a classifier model file: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: not a classifier model file")
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        raise InputError(
            f"{path}: unsupported model format_version {version!r} (this version reads "
            f"{FORMAT_VERSION}); train it again with syscall-lab train"
        )
    try:
        classes, features = tuple(data["classes"]), tuple(data["features"])
        if features != FEATURES or set(classes) != set(CLASSES):
            raise InputError(f"{path}: the model's features or classes are not this version's")
        where = str(path)
        centroids = np.asarray(data["centroids"], dtype=np.float64)
        if centroids.shape != (len(classes), len(features)) or not np.isfinite(centroids).all():
            raise InputError(f"{path}: centroids must be {len(classes)} x {len(features)}")
        scale = _vector(data, "scale", len(features), where)
        if (scale <= 0).any():
            raise InputError(f"{path}: scale must be positive")
        return ResourceModel(
            classes, features, _vector(data, "center", len(features), where), scale,
            centroids, {str(k): int(v) for k, v in data["runs"].items()},
        )  # fmt: skip
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(
            f"{path}: malformed classifier model ({type(exc).__name__}: {exc})"
        ) from None


def classify_trace(
    model: ResourceModel, source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]
) -> Classification:
    """Read and label one trace (a log path, or the logs of one ``-ff`` run).

    Raises InputError when it cannot be read or holds no strace line, ClassifyError when it
    has no timed syscall.
    """
    where = str(source) if isinstance(source, str | os.PathLike) else ", ".join(map(str, source))
    frame = read_trace(source)
    if frame.empty:
        raise InputError(f"{where}: not strace output (no event recognised)")
    return model.classify(frame, trace=where)


def class_of(condition: str | None, label: str | None = None) -> str | None:
    """The class a run trains: its workload condition's resource (``memory-brk`` => memory,
    ``stress-ng`` stressors by their condition), else its label when that is a class name."""
    for name in (condition, label):
        if name is not None and name.split("-")[0] in CLASSES:
            return name.split("-")[0]
    return None


def _run_logs(run_dir: Path, names: Sequence[str]) -> tuple[Path, ...]:
    logs = tuple(run_dir / name for name in names) or tuple(sorted(run_dir.glob("trace.log*")))
    missing = [str(log) for log in logs if not log.is_file()]
    if not logs or missing:
        raise InputError(f"{run_dir}: raw strace logs missing ({', '.join(missing) or 'none'})")
    return logs


def training_runs(folder: Path | str) -> list[tuple[str, tuple[Path, ...]]]:
    """``(class, raw logs)`` of every complete run in ``folder`` whose condition is a class.

    ``folder`` is an experiment (``experiment.json``, read with
    :func:`~syscall_lab.experiment.store.load_experiment`; the raw logs of ``runs/``) or a folder
    holding run folders (``metadata.json`` and ``trace.log*``, at any depth), as ``capture``
    makes them. Raises InputError when there is no such run.
    """
    from syscall_lab.capture.metadata import METADATA_FILE, read_metadata
    from syscall_lab.experiment.store import EXPERIMENT_FILE, load_experiment

    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder")
    found: list[tuple[str, tuple[Path, ...]]] = []
    if (folder / EXPERIMENT_FILE).is_file():
        for run in load_experiment(folder).runs:
            label = class_of(run.metadata.condition, run.metadata.label)
            if label is not None:
                found.append((label, _run_logs(run.run_dir, run.metadata.logs)))
    else:
        for path in sorted(folder.rglob(METADATA_FILE)):
            metadata = read_metadata(path.parent)
            label = class_of(metadata.condition, metadata.label)
            if label is not None and metadata.status == "complete":
                found.append((label, _run_logs(path.parent, metadata.logs)))
    if not found:
        raise InputError(
            f"{folder}: no complete run of {', '.join(CLASSES)} (an experiment folder, or run "
            "folders with metadata.json)"
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
    from syscall_lab.capture.run import capture_condition

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

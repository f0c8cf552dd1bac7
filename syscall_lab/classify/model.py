"""Which resource a trace stresses (normal, cpu, memory, io): the model over the trace features.

The model is a nearest-centroid classifier on standardized features: each feature is centred
and divided by its standard deviation over the training runs; a class is the mean of its runs;
the score of class ``k`` is ``softmax(-d_k^2 / 2)`` over the squared distances ``d_k^2`` to the
centroids (the posterior of unit-variance Gaussians with equal priors), so the scores sum to 1.

Model files are JSON with ``format_version``, written atomically.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from syscall_lab.classify.features import FEATURES, ClassifyError, trace_features
from syscall_lab.conditions import DEFAULT_WORKLOADS
from syscall_parse.atomic import write_text
from syscall_parse.errors import InputError
from syscall_parse.table import read_trace

__all__ = [
    "CLASSES",
    "FORMAT_VERSION",
    "Classification",
    "ResourceModel",
    "classify_trace",
    "fit_model",
    "load_model",
]

FORMAT_VERSION = 1
CLASSES: tuple[str, ...] = DEFAULT_WORKLOADS


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

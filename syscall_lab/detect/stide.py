"""STIDE and t-STIDE: the share of a trace's length-n call windows missing from the windows of
normal training traces (all of them, or only the common ones)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

import numpy as np

from syscall_lab.detect.base import (
    Detector,
    DetectorError,
    RollingWindow,
    StreamScorer,
    Trace,
    Vocabulary,
    check_packable,
    packed_windows,
)

__all__ = ["Stide", "TStide"]


def _sorted_member(values: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Whether each value is in the sorted array ``table``."""
    if table.size == 0:
        return np.zeros(values.shape, dtype=bool)
    at = np.searchsorted(table, values).clip(max=table.size - 1)
    return table[at] == values


class _WindowStream:
    """Running share of windows missing from a set: the streaming form of (t-)STIDE."""

    def __init__(self, detector: Stide) -> None:
        self._known = detector._known_set()
        assert detector.vocabulary is not None
        self._window = RollingWindow(detector.vocabulary, detector.n)
        self._windows = 0
        self._misses = 0

    def update(self, name: str) -> float:
        window = self._window.push(name)
        if window is not None:
            self._windows += 1
            self._misses += window not in self._known
        return self._misses / self._windows if self._windows else 0.0


class Stide(Detector):
    """STIDE (Forrest et al. 1996): the share of a trace's length-n windows unseen in training.

    A trace shorter than ``n`` has no window and scores 0.
    """

    name: ClassVar[str] = "stide"

    def __init__(self, n: int = 6) -> None:
        if n < 1:
            raise DetectorError(f"{self.name}: window length n must be >= 1, got {n}")
        self.n = n
        self.vocabulary: Vocabulary | None = None
        self.windows: np.ndarray | None = None  # sorted packed windows of the database

    @property
    def fitted(self) -> bool:
        return self.windows is not None

    def params(self) -> dict[str, Any]:
        return {"n": self.n}

    def _encode_windows(self, traces: Iterable[Trace]) -> list[np.ndarray]:
        assert self.vocabulary is not None
        base = self.vocabulary.size
        return [packed_windows(self.vocabulary.encode(t), self.n, base) for t in traces]

    def _database(self, windows: np.ndarray) -> np.ndarray:
        return np.unique(windows)

    def fit(self, traces: Sequence[Trace]) -> Stide:
        if not traces:
            raise DetectorError(f"{self.name}: no training traces")
        self.vocabulary = Vocabulary(name for t in traces for name in t)
        check_packable(self.vocabulary.size, self.n)
        every = self._encode_windows(traces)
        self.windows = self._database(np.concatenate([*every, np.empty(0, dtype=np.int64)]))
        return self

    def score(self, trace: Trace) -> float:
        return float(self.score_many([trace])[0])

    def score_many(self, traces: Sequence[Trace]) -> np.ndarray:
        self._require_fitted()
        assert self.windows is not None
        out = np.zeros(len(traces))
        for i, windows in enumerate(self._encode_windows(traces)):
            if windows.size:
                out[i] = 1.0 - _sorted_member(windows, self.windows).mean()
        return out

    def _known_set(self) -> frozenset[int]:
        self._require_fitted()
        assert self.windows is not None
        return frozenset(self.windows.tolist())

    def stream(self) -> StreamScorer:
        return _WindowStream(self)

    def _state(self) -> dict[str, Any]:
        assert self.vocabulary is not None
        assert self.windows is not None
        return {"vocabulary": list(self.vocabulary.names), "windows": self.windows.tolist()}

    def _set_state(self, state: dict[str, Any]) -> None:
        self.vocabulary = Vocabulary(state["vocabulary"])
        self.windows = np.asarray(state["windows"], dtype=np.int64)


class TStide(Stide):
    """t-STIDE (Warrender et al. 1999): windows seen in less than ``threshold`` of all training
    windows count as mismatches, like unseen ones.

    The default 1e-5 was chosen on normal traces only: on ADFA-LD's training traces (5-fold
    held out), 1e-3 keeps 91 common windows and scores the median normal trace 0.71, so 5.6% of
    normal traces tie at 1.0; 1e-5 keeps 8,730 windows (those seen at least 3 times in ~240k).
    """

    name: ClassVar[str] = "t-stide"

    def __init__(self, n: int = 6, threshold: float = 1e-5) -> None:
        super().__init__(n)
        if not 0 <= threshold < 1:
            raise DetectorError(f"{self.name}: threshold must be in [0, 1), got {threshold}")
        self.threshold = threshold

    def params(self) -> dict[str, Any]:
        return {"n": self.n, "threshold": self.threshold}

    def _database(self, windows: np.ndarray) -> np.ndarray:
        # Only the common windows form the database: a rare one then scores as a mismatch.
        unique, counts = np.unique(windows, return_counts=True)
        return unique[counts >= self.threshold * windows.size]

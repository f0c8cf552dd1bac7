"""Nearest-neighbour detectors: the cosine distance of a trace's tf-idf profile of call windows
to the nearest profile of a normal training trace (``FrequencyKnn`` on syscall frequencies,
``NgramKnn`` on 3-call windows)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

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

# scipy is imported where these detectors use it: the command line lists the registry's
# detectors for its options, and scipy would cost every command (profile too) 20 MB and 0.15 s.
if TYPE_CHECKING:
    from scipy import sparse

__all__ = ["FrequencyKnn", "NgramKnn"]


def _tfidf_rows(counts: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    """Rows of counts => L2-normalised tf-idf rows (an all-zero row stays zero)."""
    from scipy import sparse

    totals = np.asarray(counts.sum(axis=1)).ravel()
    weighted = sparse.diags(1.0 / np.maximum(totals, 1)) @ counts @ sparse.diags(idf)
    norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
    return sparse.csr_matrix(sparse.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ weighted)


class _ProfileStream:
    def __init__(self, detector: FrequencyKnn) -> None:
        assert detector.vocabulary is not None
        self._detector = detector
        self._window = RollingWindow(detector.vocabulary, detector.n)
        self._counts: dict[int, int] = {}

    def update(self, name: str) -> float:
        window = self._window.push(name)
        if window is not None:
            column = int(self._detector._columns(np.array([window]))[0])
            self._counts[column] = self._counts.get(column, 0) + 1
        columns = np.fromiter(self._counts, dtype=np.int64, count=len(self._counts))
        values = np.fromiter(self._counts.values(), dtype=np.float64, count=len(self._counts))
        from scipy import sparse

        row = sparse.csr_matrix(
            (values, columns, [0, columns.size]), shape=(1, self._detector._features)
        )
        return float(self._detector._distances(row)[0])


class FrequencyKnn(Detector):
    """Cosine distance of the trace's tf-idf profile of length-``n`` call windows (n=1: syscall
    frequencies) to the nearest training profile (``k`` > 1: mean distance to the ``k``
    nearest). Windows unseen in training share one feature with the largest idf, so they weigh
    heavily. A trace shorter than ``n`` has an empty profile, at distance 1 from every other."""

    name: ClassVar[str] = "frequency-knn"

    def __init__(self, n: int = 1, k: int = 1) -> None:
        if n < 1:
            raise DetectorError(f"{self.name}: window length n must be >= 1, got {n}")
        if k < 1:
            raise DetectorError(f"{self.name}: k must be >= 1, got {k}")
        self.n = n
        self.k = k
        self.vocabulary: Vocabulary | None = None
        self.grams: np.ndarray | None = None  # sorted packed windows; feature i + 1
        self.idf: np.ndarray | None = None
        self.profiles: sparse.csr_matrix | None = None

    @property
    def fitted(self) -> bool:
        return self.profiles is not None

    @property
    def _features(self) -> int:
        assert self.grams is not None
        return self.grams.size + 1

    def params(self) -> dict[str, Any]:
        return {"n": self.n, "k": self.k}

    def _columns(self, windows: np.ndarray) -> np.ndarray:
        """Feature column of each packed window: 1 + its rank among training windows, else 0."""
        assert self.grams is not None
        at = np.searchsorted(self.grams, windows).clip(max=max(self.grams.size - 1, 0))
        known = self.grams[at] == windows if self.grams.size else np.zeros(windows.shape, bool)
        return np.where(known, at + 1, 0)

    def _counts(self, traces: Sequence[Trace]) -> sparse.csr_matrix:
        assert self.vocabulary is not None
        base = self.vocabulary.size
        columns = [
            self._columns(packed_windows(self.vocabulary.encode(t), self.n, base)) for t in traces
        ]
        rows = np.repeat(np.arange(len(traces)), [c.size for c in columns])
        flat = np.concatenate([*columns, np.empty(0, dtype=np.int64)])
        from scipy import sparse

        return sparse.csr_matrix(
            (np.ones(flat.size), (rows, flat)), shape=(len(traces), self._features)
        )

    def fit(self, traces: Sequence[Trace]) -> FrequencyKnn:
        if len(traces) < self.k:
            raise DetectorError(f"{self.name}: needs at least k={self.k} training traces")
        self.vocabulary = Vocabulary(name for t in traces for name in t)
        base = self.vocabulary.size
        check_packable(base, self.n)
        windows = [packed_windows(self.vocabulary.encode(t), self.n, base) for t in traces]
        self.grams = np.unique(np.concatenate([*windows, np.empty(0, dtype=np.int64)]))
        counts = self._counts(traces)
        documents = np.bincount(counts.indices, minlength=self._features)
        self.idf = np.log((1 + len(traces)) / (1 + documents)) + 1
        self.profiles = _tfidf_rows(counts, self.idf)
        return self

    def _distances(self, counts: sparse.csr_matrix) -> np.ndarray:
        assert self.idf is not None
        assert self.profiles is not None
        similarity = (_tfidf_rows(counts, self.idf) @ self.profiles.T).toarray()
        k = min(self.k, self.profiles.shape[0])
        nearest = -np.partition(-similarity, k - 1, axis=1)[:, :k]
        return np.clip(1.0 - nearest.mean(axis=1), 0.0, None)

    def score(self, trace: Trace) -> float:
        return float(self.score_many([trace])[0])

    def score_many(self, traces: Sequence[Trace]) -> np.ndarray:
        self._require_fitted()
        # In blocks, so that the block x training similarity matrix stays small.
        parts = [
            self._distances(self._counts(traces[i : i + 1024])) for i in range(0, len(traces), 1024)
        ]
        return np.concatenate([*parts, np.empty(0)])

    def stream(self) -> StreamScorer:
        self._require_fitted()
        return _ProfileStream(self)

    def _state(self) -> dict[str, Any]:
        assert self.vocabulary is not None
        assert self.grams is not None
        assert self.idf is not None
        assert self.profiles is not None
        return {
            "vocabulary": list(self.vocabulary.names),
            "grams": self.grams.tolist(),
            "idf": self.idf.tolist(),
            "profiles": {
                "data": self.profiles.data.tolist(),
                "indices": self.profiles.indices.tolist(),
                "indptr": self.profiles.indptr.tolist(),
            },
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        self.vocabulary = Vocabulary(state["vocabulary"])
        self.grams = np.asarray(state["grams"], dtype=np.int64)
        self.idf = np.asarray(state["idf"], dtype=np.float64)
        profiles = state["profiles"]
        from scipy import sparse

        self.profiles = sparse.csr_matrix(
            (profiles["data"], profiles["indices"], profiles["indptr"]),
            shape=(len(profiles["indptr"]) - 1, self._features),
        )


class NgramKnn(FrequencyKnn):
    """``FrequencyKnn`` on length-3 windows: kNN on n-gram tf-idf profiles. n=3 was fixed before
    this detector was first evaluated, not chosen on results."""

    name: ClassVar[str] = "ngram-knn"

    def __init__(self, n: int = 3, k: int = 1) -> None:
        super().__init__(n, k)

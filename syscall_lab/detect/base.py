"""The interface every detector implements, and what the detectors share: the vocabulary of
syscall ids, length-n windows packed into integers, and the model file format.

A trace is a sequence of syscall names; scores are "higher = more anomalous". Every detector
scores a whole trace (``score``/``score_many``) and a stream call by call (``stream()`` returns a
scorer whose ``update(name)`` gives the score of the trace so far; after the last call it equals
``score`` of the whole trace). Fitted models save to a JSON file with a ``format_version``; the
registry (:mod:`syscall_lab.detect.registry`) reads them back.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from syscall_lab.errors import SyscallLabError
from syscall_parse.atomic import write_text

__all__ = [
    "FORMAT_VERSION",
    "Detector",
    "DetectorError",
    "RollingWindow",
    "StreamScorer",
    "Trace",
    "Vocabulary",
    "check_packable",
    "packed_windows",
]

FORMAT_VERSION = 1

Trace = Sequence[str]


class DetectorError(SyscallLabError):
    """A detector used before fitting, a bad setting, or a model file that cannot be loaded."""


class StreamScorer(Protocol):
    """Scores a trace call by call."""

    def update(self, name: str) -> float:
        """Take the next call; return the score of the trace so far."""
        ...


class Vocabulary:
    """Syscall names <-> small integer ids; id 0 stands for every name unseen in training."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names: tuple[str, ...] = tuple(sorted(set(names)))
        self._ids = {name: i for i, name in enumerate(self.names, start=1)}

    @property
    def size(self) -> int:
        """Number of ids, the unknown id included."""
        return len(self.names) + 1

    def id(self, name: str) -> int:
        """The id of ``name``; 0 if it was not seen in training."""
        return self._ids.get(name, 0)

    def encode(self, trace: Trace) -> np.ndarray:
        """The ids of a trace's calls, as int64."""
        get = self._ids.get
        return np.fromiter((get(name, 0) for name in trace), dtype=np.int64, count=len(trace))


def packed_windows(ids: np.ndarray, n: int, base: int) -> np.ndarray:
    """Each length-n window of ``ids`` as one integer in base ``base``: [1, 2] => 1*base + 2."""
    if ids.size < n:
        return np.empty(0, dtype=np.int64)
    powers = base ** np.arange(n - 1, -1, -1, dtype=np.int64)
    return sliding_window_view(ids, n) @ powers


class RollingWindow:
    """A stream's last ``n`` call ids packed into one integer as :func:`packed_windows` packs
    them, one call at a time."""

    def __init__(self, vocabulary: Vocabulary, n: int) -> None:
        self._vocabulary = vocabulary
        self._n = n
        self._base = vocabulary.size
        self._modulus = self._base**n
        self._packed = 0
        self._seen = 0

    def push(self, name: str) -> int | None:
        """Take the next call; the packed window it completes, None before the n-th call."""
        self._packed = (self._packed * self._base + self._vocabulary.id(name)) % self._modulus
        self._seen += 1
        return self._packed if self._seen >= self._n else None


def check_packable(base: int, n: int) -> None:
    """DetectorError unless length-n windows over ``base`` ids pack into a signed 64-bit int."""
    if base**n >= 2**63:
        raise DetectorError(
            f"windows of {n} calls over {base} distinct ids do not fit in 64 bits; use a smaller n"
        )


class Detector(ABC):
    """Common interface: fit on normal traces, score traces (higher = more anomalous), stream."""

    name: ClassVar[str]

    @abstractmethod
    def fit(self, traces: Sequence[Trace]) -> Detector:
        """Learn normal behaviour from ``traces``; returns self."""

    @abstractmethod
    def score(self, trace: Trace) -> float:
        """The anomaly score of one trace."""

    def score_many(self, traces: Sequence[Trace]) -> np.ndarray:
        """The scores of many traces, as float64."""
        return np.fromiter((self.score(t) for t in traces), dtype=np.float64, count=len(traces))

    @abstractmethod
    def stream(self) -> StreamScorer:
        """A fresh call-by-call scorer."""

    @abstractmethod
    def params(self) -> dict[str, Any]:
        """The constructor settings, JSON-serialisable."""

    @abstractmethod
    def _state(self) -> dict[str, Any]:
        """The fitted state, JSON-serialisable."""

    @abstractmethod
    def _set_state(self, state: dict[str, Any]) -> None: ...

    @property
    @abstractmethod
    def fitted(self) -> bool: ...

    def _require_fitted(self) -> None:
        if not self.fitted:
            raise DetectorError(f"{self.name}: fit() the detector before scoring")

    def to_dict(self) -> dict[str, Any]:
        """The model as a JSON-ready dict with ``format_version``."""
        self._require_fitted()
        return {
            "format_version": FORMAT_VERSION,
            "detector": self.name,
            "params": self.params(),
            "state": self._state(),
        }

    def save(self, path: Path | str) -> None:
        """Write the fitted model to ``path`` as JSON, atomically."""
        write_text(path, json.dumps(self.to_dict(), separators=(",", ":")))

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({settings})"

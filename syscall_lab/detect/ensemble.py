"""The ensemble: the mean of its members' scores, each first turned into a standardised
``-log`` tail probability against out-of-fold normal scores (cross-fitted on the training
traces, so no test trace and no attack is ever used to calibrate)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from syscall_lab.detect.base import Detector, DetectorError, StreamScorer, Trace
from syscall_lab.detect.neighbours import FrequencyKnn
from syscall_lab.detect.ngram import NgramModel
from syscall_lab.detect.stide import Stide, TStide

__all__ = ["Ensemble", "default_members"]


class _EnsembleStream:
    def __init__(self, ensemble: Ensemble) -> None:
        self._ensemble = ensemble
        self._members = [m.stream() for m in ensemble.members]

    def update(self, name: str) -> float:
        raw = np.array([[m.update(name)] for m in self._members])
        return float(self._ensemble._combine(raw)[0])


class Ensemble(Detector):
    """The mean of its members' calibrated scores.

    Each member's raw score ``s`` becomes ``-log10 p(s)``, ``p`` the upper-tail probability of
    ``s`` among the member's out-of-fold scores of normal training traces (``folds``-fold
    cross-fitting, seed ``seed``), extended beyond the largest normal score by the member's own
    scale so that two traces beyond every normal one still rank apart. Then the members are fitted
    on every training trace.
    """

    name: ClassVar[str] = "ensemble"

    def __init__(
        self, members: Sequence[Detector] | None = None, folds: int = 5, seed: int = 0
    ) -> None:
        if folds < 2:
            raise DetectorError(f"{self.name}: folds must be >= 2, got {folds}")
        self.members = list(members) if members is not None else default_members()
        if not self.members:
            raise DetectorError(f"{self.name}: no members")
        self.folds = folds
        self.seed = seed
        self.calibration: list[np.ndarray] | None = None

    @property
    def fitted(self) -> bool:
        return self.calibration is not None and all(m.fitted for m in self.members)

    def params(self) -> dict[str, Any]:
        return {"folds": self.folds, "seed": self.seed}

    def __repr__(self) -> str:
        members = ", ".join(repr(m) for m in self.members)
        return f"Ensemble([{members}], folds={self.folds}, seed={self.seed})"

    def fit(self, traces: Sequence[Trace]) -> Ensemble:
        if len(traces) < self.folds:
            raise DetectorError(f"{self.name}: needs at least {self.folds} training traces")
        order = np.random.default_rng(self.seed).permutation(len(traces))
        fold_of = np.empty(len(traces), dtype=np.int64)
        fold_of[order] = np.arange(len(traces)) % self.folds
        out_of_fold = np.zeros((len(self.members), len(traces)))
        for fold in range(self.folds):
            train = [traces[i] for i in np.flatnonzero(fold_of != fold)]
            held = np.flatnonzero(fold_of == fold)
            for j, member in enumerate(self.members):
                member.fit(train)
                out_of_fold[j, held] = member.score_many([traces[i] for i in held])
        self.calibration = [np.sort(row) for row in out_of_fold]
        for member in self.members:
            member.fit(traces)
        return self

    def _combine(self, raw: np.ndarray) -> np.ndarray:
        """Rows of member scores => the mean calibrated score per column."""
        assert self.calibration is not None
        calibrated = []
        for scores, normal in zip(raw, self.calibration, strict=True):
            n = normal.size
            above = n - np.searchsorted(normal, scores, side="left")  # normal scores >= s
            p = (above + 1) / (n + 1)
            # Beyond the largest normal score, keep ranking by distance in the member's scale
            # (its normal interquartile range), one decade of p per scale step.
            scale = max(float(np.subtract(*np.quantile(normal, [0.75, 0.25]))), 1e-9)
            beyond = np.clip(scores - normal[-1], 0, None) / scale
            calibrated.append(-np.log10(p) + beyond)
        return np.mean(calibrated, axis=0)

    def score(self, trace: Trace) -> float:
        return float(self.score_many([trace])[0])

    def score_many(self, traces: Sequence[Trace]) -> np.ndarray:
        self._require_fitted()
        raw = np.stack([m.score_many(traces) for m in self.members])
        return self._combine(raw)

    def stream(self) -> StreamScorer:
        self._require_fitted()
        return _EnsembleStream(self)

    def _state(self) -> dict[str, Any]:
        assert self.calibration is not None
        return {
            "calibration": [c.tolist() for c in self.calibration],
            "members": [m.to_dict() for m in self.members],
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        self.calibration = [np.asarray(c, dtype=np.float64) for c in state["calibration"]]


def default_members() -> list[Detector]:
    """The ensemble's members, chosen before any attack trace was scored."""
    return [Stide(), TStide(), FrequencyKnn(), NgramModel()]

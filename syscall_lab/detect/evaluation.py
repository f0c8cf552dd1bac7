"""Detection metrics on trace-level anomaly scores: pure functions returning frozen records.

Scores are "higher = more anomalous". Normal traces are the negatives, attacks the positives. A
threshold ``t`` flags a trace when its score is strictly above ``t``, so tied scores never buy
detection for free: at a false-alarm budget, the threshold is the smallest one that keeps the
share of flagged normal traces within the budget.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata

__all__ = [
    "AttackDetection",
    "DetectionResult",
    "auc",
    "auc_interval",
    "detection_at_false_alarms",
    "evaluate_scores",
    "false_alarms_at_detection",
]


@dataclass(frozen=True, slots=True)
class AttackDetection:
    """Share of one attack type's traces detected at the 1% and 10% false-alarm thresholds."""

    attack: str
    traces: int
    tpr_at_1: float
    tpr_at_10: float


@dataclass(frozen=True, slots=True)
class DetectionResult:
    """How well one detector's scores separate attacks from normal traces.

    ``auc_ci`` is a stratified-bootstrap 95% interval; ``far_at_90`` the false-alarm rate at
    90% detection; ``tpr_at_1``/``tpr_at_10`` the detection at 1% and 10% false alarms.
    """

    auc: float
    auc_ci: tuple[float, float]
    far_at_90: float
    tpr_at_1: float
    tpr_at_10: float
    per_attack: tuple[AttackDetection, ...]
    normal_traces: int
    attack_traces: int

    def to_dict(self) -> dict[str, object]:
        """The JSON shape the ``evaluate`` command prints for one detector."""
        return {
            "auc": self.auc,
            "auc_ci": list(self.auc_ci),
            "far_at_90": self.far_at_90,
            "tpr_at_1": self.tpr_at_1,
            "tpr_at_10": self.tpr_at_10,
            "per_attack": {
                a.attack: {"traces": a.traces, "tpr_at_1": a.tpr_at_1, "tpr_at_10": a.tpr_at_10}
                for a in self.per_attack
            },
        }


def _as_scores(scores: Sequence[float] | np.ndarray, what: str) -> np.ndarray:
    array = np.asarray(scores, dtype=np.float64)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{what}: expected a non-empty 1-D sequence of scores")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{what}: scores must be finite")
    return array


def auc(normal: Sequence[float] | np.ndarray, attack: Sequence[float] | np.ndarray) -> float:
    """ROC AUC: the probability that an attack outscores a normal trace, ties counting 1/2.

    Computed with the rank-sum (Mann-Whitney U) formula on mid-ranks.
    """
    negatives = _as_scores(normal, "normal")
    positives = _as_scores(attack, "attack")
    ranks = rankdata(np.concatenate([positives, negatives]))
    n_pos, n_neg = positives.size, negatives.size
    u = ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2
    return float(u / (n_pos * n_neg))


def auc_interval(
    normal: Sequence[float] | np.ndarray,
    attack: Sequence[float] | np.ndarray,
    *,
    resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile interval of the AUC over stratified bootstrap resamples (fixed seed).

    Normal and attack scores are resampled separately, so every resample keeps the class sizes.
    """
    negatives = _as_scores(normal, "normal")
    positives = _as_scores(attack, "attack")
    rng = np.random.default_rng(seed)
    n_pos, n_neg = positives.size, negatives.size
    values = np.empty(resamples)
    for i in range(resamples):
        pos = positives[rng.integers(0, n_pos, n_pos)]
        neg = negatives[rng.integers(0, n_neg, n_neg)]
        ranks = rankdata(np.concatenate([pos, neg]))
        values[i] = (ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    tail = (1 - level) / 2
    low, high = np.quantile(values, [tail, 1 - tail])
    return float(low), float(high)


def _threshold_at_false_alarms(negatives: np.ndarray, rate: float) -> float:
    # The (k+1)-th highest normal score, k = floor(rate * n): flagging only scores strictly
    # above it raises at most k false alarms, whatever the ties.
    if not 0 <= rate < 1:
        raise ValueError(f"false-alarm rate must be in [0, 1), got {rate}")
    allowed = math.floor(rate * negatives.size + 1e-9)
    return float(np.sort(negatives)[::-1][allowed])


def detection_at_false_alarms(
    normal: Sequence[float] | np.ndarray, attack: Sequence[float] | np.ndarray, rate: float
) -> float:
    """Share of attacks detected at the threshold that keeps false alarms within ``rate``."""
    negatives = _as_scores(normal, "normal")
    positives = _as_scores(attack, "attack")
    return float(np.mean(positives > _threshold_at_false_alarms(negatives, rate)))


def false_alarms_at_detection(
    normal: Sequence[float] | np.ndarray, attack: Sequence[float] | np.ndarray, rate: float = 0.9
) -> float:
    """Share of normal traces flagged at the highest threshold that detects ``rate`` of attacks."""
    negatives = _as_scores(normal, "normal")
    positives = _as_scores(attack, "attack")
    if not 0 < rate <= 1:
        raise ValueError(f"detection rate must be in (0, 1], got {rate}")
    needed = math.ceil(rate * positives.size - 1e-9)
    # Flagging scores >= the needed-th highest attack score detects at least `needed` attacks.
    threshold = np.sort(positives)[::-1][needed - 1]
    return float(np.mean(negatives >= threshold))


def evaluate_scores(
    normal: Sequence[float] | np.ndarray,
    attack: Sequence[float] | np.ndarray,
    attack_types: Sequence[str],
    *,
    resamples: int = 1000,
    seed: int = 0,
) -> DetectionResult:
    """Every metric of one detector: AUC and interval, FAR@90%, TPR@1%/@10%, per attack type."""
    negatives = _as_scores(normal, "normal")
    positives = _as_scores(attack, "attack")
    types = np.asarray(attack_types, dtype=object)
    if types.shape != positives.shape:
        raise ValueError(f"{types.size} attack types for {positives.size} attack scores")
    at_1 = _threshold_at_false_alarms(negatives, 0.01)
    at_10 = _threshold_at_false_alarms(negatives, 0.10)
    per_attack = []
    for name in sorted(set(attack_types)):
        mine = positives[types == name]
        per_attack.append(
            AttackDetection(
                name, int(mine.size), float(np.mean(mine > at_1)), float(np.mean(mine > at_10))
            )
        )
    return DetectionResult(
        auc=auc(negatives, positives),
        auc_ci=auc_interval(negatives, positives, resamples=resamples, seed=seed),
        far_at_90=false_alarms_at_detection(negatives, positives, 0.9),
        tpr_at_1=float(np.mean(positives > at_1)),
        tpr_at_10=float(np.mean(positives > at_10)),
        per_attack=tuple(per_attack),
        normal_traces=int(negatives.size),
        attack_traces=int(positives.size),
    )

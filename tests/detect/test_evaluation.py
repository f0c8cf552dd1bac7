"""Detection metrics on small inputs whose values were worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import mannwhitneyu

from syscall_lab.detect.evaluation import (
    AttackDetection,
    auc,
    auc_interval,
    detection_at_false_alarms,
    evaluate_scores,
    false_alarms_at_detection,
)

NORMAL_0_TO_9 = [float(x) for x in range(10)]


@pytest.mark.parametrize(
    ("normal", "attack", "expected"),
    [
        ([0, 1, 2], [3, 4], 1.0),
        ([3, 4], [0, 1, 2], 0.0),
        ([5, 5, 5], [5, 5], 0.5),
        # 0.8 beats all three normal scores, 0.3 beats only 0.1: 4 of 6 pairs.
        ([0.1, 0.4, 0.35], [0.8, 0.3], 4 / 6),
        # 4 beats all three; 2 beats 1, ties 2 (1/2), loses to 3: (3 + 1.5) / 6.
        ([1, 2, 3], [2, 4], 4.5 / 6),
    ],
    ids=["separated", "reversed", "all-tied", "five-scores", "five-with-tie"],
)
def test_auc(normal: list[float], attack: list[float], expected: float) -> None:
    assert expected == pytest.approx(auc(normal, attack))


@pytest.mark.parametrize(
    ("rate", "expected"),
    [
        (0.0, 1 / 3),  # threshold 9: only 9.5 is above
        (0.1, 2 / 3),  # one false alarm allowed: threshold 8, 9.5 and 8.5 above
        (0.25, 2 / 3),  # two allowed (floor 2.5): threshold 7
        (0.7, 3 / 3),  # seven allowed: threshold 2, 3 is above
    ],
    ids=["0%", "10%", "25%", "70%"],
)
def test_detection_at_false_alarms(rate: float, expected: float) -> None:
    assert expected == pytest.approx(
        detection_at_false_alarms(NORMAL_0_TO_9, [9.5, 8.5, 3.0], rate)
    )


def test_detection_at_false_alarms_never_buys_detection_with_ties() -> None:
    """All normal scores tie at the top: a 10% budget cannot flag any of them, nor a tied attack."""
    assert 0.0 == detection_at_false_alarms([1.0] * 10, [1.0, 1.0], 0.1)


@pytest.mark.parametrize(
    ("rate", "expected"),
    [
        (0.5, 0.1),  # 2 attacks needed: threshold 8.5, normal 9 flagged
        (0.75, 0.7),  # 3 needed: threshold 3, normal 3..9 flagged
        (0.9, 0.8),  # ceil(3.6) = 4 needed: threshold 1.5, normal 2..9 flagged
        (1.0, 0.8),
    ],
    ids=["50%", "75%", "90%", "100%"],
)
def test_false_alarms_at_detection(rate: float, expected: float) -> None:
    assert expected == pytest.approx(
        false_alarms_at_detection(NORMAL_0_TO_9, [9.5, 8.5, 3.0, 1.5], rate)
    )


def test_auc_interval_of_separated_scores_is_one() -> None:
    assert (1.0, 1.0) == auc_interval([0, 1, 2], [3, 4], resamples=50)


def test_auc_interval_is_reproducible_and_brackets_the_auc() -> None:
    """Same seed, same interval; the interval contains the point estimate."""
    rng = np.random.default_rng(1)
    normal, attack = rng.normal(0, 1, 300), rng.normal(1, 1, 100)
    first = auc_interval(normal, attack, resamples=300, seed=7)
    assert first == auc_interval(normal, attack, resamples=300, seed=7)
    assert first[0] < auc(normal, attack) < first[1]


def test_evaluate_scores_per_attack_type() -> None:
    """Per-type detection uses the thresholds of 1% and 10% false alarms (9 and 8 here)."""
    result = evaluate_scores(
        NORMAL_0_TO_9, [9.5, 8.5, 3.0, 12.0], ["b", "a", "a", "b"], resamples=20
    )
    expected = (
        AttackDetection("a", 2, tpr_at_1=0.0, tpr_at_10=0.5),
        AttackDetection("b", 2, tpr_at_1=1.0, tpr_at_10=1.0),
    )
    assert expected == result.per_attack
    assert 0.5 == result.tpr_at_1
    assert 0.75 == result.tpr_at_10
    assert (10, 4) == (result.normal_traces, result.attack_traces)
    assert {"auc", "auc_ci", "far_at_90", "tpr_at_1", "tpr_at_10", "per_attack"} == set(
        result.to_dict()
    )


@pytest.mark.parametrize(
    ("normal", "attack", "message"),
    [
        ([], [1.0], "non-empty"),
        ([1.0], [float("nan")], "finite"),
    ],
    ids=["empty", "nan"],
)
def test_bad_scores(normal: list[float], attack: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        auc(normal, attack)


scores = st.lists(st.integers(min_value=0, max_value=20).map(float), min_size=1, max_size=30)


@given(normal=scores, attack=scores)
def test_auc_is_mann_whitney_u_over_pairs(normal: list[float], attack: list[float]) -> None:
    """AUC = U / (n_attack * n_normal) with scipy's U, and swapping the classes gives 1 - AUC."""
    u = mannwhitneyu(attack, normal, alternative="two-sided").statistic
    assert u / (len(attack) * len(normal)) == pytest.approx(auc(normal, attack))
    assert 1 - auc(normal, attack) == pytest.approx(auc(attack, normal))

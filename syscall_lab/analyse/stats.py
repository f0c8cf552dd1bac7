"""Statistics that compare conditions over repeated runs: shifts, distances, equivalence.

The run is the unit of replication, never the single syscall. A condition is a table with one
row per run (counts, shares, n-grams or timing from :mod:`syscall_lab.analyse.tables`), and every
test here compares the per-run values of two conditions. Pooling the calls of all runs and
testing them (a chi-square on pooled counts) treats millions of calls as independent
observations: every difference becomes "significant", down to the modules an interpreter
happened to import. With runs as the unit, a difference counts only if it is larger than the
differences between runs of the same condition.

Each function returns a frozen record holding the decision and the numbers behind it. Results
are deterministic: every resampling draws from ``numpy.random.default_rng(seed)``.

With 5 runs per condition the smallest two-sided exact rank-test p-value is 2/252 ~ 0.0079
(complete separation); after Holm over m testable columns a shift is only significant at
0.05 when m <= 6, hence Benjamini-Hochberg is the default correction (it controls the false
discovery rate and rewards many consistent shifts). Columns no labelling of the runs could make
significant (a count equal in every run) stay out of the family (see :func:`compare_tables`).
Ask for more runs to test many syscalls with Holm.

A shift that is not significant is not "no shift": :func:`detectable_shift` says how large a
shift the same test on as many runs, as spread as these, would have detected (at the level
:func:`detection_level` gives the column in its family), so "not significant" reads as "no
shift larger than X".
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon
from scipy.stats import false_discovery_control, mannwhitneyu, norm, rankdata

from syscall_lab.analyse.tables import (
    AnalysisError,
    count_table,
    ngram_table,
    share_table,
    timing_table,
)

__all__ = [
    "CORRECTIONS",
    "Comparison",
    "DetectableShift",
    "Distance",
    "Equivalence",
    "RankTest",
    "ShareDifference",
    "Shift",
    "adjust_p_values",
    "cliffs_delta",
    "compare_conditions",
    "compare_tables",
    "detectable_shift",
    "detection_level",
    "distribution_distance",
    "equivalence",
    "holm",
    "js_divergence",
    "rank_test",
    "share_differences",
]

CORRECTIONS = ("bh", "holm", "none")
"""Multiple-testing corrections :func:`adjust_p_values` knows."""

EXACT_LIMIT = 50_000
"""Largest number of labellings :func:`rank_test` enumerates exactly (with ties)."""

# Tolerance when comparing permuted statistics with the observed one: sums of the same floats in
# another order differ in the last bits, and an exact tie must count as "at least as extreme".
_TIE = 1e-12


@dataclass(frozen=True, slots=True)
class Shift:
    """How one column (a syscall, n-gram or timing metric) moves from baseline to condition.

    ``ratio`` is ``(median + pseudo_count) / (baseline_median + pseudo_count)``: the pseudo-count
    (1 call by default) keeps it finite when the baseline median is 0; inf or nan when the
    pseudo-count is 0 and the baseline median is 0. ``difference`` is ``median -
    baseline_median``, ``ci`` its percentile bootstrap interval at ``confidence`` (runs resampled
    within each condition). ``statistic`` is the Mann-Whitney U of the condition's runs against
    the baseline's, ``p_value`` two-sided (``method`` says how it was computed), ``p_adjusted``
    after the correction over the family of columns tested together. ``effect`` is Cliff's delta
    (= rank-biserial correlation), in [-1, 1]; ``direction`` its sign: ``"up"``, ``"down"`` or
    ``"none"``. ``significant`` is ``p_adjusted <= alpha``; ``in_family`` whether the column
    entered the correction family (see :func:`compare_tables`).
    """

    name: str
    baseline_median: float
    median: float
    ratio: float
    difference: float
    ci: tuple[float, float]
    statistic: float
    p_value: float
    p_adjusted: float
    effect: float
    direction: str
    significant: bool
    in_family: bool
    n_baseline: int
    n: int
    method: str
    confidence: float


@dataclass(frozen=True, slots=True)
class Distance:
    """Jensen-Shannon divergence between two conditions, against that between runs of one.

    The divergence is the square of scipy's Jensen-Shannon distance, base 2: 0 for identical
    distributions, 1 for disjoint ones. ``between`` is the mean over pairs of runs from
    different conditions, ``within`` the mean over pairs of runs of the same condition (both
    conditions pooled), ``ratio`` = between / within (1 when both are 0, inf when only within
    is). ``centroid`` is the divergence between the mean distributions of the two conditions.
    ``p_value`` is the share of labellings of the runs (condition labels shuffled) whose
    ``between - within`` is at least the observed one: all ``permutations`` labellings when
    ``exact``, else that many random ones (p = (1 + hits) / (1 + permutations)).
    """

    between: float
    within: float
    ratio: float
    centroid: float
    p_value: float
    permutations: int
    exact: bool


@dataclass(frozen=True, slots=True)
class ShareDifference:
    """One column's mean share of calls in each condition, and ``share - baseline_share``."""

    name: str
    baseline_share: float
    share: float
    difference: float


@dataclass(frozen=True, slots=True)
class Equivalence:
    """Whether two conditions give the same per-run values.

    ``identical`` is exact equality of every run's row (both conditions). ``equivalent`` is a
    TOST-style check: for every column, the bootstrap interval at ``1 - 2 * alpha`` of the
    difference of medians lies within +-``margin`` x max(baseline median, 1). ``outside`` lists
    the columns that fail; ``worst`` is the column with the largest interval end relative to
    its bound and ``worst_relative`` that ratio (<= 1 means inside).
    """

    identical: bool
    equivalent: bool
    margin: float
    alpha: float
    outside: tuple[str, ...]
    worst: str | None
    worst_relative: float


def holm(p_values) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error), in the input order.

    The i-th smallest of m p-values becomes max over j <= i of (m - j + 1) p_(j), capped at 1.
    """
    p = np.asarray(p_values, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    scaled = (len(p) - np.arange(len(p))) * p[order]
    adjusted = np.empty_like(p)
    adjusted[order] = np.minimum(np.maximum.accumulate(scaled), 1.0)
    return adjusted


def adjust_p_values(p_values, correction: str = "bh") -> np.ndarray:
    """Adjust a family of p-values: ``"bh"`` (Benjamini-Hochberg, scipy), ``"holm"``, ``"none"``."""
    p = np.asarray(p_values, dtype=np.float64)
    if correction not in CORRECTIONS:
        raise AnalysisError(f"unknown correction {correction!r}, expected one of {CORRECTIONS}")
    if correction == "none" or not len(p):
        return p.copy()
    if correction == "holm":
        return holm(p)
    return np.asarray(false_discovery_control(p, method="bh"), dtype=np.float64)


def cliffs_delta(baseline, treated) -> float:
    """Cliff's delta: P(treated > baseline) - P(treated < baseline) over all pairs of values."""
    x = np.asarray(treated, dtype=np.float64)[:, None]
    y = np.asarray(baseline, dtype=np.float64)[None, :]
    if not x.size or not y.size:
        raise AnalysisError("Cliff's delta needs values in both samples")
    return float((np.count_nonzero(x > y) - np.count_nonzero(x < y)) / (x.size * y.size))


@functools.lru_cache(maxsize=32)
def _subsets(n: int, k: int) -> np.ndarray:
    """Every k-subset of range(n), one per row (C(n, k) x k), read-only: shared between calls."""
    subsets = np.array(list(combinations(range(n), k)), dtype=np.intp).reshape(-1, k)
    subsets.flags.writeable = False
    return subsets


@dataclass(frozen=True, slots=True)
class RankTest:
    """A two-sided Mann-Whitney U test of treated runs against baseline runs.

    ``statistic`` is U of the treated sample, ``p_value`` its two-sided p-value and ``p_min``
    the smallest p-value any assignment of the same pooled values to the two samples could
    give (1 when all values are equal): it depends on the pooled values only, never on the
    labels. ``method`` is ``"exact"``, ``"permutation"``, ``"asymptotic"`` or ``"constant"``.
    """

    statistic: float
    p_value: float
    p_min: float
    method: str


def rank_test(baseline, treated) -> RankTest:
    """Two-sided Mann-Whitney U test of treated against baseline, as a :class:`RankTest`.

    Without ties, scipy's exact distribution (``method="exact"``) for samples up to 8, else its
    normal approximation. With ties (frequent among call counts), scipy's exact method would be
    wrong, so the p-value is the exact permutation one: over all assignments of the pooled
    values to the two samples (``"permutation"``), the share whose U is at least as far from
    n*m/2 as the observed; beyond :data:`EXACT_LIMIT` assignments, scipy's tie-corrected normal
    approximation (``"asymptotic"``). With 5 runs each, complete separation gives 2/252
    (two-sided; the one-sided p would be 1/252: the direction is not known beforehand).
    """
    y = np.asarray(baseline, dtype=np.float64)
    x = np.asarray(treated, dtype=np.float64)
    if len(x) < 1 or len(y) < 1:
        raise AnalysisError(f"a rank test needs runs on both sides, got {len(y)} and {len(x)}")
    pooled = np.concatenate([x, y])
    ranks = rankdata(pooled)
    u = float(ranks[: len(x)].sum() - len(x) * (len(x) + 1) / 2)
    if np.all(pooled == pooled[0]):
        return RankTest(u, 1.0, 1.0, "constant")
    ties = len(np.unique(pooled)) < len(pooled)
    if not ties or math.comb(len(pooled), len(x)) > EXACT_LIMIT:
        method = "exact" if not ties and min(len(x), len(y)) <= 8 else "asymptotic"
        # The most extreme assignment: the largest values all in the treated sample.
        ordered = np.sort(pooled)
        top, rest = ordered[len(y) :], ordered[: len(y)]
        return RankTest(
            u,
            float(mannwhitneyu(x, y, method=method).pvalue),
            float(mannwhitneyu(top, rest, method=method).pvalue),
            method,
        )
    picks = _subsets(len(pooled), len(x))
    distance = np.abs(ranks[picks].sum(axis=1) - len(x) * (len(x) + 1) / 2 - len(x) * len(y) / 2)
    observed = abs(u - len(x) * len(y) / 2)
    p_value = np.count_nonzero(distance >= observed - _TIE) / len(distance)
    p_min = np.count_nonzero(distance >= distance.max() - _TIE) / len(distance)
    return RankTest(u, float(p_value), float(p_min), "permutation")


def detection_level(others, alpha: float = 0.05, correction: str = "bh") -> float:
    """The largest p-value one more column could have and still be significant at ``alpha``
    after ``correction``, beside a family whose other columns have p-values ``others``.

    With "none" it is alpha; beside no other column, alpha; with Benjamini-Hochberg beside m-1
    columns, ``k alpha / m`` for the largest k the others let pass (alpha / m when they are all
    large); with Holm, alpha / m when the others are large. 0 when no p-value could pass.
    """
    others = np.asarray(others, dtype=np.float64)
    m = len(others) + 1
    ranks = np.arange(1, m + 1)
    candidates = np.unique(np.concatenate([ranks * alpha / m, alpha / (m - ranks + 1)]))
    for level in candidates[::-1]:
        adjusted = adjust_p_values(np.concatenate([[level], others]), correction)[0]
        # The adjusted p of a candidate equals alpha up to the last bit of the arithmetic.
        if adjusted <= alpha * (1 + 1e-9):
            return float(level)
    return 0.0


@dataclass(frozen=True, slots=True)
class DetectableShift:
    """The smallest shift of one column a rank test on runs like these would have detected.

    ``shift`` (in the column's unit, the larger of the upward and the downward one) is detected
    in at least ``power`` of ``simulations`` simulated experiments: ``n_baseline`` and ``n``
    runs drawn with replacement from the pooled within-condition residuals (each run's value
    minus its condition's median), the shift added to every run of the second sample, a
    two-sided Mann-Whitney test at ``level``. It is rounded up to a multiple of the column's
    ``resolution`` (1 call for counts), so a column equal in every run of both conditions
    would have shown a shift of one call. inf when no shift could be detected: the smallest
    p-value the test can reach on these many runs is above ``level``. ``relative`` is shift /
    |baseline median| (inf when that median is 0); ``spread`` the largest residual, in
    absolute value (0 when every run of each condition has the same value).
    """

    name: str
    baseline_median: float
    shift: float
    relative: float
    spread: float
    level: float
    power: float
    n_baseline: int
    n: int
    simulations: int


@functools.lru_cache(maxsize=64)
def _null_distances(n: int, m: int) -> np.ndarray:
    """|U - nm/2| of every labelling of n + m distinct values (n in the first sample), sorted:
    the exact null distribution of the two-sided Mann-Whitney statistic without ties."""
    picks = _subsets(n + m, n)
    u = (picks + 1).sum(axis=1) - n * (n + 1) / 2
    distances = np.sort(np.abs(u - n * m / 2))
    distances.flags.writeable = False
    return distances


def _critical_distance(n: int, m: int, level: float) -> float:
    """The smallest |U - nm/2| whose two-sided p-value is at most ``level`` (inf if none):
    exact over the labellings up to :data:`EXACT_LIMIT`, else the normal approximation."""
    if math.comb(n + m, n) <= EXACT_LIMIT:
        distances = _null_distances(n, m)
        # p(d) = share of labellings at least as far from nm/2 as d.
        tail = 1 - np.searchsorted(distances, distances - _TIE, side="left") / len(distances)
        passing = distances[tail <= level]
        return float(passing.min()) if len(passing) else math.inf
    if not level > 0:
        return math.inf
    sd = math.sqrt(n * m * (n + m + 1) / 12)
    return float(norm.isf(level / 2) * sd)


def _needed_shifts(lower: np.ndarray, upper: np.ndarray, count: int) -> np.ndarray:
    """Per simulation (rows), the shift added to ``upper`` beyond which at least ``count`` of
    its pairs with ``lower`` are ordered upper > lower: the count-th smallest lower - upper."""
    differences = (lower[:, None, :] - upper[:, :, None]).reshape(len(lower), -1)
    return np.partition(differences, count - 1, axis=1)[:, count - 1]


def detectable_shift(
    baseline,
    treated,
    *,
    level: float,
    power: float = 0.8,
    resolution: float = 0.0,
    simulations: int = 2000,
    seed: int = 0,
    name: str = "",
) -> DetectableShift:
    """The :class:`DetectableShift` of one column: the per-run values of two conditions.

    For each simulated experiment the shift it takes to reach the test's critical U is found
    exactly (U only grows with the shift), so the detectable shift is the ``power`` quantile of
    those shifts over the simulations, no search. The null distribution is that of U without
    ties; simulated ties (frequent among counts) count as unordered pairs, which only makes the
    shift larger. Deterministic in ``seed``.
    """
    y = np.asarray(baseline, dtype=np.float64)
    x = np.asarray(treated, dtype=np.float64)
    y, x = y[np.isfinite(y)], x[np.isfinite(x)]
    if not len(y) or not len(x):
        raise AnalysisError("a detectable shift needs values in both samples")
    n_b, n = len(y), len(x)
    residuals = np.concatenate([y - np.median(y), x - np.median(x)])
    spread = float(np.abs(residuals).max())
    critical = _critical_distance(n, n_b, level)
    shift = math.inf
    if math.isfinite(critical):
        rng = np.random.default_rng(seed)
        lower = residuals[rng.integers(0, len(residuals), (simulations, n_b))]
        upper = residuals[rng.integers(0, len(residuals), (simulations, n))]
        # Pairs ordered treated > baseline that U must reach: nm/2 + the critical distance.
        count = math.ceil(n * n_b / 2 + critical - _TIE)
        up = _needed_shifts(lower, upper, count)
        down = _needed_shifts(upper, lower, count)
        needed = max(float(np.quantile(side, power, method="higher")) for side in (up, down))
        shift = needed
        if resolution > 0:
            # Strictly beyond the needed shift: at exactly that shift the pair ties.
            shift = float((math.floor(needed / resolution + _TIE) + 1) * resolution)
        shift = max(shift, 0.0)
    base_median = float(np.median(y))
    relative = shift / abs(base_median) if base_median else math.inf
    return DetectableShift(
        name=name, baseline_median=base_median, shift=shift, relative=relative, spread=spread,
        level=level, power=power, n_baseline=n_b, n=n, simulations=simulations,
    )  # fmt: skip


def _bootstrap_difference(baseline, treated, confidence, n_resamples, seed):
    """Percentile bootstrap interval of median(treated) - median(baseline)."""
    rng = np.random.default_rng(seed)
    y = np.asarray(baseline, dtype=np.float64)
    x = np.asarray(treated, dtype=np.float64)
    y_medians = np.median(y[rng.integers(0, len(y), (n_resamples, len(y)))], axis=1)
    x_medians = np.median(x[rng.integers(0, len(x), (n_resamples, len(x)))], axis=1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(x_medians - y_medians, [tail, 1 - tail])
    return float(low), float(high)


def _ratio(median: float, baseline_median: float, pseudo_count: float) -> float:
    numerator, denominator = median + pseudo_count, baseline_median + pseudo_count
    if denominator == 0:
        return float("nan") if numerator == 0 else math.copysign(math.inf, numerator)
    return numerator / denominator


def _aligned(baseline: pd.DataFrame, treated: pd.DataFrame):
    """Both tables over the union of their columns, absent columns filled with 0 (no calls)."""
    columns = baseline.columns.union(treated.columns, sort=False)
    columns = pd.Index(sorted(columns, key=str), dtype=object)
    return (
        baseline.reindex(columns=columns, fill_value=0),
        treated.reindex(columns=columns, fill_value=0),
    )


def compare_tables(
    baseline: pd.DataFrame,
    treated: pd.DataFrame,
    *,
    alpha: float = 0.05,
    correction: str = "bh",
    confidence: float = 0.95,
    pseudo_count: float = 1.0,
    n_resamples: int = 2000,
    seed: int = 0,
) -> tuple[Shift, ...]:
    """The :class:`Shift` of every column of two runs x columns tables, most significant first.

    Works on count tables (absent columns count 0), n-gram tables and timing tables (use
    ``pseudo_count=0`` for seconds). NaN values are dropped per column. Columns that are 0 in
    every run of both conditions, or without a finite value on one side, are not tested.

    The correction family holds only the columns that could reach ``alpha`` at all: a column
    whose smallest attainable p-value (:attr:`RankTest.p_min`, e.g. 1 for a count equal in
    every run, as most start-up calls are) exceeds ``alpha`` can never be significant, so it
    is reported with ``in_family`` false and ``p_adjusted`` 1 but not counted (Tarone's
    restriction for discrete tests). The criterion ignores the condition labels, so the
    permutation p-values of the columns kept stay valid. Sorted by adjusted p, then by larger
    |effect|, then name.
    """
    base, cond = _aligned(baseline, treated)
    rows = []
    for column in base.columns:
        y = base[column].to_numpy(dtype=np.float64, na_value=np.nan)
        x = cond[column].to_numpy(dtype=np.float64, na_value=np.nan)
        y, x = y[np.isfinite(y)], x[np.isfinite(x)]
        if not len(y) or not len(x) or not (np.any(y) or np.any(x)):
            continue
        # A fresh generator per column keeps a column's interval independent of the others.
        ci = _bootstrap_difference(y, x, confidence, n_resamples, seed)
        rows.append((str(column), y, x, rank_test(y, x), ci))
    family = [test.p_min <= alpha for _, _, _, test, _ in rows]
    tested = [test.p_value for _, _, _, test, _ in rows if test.p_min <= alpha]
    adjusted = iter(adjust_p_values(tested, correction))
    shifts = []
    for (name, y, x, test, ci), in_family in zip(rows, family, strict=True):
        p_adjusted = float(next(adjusted)) if in_family else 1.0
        base_median, median = float(np.median(y)), float(np.median(x))
        effect = cliffs_delta(y, x)
        shifts.append(
            Shift(
                name=name,
                baseline_median=base_median,
                median=median,
                ratio=_ratio(median, base_median, pseudo_count),
                difference=median - base_median,
                ci=ci,
                statistic=test.statistic,
                p_value=test.p_value,
                p_adjusted=p_adjusted,
                effect=effect,
                direction="up" if effect > 0 else "down" if effect < 0 else "none",
                significant=p_adjusted <= alpha,
                in_family=in_family,
                n_baseline=len(y),
                n=len(x),
                method=test.method,
                confidence=confidence,
            )
        )
    return tuple(sorted(shifts, key=lambda s: (s.p_adjusted, -abs(s.effect), s.name)))


def js_divergence(p, q) -> float:
    """Jensen-Shannon divergence, base 2, of two distributions (normalised here): in [0, 1]."""
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    if p.shape != q.shape or p.sum() <= 0 or q.sum() <= 0:
        raise AnalysisError(f"two non-empty distributions of equal length needed: {p} {q}")
    return float(np.clip(jensenshannon(p, q, base=2) ** 2, 0.0, 1.0))


def _pairwise_divergence(shares: np.ndarray) -> np.ndarray:
    distance = jensenshannon(shares[:, None, :], shares[None, :, :], base=2, axis=2)
    return np.clip(np.nan_to_num(distance) ** 2, 0.0, 1.0)


def _between_minus_within(divergence: np.ndarray, labels: np.ndarray):
    """Mean between-condition and within-condition divergence for each row of boolean labels."""
    a = labels.astype(np.float64)
    b = 1.0 - a
    n_a, n_b = a.sum(axis=1), b.sum(axis=1)
    between = ((a @ divergence) * b).sum(axis=1) / (n_a * n_b)
    # Each unordered pair appears twice in the symmetric matrix; the diagonal is 0.
    within_sum = (((a @ divergence) * a).sum(axis=1) + ((b @ divergence) * b).sum(axis=1)) / 2
    within = within_sum / (n_a * (n_a - 1) / 2 + n_b * (n_b - 1) / 2)
    return between, within


def distribution_distance(
    baseline: pd.DataFrame,
    treated: pd.DataFrame,
    *,
    max_permutations: int = 10_000,
    seed: int = 0,
) -> Distance:
    """Jensen-Shannon :class:`Distance` between the runs of two count (or n-gram) tables.

    Each run's row is normalised to a distribution. The permutation test shuffles the condition
    labels over the runs: exactly, over all C(n, k) labellings, when there are at most
    ``max_permutations``, else over ``max_permutations`` random labellings drawn with ``seed``.
    With 5 runs each, the 252 labellings come in mirrored pairs, so the smallest p is 2/252.
    """
    n_a, n_b = len(baseline), len(treated)
    if n_a < 2 or n_b < 2:
        raise AnalysisError(f"a distance test needs 2 runs per condition, got {n_a} and {n_b}")
    base, cond = _aligned(baseline, treated)
    shares = share_table(pd.concat([base, cond])).to_numpy(dtype=np.float64)
    divergence = _pairwise_divergence(shares)
    n = n_a + n_b
    observed = np.zeros((1, n), dtype=bool)
    observed[0, :n_a] = True
    (between,), (within,) = _between_minus_within(divergence, observed)
    total = math.comb(n, n_a)
    exact = total <= max_permutations
    if exact:
        labels = np.zeros((total, n), dtype=bool)
        np.put_along_axis(labels, _subsets(n, n_a), True, axis=1)
    else:
        rng = np.random.default_rng(seed)
        ranks = np.argsort(rng.random((max_permutations, n)), axis=1)
        labels = ranks < n_a
    perm_between, perm_within = _between_minus_within(divergence, labels)
    hits = np.count_nonzero(perm_between - perm_within >= between - within - _TIE)
    p_value = hits / total if exact else (1 + hits) / (1 + max_permutations)
    ratio = between / within if within > 0 else 1.0 if between == 0 else math.inf
    centroid = js_divergence(shares[:n_a].mean(axis=0), shares[n_a:].mean(axis=0))
    return Distance(
        between=float(between),
        within=float(within),
        ratio=float(ratio),
        centroid=centroid,
        p_value=float(p_value),
        permutations=total if exact else max_permutations,
        exact=exact,
    )


def share_differences(
    baseline: pd.DataFrame, treated: pd.DataFrame, *, top: int = 10
) -> tuple[ShareDifference, ...]:
    """The ``top`` columns whose mean share of calls differs most between two count tables."""
    base, cond = _aligned(baseline, treated)
    base_share = share_table(base).mean(axis=0)
    cond_share = share_table(cond).mean(axis=0)
    rows = [
        ShareDifference(str(name), float(b), float(c), float(c - b))
        for name, b, c in zip(base.columns, base_share, cond_share, strict=True)
    ]
    return tuple(sorted(rows, key=lambda r: (-abs(r.difference), r.name))[:top])


def equivalence(
    baseline: pd.DataFrame,
    treated: pd.DataFrame,
    *,
    margin: float = 0.05,
    alpha: float = 0.05,
    n_resamples: int = 2000,
    seed: int = 0,
) -> Equivalence:
    """Whether two conditions' per-run tables are identical, or equivalent within ``margin``.

    Meant for controls: the same program under the same condition must give the same counts
    (``identical``), or at least differences of medians whose ``1 - 2 * alpha`` bootstrap
    interval lies within +-``margin`` x max(baseline median, 1) for every column
    (``equivalent``). Meant for count tables: the floor of the bound is one call. With few
    runs a bootstrap interval is narrow; treat it as a screen, and ``identical`` as the proof.
    """
    if not len(baseline) or not len(treated):
        raise AnalysisError("an equivalence check needs runs in both conditions")
    base, cond = _aligned(baseline, treated)
    values = pd.concat([base, cond]).to_numpy(dtype=np.float64, na_value=np.nan)
    identical = bool(np.array_equal(values, np.broadcast_to(values[:1], values.shape)))
    outside: list[str] = []
    worst, worst_relative = None, 0.0
    for column in base.columns:
        y = base[column].to_numpy(dtype=np.float64)
        x = cond[column].to_numpy(dtype=np.float64)
        low, high = _bootstrap_difference(y, x, 1 - 2 * alpha, n_resamples, seed)
        bound = margin * max(abs(float(np.median(y))), 1.0)
        reach = max(abs(low), abs(high))
        relative = reach / bound if bound > 0 else (0.0 if reach == 0 else math.inf)
        if relative > 1:
            outside.append(str(column))
        if worst is None or relative > worst_relative:
            worst, worst_relative = str(column), relative
    return Equivalence(
        identical=identical,
        equivalent=not outside,
        margin=margin,
        alpha=alpha,
        outside=tuple(outside),
        worst=worst,
        worst_relative=float(worst_relative),
    )


@dataclass(frozen=True, slots=True)
class Comparison:
    """Everything :func:`compare_conditions` measured for one pair of conditions.

    ``shifts`` per syscall (counts), ``timing`` per metric of
    :data:`~syscall_lab.analyse.tables.TIMING_COLUMNS` (ratio without pseudo-count); ``distance``
    on syscall counts and ``ngram_distance`` on n-gram counts (None when some run made no call
    at all, e.g. a CPU-bound phase: a run without calls has no distribution);
    ``ngram_differences`` the n-grams whose mean share differs most; ``equivalence`` of the
    count tables (the check for controls and ambient runs).
    """

    baseline_runs: tuple[str, ...]
    runs: tuple[str, ...]
    shifts: tuple[Shift, ...]
    distance: Distance | None
    ngram: int
    ngram_distance: Distance | None
    ngram_differences: tuple[ShareDifference, ...]
    timing: tuple[Shift, ...]
    equivalence: Equivalence
    alpha: float
    correction: str
    seed: int


def _has_calls(*tables: pd.DataFrame) -> bool:
    return all(bool((table.sum(axis=1) > 0).all()) for table in tables)


def compare_conditions(
    baseline: Mapping[str, pd.DataFrame],
    treated: Mapping[str, pd.DataFrame],
    *,
    ngram: int = 3,
    alpha: float = 0.05,
    correction: str = "bh",
    top: int = 10,
    seed: int = 0,
) -> Comparison:
    """Compare two conditions given as run name -> event table (cut to the phase) mappings.

    Counts all calls (not only returned ones: a call interrupted by the end of the phase is
    still behaviour). Every test uses ``seed``; the same inputs give the same record.
    """
    counts = count_table(baseline), count_table(treated)
    grams = ngram_table(baseline, ngram), ngram_table(treated, ngram)
    with_calls = _has_calls(*counts)
    return Comparison(
        baseline_runs=tuple(baseline),
        runs=tuple(treated),
        shifts=compare_tables(*counts, alpha=alpha, correction=correction, seed=seed),
        distance=distribution_distance(*counts, seed=seed) if with_calls else None,
        ngram=ngram,
        ngram_distance=(distribution_distance(*grams, seed=seed) if _has_calls(*grams) else None),
        ngram_differences=share_differences(*grams, top=top) if _has_calls(*grams) else (),
        timing=compare_tables(
            timing_table(baseline),
            timing_table(treated),
            alpha=alpha,
            correction=correction,
            pseudo_count=0.0,
            seed=seed,
        ),
        equivalence=equivalence(*counts, alpha=alpha, seed=seed),
        alpha=alpha,
        correction=correction,
        seed=seed,
    )

"""Tests of syscall_lab.analyse.stats: rank tests, corrections, distances, equivalence, power.

Synthetic per-run tables with known answers, null controls showing the tests do not cry wolf,
Hypothesis properties (p-values in [0, 1], symmetric divergence, antisymmetric shifts), and the
detectable shift held against independent oracles (scipy's exact test on fresh simulations,
Noether's large-sample formula).
"""

from __future__ import annotations

import math
import subprocess

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chi2_contingency, mannwhitneyu, norm

from syscall_lab.analyse.stats import (
    RankTest,
    adjust_p_values,
    cliffs_delta,
    compare_conditions,
    compare_tables,
    detectable_shift,
    detection_level,
    distribution_distance,
    equivalence,
    holm,
    js_divergence,
    rank_test,
    share_differences,
)
from syscall_lab.analyse.tables import (
    TIMING_COLUMNS,
    AnalysisError,
    count_table,
    ngram_table,
    timing_table,
)
from syscall_parse.schema import COLUMNS, DTYPES
from syscall_parse.table import read_trace

SEPARATED = 2 / 252
"""Two-sided exact p of complete separation of 5 runs against 5: 2 of C(10, 5) labellings."""


def table(columns: dict[str, list[float]]) -> pd.DataFrame:
    """A runs x columns table, runs named r0, r1..."""
    n = len(next(iter(columns.values())))
    return pd.DataFrame(columns, index=pd.Index([f"r{i}" for i in range(n)], dtype=object))


def poisson_runs(seed: int, means: list[float], runs: int = 5) -> pd.DataFrame:
    """Per-run counts drawn from one process: the same means for every run."""
    draws = np.random.default_rng(seed).poisson(means, size=(runs, len(means)))
    return pd.DataFrame(draws, columns=[f"s{i}" for i in range(len(means))])


@pytest.mark.parametrize(
    ("baseline", "treated", "method"),
    [
        pytest.param([1, 2, 3, 4, 5], [6, 7, 8, 9, 10], "exact", id="no-ties"),
        pytest.param([1, 2, 3, 3, 5], [6, 7, 7, 9, 10], "permutation", id="ties-within"),
        pytest.param([6, 7, 8, 9, 10], [1, 2, 3, 4, 5], "exact", id="downwards"),
    ],
)
def test_rank_test_complete_separation_is_2_over_252(baseline, treated, method):
    """5 runs entirely above (or below) 5 others: two-sided exact p = 2/252 ~ 0.0079."""
    test = rank_test(baseline, treated)
    u, p_value, used = test.statistic, test.p_value, test.method

    assert pytest.approx(SEPARATED) == p_value
    assert method == used
    assert (25.0 if treated[0] > baseline[0] else 0.0) == u


def test_rank_test_one_sided_would_halve_it():
    """The one-sided exact p of complete separation, 1/252, is what the two-sided test doubles."""
    above, below = [6, 7, 8, 9, 10], [1, 2, 3, 4, 5]
    one_sided = mannwhitneyu(above, below, method="exact", alternative="greater")

    assert 1 / 252 == pytest.approx(one_sided.pvalue)
    assert pytest.approx(one_sided.pvalue) == rank_test(below, above).p_value / 2


@pytest.mark.parametrize(
    ("baseline", "treated"),
    [
        pytest.param([1, 4, 6, 9, 12], [2, 3, 7, 10, 11], id="interleaved"),
        pytest.param([1, 2, 3], [4, 5, 6, 7], id="unequal-sizes"),
        pytest.param([3, 8, 1, 5, 2], [4, 9, 6, 10, 7], id="overlapping"),
    ],
)
def test_rank_test_enumeration_agrees_with_scipy_without_ties(baseline, treated):
    """Without ties, scipy's exact p-value is the permutation one."""
    expected = mannwhitneyu(treated, baseline, method="exact").pvalue

    assert pytest.approx(expected) == rank_test(baseline, treated).p_value


def test_rank_test_of_identical_values_is_one():
    """Runs that all give the same count show no shift at all."""
    assert RankTest(12.5, 1.0, 1.0, "constant") == rank_test([7] * 5, [7] * 5)


def test_rank_test_needs_both_samples():
    """An empty side is an error, not a p-value."""
    with pytest.raises(AnalysisError, match="both sides"):
        rank_test([], [1, 2])


def test_holm_hand_example():
    """p = .01 .04 .03 .005 (m=4): sorted x4 x3 x2 x1 = .02 .03 .06 .04, then running max."""
    assert pytest.approx([0.03, 0.06, 0.06, 0.02]) == holm([0.01, 0.04, 0.03, 0.005]).tolist()


@pytest.mark.parametrize(
    ("correction", "expected"),
    [
        pytest.param("holm", [0.03, 0.06, 0.06, 0.02], id="holm"),
        # sorted .005 .01 .03 .04 x m/rank = .02 .02 .04 .04, then running min from the top
        pytest.param("bh", [0.02, 0.04, 0.04, 0.02], id="benjamini-hochberg"),
        pytest.param("none", [0.01, 0.04, 0.03, 0.005], id="none"),
    ],
)
def test_adjust_p_values_hand_examples(correction, expected):
    """Each correction on the same family of four p-values."""
    adjusted = adjust_p_values([0.01, 0.04, 0.03, 0.005], correction)

    assert pytest.approx(expected) == adjusted.tolist()


def test_adjust_p_values_refuses_unknown_corrections():
    """A misspelt correction is an error naming the choices."""
    with pytest.raises(AnalysisError, match="bonferoni"):
        adjust_p_values([0.1], "bonferoni")


def test_cliffs_delta_hand_example():
    """treated 2, 4 vs baseline 1, 2, 3: 4 pairs above, 1 below, 1 tie -> (4 - 1) / 6."""
    assert 0.5 == cliffs_delta([1, 2, 3], [2, 4])


def test_compare_tables_complete_separation():
    """A syscall 10 calls higher in every run: p = 2/252, delta 1, ratio and CI as expected."""
    baseline = table({"read": [100, 101, 102, 103, 104], "write": [5, 5, 5, 5, 5]})
    treated = table({"read": [110, 111, 112, 113, 114], "write": [5, 5, 5, 5, 5]})

    read, write = compare_tables(baseline, treated)

    assert ("read", 102.0, 112.0, 10.0) == (
        read.name,
        read.baseline_median,
        read.median,
        read.difference,
    )
    assert pytest.approx(113 / 103) == read.ratio
    assert pytest.approx(SEPARATED) == read.p_value
    assert (1.0, "up", 25.0) == (read.effect, read.direction, read.statistic)
    assert read.ci[0] <= 10.0 <= read.ci[1]
    assert read.ci[0] > 0
    assert read.significant
    assert (1.0, 0.0, "none", False) == (
        write.p_value,
        write.effect,
        write.direction,
        write.significant,
    )


def test_compare_tables_new_and_absent_syscalls():
    """A syscall only one condition makes counts 0 in the other; all-zero ones are not tested."""
    baseline = table({"read": [3, 3, 3, 3, 3], "unused": [0, 0, 0, 0, 0]})
    treated = table({"read": [3, 3, 3, 3, 3], "fsync": [2, 2, 3, 2, 2]})

    shifts = {shift.name: shift for shift in compare_tables(baseline, treated)}

    assert {"fsync", "read"} == set(shifts)
    # ratio (2 + 1) / (0 + 1): the pseudo-count keeps it finite
    assert (0.0, 2.0, 3.0) == (
        shifts["fsync"].baseline_median,
        shifts["fsync"].median,
        shifts["fsync"].ratio,
    )


def test_compare_tables_holm_cannot_reach_significance_with_many_tests_of_5_runs():
    """Ten completely separated syscalls: Holm gives 10 x 2/252 > 0.05, BH keeps 2/252."""
    baseline = table({f"s{i}": [10, 11, 12, 13, 14] for i in range(10)})
    treated = table({f"s{i}": [20, 21, 22, 23, 24] for i in range(10)})

    holm_shifts = compare_tables(baseline, treated, correction="holm")
    bh_shifts = compare_tables(baseline, treated, correction="bh")

    assert [pytest.approx(10 * SEPARATED)] * 10 == [s.p_adjusted for s in holm_shifts]
    assert not any(s.significant for s in holm_shifts)
    assert [pytest.approx(SEPARATED)] * 10 == [s.p_adjusted for s in bh_shifts]
    assert all(s.significant for s in bh_shifts)


def test_compare_tables_leaves_untestable_columns_out_of_the_family():
    """Columns no labelling could make significant do not dilute the correction.

    20 start-up calls equal in every run and one that differs in a single run (its smallest
    attainable p is 1) stay out of the family; the separated read keeps p_adjusted = 2/252.
    """
    constant = {f"setup{i}": [3] * 5 for i in range(20)}
    baseline = table({"read": [10, 11, 12, 13, 14], "futex": [5] * 5, **constant})
    treated = table({"read": [20, 21, 22, 23, 24], "futex": [5, 5, 5, 5, 6], **constant})

    shifts = {shift.name: shift for shift in compare_tables(baseline, treated, correction="holm")}

    assert (True, True) == (shifts["read"].in_family, shifts["read"].significant)
    assert pytest.approx(SEPARATED) == shifts["read"].p_adjusted
    assert 1.0 == rank_test([5] * 5, [5, 5, 5, 5, 6]).p_min
    assert (False, 1.0) == (shifts["futex"].in_family, shifts["futex"].p_adjusted)
    assert not any(shifts[f"setup{i}"].in_family for i in range(20))


def test_compare_tables_sorts_most_significant_first():
    """Shifts come by adjusted p, then by larger effect."""
    baseline = table({"a": [1, 2, 3, 4, 5], "b": [1, 2, 3, 4, 5], "c": [1, 2, 3, 4, 5]})
    treated = table({"a": [2, 3, 4, 5, 6], "b": [9, 9, 9, 9, 9], "c": [1, 2, 3, 4, 5]})

    assert ["b", "a", "c"] == [shift.name for shift in compare_tables(baseline, treated)]


def test_compare_tables_timing_without_pseudo_count():
    """Seconds take pseudo_count=0: the ratio is the plain ratio of medians."""
    baseline = table({"latency_median": [0.001, 0.002, 0.002, 0.002, 0.003]})
    treated = table({"latency_median": [0.004, 0.004, 0.004, 0.005, 0.006]})

    (shift,) = compare_tables(baseline, treated, pseudo_count=0.0)

    assert pytest.approx(2.0) == shift.ratio


def test_compare_tables_is_deterministic():
    """The same tables and seed give the same records, bootstrap interval included."""
    baseline, treated = poisson_runs(1, [50, 20, 5]), poisson_runs(2, [60, 20, 5])

    assert compare_tables(baseline, treated) == compare_tables(baseline, treated)


def test_null_control_no_shift_is_significant_after_correction():
    """Two conditions from one process: no syscall shift survives the correction."""
    means = [500, 120, 40, 40, 12, 3, 1]
    baseline, treated = poisson_runs(10, means), poisson_runs(11, means)

    shifts = compare_tables(baseline, treated)

    assert [] == [shift.name for shift in shifts if shift.significant]


def test_null_control_false_alarm_rate_stays_below_alpha():
    """Over 200 null experiments (20 syscalls, 5 vs 5 runs), BH flags at most alpha of them.

    Uncorrected, the same experiments would flag some syscall in a large share of them.
    """
    means = list(np.geomspace(2, 2000, 20))
    alarms = uncorrected = 0
    for seed in range(200):
        baseline, treated = poisson_runs(2 * seed, means), poisson_runs(2 * seed + 1, means)
        shifts = compare_tables(baseline, treated, n_resamples=50)
        alarms += any(shift.significant for shift in shifts)
        uncorrected += any(shift.p_value <= 0.05 for shift in shifts)

    assert alarms / 200 <= 0.05
    assert uncorrected / 200 > 0.3


def test_run_level_tests_do_not_cry_wolf_where_pooled_chi_square_does():
    """Runs that vary between themselves: pooled chi-square flags noise, the run-level test not.

    Every run of both conditions draws its own rate for each syscall (run-to-run variation, as
    for imported modules or caches); pooling the calls hides that variation.
    """
    rng = np.random.default_rng(5)
    means = np.geomspace(1000, 100_000, 8)
    rows = rng.poisson(means * rng.lognormal(0, 0.2, size=(10, 8)))
    baseline, treated = pd.DataFrame(rows[:5]), pd.DataFrame(rows[5:])

    pooled = np.vstack([baseline.sum(), treated.sum()])
    assert chi2_contingency(pooled).pvalue < 1e-6
    assert not any(shift.significant for shift in compare_tables(baseline, treated))


@pytest.mark.parametrize(
    ("p", "q", "expected"),
    [
        pytest.param([0.3, 0.7], [0.3, 0.7], 0.0, id="identical"),
        pytest.param([1, 0, 0], [0, 2, 5], 1.0, id="disjoint"),
        # m = (.75, .25): (log2(4/3) + .5 log2(2/3) + .5) / 2
        pytest.param(
            [1, 0], [1, 1], (math.log2(4 / 3) + 0.5 * math.log2(2 / 3) + 0.5) / 2, id="hand"
        ),
    ],
)
def test_js_divergence_known_values(p, q, expected):
    """Base 2 divergence: 0 for identical, 1 for disjoint distributions."""
    assert pytest.approx(expected) == js_divergence(p, q)


def test_js_divergence_refuses_empty_distribution():
    """An all-zero vector is not a distribution."""
    with pytest.raises(AnalysisError, match="non-empty"):
        js_divergence([0, 0], [1, 1])


def test_distribution_distance_separated_conditions():
    """A condition that doubles one syscall in every run: the exact p is 2/252."""
    baseline = table({"read": [100, 102, 98, 101, 99], "write": [50, 51, 49, 50, 52]})
    treated = table({"read": [200, 204, 196, 202, 198], "write": [50, 51, 49, 50, 52]})

    distance = distribution_distance(baseline, treated)

    assert (True, 252) == (distance.exact, distance.permutations)
    assert pytest.approx(SEPARATED) == distance.p_value
    assert distance.between > 10 * distance.within
    assert distance.ratio == pytest.approx(distance.between / distance.within)
    assert 0 < distance.centroid < distance.between


def test_distribution_distance_of_identical_runs():
    """Every run the same: no divergence, ratio 1, p = 1."""
    runs = table({"read": [10] * 5, "write": [4] * 5})

    distance = distribution_distance(runs, runs)

    assert (0.0, 0.0, 1.0, 1.0) == (
        distance.between,
        distance.within,
        distance.ratio,
        distance.p_value,
    )


def test_distribution_distance_null_control_p_values_are_not_small():
    """Conditions from one process: permutation p-values spread over [0, 1], few below 0.05."""
    means = [400, 100, 30, 10, 2]
    p_values = [
        distribution_distance(poisson_runs(2 * s, means), poisson_runs(2 * s + 1, means)).p_value
        for s in range(100)
    ]

    assert sum(p <= 0.05 for p in p_values) <= 8
    assert 0.35 < float(np.median(p_values)) < 0.65


def test_distribution_distance_samples_when_there_are_too_many_labellings():
    """Beyond max_permutations the labellings are sampled with the seed: reproducible."""
    baseline, treated = poisson_runs(3, [50, 20, 5], runs=8), poisson_runs(4, [20, 50, 5], runs=8)

    first = distribution_distance(baseline, treated, max_permutations=500, seed=7)

    assert (False, 500) == (first.exact, first.permutations)
    assert pytest.approx(1 / 501) == first.p_value
    assert first == distribution_distance(baseline, treated, max_permutations=500, seed=7)


def test_distribution_distance_needs_two_runs_each():
    """Within-condition divergence needs a pair of runs on each side."""
    with pytest.raises(AnalysisError, match="2 runs per condition"):
        distribution_distance(table({"a": [1]}), table({"a": [1, 2]}))


def test_share_differences_largest_first():
    """Mean shares per condition, ordered by the size of their difference."""
    baseline = table({"read": [3, 1], "write": [1, 1], "close": [0, 0]})
    treated = table({"read": [1, 1], "write": [1, 1], "close": [2, 2]})

    differences = share_differences(baseline, treated, top=2)

    assert [("close", 0.0, 0.5), ("read", 0.625, 0.25)] == [
        (d.name, d.baseline_share, d.share) for d in differences
    ]
    assert pytest.approx(-0.375) == differences[1].difference


def test_equivalence_of_identical_runs():
    """The same counts in every run of both conditions: identical and equivalent."""
    runs = table({"read": [10] * 5, "write": [4] * 5})

    result = equivalence(runs, runs)

    assert (True, True, ()) == (result.identical, result.equivalent, result.outside)


def test_equivalence_within_and_beyond_the_margin():
    """A 0.2 % jitter is within 5 %; a 20 % rise is not, and is named."""
    baseline = table({"read": [1000, 1001, 999, 1002, 1000], "write": [40] * 5})
    jitter = table({"read": [1001, 1000, 1000, 999, 1002], "write": [40] * 5})
    rise = table({"read": [1200, 1201, 1199, 1202, 1200], "write": [40] * 5})

    close = equivalence(baseline, jitter)
    far = equivalence(baseline, rise)

    assert (False, True) == (close.identical, close.equivalent)
    assert close.worst_relative <= 1
    assert (False, ("read",), "read") == (far.equivalent, far.outside, far.worst)
    assert far.worst_relative > 1


@pytest.mark.parametrize(
    ("others", "correction", "expected"),
    [
        pytest.param([], "bh", 0.05, id="alone"),
        pytest.param([0.5] * 8, "bh", 0.05 / 9, id="bh-others-large"),
        pytest.param([SEPARATED] * 4 + [0.5] * 4, "bh", 5 * 0.05 / 9, id="bh-four-small"),
        pytest.param([0.5] * 8, "holm", 0.05 / 9, id="holm-others-large"),
        pytest.param([0.001] * 3, "holm", 0.05, id="holm-others-small"),
        pytest.param([0.9] * 3, "none", 0.05, id="none"),
    ],
)
def test_detection_level_hand_examples(others, correction, expected):
    """The largest p one more column could have and still pass its family's correction: the
    Benjamini-Hochberg rank threshold k alpha / m, Holm's alpha / (m - k + 1)."""
    level = detection_level(others, 0.05, correction)

    assert pytest.approx(expected) == level
    assert adjust_p_values([level, *others], correction)[0] <= 0.05 * (1 + 1e-9)
    assert adjust_p_values([level * 1.01, *others], correction)[0] > 0.05 or level == 0.05


def test_detectable_shift_of_identical_runs_is_one_call():
    """Counts equal in every run of both sides: a shift of one call in every run separates
    them completely (p = 2/252 <= 0.05), so one call is detectable."""
    shift = detectable_shift([16] * 5, [16] * 5, level=0.05, resolution=1)

    assert (1.0, 1 / 16, 0.0) == (shift.shift, shift.relative, shift.spread)


def test_detectable_shift_is_infinite_when_no_test_could_reject():
    """Below the smallest attainable p (2/252 for 5 vs 5; 0.1 for 3 vs 3) nothing is
    detectable, however large."""
    assert math.inf == detectable_shift([16] * 5, [16] * 5, level=0.005, resolution=1).shift
    assert math.inf == detectable_shift([1, 2, 3], [1, 2, 3], level=0.05).shift


def _scipy_power(pool: np.ndarray, shift: float, level: float, seed: int, draws: int) -> float:
    """Share of fresh simulated 5-vs-5 experiments, drawn from ``pool`` with the treated side
    moved by ``shift``, that scipy's exact two-sided Mann-Whitney test rejects at ``level``."""
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(draws):
        baseline = rng.choice(pool, 5)
        treated = rng.choice(pool, 5) + shift
        hits += mannwhitneyu(treated, baseline, method="exact").pvalue <= level
    return hits / draws


@pytest.mark.parametrize("level", [0.05, 0.02], ids=["alpha", "corrected"])
def test_detectable_shift_against_scipy_simulation(level):
    """An independent oracle: fresh experiments drawn from the same (symmetric, continuous)
    residuals and tested with scipy's exact test detect the shift with power 0.8, and 0.8 of
    it with less."""
    rng = np.random.default_rng(7)
    half = rng.normal(0.0, 3.0, 5)
    runs = np.concatenate([10 + half, 10 - half])
    result = detectable_shift(runs[:5], runs[5:], level=level, seed=1)
    pool = np.concatenate([runs[:5] - np.median(runs[:5]), runs[5:] - np.median(runs[5:])])

    assert 0 < result.shift < math.inf
    assert _scipy_power(pool, result.shift * 1.001, level, seed=2, draws=1500) >= 0.8 - 0.03
    assert _scipy_power(pool, result.shift * 0.8, level, seed=3, draws=1500) < 0.8


def test_detectable_shift_matches_noether_for_large_samples():
    """30 runs a side spread like a normal distribution (its quantiles, alternately): the
    detectable shift at alpha 0.05 and power 0.8 is Noether's sigma sqrt(2) Phi^-1(1/2 +
    (z_0.975 + z_0.8) / sqrt(3 N)), within the simulation's and the approximation's error (5%)."""
    quantiles = norm.ppf((np.arange(60) + 0.5) / 60)
    baseline, treated = quantiles[::2], quantiles[1::2]
    pool = np.concatenate([baseline - np.median(baseline), treated - np.median(treated)])
    z = (norm.isf(0.025) + norm.isf(0.2)) / math.sqrt(3 * 60)
    expected = float(np.std(pool)) * math.sqrt(2) * norm.ppf(0.5 + z)

    result = detectable_shift(baseline, treated, level=0.05, simulations=4000)

    assert pytest.approx(expected, rel=0.05) == result.shift


def test_detectable_shift_grows_with_the_spread_and_is_deterministic():
    """Twice the spread, twice the detectable shift (the same draws); the same seed, the same
    record."""
    base, treated = [600, 650, 700, 580, 720], [610, 690, 640, 700, 600]
    first = detectable_shift(base, treated, level=0.05)
    doubled = detectable_shift([2 * v for v in base], [2 * v for v in treated], level=0.05)

    assert first == detectable_shift(base, treated, level=0.05)
    assert pytest.approx(2 * first.shift) == doubled.shift


counts = st.lists(st.integers(min_value=0, max_value=50), min_size=2, max_size=6)


@given(counts, counts)
def test_rank_test_p_value_is_a_probability(baseline, treated):
    """Whatever the counts, 0 < p <= 1 and 0 <= U <= n m."""
    test = rank_test(baseline, treated)
    u, p_value = test.statistic, test.p_value

    assert 0 < test.p_min <= p_value <= 1
    assert 0 <= u <= len(baseline) * len(treated)


distributions = st.lists(st.integers(min_value=0, max_value=1000), min_size=4, max_size=4).filter(
    any
)


@given(distributions, distributions)
def test_js_divergence_is_symmetric_and_bounded(p, q):
    """JSD(p, q) = JSD(q, p), within [0, 1]."""
    forward = js_divergence(p, q)

    assert pytest.approx(forward, abs=1e-12) == js_divergence(q, p)
    assert 0 <= forward <= 1


runs_table = st.lists(
    st.lists(st.integers(min_value=0, max_value=30), min_size=3, max_size=3),
    min_size=3,
    max_size=5,
).map(lambda rows: pd.DataFrame(rows, columns=["a", "b", "c"]))


@settings(max_examples=30, deadline=None)
@given(runs_table, runs_table)
def test_compare_tables_is_antisymmetric(baseline, treated):
    """Swapping the conditions negates effects and differences, inverts ratios, keeps p."""
    forward = {s.name: s for s in compare_tables(baseline, treated, n_resamples=20)}
    backward = {s.name: s for s in compare_tables(treated, baseline, n_resamples=20)}

    flip = {"up": "down", "down": "up", "none": "none"}
    assert forward.keys() == backward.keys()
    for name, shift in forward.items():
        other = backward[name]
        assert pytest.approx(-shift.effect) == other.effect
        assert pytest.approx(-shift.difference) == other.difference
        assert pytest.approx(1 / shift.ratio) == other.ratio
        assert pytest.approx(shift.p_value) == other.p_value
        assert flip[shift.direction] == other.direction


def trace_runs(strace, directory, blocks: int, runs: int, label: str) -> dict[str, pd.DataFrame]:
    """``runs`` real runs of dd copying ``blocks`` blocks, each traced and parsed."""
    frames = {}
    for run in range(runs):
        log = directory / f"{label}-{run}.log"
        command = ["dd", "if=/dev/zero", "of=/dev/null", "bs=4096", f"count={blocks}"]
        subprocess.run(
            [strace, "-f", "-ttt", "-T", "-o", str(log), "--", *command],
            check=True,
            capture_output=True,
            timeout=60,
        )
        frames[f"{label}-{run}"] = read_trace(log)
    return frames


@pytest.fixture(scope="module")
def dd_runs(strace, tmp_path_factory):
    """Three conditions of 5 real traced runs: dd of 100 blocks twice (a null pair), of 200."""
    directory = tmp_path_factory.mktemp("dd")
    return {
        "normal": trace_runs(strace, directory, 100, 5, "normal"),
        "again": trace_runs(strace, directory, 100, 5, "again"),
        "double": trace_runs(strace, directory, 200, 5, "double"),
    }


@pytest.mark.strace
def test_real_runs_double_the_reads(dd_runs):
    """Twice the blocks: read and write up in every run, p = 2/252, ratio near 2; setup calls
    (mmap, openat) unchanged and not significant."""
    normal, double = count_table(dd_runs["normal"]), count_table(dd_runs["double"])

    shifts = {shift.name: shift for shift in compare_tables(normal, double)}

    for name in ("read", "write"):
        assert (True, "up", 1.0) == (
            shifts[name].significant,
            shifts[name].direction,
            shifts[name].effect,
        )
        assert pytest.approx(SEPARATED) == shifts[name].p_value
        assert 100 == shifts[name].difference
        assert 1.8 < shifts[name].ratio < 2
    assert not shifts["mmap"].significant
    assert not shifts["openat"].significant
    timing = compare_tables(
        timing_table(dd_runs["normal"]), timing_table(dd_runs["double"]), pseudo_count=0.0
    )
    # Only the call count is deterministic; whether it stays significant after the correction
    # depends on the wall-clock metrics beside it in the family, which follow the machine's load.
    calls = next(shift for shift in timing if shift.name == "calls")
    assert (200.0, "up") == (calls.difference, calls.direction)
    assert pytest.approx(SEPARATED) == calls.p_value


@pytest.mark.strace
def test_real_runs_distances_separate_conditions_not_repeats(dd_runs):
    """JSD of counts and of 3-grams: 2/252 between conditions, large p between repeats."""
    tables = {name: (count_table(runs), ngram_table(runs, 3)) for name, runs in dd_runs.items()}

    for index in (0, 1):
        shifted = distribution_distance(tables["normal"][index], tables["double"][index])
        repeated = distribution_distance(tables["normal"][index], tables["again"][index])
        assert pytest.approx(SEPARATED) == shifted.p_value
        assert shifted.between > repeated.between
        assert repeated.p_value > 0.2
    top = share_differences(tables["normal"][1], tables["double"][1], top=2)
    assert {"read write read", "write read write"} == {difference.name for difference in top}


@pytest.mark.strace
def test_real_repeats_are_identical_and_timing_comparable(dd_runs):
    """The same dd twice: identical counts (a control), no timing shift flagged as significant
    by chance beyond what the correction allows, and sane per-run timing."""
    normal, again = count_table(dd_runs["normal"]), count_table(dd_runs["again"])

    control = equivalence(normal, again)
    timing = timing_table(dd_runs["normal"])

    assert (True, True) == (control.identical, control.equivalent)
    assert [] == [shift.name for shift in compare_tables(normal, again) if shift.significant]
    assert (timing["calls"] > 200).all()
    assert (timing["rate"] > 0).all()
    assert (timing["latency_median"] < timing["latency_p99"]).all()


positive_runs = st.lists(
    st.lists(st.integers(min_value=0, max_value=30), min_size=3, max_size=3).filter(any),
    min_size=2,
    max_size=4,
).map(lambda rows: pd.DataFrame(rows, columns=["a", "b", "c"]))


@settings(max_examples=30, deadline=None)
@given(positive_runs, positive_runs)
def test_distribution_distance_is_symmetric_with_a_probability(baseline, treated):
    """Swapping the conditions keeps every number; divergences in [0, 1], 0 < p <= 1."""
    forward = distribution_distance(baseline, treated)
    backward = distribution_distance(treated, baseline)

    assert pytest.approx(forward.between) == backward.between
    assert pytest.approx(forward.within) == backward.within
    assert pytest.approx(forward.p_value) == backward.p_value
    assert 0 <= forward.within <= 1
    assert 0 <= forward.between <= 1
    assert 0 < forward.p_value <= 1


@pytest.mark.strace
def test_compare_conditions_of_real_runs(dd_runs):
    """One call gives the whole comparison: shifts, both distances, timing, equivalence."""
    shifted = compare_conditions(dd_runs["normal"], dd_runs["double"])
    repeated = compare_conditions(dd_runs["normal"], dd_runs["again"])

    assert tuple(dd_runs["double"]) == shifted.runs
    assert {"read", "write"} <= {shift.name for shift in shifted.shifts if shift.significant}
    assert pytest.approx(SEPARATED) == shifted.distance.p_value
    assert pytest.approx(SEPARATED) == shifted.ngram_distance.p_value
    assert "read write read" in {difference.name for difference in shifted.ngram_differences}
    timing = {shift.name: shift for shift in shifted.timing}
    # slow_calls is left out when no call took 1 ms in any run (0 everywhere is not tested)
    assert set(TIMING_COLUMNS) - {"slow_calls"} <= set(timing) <= set(TIMING_COLUMNS)
    assert pytest.approx(SEPARATED) == timing["calls"].p_value
    assert (False, True) == (shifted.equivalence.equivalent, repeated.equivalence.identical)
    assert [] == [shift.name for shift in repeated.shifts if shift.significant]


def test_compare_conditions_without_calls_in_a_phase():
    """A CPU-bound phase makes no call: no distribution, so no distance, but shifts down."""
    busy = {f"n{i}": pd.DataFrame(trace_frame(["read", "write"] * (10 + i))) for i in range(5)}
    quiet = {f"c{i}": trace_frame([]) for i in range(5)}

    comparison = compare_conditions(busy, quiet)

    assert (None, None, ()) == (
        comparison.distance,
        comparison.ngram_distance,
        comparison.ngram_differences,
    )
    assert {("read", "down"), ("write", "down")} == {
        (shift.name, shift.direction) for shift in comparison.shifts if shift.significant
    }


def trace_frame(names: list[str]) -> pd.DataFrame:
    """An event table in the schema: one pid's calls, 1 ms apart, each taking 10 us."""
    rows = [
        {"line": i + 1, "end_line": i + 1, "pid": 1, "kind": "syscall", "syscall": name}
        | {"time": i * 0.001, "duration": 1e-5, "returned": True}
        for i, name in enumerate(names)
    ]
    return pd.DataFrame.from_records(rows, columns=list(COLUMNS)).astype(DTYPES)

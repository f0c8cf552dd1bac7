"""Detectors on small synthetic traces: unseen behaviour scores higher, the three ways of scoring
(one trace, many, call by call) agree, and models survive a save/load round trip."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from syscall_lab.detect.base import FORMAT_VERSION, Detector, DetectorError
from syscall_lab.detect.cover import SequenceCover
from syscall_lab.detect.ensemble import Ensemble
from syscall_lab.detect.neighbours import FrequencyKnn, NgramKnn
from syscall_lab.detect.ngram import NgramModel
from syscall_lab.detect.registry import DETECTORS, load_detector, make_detector
from syscall_lab.detect.stide import Stide, TStide
from syscall_parse.errors import InputError

# Two "programs" of normal behaviour, repeated with small variations.
NORMAL = [
    ("open", "read", "read", "close", "mmap2", "write", "close", "exit_group"),
    ("open", "read", "close", "mmap2", "write", "write", "close", "exit_group"),
    ("socket", "connect", "send", "recv", "recv", "close", "exit_group"),
    ("socket", "connect", "send", "recv", "close", "exit_group"),
    ("open", "read", "read", "read", "close", "mmap2", "write", "close", "exit_group"),
    ("socket", "connect", "send", "send", "recv", "close", "exit_group"),
]
# Normal prefix, then calls in an order never seen (and one never seen at all).
ANOMALOUS = ("open", "read", "execve", "setuid", "socket", "write", "close", "exit_group")
SEEN = NORMAL[0]


def make_all() -> list[Detector]:
    return [
        Stide(3),
        TStide(3, threshold=0.05),
        FrequencyKnn(1),
        FrequencyKnn(2, k=2),
        NgramKnn(),
        NgramModel(3, discount=None),
        NgramModel(4, discount=0.9),
        SequenceCover(),
        Ensemble([Stide(3), NgramModel(3)], folds=3),
    ]


@pytest.fixture(params=make_all(), ids=repr)
def fitted(request: pytest.FixtureRequest) -> Detector:
    return request.param.fit(NORMAL)


def test_anomalous_trace_scores_higher(fitted: Detector) -> None:
    """A trace with unseen calls and orders scores above a training trace."""
    assert fitted.score(ANOMALOUS) > fitted.score(SEEN)


def test_score_many_matches_score(fitted: Detector) -> None:
    """Scoring a batch gives the scores of one trace at a time."""
    traces = [SEEN, ANOMALOUS, NORMAL[2]]
    expected = [fitted.score(t) for t in traces]
    assert expected == pytest.approx(list(fitted.score_many(traces)), abs=1e-12)


@pytest.mark.parametrize("trace", [SEEN, ANOMALOUS], ids=["seen", "anomalous"])
def test_stream_ends_on_trace_score(fitted: Detector, trace: tuple[str, ...]) -> None:
    """After the last call, the streaming score equals the whole-trace score."""
    scorer = fitted.stream()
    values = [scorer.update(name) for name in trace]
    assert len(trace) == len(values)
    assert fitted.score(trace) == pytest.approx(values[-1], abs=1e-9)


def test_save_load_round_trip(fitted: Detector, tmp_path) -> None:
    """A loaded model has the same type, settings and scores."""
    path = tmp_path / "model.json"
    fitted.save(path)
    loaded = load_detector(path)
    assert type(fitted) is type(loaded)
    assert fitted.params() == loaded.params()
    traces = [SEEN, ANOMALOUS, ("brk",)]
    assert list(fitted.score_many(traces)) == list(loaded.score_many(traces))
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]


def test_stide_scores_share_of_unseen_windows() -> None:
    """STIDE n=2 on a-b-c: in a-b-d-c, windows ab seen, bd and dc unseen => 2/3."""
    stide = Stide(2).fit([("a", "b", "c")])
    assert 2 / 3 == pytest.approx(stide.score(("a", "b", "d", "c")))
    assert 0.0 == stide.score(("a", "b", "c"))
    assert 0.0 == stide.score(("a",))  # no window at all


def test_stide_stream_is_running_share() -> None:
    """The stream gives the mismatch share of the windows completed so far."""
    scorer = Stide(2).fit([("a", "b", "c")]).stream()
    assert [0.0, 0.0, 0.5, 2 / 3] == pytest.approx([scorer.update(c) for c in "abdc"])


def test_tstide_counts_rare_windows_as_mismatches() -> None:
    """A window seen once in 100 is a mismatch for t-STIDE at 5%, not for STIDE."""
    training = [("a", "b")] * 99 + [("c", "d")]
    assert 0.0 == Stide(2).fit(training).score(("c", "d"))
    assert 1.0 == TStide(2, threshold=0.05).fit(training).score(("c", "d"))
    assert 0.0 == TStide(2, threshold=0.05).fit(training).score(("a", "b"))


def test_frequency_knn_is_zero_on_a_training_profile() -> None:
    """A trace with the same syscall proportions as a training trace is at distance 0."""
    knn = FrequencyKnn().fit(NORMAL)
    assert 0.0 == pytest.approx(knn.score(NORMAL[2] + NORMAL[2]), abs=1e-12)
    assert knn.score(("open", "open", "open")) > 0.1


@pytest.mark.parametrize("discount", [None, 0.5, 0.9], ids=["witten-bell", "kn-0.5", "kn-0.9"])
def test_ngram_model_probabilities_sum_to_one(discount: float | None) -> None:
    """Interpolated next-call probabilities form a distribution over the vocabulary + unknown."""
    model = NgramModel(3, discount).fit(NORMAL)
    vocabulary = model.vocabulary
    assert vocabulary is not None
    total = 0.0
    for name in (*vocabulary.names, "never-seen"):
        # Score of a 3-call trace minus that of its 2-call prefix isolates -log p(last call).
        prefix = ("open", "read")
        nll = 3 * model.score((*prefix, name)) - 2 * model.score(prefix)
        total += math.exp(-nll)
    assert 1.0 == pytest.approx(total)


def test_ensemble_calibration_is_out_of_fold() -> None:
    """The ensemble keeps one sorted out-of-fold score per training trace and member."""
    ensemble = Ensemble([Stide(3), NgramModel(3)], folds=3).fit(NORMAL)
    assert ensemble.calibration is not None
    assert [len(NORMAL)] * 2 == [c.size for c in ensemble.calibration]
    assert all(np.all(np.diff(c) >= 0) for c in ensemble.calibration)


@pytest.mark.parametrize("name", sorted(DETECTORS), ids=str)
def test_make_detector_by_name(name: str) -> None:
    assert name == make_detector(name).name


def test_unknown_detector_name() -> None:
    with pytest.raises(DetectorError, match="unknown detector 'lstm'"):
        make_detector("lstm")


def test_scoring_before_fit_is_an_error() -> None:
    with pytest.raises(DetectorError, match="fit"):
        Stide().score(SEEN)


def test_load_rejects_unknown_format_version(tmp_path) -> None:
    """A model file from another format version is refused with a message naming both."""
    path = tmp_path / "model.json"
    Stide(3).fit(NORMAL).save(path)
    data = json.loads(path.read_text())
    data["format_version"] = FORMAT_VERSION + 1
    path.write_text(json.dumps(data))
    with pytest.raises(DetectorError, match=f"format_version {FORMAT_VERSION + 1}"):
        load_detector(path)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Stide(0), "n must be >= 1"),
        (lambda: TStide(3, threshold=1.5), "threshold"),
        (lambda: FrequencyKnn(k=0), "k must be >= 1"),
        (lambda: NgramModel(0), "order n"),
        (lambda: NgramModel(3, discount=1.0), "discount"),
        (lambda: Ensemble(folds=1), "folds"),
    ],
    ids=["stide-n", "tstide-threshold", "knn-k", "ngram-n", "ngram-discount", "ensemble-folds"],
)
def test_bad_settings(make, message: str) -> None:
    with pytest.raises(DetectorError, match=message):
        make()


def test_too_long_windows_are_refused() -> None:
    """Windows must pack into 64 bits: 40 calls over 4 ids do not."""
    with pytest.raises(DetectorError, match="64 bits"):
        Stide(40).fit(NORMAL)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not a detector model file"),
        ("[1, 2]", "not a detector model file"),
        ('{"format_version": 1, "detector": "stide", "params": {"n": 3}}', "malformed"),
    ],
    ids=["not-json", "not-object", "no-state"],
)
def test_load_rejects_a_file_that_is_not_a_model(tmp_path, text: str, message: str) -> None:
    path = tmp_path / "model.json"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        load_detector(path)


@pytest.mark.parametrize(
    ("trace", "segments"),
    [
        (("a", "b", "c"), ["abc"]),
        (("a", "b", "d", "c"), ["ab", "d", "c"]),
        (("b", "c", "a", "b"), ["bc", "ab"]),
        (("c", "b", "a"), ["c", "b", "a"]),
        (("x", "y"), ["x", "y"]),
    ],
    ids=["whole", "unseen-call", "two-pieces", "reversed", "all-unseen"],
)
def test_sequence_cover_counts_pieces_per_call(trace: tuple[str, ...], segments: list[str]) -> None:
    """The score is the number of pieces of a-b-c that make up the trace, over its length."""
    cover = SequenceCover().fit([("a", "b", "c")])
    assert len(segments) / len(trace) == cover.score(trace)


def test_sequence_cover_empty_trace_scores_zero() -> None:
    assert 0.0 == SequenceCover().fit(NORMAL).score(())


def _least_cover(trace: str, training: list[str]) -> int:
    """Brute force: fewest pieces of training strings (or single calls) that make up trace."""
    pieces = {t[i:j] for t in training for i in range(len(t)) for j in range(i + 1, len(t) + 1)}
    best = [0] + [len(trace)] * len(trace)
    for end in range(1, len(trace) + 1):
        for start in range(end):
            if end - start == 1 or trace[start:end] in pieces:
                best[end] = min(best[end], best[start] + 1)
    return best[-1]


@given(
    training=st.lists(st.text("abc", min_size=1, max_size=12), min_size=1, max_size=4),
    trace=st.text("abcd", min_size=1, max_size=16),
)
def test_sequence_cover_greedy_is_a_least_cover(training: list[str], trace: str) -> None:
    """The left-to-right greedy cover uses as few pieces as the brute-force optimum, and its
    automaton accepts exactly the substrings of the training traces."""
    cover = SequenceCover().fit([tuple(t) for t in training])
    assert _least_cover(trace, training) / len(trace) == pytest.approx(cover.score(tuple(trace)))
    assert cover.vocabulary is not None
    assert cover._transitions is not None
    for start in range(len(trace)):
        state: int | None = 0
        for end in range(start + 1, len(trace) + 1):
            state = cover._transitions[state].get(cover.vocabulary.id(trace[end - 1]))
            expected = any(trace[start:end] in t for t in training)
            assert expected == (state is not None)
            if state is None:
                break

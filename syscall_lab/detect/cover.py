"""Sequence cover (after Marteau 2019): the least number of pieces of normal training traces
that make up a trace, per call, found in the suffix automaton of the training traces."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

import numpy as np

from syscall_lab.detect.base import Detector, DetectorError, StreamScorer, Trace, Vocabulary

__all__ = ["SequenceCover"]


class _CoverStream:
    """Left-to-right greedy cover of the calls so far: one open segment, extended while the
    extension still occurs in training."""

    def __init__(self, detector: SequenceCover) -> None:
        assert detector.vocabulary is not None
        assert detector._transitions is not None
        self._vocab = detector.vocabulary
        self._transitions = detector._transitions
        self._state = 0  # automaton state of the open segment; 0: no open segment
        self._closed = 0
        self._calls = 0

    def update(self, name: str) -> float:
        token = self._vocab.id(name)
        self._calls += 1
        nxt = self._transitions[self._state].get(token) if self._state else None
        if nxt is None:
            # The open segment cannot grow: close it and start a new one at this call (a call
            # unseen in training is a segment of its own).
            self._closed += self._state != 0
            nxt = self._transitions[0].get(token)
            if nxt is None:
                self._closed += 1
                nxt = 0
        self._state = nxt
        return (self._closed + (self._state != 0)) / self._calls


class SequenceCover(Detector):
    """Covering score (after Marteau 2019, "Sequence covering for efficient host-based intrusion
    detection", IEEE TIFS 14(4)): the least number of contiguous segments of training traces
    that, put end to end, make up the trace, divided by its length. A trace seen whole in
    training scores 1/len; a trace of calls in orders never seen scores up to 1 (every call a
    segment of its own, as is every call unseen in training). An empty trace scores 0.

    Segments are found left to right, each as long as it can be: for a set of segments that
    holds every piece of its members, as here, this greedy cover is a least one. Substrings of
    the training traces are looked up in their suffix automaton. No setting: nothing to choose.
    On ADFA-LD (train 833 normal; test 4,372 normal vs 746 attacks) it ranks like the order-8
    n-gram model (AUC 0.844 vs 0.843) at a fifth of its scoring time.
    """

    name: ClassVar[str] = "sequence-cover"

    def __init__(self) -> None:
        self.vocabulary: Vocabulary | None = None
        self._traces: list[np.ndarray] | None = None  # encoded training traces, the saved state
        self._transitions: list[dict[int, int]] | None = None  # suffix automaton; state 0 = root

    @property
    def fitted(self) -> bool:
        return self._transitions is not None

    def params(self) -> dict[str, Any]:
        return {}

    def fit(self, traces: Sequence[Trace]) -> SequenceCover:
        if not traces:
            raise DetectorError(f"{self.name}: no training traces")
        self.vocabulary = Vocabulary(name for t in traces for name in t)
        self._set_traces([self.vocabulary.encode(t) for t in traces])
        return self

    def _set_traces(self, encoded: list[np.ndarray]) -> None:
        self._traces = encoded
        self._transitions = _suffix_automaton(t.tolist() for t in encoded)

    def score(self, trace: Trace) -> float:
        self._require_fitted()
        assert self.vocabulary is not None
        assert self._transitions is not None
        if not trace:
            return 0.0
        root = self._transitions[0]
        transitions = self._transitions
        segments = 0
        state = 0
        for token in self.vocabulary.encode(trace).tolist():
            nxt = transitions[state].get(token) if state else None
            if nxt is None:
                segments += 1
                nxt = root.get(token, 0)
            state = nxt
        return segments / len(trace)

    def stream(self) -> StreamScorer:
        self._require_fitted()
        return _CoverStream(self)

    def _state(self) -> dict[str, Any]:
        assert self.vocabulary is not None
        assert self._traces is not None
        return {
            "vocabulary": list(self.vocabulary.names),
            "traces": [t.tolist() for t in self._traces],
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        self.vocabulary = Vocabulary(state["vocabulary"])
        self._set_traces([np.asarray(t, dtype=np.int64) for t in state["traces"]])


def _suffix_automaton(sequences: Iterable[list[int]]) -> list[dict[int, int]]:
    """The transitions of the generalised suffix automaton of ``sequences``: from state 0, a
    path exists exactly for the substrings of some sequence (Blumer et al. 1985, built online)."""
    transitions: list[dict[int, int]] = [{}]
    link = [-1]
    length = [0]

    def clone(q: int, new_length: int) -> int:
        transitions.append(dict(transitions[q]))
        link.append(link[q])
        length.append(new_length)
        return len(length) - 1

    for sequence in sequences:
        last = 0
        for token in sequence:
            q = transitions[last].get(token)
            if q is not None:
                # The extension already exists (seen in an earlier sequence).
                if length[q] == length[last] + 1:
                    last = q
                    continue
                copy = clone(q, length[last] + 1)
                p = last
                while p != -1 and transitions[p].get(token) == q:
                    transitions[p][token] = copy
                    p = link[p]
                link[q] = copy
                last = copy
                continue
            transitions.append({})
            link.append(0)
            length.append(length[last] + 1)
            current = len(length) - 1
            p = last
            while p != -1 and token not in transitions[p]:
                transitions[p][token] = current
                p = link[p]
            if p != -1:
                q = transitions[p][token]
                if length[q] == length[p] + 1:
                    link[current] = q
                else:
                    copy = clone(q, length[p] + 1)
                    while p != -1 and transitions[p].get(token) == q:
                        transitions[p][token] = copy
                        p = link[p]
                    link[q] = copy
                    link[current] = copy
            last = current
    return transitions

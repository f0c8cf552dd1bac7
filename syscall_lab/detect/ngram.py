"""The n-gram language model of syscalls: mean negative log-likelihood per call under an
interpolated Kneser-Ney (or Witten-Bell) model of normal training traces."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from syscall_lab.detect.base import (
    Detector,
    DetectorError,
    StreamScorer,
    Trace,
    Vocabulary,
    check_packable,
    packed_windows,
)

__all__ = ["NgramModel"]

ArrayOrFloat = np.ndarray | float


class _NgramStream:
    def __init__(self, model: NgramModel) -> None:
        self._model = model
        self._tables = model._dict_tables()
        assert model.vocabulary is not None
        self._base = model.vocabulary.size + 1
        self._history: deque[int] = deque([model._bos] * (model.n - 1), maxlen=model.n - 1)
        self._total = 0.0
        self._calls = 0

    def update(self, name: str) -> float:
        assert self._model.vocabulary is not None
        token = self._model.vocabulary.id(name)
        history = list(self._history)
        p = self._model._unigram[token]
        for order, (ngrams, contexts) in enumerate(self._tables, start=1):
            context = 0
            for i in history[len(history) - order :]:
                context = context * self._base + i
            seen, types = contexts.get(context, (0, 0))
            if seen:
                count = ngrams.get(context * self._base + token, 0)
                p = float(self._model._interpolate(count, seen, types, p))
        self._history.append(token)
        self._total -= math.log(p)
        self._calls += 1
        return self._total / self._calls


class NgramModel(Detector):
    """An order-``n`` syscall language model, interpolated down to an add-one unigram; the score
    is the mean negative log-likelihood per call (nats). Contexts at the start of a trace are
    padded with a begin-of-trace symbol.

    Smoothing is interpolated Kneser-Ney with absolute ``discount`` D, or Witten-Bell when
    ``discount`` is None. The defaults (n=8, D=0.9) had the lowest held-out negative
    log-likelihood in 5-fold cross-validation on ADFA-LD's normal training traces, among orders
    3-8 and D in {Witten-Bell, 0.5, 0.75, 0.9, 0.95, 0.99}: 1.029 nats per call against 1.272 for
    Witten-Bell at its best order (5). No attack trace was used. Order 8 is also the longest that
    packs into 64 bits over ADFA-LD's 175 syscalls.
    """

    name: ClassVar[str] = "ngram-lm"

    def __init__(self, n: int = 8, discount: float | None = 0.9) -> None:
        if n < 1:
            raise DetectorError(f"{self.name}: order n must be >= 1, got {n}")
        if discount is not None and not 0 < discount < 1:
            raise DetectorError(f"{self.name}: discount must be in (0, 1), got {discount}")
        self.n = n
        self.discount = discount
        self.vocabulary: Vocabulary | None = None
        self._unigram: np.ndarray | None = None
        # Per context length 1..n-1: sorted packed n-grams and counts; sorted contexts with
        # their count and number of distinct followers.
        self._orders: list[dict[str, np.ndarray]] | None = None

    @property
    def fitted(self) -> bool:
        return self._orders is not None

    @property
    def _bos(self) -> int:
        assert self.vocabulary is not None
        return self.vocabulary.size

    def params(self) -> dict[str, Any]:
        return {"n": self.n, "discount": self.discount}

    def _padded(self, trace: Trace) -> np.ndarray:
        assert self.vocabulary is not None
        pad = np.full(self.n - 1, self._bos, dtype=np.int64)
        return np.concatenate([pad, self.vocabulary.encode(trace)])

    def fit(self, traces: Sequence[Trace]) -> NgramModel:
        if not traces:
            raise DetectorError(f"{self.name}: no training traces")
        self.vocabulary = Vocabulary(name for t in traces for name in t)
        base = self.vocabulary.size + 1
        check_packable(base, self.n)
        padded = [self._padded(t) for t in traces]
        tokens = np.concatenate([p[self.n - 1 :] for p in padded])
        self._unigram = (np.bincount(tokens, minlength=self.vocabulary.size) + 1.0) / (
            tokens.size + self.vocabulary.size
        )
        orders = []
        for order in range(1, self.n):
            start = self.n - 1 - order  # windows ending on a real token
            grams = np.concatenate([packed_windows(p[start:], order + 1, base) for p in padded])
            ngrams, counts = np.unique(grams, return_counts=True)
            if self.discount is not None and order < self.n - 1:
                # Kneser-Ney: a lower order counts the distinct calls that precede an n-gram
                # (its continuations), not its occurrences.
                longer = np.unique(
                    np.concatenate(
                        [packed_windows(p[start - 1 :], order + 2, base) for p in padded]
                    )
                )
                ngrams, counts = np.unique(longer % base ** (order + 1), return_counts=True)
            owners, followers = np.unique(ngrams // base, return_counts=True)
            context_counts = np.bincount(
                np.searchsorted(owners, ngrams // base), weights=counts
            ).astype(np.int64)
            orders.append(
                {
                    "ngrams": ngrams,
                    "counts": counts,
                    "contexts": owners,
                    "context_counts": context_counts,
                    "followers": followers,
                }
            )
        self._orders = orders
        return self

    def _token_probabilities(self, padded: np.ndarray) -> np.ndarray:
        assert self._unigram is not None
        assert self._orders is not None
        assert self.vocabulary is not None
        base = self.vocabulary.size + 1
        tokens = padded[self.n - 1 :]
        p = self._unigram[tokens]
        for order, table in enumerate(self._orders, start=1):
            start = self.n - 1 - order
            grams = packed_windows(padded[start:], order + 1, base)
            contexts = grams // base
            at = np.searchsorted(table["contexts"], contexts).clip(max=table["contexts"].size - 1)
            known = table["contexts"][at] == contexts
            seen = np.where(known, table["context_counts"][at], 0)
            types = np.where(known, table["followers"][at], 0)
            at_gram = np.searchsorted(table["ngrams"], grams).clip(max=table["ngrams"].size - 1)
            count = np.where(table["ngrams"][at_gram] == grams, table["counts"][at_gram], 0)
            p = np.where(seen > 0, self._interpolate(count, seen, types, p), p)
        return p

    def _interpolate(
        self, count: ArrayOrFloat, seen: ArrayOrFloat, types: ArrayOrFloat, lower: ArrayOrFloat
    ) -> ArrayOrFloat:
        """P(call | context) from the context's counts and the lower-order probability.

        Witten-Bell: (c(h,w) + T(h) P') / (c(h) + T(h)); Kneser-Ney with discount D:
        (max(c(h,w) - D, 0) + D T(h) P') / c(h). Works on floats and on arrays (``seen`` > 0).
        """
        if self.discount is None:
            return (count + types * lower) / np.maximum(seen + types, 1)
        d = self.discount
        return (np.maximum(count - d, 0) + d * types * lower) / np.maximum(seen, 1)

    def score(self, trace: Trace) -> float:
        self._require_fitted()
        if not trace:
            return 0.0
        return float(-np.log(self._token_probabilities(self._padded(trace))).mean())

    def _dict_tables(self) -> list[tuple[dict[int, int], dict[int, tuple[int, int]]]]:
        self._require_fitted()
        assert self._orders is not None
        return [
            (
                dict(zip(t["ngrams"].tolist(), t["counts"].tolist(), strict=True)),
                {
                    c: (s, f)
                    for c, s, f in zip(
                        t["contexts"].tolist(),
                        t["context_counts"].tolist(),
                        t["followers"].tolist(),
                        strict=True,
                    )
                },
            )
            for t in self._orders
        ]

    def stream(self) -> StreamScorer:
        return _NgramStream(self)

    def _state(self) -> dict[str, Any]:
        assert self.vocabulary is not None
        assert self._unigram is not None
        assert self._orders is not None
        return {
            "vocabulary": list(self.vocabulary.names),
            "unigram": self._unigram.tolist(),
            "orders": [{k: v.tolist() for k, v in t.items()} for t in self._orders],
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        self.vocabulary = Vocabulary(state["vocabulary"])
        self._unigram = np.asarray(state["unigram"], dtype=np.float64)
        self._orders = [
            {k: np.asarray(v, dtype=np.int64) for k, v in t.items()} for t in state["orders"]
        ]

"""The baseline: a detector fitted on normal traces' windows, and the alarm threshold set from
the baseline's own window scores for a false-alarm budget.

The threshold rule. Every baseline window is scored by a detector that did not see it: with
two or more traces, leave one trace out (fit on the others' windows, score its windows); with
one trace, its two halves score each other. These held-out scores are what a new normal run
scores. Of m held-out windows, the budget allows k = floor(budget * m) above the threshold,
so the threshold is the (k + 1)-th highest held-out score: their ``(1 - budget)`` quantile,
taken as an observed score. With fewer held-out windows than ``1 / budget`` (1,000 at the
default), k is 0 and the threshold is their maximum: no held-out window passes it. A window
alerts when its score is strictly above the threshold. The detector kept is then fitted on
every baseline window.

Baseline windows start every ``size // 4`` calls (they overlap), so whatever the offset of a
live window in the program's cycle, the baseline holds windows near it; the held-out windows
start half a stride off them, the offset a live window resembles least, so the held-out scores
are not flattered by windows that match a training window call for call.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from syscall_lab.capture.metadata import logs_in
from syscall_lab.detect.base import Detector, DetectorError
from syscall_lab.detect.registry import detector_from_dict, make_detector
from syscall_lab.watch.windows import window_slices
from syscall_parse.atomic import write_text
from syscall_parse.errors import InputError

__all__ = [
    "DEFAULT_BUDGET",
    "DEFAULT_DETECTOR",
    "DEFAULT_WINDOW",
    "FORMAT_VERSION",
    "WatchModel",
    "fit_baseline",
    "held_out_scores",
    "load_watch_model",
    "read_baseline",
    "threshold_for",
]

FORMAT_VERSION = 1
DEFAULT_BUDGET = 1 / 1000
DEFAULT_DETECTOR = "frequency-knn"
DEFAULT_WINDOW = 100
OVERLAP = 4  # baseline windows per window length


@dataclass(frozen=True, slots=True)
class WatchModel:
    """What watch scores against: the fitted detector, the window size it was fitted for, the
    threshold and the budget it came from, the number of held-out windows behind it, and every
    syscall the baseline made (a window's ``new_syscalls`` are those outside it)."""

    detector: Detector
    window: int
    budget: float
    threshold: float
    held_out: int
    syscalls: frozenset[str]

    def to_dict(self) -> dict[str, Any]:
        """The model as JSON-ready data with ``format_version``."""
        return {
            "format_version": FORMAT_VERSION,
            "kind": "watch",
            "window": self.window,
            "budget": self.budget,
            "threshold": self.threshold,
            "held_out": self.held_out,
            "syscalls": sorted(self.syscalls),
            "detector": self.detector.to_dict(),
        }

    def save(self, path: Path | str) -> Path:
        """Write the model as JSON to ``path``, atomically."""
        return write_text(path, json.dumps(self.to_dict(), separators=(",", ":")))


def load_watch_model(path: Path | str) -> WatchModel:
    """A model written by :meth:`WatchModel.save`; InputError for any other file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a watch model file: {exc}") from None
    if not isinstance(data, dict) or data.get("kind") != "watch":
        raise InputError(f"{path}: not a watch model file (write one with `syscall-lab fit`)")
    if data.get("format_version") != FORMAT_VERSION:
        raise InputError(
            f"{path}: unsupported watch model format_version {data.get('format_version')!r} "
            f"(this version reads {FORMAT_VERSION})"
        )
    try:
        model = WatchModel(
            detector=detector_from_dict(data["detector"], str(path)),
            window=int(data["window"]),
            budget=float(data["budget"]),
            threshold=float(data["threshold"]),
            held_out=int(data["held_out"]),
            syscalls=frozenset(data["syscalls"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{path}: malformed watch model ({type(exc).__name__}: {exc})") from None
    if model.window < 2 or model.held_out < 1 or not 0 < model.budget < 1:
        raise InputError(
            f"{path}: malformed watch model (window {model.window}, held_out {model.held_out}, "
            f"budget {model.budget})"
        )
    return model


def read_baseline(source: Path | str) -> list[str]:
    """The call names of one normal trace: a log file (strace's, or the eBPF observer's events
    log), or a capture run folder (the logs its metadata names). InputError for a folder that
    is not a run folder, or a trace without calls."""
    from syscall_parse.table import read_trace  # pandas: not while the command line is built

    path = Path(source)
    logs: Sequence[Path] = logs_in(path) if path.is_dir() else [path]
    events = read_trace(logs[0] if len(logs) == 1 else list(logs))
    names = events.loc[events["kind"] == "syscall", "syscall"].astype(str).tolist()
    if not names:
        raise InputError(f"{path}: no system call in it (not a strace log?)")
    return names


def _fitted(detector: str, traces: Sequence[Sequence[str]], size: int) -> Detector:
    windows = [w for names in traces for w in window_slices(names, size, max(1, size // OVERLAP))]
    return make_detector(detector).fit(windows)


def held_out_scores(detector: str, traces: Sequence[Sequence[str]], size: int) -> np.ndarray:
    """Each baseline window's score by a detector fitted without it (leave one trace out; one
    trace: its halves score each other)."""
    if len(traces) == 1:
        (names,) = traces
        half = len(names) // 2
        traces = [names[:half], names[half:]]
    stride = max(1, size // OVERLAP)
    scores = []
    for index, names in enumerate(traces):
        # Half a stride off the training windows: the offset a live window least resembles.
        windows = window_slices(names[stride // 2 :], size, stride)
        others = [trace for other, trace in enumerate(traces) if other != index]
        if windows and any(len(trace) >= size for trace in others):
            scores.append(_fitted(detector, others, size).score_many(windows))
    return np.concatenate([*scores, np.empty(0)])


def _check_budget(budget: float) -> None:
    if not 0 < budget < 1:
        raise DetectorError(f"the false-alarm budget is a share in (0, 1), got {budget}")


def threshold_for(scores: np.ndarray, budget: float) -> float:
    """The alarm threshold for held-out ``scores`` and a false-alarm ``budget`` (a share of
    windows): the (k + 1)-th highest score, k = floor(budget * len(scores)), so at most k
    windows score above it (their maximum when there are fewer than 1 / budget)."""
    _check_budget(budget)
    if scores.size == 0:
        raise DetectorError("no held-out baseline window to set the threshold from")
    allowed = math.floor(budget * scores.size)
    return float(np.sort(scores)[scores.size - allowed - 1])


def fit_baseline(
    sources: Sequence[Path | str],
    *,
    detector: str = DEFAULT_DETECTOR,
    window: int = DEFAULT_WINDOW,
    budget: float = DEFAULT_BUDGET,
) -> WatchModel:
    """Fit ``detector`` on the windows of the normal traces ``sources`` (logs or run folders)
    and set its threshold for ``budget`` by the rule of this module."""
    if window < 2:
        raise DetectorError(f"a window holds at least 2 calls, got {window}")
    _check_budget(budget)
    make_detector(detector)  # an unknown name and a bad budget fail before any log is read
    traces = [read_baseline(source) for source in sources]
    longest = max(len(names) for names in traces)
    if longest < 2 * window:
        raise DetectorError(
            f"the baseline is too short for windows of {window} calls: its longest trace has "
            f"{longest} calls, and the threshold needs at least two windows' worth"
        )
    scores = held_out_scores(detector, traces, window)
    return WatchModel(
        detector=_fitted(detector, traces, window),
        window=window,
        budget=budget,
        threshold=threshold_for(scores, budget),
        held_out=int(scores.size),
        syscalls=frozenset(name for names in traces for name in names),
    )

"""The same experiment under two observers: does each finding hold under both?

strace stops the traced program twice per call, the eBPF observer does not (see
``docs/ebpf.md``). With both observers (``ExperimentSettings.observers``) every condition was
captured under each in the same rounds, and each observer's runs are analysed on their own
(conditions compared within one observer, never across). :func:`compare_observers` then sets
the two analyses side by side: each condition's median counts (the counts test: the same calls
should be seen by both), and each shift a comparison tested, count or timing, as each observer
measured it. A count shift should hold under both; a timing shift under strace is a shift of
the program *and* its observer, and holds for the program only if the quieter observer sees it
too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from syscall_lab.analyse.stats import Shift

if TYPE_CHECKING:
    from syscall_lab.experiment.analysis import ExperimentAnalysis
    from syscall_lab.experiment.dataset import ExperimentData

__all__ = ["VERDICTS", "Agreement", "CountMatch", "ObserverComparison", "compare_observers"]

VERDICTS: dict[str, str] = {
    "both": "significant the same way under both observers",
    "first only": "significant under the first observer (strace) alone",
    "second only": "significant under the second observer (eBPF) alone",
    "opposite": "significant under both, in opposite directions",
    "neither": "significant under neither",
    "untested": "not tested under one of them (no such column, or no values)",
}
"""What an :class:`Agreement` can say."""


@dataclass(frozen=True, slots=True)
class Agreement:
    """One shift of one comparison (``baseline`` -> ``condition``), a syscall's count
    (``kind="count"``), a timing metric (``"timing"``) or a measure of the phase between the
    markers (``"phase"``: rate, longest gap), as each observer measured it (None where that
    observer's comparison lacks the column)."""

    baseline: str
    condition: str
    kind: str
    name: str
    first: Shift | None
    second: Shift | None

    @property
    def verdict(self) -> str:
        """One of :data:`VERDICTS`."""
        if self.first is None or self.second is None:
            return "untested"
        first, second = self.first.significant, self.second.significant
        if first and second:
            return "both" if self.first.direction == self.second.direction else "opposite"
        if first or second:
            return "first only" if first else "second only"
        return "neither"


@dataclass(frozen=True, slots=True)
class CountMatch:
    """A condition's median count per syscall under each observer: ``equal`` when every
    syscall's median is the same; ``differences`` lists (syscall, first's, second's) where not."""

    condition: str
    equal: bool
    differences: tuple[tuple[str, float, float], ...]


@dataclass(frozen=True, slots=True, eq=False)
class ObserverComparison:
    """Two observers' analyses of one experiment side by side.

    ``observers`` names them (strace first); ``second`` is the second observer's analysis (the
    first's is the :class:`~syscall_lab.experiment.analysis.ExperimentAnalysis` that holds this
    record); ``whole`` the experiment's every run. ``counts`` holds a :class:`CountMatch` per
    condition both captured, ``agreements`` an :class:`Agreement` per shift either tested, in
    the order of the first analysis' comparisons.
    """

    observers: tuple[str, str]
    second: ExperimentAnalysis
    whole: ExperimentData
    counts: tuple[CountMatch, ...]
    agreements: tuple[Agreement, ...]

    def of_pair(self, baseline: str, condition: str, kind: str) -> tuple[Agreement, ...]:
        """The agreements of one comparison and kind."""
        return tuple(
            a
            for a in self.agreements
            if (a.baseline, a.condition, a.kind) == (baseline, condition, kind)
        )


def _count_match(
    condition: str, first: Mapping[str, float], second: Mapping[str, float]
) -> CountMatch:
    names = sorted(set(first) | set(second))
    differences = tuple(
        (name, float(first.get(name, 0.0)), float(second.get(name, 0.0)))
        for name in names
        if first.get(name, 0.0) != second.get(name, 0.0)
    )
    return CountMatch(condition, not differences, differences)


def _agreements(
    baseline: str, condition: str, kind: str, first: tuple[Shift, ...], second: tuple[Shift, ...]
) -> list[Agreement]:
    by_name = {shift.name: shift for shift in second}
    firsts = {shift.name: shift for shift in first}
    names = [*firsts, *(name for name in by_name if name not in firsts)]
    return [
        Agreement(baseline, condition, kind, name, firsts.get(name), by_name.get(name))
        for name in names
    ]


def compare_observers(
    first: ExperimentAnalysis,
    second: ExperimentAnalysis,
    observers: tuple[str, str],
    whole: ExperimentData,
) -> ObserverComparison:
    """``first`` and ``second`` (the analyses of each observer's runs of ``whole``) side by
    side; pure."""
    counts = tuple(
        _count_match(
            condition,
            first.summaries[condition].count_medians.to_dict(),
            second.summaries[condition].count_medians.to_dict(),
        )
        for condition in first.summaries
        if condition in second.summaries
    )
    agreements: list[Agreement] = []
    for (baseline, condition), comparison in first.comparisons.items():
        other = second.comparisons.get((baseline, condition))
        if other is None:
            continue
        agreements += _agreements(baseline, condition, "count", comparison.shifts, other.shifts)
        agreements += _agreements(baseline, condition, "timing", comparison.timing, other.timing)
        agreements += _agreements(
            baseline, condition, "phase",
            first.phase_shifts.get((baseline, condition), ()),
            second.phase_shifts.get((baseline, condition), ()),
        )  # fmt: skip
    return ObserverComparison(observers, second, whole, counts, tuple(agreements))

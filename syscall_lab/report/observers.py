"""The report's section on the two observers: which shifts hold under both.

Present only when the experiment was captured under strace and the eBPF observer
(:class:`~syscall_lab.experiment.observers.ObserverComparison`): the counts test (each
condition's median counts under both), then every count, timing and phase shift significant
under either observer, with each observer's factor and p-value and the verdict. The overhead
tables per observer are in the "Observer overhead" section.
"""

from __future__ import annotations

from syscall_lab.analyse.stats import Shift
from syscall_lab.experiment.analysis import ExperimentAnalysis
from syscall_lab.experiment.observers import VERDICTS, Agreement
from syscall_lab.experiment.sentences import OBSERVER_NAMES, STATED_TIMING
from syscall_lab.formatting import MISSING, p_value, ratio
from syscall_lab.report.markup import collapsed, plural, table, versus

__all__ = ["observers_section"]

_SHOWN = {"both": "holds", "first only": "strace only", "second only": "eBPF only",
          "opposite": "opposite"}  # fmt: skip


def _side(shift: Shift | None) -> str:
    if shift is None:
        return MISSING
    mark = " *" if shift.significant else ""
    return f"{ratio(shift.ratio)} (p_adj {p_value(shift.p_adjusted)}){mark}"


def _stated(agreement: Agreement) -> bool:
    return agreement.kind != "timing" or agreement.name in STATED_TIMING


def observers_section(analysis: ExperimentAnalysis) -> list[str]:
    """The section, or nothing for an experiment under one observer."""
    both = analysis.observers
    if both is None:
        return []
    first, second = (OBSERVER_NAMES.get(name, name) for name in both.observers)
    counts = [
        [match.condition, "yes" if match.equal else "no",
         ", ".join(f"{name} {a:g} vs {b:g}" for name, a, b in match.differences) or MISSING]
        for match in both.counts
    ]  # fmt: skip
    rows = [
        [versus(a.baseline, a.condition), a.kind, a.name, _side(a.first), _side(a.second),
         _SHOWN[a.verdict]]
        for a in both.agreements
        if a.verdict in _SHOWN and _stated(a)
    ]  # fmt: skip
    headers = ["comparison", "kind", "column", first, second, "verdict"]
    legend = "; ".join(f"{_SHOWN[key]}: {VERDICTS[key]}" for key in _SHOWN)
    return [
        "## Under both observers",
        "",
        f"Every condition was captured under {first} and under {second} (its events mode), "
        "interleaved in the same rounds, and each observer's runs were analysed alone. The "
        f"counts test: each syscall's median count per condition under {first} against "
        f"{second} (the same calls should be seen by both).",
        "",
        table(counts, ["condition", "equal", f"differences ({first} vs {second})"]),
        "",
        "Each shift significant under either observer (counts, the stated timing metrics, "
        f"the phase's rate and gaps): its factor under each (* significant), and the verdict "
        f"({legend}). A timing shift that holds under strace alone is strace's own slowdown "
        "as much as the program's.",
        "",
        *collapsed(plural(len(rows), "shift"), [table(rows, headers)]),
    ]

"""Numbers as the report and its findings write them: one formatter per kind of number.

Tables and sentences write three kinds differently, and both stand in one report: a ratio
takes a multiplication sign and 3 significant digits in a table cell (:func:`ratio`), a Latin x
and whole numbers from 10 up in a sentence (:func:`factor`: ``x12``); a share takes a decimal in
a table (``22.2%``) and none in a sentence (:func:`percent`'s ``digits``); an effect size has
its sign in a table (:func:`signed`) and only when negative in a sentence (:func:`effect`). A
missing value is an em dash. A timing metric is stored in seconds and written in the unit that
keeps it readable (:data:`TIMING_METRICS`, :func:`timing`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "MISSING",
    "TIMING_METRICS",
    "Metric",
    "divergence",
    "effect",
    "factor",
    "interval",
    "number",
    "p_value",
    "percent",
    "ratio",
    "seconds",
    "signed",
    "timing",
]

MISSING = "—"


@dataclass(frozen=True, slots=True)
class Metric:
    """How a timing metric is written: ``words`` in a sentence ("median latency"), ``label`` as
    a table header ("latency median (µs)"), and its stored value times ``scale`` in ``unit``."""

    words: str
    label: str
    scale: float = 1.0
    unit: str = ""


TIMING_METRICS: dict[str, Metric] = {
    "calls": Metric("calls", "calls", unit=" calls"),
    "phase_duration": Metric("phase", "phase (s)", unit=" s"),
    "rate": Metric("call rate", "rate (calls/s)", unit=" calls/s"),
    "latency_median": Metric("median latency", "latency median (µs)", 1e6, " µs"),
    "latency_p99": Metric("p99 latency", "latency p99 (µs)", 1e6, " µs"),
    "slow_calls": Metric("calls over 1 ms", "calls > 1 ms"),
    "gap_median": Metric("median gap", "gap median (µs)", 1e6, " µs"),
    "gap_p99": Metric("p99 gap", "gap p99 (µs)", 1e6, " µs"),
    "gap_max": Metric("longest gap", "gap max (ms)", 1e3, " ms"),
}
"""The timing metrics of ``syscall_lab.analyse.tables.TIMING_COLUMNS``, as they are written."""


def number(value: float | None, digits: int = 3) -> str:
    """``12``, ``12.5``, ``0.00123``, ``17,544``, ``∞``; an em dash for a missing value."""
    if value is None or math.isnan(value):
        return MISSING
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.{digits}g}"


def p_value(value: float) -> str:
    """``0.008`` (3 decimals), ``2.0e-05`` below 0.001; an em dash for NaN."""
    if math.isnan(value):
        return MISSING
    return f"{value:.1e}" if value < 1e-3 else f"{value:.3f}"


def ratio(value: float) -> str:
    """A ratio in a table cell: a multiplication sign, then 3 significant digits or an
    infinity sign; an em dash for NaN."""
    if math.isnan(value):
        return MISSING
    return "×∞" if math.isinf(value) else f"×{value:.3g}"


def factor(value: float, decimals: int | None = None) -> str:
    """A ratio in a sentence: ``x0.444``, ``x12`` (whole numbers from 10 up), or ``x2.41`` with
    a fixed number of ``decimals``; ``x∞`` from none."""
    if math.isinf(value):
        return "x∞"
    if decimals is not None:
        return f"x{value:.{decimals}f}"
    return f"x{value:.0f}" if value >= 10 else f"x{value:.3g}"


def percent(value: float, digits: int = 1) -> str:
    """A share of 1 as a percentage: ``22.2%`` (``digits`` decimals)."""
    return f"{value:.{digits}%}"


def signed(value: float) -> str:
    """A difference or an effect with its sign: ``+0.50``, ``-1.00``."""
    return f"{value:+.2f}"


def effect(value: float) -> str:
    """An effect size in a sentence: ``0.50``, ``-1.00`` (a table writes it :func:`signed`)."""
    return f"{value:.2f}"


def seconds(value: float) -> str:
    """Wall time in a sentence: ``0.17 s``."""
    return f"{value:.2f} s"


def divergence(value: float) -> str:
    """A Jensen-Shannon divergence: 4 decimals, or 2 significant digits below 0.0001 (a tiny
    within-divergence matters: it is the denominator of the ratio)."""
    return f"{value:.4f}" if value == 0 or value >= 1e-4 else f"{value:.1e}"


def interval(bounds: tuple[float, float], value: Callable[[float], str] = number) -> str:
    """``[low, high]``, each end written by ``value``."""
    low, high = bounds
    return f"[{value(low)}, {value(high)}]"


def timing(metric: str, value: float, unit: bool = True) -> str:
    """A timing metric's value in its unit: ``40 µs``, ``7,982 calls/s`` (``unit`` False: the
    number alone, for a table whose header names the unit)."""
    spec = TIMING_METRICS.get(metric, Metric(metric, metric))
    text = number(value * spec.scale)
    return text + spec.unit if unit and text != MISSING else text

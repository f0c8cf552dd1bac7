"""Numbers as the report and its findings write them: one formatter per kind of number.

Tables and sentences write three kinds differently, and both stand in one report: a ratio
takes a multiplication sign and 3 significant digits in a table cell (:func:`ratio`), a Latin x
and whole numbers from 10 up in a sentence (:func:`factor`: ``x12``); a share takes a decimal in
a table (``22.2%``) and none in a sentence (:func:`percent`'s ``digits``); an effect size has
its sign in a table (:func:`signed`) and only when negative in a sentence (:func:`effect`). A
missing value is an em dash.
"""

from __future__ import annotations

import math
from collections.abc import Callable

__all__ = [
    "MISSING",
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
]

MISSING = "—"


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
    a fixed number of ``decimals``."""
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

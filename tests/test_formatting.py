"""Tests of the number formatters the report and the findings share."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from syscall_lab.formatting import (
    divergence,
    effect,
    factor,
    interval,
    number,
    p_value,
    percent,
    ratio,
    seconds,
    signed,
)

INF, NAN = math.inf, math.nan


@pytest.mark.parametrize(
    ("formatter", "value", "expected"),
    [
        pytest.param(number, 12.0, "12", id="number-whole"),
        pytest.param(number, 12.5, "12.5", id="number-3-digits"),
        pytest.param(number, 0.001234, "0.00123", id="number-small"),
        pytest.param(number, 17544.4, "17,544", id="number-thousands"),
        pytest.param(number, -INF, "−∞", id="number-minus-infinity"),
        pytest.param(number, None, "—", id="number-missing"),
        pytest.param(p_value, 0.0079, "0.008", id="p-3-decimals"),
        pytest.param(p_value, 2e-5, "2.0e-05", id="p-small"),
        pytest.param(p_value, NAN, "—", id="p-missing"),
        pytest.param(ratio, 12.5, "×12.5", id="ratio-table"),
        pytest.param(ratio, INF, "×∞", id="ratio-infinite"),
        pytest.param(ratio, NAN, "—", id="ratio-missing"),
        pytest.param(factor, 12.5, "x12", id="factor-whole-from-10"),
        pytest.param(factor, 0.4444, "x0.444", id="factor-3-digits"),
        pytest.param(factor, INF, "x∞", id="factor-from-none"),
        pytest.param(lambda value: factor(value, 2), 2.4137, "x2.41", id="factor-decimals"),
        pytest.param(percent, 0.22222, "22.2%", id="percent-table"),
        pytest.param(lambda value: percent(value, 0), 0.22222, "22%", id="percent-sentence"),
        pytest.param(signed, 0.5, "+0.50", id="signed"),
        pytest.param(effect, 0.5, "0.50", id="effect-sentence"),
        pytest.param(effect, -1.0, "-1.00", id="effect-negative"),
        pytest.param(seconds, 0.1666, "0.17 s", id="seconds"),
        pytest.param(divergence, 0.0, "0.0000", id="divergence-zero"),
        pytest.param(divergence, 0.01234, "0.0123", id="divergence"),
        pytest.param(divergence, 2.5e-6, "2.5e-06", id="divergence-tiny"),
    ],
)
def test_formatters(formatter: Callable[[float], str], value: float, expected: str) -> None:
    """Each kind of number as the report writes it; ratios and shares have a table and a
    sentence form."""
    assert expected == formatter(value)


def test_interval_writes_both_ends_with_the_formatter() -> None:
    """An interval is its two ends, each written by the given formatter."""
    assert "[0.078, 0.284]" == interval((0.078, 0.284))
    assert "[-11.0%, 11.0%]" == interval((-0.11, 0.11), percent)

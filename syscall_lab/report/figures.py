"""The report's figures as PNG files: signatures, call distributions, log-ratio heatmap, latencies.

Figures are drawn on matplotlib's Agg canvas directly (no ``pyplot``: no global figure state,
no GUI backend picked from the environment) and written atomically (temporary file in the same
folder, then ``os.replace``), so a reader never sees half a PNG. Each ``plot_*`` function takes
tables already computed and returns the path it wrote; :func:`write_figures` draws every figure
an :class:`~syscall_lab.experiment.analysis.ExperimentAnalysis` supports.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from syscall_lab.analyse.stats import Comparison
from syscall_parse.atomic import atomic_path

if TYPE_CHECKING:
    from syscall_lab.experiment.analysis import ExperimentAnalysis

__all__ = [
    "FIGURES",
    "plot_latencies",
    "plot_log_ratios",
    "plot_shares",
    "plot_signatures",
    "write_figures",
]

FIGURES: dict[str, str] = {
    "signatures": "signatures.png",
    "shares": "distributions.png",
    "log_ratios": "log-ratios.png",
    "latencies": "latencies.png",
}
"""Figure key -> file name, as :func:`write_figures` writes them and the report links them."""

_DPI = 100
# PNG metadata: no matplotlib version stamp, so regenerating a figure from the same data gives
# the same bytes on every machine with the same matplotlib.
_PNG_METADATA = {"Software": None}


def _save(figure: Figure, path: Path) -> Path:
    """Render ``figure`` as PNG to ``path`` atomically."""
    FigureCanvasAgg(figure)
    with atomic_path(path) as temp:
        figure.savefig(temp, format="png", dpi=_DPI, metadata=_PNG_METADATA)
    return Path(path)


def plot_shares(shares: Mapping[str, pd.Series], path: Path, *, top: int = 8) -> Path:
    """Horizontal bars of each condition's mean share of calls, its ``top`` syscalls.

    ``shares`` maps a condition to a Series syscall -> mean share of the phase's calls (0..1);
    a condition without calls (an empty or all-zero Series) gets a panel that says so.
    """
    if not shares:
        raise ValueError("no condition to plot")
    columns = min(4, len(shares))
    rows = math.ceil(len(shares) / columns)
    figure = Figure(figsize=(3.6 * columns, 2.8 * rows), layout="constrained")
    grid = figure.subplots(rows, columns, squeeze=False).ravel()
    for ax in grid[len(shares) :]:
        ax.set_axis_off()
    for ax, (condition, series) in zip(grid, shares.items(), strict=False):
        series = series[series > 0].sort_values(ascending=False, kind="stable").head(top)
        ax.set_title(condition)
        if series.empty:
            ax.text(0.5, 0.5, "no calls in the phase", ha="center", va="center")
            ax.set_axis_off()
            continue
        positions = np.arange(len(series))
        ax.barh(positions, series.to_numpy(dtype=np.float64) * 100, color="tab:blue")
        ax.set_yticks(positions, [str(name) for name in series.index])
        ax.invert_yaxis()
        ax.set_xlabel("% of the phase's calls")
    return _save(figure, path)


def _log2_ratio(ratio: float) -> float:
    return math.log2(ratio) if ratio > 0 and math.isfinite(ratio) else float("nan")


def plot_log_ratios(comparisons: Mapping[str, Comparison], path: Path, *, top: int = 15) -> Path:
    """Heatmap of log2(median ratio) against the baseline: conditions x the ``top`` syscalls.

    The syscalls shown are those with the largest |log2 ratio| in any condition; a cell whose
    shift is significant (after correction) is marked with ``*``.
    """
    if not comparisons:
        raise ValueError("no comparison to plot")
    cells: dict[str, dict[str, tuple[float, bool]]] = {
        condition: {s.name: (_log2_ratio(s.ratio), s.significant) for s in comparison.shifts}
        for condition, comparison in comparisons.items()
    }
    strength: dict[str, float] = {}
    for row in cells.values():
        for name, (value, _) in row.items():
            if math.isfinite(value):
                strength[name] = max(strength.get(name, 0.0), abs(value))
    names = sorted(strength, key=lambda name: (-strength[name], name))[:top]
    conditions = list(cells)
    values = np.array(
        [[cells[c].get(name, (0.0, False))[0] for name in names] for c in conditions],
        dtype=np.float64,
    ).reshape(len(conditions), len(names))
    limit = max(1.0, float(np.nanmax(np.abs(values))) if values.size else 1.0)
    figure = Figure(figsize=(max(5.0, 0.55 * len(names) + 2.5), 1.0 + 0.6 * len(conditions)))
    figure.set_layout_engine("constrained")
    ax = figure.subplots()
    image = ax.imshow(values, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    ax.set_xticks(np.arange(len(names)), names, rotation=60, ha="right")
    ax.set_yticks(np.arange(len(conditions)), conditions)
    for row, condition in enumerate(conditions):
        for column, name in enumerate(names):
            if cells[condition].get(name, (0.0, False))[1]:
                # White on the darkest cells, where black would not show.
                dark = abs(values[row, column]) > 0.6 * limit
                color = "white" if dark else "black"
                ax.text(column, row, "*", ha="center", va="center", fontsize=12, color=color)
    figure.colorbar(image, ax=ax, label="log2(median / baseline median)")
    ax.set_title("Shift against the baseline (* significant)")
    return _save(figure, path)


def plot_signatures(
    comparisons: Mapping[str, Comparison], path: Path, *, top: int = 6, columns: int = 4
) -> Path:
    """Small multiples: each comparison's signature, log2(median / baseline median) of its
    ``top`` syscalls that move most, on one shared scale.

    A significant rise is red, a significant fall blue, a shift that is not significant grey;
    a comparison whose syscall counts do not move at all gets a panel that says so.
    """
    if not comparisons:
        raise ValueError("no comparison to plot")
    panels = {}
    for label, comparison in comparisons.items():
        moved = [
            (shift, _log2_ratio(shift.ratio))
            for shift in comparison.shifts
            if math.isfinite(_log2_ratio(shift.ratio)) and shift.difference != 0
        ]
        moved.sort(key=lambda item: (-abs(item[1]), item[0].name))
        panels[label] = moved[:top]
    values = [abs(value) for moved in panels.values() for _, value in moved]
    limit = max([1.0, *values]) * 1.1
    columns = min(columns, len(panels))
    rows = math.ceil(len(panels) / columns)
    figure = Figure(figsize=(3.4 * columns, 0.35 * top * rows + 0.9 * rows), layout="constrained")
    grid = figure.subplots(rows, columns, squeeze=False).ravel()
    for ax in grid[len(panels) :]:
        ax.set_axis_off()
    for ax, (label, moved) in zip(grid, panels.items(), strict=False):
        ax.set_title(label, fontsize=9)
        ax.axvline(0.0, color="black", linewidth=0.6)
        ax.set_xlim(-limit, limit)
        ax.tick_params(axis="x", labelsize=8)
        if not moved:
            ax.text(0.5, 0.5, "no syscall count moves", ha="center", va="center",
                    transform=ax.transAxes, fontsize=8)  # fmt: skip
            ax.set_yticks([])
            continue
        colors = [
            ("tab:red" if value > 0 else "tab:blue") if shift.significant else "lightgrey"
            for shift, value in moved
        ]
        positions = np.arange(len(moved))
        ax.barh(positions, [value for _, value in moved], color=colors)
        ax.set_yticks(positions, [shift.name for shift, _ in moved], fontsize=8)
        ax.set_ylim(top - 0.5, -0.5)
    figure.supxlabel("log2(median calls per run / baseline median), one pseudo-call", fontsize=9)
    figure.suptitle("Each condition's signature against its baseline (grey: not significant)")
    return _save(figure, path)


def plot_latencies(durations: Mapping[str, np.ndarray], path: Path) -> Path:
    """Empirical CDF of per-call latency (``-T`` durations, seconds) per condition, log scale.

    Conditions without a positive duration are left out of the plot and named in the legend
    title.
    """
    if not durations:
        raise ValueError("no condition to plot")
    figure = Figure(figsize=(9.0, 4.0), layout="constrained")
    ax = figure.subplots()
    missing = []
    for condition, values in durations.items():
        values = np.sort(np.asarray(values, dtype=np.float64))
        values = values[np.isfinite(values) & (values > 0)]
        if not len(values):
            missing.append(condition)
            continue
        levels = np.arange(1, len(values) + 1) / len(values)
        ax.step(values * 1e6, levels, where="post", label=f"{condition} ({len(values)} calls)")
    ax.set_xscale("log")
    ax.set_xlabel("syscall latency (µs, strace -T)")
    ax.set_ylabel("share of calls at most this long")
    ax.grid(True, which="major", alpha=0.3)
    title = f"no calls: {', '.join(missing)}" if missing else None
    if len(missing) < len(durations):
        ax.legend(title=title, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _save(figure, path)


def write_figures(analysis: ExperimentAnalysis, folder: Path) -> dict[str, str]:
    """Draw every figure ``analysis`` supports into ``folder``; figure key -> file name.

    Distributions need a condition, the signatures and the heatmap a comparison, the latency
    plot a timed call.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    if analysis.comparisons:
        comparisons = {f"{c} vs {b}": value for (b, c), value in analysis.comparisons.items()}
        plot_signatures(comparisons, folder / FIGURES["signatures"])
        written["signatures"] = FIGURES["signatures"]
    if analysis.summaries:
        shares = {c: s.mean_shares for c, s in analysis.summaries.items()}
        plot_shares(shares, folder / FIGURES["shares"])
        written["shares"] = FIGURES["shares"]
    if analysis.comparisons:
        comparisons = {f"{c} vs {b}": value for (b, c), value in analysis.comparisons.items()}
        plot_log_ratios(comparisons, folder / FIGURES["log_ratios"])
        written["log_ratios"] = FIGURES["log_ratios"]
    durations = {c: s.durations for c, s in analysis.summaries.items()}
    if any(len(values) for values in durations.values()):
        plot_latencies(durations, folder / FIGURES["latencies"])
        written["latencies"] = FIGURES["latencies"]
    return written

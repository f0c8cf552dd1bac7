"""Tests of the markdown report and its figures.

The report is compared whole with golden files (tests/report/golden/*.md), rendered from an
analysis of synthetic run tables: deterministic event sequences with known counts and timings,
analysed by the real :func:`~syscall_lab.experiment.analysis.analyse_experiment`. The golden
files are regression pins: the renderer's own output, accepted once by reading it. Set
``SYSCALL_LAB_UPDATE_GOLDEN=1`` to rewrite them after an intended change, then read the diff;
where ``CI`` is set that is refused, so that CI can always fail.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

from syscall_lab.capture.metadata import Environment, RunMetadata
from syscall_lab.detect.on_conditions import (
    AmbientFalseAlarms,
    ConditionSeparation,
    ExperimentDetection,
)
from syscall_lab.experiment.analysis import ExperimentAnalysis, analyse_experiment
from syscall_lab.experiment.dataset import ExperimentData, ExperimentSettings, Run
from syscall_lab.experiment.findings import Finding, findings
from syscall_lab.report.figures import (
    FIGURES,
    plot_latencies,
    plot_log_ratios,
    plot_shares,
    plot_signatures,
    write_figures,
)
from syscall_lab.report.markdown import extract_section, render_report, write_report
from syscall_parse.events import Syscall
from syscall_parse.table import events_to_frame

GOLDEN = Path(__file__).parent / "golden"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

ENVIRONMENT = Environment(
    strace_version="6.1",
    kernel="6.1.0-test",
    python="3.12.0",
    python_implementation="CPython",
    python_executable="/usr/bin/python3",
    cpu_count=2,
    cpu_model="Test CPU",
    loadavg=(0.0, 0.0, 0.0),
    hostname="golden",
    platform="Linux-test",
)

# Calls per run of each synthetic condition, in the order a run makes them. ``memory`` adds one
# mmap/munmap pair per repeat (its runs differ: the self-check must say so); ``cpu`` makes none.
SIGNATURES: dict[str, dict[str, int]] = {
    "normal": {"openat": 4, "read": 8, "write": 2, "close": 4},
    "normal-control": {"openat": 4, "read": 8, "write": 2, "close": 4},
    "cpu": {},
    "memory": {"mmap": 16, "munmap": 16},
    "normal-under-cpu": {"openat": 4, "read": 8, "write": 2, "close": 4},
}
# Seconds per call (latency) and between calls, per condition: ambient load slows calls down.
TIMING = {
    "normal": (5e-6, 40e-6),
    "normal-control": (5e-6, 40e-6),
    "cpu": (5e-6, 40e-6),
    "memory": (300e-6, 2e-3),
    "normal-under-cpu": (50e-6, 90e-6),
}


def _events(condition: str, repeat: int) -> tuple[pd.DataFrame, tuple[float, float]]:
    """A run's phase: the condition's calls round-robin, with timings that vary by repeat."""
    counts = dict(SIGNATURES[condition])
    if condition == "memory":
        counts = {name: number + repeat for name, number in counts.items()}
    order = [name for _, name in sorted((i, n) for n, c in counts.items() for i in range(c))]
    latency, gap = TIMING[condition]
    start = 1000.0 + 10 * repeat
    calls = []
    for index, name in enumerate(order):
        factor = 1 + ((index * 7 + repeat * 3) % 5) / 10
        calls.append(
            Syscall(
                pid=100 + repeat,
                name=name,
                args="3",
                ret="0",
                retval=0,
                duration=round(latency * factor, 6),
                time=round(start + (index + 1) * gap * factor, 6),
                lines=(index + 2, index + 2),
            )
        )
    end = start + (len(order) + 2) * gap if order else start + 0.25
    return events_to_frame(calls), (start, round(end, 6))


def _metadata(condition: str, repeat: int) -> RunMetadata:
    untraced = 0.05 + 0.01 * repeat
    return RunMetadata(
        label=condition,
        repeat=repeat,
        command=("python", "-m", "workloads", condition),
        observer_argv=("/usr/bin/strace", "-f", "-ttt", "-T", "-o", "trace.log", "--", "python"),
        start_utc=f"2026-01-01T00:00:{repeat:02d}+00:00",
        status="complete",
        environment=ENVIRONMENT,
        condition=condition,
        traced_seconds=untraced * (3.0 if condition.startswith("normal") else 1.2),
        untraced_seconds=untraced,
    )


def synthetic_data(conditions=tuple(SIGNATURES), repeats: int = 5) -> ExperimentData:
    """Runs of ``conditions`` interleaved over ``repeats``, as run_experiment would order them."""
    runs = []
    for repeat in range(repeats):
        for condition in conditions:
            events, phase = _events(condition, repeat)
            run_id = f"{condition}-r{repeat:02d}"
            runs.append(
                Run(
                    condition,
                    repeat,
                    run_id,
                    Path("runs") / run_id,
                    _metadata(condition, repeat),
                    events,
                    phase,
                )
            )
    settings = ExperimentSettings(repeats=repeats, stress_ng=False, ambient=("cpu",))
    return ExperimentData(settings, tuple(runs), ENVIRONMENT, ("stress-ng: not installed",))


@pytest.fixture(scope="module")
def analysis() -> ExperimentAnalysis:
    return analyse_experiment(synthetic_data())


FIXED_FINDINGS = (
    Finding("order", "", None, "The runs were captured in rounds.", None),
    Finding("runs", "normal", None, "normal: identical counts.", None),
    Finding("phase", "cpu", "normal", "CPU: the rate falls (significant).", True),
    Finding("signature", "cpu", "normal", "CPU: read falls (significant).", True),
    Finding("runs", "cpu", None, "cpu: identical counts.", None),
    Finding("signature", "memory", "normal", "Memory: mmap rises.", True, {"p": 0.01}),
    Finding("runs", "memory", None, "memory: counts vary.", None),
    Finding("control", "normal-control", "normal", "Control: no shift (not significant).", False),
    Finding("new-topic", "", None, "A topic the report has no title for.", None),
)


def _separation(detector: str, condition: str, auc: float, empty: int = 0) -> ConditionSeparation:
    """A detector's record for a condition of the synthetic experiment (5 runs against 10)."""
    return ConditionSeparation(
        detector, condition, auc, (auc, 1.0), 10, 5, (0.0,) * 10, (auc,) * 5, empty
    )


DETECTION = ExperimentDetection(
    separations=tuple(
        _separation(detector, condition, auc, 5 if condition == "cpu" else 0)
        for detector, aucs in (("stide", (0.5, 1.0, 0.5)), ("ngram-lm", (0.0, 0.92, 0.6)))
        for condition, auc in zip(("cpu", "memory", "normal-under-cpu"), aucs, strict=True)
    ),
    false_alarms=(
        AmbientFalseAlarms(
            "stide", 0.0, 0.0, 10, {"normal-under-cpu": 0.0}, {"normal-under-cpu": 5}
        ),
        AmbientFalseAlarms(
            "ngram-lm", 0.2, 0.1, 10, {"normal-under-cpu": 0.4}, {"normal-under-cpu": 5}
        ),
    ),
    resamples=100,
    seed=0,
    skipped=("ensemble: not run in this test",),
)

ANOMALY = {
    "ADFA-LD: a benchmark table as it comes:": pd.DataFrame(
        {
            "detector": ["stide", "ngram-lm"],
            "AUC": [0.912, 0.95],
            "FAR@90": [0.2, np.nan],
            "ok": [True, False],
        }
    ),
}


def _check_golden(name: str, text: str) -> None:
    """Compare ``text`` with the golden file ``name``, rewritten first when asked (never in CI)."""
    path = GOLDEN / name
    if os.environ.get("SYSCALL_LAB_UPDATE_GOLDEN"):
        if os.environ.get("CI"):
            pytest.fail(
                "SYSCALL_LAB_UPDATE_GOLDEN is refused where CI is set: rewrite the golden files "
                "locally and read the diff",
                pytrace=False,
            )
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text


def test_golden_files_cannot_be_rewritten_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """With CI set, asking to rewrite a golden file fails the test and leaves the file as it is."""
    before = (GOLDEN / "report.md").read_bytes()
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("SYSCALL_LAB_UPDATE_GOLDEN", "1")
    with pytest.raises(pytest.fail.Exception, match="refused where CI is set"):
        _check_golden("report.md", "not the report\n")
    assert before == (GOLDEN / "report.md").read_bytes()


def test_report_golden(analysis: ExperimentAnalysis) -> None:
    """The whole report of the synthetic experiment, figures linked, detection and an extra
    anomaly table included (a regression pin: the golden file is the renderer's own output)."""
    text = render_report(
        analysis,
        date="2026-01-01 00:00 UTC",
        host="golden",
        figures=FIGURES,
        records=FIXED_FINDINGS,
        detection=DETECTION,
        anomaly=ANOMALY,
    )
    _check_golden("report.md", text)


def test_report_normal_only_golden() -> None:
    """An experiment of normal runs only: no comparison, no figure, the sections say so (a
    regression pin: the golden file is the renderer's own output)."""
    data = synthetic_data(("normal",), repeats=2)
    text = render_report(
        analyse_experiment(data), date="2026-01-01 00:00 UTC", host="golden", records=()
    )
    _check_golden("report-normal-only.md", text)


def test_generated_findings_golden(analysis: ExperimentAnalysis) -> None:
    """The Findings section with the sentences generated from the synthetic experiment (a
    regression pin: the golden file is the findings' own output)."""
    text = render_report(analysis, date="2026-01-01 00:00 UTC", host="golden")
    _check_golden("findings.md", extract_section(text, "Findings"))


def test_render_is_deterministic(analysis: ExperimentAnalysis) -> None:
    """Same analysis, date and host: the same text (nothing volatile is read inside)."""
    first = render_report(analysis, date="d", host="h")
    assert first == render_report(analysis, date="d", host="h")


def test_generated_findings_are_all_rendered(analysis: ExperimentAnalysis) -> None:
    """By default the report holds every finding of the analysis, significant or not."""
    records = findings(analysis)
    section = extract_section(render_report(analysis, date="d", host="h"), "Findings")
    assert records
    assert any(record.significant is False for record in records)
    for record in records:
        assert f"- {record.sentence}" in section


def test_not_significant_finding_is_shown(analysis: ExperimentAnalysis) -> None:
    """A finding without a significant effect is rendered like any other, never dropped."""
    section = extract_section(
        render_report(analysis, date="d", host="h", records=FIXED_FINDINGS), "Findings"
    )
    assert "- Control: no shift (not significant)." in section.splitlines()


def test_findings_grouped_by_condition(analysis: ExperimentAnalysis) -> None:
    """A heading per condition ("condition vs baseline", or the baseline's name), its findings
    under it; findings about the whole experiment under their topic's words."""
    section = extract_section(
        render_report(analysis, date="d", host="h", records=FIXED_FINDINGS), "Findings"
    )
    assert [
        "### How the runs were captured",
        "",
        "- The runs were captured in rounds.",
        "",
        "### normal",
        "",
        "- normal: identical counts.",
        "",
        "### cpu vs normal",
        "",
        "- CPU: the rate falls (significant).",
        "- CPU: read falls (significant).",
        "- cpu: identical counts.",
        "",
        "### memory vs normal",
        "",
        "- Memory: mmap rises.",
        "- memory: counts vary.",
        "",
        "### normal-control vs normal",
        "",
        "- Control: no shift (not significant).",
        "",
        "### New-topic",
        "",
        "- A topic the report has no title for.",
    ] == section.splitlines()[4:]


def test_first_screen_is_one_row_per_condition(analysis: ExperimentAnalysis) -> None:
    """The report opens with the table at a glance: a row per condition, in catalogue order,
    saying what moved, whether the control held and which detectors separate it."""
    text = render_report(analysis, date="d", host="h", records=(), detection=DETECTION)
    glance = extract_section(text, "At a glance")
    rows = [line for line in glance.splitlines() if line.startswith("| ")][1:]
    assert text.index("## At a glance") < text.index("## Findings")
    assert list(analysis.summaries) == [row.split("|")[1].strip() for row in rows]
    memory = next(row for row in rows if row.startswith("| memory "))
    assert "↑ mmap ×19" in memory
    assert "all 2" in memory
    cpu = next(row for row in rows if row.startswith("| cpu "))
    assert "none of 2 (empty phase: by convention)" in cpu
    control = next(row for row in rows if row.startswith("| normal-control "))
    assert "this is the control: held" in control
    assert "identical; ±1 call detectable" in control


def test_long_tables_are_collapsed(analysis: ExperimentAnalysis) -> None:
    """Every per-syscall table after the summary sits in a <details> block."""
    text = render_report(analysis, date="d", host="h", records=())
    for title in ("Syscalls per condition", "Shifts between conditions", "Latency and gaps"):
        section = extract_section(text, title)
        tables = [line for line in section.splitlines() if line.startswith("|--")]
        assert tables, title
        assert section.count("<details><summary>") == section.count("</details>") >= 1, title
        inside = "".join(block.split("</details>")[0] for block in section.split("<details>")[1:])
        assert len(tables) == inside.count("\n|--"), title


def test_no_anomaly_section_without_detection(analysis: ExperimentAnalysis) -> None:
    """The "Anomaly detection" section appears only with the detection or extra tables: the
    matrix of AUCs (detector x condition), the false alarms, then each extra table after its
    caption."""
    text = render_report(analysis, date="d", host="h", records=())
    assert "" == extract_section(text, "Anomaly detection")
    with_table = render_report(
        analysis, date="d", host="h", records=(), detection=DETECTION, anomaly=ANOMALY
    )
    section = extract_section(with_table, "Anomaly detection")
    assert "| detector   | cpu   | memory   | normal-under-cpu   |" in section
    assert "| ngram-lm   | 0     | 0.92     | 0.6                |" in section
    assert "ADFA-LD: a benchmark table as it comes:" in section
    assert "| stide      | 0.912 | 0.2      | yes  |" in section


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        pytest.param("A", "## A\n\none\n", id="first"),
        pytest.param("B", "## B\n### sub\ntwo\n", id="with-subsection"),
        pytest.param("C", "", id="absent"),
    ],
)
def test_extract_section(title: str, expected: str) -> None:
    """A section runs from its heading to the next level-2 heading."""
    markdown = "# Title\n\n## A\n\none\n\n## B\n### sub\ntwo\n"
    assert expected == extract_section(markdown, title)


def test_write_report_writes_report_and_figures(
    analysis: ExperimentAnalysis, tmp_path: Path
) -> None:
    """write_report replaces the report whole, draws the PNGs it links, leaves no temp file;
    the files get the mode open() would give them."""
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "REPORT.md").write_text("old report\n", encoding="utf-8")
    out = write_report(analysis, folder / "REPORT.md", date="new date", host="h")
    text = out.read_text(encoding="utf-8")
    assert folder / "REPORT.md" == out
    assert text.startswith("# syscall-lab report\n\nGenerated new date on h from 25 traced runs")
    assert sorted(["REPORT.md", *FIGURES.values()]) == sorted(p.name for p in folder.iterdir())
    umask = os.umask(0)
    os.umask(umask)
    for name in FIGURES.values():
        assert f"]({name})" in text
        assert PNG_SIGNATURE == (folder / name).read_bytes()[:8]
    for path in folder.iterdir():
        assert 0o666 & ~umask == path.stat().st_mode & 0o777, path.name


def test_figures_are_reproducible(analysis: ExperimentAnalysis, tmp_path: Path) -> None:
    """The same analysis draws byte-identical PNGs (no timestamp or version stamped in)."""
    first = write_figures(analysis, tmp_path / "a")
    second = write_figures(analysis, tmp_path / "b")
    assert first == second
    for name in first.values():
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_figures_of_normal_only(tmp_path: Path) -> None:
    """Without comparisons there is no heatmap; the others are drawn."""
    data = synthetic_data(("normal",), repeats=2)
    assert {"shares": FIGURES["shares"], "latencies": FIGURES["latencies"]} == write_figures(
        analyse_experiment(data), tmp_path
    )


def test_plot_shares_panel_without_calls(tmp_path: Path) -> None:
    """A condition without calls gets its own panel; the grid has 4 columns at most."""
    shares = {
        "normal": pd.Series({"read": 0.5, "write": 0.5}),
        "cpu": pd.Series([], dtype=np.float64),
        "a": pd.Series({"mmap": 1.0}),
        "b": pd.Series({"mmap": 1.0}),
        "c": pd.Series({"mmap": 1.0}),
    }
    path = plot_shares(shares, tmp_path / "shares.png")
    height, width, _ = imread(path).shape
    assert (280 * 2, 360 * 4) == (height, width)


def test_plot_log_ratios_marks_significant(analysis: ExperimentAnalysis, tmp_path: Path) -> None:
    """The heatmap of a real comparison is a PNG; an empty mapping is refused."""
    comparisons = {f"{c} vs {b}": v for (b, c), v in analysis.comparisons.items()}
    assert PNG_SIGNATURE == plot_log_ratios(comparisons, tmp_path / "h.png").read_bytes()[:8]
    with pytest.raises(ValueError, match="no comparison"):
        plot_log_ratios({}, tmp_path / "empty.png")


def test_plot_signatures_small_multiples(analysis: ExperimentAnalysis, tmp_path: Path) -> None:
    """One panel per comparison on a grid of at most 4 columns; an empty mapping is refused."""
    comparisons = {f"{c} vs {b}": v for (b, c), v in analysis.comparisons.items()}
    path = plot_signatures(comparisons, tmp_path / "s.png", top=6)
    height, width, _ = imread(path).shape
    assert 4 == len(comparisons)
    # 0.35 in a row of bars plus 0.9 in of margins at 100 dpi, 3.4 in a column; matplotlib
    # releases round the height to whole pixels differently (300 or 299).
    assert 340 * 4 == width
    assert abs(round(100 * (0.35 * 6 + 0.9)) - height) <= 1
    with pytest.raises(ValueError, match="no comparison"):
        plot_signatures({}, tmp_path / "empty.png")


def test_plot_latencies_skips_conditions_without_calls(tmp_path: Path) -> None:
    """Conditions without positive durations are left out, the others drawn."""
    durations = {"normal": np.array([1e-6, 2e-6, np.nan]), "cpu": np.array([], dtype=float)}
    assert PNG_SIGNATURE == plot_latencies(durations, tmp_path / "l.png").read_bytes()[:8]


def test_every_significant_shift_is_named_in_the_findings(analysis: ExperimentAnalysis) -> None:
    """Large shifts get a sentence each; the baseline's calls that vanish share one sentence,
    which names each of them with its count: no significant shift goes unmentioned."""
    sentences = [f.sentence for f in findings(analysis) if f.condition == "memory"]
    comparison = analysis.comparisons["normal", "memory"]
    for shift in comparison.shifts:
        if shift.significant:
            named = re.compile(rf"\b{shift.name}\b")
            assert any(named.search(sentence) for sentence in sentences), shift.name
    (signature,) = [s for s in sentences if "shift significantly" in s]
    assert "to 0 calls, of normal's phase: read 8, close 4, openat 4, write 2" in signature
    assert "up mmap 0 -> 18 (x19), munmap 0 -> 18 (x19)" in signature

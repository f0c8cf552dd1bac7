"""``syscall-lab run`` and ``report``: the main job end to end, and one-line errors.

The end-to-end test runs the real job (the main conditions under strace, 2 repeats, without
ambient load and stress-ng stressors) in an empty folder, as a user would after a fresh
install, then re-renders the report from the saved data.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import syscall_parse
import workloads
from syscall_lab.cli import main
from syscall_lab.report.figures import FIGURES
from syscall_lab.report.markdown import extract_section

SECTIONS = (
    "At a glance",
    "Findings",
    "Environment and method",
    "Syscalls per condition",
    "Each condition against itself",
    "Shifts between conditions",
    "Distribution distances",
    "Latency and gaps",
    "Observer overhead",
    "Anomaly detection",
)

# The job's report benchmarks the detectors on ADFA-LD when it finds the data set (about 30 s);
# these tests point it at a folder that does not exist, so only the conditions are scored.
NO_ADFA = {"ADFA_LD_DIR": "/nonexistent/adfa-ld"}


def _syscall_lab(*args: str, cwd: Path):
    return subprocess.run(
        [sys.executable, "-m", "syscall_lab", *args],
        cwd=cwd,
        env={**os.environ, **NO_ADFA},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _job_outputs_in_package() -> list[Path]:
    """Anything named like the job's outputs inside the installed packages."""
    roots = [Path(syscall_parse.__file__).parent, Path(workloads.__file__).parent]
    names = {"REPORT.md", "experiment.json", "runs", "reports", "datasets", *FIGURES.values()}
    return [path for root in roots for path in root.rglob("*") if path.name in names]


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory, strace: str):
    """`syscall-lab run --repeats 2 --no-stress-ng --no-ambient --no-programs` in an empty
    folder: (folder, result)."""
    folder = tmp_path_factory.mktemp("job")
    result = _syscall_lab(
        "run", "--repeats", "2", "--no-stress-ng", "--no-ambient", "--no-programs", cwd=folder
    )
    return folder, result


@pytest.mark.strace
@pytest.mark.slow
def test_run_writes_data_and_report_under_the_current_folder(job) -> None:
    """Exit 0, data under ./runs/experiments, report and figures under ./reports; quiet
    stderr off a terminal; stdout says where things are, then the findings."""
    folder, result = job
    assert 0 == result.returncode, result.stderr
    assert "" == result.stderr
    assert ["reports", "runs"] == sorted(path.name for path in folder.iterdir())
    assert [] == _job_outputs_in_package()
    lines = result.stdout.splitlines()
    (out,) = (folder / "runs").iterdir()
    assert re.fullmatch(r"experiment-\d{8}T\d{6}Z", out.name)
    stored = json.loads((out / "experiment.json").read_text())
    runs = 10 * len(stored["settings"]["observers"])  # 5 conditions, 2 repeats, each observer
    assert [f"data: runs/{out.name} ({runs} runs)", "report: reports/REPORT.md", ""] == lines[:3]
    assert "## Findings" == lines[3]
    report = (folder / "reports" / "REPORT.md").read_text(encoding="utf-8")
    assert extract_section(report, "Findings").strip() == "\n".join(lines[3:]).strip()
    for name in FIGURES.values():
        assert (folder / "reports" / name).stat().st_size > 0
        assert f"]({name})" in report
    assert runs == len(stored["runs"])
    assert sorted(p.name for p in (out / "datasets").iterdir()) == [
        "cpu",
        "io",
        "memory",
        "normal",
        "normal-control",
    ]


@pytest.mark.strace
@pytest.mark.slow
def test_report_has_every_section_and_generated_findings(job) -> None:
    """The report holds each section, and findings that are sentences with numbers."""
    folder, _ = job
    report = (folder / "reports" / "REPORT.md").read_text(encoding="utf-8")
    for title in SECTIONS:
        assert extract_section(report, title), title
    findings = [
        line
        for line in extract_section(report, "Findings").splitlines()
        if line.lstrip().startswith("- ") and not line.endswith("**:")
    ]
    assert len(findings) >= 4
    assert all(any(ch.isdigit() for ch in line) for line in findings)
    assert "| `mmap` " in extract_section(report, "Syscalls per condition")


@pytest.mark.strace
@pytest.mark.slow
def test_report_rerenders_from_saved_data(job, monkeypatch, capsys) -> None:
    """`syscall-lab report DIR -o PATH` gives the same report (date line aside) and figures."""
    folder, _ = job
    (out,) = (folder / "runs").iterdir()
    monkeypatch.chdir(folder)
    monkeypatch.setenv("ADFA_LD_DIR", NO_ADFA["ADFA_LD_DIR"])
    assert 0 == main(["report", str(out.relative_to(folder)), "-o", "again/R.md"])
    assert "report: again/R.md" == capsys.readouterr().out.splitlines()[0]

    def body(path: Path) -> list[str]:
        return path.read_text(encoding="utf-8").splitlines()[3:]

    assert body(folder / "reports" / "REPORT.md") == body(folder / "again" / "R.md")
    for name in FIGURES.values():
        assert (folder / "reports" / name).read_bytes() == (folder / "again" / name).read_bytes()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(
            ["report", "."], "syscall-lab report: . is not an experiment", id="not-experiment"
        ),
        pytest.param(
            ["run", "--repeats", "1"], "syscall-lab run: repeats must be >= 2", id="one-repeat"
        ),
        pytest.param(["run", "--scale", "0"], "syscall-lab run: scale must be > 0", id="scale"),
    ],
)
def test_errors_are_one_line_exit_2(argv, message, tmp_path, monkeypatch, capsys) -> None:
    """Bad input: exit status 2, one line on stderr, nothing written."""
    monkeypatch.chdir(tmp_path)
    assert 2 == main(argv)
    err = capsys.readouterr().err
    assert err.startswith(message)
    assert 1 == len(err.splitlines())
    assert [] == list(tmp_path.iterdir())


def test_run_without_strace_is_one_line_exit_2(tmp_path, monkeypatch, capsys) -> None:
    """With no strace on PATH the job stops at once: exit 2, one line naming strace, and
    nothing written."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.chdir(tmp_path)
    assert 2 == main(["run"])
    captured = capsys.readouterr()
    assert 1 == len(captured.err.splitlines())
    assert captured.err.startswith("syscall-lab run: ")
    assert "strace" in captured.err
    assert "" == captured.out
    assert [] == list(tmp_path.iterdir())

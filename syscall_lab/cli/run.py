"""``syscall-lab run`` (the main job) and ``report`` (its report again from the saved data).

Both end the same way: the report, with the anomaly section (ADFA-LD when found), written
and its path and Findings printed.
"""

from __future__ import annotations

import argparse
import sys

from syscall_lab.capture.observer import OBSERVER_CHOICES
from syscall_lab.conditions import BACKENDS

_RUN_DESCRIPTION = """\
The main job: capture every condition under strace (and the eBPF observer: --observer),
analyse, and write the data set and the markdown report. Conditions: normal, cpu, memory, io
(python -m workloads, cut to the measured phase) and normal-control (a second batch of normal);
normal beside untraced cpu, memory and io stress (normal-under-*) unless --no-ambient; the real
programs git-grep and sqlite, each with its control and beside its load (git-grep-under-cpu,
sqlite-under-io) unless --no-programs or the program is missing; stress-ng's own stressors
(stress-ng-cpu, -memory, -io) unless --no-stress-ng or stress-ng is missing. --repeats rounds,
each one run of every condition in an order shuffled by --seed. --observer auto (the default)
captures every condition under strace and under the eBPF observer (events mode) in the same
rounds where eBPF is available (root, bpftrace), else under strace alone and the report says
why; both and ebpf need eBPF. The same defaults as `pytest experiments/`.

Writes, under the current folder unless told otherwise: OUT/experiment.json, OUT/datasets/
CONDITION/RUN.{csv,parquet,json} (events and metadata per run), OUT/runs/RUN/ (raw strace and
eBPF logs), and REPORT with its figures (PNG) beside it. OUT must not hold an experiment
already; `syscall-lab report OUT` renders its report again. Prints the report's path, then its
Findings. Progress goes to stderr when it is a terminal. Exit status: 0 done; 2 on an error
(strace missing, ptrace refused, eBPF unavailable for both or ebpf, a run that did not
complete, bad settings); 130 interrupted."""


def add_run(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        "run",
        help="the main job: capture every condition, analyse, write the report",
        description=_RUN_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--repeats", type=int, default=5, help="runs per condition (default 5)")
    parser.add_argument("--scale", type=float, default=1.0, help="workload scale (default 1)")
    parser.add_argument("--seed", type=int, default=0, help="workload and test seed (default 0)")
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="python",
        help="what makes the stressed conditions cpu, memory, io (default python)",
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        help="new folder for the data set and raw logs (default runs/experiment-UTCTIME)",
    )
    parser.add_argument(
        "--report",
        default="reports/REPORT.md",
        metavar="PATH",
        help="the markdown report; figures go beside it (default reports/REPORT.md)",
    )
    parser.add_argument(
        "--no-stress-ng", action="store_true", help="leave out the stress-ng-* conditions"
    )
    parser.add_argument(
        "--no-ambient", action="store_true", help="leave out the normal-under-* conditions"
    )
    parser.add_argument(
        "--no-programs",
        action="store_true",
        help="leave out the real programs (git-grep, sqlite and their conditions)",
    )
    parser.add_argument(
        "--observer",
        choices=OBSERVER_CHOICES,
        default="auto",
        help="who traces: strace, ebpf, both, or auto (both where eBPF is available, else "
        "strace; default auto)",
    )
    _add_adfa_option(parser)
    return parser


def _add_adfa_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--adfa-ld",
        metavar="DIR",
        help="also benchmark the detectors on ADFA-LD in DIR for the report's anomaly section "
        "(default: $ADFA_LD_DIR or ../shared/data/adfa-ld beside the project, when present)",
    )


def _progress_bar():
    """A callback drawing a rich progress bar on stderr (a no-op off a terminal), and its bar."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    bar = Progress(
        TextColumn("{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        disable=not sys.stderr.isatty(),
        transient=True,
    )
    task = bar.add_task("capturing", total=None)

    def progress(condition: str, index: int, total: int) -> None:
        bar.update(task, description=condition, completed=index, total=total)

    return bar, progress


def _finish_report(analysis, report: str, adfa_dir: str | None) -> int:
    from syscall_lab.detect.adfa import (
        adfa_caption,
        adfa_table,
        benchmark_adfa,
        default_adfa_dir,
        load_adfa,
    )
    from syscall_lab.detect.on_conditions import detect_on_conditions
    from syscall_lab.detect.registry import DETECTORS, make_detector
    from syscall_lab.report.markdown import extract_section, write_report

    if adfa_dir is None and default_adfa_dir().is_dir():
        adfa_dir = str(default_adfa_dir())
    anomaly = None
    if adfa_dir:
        adfa = load_adfa(adfa_dir)
        detectors = [make_detector(name) for name in DETECTORS]
        runs = benchmark_adfa(adfa, detectors, seed=analysis.seed)
        anomaly = {adfa_caption(adfa): adfa_table(runs)}
    detection = detect_on_conditions(analysis.data, seed=analysis.seed)
    path = write_report(analysis, report, detection=detection, anomaly=anomaly)
    print(f"report: {path}")
    print()
    print(extract_section(path.read_text(encoding="utf-8"), "Findings"), end="")
    return 0


def run_run(args: argparse.Namespace) -> int:
    from datetime import datetime, timezone
    from pathlib import Path

    from syscall_lab.capture.strace import find_strace
    from syscall_lab.experiment.analysis import analyse_experiment
    from syscall_lab.experiment.dataset import ExperimentSettings
    from syscall_lab.experiment.plan import check_settings, chosen_observers
    from syscall_lab.experiment.store import run_experiment

    # A fresh folder per run by default: an experiment folder never mixes two runs' data.
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    settings = ExperimentSettings(
        repeats=args.repeats,
        scale=args.scale,
        seed=args.seed,
        backend=args.backend,
        stress_ng=not args.no_stress_ng,
        observers=chosen_observers(args.observer),
        out_dir=Path(args.out) if args.out else Path("runs") / f"experiment-{stamp}",
        **({"ambient": ()} if args.no_ambient else {}),
        **({"programs": ()} if args.no_programs else {}),
    )
    check_settings(settings)
    if "strace" in settings.observers:
        find_strace()  # before any folder is made: a missing strace leaves nothing behind
    bar, progress = _progress_bar()
    with bar:
        data = run_experiment(settings, progress=progress)
        progress("analysing", len(data.runs), len(data.runs))
        analysis = analyse_experiment(data, seed=args.seed)
    print(f"data: {settings.out_dir} ({len(data.runs)} runs)")
    return _finish_report(analysis, args.report, args.adfa_ld)


def add_report(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        "report",
        help="re-render the report from a saved experiment, without capturing",
        description="Load the experiment that `syscall-lab run` (or `pytest experiments/`) "
        "stored in DIR (experiment.json and datasets/), analyse it again and write the "
        "markdown report and its figures. Prints the report's path, then its Findings. "
        "Exit status: 0 done; 2 when DIR is not an experiment or cannot be read.",
    )
    parser.add_argument("dir", metavar="DIR", help="the experiment folder (holds experiment.json)")
    parser.add_argument(
        "-o",
        "--output",
        default="reports/REPORT.md",
        metavar="PATH",
        help="the markdown report; figures go beside it (default reports/REPORT.md)",
    )
    _add_adfa_option(parser)
    return parser


def run_report(args: argparse.Namespace) -> int:
    from syscall_lab.experiment.analysis import analyse_experiment
    from syscall_lab.experiment.store import load_experiment

    data = load_experiment(args.dir)
    analysis = analyse_experiment(data, seed=data.settings.seed)
    return _finish_report(analysis, args.output, args.adfa_ld)

"""The ``syscall-lab`` command line.

Each command is a pair of functions, ``_add_NAME(subparsers) -> ArgumentParser`` and
``_run_NAME(args) -> int``, listed in ``COMMANDS``. Library errors surface here as one line on
stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from syscall_lab.errors import SyscallLabError
from syscall_parse.errors import TraceError

__all__ = ["main"]


Subparsers = argparse._SubParsersAction  # argparse's (private) type of add_subparsers()
AddCommand = Callable[[Subparsers], argparse.ArgumentParser]
RunCommand = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="syscall-lab",
        description="Capture, parse, compare and classify programs' system calls.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add, run in COMMANDS:
        add(sub).set_defaults(run=run)
    return parser


_NOT_STRACE = 3  # exit status of parse/profile when no line of the input is strace output


def _add_parse(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        "parse",
        help="parse strace logs into an event table (CSV or Parquet)",
        description="Parse strace logs (files, '-' for stdin, .gz/.xz, a -ff prefix or its "
        "PREFIX.PID files, merged by time) into one row per event with the columns of "
        "syscall_parse.schema, and print one summary line. Exit status: 0 done (unparsed "
        "lines are counted, not fatal); 2 unreadable input or output; "
        f"{_NOT_STRACE} no line of the input is strace output.",
    )
    parser.add_argument("logs", nargs="+", metavar="LOG", help="strace output to read")
    parser.add_argument(
        "-o", "--output", required=True, metavar="OUT",
        help="where to write the events: OUT.csv (nulls as \\N) or OUT.parquet",
    )  # fmt: skip
    parser.add_argument(
        "--unparsed", action="store_true", help="also list the unparsed lines as LINE: TEXT"
    )
    parser.add_argument(
        "--strict", action="store_true", help="fail (status 2) on the first unparsed line"
    )
    return parser


def _not_strace(command: str, logs: list[str], lines: int) -> int:
    print(
        f"syscall-lab {command}: {', '.join(logs)}: not strace output "
        f"(none of {lines} lines recognised)",
        file=sys.stderr,
    )
    return _NOT_STRACE


def _run_parse(args: argparse.Namespace) -> int:
    from pathlib import Path

    from syscall_parse.stream import ParseStats
    from syscall_parse.table import read_trace, write_csv, write_parquet

    suffix = Path(args.output).suffix
    writers = {".csv": write_csv, ".parquet": write_parquet}
    if suffix not in writers:
        raise SyscallLabError(f"{args.output}: output must end in .csv or .parquet")
    # Only the list of unparsed lines and strict errors need the reference parser.
    stats = ParseStats() if args.unparsed or args.strict else None
    frame = read_trace(args.logs, stats=stats, strict=args.strict)
    unparsed = frame.attrs["unparsed_lines"]
    if frame.empty and unparsed:
        return _not_strace("parse", args.logs, unparsed)
    writers[suffix](frame, args.output)
    print(f"wrote {len(frame)} events to {args.output} ({unparsed} unparsed lines)")
    if stats is not None and args.unparsed:
        for number, text in stats.unparsed:
            print(f"{number}: {text}")
    return 0


def _add_profile(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        "profile",
        help="count calls and errors per syscall, like strace -c",
        description="Count the calls that returned and their errors (-1 ERRNO and ? ERESTART*) "
        "per syscall, like strace -c, most calls first; 'seconds' sums the -T durations "
        'when the log has them. --json prints {"syscalls": {NAME: {"calls": N, '
        '"errors": E, "seconds": S or null}}, "events": N, "unparsed": K, '
        '"unreturned": {NAME: N}} (unreturned: calls that never returned, not counted). '
        f"Exit status: 0 done; 2 unreadable input; {_NOT_STRACE} no line is strace output.",
    )
    parser.add_argument("logs", nargs="+", metavar="LOG", help="strace output to read")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return parser


def _run_profile(args: argparse.Namespace) -> int:
    import json

    from tabulate import tabulate

    from syscall_parse.counts import count_trace

    profile = count_trace(args.logs)
    if profile.events == 0 and profile.unparsed:
        return _not_strace("profile", args.logs, profile.unparsed)
    if args.json:
        print(json.dumps(profile.to_json(), indent=2))
        return 0
    timed = any(count.seconds is not None for _, count in profile.syscalls)
    headers = ["calls", "errors", "seconds", "syscall"] if timed else ["calls", "errors", "syscall"]
    rows = [
        [c.calls, c.errors or "", *([c.seconds] if timed else []), name]
        for name, c in profile.syscalls
    ]
    calls = sum(c.calls for _, c in profile.syscalls)
    errors = sum(c.errors for _, c in profile.syscalls)
    seconds = sum(c.seconds or 0.0 for _, c in profile.syscalls)
    rows.append([calls, errors or "", *([seconds] if timed else []), "total"])
    print(tabulate(rows, headers=headers, floatfmt=".6f", disable_numparse=False))
    print(f"{profile.events} events, {profile.unparsed} unparsed lines")
    return 0


def _add_capture(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        "capture",
        help="run workloads or a command under strace, one folder per run",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="""Run a workload (--condition, repeatable: interleaved) or a command
(--label NAME -- CMD ARGS) under strace. Each run gets a folder under --out holding
trace.log (trace.log.PID with --ff), stdout.txt, stderr.txt and metadata.json; one line
per run is printed: FOLDER STATUS exit=N traced=Ts untraced=Ts. Exit status 0 when every
run is complete, 1 otherwise, 2 on an error.

With --json each run prints one JSON object instead: run_dir, label, condition, repeat, status
(complete, failed, killed, timeout), exit_status (the traced command's; negative = signal),
traced_seconds, untraced_seconds, overhead (traced/untraced), logs (paths).""",
    )
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--condition",
        action="append",
        metavar="NAME",
        help="normal, cpu, memory, memory-brk, io (stress-ng: also memory-malloc, "
        "io-mix); repeat the option to interleave conditions",
    )
    what.add_argument("--label", help="name of the runs of COMMAND (after --)")
    parser.add_argument("argv", nargs="*", metavar="CMD", help="command to trace, after --")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each (default 1)")
    parser.add_argument("--scale", type=float, default=1.0, help="workload scale (default 1)")
    parser.add_argument("--seed", type=int, default=0, help="workload seed (default 0)")
    parser.add_argument(
        "--backend",
        choices=["python", "stress-ng"],
        default="python",
        help="workloads: python -m workloads or bounded stress-ng stressors",
    )
    parser.add_argument("--out", default="runs", help="folder of the run folders (default runs/)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per run (default 60)")
    parser.add_argument(
        "--ambient",
        choices=["cpu", "memory", "io"],
        help="untraced load beside the traced command (then sync and settle)",
    )
    parser.add_argument(
        "--ambient-backend",
        choices=["python", "stress-ng"],
        default="stress-ng",
        help="what makes the ambient load (default stress-ng)",
    )
    parser.add_argument("--ff", action="store_true", help="strace -ff: one log per process")
    parser.add_argument("--string-size", type=int, default=64, help="strace -s (default 64)")
    parser.add_argument("--trace", metavar="SET", help="strace -e trace=SET, e.g. %%file,%%memory")
    parser.add_argument(
        "--seccomp-bpf", action="store_true", help="strace --seccomp-bpf (needs --trace)"
    )
    parser.add_argument(
        "--no-untraced",
        action="store_true",
        help="skip the untraced run that measures the observer overhead",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per run")
    return parser


def _run_capture(args: argparse.Namespace) -> int:
    import json

    from syscall_lab.capture.ambient import Ambient
    from syscall_lab.capture.run import capture_command, capture_condition
    from syscall_lab.capture.strace import StraceOptions

    if args.label and not args.argv:
        raise SyscallLabError("--label needs a command after --")
    if args.condition and args.argv:
        raise SyscallLabError("give --condition or a command (with --label), not both")
    try:
        strace_options = StraceOptions(
            separate_files=args.ff,
            string_size=args.string_size,
            trace=args.trace,
            seccomp_bpf=args.seccomp_bpf,
        )
    except ValueError as exc:
        raise SyscallLabError(str(exc)) from None
    options = {
        "out_dir": args.out,
        "strace_options": strace_options,
        "timeout": args.timeout,
        "measure_untraced": not args.no_untraced,
        "ambient": Ambient(args.ambient, backend=args.ambient_backend) if args.ambient else None,
    }
    complete = True
    for repeat in range(args.repeats):
        for condition in args.condition or [None]:
            if condition is None:
                result = capture_command(args.argv, label=args.label, repeat=repeat, **options)
            else:
                result = capture_condition(
                    condition,
                    scale=args.scale,
                    seed=args.seed,
                    backend=args.backend,
                    repeat=repeat,
                    **options,
                )
            meta = result.metadata
            complete = complete and result.complete
            overhead = (
                meta.traced_seconds / meta.untraced_seconds
                if meta.traced_seconds and meta.untraced_seconds
                else None
            )
            if args.json:
                print(
                    json.dumps(
                        {
                            "run_dir": str(result.run_dir),
                            "label": meta.label,
                            "condition": meta.condition,
                            "repeat": meta.repeat,
                            "status": meta.status,
                            "exit_status": meta.exit_status,
                            "traced_seconds": meta.traced_seconds,
                            "untraced_seconds": meta.untraced_seconds,
                            "overhead": overhead,
                            "logs": [str(path) for path in result.logs],
                        }
                    ),
                    flush=True,
                )
            else:
                untraced = f"{meta.untraced_seconds:.3f}s" if meta.untraced_seconds else "-"
                traced = f"{meta.traced_seconds:.3f}s" if meta.traced_seconds else "-"
                print(
                    f"{result.run_dir} {meta.status} exit={meta.exit_status} "
                    f"traced={traced} untraced={untraced}",
                    flush=True,
                )
    return 0 if complete else 1


_EVALUATE_EPILOG = """\
protocol (ADFA-LD): fit on Training_Data_Master (833 normal traces), score
Validation_Data_Master (4,372 normal) and Attack_Data_Master (746 attacks, 6 types).
Metrics: ROC AUC with a stratified-bootstrap 95% interval (fixed seed), false alarms at
90% detection (FAR@90), detection at 1% and 10% false alarms (TPR@1, TPR@10), and
TPR@10 per attack type. Rates are fractions in JSON, percentages in the table.
Detector settings were chosen on normal training traces only, never on attacks.

--json prints one object:
  {"dataset": {"name": "ADFA-LD", "path": DIR, "train": 833, "validation": 4372,
               "attack": 746, "attack_types": [...]},
   "detectors": {NAME: {"settings": "Stide(n=6)", "auc": float,
                        "auc_ci": [low, high], "far_at_90": float,
                        "tpr_at_1": float, "tpr_at_10": float,
                        "per_attack": {TYPE: {"traces": int, "tpr_at_1": float,
                                              "tpr_at_10": float}},
                        "fit_seconds": float, "score_seconds": float}},
   "published": [{"method", "source", "auc", "far_at_90"}],
   "resamples": int, "seed": int}
A missing or malformed DIR is a one-line error and exit status 2.
"""


def _add_evaluate(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    from syscall_lab.detect.detectors import DETECTORS

    parser = sub.add_parser(
        "evaluate",
        help="measure the anomaly detectors on a public benchmark (ADFA-LD)",
        description="Fit every detector (or one) on the benchmark's normal training traces and "
        "report how well it separates attacks from normal test traces, beside published results.",
        epilog=_EVALUATE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("benchmark", choices=["adfa-ld"], help="the benchmark")
    parser.add_argument("dir", metavar="DIR", help="the ADFA-LD folder (holds *_Data_Master)")
    parser.add_argument(
        "--detector",
        choices=sorted(DETECTORS),
        metavar="NAME",
        help=f"only this detector, one of: {', '.join(sorted(DETECTORS))} (default: all)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON (shape below)")
    parser.add_argument(
        "--resamples", type=int, default=1000, help="bootstrap resamples for the AUC interval"
    )
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    return parser


def _run_evaluate(args: argparse.Namespace) -> int:
    import json

    from syscall_lab.detect.adfa import PUBLISHED, benchmark_adfa, load_adfa, render_adfa_table
    from syscall_lab.detect.detectors import DETECTORS, make_detector

    names = [args.detector] if args.detector else list(DETECTORS)
    dataset = load_adfa(args.dir)
    runs = benchmark_adfa(
        dataset, [make_detector(n) for n in names], resamples=args.resamples, seed=args.seed
    )
    if not args.json:
        print(render_adfa_table(runs))
        return 0
    document = {
        "dataset": {
            "name": "ADFA-LD",
            "path": str(dataset.root),
            "train": len(dataset.train),
            "validation": len(dataset.validation),
            "attack": len(dataset.attack),
            "attack_types": list(dataset.attack_types),
        },
        "detectors": {
            run.detector: {
                "settings": run.settings,
                **run.result.to_dict(),
                "fit_seconds": run.fit_seconds,
                "score_seconds": run.score_seconds,
            }
            for run in runs
        },
        "published": [
            {"method": p.method, "source": p.source, "auc": p.auc, "far_at_90": p.far_at_90}
            for p in PUBLISHED
        ],
        "resamples": args.resamples,
        "seed": args.seed,
    }
    print(json.dumps(document, indent=2))
    return 0


_RUN_DESCRIPTION = """\
The main job: capture every condition under strace, analyse, and write the data set and the
markdown report. Conditions: normal, cpu, memory, io (python -m workloads, cut to the measured
phase) and normal-control (a second batch of normal), interleaved over --repeats; then normal
beside untraced cpu, memory and io stress (normal-under-*) unless --no-ambient; then
stress-ng's own stressors (stress-ng-cpu, -memory, -io) unless --no-stress-ng or stress-ng is
missing. The same defaults as `pytest experiments/`.

Writes, under the current folder unless told otherwise: OUT/experiment.json, OUT/datasets/
CONDITION/RUN.{csv,parquet,json} (events and metadata per run), OUT/runs/RUN/ (raw strace
logs), and REPORT with its figures (PNG) beside it. OUT must not hold an experiment already;
`syscall-lab report OUT` renders its report again. Prints the report's path, then its Findings.
Progress goes to stderr when it is a terminal. Exit status: 0 done; 2 on an error (strace
missing, ptrace refused, a run that did not complete, bad settings); 130 interrupted."""


def _add_run(
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
        choices=["python", "stress-ng"],
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
    from syscall_lab.detect.adfa import default_adfa_dir, load_adfa
    from syscall_lab.detect.conditions import anomaly_tables
    from syscall_lab.report.markdown import extract_section, write_report

    if adfa_dir is None and default_adfa_dir().is_dir():
        adfa_dir = str(default_adfa_dir())
    adfa = load_adfa(adfa_dir) if adfa_dir else None
    anomaly = anomaly_tables(analysis.data, adfa=adfa, seed=analysis.seed)
    path = write_report(analysis, report, anomaly=anomaly)
    print(f"report: {path}")
    print()
    print(extract_section(path.read_text(encoding="utf-8"), "Findings"), end="")
    return 0


def _run_run(args: argparse.Namespace) -> int:
    from datetime import datetime, timezone
    from pathlib import Path

    from syscall_lab.capture.strace import find_strace
    from syscall_lab.experiment.run import (
        ExperimentSettings,
        analyse_experiment,
        check_settings,
        run_experiment,
    )

    # A fresh folder per run by default: an experiment folder never mixes two runs' data.
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    settings = ExperimentSettings(
        repeats=args.repeats,
        scale=args.scale,
        seed=args.seed,
        backend=args.backend,
        stress_ng=not args.no_stress_ng,
        out_dir=Path(args.out) if args.out else Path("runs") / f"experiment-{stamp}",
        **({"ambient": ()} if args.no_ambient else {}),
    )
    check_settings(settings)
    find_strace()  # before any folder is made: a missing strace leaves nothing behind
    bar, progress = _progress_bar()
    with bar:
        data = run_experiment(settings, progress=progress)
        progress("analysing", len(data.runs), len(data.runs))
        analysis = analyse_experiment(data, seed=args.seed)
    print(f"data: {settings.out_dir} ({len(data.runs)} runs)")
    return _finish_report(analysis, args.report, args.adfa_ld)


def _add_report(
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


def _run_report(args: argparse.Namespace) -> int:
    from syscall_lab.experiment.run import analyse_experiment, load_experiment

    data = load_experiment(args.dir)
    analysis = analyse_experiment(data, seed=data.settings.seed)
    return _finish_report(analysis, args.output, args.adfa_ld)


_CLASSIFY_DESCRIPTION = """\
Say which resource each trace stresses (normal, cpu, memory, io), with a score per class
that sums to 1, from features of the whole trace (longest stretch outside syscalls, anonymous
memory asked for, memory-management calls, bytes read/written, time inside IO calls, sync
calls). Each LOG is one trace of any program, captured with timestamps
(strace -f -ttt -T, as `syscall-lab capture` does): a log file (.gz/.xz too), or the PREFIX
of a strace -ff set, whose PREFIX.PID files are merged into one trace.

Without --model, the default model is used: built once from a fresh capture of the four
workloads (2 runs each, scale 1, in a temporary folder) and cached in
$XDG_CACHE_HOME/syscall-lab/ (else ~/.cache/syscall-lab/); what happens is said on stderr.

Output: a table (trace, label, scores). With --json, JSON lines: one object per LOG, in order:
  {"trace": LOG, "label": CLASS, "scores": {"normal": p, "cpu": p, "memory": p, "io": p}}
Exit status: 0 done; 2 a missing or unreadable LOG, a LOG that is not strace output, or a
model file that cannot be read (one line on stderr)."""


def _add_classify(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        "classify",
        help="say which resource a trace stresses: normal, cpu, memory or io",
        description=_CLASSIFY_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("logs", nargs="+", metavar="LOG", help="strace logs, one trace each")
    parser.add_argument(
        "--model", metavar="M", help="a model from `syscall-lab train` (default: cached model)"
    )
    parser.add_argument("--json", action="store_true", help="JSON lines, one object per LOG")
    return parser


def _run_classify(args: argparse.Namespace) -> int:
    import json

    from tabulate import tabulate

    from syscall_lab.classify.model import CLASSES, classify_trace, load_model
    from syscall_lab.classify.training import default_model

    if args.model:
        model = load_model(args.model)
    else:
        model, _ = default_model(say=lambda text: print(f"syscall-lab classify: {text}",
                                                        file=sys.stderr, flush=True))  # fmt: skip
    results = [classify_trace(model, log) for log in args.logs]
    if args.json:
        for result in results:
            print(json.dumps(result.to_json()))
        return 0
    rows = [[r.trace, r.label, *(r.scores[c] for c in CLASSES)] for r in results]
    print(tabulate(rows, headers=["trace", "label", *CLASSES], floatfmt=".3f"))
    return 0


def _add_train(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        "train",
        help="build the classify model from captured runs",
        description="Fit the resource classifier (see `classify --help`) on the whole raw "
        "traces of the runs in DIR: an experiment folder (`syscall-lab run --out DIR`, holds "
        "experiment.json and runs/) or a folder of run folders (`syscall-lab capture --out "
        "DIR`, each with metadata.json and trace.log). A run's class is its workload's "
        "resource (normal, normal-control and normal-under-* are normal; memory-brk and "
        "stress-ng's memory stressor are memory...), or its --label when that is a class "
        "name; other runs are left out. Every class needs a run. Writes the model (JSON "
        "with format_version) atomically to M and prints the runs per class. Exit status: "
        "0 done; 2 DIR unreadable, not runs, or a class without runs.",
    )
    parser.add_argument("dir", metavar="DIR", help="experiment folder or folder of run folders")
    parser.add_argument("-o", "--output", required=True, metavar="M", help="model file to write")
    return parser


def _run_train(args: argparse.Namespace) -> int:
    from syscall_lab.classify.training import train_model

    model = train_model(args.dir)
    path = model.save(args.output)
    runs = ", ".join(f"{label} {count}" for label, count in model.runs.items())
    print(f"wrote {path} (runs: {runs})")
    return 0


# (add, run) of every command, in the order `syscall-lab --help` lists them.
COMMANDS: list[tuple[AddCommand, RunCommand]] = [
    (_add_run, _run_run),
    (_add_report, _run_report),
    (_add_capture, _run_capture),
    (_add_parse, _run_parse),
    (_add_profile, _run_profile),
    (_add_evaluate, _run_evaluate),
    (_add_train, _run_train),
    (_add_classify, _run_classify),
]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (SyscallLabError, TraceError) as exc:
        print(f"syscall-lab {args.command}: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        print(f"syscall-lab {args.command}: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"syscall-lab {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

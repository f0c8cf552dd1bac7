"""``syscall-lab watch`` (a program traced live, its windows scored against a baseline) and
``fit`` (the baseline's detector and threshold, saved for ``watch --model``)."""

from __future__ import annotations

import argparse
import sys

NICENESS = 10  # watch's own priority drop once strace runs (see watch_trace)

_WATCH_USAGE = """\
%(prog)s [--baseline LOG_OR_RUN... | --model M] [--detector NAME]
                         [--window N] [--observer strace|ebpf] [--json]
                         (-p PID | -- CMD ARGS...)"""

_WATCH_DESCRIPTION = """\
Trace a command, or a running process (-p: it and its threads, and what they start), live
with strace -f -ttt -T -y, parse its output as it comes, cut the calls into windows of N
calls (all processes together, in strace's order), and score each window against a baseline
of normal traces: an alert when a window's score is above the threshold.

The baseline: --baseline LOG_OR_RUN... (strace logs of normal runs, or capture run folders),
fitted here, or --model M from `syscall-lab fit`. The threshold is set from the baseline's own
held-out window scores for a false-alarm budget of 1 window in 1,000 (docs/watch.md says how).

On a terminal: a live view (calls per second, the last window's score and threshold, top
syscalls, errors, latency p50 and p99, alerts), then a summary. Otherwise one line per alert
and a summary. --json: JSON lines, times the trace's own (seconds since the epoch):
  {"event": "window", "time": T, "calls": N, "score": S, "threshold": H, "top": {NAME: N}}
  {"event": "alert", "time": T, "pid": P, "score": S, "threshold": H, "top": {NAME: N},
   "new_syscalls": [NAME]}
  {"event": "summary", "alerts": N, "calls": N, "seconds": S, "exit_status": E}

--observer ebpf: the eBPF observer (bpftrace's events program, docs/ebpf.md) instead of
strace: the program is not stopped at each call; calls carry no arguments; a -p process's
exit status is not seen. Unavailable here (not root, no bpftrace...): one line, exit 2.

Ctrl-C or SIGTERM ends the watch cleanly: strace detaches from a -p process (it keeps
running) or stops the command; the calls already traced are scored and the summary printed.
The command's output is discarded. Exit status: the command's (128+N when killed by signal
N); with -p, 0 when the process exited; 130 after Ctrl-C, 143 after SIGTERM; 2 bad usage, a
baseline or model that cannot be read, no such command or process, strace failed."""


def add_watch(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    from syscall_lab.detect.registry import DETECTORS
    from syscall_lab.watch.baseline import DEFAULT_DETECTOR, DEFAULT_WINDOW

    parser = sub.add_parser(
        "watch",
        help="watch a program live and alert when it leaves its baseline",
        usage=_WATCH_USAGE,
        description=_WATCH_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    baseline = parser.add_mutually_exclusive_group(required=True)
    baseline.add_argument(
        "--baseline", nargs="+", metavar="LOG_OR_RUN", help="normal traces: logs or run folders"
    )
    baseline.add_argument("--model", metavar="M", help="a model from `syscall-lab fit`")
    parser.add_argument(
        "--detector",
        choices=sorted(DETECTORS),
        metavar="NAME",
        help=f"detector fitted on --baseline (default {DEFAULT_DETECTOR})",
    )
    parser.add_argument(
        "--window",
        type=int,
        metavar="N",
        help=f"calls per window, with --baseline (default {DEFAULT_WINDOW})",
    )
    parser.add_argument(
        "--observer",
        choices=("strace", "ebpf"),
        default="strace",
        help="what traces the program (default strace)",
    )
    parser.add_argument("--json", action="store_true", help="JSON lines on stdout")
    parser.add_argument("-p", "--pid", type=int, metavar="PID", help="attach to this process")
    parser.add_argument(
        "argv", nargs=argparse.REMAINDER, metavar="CMD", help="the command to run, after --"
    )
    return parser


def _model(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from syscall_lab.detect.base import DetectorError
    from syscall_lab.watch.baseline import (
        DEFAULT_DETECTOR,
        DEFAULT_WINDOW,
        fit_baseline,
        load_watch_model,
    )

    if args.model is None:
        return fit_baseline(
            args.baseline,
            detector=args.detector or DEFAULT_DETECTOR,
            window=DEFAULT_WINDOW if args.window is None else args.window,
        )
    if args.detector is not None or args.window is not None:
        raise DetectorError("--detector and --window come from the model: not with --model")
    return load_watch_model(args.model)


def run_watch(args: argparse.Namespace) -> int:
    import json

    from rich.console import Console

    from syscall_lab.watch.ebpf_source import EbpfTrace
    from syscall_lab.watch.monitor import Monitor, Verdict
    from syscall_lab.watch.records import alert_record, summary_record, window_record
    from syscall_lab.watch.session import watch_trace
    from syscall_lab.watch.source import LiveTrace
    from syscall_lab.watch.view import LiveView

    command = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    # The trace checks the observer and the target before any fitting.
    source = EbpfTrace if args.observer == "ebpf" else LiveTrace
    live_trace = source(command, pid=args.pid)
    model = _model(args)
    monitor = Monitor(model, root=args.pid)
    console = Console()
    live = not args.json and console.is_terminal

    def report(verdict: Verdict) -> None:
        if args.json:
            records = [window_record(verdict)] + ([alert_record(verdict)] if verdict.alert else [])
            sys.stdout.write("".join(json.dumps(record) + "\n" for record in records))
            sys.stdout.flush()
        elif verdict.alert and not live:
            print(_alert_line(verdict), flush=True)

    target = f"pid {args.pid}" if args.pid is not None else " ".join(command)
    if live:
        with LiveView(monitor, f"syscall-lab watch: {target}", console):
            summary = watch_trace(live_trace, monitor, report, niceness=NICENESS)
    else:
        summary = watch_trace(live_trace, monitor, report, niceness=NICENESS)
    if args.json:
        print(json.dumps(summary_record(summary)), flush=True)
    else:
        status = "-" if summary.exit_status is None else summary.exit_status
        print(
            f"{summary.alerts} alerts over {summary.calls:,} calls in {summary.seconds:.2f} s "
            f"of trace; exit status {status}",
            flush=True,
        )
    if isinstance(live_trace, EbpfTrace) and (live_trace.lost or live_trace.late):
        print(
            f"eBPF observer: {live_trace.lost:,} calls lost by bpftrace, {live_trace.late:,} "
            "passed on out of entry-time order",
            file=sys.stderr,
            flush=True,
        )
    if live_trace.stopped_by is not None:
        return 128 + live_trace.stopped_by
    return summary.exit_status if args.pid is None and summary.exit_status is not None else 0


def _alert_line(verdict) -> str:  # type: ignore[no-untyped-def]
    from syscall_lab.formatting import number

    window = verdict.window
    top = ", ".join(f"{name} {count}" for name, count in window.top.items())
    new = f"; new: {', '.join(verdict.new_syscalls)}" if verdict.new_syscalls else ""
    return (
        f"alert at {window.time:.6f} pid {window.pid}: score {number(verdict.score)} > "
        f"{number(verdict.threshold)}; top: {top}{new}"
    )


def add_fit(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    from syscall_lab.detect.registry import DETECTORS
    from syscall_lab.watch.baseline import DEFAULT_BUDGET, DEFAULT_DETECTOR, DEFAULT_WINDOW

    parser = sub.add_parser(
        "fit",
        help="fit watch's detector and threshold on normal traces",
        description="Fit the detector `watch` scores windows with on the windows of normal "
        "traces (strace logs or capture run folders, each one run), and set its threshold "
        "from the traces' own held-out window scores for a false-alarm budget (docs/watch.md "
        "gives the rule). Writes the model (JSON with format_version) atomically to M and "
        "prints its threshold. Exit status: 0 done; 2 a trace that cannot be read, a baseline "
        "too short for two windows, or a bad setting.",
    )
    parser.add_argument("logs", nargs="+", metavar="LOG_OR_RUN", help="normal traces")
    parser.add_argument("-o", "--output", required=True, metavar="M", help="model file to write")
    parser.add_argument(
        "--detector",
        choices=sorted(DETECTORS),
        default=DEFAULT_DETECTOR,
        metavar="NAME",
        help=f"one of {', '.join(sorted(DETECTORS))} (default {DEFAULT_DETECTOR})",
    )
    parser.add_argument(
        "--window", type=int, default=DEFAULT_WINDOW, metavar="N",
        help=f"calls per window (default {DEFAULT_WINDOW})",
    )  # fmt: skip
    parser.add_argument(
        "--budget", type=float, default=DEFAULT_BUDGET, metavar="B",
        help=f"false alarms allowed, a share of windows (default {DEFAULT_BUDGET:g})",
    )  # fmt: skip
    return parser


def run_fit(args: argparse.Namespace) -> int:
    from syscall_lab.formatting import number
    from syscall_lab.watch.baseline import fit_baseline

    model = fit_baseline(args.logs, detector=args.detector, window=args.window, budget=args.budget)
    path = model.save(args.output)
    print(
        f"wrote {path} ({model.detector.name}, windows of {model.window} calls, threshold "
        f"{number(model.threshold)} from {model.held_out:,} held-out windows, budget "
        f"{args.budget:g})"
    )
    return 0

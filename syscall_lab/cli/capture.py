"""``syscall-lab capture``: workloads or a command under strace or eBPF, one folder per run."""

from __future__ import annotations

import argparse

from syscall_lab.capture.ebpf_program import MODES
from syscall_lab.capture.observer import OBSERVERS
from syscall_lab.conditions import BACKENDS, RESOURCES
from syscall_lab.errors import SyscallLabError


def add_capture(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        "capture",
        help="trace workloads or a command (strace or eBPF), a folder per run",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="""Run a workload (--condition, repeatable: interleaved) or a command
(--label NAME -- CMD ARGS) under an observer: strace (the default), or with --observer
ebpf the eBPF observer (bpftrace, as root), which records each call's number, return
value and times but no arguments, or with --ebpf-mode counts only counts per syscall.
Each run gets a folder under --out holding the log (strace: trace.log, trace.log.PID
with --ff; eBPF: ebpf-events.log or ebpf-counts.log), stdout.txt, stderr.txt and
metadata.json; one line per run is printed: FOLDER STATUS exit=N traced=Ts untraced=Ts.
Exit status 0 when every run is complete, 1 otherwise, 2 on an error (eBPF unavailable
here: the one-line reason).

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
        choices=BACKENDS,
        default="python",
        help="workloads: python -m workloads or bounded stress-ng stressors",
    )
    parser.add_argument("--out", default="runs", help="folder of the run folders (default runs/)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per run (default 60)")
    parser.add_argument(
        "--ambient",
        choices=RESOURCES,
        help="untraced load beside the traced command (then sync and settle)",
    )
    parser.add_argument(
        "--ambient-backend",
        choices=BACKENDS,
        default="stress-ng",
        help="what makes the ambient load (default stress-ng)",
    )
    parser.add_argument(
        "--observer",
        choices=OBSERVERS,
        default="strace",
        help="who traces: strace (arguments, paths) or ebpf (default strace)",
    )
    parser.add_argument(
        "--ebpf-mode",
        choices=MODES,
        default="events",
        help="ebpf: a line per call, or counts kept in the kernel (default events)",
    )
    parser.add_argument("--ff", action="store_true", help="strace -ff: one log per process")
    parser.add_argument("--string-size", type=int, default=None, help="strace -s (default 64)")
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


def run_capture(args: argparse.Namespace) -> int:
    import json

    from syscall_lab.capture.ambient import Ambient
    from syscall_lab.capture.observer import make_observer
    from syscall_lab.capture.run import capture_command, capture_condition
    from syscall_lab.capture.strace import StraceOptions

    if args.label and not args.argv:
        raise SyscallLabError("--label needs a command after --")
    if args.condition and args.argv:
        raise SyscallLabError("give --condition or a command (with --label), not both")
    strace_only = [
        flag
        for flag, given in (("--ff", args.ff), ("--trace", args.trace),
                            ("--seccomp-bpf", args.seccomp_bpf),
                            ("--string-size", args.string_size is not None))
        if given
    ]  # fmt: skip
    if args.observer != "strace" and strace_only:
        raise SyscallLabError(f"{', '.join(strace_only)}: strace options, not for --observer ebpf")
    try:
        strace_options = StraceOptions(
            separate_files=args.ff,
            **({} if args.string_size is None else {"string_size": args.string_size}),
            trace=args.trace,
            seccomp_bpf=args.seccomp_bpf,
        )
    except ValueError as exc:
        raise SyscallLabError(str(exc)) from None
    options = {
        "out_dir": args.out,
        "observer": make_observer(
            args.observer, ebpf_mode=args.ebpf_mode, strace_options=strace_options
        ),
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

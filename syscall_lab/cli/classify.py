"""``syscall-lab train`` (the resource classifier's model) and ``classify`` (traces with it)."""

from __future__ import annotations

import argparse
import sys

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


def add_classify(
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


def run_classify(args: argparse.Namespace) -> int:
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


def add_train(
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


def run_train(args: argparse.Namespace) -> int:
    from syscall_lab.classify.training import train_model

    model = train_model(args.dir)
    path = model.save(args.output)
    runs = ", ".join(f"{label} {count}" for label, count in model.runs.items())
    print(f"wrote {path} (runs: {runs})")
    return 0

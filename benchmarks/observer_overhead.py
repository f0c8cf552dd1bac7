"""The observer effect: how much each observer slows a syscall-heavy program.

The program is a Python loop of ``os.stat`` on a path that does not exist (--calls of them,
100,000 by default, each a failing ``newfstatat``). Each round runs it, in this order:

- ``untraced``: alone;
- ``strace``: under ``strace -f -ttt -T -o FILE`` (the lab's strace flags, without ``-y``);
- ``ebpf events``: under the eBPF observer writing a line per call
  (``syscall_lab.capture.ebpf``, mode ``events``);
- ``ebpf counts``: under the eBPF observer counting in the kernel (mode ``counts``).

Wall times are from the command's start to its end (the eBPF observer's ``traced_seconds``:
from the release of the command, once the probes are attached); bpftrace's start-up (compile,
load, attach) is reported apart. The median of --rounds rounds is reported, each observer's
ratio to the untraced median beside it, and the calls each observer recorded (its own log
read back), so a fast observer that missed calls would show. The load average before and
after is printed: other work on the machine slows every row. Every round's figures, the
machine and the loads are saved to ``benchmarks/results/observer-overhead-UTCTIME.json``.

Usage (as root, where eBPF tracing is available): ``.venv/bin/python
benchmarks/observer_overhead.py [--calls 100000] [--rounds 5]``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tabulate import tabulate

from syscall_lab.capture.ebpf import EbpfObserver, bpftrace_version, ebpf_unavailable
from syscall_lab.capture.processes import python_executable
from syscall_lab.capture.run import capture_command
from syscall_parse import count_events, count_trace
from syscall_parse.atomic import write_text
from syscall_parse.counts import Profile
from syscall_parse.ebpf_log import read_ebpf_counts, read_ebpf_log

__all__ = ["main", "measure_round"]

# argv[1]: the number of calls.
PROGRAM = """\
import os, sys
for _ in range(int(sys.argv[1])):
    try:
        os.stat("/nonexistent/observer-overhead")
    except FileNotFoundError:
        pass
"""
OBSERVERS = ("untraced", "strace", "ebpf events", "ebpf counts")
RESULTS = Path(__file__).with_name("results")


def _timed(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def _stat_calls(profile: Profile) -> int:
    return profile.counts().get("newfstatat", (0, 0))[0]


def _ebpf_profile(log: Path, mode: str) -> Profile:
    """The profile of an eBPF log, which must be whole."""
    if mode == "counts":
        counts = read_ebpf_counts(log)
        whole, profile = counts.complete, counts.profile()
    else:
        events = read_ebpf_log(log)
        whole, profile = events.complete, count_events(events.events)
    if not whole:
        raise SystemExit(f"{log}: the log lacks calls the kernel recorded")
    return profile


def measure_round(command: list[str], folder: Path) -> dict[str, tuple[float, float, int]]:
    """``{observer: (seconds, start-up seconds, newfstatat calls recorded)}`` for one round."""
    log = folder / "strace.log"
    strace = shutil.which("strace") or "strace"
    result = {
        "untraced": (_timed(command), 0.0, 0),
        "strace": (_timed([strace, "-f", "-ttt", "-T", "-o", str(log), *command]), 0.0, 0),
    }
    result["strace"] = (result["strace"][0], 0.0, _stat_calls(count_trace(log)))
    for mode in ("events", "counts"):
        run = capture_command(
            command, label=mode, out_dir=folder, observer=EbpfObserver(mode),
            measure_untraced=False,
        )  # fmt: skip
        meta = run.metadata
        if meta.status != "complete" or meta.traced_seconds is None:
            raise SystemExit(f"ebpf {mode}: {meta.status}: {meta.error}")
        startup = meta.observer.startup_seconds or 0.0
        calls = _stat_calls(_ebpf_profile(run.logs[0], mode))
        result[f"ebpf {mode}"] = (meta.traced_seconds, startup, calls)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=100_000, help="stat calls (default 100000)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds, interleaved (default 5)")
    args = parser.parse_args(argv)
    reason = ebpf_unavailable(probe=True)
    if reason is not None:
        print(f"observer_overhead: eBPF tracing is unavailable: {reason}", file=sys.stderr)
        return 1
    command = [python_executable(), "-c", PROGRAM, str(args.calls)]
    load_before = os.getloadavg()
    rounds = []
    with tempfile.TemporaryDirectory(prefix="observer-overhead-") as temp:
        for number in range(args.rounds):
            folder = Path(temp) / f"round-{number}"
            folder.mkdir()
            rounds.append(measure_round(command, folder))
            shutil.rmtree(folder)
    untraced = statistics.median(r["untraced"][0] for r in rounds)
    rows = []
    for observer in OBSERVERS:
        seconds = statistics.median(r[observer][0] for r in rounds)
        startup = statistics.median(r[observer][1] for r in rounds)
        calls = min(r[observer][2] for r in rounds)
        rows.append([
            f"`{observer}`", f"{seconds:.2f}", f"x{seconds / untraced:.1f}",
            f"{startup:.2f}" if observer.startswith("ebpf") else "-",
            f"{calls:,}" if observer != "untraced" else "-",
        ])  # fmt: skip
    load_after = os.getloadavg()
    bpftrace = bpftrace_version(shutil.which("bpftrace") or "bpftrace")
    print(
        f"{args.calls:,} failing stat calls in Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {platform.release()}, bpftrace {bpftrace}; median of "
        f"{args.rounds} rounds; load average {load_before[0]:.2f} before, "
        f"{load_after[0]:.2f} after\n"
    )
    now = datetime.datetime.now(datetime.timezone.utc)
    saved = RESULTS / f"observer-overhead-{now:%Y-%m-%dT%H%M%SZ}.json"
    write_text(saved, json.dumps({
        "utc": now.isoformat(timespec="seconds"), "calls": args.calls, "rounds": rounds,
        "python": platform.python_version(), "kernel": platform.release(),
        "cpus": os.cpu_count(), "bpftrace": bpftrace,
        "load_before": load_before, "load_after": load_after,
    }, indent=1) + "\n")  # fmt: skip
    print(tabulate(
        rows,
        headers=["observer", "wall s (after start-up)", "x untraced", "start-up s",
                 "newfstatat recorded (fewest)"],
        tablefmt="github", disable_numparse=True,
    ))  # fmt: skip
    print(f"\nsaved {saved.relative_to(RESULTS.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

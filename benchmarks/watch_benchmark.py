"""``syscall-lab watch`` measured: detection delay, false alarms, overhead.

The program is ``python -m workloads.switch`` (normal work, the switch marker, a burst, normal
work again; see its docstring). Steps, one after another:

1. **Baseline**: --baseline-runs normal runs (``switch none``, seeds 0, 1, ...) traced with
   ``strace -f -ttt -T -y -o FILE``; the default detector fitted on them (``fit_baseline``,
   default window and budget).
2. **Detection delay**: --burst-runs runs of each burst (``io``, ``memory``) watched through
   the session the command uses (``LiveTrace`` -> ``watch_trace`` -> ``Monitor``), the
   switch marker's call found in the live trace. For each run: the window holding the switch,
   the first alerting window, the delay in windows (0: the switch's own window; 1: the next),
   in calls (from the marker to the end of the alerting window) and in trace seconds (from the
   marker's timestamp to the alerting window's last call), when watch reported it (wall
   clock, the clock of strace's ``-ttt``, from the marker's timestamp), and any alert before
   the switch.
3. **False alarms**: --normal-runs normal runs with seeds the baseline never had, each under
   ``syscall-lab watch --model M --json`` (the command, in a fresh process); alerts counted.
4. **Overhead**: --overhead-rounds rounds, each a normal run of --overhead-work rounds of work
   under ``strace -f -ttt -T -y -o FILE`` and under ``syscall-lab watch --model M --json``
   (stdout discarded), alternating. Reported: the median wall time of each whole command and
   their ratio (watch's includes its interpreter, imports and model load), and the ratio of
   the traced program's own span (first to last trace timestamp), which shows whether reading
   the pipe slowed the program; each round's ratios too (a busy machine makes rounds differ
   by 2x, so a ratio of medians over few rounds moves with the load).

The load average before and after is saved with the results: other work on the machine slows
every row. Results: ``benchmarks/results/watch-<UTC time>.json``.

Usage: ``python benchmarks/watch_benchmark.py [--baseline-runs 10] [--normal-runs 20]
[--burst-runs 5] [--overhead-rounds 10] [--overhead-work 1000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from syscall_lab.capture.strace import find_strace
from syscall_lab.watch.baseline import WatchModel, fit_baseline
from syscall_lab.watch.monitor import Monitor, Verdict
from syscall_lab.watch.session import watch_trace
from syscall_lab.watch.source import LiveTrace
from syscall_parse.atomic import write_text
from syscall_parse.events import Event, Syscall
from syscall_parse.inputs import iter_trace
from workloads.markers import PHASE_SWITCH

__all__ = ["main"]

RESULTS = Path(__file__).resolve().parent / "results"
STRACE_FLAGS = ("-f", "-ttt", "-T", "-y")
WATCH = (sys.executable, "-m", "syscall_lab", "watch")


def _switch(burst: str, seed: int, rounds: int | None = None) -> list[str]:
    extra = ["--rounds", str(rounds)] if rounds else []
    return [sys.executable, "-m", "workloads.switch", burst, "--seed", str(seed), *extra]


def _strace_run(strace: str, log: Path, command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        [strace, *STRACE_FLAGS, "-o", str(log), "--", *command],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, check=True, timeout=600,
    )  # fmt: skip
    return time.perf_counter() - start


def _span(times: list[float]) -> float:
    return max(times) - min(times)


def baseline(strace: str, folder: Path, runs: int) -> tuple[WatchModel, list[Path], float]:
    logs = [folder / f"normal-{seed}.log" for seed in range(runs)]
    for seed, log in enumerate(logs):
        _strace_run(strace, log, _switch("none", seed))
    start = time.perf_counter()
    model = fit_baseline(logs)
    return model, logs, time.perf_counter() - start


class _SwitchMonitor(Monitor):
    """The monitor, noting the switch marker's index among the calls and its time."""

    switch: tuple[int, float | None] | None = None

    def push(self, event: Event) -> None:
        if isinstance(event, Syscall) and PHASE_SWITCH in event.args:
            self.switch = (self.calls, event.time)
        super().push(event)


def detection(model: WatchModel, burst: str, seed: int) -> dict[str, object]:
    """One burst run watched through the session the command uses (without its priority drop,
    which would outlast the call in this process); where the switch and the first alert fell."""
    monitor = _SwitchMonitor(model)
    reported: list[tuple[Verdict, float]] = []  # each verdict, and when it was reported

    def report(verdict: Verdict) -> None:
        reported.append((verdict, time.time()))  # the clock of strace's -ttt timestamps

    status = watch_trace(LiveTrace(_switch(burst, seed)), monitor, report).exit_status
    alerts = [(v.window.index, v.window.time, at) for v, at in reported if v.alert]
    if monitor.switch is None or monitor.switch[1] is None:
        raise SystemExit(f"{burst} seed {seed}: no switch marker in the trace")
    switch_call, switch_time = monitor.switch
    size = model.window
    switch_window = switch_call // size
    after = [alert for alert in alerts if alert[0] >= switch_window]
    first = after[0] if after else None
    return {
        "burst": burst,
        "seed": seed,
        "exit_status": status,
        "calls": monitor.calls,
        "switch_call": switch_call,
        "switch_window": switch_window,
        "alerts_before_switch": len(alerts) - len(after),
        "alerts_after_switch": len(after),
        "first_alert_window": first[0] if first else None,
        "delay_windows": first[0] - switch_window if first else None,
        "delay_calls": (first[0] + 1) * size - switch_call if first else None,
        "delay_seconds": first[1] - switch_time if first else None,
        "reported_after_seconds": first[2] - switch_time if first else None,
    }


def false_alarms(model_path: Path, seed: int) -> dict[str, object]:
    """One normal run under the watch command; its summary."""
    done = subprocess.run(
        [*WATCH, "--model", str(model_path), "--json", "--", *_switch("none", seed)],
        capture_output=True, text=True, check=True, timeout=600,
    )  # fmt: skip
    summary = json.loads(done.stdout.splitlines()[-1])
    return {"seed": seed, "alerts": summary["alerts"], "calls": summary["calls"]}


def overhead_round(
    strace: str, model_path: Path, folder: Path, seed: int, work: int
) -> dict[str, float]:
    """The same normal run under strace -o FILE and under watch: wall times and spans."""
    log = folder / "overhead.log"
    strace_wall = _strace_run(strace, log, _switch("none", seed, work))
    strace_span = _span([e.time for e in iter_trace(log) if getattr(e, "time", None)])
    start = time.perf_counter()
    done = subprocess.run(
        [*WATCH, "--model", str(model_path), "--json", "--", *_switch("none", seed, work)],
        capture_output=True, text=True, check=True, timeout=600,
    )  # fmt: skip
    watch_wall = time.perf_counter() - start
    watch_span = json.loads(done.stdout.splitlines()[-1])["seconds"]
    return {
        "strace_wall": strace_wall,
        "watch_wall": watch_wall,
        "strace_span": strace_span,
        "watch_span": watch_span,
    }


def _strace_version(strace: str) -> str:
    return subprocess.run([strace, "-V"], capture_output=True, text=True).stdout.split("\n")[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline-runs", type=int, default=10)
    parser.add_argument("--normal-runs", type=int, default=20)
    parser.add_argument("--burst-runs", type=int, default=5)
    parser.add_argument("--overhead-rounds", type=int, default=10)
    parser.add_argument("--overhead-work", type=int, default=1000, help="normal rounds")
    args = parser.parse_args(argv)
    strace = find_strace()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="watch-benchmark-") as temp:
        folder = Path(temp)
        model, _, fit_seconds = baseline(strace, folder, args.baseline_runs)
        model_path = model.save(folder / "model.json")
        print(f"baseline: threshold {model.threshold:.4g} from {model.held_out} held-out "
              f"windows, fitted in {fit_seconds:.2f} s", flush=True)  # fmt: skip
        detections = [
            detection(model, burst, 100 + seed)
            for burst in ("io", "memory")
            for seed in range(args.burst_runs)
        ]
        for row in detections:
            print(
                f"  {row['burst']} seed {row['seed']}: delay {row['delay_windows']} windows, "
                f"{row['delay_calls']} calls, {row['delay_seconds']} s; "
                f"{row['alerts_before_switch']} alerts before the switch",
                flush=True,
            )
        normals = [false_alarms(model_path, 1000 + seed) for seed in range(args.normal_runs)]
        print(f"false alarms: {sum(r['alerts'] for r in normals)} over {len(normals)} normal "
              "runs", flush=True)  # fmt: skip
        rounds = [
            overhead_round(strace, model_path, folder, 2000 + seed, args.overhead_work)
            for seed in range(args.overhead_rounds)
        ]
    load_after = os.getloadavg()
    medians = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
    delays = [r["delay_windows"] for r in detections]
    result = {
        "format_version": 1,
        "benchmark": "watch",
        "utc": datetime.now(timezone.utc).isoformat(),
        "machine": {
            "cpus": os.cpu_count(),
            "kernel": platform.release(),
            "python": platform.python_version(),
            "strace": _strace_version(strace),
            "load_before": load_before,
            "load_after": load_after,
        },
        "settings": vars(args),
        "model": {
            "detector": model.detector.name,
            "window": model.window,
            "budget": model.budget,
            "threshold": model.threshold,
            "held_out": model.held_out,
            "fit_seconds": fit_seconds,
        },
        "detection": {
            "runs": detections,
            "detected_within_one_window": sum(d is not None and d <= 1 for d in delays),
            "runs_total": len(detections),
            "alerts_before_switch": sum(r["alerts_before_switch"] for r in detections),
        },
        "false_alarms": {"runs": normals, "alerts": sum(r["alerts"] for r in normals)},
        "overhead": {
            "rounds": rounds,
            "median": medians,
            "wall_ratio": medians["watch_wall"] / medians["strace_wall"],
            "span_ratio": medians["watch_span"] / medians["strace_span"],
            "wall_ratio_per_round": [r["watch_wall"] / r["strace_wall"] for r in rounds],
            "span_ratio_per_round": [r["watch_span"] / r["strace_span"] for r in rounds],
        },
    }
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H%M%SZ")
    path = write_text(RESULTS / f"watch-{stamp}.json", json.dumps(result, indent=2) + "\n")
    over = result["overhead"]
    print(
        f"detected within one window: {result['detection']['detected_within_one_window']} of "
        f"{len(detections)}; false alarms {result['false_alarms']['alerts']} over "
        f"{len(normals)} runs; overhead: wall x{over['wall_ratio']:.3f} (watch "
        f"{medians['watch_wall']:.2f} s, strace -o {medians['strace_wall']:.2f} s), program "
        f"span x{over['span_ratio']:.3f}; load {load_before[0]:.2f} -> {load_after[0]:.2f}; "
        f"wrote {path}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

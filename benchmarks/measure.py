"""Measuring a command as users meet it: wall time of the whole process tree (interpreter start
and imports included), its CPU time, the largest resident set of one of its processes and the
sampled peaks of the tree's summed RSS and PSS; and a library call's time and peak memory in a
fresh process of its own.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

__all__ = ["measure_command", "measure_read_trace", "measured_code", "result_header"]

# Where the measured commands run: 'python -m' puts the working directory first on sys.path,
# so a run from a checkout would import that checkout's package instead of PYTHONPATH's.
_NEUTRAL = tempfile.gettempdir()

# Runs argv[1:] and prints the largest ru_maxrss of its process tree and its CPU seconds: a
# process of its own, so that no earlier child of the benchmark counts.
_WRAPPER = textwrap.dedent(
    """
    import resource, subprocess, sys
    subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(usage.ru_maxrss, usage.ru_utime + usage.ru_stime, file=sys.stderr)
    """
)


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants, from /proc (a process gone meanwhile is left out)."""
    found = [pid]
    for at in found:
        try:
            children = Path(f"/proc/{at}/task/{at}/children").read_text().split()
        except OSError:
            continue
        found.extend(int(child) for child in children)
    return found


def _rss_pss_kb(pid: int) -> tuple[int, int]:
    """(Rss, Pss) of a process in kB, or (0, 0) if it is gone."""
    values = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
            name, _, rest = line.partition(":")
            values[name] = int(rest.split()[0])
    except (OSError, ValueError, IndexError):
        return 0, 0
    return values.get("Rss", 0), values.get("Pss", 0)


def _run_once(command: list[str], interval: float) -> dict[str, float]:
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", _WRAPPER, *command],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=_NEUTRAL,
    )
    rss_sum = pss_sum = 0
    try:
        while process.poll() is None:
            sizes = [_rss_pss_kb(pid) for pid in _tree(process.pid)[1:]]  # the wrapper aside
            rss_sum = max(rss_sum, sum(rss for rss, _ in sizes))
            pss_sum = max(pss_sum, sum(pss for _, pss in sizes))
            time.sleep(interval)
    finally:
        if process.poll() is None:
            process.kill()
        _, errors = process.communicate()
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        raise subprocess.CalledProcessError(process.returncode, command, stderr=errors)
    maxrss_kb, cpu = errors.split()[-2:]
    return {
        "seconds": seconds,
        "cpu_seconds": float(cpu),
        "peak_mb": int(maxrss_kb) / 1024,
        "tree_rss_mb": rss_sum / 1024,
        "tree_pss_mb": pss_sum / 1024,
        "load": os.getloadavg()[0],
    }


def measure_command(command: list[str], repeat: int, interval: float = 0.02) -> dict[str, object]:
    """The best (shortest) of ``repeat`` runs of ``command``, with every run's seconds and the
    1-minute load average after each: ``seconds``, ``cpu_seconds``, ``peak_mb`` (largest
    ``ru_maxrss`` of one process), ``tree_rss_mb`` and ``tree_pss_mb`` (sampled peaks of the
    tree's sums: forked workers share pages, which RSS counts in each and PSS splits), ``runs``.
    The wall time includes the start of a small wrapper process (about 20 ms). Each sample
    reads every process's smaps_rollup (0.3 ms for a 200 MB process): every 20 ms that takes
    about 5% of a core from the measured command, every 5 ms (before session 4) about 20%."""
    runs = [_run_once(command, interval) for _ in range(repeat)]
    best = min(runs, key=lambda run: run["seconds"])
    return {**best, "runs": [[run["seconds"], run["load"]] for run in runs]}


# read_trace in a fresh process: argv = log. Prints seconds, peak RSS growth over the imports,
# and the frame's own size (memory_usage(deep=True)).
_READ_TRACE = textwrap.dedent(
    """
    import json, resource, sys, time
    from syscall_parse.table import read_trace
    import pandas, pyarrow
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    frame = read_trace(sys.argv[1])
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "imports_mb": before,
                      "worker_peak_mb": workers,
                      "frame_mb": frame.memory_usage(deep=True).sum() / 2**20}))
    """
)


def measure_read_trace(log: Path, repeat: int) -> dict[str, object]:
    """The best of ``repeat`` fresh-process runs of ``read_trace(log)``: seconds, peak RSS of
    the process (``peak_mb``) and its growth over the imports, the frame's own size."""
    runs = []
    for _ in range(repeat):
        result = subprocess.run(
            [sys.executable, "-c", _READ_TRACE, str(log)],
            check=True, capture_output=True, text=True, timeout=3600, cwd=_NEUTRAL,
        )  # fmt: skip
        runs.append({**json.loads(result.stdout.splitlines()[-1]), "load": os.getloadavg()[0]})
    best = min(runs, key=lambda run: run["seconds"])
    return {**best, "runs": [[run["seconds"], run["load"]] for run in runs]}


def measured_code() -> str:
    """Where the measured commands import ``syscall_parse`` from (PYTHONPATH decides)."""
    result = subprocess.run(
        [sys.executable, "-c", "import syscall_parse; print(syscall_parse.__file__)"],
        check=True, capture_output=True, text=True, cwd=_NEUTRAL,
    )  # fmt: skip
    return str(Path(result.stdout.strip()).parents[1])


def result_header(format_version: int, argv: list[str]) -> dict[str, object]:
    """The fields every saved result starts with: its format, when, how it was run, the code
    measured and the machine's cores."""
    return {
        "format_version": format_version,
        "utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "argv": argv,
        "code": measured_code(),
        "cpus": os.cpu_count(),
    }

"""How fast the strace parsers read a real log: lines per second and peak memory of each path.

Captures (or takes with --log) a log of a real busy program traced with
``strace -f -ttt -T -y``: two processes of three threads each, writing, reading, seeking and
stat-ing small files (names with spaces), with failing stats. Then each path runs in a fresh
child process, so that its peak resident memory (``ru_maxrss``, and that of its worker
processes) is its own; "peak - imports" is the growth over the RSS the imports took:

- ``reference frame``: ``frame.read_trace`` (per-line Python), on the first --reference-lines;
- ``reference profile``: ``profile_events(iter_trace())`` on the same lines;
- ``fast frame``: ``fastparse.read_trace_fast`` on the whole log;
- ``fast frame + parquet``: the same, then ``frame.write_parquet``;
- ``fast profile``: ``fastparse.profile_file`` on the whole log.

Usage: ``.venv/bin/python benchmarks/parse_speed.py [--lines 1200000] [--log PATH]
[--workers N] [--repeat 3]``. The best of --repeat runs is reported; the load average before
and after is printed, since other work on the machine slows every path.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from tabulate import tabulate

__all__ = ["capture_log", "main", "measure"]

# The traced program: argv = directory, iterations per thread.
WORKLOAD = textwrap.dedent(
    """
    import os, sys, threading
    base, count = sys.argv[1], int(sys.argv[2])
    def work(k):
        path = os.path.join(base, f"file {os.getpid()} {k}.txt")
        for i in range(count):
            with open(path, "w") as f:
                f.write("x" * (i % 100))
            os.stat(path)
            try:
                os.stat(path + ".missing")
            except FileNotFoundError:
                pass
            with open(path, "rb") as f:
                f.seek(0)
                f.read()
    threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    """
)

# The driver strace starts: two workload processes at once.
DRIVER = textwrap.dedent(
    """
    import subprocess, sys
    procs = [subprocess.Popen([sys.executable, sys.argv[1], sys.argv[2], sys.argv[3]])
             for _ in range(2)]
    sys.exit(max(p.wait() for p in procs))
    """
)

# One measured path, run in a child: argv = path name, log, workers, lines limit, out dir.
CHILD = textwrap.dedent(
    """
    import itertools, json, resource, sys, time
    name, log, workers, limit, out = sys.argv[1:6]
    workers = int(workers) if workers != "auto" else None
    limit = int(limit)
    from syscall_parse import fastparse, frame, profile, stream
    def head(path):
        with open(path, encoding="utf-8", errors="surrogateescape", newline="\\n") as f:
            yield from itertools.islice(f, limit)
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    def cpu():
        return sum(u.ru_utime + u.ru_stime for u in
                   (resource.getrusage(resource.RUSAGE_SELF),
                    resource.getrusage(resource.RUSAGE_CHILDREN)))
    cpu_start = cpu()
    start = time.perf_counter()
    if name == "reference frame":
        frame.events_to_frame(stream.iter_events(head(log)))
    elif name == "reference profile":
        profile.profile_events(stream.iter_events(head(log)))
    elif name == "fast frame":
        fastparse.read_trace_fast(log, workers=workers)
    elif name == "fast frame + parquet":
        frame.write_parquet(fastparse.read_trace_fast(log, workers=workers), out + "/t.parquet")
    elif name == "fast profile":
        fastparse.profile_file(log, workers=workers)
    seconds = time.perf_counter() - start
    cpu_seconds = cpu() - cpu_start
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": own, "worker_peak_mb": kids,
                      "import_mb": baseline, "cpu_seconds": cpu_seconds}))
    """
)


def _count_lines(path: Path) -> int:
    lines = 0
    with path.open("rb") as handle:
        while block := handle.read(1 << 24):
            lines += block.count(b"\n")
    return lines


def capture_log(directory: Path, lines: int) -> Path:
    """Trace the workload with ``strace -f -ttt -T -y`` until the log has ``lines`` lines."""
    script = directory / "workload.py"
    script.write_text(WORKLOAD)
    driver = directory / "driver.py"
    driver.write_text(DRIVER)
    work = directory / "files here"
    work.mkdir(exist_ok=True)
    log = directory / "trace.log"
    count = 2000
    while True:
        subprocess.run(
            ["strace", "-f", "-ttt", "-T", "-y", "-o", str(log), "--",
             sys.executable, str(driver), str(script), str(work), str(count)],
            check=True, timeout=3600,
        )  # fmt: skip
        got = _count_lines(log)
        if got >= lines:
            return log
        count = int(count * lines / max(got, 1) * 1.1) + 1


def measure(name: str, log: Path, workers: str, limit: int, repeat: int) -> dict[str, float]:
    """Best time of ``repeat`` fresh-process runs of one path, with its peak memory."""
    best: dict[str, float] | None = None
    with tempfile.TemporaryDirectory() as out:
        for _ in range(repeat):
            result = subprocess.run(
                [sys.executable, "-c", CHILD, name, str(log), workers, str(limit), out],
                check=True, capture_output=True, text=True, timeout=3600,
            )  # fmt: skip
            run = json.loads(result.stdout.strip().splitlines()[-1])
            if best is None or run["seconds"] < best["seconds"]:
                best = run
    assert best is not None
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_200_000, help="least lines to capture")
    parser.add_argument("--log", type=Path, help="an existing -f -ttt -T -y log to measure")
    parser.add_argument("--workers", default="auto", help="fast-path processes (default: cores)")
    parser.add_argument("--reference-lines", type=int, default=300_000,
                        help="lines the (slow) reference parser reads")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=3, help="runs per path; the best counts")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="parse-speed-") as temp:
        log = args.log if args.log is not None else capture_log(Path(temp), args.lines)
        total = _count_lines(log)
        load_before = os.getloadavg()
        rows = []
        paths = [
            ("reference frame", min(total, args.reference_lines)),
            ("reference profile", min(total, args.reference_lines)),
            ("fast frame", total),
            ("fast frame + parquet", total),
            ("fast profile", total),
        ]
        for name, lines in paths:
            result = measure(name, log, args.workers, lines, args.repeat)
            rows.append([name, lines, f"{result['seconds']:.2f}",
                         f"{lines / result['seconds']:,.0f}",
                         f"{lines / result['cpu_seconds']:,.0f}", f"{result['peak_mb']:.0f}",
                         f"{result['worker_peak_mb']:.0f}",
                         f"{result['peak_mb'] - result['import_mb']:.0f}"])  # fmt: skip
        load_after = os.getloadavg()
        print(f"log: {log} ({total:,} lines, {log.stat().st_size / 1e6:.0f} MB)")
        print(f"python {platform.python_version()}, {os.cpu_count()} cores, "
              f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}, "
              f"workers {args.workers}, best of {args.repeat}")  # fmt: skip
        print(tabulate(rows, headers=["path", "lines", "seconds", "lines/s", "lines/CPU-s",
                                      "peak MB",
                                      "workers' peak MB", "peak - imports MB"]))  # fmt: skip
        print(
            "peak MB: ru_maxrss of the measuring process, which imports syscall_parse (numpy,"
            " pandas, pyarrow, scipy...) before it starts; workers are forked from it."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How fast the strace parsers read a real log: lines per second and peak memory of each path.

Captures (or takes with --log) a log of a real busy program traced with
``strace -f -ttt -T -y``: two processes of three threads each, writing, reading, seeking and
stat-ing small files (names with spaces), with failing stats. Then each path runs in a fresh
child process, so that its peak resident memory (``ru_maxrss``, and that of its worker
processes) is its own (a child's ``ru_maxrss`` starts at its parent's RSS, so this script
stays small); "peak - imports" is the growth over the RSS the imports took:

- ``reference frame``: ``table.read_trace`` (per-line Python), on the first --reference-lines;
- ``reference profile``: ``count_events(iter_trace())`` on the same lines;
- ``fast frame``: ``_fast.read_frame`` (the engine of ``read_trace(engine="fast")``) on the
  whole log;
- ``fast frame + parquet``: the same, then ``table.write_parquet``;
- ``fast profile``: ``_fast.count_file`` (the engine of ``count_trace(engine="fast")``) on the
  whole log;
- ``cli profile``: the command ``syscall-lab profile --json LOG`` as a whole process tree
  (interpreter start, imports, worker processes): wall time, and its memory sampled from
  /proc every few milliseconds: the largest RSS of one process (exact: ``ru_maxrss``), and the
  peaks of the sums of RSS and of PSS over the tree (forked workers share their parent's
  pages: RSS counts them in every process, PSS splits them; sampled, so a spike shorter than
  the sampling interval can be missed).

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
import time
from pathlib import Path

from tabulate import tabulate

__all__ = ["capture_log", "main", "measure", "measure_command"]

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
    from syscall_parse import _fast, counts, stream
    if "frame" in name:  # pandas (and Arrow) only for the frame paths, as in the CLI
        from syscall_parse import table
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
        table.events_to_frame(stream.iter_events(head(log)))
    elif name == "reference profile":
        counts.count_events(stream.iter_events(head(log)))
    elif name == "fast frame":
        _fast.read_frame(log, workers=workers)
    elif name == "fast frame + parquet":
        table.write_parquet(_fast.read_frame(log, workers=workers), out + "/t.parquet")
    elif name == "fast profile":
        _fast.count_file(log, workers=workers)
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
        while block := handle.read(1 << 20):  # small: children inherit this RSS peak
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


# Runs argv[1:] and prints the largest ru_maxrss of its process tree and its CPU seconds: a
# process of its own, so that no earlier child of the benchmark counts.
WRAPPER = textwrap.dedent(
    """
    import resource, subprocess, sys
    subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(usage.ru_maxrss, usage.ru_utime + usage.ru_stime, file=sys.stderr)
    """
)


def measure_command(command: list[str], repeat: int, interval: float = 0.005) -> dict[str, float]:
    """Best wall time of ``repeat`` runs of ``command``, with its process tree's memory: the
    largest ``ru_maxrss`` of one process and the sampled peaks of the tree's RSS and PSS sums.
    The wall time includes the start of a small wrapper process (about 20 ms)."""
    best: dict[str, float] | None = None
    for _ in range(repeat):
        start = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-c", WRAPPER, *command],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        rss_sum = pss_sum = 0
        try:
            while process.poll() is None:
                sizes = [_rss_pss_kb(pid) for pid in _tree(process.pid)]
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
        run = {
            "seconds": seconds,
            "cpu_seconds": float(cpu),
            "peak_mb": int(maxrss_kb) / 1024,
            "rss_sum_mb": rss_sum / 1024,
            "pss_sum_mb": pss_sum / 1024,
        }
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
        command = [sys.executable, "-m", "syscall_lab", "profile", "--json", str(log)]
        cli = measure_command(command, args.repeat)
        rows.append(["cli profile", total, f"{cli['seconds']:.2f}",
                     f"{total / cli['seconds']:,.0f}", f"{total / cli['cpu_seconds']:,.0f}",
                     f"{cli['peak_mb']:.0f} (largest process)", "", ""])  # fmt: skip
        load_after = os.getloadavg()
        print(f"log: {log} ({total:,} lines, {log.stat().st_size / 1e6:.0f} MB)")
        print(f"python {platform.python_version()}, {os.cpu_count()} cores, "
              f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}, "
              f"workers {args.workers}, best of {args.repeat}")  # fmt: skip
        print(tabulate(rows, headers=["path", "lines", "seconds", "lines/s", "lines/CPU-s",
                                      "peak MB",
                                      "workers' peak MB", "peak - imports MB"]))  # fmt: skip
        print(
            "peak MB: ru_maxrss of the measuring process, which imports the parser modules"
            " (and pandas for frames) before it starts; workers are forked from it."
            " cli profile: the whole"
            f" command, interpreter start included; its process tree's sampled peak sums:"
            f" RSS {cli['rss_sum_mb']:.0f} MB, PSS {cli['pss_sum_mb']:.0f} MB."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

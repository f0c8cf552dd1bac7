"""Ingest at scale, against the goals of issue 12, with the machine's load beside each figure.

    .venv/bin/python benchmarks/ingest_benchmark.py [--logs 2000] [--events 10000000]
        [--parts scaling,adfa,profile]

1. Scaling: a corpus of ``--logs`` strace logs ingested on a local cluster of 1 worker, then 2
   (alternated, ``--repeats`` times each; the cluster's start is not counted). The corpus is
   real logs repeated: 25 small commands traced once each under real strace (various flags),
   each log copied into ``--logs / 25`` folders. Each worker's peak resident set is read after
   each ingest.
2. ADFA-LD: its 5,951 traces (read where they lie) ingested on 2 local workers.
3. Profile by label: a dataset of at least ``--events`` events (a real log of ``find`` over
   /usr under ``strace -f -tt -T``, its lines repeated into files of about 150,000 lines, the
   size the fast engine reads in one process, in 4 label folders) ingested, then profiled by
   label on the running cluster, and by the ``syscall-lab profile DATASET`` command as a user
   runs it (the command starts its own local cluster).

Everything is written under a temporary folder, removed at the end; the results go to
``benchmarks/results/ingest-<UTC time>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from syscall_lab.detect.adfa import default_adfa_dir
from syscall_lab.ingest.cluster import dask_client
from syscall_lab.ingest.dataset import profile_dataset
from syscall_lab.ingest.run import ingest
from syscall_lab.ingest.sources import find_sources
from syscall_parse.atomic import write_text

RESULTS = Path(__file__).resolve().parent / "results"

# 25 small real commands and the strace flags each is traced with.
COMMANDS: list[tuple[list[str], list[str]]] = [
    (["-f"], ["ls", "-la", "/usr/bin"]),
    (["-tt", "-T"], ["ls", "-R", "/etc/apt"]),
    (["-ttt"], ["cat", "/etc/os-release"]),
    (["-r"], ["date"]),
    (["-f", "-tt"], ["uname", "-a"]),
    (["-T"], ["id"]),
    (["-y"], ["env"]),
    (["-f"], ["sh", "-c", "ls / > /dev/null; cat /etc/hostname > /dev/null"]),
    (["-f", "-ttt", "-T"], [sys.executable, "-c", "import json; print(json.dumps({}))"]),
    (["-f"], [sys.executable, "-c", "import os; print(len(os.listdir('/usr/lib')))"]),
    (["-tt"], ["head", "-c", "4096", "/etc/services"]),
    (["-f"], ["wc", "-l", "/etc/services"]),
    (["-T"], ["sort", "/etc/services"]),
    (["-f", "-tt", "-T"], ["find", "/etc", "-maxdepth", "2"]),
    (["-y"], ["stat", "/etc/passwd"]),
    (["-f"], ["du", "-s", "/usr/share/doc"]),
    (["-ttt"], ["tar", "--version"]),
    (["-r"], ["gzip", "-c", "/etc/services"]),
    (["-f", "-T"], ["git", "--version"]),
    (["-tt"], ["grep", "-c", "tcp", "/etc/services"]),
    (["-f"], ["sh", "-c", "for i in 1 2 3; do echo $i; done"]),
    (["-T"], ["ls", "/no/such/folder"]),
    (["-f", "-ttt"], ["md5sum", "/etc/services"]),
    (["-y", "-T"], ["cp", "/etc/hostname", "/dev/null"]),
    (["-f"], ["df", "-h"]),
]

_BIG_LINES = 150_000


def _load() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def _worker_peaks_mb(client) -> list[float]:
    def peak() -> int:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    return sorted(round(kb / 1024, 1) for kb in client.run(peak).values())


def _capture(folder: Path) -> list[Path]:
    folder.mkdir(parents=True)
    logs = []
    for index, (flags, command) in enumerate(COMMANDS):
        log = folder / f"{index:02d}-{Path(command[0]).name}.log"
        subprocess.run(
            ["strace", *flags, "-o", str(log), "--", *command],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120, check=False,
        )  # fmt: skip
        logs.append(log)
    return logs


def _corpus(logs: list[Path], count: int, folder: Path) -> Path:
    copies = -(-count // len(logs))
    for copy in range(copies):
        target = folder / f"label{copy % 4}" / f"copy{copy:04d}"
        target.mkdir(parents=True)
        for log in logs:
            shutil.copyfile(log, target / log.name)
    return folder


def _big_corpus(events: int, folder: Path) -> tuple[Path, int]:
    """Files of about ``_BIG_LINES`` lines repeating a real log, until ``events`` lines."""
    seed = folder / "seed.log"
    folder.mkdir(parents=True)
    subprocess.run(
        ["strace", "-f", "-tt", "-T", "-o", str(seed), "--", "find", "/usr", "-maxdepth", "4"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600, check=True,
    )  # fmt: skip
    lines = seed.read_bytes().splitlines(keepends=True)
    seed.unlink()
    text = b"".join(lines * max(1, _BIG_LINES // len(lines)))
    per_file = text.count(b"\n")
    files = -(-events // per_file)
    for index in range(files):
        label = folder / "corpus" / f"label{index % 4}"
        label.mkdir(parents=True, exist_ok=True)
        (label / f"big{index:03d}.log").write_bytes(text)
    return folder / "corpus", files * per_file


def _timed_ingest(sources, dataset: Path, workers: int) -> dict[str, object]:
    started = time.perf_counter()
    with dask_client(workers=workers) as client:
        ready = time.perf_counter()
        load = _load()
        summary = ingest(sources, dataset, client)
        peaks = _worker_peaks_mb(client)
    return {
        "workers": workers,
        "seconds": round(summary.seconds, 3),
        "cluster_start_seconds": round(ready - started, 3),
        "sources": summary.sources,
        "ingested": summary.ingested,
        "failed": summary.failed,
        "events": summary.events,
        "events_per_second": round(summary.events / summary.seconds),
        "worker_peak_rss_mb": peaks,
        "loadavg_before": load,
        "loadavg_after": _load(),
    }


def scaling(work: Path, logs: int, repeats: int) -> dict[str, object]:
    corpus = _corpus(_capture(work / "seed"), logs, work / "corpus")
    sources = find_sources([str(corpus)])
    runs = []
    for repeat in range(repeats):
        for workers in (1, 2):
            dataset = work / f"scaling-{workers}-{repeat}"
            runs.append(_timed_ingest(sources, dataset, workers))
            shutil.rmtree(dataset)
            print(f"scaling: {workers} worker(s): {runs[-1]['seconds']} s", file=sys.stderr)
    one = statistics.median(r["seconds"] for r in runs if r["workers"] == 1)
    two = statistics.median(r["seconds"] for r in runs if r["workers"] == 2)
    return {
        "corpus": f"{len(COMMANDS)} real strace logs of small commands, each copied "
        f"{-(-logs // len(COMMANDS))} times",
        "logs": len(sources),
        "runs": runs,
        "median_seconds": {"1": one, "2": two},
        "speedup": round(one / two, 3),
        "goal_speedup": 1.6,
    }


def adfa(work: Path) -> dict[str, object] | None:
    root = default_adfa_dir()
    if not root.is_dir():
        return None
    run = _timed_ingest(find_sources([str(root)]), work / "adfa", 2)
    shutil.rmtree(work / "adfa")
    print(f"adfa: {run['seconds']} s", file=sys.stderr)
    return {**run, "goal_seconds": 30}


def profile(work: Path, events: int, repeats: int) -> dict[str, object]:
    corpus, lines = _big_corpus(events, work / "big")
    dataset = work / "big-dataset"
    built = _timed_ingest(find_sources([str(corpus)]), dataset, 2)
    shutil.rmtree(corpus)
    print(f"big ingest: {built['seconds']} s, {built['events']} events", file=sys.stderr)
    on_cluster = []
    with dask_client(workers=2) as client:
        for _ in range(repeats):
            load = _load()
            start = time.perf_counter()
            groups = profile_dataset(dataset, client, by="label")
            on_cluster.append(
                {"seconds": round(time.perf_counter() - start, 3), "loadavg_before": load}
            )
    commands = []
    for _ in range(repeats):
        load = _load()
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "syscall_lab", "profile", str(dataset), "--by", "label",
             "--json"],
            stdout=subprocess.DEVNULL, check=True, timeout=600, cwd=tempfile.gettempdir(),
        )  # fmt: skip
        commands.append({"seconds": round(time.perf_counter() - start, 3), "loadavg_before": load})
    print(f"profile: {on_cluster} / command {commands}", file=sys.stderr)
    return {
        "dataset_events": sum(p.events for p in groups.values()),
        "log_lines": lines,
        "labels": len(groups),
        "ingest": built,
        "profile_on_running_cluster": on_cluster,
        "profile_command": commands,
        "median_seconds_on_cluster": statistics.median(r["seconds"] for r in on_cluster),
        "median_seconds_command": statistics.median(r["seconds"] for r in commands),
        "goal_seconds": 10,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logs", type=int, default=2000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--parts", default="scaling,adfa,profile", help="what to measure")
    args = parser.parse_args(argv)
    parts = set(args.parts.split(","))
    results: dict[str, object] = {
        "format_version": 1,
        "utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "note": "shared machine: other work ran beside the benchmark (see loadavg)",
        },
    }
    with tempfile.TemporaryDirectory(prefix="ingest-benchmark-") as temp:
        work = Path(temp)
        if "scaling" in parts:
            results["scaling"] = scaling(work, args.logs, args.repeats)
        if "adfa" in parts:
            results["adfa_ld"] = adfa(work)
        if "profile" in parts:
            results["profile"] = profile(work, args.events, args.repeats)
    RESULTS.mkdir(exist_ok=True)
    stamp = results["utc"].replace("-", "").replace(":", "")  # type: ignore[union-attr]
    path = RESULTS / f"ingest-{stamp}.json"
    write_text(path, json.dumps(results, indent=2) + "\n")
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Two versions of the code measured in turns on one log: ``parse -o OUT.parquet``, ``-o
OUT.csv`` and ``profile --json`` as whole commands, each run of one version followed by the
same run of the other, so that both meet the same machine. On a shared 2-core VM the same
command's time drifts by a third within minutes; a best-of-N per version, taken minutes apart
(``suite.py``), mixes that drift into the comparison, alternating runs do not.

Usage: ``python benchmarks/interleaved.py --before DIR --after DIR LOG [--runs 5]``, DIR being
checkouts (each put first on PYTHONPATH). Prints each command's median and best per version
and saves every run under ``benchmarks/results/interleaved-UTCTIME.json``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import tempfile
from pathlib import Path

from measure import measure_command
from shapes import count_lines
from suite import commands

from syscall_parse.atomic import write_text

RESULTS = Path(__file__).with_name("results")


def run(log: Path, versions: dict[str, Path], runs: int) -> dict[str, object]:
    """Every run of every command of each version, in turns."""
    lines = count_lines(log)
    results: dict[str, dict[str, list[dict[str, object]]]] = {}
    with tempfile.TemporaryDirectory() as out:
        for name, command in commands(log, Path(out)).items():
            results[name] = {version: [] for version in versions}
            for _ in range(runs):
                for version, code in versions.items():
                    os.environ["PYTHONPATH"] = str(code)
                    measured = measure_command(command, 1)
                    measured.pop("runs")
                    results[name][version].append(measured)
    return {"log": str(log), "lines": lines, "versions": {v: str(c) for v, c in versions.items()},
            "results": results}  # fmt: skip


def summary(document: dict[str, object]) -> str:
    """One line per command and version: median and best lines/s, median CPU µs a line."""
    lines = document["lines"]
    rows = []
    for name, by_version in document["results"].items():
        for version, measured in by_version.items():
            seconds = [run["seconds"] for run in measured]
            cpu = statistics.median(run["cpu_seconds"] for run in measured) / lines * 1e6
            rows.append(
                f"{name:8s} {version:7s} median {lines / statistics.median(seconds) / 1e6:.2f}M"
                f" best {lines / min(seconds) / 1e6:.2f}M lines/s, CPU {cpu:.2f} us/line,"
                f" largest process {max(run['peak_mb'] for run in measured):.0f} MB"
            )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--after", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("log", type=Path)
    args = parser.parse_args()
    started = datetime.datetime.now(datetime.timezone.utc)
    document = run(args.log, {"before": args.before, "after": args.after}, args.runs)
    document["utc"] = started.isoformat(timespec="seconds")
    document["load_after"] = os.getloadavg()
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"interleaved-{started.strftime('%Y-%m-%dT%H%M%SZ')}.json"
    write_text(path, json.dumps(document, indent=1) + "\n")
    print(summary(document))
    print(f"saved {path}")


if __name__ == "__main__":
    main()

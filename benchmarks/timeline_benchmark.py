"""``syscall-lab timeline`` on a 10M-line log: time, size of the timeline, peak memory.

The log is one of the captured 1M-line logs of ``/tmp/speed/logs/SHAPE/trace.log`` (read, never
changed) repeated by ``shapes.repeat_log`` into a temporary folder, pids and times renumbered
per copy, then deleted with the timelines. Each output (``.json`` and ``.json.gz``) is written
by the whole command, measured by ``measure.measure_command`` (wall and CPU seconds, the
largest process's peak RSS, the tree's sampled RSS and PSS, the load average after each run).
The result goes to ``benchmarks/results/timeline-UTCTIME.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from measure import measure_command, result_header
from shapes import count_lines, repeat_log

from syscall_parse.atomic import write_text

FORMAT_VERSION = 1
RESULTS = Path(__file__).with_name("results")
LOGS = Path("/tmp/speed/logs")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", default="f-ttt-T-y", help="the log under /tmp/speed/logs")
    parser.add_argument("--lines", type=int, default=10_000_000, help="lines of the log")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each command (best kept)")
    args = parser.parse_args(argv)
    result: dict[str, object] = {
        **result_header(FORMAT_VERSION, sys.argv if argv is None else argv),
        "shape": args.shape,
        "load_before": os.getloadavg(),
    }
    with tempfile.TemporaryDirectory(prefix="timeline-bench-") as folder:
        log = repeat_log(LOGS / args.shape / "trace.log", Path(folder) / "trace.log", args.lines)
        result["lines"] = count_lines(log)
        result["log_mb"] = log.stat().st_size / 2**20
        for suffix in (".json", ".json.gz"):
            out = Path(folder) / f"timeline{suffix}"
            command = [sys.executable, "-m", "syscall_lab", "timeline", str(log), "-o", str(out)]
            measured = measure_command(command, args.repeat)
            measured["out_mb"] = out.stat().st_size / 2**20
            measured["lines_per_second"] = result["lines"] / measured["seconds"]  # type: ignore[operator]
            result[suffix.lstrip(".")] = measured
            out.unlink()
            print(suffix, json.dumps(measured), flush=True)
    result["load_after"] = os.getloadavg()
    RESULTS.mkdir(exist_ok=True)
    stamp = str(result["utc"]).replace(":", "").replace("+0000", "Z")
    path = RESULTS / f"timeline-{stamp}.json"
    write_text(path, json.dumps(result, indent=1) + "\n")
    print(f"saved {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``read_trace``'s peak memory against the frame it returns (issue 11: at most twice).

``measure.measure_read_trace`` runs ``read_trace(LOG)`` in a fresh process and reads its
``ru_maxrss`` after the imports and at the end, and the frame's own size
(``memory_usage(deep=True)``). The goal is read as the growth of the process over its imports
(what the call itself costs, 100 MB of it being pandas, Arrow and numpy whatever the log),
over the frame: ``growth_per_frame``; ``peak_per_frame`` counts the imports as well. The
worker processes' own peak is ``worker_peak_mb``. The log defaults to the suite's
``f-ttt-T-y`` shape (``strace -f -ttt -T -y``, 1M lines) under ``/tmp/speed/logs``; PYTHONPATH
chooses the code measured. The result goes to ``benchmarks/results/read_trace-UTCTIME.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from measure import measure_read_trace, result_header
from shapes import count_lines

from syscall_parse.atomic import write_text

FORMAT_VERSION = 1
RESULTS = Path(__file__).with_name("results")
LOG = Path("/tmp/speed/logs/f-ttt-T-y/trace.log")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("log", nargs="?", type=Path, default=LOG, help="the strace log read")
    parser.add_argument("--repeat", type=int, default=3, help="runs (the fastest kept)")
    parser.add_argument("--label", default="", help="a word added to the result's file name")
    args = parser.parse_args(argv)
    result: dict[str, object] = {
        **result_header(FORMAT_VERSION, sys.argv if argv is None else argv),
        "log": str(args.log),
        "lines": count_lines(args.log),
        "load_before": os.getloadavg(),
    }
    measured = measure_read_trace(args.log, args.repeat)
    frame = measured["frame_mb"]
    measured["growth_per_frame"] = (measured["peak_mb"] - measured["imports_mb"]) / frame  # type: ignore[operator]
    measured["peak_per_frame"] = measured["peak_mb"] / frame  # type: ignore[operator]
    result["read_trace"] = measured
    result["load_after"] = os.getloadavg()
    print(json.dumps(measured), flush=True)
    RESULTS.mkdir(exist_ok=True)
    stamp = str(result["utc"]).replace(":", "").replace("+00:00", "Z").replace("+0000", "Z")
    name = f"read_trace-{stamp}{'-' + args.label if args.label else ''}.json"
    path = RESULTS / name
    write_text(path, json.dumps(result, indent=1) + "\n")
    print(f"saved {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

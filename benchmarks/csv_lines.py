"""The CSV writer's formatting alone: CPU µs a line of ``csv_form.csv_lines`` by the compiled
``_csv_lines`` and by Arrow's kernels, on the record batches of one log (the fast engine's, as
``parse -o OUT.csv`` gets them), best of ``--repeat`` passes over all of them, in this process,
glibc's malloc tuned as the command line tunes it. Checks that both give the same bytes.

Usage: ``python benchmarks/csv_lines.py LOG [--repeat 5]``. Prints one line per formatter and
saves the figures under ``benchmarks/results/csv-lines-UTCTIME.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from measure import result_header

from syscall_parse._fast import iter_batches
from syscall_parse.allocator import keep_freed_memory
from syscall_parse.atomic import write_text
from syscall_parse.csv_form import COMPILED, csv_lines

RESULTS = Path(__file__).with_name("results")


def cpu_seconds(batches: list, compiled: bool, repeat: int) -> float:
    """The least CPU time of ``repeat`` passes formatting every batch."""
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        for batch in batches:
            csv_lines(batch, compiled=compiled)
        best = min(best, time.process_time() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("log", type=Path)
    args = parser.parse_args()
    if not COMPILED:
        parser.error("the compiled CSV lines are not built")
    keep_freed_memory()
    batches = [batch for batch, _ in iter_batches(args.log)]
    rows = sum(batch.num_rows for batch in batches)
    same = all(
        csv_lines(batch, compiled=True).equals(csv_lines(batch, compiled=False))
        for batch in batches
    )
    document = {
        **result_header(1, ["csv_lines.py", *map(str, [args.log, "--repeat", args.repeat])]),
        "log": str(args.log),
        "rows": rows,
        "same_bytes": same,
        "cpu_us_per_row": {
            name: cpu_seconds(batches, compiled, args.repeat) / rows * 1e6
            for name, compiled in (("compiled", True), ("kernels", False))
        },
        "load_after": os.getloadavg(),
    }
    path = RESULTS / f"csv-lines-{document['utc'].replace(':', '').replace('+0000', 'Z')}.json"
    write_text(path, json.dumps(document, indent=1) + "\n")
    for name, figure in document["cpu_us_per_row"].items():
        print(f"{name:8s} {figure:.3f} CPU us a row ({rows} rows, same bytes: {same})")
    print(f"saved {path}")


if __name__ == "__main__":
    main()

"""Reproduce the ADFA-LD table of every detector and print its wall time.

    .venv/bin/python benchmarks/adfa_benchmark.py [DIR]

DIR defaults to $ADFA_LD_DIR, else <repo>/../shared/data/adfa-ld. ADFA-LD is research-use
only: it is read where it lies, never copied.
"""

from __future__ import annotations

import platform
import sys
import time

from syscall_lab.detect.adfa import benchmark_adfa, default_adfa_dir, load_adfa, render_adfa_table
from syscall_lab.detect.registry import DETECTORS, make_detector


def main(argv: list[str]) -> int:
    root = argv[0] if argv else default_adfa_dir()
    start = time.perf_counter()
    dataset = load_adfa(root)
    loaded = time.perf_counter()
    runs = benchmark_adfa(dataset, [make_detector(name) for name in DETECTORS])
    done = time.perf_counter()
    print(render_adfa_table(runs))
    print()
    for run in runs:
        print(f"{run.settings}: fit {run.fit_seconds:.1f} s, score {run.score_seconds:.1f} s")
    print(
        f"load {loaded - start:.1f} s; wall time {done - start:.1f} s "
        f"(Python {platform.python_version()}, {platform.machine()})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

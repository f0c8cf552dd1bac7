"""``python -m workloads CONDITION [--scale S] [--seed N]``: run one workload, print nothing."""

from __future__ import annotations

import argparse
import sys

from .bounds import MIB, Bounds
from .conditions import CONDITIONS, run_workload


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m workloads",
        description="Run one workload between the phase markers (stat of /syscall-lab-phase/start "
        "and /syscall-lab-phase/end). Its temporary folder is made under $TMPDIR and removed.",
    )
    parser.add_argument(
        "condition",
        choices=list(CONDITIONS),
        help="; ".join(f"{name}: {workload.description}" for name, workload in CONDITIONS.items()),
    )
    parser.add_argument("--scale", type=float, default=1.0, help="work multiplier (default 1)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data (default 0)")
    parser.add_argument(
        "--memory-cap",
        type=int,
        default=256,
        metavar="MIB",
        help="address-space limit, RLIMIT_AS (default 256 MiB)",
    )
    parser.add_argument(
        "--disk-cap",
        type=int,
        default=64,
        metavar="MIB",
        help="disk held at once and largest file, RLIMIT_FSIZE (default 64 MiB)",
    )
    parser.add_argument(
        "--loop",
        action="store_true",
        help="repeat the work until SIGTERM (an untraced ambient stressor)",
    )
    args = parser.parse_args(argv)
    bounds = Bounds(memory=args.memory_cap * MIB, disk=args.disk_cap * MIB)
    try:
        run_workload(
            args.condition, scale=args.scale, seed=args.seed, bounds=bounds, loop=args.loop
        )
    except ValueError as exc:
        print(f"workloads: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

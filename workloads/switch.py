"""``python -m workloads.switch BURST``: normal behaviour that switches to a burst mid-run.

The program watch is measured on: ``ROUNDS`` rounds of the ``normal`` workload's work, the
switch marker (``stat`` of ``/syscall-lab-phase/switch``, so the switch is found in the trace by
its own timestamp), then the burst (``io`` or ``memory``'s work, ``BURSTS`` times over), then
``ROUNDS`` more normal rounds. ``none`` makes the marker and no burst: the normal run a baseline
is fitted on. At the defaults a normal run makes about 8,000 calls (1,500 of them Python's
start-up and imports); an ``io`` burst about 370 calls (with ``fsync``, which the normal work
never makes), a ``memory`` burst 128 (``mmap`` and ``munmap`` alternating). It runs under the
workloads' bounds (memory and disk caps, its own temporary folder, SIGTERM to a clean exit).
"""

from __future__ import annotations

import argparse
import random
import sys

from .bounds import Bounds, bounded
from .conditions import CONDITIONS, NORMAL_ROUNDS
from .markers import PHASE_SWITCH, mark

__all__ = ["BURSTS", "ROUNDS", "run_switch"]

ROUNDS = 200
BURSTS = 2
_BURST_KINDS = ("none", "io", "memory")


def run_switch(burst: str, *, rounds: int = ROUNDS, bursts: int = BURSTS, seed: int = 0) -> None:
    """Normal rounds, the switch marker, ``bursts`` bursts of ``burst`` (or none), normal
    rounds again. ValueError for an unknown burst or a count below 1."""
    if burst not in _BURST_KINDS:
        raise ValueError(f"unknown burst {burst!r}; one of {', '.join(_BURST_KINDS)}")
    if rounds < 1 or bursts < 1:
        raise ValueError(f"rounds and bursts must be >= 1, got {rounds} and {bursts}")
    rng = random.Random(seed)
    with bounded(Bounds()) as folder:
        normal = CONDITIONS["normal"].prepare(folder, rounds / NORMAL_ROUNDS, rng)
        work = CONDITIONS[burst].prepare(folder, 1.0, rng) if burst != "none" else None
        normal()
        mark(PHASE_SWITCH)
        for _ in range(bursts if work is not None else 0):
            work()
        normal()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m workloads.switch",
        description="Normal work, the switch marker (stat of /syscall-lab-phase/switch), a "
        "burst of io or memory work (none: no burst), normal work again.",
    )
    parser.add_argument("burst", choices=_BURST_KINDS, help="the burst after the switch")
    parser.add_argument(
        "--rounds", type=int, default=ROUNDS, help=f"normal rounds before and after ({ROUNDS})"
    )
    parser.add_argument(
        "--bursts", type=int, default=BURSTS, help=f"repeats of the burst's work ({BURSTS})"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the data (default 0)")
    args = parser.parse_args(argv)
    try:
        run_switch(args.burst, rounds=args.rounds, bursts=args.bursts, seed=args.seed)
    except ValueError as exc:
        print(f"workloads.switch: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

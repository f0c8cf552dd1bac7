"""A program that writes to the stderr strace writes its trace to, for the interleaving tests.

``python talker.py KIND`` writes output of one kind to its stderr, from itself and from a child
process, in pieces that cut strace's lines (each write is a call whose line the output splits):
prose, source code, JSON, binary bytes with and without newlines, and lines that look like
strace's own.
"""

import json
import os
import random
import sys

OUTPUT = {
    "prose": b"It was a bright cold day in April, and the clocks were striking thirteen.\n"
    b"Nobody expected it; (nobody) [ever] does = 3 <not really>.\n",
    "code": b'def f(a, b="x"):\n    return g(a, [b, {"k": (1, 2)}])  # = 5\n',
    "json": json.dumps({"a": [1, 2, {"b": "c) = 1"}], "d": None}).encode() + b"\n",
    "binary": bytes(random.Random(7).randrange(256) for _ in range(300)),
    "binary-no-newline": bytes(b for b in random.Random(8).randbytes(300) if b != 10),
    "strace-like": b'1234  write(1, "x", 1) = 1\n[pid  42] getpid() = 42\n'
    b"--- SIGCHLD {si_signo=SIGCHLD} ---\n+++ exited with 0 +++\n42 foo(bar\n",
    "unfinished": b"half a line with no end",
}


def talk(kind: str, rounds: int) -> None:
    data = OUTPUT[kind]
    for _ in range(rounds):
        os.write(2, data)
        os.write(2, data[: len(data) // 2])
        os.getpid()


def main() -> int:
    kind = sys.argv[1]
    child = os.fork()
    talk(kind, 3)
    if child == 0:
        os._exit(0)
    os.waitpid(child, 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())

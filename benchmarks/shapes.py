"""The log shapes the parser benchmarks run on: real programs under real strace, one option set
each, captured until the log has the lines asked for.

Each ``Shape`` names the strace options and the program; ``capture`` traces the program (its
iteration count grown until the log is long enough) and returns the log: a file, or for
``-ff`` the prefix of the file set. ``repeat_log`` makes the 10M-line log of the memory shape
from a real captured one: its lines repeated with pids and times renumbered, so that every
copy is a trace of its own process (split calls stay joined within their copy).
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SHAPES", "Shape", "capture", "count_lines", "repeat_log"]

# File I/O and mmap in one process (the shape of the issue): argv = directory, iterations.
IO_MMAP = textwrap.dedent(
    """
    import mmap, os, sys
    base, count = sys.argv[1], int(sys.argv[2])
    path = os.path.join(base, "data file.bin")
    for i in range(count):
        with open(path, "wb") as f:
            f.write(b"x" * (4096 + i % 100))
        fd = os.open(path, os.O_RDONLY)
        os.fstat(fd)
        m = mmap.mmap(fd, 4096, prot=mmap.PROT_READ)
        m[:16]
        m.close()
        os.lseek(fd, 0, os.SEEK_SET)
        os.read(fd, 512)
        os.close(fd)
        try:
            os.stat(path + ".missing")
        except FileNotFoundError:
            pass
    """
)

# Threads handing work to each other through a queue and a lock (futex waits: split calls),
# each writing and stat-ing files: argv = directory, iterations per thread.
THREADS = textwrap.dedent(
    """
    import os, queue, sys, threading
    base, count = sys.argv[1], int(sys.argv[2])
    jobs = queue.Queue(maxsize=4)
    def produce():
        for i in range(count):
            jobs.put(i)
        for _ in range(3):
            jobs.put(None)
    def consume(k):
        path = os.path.join(base, f"out {k}.txt")
        while (i := jobs.get()) is not None:
            with open(path, "a") as f:
                f.write(str(i))
            try:
                os.stat(path + ".missing")
            except FileNotFoundError:
                pass
    threads = [threading.Thread(target=consume, args=(k,)) for k in range(3)]
    threads.append(threading.Thread(target=produce))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    """
)

# A process starting children with long argument lists: argv = directory, children.
EXECVE = textwrap.dedent(
    """
    import os, subprocess, sys
    base, count = sys.argv[1], int(sys.argv[2])
    words = [f"argument-{i}-" + "x" * (i % 40) for i in range(120)]
    for i in range(count):
        subprocess.run(["/bin/true", *words], check=True, cwd=base)
    """
)

# A short-lived process tree (for -ff: one file per process): argv = directory, children.
PROCESSES = textwrap.dedent(
    """
    import os, sys
    base, count = sys.argv[1], int(sys.argv[2])
    for i in range(count):
        pid = os.fork()
        if pid == 0:
            path = os.path.join(base, f"child {i % 8}.txt")
            for j in range(40):
                with open(path, "w") as f:
                    f.write("x" * j)
                os.stat(path)
            os._exit(0)
        os.waitpid(pid, 0)
    """
)

PROGRAMS = {"io_mmap": IO_MMAP, "threads": THREADS, "execve": EXECVE, "processes": PROCESSES}


@dataclass(frozen=True, slots=True)
class Shape:
    """One benchmark log: its ``name``, what it shows, strace's ``options`` (``-o`` and the
    log added by ``capture``), the ``program`` of ``PROGRAMS``, its first iteration count
    (grown until the log has the lines asked for), and whether strace-process-tree (which
    reads ``-f`` logs of one file) applies."""

    name: str
    what: str
    options: tuple[str, ...]
    program: str
    start: int
    process_tree: bool = True


SHAPES: tuple[Shape, ...] = (
    Shape("f-ttt-T-y", "file I/O and mmap, one process, fd paths (the issue's shape)",
          ("-f", "-ttt", "-T", "-y"), "io_mmap", 20_000),
    Shape("no-f", "the same program without -f (no pid column)", (), "io_mmap", 20_000,
          process_tree=False),
    Shape("f-threads", "4 threads through a queue: many split calls", ("-f", "-ttt", "-T"),
          "threads", 5_000),
    Shape("yy", "-yy: fd paths with socket and device details", ("-f", "-ttt", "-T", "-yy"),
          "io_mmap", 20_000),
    Shape("tt", "-tt: wall-clock times", ("-f", "-tt", "-T"), "io_mmap", 20_000),
    Shape("r", "-r: relative times", ("-f", "-r"), "io_mmap", 20_000),
    Shape("execve", "children started with 120 arguments (long execve lines)",
          ("-f", "-ttt", "-T", "-s", "256", "-v"), "execve", 3_000),
    Shape("ff", "-ff: one file per process, merged by time", ("-ff", "-ttt", "-T"),
          "processes", 2_000, process_tree=False),
    Shape("seccomp", "--seccomp-bpf -e trace=%file: only file calls traced",
          ("-f", "-ttt", "-T", "--seccomp-bpf", "-e", "trace=%file"), "io_mmap", 60_000),
)  # fmt: skip


def count_lines(path: Path) -> int:
    """The lines of a log (of every file of a ``-ff`` prefix)."""
    files = [path] if path.is_file() else sorted(path.parent.glob(f"{path.name}.*"))
    lines = 0
    for file in files:
        with file.open("rb") as handle:
            while block := handle.read(1 << 20):
                lines += block.count(b"\n")
    return lines


def capture(shape: Shape, directory: Path, lines: int) -> Path:
    """Trace ``shape``'s program into ``directory`` until its log has ``lines`` lines; the
    log's path (for ``-ff``, the prefix of its files)."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / f"{shape.program}.py"
    script.write_text(PROGRAMS[shape.program])
    work = directory / "files here"
    work.mkdir(exist_ok=True)
    log = directory / ("trace" if "-ff" in shape.options else "trace.log")
    count = shape.start
    while True:
        for old in directory.glob("trace*"):
            old.unlink()
        subprocess.run(
            ["strace", *shape.options, "-o", str(log), "--", sys.executable, str(script),
             str(work), str(count)],
            check=True, timeout=3600, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        got = count_lines(log)
        if got >= lines:
            return log
        count = int(count * lines / max(got, 1) * 1.05) + 1


# '24621 1796024705.648549 ': a -f -ttt line's pid and time.
_PID_TIME = re.compile(rb"^(\d+)( +)(\d+)\.(\d{6}) ", re.MULTILINE)


def repeat_log(source: Path, target: Path, lines: int) -> Path:
    """Write ``target``: copies of the ``-f -ttt`` log ``source`` one after another until it
    has at least ``lines`` lines, each copy's times moved past the copy before and its pids
    raised by a million times its number modulo 8 (7 digits at most, as the fast layout
    reads them): the processes of a copy are new to the copies around it, like reused pids."""
    data = source.read_bytes()
    per_copy = data.count(b"\n")
    times = [float(m.group(3) + b"." + m.group(4)) for m in _PID_TIME.finditer(data)]
    span = int(max(times) - min(times)) + 1
    with target.open("wb") as out:
        for copy in range((lines + per_copy - 1) // per_copy):

            def renumber(match: re.Match[bytes], copy: int = copy) -> bytes:
                pid = int(match.group(1)) + 1_000_000 * (copy % 8)
                seconds = int(match.group(3)) + span * copy
                return b"%d%s%d.%s " % (pid, match.group(2)[: max(1, 6 - len(str(pid)))],
                                        seconds, match.group(4))  # fmt: skip

            out.write(_PID_TIME.sub(renumber, data))
    return target

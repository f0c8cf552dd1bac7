"""Where strace logs come from: files, stdin, compressed files, and ``-ff`` file sets.

Text is decoded as UTF-8 with ``errors="surrogateescape"``: strace writes ASCII, but program
output spliced into a stderr trace and ``-Y`` comm names can hold any bytes; those survive as
lone surrogates (``line.encode("utf-8", "surrogateescape")`` gives the bytes back).
"""

from __future__ import annotations

import bz2
import gzip
import heapq
import io
import lzma
import os
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import count
from pathlib import Path
from typing import IO

import zstandard

from syscall_parse.errors import InputError, NotStraceOutput
from syscall_parse.events import Event, Unparsed
from syscall_parse.lines import OpenCall, parse_line
from syscall_parse.stream import ParseStats, iter_events

__all__ = [
    "COMPRESSED",
    "SNIFF_CHARACTERS",
    "check_strace_output",
    "ff_files",
    "ff_name",
    "ff_set",
    "iter_trace",
    "open_log",
    "partial_last_line",
    "read_lines",
]

_OPENERS = {".gz": gzip.open, ".xz": lzma.open, ".bz2": bz2.open, ".zst": zstandard.open}
COMPRESSED: tuple[str, ...] = tuple(_OPENERS)
"""The suffixes of the compressed logs read (decompressed as they are read)."""

SNIFF_CHARACTERS = 1 << 18
"""How much of the start of a log ``check_strace_output`` reads: strace writes its first line
(``execve``, or ``strace: Process N attached``) before the program can write anything."""

# 'trace.out.7832' => 7832: the tid suffix strace -ff gives each file.
_FF_SUFFIX = re.compile(r"\.(\d+)$")


def ff_name(name: str) -> tuple[str, int] | None:
    """``(prefix, tid)`` of a file name ``strace -ff -o PREFIX`` could have written
    (``trace.log.7832`` => ``("trace.log", 7832)``), or None."""
    match = _FF_SUFFIX.search(name)
    if match is None or match.start() == 0:
        return None
    return name[: match.start()], int(match.group(1))


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a log file")
    if not os.access(path, os.R_OK):
        raise InputError(f"{path}: permission denied")


@contextmanager
def open_log(source: str | os.PathLike[str]) -> Iterator[IO[str]]:
    """Open a log for reading text: a path, ``-`` for stdin, ``.gz``/``.xz``/``.bz2`` files.

    Raises InputError (one-line message) for a missing, directory or unreadable path.
    """
    if str(source) == "-":
        yield io.TextIOWrapper(
            sys.stdin.buffer, encoding="utf-8", errors="surrogateescape", newline="\n"
        )
        return
    path = Path(source)
    _check_readable(path)
    opener = _OPENERS.get(path.suffix)
    try:
        if opener is not None:
            handle = opener(path, "rt", encoding="utf-8", errors="surrogateescape", newline="\n")
        else:
            handle = open(path, encoding="utf-8", errors="surrogateescape", newline="\n")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from exc
    with handle:
        try:
            yield handle
        except (OSError, EOFError, lzma.LZMAError, zstandard.ZstdError) as exc:
            raise InputError(f"{path}: cannot read: {exc}") from exc


def read_lines(source: str | os.PathLike[str]) -> Iterator[str]:
    """Yield the lines of one log (see ``open_log``), newline included."""
    with open_log(source) as handle:
        yield from handle


def _is_strace(head: str, cut: bool) -> bool:
    """Whether any line of ``head`` is strace's (an event, a half of a split call, a line of
    its table); the last line, if ``cut`` by the read, may be a call line still open."""
    lines = head.split("\n")
    for number, line in enumerate(lines, 1):
        record = parse_line(line, number)
        last = cut and number == len(lines)
        if not isinstance(record, Unparsed) and (last or not isinstance(record, OpenCall)):
            return True
    return False


def check_strace_output(sources: Sequence[str | os.PathLike[str]]) -> None:
    """Raise NotStraceOutput unless one of the log files among ``sources`` starts as strace
    output does, reading only its first ``SNIFF_CHARACTERS``: an executable, an image or a
    file of zeros is refused in milliseconds whatever its size. Empty files, ``-``, what
    is not a file (``-ff`` prefixes, missing paths: reading them says what is wrong) and the
    eBPF observer's logs (``ebpf_log``) pass."""
    from syscall_parse.ebpf_log import MAGIC as EBPF_MAGIC

    heads = []
    for source in sources:
        path = Path(source)
        if str(source) == "-" or not path.is_file() or path.stat().st_size == 0:
            return
        with open_log(path) as handle:
            head = handle.read(SNIFF_CHARACTERS)
            cut = len(head) == SNIFF_CHARACTERS and not head.endswith("\n")
        if not head or head.startswith(EBPF_MAGIC) or _is_strace(head.removesuffix("\n"), cut):
            return
        heads.append(str(source))
    if heads:
        within = f"the first {SNIFF_CHARACTERS // 1024} KiB" if len(heads) == 1 else "their starts"
        raise NotStraceOutput(f"{', '.join(heads)}: not strace output (no strace line in {within})")


def partial_last_line(sources: Sequence[str | os.PathLike[str]]) -> bool:
    """Whether the last plain log file among ``sources`` ends without a newline: a log still
    being written, or cut (its last line is read like the others all the same)."""
    for source in reversed(sources):
        path = Path(source)
        if str(source) != "-" and path.is_file() and path.suffix not in COMPRESSED:
            with path.open("rb") as handle:
                if handle.seek(0, os.SEEK_END) == 0:
                    return False
                handle.seek(-1, os.SEEK_END)
                return handle.read(1) != b"\n"
    return False


def ff_files(prefix: str | os.PathLike[str]) -> list[tuple[int, Path]]:
    """The ``(tid, path)`` of the files ``strace -ff -o PREFIX`` wrote, in tid order.

    Raises InputError when there are none.
    """
    prefix_path = Path(prefix)
    parent = prefix_path.parent
    found = []
    if parent.is_dir():
        for path in parent.glob(f"{prefix_path.name}.*"):
            match = _FF_SUFFIX.search(path.name)
            if match is not None and path.name[: match.start()] == prefix_path.name:
                found.append((int(match.group(1)), path))
    if not found:
        raise InputError(f"{prefix}: no such file, nor -ff files {prefix}.PID")
    return sorted(found)


def ff_set(
    source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
) -> list[tuple[int, Path]] | None:
    """The ``(tid, path)`` pairs of the ``-ff`` set a source names, as ``iter_trace`` reads
    it (its prefix, where no file of that name exists, or the list of its files), or None."""
    items = [source] if isinstance(source, str | os.PathLike) else list(source)
    paths = [Path(item) for item in items]
    pairs = _ff_set(paths)
    if pairs is not None or len(items) != 1:
        return pairs
    path = paths[0]
    if str(items[0]) == "-" or path.exists() or _FF_SUFFIX.search(path.name) is not None:
        return None
    try:
        return ff_files(path)
    except InputError:
        return None


def _ff_set(paths: Sequence[Path]) -> list[tuple[int, Path]] | None:
    """``(tid, path)`` pairs if all paths are ``PREFIX.TID`` with one prefix, else None."""
    pairs = []
    prefixes = set()
    for path in paths:
        match = _FF_SUFFIX.search(path.name)
        if match is None:
            return None
        prefixes.add(path.parent / path.name[: match.start()])
        pairs.append((int(match.group(1)), path))
    if len(pairs) < 2 or len(prefixes) != 1:
        return None
    return sorted(pairs)


def _timed(events: Iterable[Event], rank: int) -> Iterator[tuple[float, int, int, Event]]:
    """Sort keys for merging: an event without a time sorts with the event before it."""
    last = float("-inf")
    for seq, event in zip(count(), events, strict=False):
        time = getattr(event, "time", None)
        if time is not None:
            last = time
        yield last, rank, seq, event


def _merge_ff(
    pairs: Sequence[tuple[int, Path]], stats: ParseStats, strict: bool
) -> Iterator[Event]:
    """Events of a ``-ff`` file set, pid from each file name, merged by timestamp.

    Without timestamps the files are concatenated in tid order. Line numbers in the events
    refer to each event's own file.
    """
    per_file = [ParseStats() for _ in pairs]
    streams = [
        iter_events(read_lines(path), pid=tid, stats=sub, strict=strict)
        for (tid, path), sub in zip(pairs, per_file, strict=True)
    ]
    timed = [_timed(stream, rank) for rank, stream in enumerate(streams)]
    for *_, event in heapq.merge(*timed):
        yield event
    for sub in per_file:
        stats.add(sub)


def iter_trace(
    sources: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    stats: ParseStats | None = None,
    strict: bool = False,
) -> Iterator[Event]:
    """Events of one or more logs: paths, ``-``, compressed files, or a ``-ff`` set.

    A ``-ff`` set is given by its prefix (when no file of that name exists) or by the list of
    its ``PREFIX.TID`` files; it is merged by time (see ``_merge_ff``). Other lists of logs
    are read one after another. Raises InputError for a source that cannot be read.
    """
    if stats is None:
        stats = ParseStats()
    items = [sources] if isinstance(sources, str | os.PathLike) else list(sources)
    if not items:
        raise InputError("no log given")
    paths = [Path(item) for item in items]
    ff = _ff_set(paths)
    if ff is not None:
        for _, path in ff:
            _check_readable(path)
        yield from _merge_ff(ff, stats, strict)
        return
    for item, path in zip(items, paths, strict=True):
        if str(item) != "-" and not path.exists() and _FF_SUFFIX.search(path.name) is None:
            pairs = ff_files(path)
            yield from _merge_ff(pairs, stats, strict)
            continue
        if str(item) != "-":
            _check_readable(path)
        sub = ParseStats()
        yield from iter_events(read_lines(item), stats=sub, strict=strict)
        stats.add(sub)

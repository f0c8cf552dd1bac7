"""The eBPF observer's logs: their format, and readers that give the parser's own records.

A log is text. Its first line identifies it, then comment lines (``#``) may follow::

    # syscall-lab-ebpf version=1 mode=events abi=x86_64 clock=monotonic epoch_offset_ns=1764... \
kernel=6.1.0-13-amd64 bpftrace=v0.17.0 markers=/syscall-lab-phase/start,/syscall-lab-phase/end
    # ts tid pid nr ret dur [path]

``mode=events``: one line per system call, ``ts tid pid nr ret dur``, in batches per thread (so
not in time order; the reader sorts them)::

    1330185655522 28241 28241 12 94488536293376 1502
    1330185870113 28241 28241 262 -2 1222 /syscall-lab-phase/start
    1330186032007 28241 28241 231 ? ?

``ts`` is the entry time in CLOCK_MONOTONIC nanoseconds (plus ``epoch_offset_ns``: since the
epoch), ``tid`` the thread, ``pid`` its process (tgid), ``nr`` the syscall number in ``abi``,
``ret`` the raw value the kernel returned (-4095..-1: minus an errno), ``dur`` exit - entry in
ns. ``?`` for both: the call never returned (``exit_group``, a thread killed inside a call).
A seventh field is the path of a phase-marker call (``markers``). bpftrace's own lines follow
as they come: ``Lost N events`` (messages it could not read in time) and, at the end,
``@recorded: N``, the number of calls the kernel recorded: a log is whole when it holds that
many calls and no ``Lost`` line.

``mode=counts``: the kernel's counts, printed when the observer stopped, per segment (0 before
the start marker or the whole run without markers, 1 between the markers, 2 after the end
marker) and syscall number: ``@calls[S, NR]: count N, average NS, total NS`` (calls that
returned, their durations), ``@errors[S, NR]: N``, ``@unreturned[S, NR]: N``;
``@markers[1|2]: N`` counts the marker calls seen, ``@recorded: N`` all calls.

As strace does: results of -4095..-1 are errors (``ret`` ``-1``), the restart codes 512, 513,
514 and 516 (a call a signal interrupted) are ``? ERESTARTSYS`` and the like, and a call that
never returned is not counted in ``calls`` (``unreturned``). Records carry no arguments
(``args`` is None) but a marker call's path (``'"/syscall-lab-phase/start"'``, quoted like
strace), ``pid`` is the thread (strace's ``[pid N]``), ``time`` epoch seconds, and ``duration``
seconds.
"""

from __future__ import annotations

import errno as errno_module
import functools
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO

from syscall_parse.counts import Profile
from syscall_parse.engine import Source
from syscall_parse.errors import InputError
from syscall_parse.events import Message, Syscall, Unparsed
from syscall_parse.inputs import open_log
from syscall_parse.syscall_table import syscall_name

__all__ = [
    "FORMAT_VERSION",
    "MAGIC",
    "NOTIFY_LINE",
    "SEGMENTS",
    "EbpfCounts",
    "EbpfHeader",
    "EbpfLog",
    "KernelCount",
    "ebpf_source",
    "errno_of",
    "parse_event_line",
    "read_ebpf_counts",
    "read_ebpf_log",
    "read_header",
    "scan_events_log",
]

MAGIC = "# syscall-lab-ebpf"
FORMAT_VERSION = 1
_LEGEND = "# ts tid pid nr ret dur [path]"
_MODES = ("events", "counts")
_MAX_ERRNO = 4095

# Python's errno names where several share a number differ from the kernel's (and strace's);
# Python 3.10 lacks EHWPOISON.
_ERRNO_NAMES = {35: "EDEADLK", 95: "EOPNOTSUPP", 133: "EHWPOISON"}
# Codes the kernel returns to a call a signal interrupted, as strace prints them: '= ? NAME (text)'.
_RESTART = {
    512: ("ERESTARTSYS", "To be restarted if SA_RESTART is set"),
    513: ("ERESTARTNOINTR", "To be restarted"),
    514: ("ERESTARTNOHAND", "To be restarted if no handler"),
    516: ("ERESTART_RESTARTBLOCK", "Interrupted by signal"),
}

# '1330185655522 28241 28241 262 -2 1222 /syscall-lab-phase/start' => the fields.
_EVENT = re.compile(r"(\d+) (\d+) (\d+) (-?\d+) (-?\d+|\?) (\d+|\?)(?: (\S+))?")
# 'Lost 35 events' (bpftrace: messages it could not read before the buffer overflowed).
_LOST = re.compile(r"Lost (\d+) events")
# '@recorded: 101207', '@errors[1, 262]: 5', '@markers[1]: 1' (bpftrace's map print at its end).
_MAP = re.compile(r"@(\w+)(?:\[(\d+)(?:, (-?\d+))?\])?: (\d+)")
# '@calls[1, 262]: count 5, average 1234, total 6170' (a stats() map: calls and their ns).
_STATS = re.compile(r"@calls\[(\d+), (-?\d+)\]: count (\d+), average -?\d+, total (\d+)")
_COUNTED = ("errors", "unreturned")
NOTIFY_LINE = "__BPFTRACE_NOTIFY_PROBES_ATTACHED"
"""What bpftrace prints once its probes are attached, when that variable is set in its
environment: on stderr (0.17), on stdout, so in the log, in later versions."""
_RECORDED = "@recorded: "


@dataclass(frozen=True, slots=True)
class EbpfHeader:
    """The first line of a log: what wrote it and how to read its numbers."""

    mode: str
    epoch_offset_ns: int
    kernel: str
    bpftrace: str
    markers: tuple[str, ...] = ()
    abi: str = "x86_64"
    version: int = FORMAT_VERSION

    def text(self) -> str:
        """The header lines (the identifying line and the column legend), newline-ended."""
        fields = {
            "version": str(self.version),
            "mode": self.mode,
            "abi": self.abi,
            "clock": "monotonic",
            "epoch_offset_ns": str(self.epoch_offset_ns),
            "kernel": self.kernel,
            "bpftrace": self.bpftrace,
            "markers": ",".join(self.markers),
        }
        if any(
            not value or " " in value or "\n" in value
            for key, value in fields.items()
            if key != "markers"
        ) or any("," in m or " " in m for m in self.markers):
            raise ValueError(f"header values must be words: {fields}")
        pairs = " ".join(f"{key}={value}" for key, value in fields.items())
        return f"{MAGIC} {pairs}\n{_LEGEND}\n"

    @classmethod
    def parse(cls, line: str, *, where: str = "log") -> EbpfHeader:
        """The header of an identifying line; InputError when it is not one this reader reads."""
        if not line.startswith(MAGIC + " "):
            raise InputError(f"{where}: not an eBPF observer log (no {MAGIC!r} line)")
        try:
            fields = dict(pair.split("=", 1) for pair in line[len(MAGIC) :].split())
            version = int(fields["version"])
            if version != FORMAT_VERSION:
                raise InputError(f"{where}: eBPF log version {version}, expected {FORMAT_VERSION}")
            if fields["mode"] not in _MODES or fields.get("clock") != "monotonic":
                raise ValueError(f"mode {fields['mode']!r}, clock {fields.get('clock')!r}")
            return cls(
                mode=fields["mode"],
                epoch_offset_ns=int(fields["epoch_offset_ns"]),
                kernel=fields["kernel"],
                bpftrace=fields["bpftrace"],
                markers=tuple(fields["markers"].split(",")) if fields["markers"] else (),
                abi=fields["abi"],
                version=version,
            )
        except (KeyError, ValueError) as exc:
            raise InputError(f"{where}: bad eBPF log header ({exc}): {line.strip()!r}") from None


def ebpf_source(source: Source) -> tuple[str | os.PathLike[str], EbpfHeader] | None:
    """The eBPF log a source of ``read_trace`` or ``count_trace`` names, with its header, or
    None: a strace log, several files, or ``-`` (standard input is not peeked at).

    Raises InputError for a bad eBPF header."""
    if isinstance(source, list | tuple):
        if len(source) != 1:
            return None
        source = source[0]
    if str(source) == "-" or not os.path.isfile(source):
        return None
    try:
        header = read_header(source)
    except UnicodeDecodeError:  # binary data: not an eBPF log; the strace reader says what
        return None
    return None if header is None else (source, header)


def read_header(source: str | os.PathLike[str]) -> EbpfHeader | None:
    """The header of an eBPF observer log, or None when ``source`` is another kind of log.

    Raises InputError for an unreadable source or a bad header line.
    """
    with open_log(source) as handle:
        first = handle.readline()
    if not first.startswith(MAGIC):
        return None
    return EbpfHeader.parse(first, where=str(source))


@functools.cache  # a log holds few distinct errors, read again and again
def errno_of(ret: int) -> tuple[str, str, bool] | None:
    """``(name, text, restart)`` of a raw return value that is an error, else None.

    -2 => ('ENOENT', 'No such file or directory', False); -512 => ('ERESTARTSYS', 'To be
    restarted if SA_RESTART is set', True); a number without a name is 'ERRNO_N', like strace.
    """
    if not -_MAX_ERRNO <= ret < 0:
        return None
    number = -ret
    if number in _RESTART:
        name, text = _RESTART[number]
        return name, text, True
    name = _ERRNO_NAMES.get(number) or errno_module.errorcode.get(number) or f"ERRNO_{number}"
    return name, os.strerror(number), False


_syscall_name = functools.cache(lambda nr, abi: syscall_name(int(nr), abi))


def _call(match: re.Match[str], number: int, header: EbpfHeader) -> Syscall:
    ts, tid, _pid, nr, raw, dur, path = match.groups()
    name = _syscall_name(nr, header.abi)
    time = (int(ts) + header.epoch_offset_ns) / 1e9
    args = f'"{path}"' if path is not None else None
    if raw == "?" or dur == "?":
        return Syscall(
            int(tid), name, args, "?", None, time=time, returned=False,  # type: ignore[arg-type]
            lines=(number, number),
        )  # fmt: skip
    value = int(raw)
    failure = errno_of(value)
    if failure is None:
        ret, retval, errno, errno_text = raw, value, None, None
    else:
        errno, errno_text, restart = failure
        ret, retval = ("?", None) if restart else ("-1", -1)
    return Syscall(
        int(tid), name, args, ret, retval, errno, errno_text,  # type: ignore[arg-type]
        duration=int(dur) / 1e9, time=time, lines=(number, number),
    )  # fmt: skip


def parse_event_line(text: str, number: int, header: EbpfHeader) -> Syscall | None:
    """The call of one events line (``number`` is its 1-based line number), or None when the
    line is not one."""
    match = _EVENT.fullmatch(text.rstrip("\n"))
    return None if match is None else _call(match, number, header)


@dataclass(frozen=True, slots=True)
class EbpfLog:
    """An events log read whole: its calls in time order, and what else it held.

    ``recorded`` is the number of calls the kernel recorded (None when the observer did not end
    cleanly), ``lost`` the sum of bpftrace's ``Lost N events`` (messages of up to 8 calls),
    ``messages`` bpftrace's own lines, ``unparsed`` the lines that are not the format's.
    """

    header: EbpfHeader
    events: tuple[Syscall, ...]
    recorded: int | None
    lost: int
    messages: tuple[Message, ...] = ()
    unparsed: tuple[Unparsed, ...] = ()

    @property
    def complete(self) -> bool:
        """Whether the log holds every call the kernel recorded."""
        return self.lost == 0 and self.recorded == len(self.events)


def _header(handle: IO[str], source: str | os.PathLike[str], mode: str) -> EbpfHeader:
    header = EbpfHeader.parse(handle.readline(), where=str(source))
    if header.mode != mode:
        raise InputError(f"{source}: an eBPF {header.mode} log, not an {mode} log")
    return header


def scan_events_log(source: str | os.PathLike[str]) -> tuple[int, int | None]:
    """``(call lines, calls the kernel recorded)`` of an events log, by a quick scan that parses
    nothing (None: no ``@recorded`` line, bpftrace did not end cleanly)."""
    lines, recorded = 0, None
    with open(source, "rb") as stream:
        for line in stream:
            if line[:1].isdigit():
                lines += 1
            elif line.startswith(_RECORDED.encode()):
                recorded = int(line[len(_RECORDED) :])
    return lines, recorded


def read_ebpf_log(source: str | os.PathLike[str]) -> EbpfLog:
    """Read an events log (a path, ``-``, or a compressed file) into its calls in time order
    (entry time, then line). The log is held in memory to be sorted.

    Raises InputError for an unreadable source, a bad header, or a counts log.
    """
    timed: list[tuple[int, int, Syscall]] = []
    messages: list[Message] = []
    unparsed: list[Unparsed] = []
    recorded = None
    lost = 0
    with open_log(source) as handle:
        header = _header(handle, source, "events")
        for number, text in enumerate(handle, 2):
            stripped = text.strip()
            match = _EVENT.fullmatch(stripped)
            if match is not None:
                # Sorted by the integer ns: epoch seconds as floats tie within ~0.2 us.
                timed.append((int(match.group(1)), number, _call(match, number, header)))
                continue
            if not stripped or stripped.startswith("#"):
                continue
            entry = _MAP.fullmatch(stripped)
            if entry is not None and entry.group(1) == "recorded" and entry.group(2) is None:
                recorded = int(entry.group(4))
                continue
            found = _LOST.fullmatch(stripped)
            if found is not None or stripped == NOTIFY_LINE:
                lost += int(found.group(1)) if found is not None else 0
                messages.append(Message(stripped, lines=(number, number)))
                continue
            unparsed.append(Unparsed(text.rstrip("\n"), (number, number)))
    timed.sort(key=lambda item: item[:2])
    return EbpfLog(
        header, tuple(call for *_, call in timed), recorded, lost, tuple(messages), tuple(unparsed)
    )


@dataclass(frozen=True, slots=True)
class KernelCount:
    """The kernel's count of one syscall in one segment of a run: calls that returned, how many
    failed, their summed durations (ns), and calls that never returned."""

    segment: int
    syscall: str
    calls: int = 0
    errors: int = 0
    ns: int = 0
    unreturned: int = 0


SEGMENTS = (0, 1, 2)
"""Before the start marker (the whole run without markers), between the markers, after the end
marker."""


@dataclass(frozen=True, slots=True)
class EbpfCounts:
    """A counts log: its counts by (segment, syscall), the marker calls seen (start, end), and
    the calls the kernel recorded (None when the observer did not end cleanly)."""

    header: EbpfHeader
    rows: tuple[KernelCount, ...]
    markers: tuple[int, int]
    recorded: int | None
    unparsed: tuple[Unparsed, ...] = ()

    def profile(self, segments: Iterable[int] = SEGMENTS) -> Profile:
        """The profile of the calls in ``segments`` (default: the whole run), like ``strace -c``;
        its ``unparsed`` is the log's."""
        chosen = set(segments)
        calls: dict[str, int] = {}
        errors: dict[str, int] = {}
        ns: dict[str, int] = {}
        unreturned: dict[str, int] = {}
        for row in self.rows:
            if row.segment in chosen:
                for tally, value in ((calls, row.calls), (errors, row.errors), (ns, row.ns),
                                     (unreturned, row.unreturned)):  # fmt: skip
                    if value:
                        tally[row.syscall] = tally.get(row.syscall, 0) + value
        return Profile.from_counts(
            calls, errors, {name: ns.get(name, 0) / 1e9 for name in calls},
            events=sum(calls.values()) + sum(unreturned.values()), unparsed=len(self.unparsed),
            unreturned=unreturned,
        )  # fmt: skip

    @property
    def complete(self) -> bool:
        """Whether the counts hold every call the kernel recorded."""
        return self.recorded is not None and self.recorded == self.profile().events


def read_ebpf_counts(source: str | os.PathLike[str]) -> EbpfCounts:
    """Read a counts log. Raises InputError for an unreadable source, a bad header, or an
    events log."""
    tallies: dict[tuple[int, int], dict[str, int]] = {}
    markers = [0, 0]
    recorded = None
    unparsed: list[Unparsed] = []
    with open_log(source) as handle:
        header = _header(handle, source, "counts")
        for number, text in enumerate(handle, 2):
            stripped = text.strip()
            if not stripped or stripped.startswith("#") or stripped == NOTIFY_LINE:
                continue
            stats = _STATS.fullmatch(stripped)
            entry = _MAP.fullmatch(stripped)
            kind, first, second, value = entry.groups() if entry is not None else (None,) * 4
            if stats is not None and stats.group(1) in ("0", "1", "2"):
                segment, nr, calls, ns = (int(group) for group in stats.groups())
                tallies.setdefault((segment, nr), {}).update(calls=calls, ns=ns)
            elif kind == "recorded" and first is None:
                recorded = int(value)
            elif kind == "markers" and first in ("1", "2") and second is None:
                markers[int(first) - 1] = int(value)
            elif kind in _COUNTED and first in ("0", "1", "2") and second is not None:
                tallies.setdefault((int(first), int(second)), {})[kind] = int(value)
            else:
                unparsed.append(Unparsed(text.rstrip("\n"), (number, number)))
    rows = sorted(
        (
            KernelCount(segment, syscall_name(nr, header.abi), **counts)
            for (segment, nr), counts in tallies.items()
        ),
        key=lambda row: (row.segment, row.syscall),
    )
    return EbpfCounts(header, tuple(rows), (markers[0], markers[1]), recorded, tuple(unparsed))

"""Lines of an strace log to events: join split calls per pid, keep and count everything else.

``iter_events`` holds only per-pid pending state (one unfinished call per thread and, at most,
one call line cut by a raw newline), so its memory does not grow with the length of the log.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

from syscall_parse.events import Event, Exit, Message, Syscall, Unparsed
from syscall_parse.lines import (
    Continuation,
    OpenCall,
    Record,
    Resumed,
    SummaryLine,
    Unfinished,
    parse_line,
)

__all__ = ["LINE_STARTS", "ParseStats", "iter_events"]


@dataclass(slots=True)
class ParseStats:
    """What ``iter_events`` saw besides the events it yielded; filled in as it runs.

    ``unparsed`` lists ``(line number, text)`` of every line that is not strace output;
    ``continuations`` counts ``-k`` frames and data dumps, ``summary_lines`` the ``-c``/``-C``
    table; ``unresumed`` counts unfinished calls never resumed, ``orphans`` resumed halves
    without their unfinished half.
    """

    lines: int = 0
    events: int = 0
    continuations: int = 0
    summary_lines: int = 0
    unresumed: int = 0
    orphans: int = 0
    unparsed: list[tuple[int, str]] = field(default_factory=list)

    def add(self, other: ParseStats) -> None:
        """Add the counts of another stream (one file of several) to these."""
        self.lines += other.lines
        self.events += other.events
        self.continuations += other.continuations
        self.summary_lines += other.summary_lines
        self.unresumed += other.unresumed
        self.orphans += other.orphans
        self.unparsed.extend(other.unparsed)


def _message_inside(text: str) -> int:
    """Where a strace message that split a call line in stderr mode starts, or -1:
    'vfork(strace: Process 7758 attached' => 6, 'f(/usr/bin/strace: ...' => 2 (the path to
    strace starts at the first '/' of the word ending in 'strace:')."""
    at = text.find("strace: ")
    if at <= 0 or text[at - 1].isspace():
        return at
    word = text[:at].rsplit(None, 1)[-1]
    slash = text.find("/", at - len(word), at)
    return slash if slash >= 0 else at


def _plausible(record: Record, live: set[int]) -> bool:
    """Whether a record can be strace's own line in a stderr trace whose live pids are ``live``:
    program output that looks like strace (``[pid  42] getpid() = 42``, ``1234  write(...``)
    names a pid that is not tracing, or prints no pid while several are."""
    if isinstance(record, Unparsed):
        return False
    if isinstance(record, Message | Continuation | SummaryLine):
        return True
    pid = record.pid
    if pid is None:
        return len(live) <= 1
    return not live or pid in live


def _program_output(record: Record, live: set[int]) -> bool:
    """Whether a line read while strace's call line is open is the program's output: strace
    ends its open line before it writes another, so a line is strace's only if it is
    plausible and cannot be told from strace's (``_plausible``)."""
    return not _plausible(record, live)


def _after_output(record: Unparsed, number: int, live: set[int]) -> tuple[Unparsed | None, Record]:
    """An unparsed line split where strace's next line starts after program output that had
    no newline: 'text of the program[pid  8968] <... write resumed>) = 30' or, with one
    process left, 'text<... write resumed>) = 21' => the output (as Unparsed) and the record
    of the rest; (None, record) when there is no such start."""
    for marker in LINE_STARTS:
        at = record.text.find(marker, 1)
        if at < 0:
            continue
        rest = parse_line(record.text[at:], number)
        if _plausible(rest, live):
            return Unparsed(record.text[:at], (number, number)), rest
    return None, record


# How strace's lines that program output can precede start: a -f pid prefix, a resumed call.
LINE_STARTS = ("[pid ", "<... ")


def _unreturned(call: Unfinished) -> Syscall:
    """An unfinished call that was never resumed: a call that did not return."""
    return Syscall(
        call.pid,
        call.name,
        call.args,
        None,
        None,
        time=call.time,
        relative=call.relative,
        returned=False,
        lines=(call.line, call.line),
    )


def _join(entry: Unfinished, exit_half: Syscall) -> Syscall:
    return replace(
        exit_half,
        args=entry.args + exit_half.args,
        time=entry.time,
        relative=entry.relative,
        lines=(entry.line, exit_half.lines[1]),
    )


def iter_events(
    lines: Iterable[str],
    *,
    pid: int | None = None,
    stats: ParseStats | None = None,
    strict: bool = False,
) -> Iterator[Event]:
    """Yield the events of strace output lines, joining ``<unfinished ...>`` calls.

    ``pid`` is the pid of lines without a pid prefix (the suffix of a ``-ff`` file). When it
    is not given, an unprefixed line (stderr mode prints none while one tracee is alive)
    belongs to the only pid seen in prefixes and not yet exited; before any prefix, to the
    initial process, whose pid is learnt from the ``[pid N]`` line resuming its split call
    (until then it is None). A joined call is yielded at its resumed half; an unfinished call
    never resumed is yielded with ``returned=False`` when its pid exits or at the end.
    ``Unparsed`` lines are yielded too and listed in ``stats``; ``strict=True`` raises
    ``StraceParseError`` on them instead.
    """
    if stats is None:
        stats = ParseStats()
    pending: dict[int | None, Unfinished] = {}
    # Pids seen in prefixes and not yet exited, to attribute unprefixed lines in stderr mode.
    live: set[int] = set()
    track = pid is None
    open_call: OpenCall | None = None
    number = 0
    for number, text in enumerate(lines, 1):
        record = parse_line(text, number)
        if isinstance(record, Unparsed):
            output, record = _after_output(record, number, live)
            if output is not None:
                if strict:
                    parse_line(output.text, number, strict=True)
                stats.unparsed.append((number, output.text))
                yield output
        if open_call is not None:
            joined = parse_line(open_call.text + text.rstrip("\r\n"), open_call.line)
            if isinstance(joined, Syscall | Unfinished):
                head, open_call = open_call, None
                record = (
                    replace(joined, lines=(head.line, number))
                    if isinstance(joined, Syscall)
                    else joined
                )
            elif _program_output(record, live):
                # The program's own output, written while strace's line is open: the line
                # that ends the call may still come.
                if strict:
                    parse_line(text, number, strict=True)
                # (an event of a pid that is not tracing is output too: it keeps its line)
                output = record.text if isinstance(record, Unparsed) else text.rstrip("\r\n")
                stats.unparsed.append((number, output))
                yield Unparsed(output, (number, number))
                continue
            else:
                head, open_call = open_call, None
                stats.unparsed.append((head.line, head.text))
                yield Unparsed(head.text, (head.line, head.line))
        if strict and isinstance(record, Unparsed):
            parse_line(record.text, number, strict=True)
        if isinstance(record, OpenCall):
            inside = _message_inside(record.text)
            if inside >= 0:
                stats.events += 1
                yield parse_line(record.text[inside:], number)  # type: ignore[misc]
                record = parse_line(record.text[:inside], number)
            if isinstance(record, OpenCall):
                open_call = record
                continue
        if isinstance(record, Continuation):
            stats.continuations += 1
            continue
        if isinstance(record, SummaryLine):
            stats.summary_lines += 1
            continue
        if isinstance(record, Unparsed):
            stats.unparsed.append((number, record.text))
            yield record
            continue
        if isinstance(record, Message):
            stats.events += 1
            yield record
            continue
        owner = record.pid
        if owner is None:
            # stderr mode prints no prefix while one tracee is alive: the only live pid.
            owner = pid if pid is not None or len(live) != 1 else next(iter(live))
            if owner is not None:
                record = (
                    Resumed(replace(record.call, pid=owner))
                    if isinstance(record, Resumed)
                    else replace(record, pid=owner)
                )
        elif track:
            live.add(owner)
        if isinstance(record, Unfinished):
            previous = pending.pop(record.pid, None)
            if previous is not None:
                stats.unresumed += 1
                stats.events += 1
                yield _unreturned(previous)
            pending[record.pid] = record
            continue
        if isinstance(record, Resumed):
            call = record.call
            entry = pending.get(call.pid)
            if (entry is None or entry.name != call.name) and track and call.pid is not None:
                # stderr mode: the initial process's unprefixed call resumed under its pid.
                initial = pending.get(None)
                if initial is not None and initial.name == call.name:
                    if entry is not None:
                        stats.unresumed += 1
                        stats.events += 1
                        yield _unreturned(entry)
                    entry = replace(pending.pop(None), pid=call.pid)
                    pending[call.pid] = entry
            if entry is not None and entry.name == call.name:
                del pending[call.pid]
                event: Event = _join(entry, call)
            else:
                stats.orphans += 1
                event = call
            stats.events += 1
            yield event
            continue
        if isinstance(record, Exit):
            live.discard(record.superseded_by if record.superseded_by is not None else owner)
            if record.superseded_by is not None:
                moved = pending.pop(record.superseded_by, None)
                if moved is not None:
                    leftover = pending.pop(record.pid, None)
                    if leftover is not None:
                        stats.unresumed += 1
                        stats.events += 1
                        yield _unreturned(leftover)
                    pending[record.pid] = replace(moved, pid=record.pid)
            else:
                entry = pending.pop(record.pid, None)
                if entry is not None:
                    stats.unresumed += 1
                    stats.events += 1
                    yield _unreturned(entry)
        stats.events += 1
        yield record
    stats.lines = number
    if open_call is not None:
        stats.unparsed.append((open_call.line, open_call.text))
        yield Unparsed(open_call.text, (open_call.line, open_call.line))
    for entry in sorted(pending.values(), key=lambda call: call.line):
        stats.unresumed += 1
        stats.events += 1
        yield _unreturned(entry)

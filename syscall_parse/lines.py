"""One strace output line to one typed record: ``parse_line`` is a pure function of a line.

Besides the events of ``events.py`` it returns records that only make sense in a stream:
the halves of a split call (``Unfinished``, ``Resumed``), a call line cut by a raw newline
(``OpenCall``), lines that continue the previous event (``Continuation``: ``-k`` frames,
``-e read=``/``write=`` dumps) and lines of the ``-c``/``-C`` table (``SummaryLine``).
``stream.iter_events`` joins them. The grammar is /work/shared/strace-format.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from syscall_parse.arguments import find_close
from syscall_parse.errors import StraceParseError
from syscall_parse.events import Event, Exit, Message, Signal, Syscall, Unparsed

__all__ = [
    "Continuation",
    "OpenCall",
    "Record",
    "Resumed",
    "SummaryLine",
    "Unfinished",
    "parse_line",
    "return_value",
]


@dataclass(frozen=True, slots=True)
class Unfinished:
    """``name(partial args <unfinished ...>``: the entry half of a split call."""

    pid: int | None
    name: str
    args: str
    time: float | None = None
    relative: float | None = None
    line: int = 0


@dataclass(frozen=True, slots=True)
class Resumed:
    """``<... name resumed>rest) = ret``: the exit half; a whole call but for its first args."""

    call: Syscall

    @property
    def pid(self) -> int | None:
        return self.call.pid


@dataclass(frozen=True, slots=True)
class OpenCall:
    """``write(2, "\\n", 1`` with no ``)``: program output cut the line; the next line ends it."""

    pid: int | None
    text: str
    line: int = 0


@dataclass(frozen=True, slots=True)
class Continuation:
    """A ``-k`` stack frame (``kind="frame"``) or a data dump line (``kind="dump"``)."""

    kind: str
    text: str
    line: int = 0


@dataclass(frozen=True, slots=True)
class SummaryLine:
    """A line of strace's ``-c``/``-C`` table: recognised so it is never taken for a call."""

    text: str
    line: int = 0


Record = Event | Unfinished | Resumed | OpenCall | Continuation | SummaryLine

# Colour codes of strace 7.0+ --color: '\x1b[1;31m' => ''.
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

# pid, secontext, absolute time, relative time, syscall number, instruction pointer, in order:
# '7832  ', '[pid  7758] ', '15757<python3.11> ', '[pid 19061<echo>] ', '[system_u:...:s0] ',
# '11:57:46.402136 ', '1795867066.441945468 ', '(+     0.000072) ', '     0.000131 ',
# '[ 231] ', '[00007fd5b21a2350] ', '[????????????????] '.
_PREFIX = re.compile(
    r"(?:(?P<pid>\d+)(?:<[^>]*>)? +|\[pid +(?P<bpid>\d+)(?:<[^>]*>)?\] )?"
    r"(?:\[[^\]\s]*:[^\]]*\] )?"
    r"(?: *(?P<clock>\d\d:\d\d:\d\d)(?P<cfrac>\.\d+)? | *(?P<float>\d+(?:\.\d+)?) )?"
    r"(?:\(\+ *(?P<plus>\d+(?:\.\d+)?)\) | *(?P<rel>\d+\.\d+) )?"
    r"(?:\[ *\d+\] )?"
    r"(?:\[(?:[0-9a-f]{8,16}|\?+)\] )?"
)
# An epoch timestamp is above this; a -r delta below it (no -r gap lasts three years).
_EPOCH_MIN = 1e8

# 'openat(' 'syscall_0x3e7(' 'read#64(' => the name.
_CALL = re.compile(r"([a-z_][a-z0-9_]*(?:#64)?)\(")
# '<... wait4 resumed>' (5.0+) or '<... wait4 resumed> ' (4.x) => the name.
_RESUMED = re.compile(r"<\.\.\. ([a-z_][a-z0-9_]*(?:#64)?) resumed>")
_UNFINISHED = " <unfinished ...>"
_DETACHED = " <detached ...>"

# After the ')': padding, '= ', the result, then an optional -T duration: ' <0.000012>'.
_RESULT = re.compile(r"\s*= (.*?)(?: <(\d+(?:\.\d+)?)>)?$")
# The return token: '?', '-1', '832', '0x7f3a2c000000', '0644' (octal), '3' before '</path>'.
_RETURN = re.compile(r"\?|0x[0-9a-fA-F]+|-?\d+")
# An fd or pid decoration of a return value: '</etc/hosts>', '<python3.11>', '</x>(deleted)'.
_DECORATION = re.compile(r"<(?:->(?=[\d\[])|[^<>\\]|\\.|<[^<>]*>)*>(?:\(deleted\))?")
# ' ENOENT (No such file or directory)', ' ERESTARTSYS (To be restarted if SA_RESTART is set)',
# ' E??? (errno 527)'; strerror texts never nest parentheses.
_ERRNO = re.compile(r" (E[A-Z0-9_]+|E\?\?\?|ERRNO_\d+) \(([^)]*)\)")
# ' (errno 527)': a failure strace has no name for; kept as errno 'ERRNO_527'.
_ERRNO_NUMBER = re.compile(r" \(errno (\d+)\)")

_SIGNAL = re.compile(r"--- (\w+) (.*) ---$")
_STOPPED = re.compile(r"--- stopped by (\w+) ---$")
_EXITED = re.compile(r"\+\+\+ exited with (-?\d+) \+\+\+$")
_KILLED = re.compile(r"\+\+\+ killed by (\w+)( \(core dumped\))? \+\+\+$")
_SUPERSEDED = re.compile(r"\+\+\+ superseded by execve in pid (\d+) \+\+\+$")
_PERSONALITY = re.compile(r"\[ Process PID=(\d+) runs in .* mode\. \]$")

# 'strace: Process 7758 attached', '/usr/bin/strace: ...', and 4.10- 'Process 7758 detached'.
_MESSAGE = re.compile(r"(?:\S*strace: (?:Process (\d+) )?|Process (\d+) (?=attached|detached))")

# The -c/-C table: header, dash divider, rows, the 32-bit banner.
_SUMMARY_HEADER = re.compile(
    r"\s*(?:(?:% time|seconds|usecs/call|calls|errors|syscall|shortest|longest|avg|[\w%/-]+)\s*)+$"
)
_SUMMARY_WORDS = ("calls", "syscall")
_SUMMARY_DIVIDER = re.compile(r"-+(?: -+)*\s*$")
_SUMMARY_ROW = re.compile(
    r" *(?:\d+(?:\.\d+)? +)*[a-z_][a-z0-9_#]*(?: +\d+(?:\.\d+)?)* *$"
    r"|System call usage summary for .* mode:$"
)
_NUMBER_IN_ROW = re.compile(r"\d")


def _clock(hms: str, frac: str | None) -> float:
    hours, minutes, seconds = hms.split(":")
    value = int(hours) * 3600 + int(minutes) * 60 + int(seconds)
    return value + float(frac) if frac else float(value)


def return_value(token: str) -> int | None:
    """'832' => 832, '0x10' => 16, '0644' => 420, '3</etc/hosts>' => 3, '?' => None.

    Hex values of 2**63 and above (``-e raw``, ``-1`` as ``0xffffffffffffffff``) wrap to the
    signed 64-bit value the kernel returned, so they fit an Int64 column.
    """
    if token == "?":
        return None
    end = token.find("<")
    if end >= 0:
        token = token[:end]
    if token.startswith("0x"):
        value = int(token, 16)
        return value - (1 << 64) if value >= 1 << 63 else value
    if len(token) > 1 and token[0] == "0":
        return int(token, 8)
    return int(token)


def _result(text: str):
    """The fields of a syscall's result text (after ``= ``, without the duration).

    Returns (ret, retval, errno, errno_text, note, returned), or None if it is not a result.
    """
    match = _RETURN.match(text)
    if match is None:
        return None
    end = match.end()
    ret = match.group()
    if end < len(text) and text[end] == "<" and ret != "?":
        decoration = _DECORATION.match(text, end)
        if decoration is not None:
            end = decoration.end()
            ret = text[:end]
    rest = text[end:]
    if rest and rest[0] != " ":
        return None
    errno = errno_text = None
    if ret in ("-1", "?"):
        failure = _ERRNO.match(rest)
        if failure is not None:
            errno, errno_text = failure.groups()
            rest = rest[failure.end() :]
        else:
            number = _ERRNO_NUMBER.match(rest)
            if number is not None:
                errno = f"ERRNO_{number.group(1)}"
                rest = rest[number.end() :]
    note = rest.strip() or None
    returned = not (ret == "?" and errno is None and note is None)
    return ret, return_value(ret), errno, errno_text, note, returned


def _call(pid, name, args, tail, time, relative, number) -> Syscall | None:
    """A Syscall from its argument text and the text after ``)``; None if the tail is bad."""
    result = _RESULT.match(tail)
    if result is None:
        return None
    fields = _result(result.group(1))
    if fields is None:
        return None
    ret, retval, errno, errno_text, note, returned = fields
    duration = result.group(2)
    return Syscall(
        pid,
        name,
        args,
        ret,
        retval,
        errno,
        errno_text,
        note,
        float(duration) if duration is not None else None,
        time,
        relative,
        returned,
        (number, number),
    )


def _is_summary(text: str) -> bool:
    if _SUMMARY_DIVIDER.match(text):
        return True
    if _SUMMARY_ROW.match(text):
        return bool(_NUMBER_IN_ROW.search(text)) or text.startswith("System call")
    return bool(_SUMMARY_HEADER.match(text)) and all(w in text for w in _SUMMARY_WORDS)


def parse_line(text: str, number: int = 0, *, strict: bool = False) -> Record:
    """Parse one line of strace output (a trailing newline is ignored) into a record.

    ``number`` is the 1-based line number stored in the record. Lines that are not strace
    output become ``Unparsed``; with ``strict=True`` they raise ``StraceParseError`` instead.

    Conventions: times are seconds (``-t``/``-tt`` since midnight); a group stop
    (``--- stopped by SIGSTOP ---``) is a Signal with ``info="stopped"``; ``-1 (errno N)``
    has ``errno="ERRNO_N"`` and no text; a ``<detached ...>`` call has ``ret=None``,
    ``note="<detached ...>"`` and ``returned=False``; a ``-Y`` comm and ``-n``/``-i``
    prefixes are dropped; a leading bare integer is read as a ``-f -o`` pid.
    """
    line = text.rstrip("\r\n")
    if "\x1b" in line:
        line = _ANSI.sub("", line)
    if line.startswith(" > "):
        return Continuation("frame", line, number)
    if line.startswith(" | "):
        return Continuation("dump", line, number)
    record = _parse_event(line, number)
    if record is not None:
        return record
    if _is_summary(line):
        return SummaryLine(line, number)
    if strict:
        raise StraceParseError("not a strace line", number, line)
    return Unparsed(line, (number, number))


def _parse_event(line: str, number: int) -> Record | None:
    prefix = _PREFIX.match(line)
    assert prefix is not None  # every group is optional
    body = line[prefix.end() :]
    pid_text = prefix.group("pid") or prefix.group("bpid")
    pid = int(pid_text) if pid_text is not None else None
    time = relative = None
    if prefix.group("clock") is not None:
        time = _clock(prefix.group("clock"), prefix.group("cfrac"))
    elif prefix.group("float") is not None:
        value = float(prefix.group("float"))
        if value >= _EPOCH_MIN or prefix.group("rel") is not None:
            time = value
        else:
            relative = value
    plus = prefix.group("plus") or prefix.group("rel")
    if plus is not None:
        relative = float(plus)
    lines = (number, number)

    call = _CALL.match(body)
    if call is not None:
        name = call.group(1)
        start = call.end()
        if body.endswith(_UNFINISHED):
            return Unfinished(pid, name, body[start : -len(_UNFINISHED)], time, relative, number)
        if body.endswith(_DETACHED):
            args = body[start : -len(_DETACHED)]
            return Syscall(pid, name, args, None, None, note="<detached ...>", time=time,
                           relative=relative, returned=False, lines=lines)  # fmt: skip
        close = find_close(body, start)
        if close < 0:
            return OpenCall(pid, line, number)
        return _call(pid, name, body[start:close], body[close + 1 :], time, relative, number)
    first = body[:1]
    if first == "<":
        resumed = _RESUMED.match(body)
        if resumed is None:
            return None
        rest = body[resumed.end() :]
        if rest.startswith(" "):
            rest = rest[1:]  # strace 4.x wrote a space after 'resumed>'
        name = resumed.group(1)
        if rest.startswith("<unfinished ...>)"):
            call = _call(pid, name, "", rest[len("<unfinished ...>)") :], time, relative, number)
        else:
            close = find_close(rest, 0)
            if close < 0:
                return None
            call = _call(pid, name, rest[:close], rest[close + 1 :], time, relative, number)
        return None if call is None else Resumed(call)
    if first == "-":
        stopped = _STOPPED.match(body)
        if stopped is not None:
            return Signal(pid, stopped.group(1), "stopped", time, relative, lines)
        signal = _SIGNAL.match(body)
        if signal is not None:
            return Signal(pid, signal.group(1), signal.group(2), time, relative, lines)
        return None
    if first == "+":
        exited = _EXITED.match(body)
        if exited is not None:
            return Exit(pid, int(exited.group(1)), time=time, relative=relative, lines=lines)
        killed = _KILLED.match(body)
        if killed is not None:
            return Exit(pid, None, killed.group(1), killed.group(2) is not None, None, time,
                        relative, lines)  # fmt: skip
        superseded = _SUPERSEDED.match(body)
        if superseded is not None:
            by = int(superseded.group(1))
            return Exit(pid, superseded_by=by, time=time, relative=relative, lines=lines)
        return None
    if first == "[":
        personality = _PERSONALITY.match(body)
        if personality is not None:
            return Message(line, int(personality.group(1)), lines)
        return None
    message = _MESSAGE.match(line)
    if message is not None:
        mpid = message.group(1) or message.group(2)
        return Message(line, int(mpid) if mpid else None, lines)
    return None

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

from syscall_parse.arguments import DECORATION, find_close
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

# The prefix is read one part after the other, each part optional, each a pattern whose every
# repeat stops at a character that cannot continue it (no backtracking into an earlier part):
# pid: '7832  ', '[pid  7758] ', '15757<python3.11> ', '[pid 19061<echo>] '.
_PID = re.compile(r"(\d+)(?:<[^>]*>)? +|\[pid +(\d+)(?:<[^>]*>)?\] ")
# secontext: '[system_u:system_r:unconfined_t:s0] ' (up to its first ':', then to its ']').
_SECONTEXT = re.compile(r"\[[^\]\s:]*:[^\]]*\] ")
# absolute time or a -r delta alone: '11:57:46.402136 ' (clock: two digits before ':'),
# '1795867066.441945468 ', '     0.000131 '.
_TIME = re.compile(r" *(\d+)(:\d\d:\d\d)?(\.\d+)? ")
# -r delta after an absolute time: '(+     0.000072) ', or '     0.000131 '.
_RELATIVE = re.compile(r"\(\+ *(\d+(?:\.\d+)?)\) | *(\d+\.\d+) ")
# syscall number and instruction pointer: '[ 231] ', '[00007fd5b21a2350] ', '[????????????????] '.
_SCNO = re.compile(r"\[ *\d+\] ")
_IP = re.compile(r"\[(?:[0-9a-f]{8,16}|\?+)\] ")
# An epoch timestamp is above this; a -r delta below it (no -r gap lasts three years).
_EPOCH_MIN = 1e8

# 'openat(' 'syscall_0x3e7(' 'read#64(' => the name.
_CALL = re.compile(r"([a-z_][a-z0-9_]*(?:#64)?)\(")
# '<... wait4 resumed>' (5.0+) or '<... wait4 resumed> ' (4.x) => the name.
_RESUMED = re.compile(r"<\.\.\. ([a-z_][a-z0-9_]*(?:#64)?) resumed>")
_UNFINISHED = " <unfinished ...>"
_DETACHED = " <detached ...>"

# The -T duration ending a result, between ' <' and '>': '0.000012', '0.000000012', '3'.
_DURATION = re.compile(r"\d+(?:\.\d+)?")
# The return token: '?', '-1', '832', '0x7f3a2c000000', '0644' (octal), '3' before '</path>'.
_RETURN = re.compile(r"\?|0x[0-9a-fA-F]+|-?\d+")
# ' ENOENT (No such file or directory)', ' ERESTARTSYS (To be restarted if SA_RESTART is set)',
# ' E??? (errno 527)'; strerror texts never nest parentheses.
_ERRNO = re.compile(r" (E[A-Z0-9_]+|E\?\?\?|ERRNO_\d+) \(([^)]*)\)")
# ' (errno 527)': a failure strace has no name for; kept as errno 'ERRNO_527'.
_ERRNO_NUMBER = re.compile(r" \(errno (\d+)\)")

# '--- SIGCHLD {si_signo=SIGCHLD, ...} ---': the name, then the siginfo up to the ' ---' ending
# the line.
_SIGNAL = re.compile(r"--- (\w+) ")
_STOPPED = re.compile(r"--- stopped by (\w+) ---$")
_EXITED = re.compile(r"\+\+\+ exited with (-?\d+) \+\+\+$")
_KILLED = re.compile(r"\+\+\+ killed by (\w+)( \(core dumped\))? \+\+\+$")
_SUPERSEDED = re.compile(r"\+\+\+ superseded by execve in pid (\d+) \+\+\+$")
# '[ Process PID=7758 runs in 32 bit mode. ]': the pid, then anything up to ' mode. ]'.
_PERSONALITY = re.compile(r"\[ Process PID=(\d+) runs in ")
_PERSONALITY_END = " mode. ]"

# strace's messages: 'strace: Process 7758 attached', '/usr/bin/strace: ...' (the first word
# ends in 'strace:'), and 4.10- 'Process 7758 detached'.
_FIRST_WORD = re.compile(r"\S*")
_MESSAGE_PID = re.compile(r"Process (\d+) ")
_OLD_MESSAGE = re.compile(r"Process (\d+) (?=attached|detached)")

# The -c/-C table: header (words with 'calls' and 'syscall'), dash divider, rows, the banner of
# another personality.
_SUMMARY_HEADER = re.compile(r"[\w%/\s-]*")
_SUMMARY_WORDS = ("calls", "syscall")
_SUMMARY_DIVIDER = re.compile(r"-+(?: -+)*")
_SUMMARY_ROW = re.compile(r" *(?:\d+(?:\.\d+)? +)*[a-z_][a-z0-9_#]*(?: +\d+(?:\.\d+)?)*")
_SUMMARY_BANNER = ("System call usage summary for ", " mode:")
_NUMBER_IN_ROW = re.compile(r"\d")


def _clock(hms: str, frac: str | None) -> float:
    hours, minutes, seconds = hms.split(":")
    value = int(hours) * 3600 + int(minutes) * 60 + int(seconds)
    return value + float(frac) if frac else float(value)


_SIGN_BIT = 1 << 63
_REGISTER = 1 << 64
# Digits past leading zeros that a number of -2**63..2**64-1 can have in any base (octal: 22).
_MOST_DIGITS = 22


def return_value(token: str) -> int | None:
    """'832' => 832, '0x10' => 16, '0644' => 420, '3</etc/hosts>' => 3, '?' => None.

    The value is the 64-bit return register's, read as a signed (two's-complement) integer, so
    that it fits an Int64 column: strace prints it signed or unsigned, in decimal, hex or octal,
    from -2**63 to 2**64 - 1, and a value of 2**63 and above wraps (``0xffffffffffffffff`` and
    ``18446744073709551615`` => -1, ``9223372036854775808`` => -2**63). A number outside that
    range (no register holds it: program output, not strace's) => None.
    """
    if token == "?":
        return None
    end = token.find("<")
    if end >= 0:
        token = token[:end]
    if len(token.lstrip("-").lstrip("0")) > _MOST_DIGITS:
        return None  # also keeps int() off strings of thousands of digits
    if token.startswith("0x"):
        value = int(token, 16)
    elif len(token) > 1 and token[0] == "0":
        value = int(token, 8)
    else:
        value = int(token)
    if not -_SIGN_BIT <= value < _REGISTER:
        return None
    return value - _REGISTER if value >= _SIGN_BIT else value


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
        decoration = DECORATION.match(text, end)
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
    """A Syscall from its argument text and the text after ``)``; None if the tail is bad.

    The tail is padding, ``= ``, the result, then an optional -T duration at the very end:
    ``      = 3 <0.000012>``.
    """
    text = tail.lstrip()
    if not text.startswith("= "):
        return None
    text = text[2:]
    duration = None
    if text.endswith(">"):
        at = text.rfind(" <")
        if at >= 0 and _DURATION.fullmatch(text, at + 2, len(text) - 1):
            duration = float(text[at + 2 : -1])
            text = text[:at]
    fields = _result(text)
    if fields is None:
        return None
    ret, retval, errno, errno_text, note, returned = fields
    return Syscall(
        pid,
        name,
        args,
        ret,
        retval,
        errno,
        errno_text,
        note,
        duration,
        time,
        relative,
        returned,
        (number, number),
    )


# The last ')' before a result: ')      = ' => the ')'.
_RESULT_START = re.compile(r"\) *= ")


def _closed_call(pid, name, body, start, time, relative, number) -> Syscall | None:
    """The call whose arguments start at ``body[start]``, or None if no result ends the line.

    The ``)`` closing the arguments is the tokenizer's (``find_close``); when program output
    spliced into the line (its own brackets and quotes, on a shared stderr) hides it, it is
    the last ``) = `` of the line, if a result follows it to the end: strace writes the result
    last, after whatever the program wrote.
    """
    close = find_close(body, start)
    if close >= 0:
        call = _call(pid, name, body[start:close], body[close + 1 :], time, relative, number)
        if call is not None:
            return call
    last = None
    for last in _RESULT_START.finditer(body, start):  # noqa: B007 - the last one is kept
        pass
    if last is None or last.start() == close:
        return None
    at = last.start()
    return _call(pid, name, body[start:at], body[at + 1 :], time, relative, number)


def _is_summary(text: str) -> bool:
    if _SUMMARY_DIVIDER.fullmatch(text.rstrip()):
        return True
    if _SUMMARY_ROW.fullmatch(text.rstrip(" ")):
        return bool(_NUMBER_IN_ROW.search(text))
    start, end = _SUMMARY_BANNER
    if text.startswith(start) and text.endswith(end) and len(text) >= len(start) + len(end):
        return True
    return bool(_SUMMARY_HEADER.fullmatch(text)) and all(w in text for w in _SUMMARY_WORDS)


def parse_line(text: str, number: int = 0, *, strict: bool = False) -> Record:
    """Parse one line of strace output (a trailing newline is ignored) into a record.

    ``number`` is the 1-based line number stored in the record. Lines that are not strace
    output become ``Unparsed``; with ``strict=True`` they raise ``StraceParseError`` instead.
    Time is linear in the length of the line, whatever it holds.

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


def _prefix(line: str) -> tuple[int, int | None, float | None, float | None]:
    """Where the body starts after the prefix, and the prefix's pid, time and relative time.

    The parts come in a fixed order and each is optional: each is matched where the previous
    one ended, as one regular expression of optional groups would match them.
    """
    pos = 0
    pid = time = relative = None
    match = _PID.match(line)
    if match is not None:
        pid = int(match.group(1) or match.group(2))
        pos = match.end()
    match = _SECONTEXT.match(line, pos)
    if match is not None:
        pos = match.end()
    match = _TIME.match(line, pos)
    clock = match is not None and match.group(2) is not None
    if match is not None and (not clock or len(match.group(1)) == 2):
        digits, hms, fraction = match.groups()
        pos = match.end()
        if clock:
            time = _clock(digits + hms, fraction)
        else:
            value = float(digits + (fraction or ""))
            if value >= _EPOCH_MIN:
                time = value
            else:
                relative = value
    match = _RELATIVE.match(line, pos)
    if match is not None:
        plus, delta = match.groups()
        pos = match.end()
        if delta is not None and relative is not None:
            time, relative = relative, None  # a small first number was a -ttt time after all
        relative = float(plus or delta)
    for part in (_SCNO, _IP):
        match = part.match(line, pos)
        if match is not None:
            pos = match.end()
    return pos, pid, time, relative


def _message(line: str) -> Message | None:
    """strace's own message (``strace: Process 7758 attached``), or None."""
    word = _FIRST_WORD.match(line).end()  # type: ignore[union-attr]
    if line.startswith(" ", word) and line.endswith("strace:", 0, word):
        process = _MESSAGE_PID.match(line, word + 1)
        return Message(line, int(process.group(1)) if process else None)
    old = _OLD_MESSAGE.match(line)
    return Message(line, int(old.group(1))) if old is not None else None


def _parse_event(line: str, number: int) -> Record | None:
    start, pid, time, relative = _prefix(line)
    body = line[start:]
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
        whole = _closed_call(pid, name, body, start, time, relative, number)
        return OpenCall(pid, line, number) if whole is None else whole
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
            call = _closed_call(pid, name, rest, 0, time, relative, number)
        return None if call is None else Resumed(call)
    if first == "-":
        stopped = _STOPPED.match(body)
        if stopped is not None:
            return Signal(pid, stopped.group(1), "stopped", time, relative, lines)
        signal = _SIGNAL.match(body)
        if signal is not None and body.endswith(" ---") and signal.end() <= len(body) - 4:
            return Signal(pid, signal.group(1), body[signal.end() : -4], time, relative, lines)
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
        end = len(body) - len(_PERSONALITY_END)
        if personality is not None and body.endswith(_PERSONALITY_END) and personality.end() <= end:
            return Message(line, int(personality.group(1)), lines)
        return None
    message = _message(line)
    return None if message is None else Message(message.text, message.pid, lines)

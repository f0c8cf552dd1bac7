"""Every line of a chunk classified at once (numpy only: frames and profiles both use it).

The prefix, syscall name, result and ``-T`` duration of the layouts of
``strace [-f] -o FILE [-ttt|-tt|-r] [-T] [-y]`` (pid padded to 5 columns, stamps with
microseconds) are found in ``scan_lines``: by the compiled ``_linescan`` (each line read
once), or where it is not built by byte arithmetic in numpy (``kernels``), the checks below,
which the compiled scan mirrors line by line (``tests/parse/test_compiled.py`` holds the two
equal). A line these checks do not vouch for gets the reference's reading (``record_row`` of
``lines.parse_line``).

The end of a call that returned, read by ``_results``, is this language (as a regular
expression: the ')' closing the arguments, ' = ', the result, an optional -T duration with
1 to 6 digits of seconds):
  \\) += (?:0x[0-9a-fA-F]+|-?\\d+(?:<[^<>\\\\()"=]*>)?|(?:-1|\\?) E[A-Z0-9_]+ \\([^)]*\\)|\\?)
  (?: <\\d{1,6}\\.\\d{6}>)?\\n$
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from syscall_parse._fast import codes
from syscall_parse._fast.kernels import (
    HIGH,
    LOW_BYTES,
    SPAN,
    ZEROS,
    Windows,
    eight_digits,
    first_lane,
    lanes,
    last_lane,
    run,
    run_at,
    word,
)
from syscall_parse._fast.notices import Notices, scan_notices
from syscall_parse.engine import FastPathUnsupported
from syscall_parse.events import Exit, Message, Signal, Syscall, Unparsed
from syscall_parse.lines import (
    Continuation,
    OpenCall,
    Record,
    Resumed,
    SummaryLine,
    Unfinished,
)
from syscall_parse.schema import event_row, table_text
from syscall_parse.stream import LINE_STARTS

__all__ = [
    "COMPILED",
    "NAME_MAX",
    "UNFINISHED_END",
    "Prefix",
    "Scan",
    "Tail",
    "record_row",
    "scan_lines",
]

try:
    from syscall_parse._fast import _linescan
except ImportError:  # not built where the package was installed (no C compiler)
    _linescan = None

COMPILED = _linescan is not None
"""Whether lines are scanned by the compiled ``_linescan`` (else by numpy, several times slower)."""

NAME_MAX = 32
UNFINISHED_END = " <unfinished ...>\n"
_RESUMED_CLOSE = np.frombuffer(b" resumed>", np.uint8)


@dataclass(frozen=True, slots=True)
class Scan:
    """A chunk's lines classified: where each starts and ends (its '\\n'), the chunk's bytes
    (``clean``: ``_ascii_lines``) and their ``window``, each line's ``prefix``, ``tail`` and
    ``notices``, and its ``code``: WHOLE, UNFINISHED, RESUMED, EXIT or SIGNAL for the lines
    these checks vouch for (``fast``), SKIP for the others, which go to ``parse_line``."""

    starts: np.ndarray
    ends: np.ndarray
    clean: np.ndarray
    unsafe: np.ndarray
    window: Windows
    prefix: Prefix
    tail: Tail
    notices: Notices
    code: np.ndarray
    fast: np.ndarray

    @property
    def calls(self) -> np.ndarray:
        """The lines that are calls or halves of calls (they have a syscall name)."""
        return self.fast & ~self.notices.exited & ~self.notices.signal


def scan_lines(data: bytes, *, compiled: bool = COMPILED) -> Scan:
    """Classify every line of a chunk (``data`` ends with a newline: ``chunks.read_chunk``),
    by the compiled scan or by numpy's: both give the same Scan."""
    if compiled:
        return _compiled_scan(data)
    raw = np.frombuffer(data, np.uint8)
    ends = np.flatnonzero(raw == 10)
    starts = np.zeros(len(ends), np.int64)
    starts[1:] = ends[:-1] + 1
    clean, unsafe = _ascii_lines(data, raw, starts)
    window = Windows(clean, NAME_MAX + 16)
    shape = _prefix(window, starts, ends, unsafe)
    unfinished = shape.unfinished
    tail = _results(window, data, clean, starts, ends, shape.call & ~unfinished | shape.resumed)
    whole = shape.call & ~unfinished & tail.ended
    resumed = shape.resumed & tail.ended
    notices = scan_notices(window, shape.body, ends, ~unsafe)
    code = np.full(len(ends), codes.SKIP, np.int8)
    code[whole] = codes.WHOLE
    code[unfinished] = codes.UNFINISHED
    code[resumed] = codes.RESUMED
    code[notices.exited] = codes.EXIT
    code[notices.signal] = codes.SIGNAL
    fast = whole | unfinished | resumed | notices.exited | notices.signal
    return Scan(starts, ends, clean, unsafe, window, shape, tail, notices, code, fast)


def _compiled_scan(data: bytes) -> Scan:
    """``scan_lines`` by ``_linescan``: each line read once, in C."""
    raw = np.frombuffer(data, np.uint8)
    if _clean(data):
        clean, unsafe_lines = raw, raw[:0]
    else:
        ends = np.flatnonzero(raw == 10)
        clean, unsafe = _ascii_lines(data, raw, np.concatenate(([0], ends[:-1] + 1)))
        unsafe_lines = unsafe.view(np.uint8)
    ints, floats, flags, code = _linescan.scan_chunk(clean, unsafe_lines)
    unsafe = unsafe_lines.view(bool) if len(unsafe_lines) else np.zeros(len(code), bool)
    columns = {
        **dict(zip(_linescan.INTS, ints, strict=True)),
        **dict(zip(_linescan.FLOATS, floats, strict=True)),
        **dict(zip(_linescan.FLAGS, flags, strict=True)),
    }

    def record(kind: type) -> object:
        return kind(**{field.name: columns[field.name] for field in fields(kind)})

    window = Windows(clean, NAME_MAX + 16)
    return Scan(columns["starts"], columns["ends"], clean, unsafe, window, record(Prefix),
                record(Tail), record(Notices), code, columns["fast"])  # fmt: skip


@dataclass(frozen=True, slots=True)
class Prefix:
    """Where the parts of each line's prefix lie (absolute offsets into the chunk), and the
    shape of its body; lines of other shapes are all False in ``call`` and ``resumed``."""

    pid_len: np.ndarray  # 0: no pid column (strace without -f, or -ff files)
    pid: np.ndarray  # 0: none
    stamp_at: np.ndarray  # where the time stamp starts, if any
    epoch: np.ndarray  # '1795869296.749720 ' (-ttt)
    clock: np.ndarray  # '12:34:56.749720 ' (-tt)
    delta: np.ndarray  # '     0.000131 ' (-r)
    time: np.ndarray  # of -ttt and -tt stamps (NaN: none), as the reference reads them
    relative: np.ndarray  # of -r stamps (NaN: none)
    body: np.ndarray  # where the body starts, after the pid and the stamp
    name_at: np.ndarray
    name_len: np.ndarray
    call: np.ndarray  # 'name(' ...
    resumed: np.ndarray  # '<... name resumed>' followed by something else than a space
    unfinished: np.ndarray  # a call ending in ' <unfinished ...>'

    def head_end(self) -> np.ndarray:
        """Where the arguments start: after 'name(' or '<... name resumed>'."""
        return self.name_at + self.name_len + np.where(self.resumed, len(_RESUMED_CLOSE), 1)


def _prefix(window: Windows, starts: np.ndarray, ends: np.ndarray, unsafe) -> Prefix:
    """The prefix of every line, by byte arithmetic: the layouts of ``strace [-f] -o FILE``
    with one of ``-ttt``, ``-tt`` (microseconds) or ``-r``, or none. Any other layout leaves a
    line to the patterns. Each part is checked where the reference's ``lines._prefix`` would
    read it, and only where its patterns read the same: a pid then spaces (``_PID`` takes them
    all), one stamp (``_TIME``) then the body, whose first byte no later part can start with.

    Bytes are read 8 at a time as uint64 words and tested as SIMD-within-a-register lanes
    (``lanes``): a few integer operations per line instead of a byte matrix per test."""
    # '4730  ' or '1234567 ': a pid, padded with spaces to 5 characters, then one space.
    head = window.words(starts)
    pid_len = first_lane(~lanes(head, 48, 57) & HIGH)
    gap = np.maximum(6, pid_len + 1)
    spaces = SPAN[np.minimum(pid_len, 8), np.minimum(gap, 8)]
    has_pid = (pid_len > 0) & (pid_len < 8) & ((lanes(head, 32, 32) & spaces) == spaces)
    # Without a pid the line starts with the stamp or the body: a digit there is no pid
    # (it is followed by ':' or '.', or by more than 7 digits), a space no pid either.
    pid_len = np.where(has_pid, pid_len, 0)
    body = np.where(has_pid, starts + gap, starts)
    # '1795869296.749720 ': a -ttt time with microseconds, starting with 1 to 8 (at least
    # 1e8, the reference's epoch, and below 9e9: its microseconds fit a double exactly).
    first, second, third = window.words(body), window.words(body + 8), window.words(body + 16)
    epoch = (
        (lanes(first, 48, 57) == HIGH)
        & ((lanes(first, 49, 56) & 0x80) != 0)
        & ((lanes(second, 48, 57) & _EPOCH_DIGITS) == _EPOCH_DIGITS)
        & ((lanes(second, 46, 46) & _EPOCH_DOT) == _EPOCH_DOT)
        & ((lanes(third, 48, 57) & 0x80) != 0)
        & (((third >> 8) & 0xFF) == 32)
    )
    # '12:34:56.749720 ': a -tt clock (two digits of hours).
    clock = (
        ((lanes(first, 48, 57) & _CLOCK_DIGITS) == _CLOCK_DIGITS)
        & ((lanes(first, 58, 58) & _CLOCK_COLONS) == _CLOCK_COLONS)
        & _fraction(second)
    )
    # '     0.000131 ' or '123456.000131 ': a -r delta, seconds right-aligned in 6 columns.
    seconds = lanes(first, 48, 57) & _SECONDS
    lead = first_lane(seconds)
    delta = (
        (lead < 6)
        & (seconds == SPAN[np.minimum(lead, 8), 6])
        & ((lanes(first, 32, 32) & SPAN[0, np.minimum(lead, 8)]) == SPAN[0, np.minimum(lead, 8)])
        & _fraction(window.words(body + 6))
    )
    stamp_at = body
    body = body + np.select([epoch, clock, delta], [18, 16, 14], 0)
    # 'read(' or '<... read resumed>'.
    resumed = (window.words(body) & 0xFF_FFFF_FFFF) == _RESUMED_OPEN_WORD
    name_at = np.where(resumed, body + 5, body)
    name_len = np.full(len(starts), NAME_MAX, np.int64)
    for k in range(NAME_MAX // 8 - 1, -1, -1):
        block = window.words(name_at + 8 * k)
        name = lanes(block, 97, 122) | lanes(block, 48, 57) | lanes(block, 95, 95)
        if k == 0:
            first_ok = (lanes(block, 97, 122) | lanes(block, 95, 95)) & 0x80 != 0
        other = ~name & HIGH
        name_len = np.where(other != 0, 8 * k + first_lane(other), name_len)
    name_end = name_at + name_len
    after = window.words(name_end)
    close = window.words(name_end + 8) & 0xFFFF
    resumed_ok = (after == _RESUMED_CLOSE_WORD) & ((close & 0xFF) == 62) & ((close >> 8) != 32)
    ok = first_ok & (name_len < NAME_MAX) & ~unsafe
    call = ok & ~resumed & ((after & 0xFF) == 40)
    # Split calls are joined by pid: without one, the reference's rows say why not.
    resumed &= ok & resumed_ok & has_pid
    ends_unfinished = (
        (window.words(ends - 17) == _UNFINISHED_WORDS[0])
        & (window.words(ends - 9) == _UNFINISHED_WORDS[1])
        & ((window.words(ends - 1) & 0xFF) == 62)
    )
    unfinished = call & has_pid & ends_unfinished
    call &= has_pid | ~ends_unfinished
    pid = np.zeros(len(starts), np.int64)
    shown = np.flatnonzero(has_pid)
    pid[shown] = _pids(window, starts[shown], pid_len[shown])
    time, relative = _stamps(window, stamp_at, epoch, clock, delta)
    return Prefix(pid_len=pid_len, pid=pid, stamp_at=stamp_at, epoch=epoch, clock=clock,
                  delta=delta, time=time, relative=relative, body=body, name_at=name_at,
                  name_len=name_len, call=call, resumed=resumed, unfinished=unfinished)  # fmt: skip


_EPOCH_DIGITS = word(b"\x80\x80\x00\x80\x80\x80\x80\x80")  # 'dd.ddddd'
_EPOCH_DOT = word(b"\x00\x00\x80\x00\x00\x00\x00\x00")
_CLOCK_DIGITS = word(b"\x80\x80\x00\x80\x80\x00\x80\x80")  # 'HH:MM:SS'
_CLOCK_COLONS = word(b"\x00\x00\x80\x00\x00\x80\x00\x00")
_SECONDS = SPAN[0, 6]  # the 6 columns of a -r delta's seconds
_FRACTION = word(b".\x00\x00\x00\x00\x00\x00 ")  # '.uuuuuu '
_FRACTION_MASK = word(b"\xff\x00\x00\x00\x00\x00\x00\xff")
_FRACTION_DIGITS = np.uint64(0x0080_8080_8080_8000)  # the lanes of 'uuuuuu' in '.uuuuuu>'
_FRACTION_DIGITS_BYTES = np.uint64(0x00FF_FFFF_FFFF_FF00)
_RESUMED_OPEN_WORD = word(b"<... ")
_RESUMED_CLOSE_WORD = word(b" resumed")
_UNFINISHED_WORDS = (word(UNFINISHED_END.encode()[:8]), word(UNFINISHED_END.encode()[8:16]))


def _fraction(words: np.ndarray) -> np.ndarray:
    """Which words are '.uuuuuu ': a stamp's microseconds and the space after it."""
    return ((words & _FRACTION_MASK) == _FRACTION) & (
        (lanes(words, 48, 57) & _FRACTION_DIGITS) == _FRACTION_DIGITS
    )


def _micros(words: np.ndarray) -> np.ndarray:
    """The microseconds of words '.uuuuuu' + one byte (their 6 middle bytes)."""
    digits = (words & _FRACTION_DIGITS_BYTES) | (ZEROS & ~_FRACTION_DIGITS_BYTES)
    return eight_digits(digits) // 10


def _pids(window: Windows, starts: np.ndarray, pid_len: np.ndarray) -> np.ndarray:
    """The pids of lines starting at ``starts`` with ``pid_len`` (1 to 7) digits: the digits
    moved to the top of a word of '0's, read as 8 digits."""
    digits = window.words(starts) & LOW_BYTES[pid_len]
    shift = (8 * (8 - pid_len)).astype(np.uint64)
    return eight_digits((digits << shift) | (ZEROS & LOW_BYTES[8 - pid_len]))


def _stamps(window: Windows, at, epoch, clock, delta) -> tuple[np.ndarray, np.ndarray]:
    """The ``time`` and ``relative`` of each line (NaN where it has no such stamp) from the
    stamps at ``at`` of the shapes ``epoch``, ``clock`` and ``delta``, as the reference reads
    them: microseconds n, then n / 10**6, which is correctly rounded (n < 2**53) like
    ``float('S.uuuuuu')``; a -tt clock is its whole seconds plus that fraction, as
    ``lines._clock`` adds them."""
    count = len(at)
    time, relative = np.full(count, np.nan), np.full(count, np.nan)
    epoch = np.flatnonzero(epoch)
    head, tail = window.words(at[epoch]), window.words(at[epoch] + 8)
    whole = eight_digits(head) * 100 + ((tail & 0x0F) * 10 + ((tail >> 8) & 0x0F)).astype(np.int64)
    time[epoch] = (whole * 1_000_000 + _micros(window.words(at[epoch] + 10))) / 1e6
    clock = np.flatnonzero(clock)
    digits = (window.words(at[clock]) & np.uint64(0x0F0F_0F0F_0F0F_0F0F)).astype(np.int64)

    def pair(byte: int) -> np.ndarray:
        return ((digits >> 8 * byte) & 0x0F) * 10 + ((digits >> 8 * byte + 8) & 0x0F)

    seconds = (pair(0) * 3600 + pair(3) * 60 + pair(6)).astype(np.float64)
    time[clock] = seconds + _micros(window.words(at[clock] + 8)) / 1e6
    delta = np.flatnonzero(delta)
    head = window.words(at[delta])
    spaces = LOW_BYTES[first_lane(lanes(head, 48, 57))]  # the spaces before the digits
    head = ((head & ~spaces) | (ZEROS & spaces)) & LOW_BYTES[6]
    whole = eight_digits((head << np.uint64(16)) | (ZEROS & LOW_BYTES[2]))
    relative[delta] = (whole * 1_000_000 + _micros(window.words(at[delta] + 6))) / 1e6
    return time, relative


def _ascii_lines(data: bytes, raw: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The chunk with bytes above 127 replaced (byte lanes then never carry, and Arrow's
    strings stay valid UTF-8), and which lines hold bytes the reference treats apart
    (non-ASCII, ESC colour codes, '\\r'): those always go through ``parse_line``."""
    if _clean(data):
        return raw, np.zeros(len(starts), bool)
    bad = (raw > 127) | (raw == 27) | (raw == 13)
    unsafe = np.add.reduceat(bad.astype(np.int32), starts) > 0 if len(starts) else bad[:0]
    return np.where(raw > 127, np.uint8(1), raw), unsafe


def _clean(data: bytes) -> bool:
    """Whether no line of ``data`` holds a byte the reference treats apart (bytes methods
    scan in C at memory speed: most logs skip the per-byte mask of ``_ascii_lines``)."""
    return data.isascii() and b"\x1b" not in data and b"\r" not in data


@dataclass(frozen=True, slots=True)
class Tail:
    """Where the result of each line lies (absolute offsets; meaningful where ``ended``):
    ``close`` the ')' of the arguments, the result ``data[result:stop]``, its number
    ``data[result:digits_end]``, an errno name ``data[errno:opener - 1]`` and text
    ``data[opener + 1:stop - 1]``; the result's shape, and the -T duration (NaN: none)."""

    ended: np.ndarray
    error: np.ndarray  # '-1 ERRNO (text)' or '? ERESTART* (text)'
    minus_one: np.ndarray  # the error is '-1 ...'
    question: np.ndarray  # '?': did not return
    hexadecimal: np.ndarray
    number: np.ndarray  # -?DIGITS, alone or before a '<path>'
    close: np.ndarray
    result: np.ndarray
    stop: np.ndarray
    digits_end: np.ndarray
    errno: np.ndarray
    opener: np.ndarray
    duration: np.ndarray

    @property
    def returned(self) -> np.ndarray:
        return self.ended & ~self.question


def _results(window: Windows, data: bytes, clean: np.ndarray, starts, ends, candidates) -> Tail:
    """Which ``candidates`` end in a result of the language of the module docstring, checked
    by byte positions: the last '=' of the line, ' ' on both sides, spaces back to a ')', then
    one of '?', 0xHEX, -?DIGITS, -?DIGITS<path>, (-1|?) ERRNO (text), and the optional
    duration. A line this check does not vouch for (text or path holding one of
    ``<>\\()"=``, more than 40 spaces) goes to ``parse_line``."""
    count = len(starts)
    duration, duration_len = _durations(window, starts, ends, candidates)
    rows = np.flatnonzero(candidates)
    line_start = starts[rows]
    stop = ends[rows] - duration_len[rows]  # the result is clean[s:stop]
    q, previous = _last_marks(window, data, stop)
    # The ')' closing the arguments: before the spaces before ' = ' (one, or up to 40 when
    # strace pads a short call to its column: '...)      = 0').
    gap = _spaces_before(window, q)
    p = q - 1 - gap
    ok = (q >= 0) & (q < stop) & (p >= line_start) & (gap >= 1) & (gap <= 40)
    ok &= (clean[np.maximum(p, 0)] == 41) & (clean[np.minimum(q + 1, len(clean) - 1)] == 32)
    s = q + 2
    size = stop - s
    head = window(s, 3)
    last = clean[np.maximum(stop - 1, 0)]
    question = (size == 1) & (head[:, 0] == 63)
    # -?DIGITS, then the end or a '<path>'.
    negative = head[:, 0] == 45
    digit_at = s + negative
    digit_run = run(window(digit_at, 24), 48, 57)
    after_digits = digit_at + digit_run
    number = (digit_run >= 1) & (after_digits == stop)
    path = (
        (digit_run >= 1)
        & (clean[np.minimum(after_digits, len(clean) - 1)] == 60)
        & (last == 62)
        & (after_digits < stop - 1)
        & (previous == after_digits)
    )
    hexadecimal = (head[:, 0] == 48) & (head[:, 1] == 120)
    hex_run = run_at(window, s + 2, 24, hexadecimal, 48, 57, 97, 102, 65, 70)
    hexadecimal &= (hex_run >= 1) & (s + 2 + hex_run == stop)
    # (-1|?) ERRNO (text)
    minus_one = (head[:, 0] == 45) & (head[:, 1] == 49) & (head[:, 2] == 32)
    interrupted = (head[:, 0] == 63) & (head[:, 1] == 32)
    name_at = np.where(minus_one, s + 3, s + 2)
    failed = (minus_one | interrupted) & (clean[np.minimum(name_at, len(clean) - 1)] == 69)
    errno_run = run_at(window, name_at + 1, 25, failed, 65, 90, 48, 57, 95, 95)
    opener = name_at + 1 + errno_run + 1  # the '(' of the text
    failed &= (
        (errno_run >= 1)
        & (clean[np.minimum(opener - 1, len(clean) - 1)] == 32)
        & (clean[np.minimum(opener, len(clean) - 1)] == 40)
        & (last == 41)
        & (opener < stop - 1)
        & (previous == opener)
    )
    ok &= question | number | path | hexadecimal | failed
    duration[rows[~ok]] = np.nan
    duration[~candidates] = np.nan

    def spread(values: np.ndarray) -> np.ndarray:
        full = np.zeros(count, values.dtype)
        full[rows] = values if values.dtype != bool else values & ok
        return full

    return Tail(
        ended=spread(ok),
        error=spread(failed),
        minus_one=spread(failed & minus_one),
        question=spread(question),
        hexadecimal=spread(hexadecimal),
        number=spread(number | path),
        close=spread(p),
        result=spread(s),
        stop=spread(stop),
        digits_end=spread(after_digits),
        errno=spread(name_at),
        opener=spread(opener),
        duration=duration,
    )


# bytes.translate table: 1 for the bytes a path after a result may not hold ('<>\\()"=').
_MARKS = bytes(1 if byte in b'<>\\()"=' else 0 for byte in range(256))

# Words read back from a line's end before the chunk's marks are looked up instead.
_TAIL_WORDS = 16


def _marks_in(words: np.ndarray) -> np.ndarray:
    """The high bit of each byte of ``words`` that is one of '<>\\()"='."""
    return lanes(words, 60, 62) | lanes(words, 40, 41) | lanes(words, 34, 34) | lanes(words, 92, 92)


def _last_marks(window: Windows, data: bytes, stop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each ``stop``: the last '=' before it (the ' = ' of a result; -1 where none), and
    the last mark ('<>\\()"=') before ``stop - 1`` (a path's '<' or a text's '('), read
    back 8 bytes at a time; the rows not settled within ``_TAIL_WORDS`` words (long paths)
    are looked up in the chunk's marks."""
    q = np.full(len(stop), -1, np.int64)
    previous = np.full(len(stop), -1, np.int64)
    rows = np.arange(len(stop))
    end = stop.copy()  # the bytes [end - 8, end) are read next
    last_byte = np.uint64(0xFF << 56)
    for k in range(_TAIL_WORDS):
        at = end[rows] - 8
        words = window.words(at)
        equal = last_lane(lanes(words, 61, 61))
        mark = _marks_in(words)
        if k == 0:
            mark &= ~last_byte  # the byte at stop - 1 is no candidate
        mark = last_lane(mark)
        found = (q[rows] < 0) & (equal >= 0)
        q[rows[found]] = at[found] + equal[found]
        found = (previous[rows] < 0) & (mark >= 0)
        previous[rows[found]] = at[found] + mark[found]
        rows = rows[((q[rows] < 0) | (previous[rows] < 0)) & (at > 0)]
        if not len(rows):
            return q, previous
        end[rows] -= 8
    # Long results: the last '=' and mark before each stop among all the chunk's marks.
    marks = np.flatnonzero(np.frombuffer(data.translate(_MARKS), np.bool_))
    equals = marks[np.frombuffer(data, np.uint8)[marks] == 61]
    q[rows] = _last_before(equals, stop[rows])
    previous[rows] = _last_before(marks, stop[rows] - 1)
    return q, previous


def _last_before(points: np.ndarray, limits: np.ndarray) -> np.ndarray:
    """The last of the sorted ``points`` below each limit (-1 where none)."""
    if not len(points):
        return np.full(len(limits), -1, np.int64)
    at = np.searchsorted(points, limits) - 1
    return np.where(at >= 0, points[np.maximum(at, 0)], -1)


def _spaces_before(window: Windows, at: np.ndarray) -> np.ndarray:
    """How many spaces end just before each ``at`` (up to 48; more count as 48)."""
    count = np.zeros(len(at), np.int64)
    rows = np.arange(len(at))
    for k in range(1, 7):
        other = ~lanes(window.words(at[rows] - 8 * k), 32, 32) & HIGH  # bytes not spaces
        top = last_lane(other)
        count[rows] += 7 - top  # 8 where all are spaces
        rows = rows[top < 0]
        if not len(rows):
            break
    return count


def _durations(
    window: Windows, starts: np.ndarray, ends: np.ndarray, ended: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The -T duration of each line that ``ended`` (NaN where none), and the length of its
    ' <S.uuuuuu>' text (0 where none). Only 1 to 6 digits of seconds and exactly 6 of
    microseconds are read here, as the integer n of microseconds: n / 10**6 is correctly
    rounded, so it equals float('S.uuuuuu'). Other shapes fail the result language and go to
    ``parse_line``."""
    count = len(starts)
    duration = np.full(count, np.nan)
    duration_len = np.zeros(count, np.int64)
    rows = np.flatnonzero(ended & (ends - starts >= 16))
    fraction = window.words(ends[rows] - 8)  # '.uuuuuu>'
    seconds = window.words(ends[rows] - 16)  # '?? <SSSS' or ' <SSSSSS': right-aligned digits
    # The highest byte of ``seconds`` that is no digit: the '<' before them.
    other = ~lanes(seconds, 48, 57) & HIGH
    _, exponent = np.frexp(other.astype(np.float64))  # 2**(8 * byte + 7): 8 * byte + 8
    opener = (exponent.astype(np.int64) - 8) >> 3
    shaped = (
        ((fraction & 0xFF) == 46)
        & ((fraction >> 56) == 62)
        & ((lanes(fraction, 48, 57) & _FRACTION_DIGITS) == _FRACTION_DIGITS)
        & (opener >= 1)
        & (opener <= 6)
        & (((seconds >> (8 * opener.astype(np.uint64))) & 0xFF) == 60)
        & (((seconds >> (8 * (opener.astype(np.uint64) - 1))) & 0xFF) == 32)
    )
    # Bytes up to the '<' become '0', then both words are read as 8 decimal digits.
    zeros = LOW_BYTES[np.clip(opener + 1, 0, 8)]
    whole_seconds = eight_digits((seconds & ~zeros) | (ZEROS & zeros))
    micros = eight_digits((fraction & _FRACTION_DIGITS_BYTES) | (ZEROS & ~_FRACTION_DIGITS_BYTES))
    timed = rows[shaped]
    duration[timed] = (whole_seconds[shaped] * 1_000_000 + micros[shaped] // 10) / 1e6
    duration_len[timed] = 17 - opener[shaped]
    return duration, duration_len


# The line code of each event type the reference gives.
_CODES: dict[type, int] = {
    Syscall: codes.WHOLE,
    Signal: codes.SIGNAL,
    Exit: codes.EXIT,
    Message: codes.MESSAGE,
}


def record_row(record: Record, number: int) -> dict[str, object]:
    """The chunk-table row of a record from the reference ``parse_line``: the schema's
    columns (``schema.event_row``) and the line's ``code``. Raises FastPathUnsupported for
    the states the vectorized join does not reproduce."""
    if isinstance(record, Exit) and record.superseded_by is not None:
        raise FastPathUnsupported("a thread execve (superseded by execve)")
    if isinstance(record, Syscall | Signal | Exit | Message):
        return {**event_row(record), "code": _CODES[type(record)]}
    if isinstance(record, Resumed):
        if record.pid is None:
            raise FastPathUnsupported("a pid-less resumed call")
        return {**event_row(record.call), "code": codes.RESUMED}
    if isinstance(record, Unfinished):
        if record.pid is None:
            raise FastPathUnsupported("a pid-less unfinished call")
        return {"line": number, "code": codes.UNFINISHED, "pid": record.pid, "time": record.time,
                "relative": record.relative, "syscall": record.name,
                "args": table_text(record.args)}  # fmt: skip
    if isinstance(record, Unparsed):
        if any(record.text.find(start, 1) >= 0 for start in LINE_STARTS):
            raise FastPathUnsupported("a strace line after program output on one line")
        return {"line": number, "code": codes.UNPARSED, "args": table_text(record.text)}
    if isinstance(record, Continuation | SummaryLine):
        return {"line": number, "code": codes.SKIP}
    assert isinstance(record, OpenCall)
    raise FastPathUnsupported("a call line cut by a raw newline")

# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""The line scan of ``scan`` compiled: each line of a chunk read once, byte by byte, into the
fields of ``scan.Prefix``, ``scan.Tail`` and ``notices.Notices``, and its code.

The checks are those of the numpy scan (``scan._prefix``, ``scan._results``,
``scan._durations``, ``notices.scan_notices``), written for one line: a byte before the chunk
or past its end reads as zero, as there. Where a line is no candidate for a part (no call,
no notice), that part's fields are left as the numpy scan leaves them: 0, NaN or False.
"""

from libc.math cimport NAN
from libc.stdint cimport int8_t, int64_t, uint8_t
from libc.string cimport memchr, memcmp

import numpy as np

# The rows of the ``ints`` and ``flags`` matrices ``scan_chunk`` fills: one fact, read by
# ``scan``.
INTS = (
    "starts", "ends", "pid_len", "pid", "stamp_at", "body", "name_at", "name_len", "close",
    "result", "stop", "digits_end", "errno", "opener", "status_end", "name_end",
)
FLOATS = ("time", "relative", "duration")
FLAGS = (
    "epoch", "clock", "delta", "call", "resumed", "unfinished", "ended", "error", "minus_one",
    "question", "hexadecimal", "number", "exited", "signal", "fast",
)

cdef enum:
    STARTS, ENDS, PID_LEN, PID, STAMP_AT, BODY, NAME_AT, NAME_LEN, CLOSE, RESULT, STOP, \
        DIGITS_END, ERRNO, OPENER, STATUS_END, NAME_END

cdef enum:
    TIME, RELATIVE, DURATION

cdef enum:
    EPOCH, CLOCK, DELTA, CALL, RESUMED, UNFINISHED, ENDED, ERROR, MINUS_ONE, QUESTION, \
        HEXADECIMAL, NUMBER, EXITED, SIGNAL, FAST

# The line codes (``codes``).
cdef enum:
    WHOLE = 0
    C_UNFINISHED = 1
    C_RESUMED = 2
    C_SIGNAL = 3
    C_EXIT = 4
    SKIP = 9

cdef enum:
    NAME_MAX = 32

cdef struct Chunk:
    const uint8_t* data
    Py_ssize_t size


cdef inline uint8_t at(Chunk c, Py_ssize_t x) noexcept nogil:
    """The byte at ``x``; zero before the chunk and past its end."""
    if x < 0 or x >= c.size:
        return 0
    return c.data[x]


cdef inline bint same(Chunk c, Py_ssize_t x, const char* text, Py_ssize_t size) noexcept nogil:
    """Whether the ``size`` bytes at ``x`` are ``text``."""
    cdef Py_ssize_t k
    if x >= 0 and x + size <= c.size:
        return memcmp(c.data + x, text, size) == 0
    for k in range(size):
        if at(c, x + k) != <uint8_t>text[k]:
            return False
    return True


cdef inline bint digit(uint8_t b) noexcept nogil:
    return 48 <= b <= 57


cdef inline bint lower_name(uint8_t b) noexcept nogil:
    """A byte of a syscall name: a-z, 0-9, '_'."""
    return (97 <= b <= 122) or digit(b) or b == 95


cdef inline bint upper_name(uint8_t b) noexcept nogil:
    """A byte of an errno name after its 'E': A-Z, 0-9, '_'."""
    return (65 <= b <= 90) or digit(b) or b == 95


cdef inline bint signal_name(uint8_t b) noexcept nogil:
    return upper_name(b) or (97 <= b <= 122)


cdef inline bint hex_digit(uint8_t b) noexcept nogil:
    return digit(b) or (97 <= b <= 102) or (65 <= b <= 70)


cdef inline Py_ssize_t digits_run(Chunk c, Py_ssize_t x, Py_ssize_t width) noexcept nogil:
    """How many of the ``width`` bytes at ``x`` are digits before the first that is not."""
    cdef Py_ssize_t k = 0
    while k < width and digit(at(c, x + k)):
        k += 1
    return k


cdef inline bint all_digits(Chunk c, Py_ssize_t x, Py_ssize_t count) noexcept nogil:
    return digits_run(c, x, count) == count


cdef inline int64_t decimal(Chunk c, Py_ssize_t x, Py_ssize_t count) noexcept nogil:
    """The number the ``count`` digits at ``x`` write."""
    cdef int64_t value = 0
    cdef Py_ssize_t k
    for k in range(count):
        value = value * 10 + (at(c, x + k) - 48)
    return value


cdef inline bint fraction(Chunk c, Py_ssize_t x) noexcept nogil:
    """Whether the bytes at ``x`` are '.uuuuuu ': a stamp's microseconds and a space."""
    return at(c, x) == 46 and all_digits(c, x + 1, 6) and at(c, x + 7) == 32


def scan_chunk(const uint8_t[::1] data, const uint8_t[::1] unsafe):
    """The lines of ``data`` (each ending with a newline) scanned: the matrices ``ints``
    (int64, rows ``INTS``), ``floats`` (rows ``FLOATS``, NaN: none) and ``flags`` (bool, rows
    ``FLAGS``), one column a line, and each line's code. ``unsafe``: one byte a line, or
    none when no line is."""
    cdef Chunk c
    c.data = &data[0] if data.shape[0] else NULL
    c.size = data.shape[0]
    cdef Py_ssize_t lines = 0, s = 0, e
    cdef const uint8_t* newline
    with nogil:  # memchr: the C library's vectorised search, 3x bytes.count
        while s < c.size:
            newline = <const uint8_t*>memchr(c.data + s, 10, c.size - s)
            if newline == NULL:
                break
            lines += 1
            s = newline - c.data + 1
    ints_array = np.zeros((len(INTS), lines), np.int64)
    flags_array = np.zeros((len(FLAGS), lines), np.uint8)
    floats_array = np.full((len(FLOATS), lines), np.nan)
    code_array = np.empty(lines, np.int8)
    cdef int64_t[:, ::1] ints = ints_array
    cdef uint8_t[:, ::1] flags = flags_array
    cdef double[:, ::1] floats = floats_array
    cdef int8_t[::1] code = code_array
    cdef bint checked = unsafe.shape[0] > 0
    cdef Py_ssize_t line = 0
    s = 0
    with nogil:
        while line < lines:
            newline = <const uint8_t*>memchr(c.data + s, 10, c.size - s)
            e = newline - c.data
            _scan_line(c, line, s, e, checked and unsafe[line], ints, floats, flags, code)
            s = e + 1
            line += 1
    return ints_array, floats_array, flags_array.view(bool), code_array


cdef void _scan_line(
    Chunk c,
    Py_ssize_t i,
    Py_ssize_t s,
    Py_ssize_t e,
    bint unsafe,
    int64_t[:, ::1] ints,
    double[:, ::1] floats,
    uint8_t[:, ::1] flags,
    int8_t[::1] code,
) noexcept nogil:
    cdef Py_ssize_t k, pid_len, gap, body, name_at, name_len, name_end
    cdef bint has_pid, raw_resumed, ok, call, resumed, ends_unfinished, unfinished, ended
    ints[STARTS, i] = s
    ints[ENDS, i] = e
    # The prefix (``scan._prefix``): a pid padded with spaces to 5 columns, then one space.
    pid_len = digits_run(c, s, 8)
    gap = max(6, pid_len + 1)
    has_pid = 0 < pid_len < 8
    if has_pid:
        for k in range(pid_len, min(gap, 8)):
            if at(c, s + k) != 32:
                has_pid = False
    if has_pid:
        ints[PID, i] = decimal(c, s, pid_len)
    else:
        pid_len = 0
    body = s + gap if has_pid else s
    ints[PID_LEN, i] = pid_len
    ints[STAMP_AT, i] = body
    # A stamp: -ttt '1795869296.749720 ', -tt '12:34:56.749720 ', -r '     0.000131 '.
    if (49 <= at(c, body) <= 56 and all_digits(c, body + 1, 9) and at(c, body + 10) == 46
            and all_digits(c, body + 11, 6) and at(c, body + 17) == 32):
        flags[EPOCH, i] = True
        floats[TIME, i] = (decimal(c, body, 10) * 1_000_000 + decimal(c, body + 11, 6)) / 1e6
        body += 18
    elif (all_digits(c, body, 2) and at(c, body + 2) == 58 and all_digits(c, body + 3, 2)
            and at(c, body + 5) == 58 and all_digits(c, body + 6, 2) and fraction(c, body + 8)):
        flags[CLOCK, i] = True
        floats[TIME, i] = (
            <double>(decimal(c, body, 2) * 3600 + decimal(c, body + 3, 2) * 60
                     + decimal(c, body + 6, 2))
            + decimal(c, body + 9, 6) / 1e6
        )
        body += 16
    else:
        k = 0
        while k < 6 and at(c, body + k) == 32:
            k += 1
        if k < 6 and all_digits(c, body + k, 6 - k) and fraction(c, body + 6):
            flags[DELTA, i] = True
            floats[RELATIVE, i] = (
                decimal(c, body + k, 6 - k) * 1_000_000 + decimal(c, body + 7, 6)
            ) / 1e6
            body += 14
    ints[BODY, i] = body
    # 'read(' or '<... read resumed>'.
    raw_resumed = same(c, body, b"<... ", 5)
    name_at = body + 5 if raw_resumed else body
    name_len = 0
    while name_len < NAME_MAX and lower_name(at(c, name_at + name_len)):
        name_len += 1
    name_end = name_at + name_len
    ints[NAME_AT, i] = name_at
    ints[NAME_LEN, i] = name_len
    ok = (97 <= at(c, name_at) <= 122 or at(c, name_at) == 95) and name_len < NAME_MAX
    ok = ok and not unsafe
    call = ok and not raw_resumed and at(c, name_end) == 40
    resumed = (raw_resumed and ok and has_pid and same(c, name_end, b" resumed", 8)
               and at(c, name_end + 8) == 62 and at(c, name_end + 9) != 32)
    ends_unfinished = same(c, e - 17, b" <unfinished ...>", 17)
    unfinished = call and has_pid and ends_unfinished
    call = call and (has_pid or not ends_unfinished)
    flags[CALL, i] = call
    flags[RESUMED, i] = resumed
    flags[UNFINISHED, i] = unfinished
    ended = False
    if (call and not unfinished) or resumed:
        ended = _result(c, i, s, e, ints, floats, flags)
    _notice(c, i, body, e, not unsafe, ints, flags)
    code[i] = SKIP
    if call and not unfinished and ended:
        code[i] = WHOLE
    if unfinished:
        code[i] = C_UNFINISHED
    if resumed and ended:
        code[i] = C_RESUMED
    if flags[EXITED, i]:
        code[i] = C_EXIT
    if flags[SIGNAL, i]:
        code[i] = C_SIGNAL
    flags[FAST, i] = code[i] != SKIP


cdef bint _result(
    Chunk c,
    Py_ssize_t i,
    Py_ssize_t s,
    Py_ssize_t e,
    int64_t[:, ::1] ints,
    double[:, ::1] floats,
    uint8_t[:, ::1] flags,
) noexcept nogil:
    """Whether the line ends in a result of ``scan``'s language (``scan._results``): its
    fields and -T duration filled in."""
    cdef Py_ssize_t k, opener, stop, x, q, previous, gap, p, r, size, digit_at, after_digits
    cdef Py_ssize_t errno_at, run, hex_run
    cdef uint8_t b, last, c0, c1, c2
    cdef bint ok, question, number, path, hexadecimal, minus_one, failed
    cdef double seconds = NAN
    # The -T duration ' <S.uuuuuu>' (1 to 6 digits of seconds), as ``scan._durations``.
    cdef Py_ssize_t duration_len = 0
    if e - s >= 16 and at(c, e - 8) == 46 and at(c, e - 1) == 62 and all_digits(c, e - 7, 6):
        opener = 7
        while opener >= 0 and digit(at(c, e - 16 + opener)):
            opener -= 1
        if (1 <= opener <= 6 and at(c, e - 16 + opener) == 60
                and at(c, e - 17 + opener) == 32):
            seconds = (decimal(c, e - 15 + opener, 7 - opener) * 1_000_000
                       + decimal(c, e - 7, 6)) / 1e6
            duration_len = 17 - opener
    stop = e - duration_len
    # The last '=' before the stop, and the last mark ('<>\\()"=') before stop - 1, in the line.
    q = -1
    previous = -1
    x = stop - 1
    while x >= s and (q < 0 or previous < 0):
        b = c.data[x]
        if q < 0 and b == 61:
            q = x
        if previous < 0 and x < stop - 1 and (b == 60 or b == 61 or b == 62 or b == 40
                                              or b == 41 or b == 34 or b == 92):
            previous = x
        x -= 1
    # The ')' closing the arguments, before one to 40 spaces.
    gap = 0
    while gap < 48 and at(c, q - 1 - gap) == 32:
        gap += 1
    p = q - 1 - gap
    ok = (q >= 0 and q < stop and p >= s and 1 <= gap <= 40 and at(c, p) == 41
          and at(c, q + 1) == 32)
    r = q + 2
    size = stop - r
    c0, c1, c2 = at(c, r), at(c, r + 1), at(c, r + 2)
    last = at(c, stop - 1 if stop >= 1 else 0)
    question = size == 1 and c0 == 63
    digit_at = r + (c0 == 45)
    run = digits_run(c, digit_at, 24)
    after_digits = digit_at + run
    number = run >= 1 and after_digits == stop
    path = (run >= 1 and at(c, after_digits) == 60 and last == 62 and after_digits < stop - 1
            and previous == after_digits)
    hexadecimal = c0 == 48 and c1 == 120
    if hexadecimal:
        hex_run = 0
        while hex_run < 24 and hex_digit(at(c, r + 2 + hex_run)):
            hex_run += 1
        hexadecimal = hex_run >= 1 and r + 2 + hex_run == stop
    minus_one = c0 == 45 and c1 == 49 and c2 == 32
    errno_at = r + 3 if minus_one else r + 2
    failed = (minus_one or (c0 == 63 and c1 == 32)) and at(c, errno_at) == 69
    run = 0
    if failed:
        while run < 25 and upper_name(at(c, errno_at + 1 + run)):
            run += 1
    opener = errno_at + run + 2
    failed = (failed and run >= 1 and at(c, opener - 1) == 32 and at(c, opener) == 40
              and last == 41 and opener < stop - 1 and previous == opener)
    ok = ok and (question or number or path or hexadecimal or failed)
    flags[ENDED, i] = ok
    flags[ERROR, i] = failed and ok
    flags[MINUS_ONE, i] = failed and minus_one and ok
    flags[QUESTION, i] = question and ok
    flags[HEXADECIMAL, i] = hexadecimal and ok
    flags[NUMBER, i] = (number or path) and ok
    ints[CLOSE, i] = p
    ints[RESULT, i] = r
    ints[STOP, i] = stop
    ints[DIGITS_END, i] = after_digits
    ints[ERRNO, i] = errno_at
    ints[OPENER, i] = opener
    if ok:
        floats[DURATION, i] = seconds
    return ok


cdef void _notice(
    Chunk c, Py_ssize_t i, Py_ssize_t body, Py_ssize_t e, bint usable, int64_t[:, ::1] ints,
    uint8_t[:, ::1] flags,
) noexcept nogil:
    """An exit '+++ exited with N +++' or a signal '--- SIGNAME INFO ---' starting at
    ``body`` (``notices.scan_notices``), in a ``usable`` line."""
    cdef Py_ssize_t run = 0, name = 3
    cdef bint exited = same(c, body, b"+++ exited with ", 16)
    if exited:
        run = digits_run(c, body + 16, 10)
    ints[STATUS_END, i] = body + 16 + run
    flags[EXITED, i] = (usable and exited and 1 <= run <= 9 and body + 20 + run == e
                        and same(c, body + 16 + run, b" +++", 4))
    cdef bint signal = same(c, body, b"--- SIG", 7)
    if signal:
        while name < NAME_MAX and signal_name(at(c, body + 4 + name)):
            name += 1
    ints[NAME_END, i] = body + 4 + name
    flags[SIGNAL, i] = (usable and signal and name < NAME_MAX and at(c, body + 4 + name) == 32
                        and body + 5 + name <= e - 4 and same(c, e - 4, b" ---", 4))

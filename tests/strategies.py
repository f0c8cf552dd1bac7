"""Hypothesis strategies for strace events, and renderers that print them as strace does.

``render_*`` functions write the text strace 6.x writes for an event, so tests can check
``parse(render(event)) == event``. Values are drawn so that the text round-trips exactly:
times have whole microseconds and are built from the text the way strace prints them.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, replace

import pyarrow as pa
from hypothesis import strategies as st

from syscall_parse.events import Exit, Signal, Syscall
from syscall_parse.schema import arrow_schema

__all__ = [
    "Prefix",
    "c_string",
    "calls",
    "log_bytes",
    "prefixes",
    "record_batches",
    "register_values",
    "render_call",
    "render_exit",
    "render_signal",
    "traces",
]

NAMES = ["read", "write", "openat", "close", "mmap", "futex", "wait4", "clone3", "execve",
         "newfstatat", "rt_sigaction", "_llseek", "syscall_0x3e7", "pread64"]  # fmt: skip
ERRNOS = [
    ("ENOENT", "No such file or directory"),
    ("EAGAIN", "Resource temporarily unavailable"),
    ("EINTR", "Interrupted system call"),
    ("ECHILD", "No child processes"),
]
RESTARTS = [
    ("ERESTARTSYS", "To be restarted if SA_RESTART is set"),
    ("ERESTART_RESTARTBLOCK", "Interrupted by signal"),
    ("ERESTARTNOHAND", "To be restarted if no handler"),
    ("ERESTARTNOINTR", "To be restarted"),
]
SIGNALS = ["SIGCHLD", "SIGUSR1", "SIGALRM", "SIGSEGV", "SIGRT_3"]

_SIMPLE = {9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r", 34: '\\"', 92: "\\\\"}


def c_string(data: bytes, truncated: bool = False) -> str:
    """``data`` as strace prints a string: C escapes, the shortest octal unless a digit follows."""
    out = ['"']
    for index, byte in enumerate(data):
        if byte in _SIMPLE:
            out.append(_SIMPLE[byte])
        elif 32 <= byte < 127:
            out.append(chr(byte))
        else:
            following = data[index + 1 : index + 2]
            octal_next = bool(following) and 48 <= following[0] <= 55
            out.append(f"\\{byte:03o}" if octal_next else f"\\{byte:o}")
    out.append('"...' if truncated else '"')
    return "".join(out)


_PATH_TEXT = st.lists(
    st.sampled_from([*"abcxyz019 ,()[]{}-_.", "\\74", "\\76"]), min_size=1, max_size=12
).map(lambda parts: "/" + "".join(parts))

_ATOMS = st.one_of(
    st.integers(-(2**31), 2**31).map(str),
    st.integers(0, 2**48).map(hex),
    st.sampled_from(["NULL", "O_RDONLY|O_CLOEXEC", "AT_FDCWD", "S_IFREG|0644", "0644", "..."]),
    st.builds(c_string, st.binary(max_size=12), st.booleans()),
    st.builds(lambda fd, path: f"{fd}<{path}>", st.integers(0, 99), _PATH_TEXT),
    st.builds(lambda path: f"AT_FDCWD<{path}>", _PATH_TEXT),
    st.builds(lambda n: f"0x7ffc6eed3820 /* {n} vars */", st.integers(0, 99)),
    st.just("5<TCP:[127.0.0.1:41853->127.0.0.1:38814]>"),
    st.just("11</dev/null<char 1:3>>"),
)

_VALUES = st.recursive(
    _ATOMS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda items: "[" + ", ".join(items) + "]"),
        st.lists(st.tuples(st.sampled_from(["fd", "st_mode", "tv_sec"]), inner), max_size=3).map(
            lambda fields: "{" + ", ".join(f"{k}={v}" for k, v in fields) + "}"
        ),
        st.lists(st.sampled_from(["CHLD", "TTOU", "RTMIN"]), max_size=3).map(
            lambda bits: "~[" + " ".join(bits) + "]"
        ),
        st.builds(lambda v: f"makedev({v}, 0x3)", inner),
    ),
    max_leaves=6,
)


@st.composite
def _results(draw):
    """(ret, retval, errno, errno_text, note, returned) of a call."""
    kind = draw(st.sampled_from(["int", "hex", "fd", "errno", "restart", "noreturn", "note"]))
    if kind == "int":
        value = draw(st.integers(0, 2**40))
        return str(value), value, None, None, None, True
    if kind == "hex":
        value = draw(st.integers(0, 2**63 - 1))
        return hex(value), value, None, None, None, True
    if kind == "fd":
        fd = draw(st.integers(0, 999))
        return f"{fd}<{draw(_PATH_TEXT)}>", fd, None, None, None, True
    if kind == "errno":
        name, text = draw(st.sampled_from(ERRNOS))
        return "-1", -1, name, text, None, True
    if kind == "restart":
        name, text = draw(st.sampled_from(RESTARTS))
        return "?", None, name, text, None, True
    if kind == "noreturn":
        return "?", None, None, None, None, False
    note = draw(st.sampled_from(["(Timeout)", "(in [3], left {tv_sec=0, tv_nsec=5})",
                                 "/* 19752 in strace's PID NS */", "(INJECTED)"]))  # fmt: skip
    return "0", 0, None, None, note, True


@dataclass(frozen=True)
class Prefix:
    """How strace prefixes lines: pid style (None, "o", "stderr"), timestamps, -n/-i."""

    pid_style: str | None
    clock: str | None  # None, "tt", "ttt"
    relative: bool
    scno_ip: bool


prefixes = st.builds(
    Prefix,
    st.sampled_from([None, "o", "stderr"]),
    st.sampled_from([None, "tt", "ttt"]),
    st.booleans(),
    st.booleans(),
)


@st.composite
def _clock(draw, clock: str | None) -> tuple[str, float | None]:
    """The text of an absolute timestamp and the value parsed from it."""
    micros = draw(st.integers(0, 999_999))
    if clock == "tt":
        seconds = draw(st.integers(0, 86_399))
        h, rest = divmod(seconds, 3600)
        m, s = divmod(rest, 60)
        return f"{h:02d}:{m:02d}:{s:02d}.{micros:06d} ", seconds + float(f"0.{micros:06d}")
    if clock == "ttt":
        text = f"{draw(st.integers(1_600_000_000, 1_900_000_000))}.{micros:06d}"
        return text + " ", float(text)
    return "", None


@st.composite
def _relative(draw, prefix: Prefix) -> tuple[str, float | None]:
    if not prefix.relative:
        return "", None
    text = f"{draw(st.integers(0, 99))}.{draw(st.integers(0, 999_999)):06d}"
    if prefix.clock is not None:
        return f"(+ {text:>13}) ", float(text)
    return f"{text:>13} ", float(text)


def _pid_text(pid: int | None, prefix: Prefix) -> str:
    if pid is None or prefix.pid_style is None:
        return ""
    return f"{pid:<5} " if prefix.pid_style == "o" else f"[pid {pid:>5}] "


@st.composite
def calls(draw, prefix: Prefix, pid: int | None = None, line: int = 1):
    """(Syscall, its prefix text, its argument texts): a call as parsed from one line."""
    if prefix.pid_style is None:
        pid = None
    elif pid is None:
        pid = draw(st.integers(1, 4_000_000))
    clock_text, time = draw(_clock(prefix.clock))
    relative_text, relative = draw(_relative(prefix))
    head = _pid_text(pid, prefix) + clock_text + relative_text
    if prefix.scno_ip:
        head += f"[{draw(st.integers(0, 450)):>4}] [{draw(st.integers(0, 2**47)):016x}] "
    name = draw(st.sampled_from(NAMES))
    pieces = draw(st.lists(_VALUES, max_size=5))
    args = ", ".join(pieces)
    ret, retval, errno, errno_text, note, returned = draw(_results())
    duration = None
    if returned and draw(st.booleans()):
        duration = float(f"0.{draw(st.integers(0, 999_999)):06d}")
    call = Syscall(pid, name, args, ret, retval, errno, errno_text, note, duration, time,
                   relative, returned, (line, line))  # fmt: skip
    return call, head, pieces


def _result_text(call: Syscall) -> str:
    text = f" = {call.ret}"
    if call.errno is not None:
        text += f" {call.errno} ({call.errno_text})"
    if call.note is not None:
        text += f" {call.note}"
    if call.duration is not None:
        text += f" <{call.duration:.6f}>"
    return text


def render_call(call: Syscall, head: str) -> str:
    """The line of a whole call, padded like strace to column 40."""
    start = f"{head}{call.name}({call.args})"
    return f"{start:<39}{_result_text(call)}\n"


def render_signal(signal: Signal, head: str) -> str:
    return f"{head}--- {signal.signal} {signal.info} ---\n"


def render_exit(event: Exit, head: str) -> str:
    if event.status is not None:
        return f"{head}+++ exited with {event.status} +++\n"
    core = " (core dumped)" if event.core_dumped else ""
    return f"{head}+++ killed by {event.signal}{core} +++\n"


_O = Prefix("o", None, False, False)


@st.composite
def traces(draw):
    """(lines, expected events) of a ``-f -o`` log of several pids.

    Every pid makes one call; some are split into ``<unfinished ...>`` and
    ``<... resumed>`` halves with the other pids' lines in between; a signal and the exits
    of every pid follow.
    """
    pids = draw(st.lists(st.integers(100, 99_999), min_size=1, max_size=5, unique=True))
    prefix = draw(prefixes.map(lambda p: replace(p, pid_style="o")))
    entries, resumes, expected = [], [], []
    for pid in pids:
        call, head, pieces = draw(calls(prefix, pid))
        split = draw(st.booleans())
        if not split:
            entries.append((render_call(call, head), call, None))
            continue
        cut = draw(st.integers(0, len(pieces)))
        partial = ", ".join(pieces[:cut]) + (", " if 0 < cut < len(pieces) else "")
        rest = call.args[len(partial) :]
        entries.append((f"{head}{call.name}({partial} <unfinished ...>\n", call, "entry"))
        resumed = f"{head}<... {call.name} resumed>{rest})"
        resumes.append((f"{resumed:<39}{_result_text(call)}\n", call, "exit"))
    lines: list[str] = []
    entry_line: dict[int, int] = {}
    for text, call, part in entries + resumes[::-1]:
        lines.append(text)
        number = len(lines)
        if part == "entry":
            entry_line[call.pid] = number
            continue
        first = entry_line.get(call.pid, number) if part == "exit" else number
        expected.append(replace(call, lines=(first, number)))
    signal_pid = pids[0]
    signal = Signal(signal_pid, draw(st.sampled_from(SIGNALS)), "{si_signo=SIGCHLD, si_code=0}")
    lines.append(render_signal(signal, _pid_text(signal_pid, _O)))
    expected.append(replace(signal, lines=(len(lines), len(lines))))
    for pid in pids:
        killed = draw(st.booleans())
        event = (
            Exit(pid, None, draw(st.sampled_from(SIGNALS)), draw(st.booleans()))
            if killed
            else Exit(pid, draw(st.integers(0, 255)))
        )
        lines.append(render_exit(event, _pid_text(pid, _O)))
        expected.append(replace(event, lines=(len(lines), len(lines))))
    return lines, expected


@st.composite
def register_values(draw):
    """(text, value): a return value strace can print, -2**63 to 2**64 - 1, in decimal, hex or
    octal, maybe with a ``-y`` decoration, and its 64-bit register's signed value."""
    number = draw(
        st.one_of(
            st.integers(-(2**63), 2**64 - 1),
            st.sampled_from([-(2**63), -1, 0, 2**63 - 1, 2**63, 2**64 - 1]),
        )
    )
    base = draw(st.sampled_from(["decimal", "hex", "octal"]) if number >= 0 else st.just("decimal"))
    text = {"decimal": str(number), "hex": hex(number), "octal": f"0{number:o}"}[base]
    if number >= 0 and draw(st.booleans()):
        text += draw(st.sampled_from(["</tmp/x>", "<pipe:[5]>", "<python3.11>", "</a b>(deleted)"]))
    return text, number - 2**64 if number >= 2**63 else number


# Lines a stderr trace can hold: strace's lines, whole or cut by program output, and the
# program's own bytes, any of them, with or without a newline before strace's next line.
_STRACE_LINES = [
    b'7  openat(AT_FDCWD, "/x", O_RDONLY) = -1 ENOENT (No such file or directory) <0.000010>',
    b"7  1795869296.749069 getpid() = 7 <0.000001>",
    b"8  read(3,  <unfinished ...>",
    b'8  <... read resumed>"ab", 2) = 2',
    b"[pid  9] getppid() = 1",
    b"7  +++ exited with 0 +++",
    b"strace: Process 8 attached",
]


@st.composite
def log_bytes(draw) -> bytes:
    """A log of strace lines and arbitrary program bytes, some spliced into a call line."""
    pieces = []
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["strace", "bytes", "spliced"]))
        if kind == "strace":
            pieces.append(draw(st.sampled_from(_STRACE_LINES)) + b"\n")
        elif kind == "bytes":
            pieces.append(draw(st.binary(max_size=40)) + draw(st.sampled_from([b"", b"\n"])))
        else:
            output = draw(st.binary(max_size=20))
            pieces.append(b'7  write(2, "x", %d%s) = %d\n' % (len(output), output, len(output)))
    return b"".join(pieces)


# Texts CSV must quote or escape (comma, quote, newline, carriage return, a leading backslash)
# and bytes of every UTF-8 length; floats whose texts are odd: no whole microseconds, an
# exponent, past 2**53, the largest and smallest, -0.0 (NaN is never a value: it is a null).
_CSV_CHARACTERS = st.one_of(
    st.sampled_from(list('ab ,"\n\r\\\x00é€𝄞')), st.characters(exclude_categories=["Cs"])
)
_ODD_FLOATS = [0.0, -0.0, math.inf, -math.inf, 1e-05, 1.2e-05, 9.9e-05, 1e-4, 1e-07, 0.1 + 0.2,
               2.0**53 + 2, 1e16, 1e300, 5e-324, sys.float_info.min, sys.float_info.max,
               2.0**33 - 1e-6, 2.0**33, 1796027470.402839]  # fmt: skip
_CSV_FLOATS = st.one_of(
    st.floats(allow_nan=False),
    st.integers(0, 2**33 * 10**6).map(lambda micros: micros / 1e6),
    st.sampled_from(_ODD_FLOATS),
)
_CSV_INTEGERS = st.one_of(
    st.integers(-(2**63), 2**63 - 1), st.sampled_from([-(2**63), -1, 0, 2**63 - 1])
)


@st.composite
def record_batches(draw):
    """A record batch of the event schema's types, maybe a slice of a longer one (its buffers
    then start at an offset): each column's values drawn with nulls, or one value in all rows,
    or all null; a categorical column's dictionary may hold a null and values no row uses."""
    rows, before, after = draw(st.integers(1, 12)), draw(st.integers(0, 9)), draw(st.integers(0, 3))
    size = before + rows + after
    texts = st.text(_CSV_CHARACTERS, max_size=12)
    columns = []
    for field in arrow_schema():
        kind = field.type
        if pa.types.is_dictionary(kind):
            values = draw(st.lists(st.one_of(texts, st.none()), min_size=1, max_size=5))
            choices = st.one_of(st.integers(0, len(values) - 1), st.none())
            indices = pa.array(draw(_column(choices, size)), pa.int32())
            columns.append(pa.DictionaryArray.from_arrays(indices, pa.array(values, pa.string())))
            continue
        elements = {pa.int64(): _CSV_INTEGERS, pa.float64(): _CSV_FLOATS, pa.bool_(): st.booleans()}
        columns.append(pa.array(draw(_column(elements.get(kind, texts), size)), kind))
    return pa.record_batch(columns, schema=arrow_schema()).slice(before, rows)


def _column(elements, size: int):
    """``size`` values of ``elements`` or nulls, or one value (or null) in all."""
    return st.one_of(
        st.lists(st.one_of(elements, st.none()), min_size=size, max_size=size),
        st.one_of(elements, st.none()).map(lambda value: [value] * size),
    )

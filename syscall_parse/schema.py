"""The column schema of event tables (DataFrame, CSV, Parquet): the contract between the parser
and everything downstream (analysis, detection, reports), and the one definition both engines
build their frames from.

One row per event, in source order. Columns that do not apply to an event kind are null.

=========== ================ =====================================================================
column      dtype            meaning
=========== ================ =====================================================================
line        int64            1-based number of the event's first source line
end_line    int64            number of its last source line (a joined call spans two)
pid         Int64            process or thread id; null when the log does not say
kind        category         ``syscall``, ``signal``, ``exit``, ``message``
time        float64          absolute timestamp, seconds (epoch with -ttt; since midnight with -t)
relative    float64          ``-r`` delta, seconds
syscall     category         syscall name
args        string           raw argument text; a signal's siginfo, a message's text, an exit's
                             ``core dumped`` or ``superseded by execve in pid N``
ret         string           raw return token (``3``, ``0x7f..``, ``3</etc/hosts>``, ``?``)
retval      Int64            integer return value, when it has one
errno       category         ``ENOENT``, ``ERESTARTSYS``...
errno_text  string           ``No such file or directory``
duration    float64          ``-T`` time spent in the call, seconds
returned    boolean          false for calls that never returned (strace -c does not count them)
signal      category         signal name (signal events, ``killed by`` exits)
status      Int64            exit status (exit events)
=========== ================ =====================================================================

Unparsed lines are not rows: they are counted (and listable with their line numbers) beside the
table.

An eBPF observer's events log (``ebpf_log``, known by its first line) gives rows of the same
schema: ``syscall`` rows only (no signals, exits or messages); ``args`` null but for a phase
marker's quoted path, so no ``-y`` paths either; ``ret`` the decimal return value (``?`` for a
call that never returned); ``relative`` null; ``pid`` the thread, as strace's ``[pid N]``.

Text columns hold a line's text as it is, but for the bytes that are not UTF-8 (program output
spliced into a stderr trace can hold any byte; logs are decoded with ``surrogateescape``): each
such byte is written ``\\xNN``, two lowercase hex digits, strace's own escape for a byte
(``table_text``), so that every table is valid UTF-8 and CSV and Parquet hold it exactly. In
strace's own text a backslash always starts an escape (strace writes a backslash as ``\\\\``),
so ``\\xNN`` there reads as the byte NN either way; only program output that itself holds the
four characters ``\\xNN`` reads the same as the byte would. The events of ``parse_line`` keep
the decoded text, from which ``line.encode("utf-8", "surrogateescape")`` gives the bytes back.

``retval`` is the 64-bit return register's value read as a signed (two's-complement) integer:
strace prints return values from -2**63 to 2**64 - 1, in decimal, hex or octal, and values of
2**63 and above wrap (``18446744073709551615`` and ``0xffffffffffffffff`` => -1); ``ret`` keeps
strace's exact text. A number no 64-bit register holds (program output) gives a null ``retval``.

In Arrow (Parquet files, the fast engine's tables) each column has the type of its values
(``ARROW_TYPES``), categorical ones dictionary-encoded (``arrow_schema``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from syscall_parse.events import Exit, Message, Signal, Syscall

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "ARROW_TYPES",
    "CATEGORICAL",
    "COLUMNS",
    "DTYPES",
    "KINDS",
    "arrow_schema",
    "event_row",
    "table_text",
]

DTYPES: dict[str, str] = {
    "line": "int64",
    "end_line": "int64",
    "pid": "Int64",
    "kind": "category",
    "time": "float64",
    "relative": "float64",
    "syscall": "category",
    "args": "string",
    "ret": "string",
    "retval": "Int64",
    "errno": "category",
    "errno_text": "string",
    "duration": "float64",
    "returned": "boolean",
    "signal": "category",
    "status": "Int64",
}

COLUMNS: tuple[str, ...] = tuple(DTYPES)

CATEGORICAL: tuple[str, ...] = tuple(name for name, dtype in DTYPES.items() if dtype == "category")
"""The columns of a few distinct texts, held as categories (sorted) in frames."""

# The Arrow type of the values of each pandas dtype, as a name for pa.type_for_alias.
_ARROW_OF_DTYPE = {
    "int64": "int64",
    "Int64": "int64",
    "float64": "float64",
    "boolean": "bool",
    "string": "string",
    "category": "string",
}

ARROW_TYPES: dict[str, str] = {name: _ARROW_OF_DTYPE[dtype] for name, dtype in DTYPES.items()}
"""The Arrow type of each column's values, named for ``pa.type_for_alias`` (this module does
not import Arrow: the count path never loads it)."""

KINDS: dict[type, str] = {Syscall: "syscall", Signal: "signal", Exit: "exit", Message: "message"}
"""The ``kind`` of each event type's rows."""


def arrow_schema() -> pa.Schema:
    """The Arrow schema of an event table: ``ARROW_TYPES``, categorical columns as
    dictionaries (int32 indices) of their values. Imports pyarrow."""
    import pyarrow as pa

    def arrow_type(name: str) -> pa.DataType:
        values = pa.type_for_alias(ARROW_TYPES[name])
        return pa.dictionary(pa.int32(), values) if name in CATEGORICAL else values

    return pa.schema([pa.field(name, arrow_type(name)) for name in COLUMNS])


# A lone surrogate: surrogateescape's '\udcff' for the byte 0xff, or one a caller made.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape_byte(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def table_text(text: str) -> str:
    """``text`` as text columns hold it: each byte that was not UTF-8 written ``\\xNN``.

    ``table_text(b"a\\xffb".decode("utf-8", "surrogateescape"))`` => ``'a\\\\xffb'``, which is
    ``b"a\\xffb".decode("utf-8", "backslashreplace")``. Character by character, so the text of a
    call joined from two lines is the join of their texts.
    """
    if text.isascii():
        return text
    return _SURROGATE.sub(_escape_byte, text)


def event_row(event: Syscall | Signal | Exit | Message) -> dict[str, object]:
    """An event's values by column; the columns it leaves out are null; texts as
    ``table_text`` writes them.

    Signal rows hold their siginfo in ``args``, message rows their text, and exit rows
    ``superseded by execve in pid N`` or ``core dumped`` when that applies.
    """
    row: dict[str, object] = {
        "line": event.lines[0],
        "end_line": event.lines[1],
        "pid": event.pid,
        "kind": KINDS[type(event)],
    }
    if isinstance(event, Syscall):
        row.update(time=event.time, relative=event.relative, syscall=event.name,
                   args=event.args, ret=event.ret, retval=event.retval, errno=event.errno,
                   errno_text=event.errno_text, duration=event.duration,
                   returned=event.returned)  # fmt: skip
    elif isinstance(event, Signal):
        row.update(time=event.time, relative=event.relative, args=event.info,
                   signal=event.signal)  # fmt: skip
    elif isinstance(event, Exit):
        if event.superseded_by is not None:
            args: str | None = f"superseded by execve in pid {event.superseded_by}"
        else:
            args = "core dumped" if event.core_dumped else None
        row.update(time=event.time, relative=event.relative, args=args, signal=event.signal,
                   status=event.status)  # fmt: skip
    else:
        row["args"] = event.text
    return {name: table_text(v) if isinstance(v, str) else v for name, v in row.items()}

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
table. In Arrow (Parquet files, the fast engine's tables) each column has the type of its values
(``ARROW_TYPES``), categorical ones dictionary-encoded (``arrow_schema``).
"""

from __future__ import annotations

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


def event_row(event: Syscall | Signal | Exit | Message) -> dict[str, object]:
    """An event's values by column; the columns it leaves out are null.

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
    return row

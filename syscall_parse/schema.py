"""The column schema of event tables (DataFrame, CSV, Parquet): the contract between the parser
and everything downstream (analysis, detection, reports).

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
args        string           raw argument text
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
"""

from __future__ import annotations

__all__ = ["COLUMNS", "DTYPES"]

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

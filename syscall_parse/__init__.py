"""syscall_parse: strace's text -> typed events -> pandas/Arrow tables and strace -c counts.

The parser alone: it imports nothing of ``syscall_lab``. ``read_trace`` gives a log's events as a
DataFrame with the columns of ``schema`` (``COLUMNS``, ``DTYPES``), ``read_batches`` the same
rows as Arrow record batches while it reads (for logs larger than memory; ``write_csv_batches``
and ``write_parquet_batches`` write them as they come), ``count_trace`` its calls and errors
per syscall; both choose the vectorized engine when it can read the input and the
reference parser otherwise (``engine=``). The names below load their module on first use
(PEP 562): ``import syscall_parse`` costs nothing, so counting a log loads numpy alone, not
pandas.
"""

from __future__ import annotations

import importlib

# The module of each public name.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "arguments": ("decode_string", "fd_paths", "split_args"),
    "batches": ("EventBatches", "read_batches"),
    "counts": ("Profile", "SyscallCount", "count_events", "count_trace"),
    "engine": ("FastPathUnsupported",),
    "errors": ("InputError", "NotStraceOutput", "StraceParseError", "TraceError"),
    "events": ("Event", "Exit", "Message", "Signal", "Syscall", "Unparsed"),
    "inputs": ("check_strace_output", "iter_trace", "open_log"),
    "lines": ("parse_line",),
    "schema": ("COLUMNS", "DTYPES"),
    "strace_summary": ("Summary", "SummaryRow", "SummaryTable", "read_summary"),
    "stream": ("ParseStats", "iter_events"),
    "syscall_table": ("syscall_name",),
    "table": (
        "events_to_frame",
        "read_csv",
        "read_parquet",
        "read_trace",
        "write_csv",
        "write_parquet",
    ),
    "writers": ("write_csv_batches", "write_parquet_batches"),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = [
    "COLUMNS",
    "DTYPES",
    "Event",
    "EventBatches",
    "Exit",
    "FastPathUnsupported",
    "InputError",
    "Message",
    "NotStraceOutput",
    "ParseStats",
    "Profile",
    "Signal",
    "StraceParseError",
    "Summary",
    "SummaryRow",
    "SummaryTable",
    "Syscall",
    "SyscallCount",
    "TraceError",
    "Unparsed",
    "check_strace_output",
    "count_events",
    "count_trace",
    "decode_string",
    "events_to_frame",
    "fd_paths",
    "iter_events",
    "iter_trace",
    "open_log",
    "parse_line",
    "read_batches",
    "read_csv",
    "read_parquet",
    "read_summary",
    "read_trace",
    "split_args",
    "syscall_name",
    "write_csv",
    "write_csv_batches",
    "write_parquet",
    "write_parquet_batches",
]


def __getattr__(name: str) -> object:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

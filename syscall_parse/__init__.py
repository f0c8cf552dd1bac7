"""syscall-lab's library: parse strace logs into typed events and tables, capture and compare."""

from .arguments import decode_string, fd_paths, split_args
from .errors import CaptureError, InputError, StraceParseError, SyscallLabError
from .events import Event, Exit, Message, Signal, Syscall, Unparsed
from .frame import (
    events_to_frame,
    read_csv,
    read_parquet,
    read_trace,
    write_csv,
    write_parquet,
)
from .inputs import iter_trace, open_log
from .lines import parse_line
from .stream import ParseStats, iter_events

__all__ = [
    "CaptureError",
    "Event",
    "Exit",
    "InputError",
    "Message",
    "ParseStats",
    "Signal",
    "StraceParseError",
    "Syscall",
    "SyscallLabError",
    "Unparsed",
    "decode_string",
    "events_to_frame",
    "fd_paths",
    "iter_events",
    "iter_trace",
    "open_log",
    "parse_line",
    "read_csv",
    "read_parquet",
    "read_trace",
    "split_args",
    "write_csv",
    "write_parquet",
]

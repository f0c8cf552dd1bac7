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
from .profile import Profile, SyscallCount, profile_events
from .stream import ParseStats, iter_events
from .summary import Summary, SummaryRow, SummaryTable, read_summary

__all__ = [
    "CaptureError",
    "Event",
    "Exit",
    "InputError",
    "Message",
    "ParseStats",
    "Profile",
    "Signal",
    "StraceParseError",
    "Summary",
    "SummaryRow",
    "SummaryTable",
    "Syscall",
    "SyscallCount",
    "SyscallLabError",
    "Unparsed",
    "decode_string",
    "events_to_frame",
    "fd_paths",
    "iter_events",
    "iter_trace",
    "open_log",
    "parse_line",
    "profile_events",
    "read_csv",
    "read_parquet",
    "read_summary",
    "read_trace",
    "split_args",
    "write_csv",
    "write_parquet",
]

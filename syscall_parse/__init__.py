"""syscall-lab's library: parse strace logs into typed events and tables, capture and compare."""

from .errors import CaptureError, InputError, StraceParseError, SyscallLabError
from .events import Event, Exit, Message, Signal, Syscall, Unparsed

__all__ = [
    "CaptureError",
    "Event",
    "Exit",
    "InputError",
    "Message",
    "Signal",
    "StraceParseError",
    "Syscall",
    "SyscallLabError",
    "Unparsed",
]

"""syscall-lab's library: parse strace logs into typed events and tables, capture and compare."""

from .adfa import AdfaDataset, AdfaTrace, benchmark_adfa, load_adfa
from .arguments import decode_string, fd_paths, split_args
from .detectors import (
    Detector,
    DetectorError,
    Ensemble,
    FrequencyKnn,
    NgramModel,
    Stide,
    TStide,
    load_detector,
    make_detector,
)
from .errors import CaptureError, InputError, StraceParseError, SyscallLabError
from .evaluation import DetectionResult, evaluate_scores
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
from .syscall_table import syscall_name

__all__ = [
    "AdfaDataset",
    "AdfaTrace",
    "CaptureError",
    "DetectionResult",
    "Detector",
    "DetectorError",
    "Ensemble",
    "Event",
    "Exit",
    "FrequencyKnn",
    "InputError",
    "Message",
    "NgramModel",
    "ParseStats",
    "Profile",
    "Signal",
    "Stide",
    "StraceParseError",
    "Summary",
    "SummaryRow",
    "SummaryTable",
    "Syscall",
    "SyscallCount",
    "SyscallLabError",
    "TStide",
    "Unparsed",
    "benchmark_adfa",
    "decode_string",
    "evaluate_scores",
    "events_to_frame",
    "fd_paths",
    "iter_events",
    "iter_trace",
    "load_adfa",
    "load_detector",
    "make_detector",
    "open_log",
    "parse_line",
    "profile_events",
    "read_csv",
    "read_parquet",
    "read_summary",
    "read_trace",
    "split_args",
    "syscall_name",
    "write_csv",
    "write_parquet",
]

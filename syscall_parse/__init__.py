"""syscall-lab's library: parse strace logs into typed events and tables, capture and compare."""

from .adfa import AdfaDataset, AdfaTrace, benchmark_adfa, load_adfa
from .analysis import AnalysisError, count_table, ngram_table, share_table, timing_table
from .arguments import decode_string, fd_paths, split_args
from .capture import (
    Ambient,
    CaptureResult,
    StraceProfile,
    capture,
    capture_condition,
    capture_series,
    workload_command,
)
from .detectors import (
    Detector,
    DetectorError,
    Ensemble,
    FrequencyKnn,
    NgramKnn,
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
from .metadata import Environment, RunMetadata, collect_metadata, read_metadata
from .phase import PhaseError, PhaseMarkers, cut_to_phase, find_markers
from .profile import Profile, SyscallCount, profile_events
from .stats import (
    Comparison,
    Distance,
    Equivalence,
    Shift,
    compare_conditions,
    compare_tables,
    distribution_distance,
    equivalence,
    share_differences,
)
from .stream import ParseStats, iter_events
from .summary import Summary, SummaryRow, SummaryTable, read_summary
from .syscall_table import syscall_name

__all__ = [
    "AdfaDataset",
    "AdfaTrace",
    "Ambient",
    "AnalysisError",
    "CaptureError",
    "CaptureResult",
    "Comparison",
    "DetectionResult",
    "Detector",
    "DetectorError",
    "Distance",
    "Ensemble",
    "Environment",
    "Equivalence",
    "Event",
    "Exit",
    "FrequencyKnn",
    "InputError",
    "Message",
    "NgramKnn",
    "NgramModel",
    "ParseStats",
    "PhaseError",
    "PhaseMarkers",
    "Profile",
    "RunMetadata",
    "Shift",
    "Signal",
    "Stide",
    "StraceParseError",
    "StraceProfile",
    "Summary",
    "SummaryRow",
    "SummaryTable",
    "Syscall",
    "SyscallCount",
    "SyscallLabError",
    "TStide",
    "Unparsed",
    "benchmark_adfa",
    "capture",
    "capture_condition",
    "capture_series",
    "collect_metadata",
    "compare_conditions",
    "compare_tables",
    "count_table",
    "cut_to_phase",
    "decode_string",
    "distribution_distance",
    "equivalence",
    "evaluate_scores",
    "events_to_frame",
    "fd_paths",
    "find_markers",
    "iter_events",
    "iter_trace",
    "load_adfa",
    "load_detector",
    "make_detector",
    "ngram_table",
    "open_log",
    "parse_line",
    "profile_events",
    "read_csv",
    "read_metadata",
    "read_parquet",
    "read_summary",
    "read_trace",
    "share_differences",
    "share_table",
    "split_args",
    "syscall_name",
    "timing_table",
    "workload_command",
    "write_csv",
    "write_parquet",
]

"""What every captured run records about itself: the machine, the command, the outcome.

``metadata.json`` in a run folder holds one ``RunMetadata`` as JSON, with ``format_version``
(2: the observer's facts in ``observer``, its command line in ``observer_argv``; a version-1
file, with ``strace_argv``, is refused with a message that says so). It is written atomically
(a temporary file, then ``os.replace``): first with status ``running`` when the run starts,
then with its final status. Only ``complete`` runs are results; a run that failed,
was killed or timed out says so and is never passed off as complete.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from syscall_parse.atomic import write_text
from syscall_parse.errors import InputError

__all__ = [
    "FORMAT_VERSION",
    "METADATA_FILE",
    "STATUSES",
    "Environment",
    "ObserverInfo",
    "RunMetadata",
    "collect_metadata",
    "logs_in",
    "metadata_from_dict",
    "read_metadata",
    "strace_version",
    "write_metadata",
]

FORMAT_VERSION = 2
METADATA_FILE = "metadata.json"
STATUSES = ("running", "complete", "failed", "killed", "timeout")


@dataclass(frozen=True, slots=True)
class Environment:
    """The machine a run was captured on (after pyperf's ``_collect_metadata``)."""

    strace_version: str | None
    kernel: str
    python: str
    python_implementation: str
    python_executable: str
    cpu_count: int | None
    cpu_model: str | None
    loadavg: tuple[float, float, float]
    hostname: str
    platform: str


@dataclass(frozen=True, slots=True)
class ObserverInfo:
    """Who watched a run: ``strace``, or ``ebpf`` in ``mode`` ``events`` or ``counts``.

    ``version`` is the tracer's (``"6.1"``, ``"v0.17.0"``). For eBPF, ``startup_seconds`` is the
    time from bpftrace's start to its probes attached (not in ``traced_seconds``),
    ``size_cap`` the largest log in bytes and ``truncated`` whether the log was cut at it.
    """

    name: str = "strace"
    mode: str | None = None
    version: str | None = None
    startup_seconds: float | None = None
    size_cap: int | None = None
    truncated: bool = False


@dataclass(frozen=True, slots=True)
class RunMetadata:
    """One traced run: what produced it, on what machine, and how it ended.

    ``command`` is the traced command, ``observer_argv`` the whole command line of its observer
    (strace's, or bpftrace's), ``observer`` who that observer was.
    ``exit_status`` is the traced command's exit status (negative: killed by that signal), or
    None when it never ended on its own. ``traced_seconds`` and ``untraced_seconds`` are wall
    times of the same command with and without strace (their ratio is the observer overhead).
    ``leftover_files`` counts files the command left in its temporary folder (since removed).
    """

    label: str
    repeat: int
    command: tuple[str, ...]
    observer_argv: tuple[str, ...]
    start_utc: str
    status: str
    environment: Environment
    observer: ObserverInfo = ObserverInfo()
    condition: str | None = None
    backend: str | None = None
    scale: float | None = None
    seed: int | None = None
    ambient: str | None = None
    ambient_argv: tuple[str, ...] | None = None
    settle_seconds: float | None = None
    exit_status: int | None = None
    traced_seconds: float | None = None
    untraced_seconds: float | None = None
    logs: tuple[str, ...] = ()
    leftover_files: int = 0
    error: str | None = None
    format_version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} is not one of {', '.join(STATUSES)}")


def strace_version(strace: str = "strace") -> str | None:
    """``"6.1"`` from ``strace -V``, or None when strace cannot be run."""
    try:
        out = subprocess.run([strace, "-V"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return None
    first = out.splitlines()[0] if out else ""
    return first.rsplit(" ", 1)[-1] or None


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as stream:
            for line in stream:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def collect_metadata(strace: str = "strace", python: str = sys.executable) -> Environment:
    """Describe this machine now: strace, kernel, Python, CPUs, load average."""
    return Environment(
        strace_version=strace_version(strace),
        kernel=platform.release(),
        python=platform.python_version(),
        python_implementation=platform.python_implementation(),
        python_executable=os.path.realpath(python),
        cpu_count=os.cpu_count(),
        cpu_model=_cpu_model(),
        loadavg=os.getloadavg(),
        hostname=platform.node(),
        platform=platform.platform(),
    )


def write_metadata(run_dir: Path, metadata: RunMetadata) -> Path:
    """Write ``metadata.json`` into ``run_dir`` atomically; return its path."""
    path = Path(run_dir) / METADATA_FILE
    return write_text(
        path, json.dumps(dataclasses.asdict(metadata), indent=2, sort_keys=True) + "\n"
    )


def _tuples(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def read_metadata(run_dir: Path) -> RunMetadata:
    """Read a run folder's ``metadata.json``; InputError when missing, invalid or too new."""
    path = Path(run_dir) / METADATA_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read run metadata {path}: {exc}") from exc
    if data.get("format_version") != FORMAT_VERSION:
        raise InputError(
            f"{path}: format_version {data.get('format_version')!r}, expected {FORMAT_VERSION}"
            " (version 1, before the observer choice, is not read: capture the run again)"
        )
    try:
        return metadata_from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{path}: invalid run metadata: {exc}") from exc


def metadata_from_dict(data: dict[str, Any]) -> RunMetadata:
    """The ``RunMetadata`` of its JSON form (``dataclasses.asdict``); KeyError, TypeError or
    ValueError when it is not one."""
    data = dict(data)
    environment = Environment(**{k: _tuples(v) for k, v in data.pop("environment").items()})
    observer = ObserverInfo(**data.pop("observer"))
    return RunMetadata(
        environment=environment, observer=observer, **{k: _tuples(v) for k, v in data.items()}
    )


def logs_in(run_dir: Path | str) -> tuple[Path, ...]:
    """A run folder's raw logs, whichever observer wrote them: those its ``metadata.json``
    names, in order (strace's ``-ff`` files in pid order). InputError when the folder is not a
    run folder or its metadata cannot be read."""
    run_dir = Path(run_dir)
    if not (run_dir / METADATA_FILE).is_file():
        raise InputError(f"{run_dir}: not a run folder (no {METADATA_FILE} in it)")
    return tuple(run_dir / name for name in read_metadata(run_dir).logs)

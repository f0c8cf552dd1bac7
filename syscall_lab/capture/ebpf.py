"""Run commands under the eBPF observer (bpftrace), one folder per run, nothing left behind.

The kernel counts and times the calls itself (``capture/ebpf_program.py``): the traced program
is not stopped per call as under strace (ptrace), so it runs at close to its own speed. The
observer sees numbers, return values and times, not arguments (see ``docs/ebpf.md``).

How a run goes. The command starts as a *gate*: a small Python process in its own session and
process group, which waits on a pipe. bpftrace starts with the gate's pid and, once its probes
are attached (it says so on stderr when ``__BPFTRACE_NOTIFY_PROBES_ATTACHED`` is set), the gate
is released: it execs the command with the environment it is sent, and the kernel follows it
from that ``execve`` on, with every thread and process it starts. The run ends when the command
and everything left in its process group have exited (or at the timeout); then the group is
killed, and bpftrace, once idle, stopped with SIGINT, which makes it write its last lines and
counts. A log short of the calls the kernel recorded fails the run.

:class:`EbpfObserver` is the observer ``capture_command`` (``capture/run.py``) runs a command
under. A run folder holds the log (``ebpf-events.log`` or ``ebpf-counts.log``, format in
``syscall_parse.ebpf_log``), the program (``ebpf.bt``), the command's ``stdout.txt`` and
``stderr.txt``, bpftrace's own ``bpftrace-stderr.txt`` and ``metadata.json`` (``RunMetadata``:
``observer_argv`` holds the bpftrace command line, ``observer`` the mode, bpftrace's version,
its start-up seconds, the size cap and whether the log was truncated). The log is capped in size
(RLIMIT_FSIZE on bpftrace: at the cap it is killed, the run too).
"""

from __future__ import annotations

import functools
import os
import platform
import re
import resource
import select
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

from syscall_lab.capture.ebpf_program import MODES, EbpfMode, bpftrace_program
from syscall_lab.capture.metadata import ObserverInfo
from syscall_lab.capture.processes import group_members, python_executable, stop_group
from syscall_lab.errors import CaptureError
from syscall_parse.ebpf_log import NOTIFY_LINE, EbpfHeader, scan_events_log
from syscall_parse.syscall_table import X86_64_SYSCALLS
from workloads.markers import PHASE_END, PHASE_START

__all__ = [
    "DEFAULT_SIZE_CAP",
    "LOG_NAMES",
    "EbpfObserver",
    "StderrWatcher",
    "bpftrace_failure",
    "bpftrace_version",
    "ebpf_unavailable",
    "epoch_offset_ns",
    "release_gate",
    "require_ebpf",
    "start_gate",
    "stop_tracer",
    "tracer_environment",
]

LOG_NAMES: dict[EbpfMode, str] = {"events": "ebpf-events.log", "counts": "ebpf-counts.log"}
PROGRAM_NAME = "ebpf.bt"
STDERR_NAME = "bpftrace-stderr.txt"
DEFAULT_SIZE_CAP = 64 * 1024 * 1024
"""Largest log (bytes): about 1.7 million calls in events mode."""
ATTACH_TIMEOUT = 60.0
"""Seconds bpftrace may take to compile and attach its probes (a second or so when idle)."""
STOP_GRACE = 10.0
"""Seconds bpftrace may take, after SIGINT, to write what its buffers still hold."""

_EPOLL_WAIT = str(next(nr for nr, name in X86_64_SYSCALLS.items() if name == "epoll_wait"))
_MIN_VERSION = (0, 14)  # the first bpftrace that says when its probes are attached
_PID_NS_INIT = 0xEFFFFFFC  # /proc/self/ns/pid inode of the initial PID namespace
_CAP_SYS_ADMIN, _CAP_PERFMON, _CAP_BPF = 21, 38, 39
# bpftrace 0.17 cannot raise RLIMIT_MEMLOCK in some containers, says so as an ERROR, and works
# (kernels >= 5.11 charge BPF memory to the cgroup, not to that limit):
#   ERROR: Unknown error -1: couldn't set RLIMIT_MEMLOCK for bpftrace. If your program ...
_HARMLESS = re.compile(r"RLIMIT_MEMLOCK")
#   /runs/x/ebpf.bt:21:1-34: ERROR: tracepoint not found: raw_syscalls:sys_enter
_ERROR = re.compile(r"(?:^|\s)(?:ERROR|Error): (.*)$", re.MULTILINE)

# The gate: waits on fd argv[1] for the environment (NUL-ended NAME=VALUE entries, then a
# newline), then execs argv[2] with argv[3:]. An empty read (the runner gave up) exits. The
# environment is sent rather than inherited because an interpreter adds to its own (CPython's
# PEP 538 sets LC_CTYPE in a C locale) and the command must get exactly the one strace would.
_GATE = """\
import os, sys
fd = int(sys.argv[1])
payload = b"".join(iter(lambda: os.read(fd, 65536), b""))
os.close(fd)
if payload.endswith(b"\\n"):
    env = dict(item.split(b"=", 1) for item in payload[:-1].split(b"\\0")[:-1])
    os.execve(sys.argv[2], sys.argv[3:], env)
"""


def _capabilities() -> int:
    with open("/proc/self/status", encoding="ascii") as stream:
        for line in stream:
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    return 0


def _version_tuple(version: str) -> tuple[int, ...]:
    # 'v0.17.0' => (0, 17, 0)
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


@functools.cache  # asked once per capture, 0.05 s a time: a program's version stays put
def bpftrace_version(bpftrace: str) -> str:
    """``"v0.17.0"`` from ``bpftrace --version``; CaptureError when it cannot be run."""
    try:
        out = subprocess.run(
            [bpftrace, "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CaptureError(f"{bpftrace} --version failed: {exc}") from exc
    return out.split()[-1] if out.split() else "unknown"


def _static_reason() -> str | None:
    """Why eBPF tracing cannot work here, from what can be checked without loading a program."""
    if platform.machine() != "x86_64":
        return (
            f"the eBPF observer reads x86-64 syscall numbers; this machine is {platform.machine()}"
        )
    bpftrace = shutil.which("bpftrace")
    if bpftrace is None:
        return "bpftrace: command not found (install it: apt-get install bpftrace)"
    if os.geteuid() != 0:
        return "eBPF tracing needs root: bpftrace runs as root only"
    caps = _capabilities()
    if not (caps >> _CAP_SYS_ADMIN & 1 or (caps >> _CAP_BPF & 1 and caps >> _CAP_PERFMON & 1)):
        return "root without CAP_BPF and CAP_PERFMON (nor CAP_SYS_ADMIN): a container without them"
    if not any(
        Path(root, "events/raw_syscalls").is_dir()
        for root in ("/sys/kernel/tracing", "/sys/kernel/debug/tracing")
    ):
        return "tracefs is not mounted (as root: mount -t tracefs nodev /sys/kernel/tracing)"
    if os.stat("/proc/self/ns/pid").st_ino != _PID_NS_INIT:
        return "this process is in a PID namespace (a container): bpftrace sees the host's pids"
    try:
        version = bpftrace_version(bpftrace)
    except CaptureError as exc:
        return str(exc)
    if _version_tuple(version) < _MIN_VERSION:
        return f"bpftrace {version} is too old: the observer needs 0.14 or later"
    return None


def bpftrace_failure(stderr: str, returncode: int | None) -> str:
    """The one line that says why bpftrace failed, from its stderr."""
    errors = [line for line in _ERROR.findall(stderr) if not _HARMLESS.search(line)]
    if errors:
        reason = errors[0].strip()
        if "tracepoint not found" in reason:
            reason += " (is tracefs mounted at /sys/kernel/tracing?)"
        return f"bpftrace: {reason}"
    lines = [line for line in stderr.splitlines() if line.strip() and not _HARMLESS.search(line)]
    return f"bpftrace: {lines[-1].strip()}" if lines else f"bpftrace exited with {returncode}"


def ebpf_unavailable(*, probe: bool = False) -> str | None:
    """Why eBPF tracing is unavailable here, in one line, or None when it is available.

    Checks the machine, bpftrace, root and capabilities, tracefs and the PID namespace (the
    program reads tracepoint fields from tracefs: it needs no BTF);
    ``probe`` also loads a tiny program on ``raw_syscalls:sys_enter`` (about a second), which
    finds what only the kernel can say (lockdown, seccomp, a refused ``bpf()``).
    """
    reason = _static_reason()
    if reason is not None or not probe:
        return reason
    program = "tracepoint:raw_syscalls:sys_enter { exit(); }"
    try:
        result = subprocess.run(
            [shutil.which("bpftrace") or "bpftrace", "-q", "-e", program],
            capture_output=True, text=True, timeout=ATTACH_TIMEOUT, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return f"bpftrace did not load a test program within {ATTACH_TIMEOUT:g} s"
    return None if result.returncode == 0 else bpftrace_failure(result.stderr, result.returncode)


def require_ebpf() -> str:
    """bpftrace's path when eBPF tracing is available here; CaptureError saying why not."""
    reason = _static_reason()
    if reason is not None:
        raise CaptureError(reason)
    return shutil.which("bpftrace")  # type: ignore[return-value]


def epoch_offset_ns() -> int:
    """CLOCK_REALTIME - CLOCK_MONOTONIC now, in ns: the monotonic stamps' offset to the epoch."""
    before = time.monotonic_ns()
    real = time.time_ns()
    after = time.monotonic_ns()
    return real - (before + after) // 2


def _perf_pages() -> int:
    """Pages per CPU of bpftrace's output buffers: 4 MiB each up to 8 CPUs, 32 MiB in all."""
    pages = 8192 // max(1, os.cpu_count() or 1)
    return max(64, min(1024, 1 << (pages.bit_length() - 1)))


def _environment_payload(env: Mapping[str, str]) -> bytes:
    entries = b"".join(os.fsencode(f"{name}={value}") + b"\0" for name, value in env.items())
    return entries + b"\n"


def tracer_environment() -> dict[str, str]:
    """bpftrace's environment: this one, with the probes' attachment announced, room for the
    thread maps, and output buffers of ``_perf_pages`` pages."""
    return {
        **os.environ, NOTIFY_LINE: "1", "BPFTRACE_MAP_KEYS_MAX": "16384",
        "BPFTRACE_PERF_RB_PAGES": str(_perf_pages()),
    }  # fmt: skip


def start_gate(
    command: Sequence[str], env: Mapping[str, str], stdout: IO[bytes] | int, stderr: IO[bytes] | int
) -> tuple[subprocess.Popen[bytes], int]:
    """The command's gate, started in a session of its own and waiting: the process, and the
    pipe end :func:`release_gate` releases it through (the kernel follows it from its exec)."""
    executable = shutil.which(command[0], path=env.get("PATH")) or command[0]
    gate_in, gate_out = os.pipe()
    gate_argv = (python_executable(), "-I", "-S", "-c", _GATE, str(gate_in), executable, *command)
    try:
        gate = subprocess.Popen(
            gate_argv, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
            pass_fds=(gate_in,), start_new_session=True,
        )  # fmt: skip
    except BaseException:
        os.close(gate_out)
        raise
    finally:
        os.close(gate_in)
    return gate, gate_out


def release_gate(gate_out: int, env: Mapping[str, str]) -> None:
    """Send the gate the environment (it execs the command with it) and close ``gate_out``;
    CaptureError when the gate had already ended."""
    try:
        os.write(gate_out, _environment_payload(env))
    except BrokenPipeError:
        raise CaptureError("the command's gate ended before it was released") from None
    finally:
        os.close(gate_out)


class StderrWatcher(threading.Thread):
    """Copies bpftrace's stderr to a file, and says when the probes are attached."""

    def __init__(self, stream: IO[bytes], path: Path) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.path = path
        self.attached = threading.Event()

    def run(self) -> None:
        with open(self.path, "wb") as out:
            for line in self.stream:
                if line.strip() == NOTIFY_LINE.encode():
                    self.attached.set()
                    continue
                out.write(line)
                out.flush()


def _wait_attached(
    tracer: subprocess.Popen[bytes], watcher: StderrWatcher, log: Path, header_size: int
) -> None:
    """Return once bpftrace's probes are attached; CaptureError when it fails or overruns."""
    deadline = time.monotonic() + ATTACH_TIMEOUT
    while not watcher.attached.wait(0.02):
        if tracer.poll() is not None:
            watcher.join(5)
            stderr = watcher.path.read_text(encoding="utf-8", errors="replace")
            raise CaptureError(bpftrace_failure(stderr, tracer.returncode))
        with open(log, "rb") as stream:  # newer bpftrace says it on stdout
            stream.seek(header_size)
            if NOTIFY_LINE.encode() in stream.read(4096):
                return
        if time.monotonic() > deadline:
            raise CaptureError(f"bpftrace did not attach its probes within {ATTACH_TIMEOUT:g} s")


def _idle(pid: int) -> bool:
    """Whether bpftrace sleeps in epoll_wait: it has read every message it was woken for."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stream:
            state = stream.read().rsplit(")", 1)[1].split()[0]
        with open(f"/proc/{pid}/syscall", encoding="ascii") as stream:
            call = stream.read().split(" ", 1)[0]
    except OSError:
        return False
    return state == "S" and call == _EPOLL_WAIT


def stop_tracer(tracer: subprocess.Popen[bytes], written: Callable[[], int]) -> None:
    """SIGINT (bpftrace writes out what is left and the counts), once bpftrace is idle; then
    its group killed if it has not ended within STOP_GRACE seconds.

    bpftrace 0.17 drops the messages it is reading when SIGINT arrives (and reads the rest
    after): so the signal waits until bpftrace sleeps in epoll_wait with nothing new written,
    seen twice 20 ms apart (a woken bpftrace is runnable, not sleeping). And it notices SIGINT
    only as an interrupted epoll_wait: a signal that lands between two waits is lost, so while
    it sleeps on, half a second at a time (its final drain waits 0.1 s at most), SIGINT again.
    """
    deadline = time.monotonic() + STOP_GRACE
    seen = None
    while tracer.poll() is None and time.monotonic() < deadline:
        now = (_idle(tracer.pid), written())
        if now[0] and now == seen:
            break
        seen = now
        time.sleep(0.02)
    asleep_since = None
    while tracer.poll() is None and time.monotonic() < deadline:
        if asleep_since is None or time.monotonic() - asleep_since > 0.5:
            tracer.send_signal(signal.SIGINT)
            asleep_since = time.monotonic()
        if not _idle(tracer.pid):
            asleep_since = time.monotonic()
        time.sleep(0.02)
    stop_group(tracer)


def _observe(
    bpftrace: str,
    command: Sequence[str],
    run_dir: Path,
    env: Mapping[str, str],
    timeout: float,
    info: ObserverInfo,
) -> tuple[dict[str, object], ObserverInfo]:
    """Run the command under bpftrace: the outcome fields of its metadata (with the bpftrace
    command line, ``observer_argv``), and the observer's facts."""
    mode: EbpfMode = info.mode  # type: ignore[assignment]
    log = run_dir / LOG_NAMES[mode]
    program = run_dir / PROGRAM_NAME
    program.write_text(bpftrace_program(mode, (PHASE_START, PHASE_END)))
    header = EbpfHeader(
        mode, epoch_offset_ns(), platform.release(), info.version or "unknown",
        (PHASE_START, PHASE_END),
    ).text()  # fmt: skip
    log.write_text(header, encoding="utf-8")
    with open(run_dir / "stdout.txt", "wb") as stdout, open(run_dir / "stderr.txt", "wb") as stderr:
        gate, gate_out = start_gate(command, env, stdout, stderr)
    argv = (*_argv(bpftrace, run_dir), str(gate.pid))
    tracer_env = tracer_environment()
    outcome: dict[str, object] = {"observer_argv": argv}
    tracer = watcher = None
    try:
        with open(log, "ab") as out:
            start = time.perf_counter()
            tracer = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.PIPE,
                env=tracer_env, start_new_session=True,
            )  # fmt: skip
        resource.prlimit(tracer.pid, resource.RLIMIT_FSIZE, (info.size_cap, info.size_cap))
        watcher = StderrWatcher(tracer.stderr, run_dir / STDERR_NAME)  # type: ignore[arg-type]
        watcher.start()
        _wait_attached(tracer, watcher, log, len(header.encode()))
        info = replace(info, startup_seconds=time.perf_counter() - start)
        begin = time.perf_counter()
        gate_out, released = -1, gate_out
        release_gate(released, env)
        outcome |= _wait_command(gate, tracer, begin + timeout)
        outcome["traced_seconds"] = time.perf_counter() - begin
    finally:
        if gate_out >= 0:
            os.close(gate_out)
        stop_group(gate)
        if tracer is not None:
            stop_tracer(tracer, lambda: log.stat().st_size)
        if watcher is not None:
            watcher.join(STOP_GRACE)
        if tracer is not None and tracer.stderr is not None:
            tracer.stderr.close()
    if tracer.returncode == -signal.SIGXFSZ:
        info = replace(info, truncated=True)
        outcome["status"] = "killed"
        outcome["error"] = f"the eBPF log reached its size cap of {info.size_cap} bytes"
    elif tracer.returncode != 0 or outcome["status"] == "killed":
        # bpftrace ended before the command, or failed at its end: the log is not whole.
        stderr = watcher.path.read_text(encoding="utf-8", errors="replace")  # type: ignore[union-attr]
        outcome["status"] = "failed"
        outcome["error"] = bpftrace_failure(stderr, tracer.returncode)
    elif mode == "events":
        lines, recorded = scan_events_log(log)
        if lines != recorded:
            outcome["status"] = "failed"
            outcome["error"] = f"the eBPF log holds {lines} of the {recorded} calls recorded"
    return outcome, info


def _wait_command(
    gate: subprocess.Popen[bytes], tracer: subprocess.Popen[bytes], deadline: float
) -> dict[str, object]:
    """Wait for the command, then for what is left in its process group, until ``deadline``
    (as strace waits for every tracee); stop early when bpftrace stops. The command's end is
    seen when it happens (a pidfd), so ``traced_seconds`` is not rounded up by polling."""
    gate_fd, tracer_fd = os.pidfd_open(gate.pid), os.pidfd_open(tracer.pid)
    try:
        ready: list[int] = []
        while gate_fd not in ready:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return {"status": "timeout", "exit_status": None}
            ready = select.select([gate_fd, tracer_fd], [], [], remaining)[0]
            if tracer_fd in ready and gate_fd not in ready:
                return {"status": "killed", "exit_status": None}
    finally:
        os.close(gate_fd)
        os.close(tracer_fd)
    returncode = gate.wait()
    while group_members(gate.pid):
        if tracer.poll() is not None:
            return {"status": "killed", "exit_status": returncode}
        if time.perf_counter() > deadline:
            return {"status": "timeout", "exit_status": returncode}
        time.sleep(0.02)
    return {"status": "complete", "exit_status": returncode}


def _argv(bpftrace: str, run_dir: Path) -> tuple[str, ...]:
    """bpftrace's command line of a run into ``run_dir``, without the gate's pid (known once the
    gate has started)."""
    return (bpftrace, "-q", "--no-warnings", str(run_dir / PROGRAM_NAME))


@dataclass(frozen=True, slots=True)
class EbpfObserver:
    """The eBPF observer as a capture's observer: ``mode`` ``events`` (a line per call) or
    ``counts`` (counts kept in the kernel), ``size_cap`` the largest log in bytes."""

    mode: EbpfMode = "events"
    size_cap: int = DEFAULT_SIZE_CAP

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        if self.size_cap < 4096:
            raise ValueError(f"size cap must be at least 4096 bytes, got {self.size_cap}")

    def prepare(self) -> tuple[str, ObserverInfo]:
        """bpftrace's path and the observer's facts; CaptureError saying why eBPF tracing is
        unavailable here."""
        bpftrace = require_ebpf()
        version = bpftrace_version(bpftrace)
        return bpftrace, ObserverInfo("ebpf", self.mode, version, size_cap=self.size_cap)

    def argv(self, tracer: str, run_dir: Path, command: Sequence[str]) -> tuple[str, ...]:
        """bpftrace's command line before the run (the gate's pid is added when it starts)."""
        return _argv(tracer, run_dir)

    def logs(self, run_dir: Path) -> tuple[Path, ...]:
        """The log, when the run got as far as writing it."""
        log = run_dir / LOG_NAMES[self.mode]
        return (log,) if log.exists() else ()

    def observe(
        self,
        tracer: str,
        command: Sequence[str],
        run_dir: Path,
        env: Mapping[str, str],
        timeout: float,
        info: ObserverInfo,
    ) -> tuple[dict[str, object], ObserverInfo]:
        """Run the command under bpftrace: the outcome fields of its metadata, and ``info``
        with the start-up time and whether the log was truncated."""
        return _observe(tracer, command, run_dir, env, timeout, info)

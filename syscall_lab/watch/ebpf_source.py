"""The live eBPF source: bpftrace's events program writing to a pipe that watch reads as it goes.

bpftrace runs the eBPF observer's events program (``capture/ebpf_program.py``) in a session of
its own, its stdout a pipe (buffer raised to 1 MiB) and its stderr copied to a temporary folder.
With a command: the command starts as capture's gate (``capture/ebpf.py``), released once the
probes are attached, so the kernel follows it from its ``execve`` with every thread and process
it starts; its stdout and stderr are discarded. With ``-p PID``: the program's thread map is
seeded with the pid's threads (``/proc/PID/task`` when bpftrace starts; a thread started
between that listing and the probes' attachment, about a second, is not followed), and what
they start is followed. Each line becomes a call (``syscall_parse.ebpf_log.parse_event_line``:
the name from the x86-64 table) and the calls go out in entry-time order through the reorder
buffer (``watch/entry_order.py``).

The trace ends when the command and its process group have ended, when the watched pid has
exited, or on :meth:`EbpfTrace.stop`; then bpftrace is stopped as capture stops it (SIGINT once
idle, so it writes what it holds), on a thread of its own while the pipe is still read. Nothing
is attached to the process itself: detaching is stopping bpftrace.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import platform
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType

from syscall_lab.capture.ebpf import (
    ATTACH_TIMEOUT,
    STOP_GRACE,
    StderrWatcher,
    bpftrace_failure,
    bpftrace_version,
    epoch_offset_ns,
    release_gate,
    require_ebpf,
    start_gate,
    stop_tracer,
    tracer_environment,
)
from syscall_lab.capture.ebpf_program import bpftrace_program
from syscall_lab.capture.processes import GRACE_SECONDS, group_members, stop_group
from syscall_lab.errors import CaptureError
from syscall_lab.watch.entry_order import EntryOrder
from syscall_lab.watch.source import BATCH_SECONDS, PIPE_BYTES
from syscall_parse.ebpf_log import NOTIFY_LINE, EbpfHeader, parse_event_line
from syscall_parse.events import Syscall
from workloads.markers import PHASE_START, PHASE_SWITCH

__all__ = ["MARKERS", "EbpfTrace"]

MARKERS = (PHASE_START, PHASE_SWITCH)
"""The marker paths whose calls carry their path (the program reads two)."""
_POLL_SECONDS = 0.02
_RECORDED = "@recorded: "
_LOST = "Lost "


def _status(returncode: int) -> int:
    """A process's exit status as a shell gives it: 128 + N when killed by signal N."""
    return returncode if returncode >= 0 else 128 - returncode


class EbpfTrace:
    """bpftrace on a command or a running pid, its calls read in entry-time order as they come.

    The same use as :class:`~syscall_lab.watch.source.LiveTrace`: a context manager whose
    :meth:`events` yields the calls until the trace ends. After the trace: ``lost`` (calls
    bpftrace reported lost), ``late`` (calls passed on out of order), ``unparsed`` (lines not
    of the format) and ``recorded`` (calls the kernel recorded, when bpftrace ended cleanly).
    """

    def __init__(self, command: Sequence[str] = (), *, pid: int | None = None) -> None:
        if bool(command) == (pid is not None):
            raise CaptureError("give a command after -- or -p PID, one of them")
        self.bpftrace = require_ebpf()
        if command and shutil.which(command[0]) is None:
            raise CaptureError(f"{command[0]}: command not found")
        if pid is not None and not Path(f"/proc/{pid}/task").is_dir():
            raise CaptureError(f"no process {pid}")
        self.command = tuple(command)
        self.pid = pid
        self.stopped_by: int | None = None
        self.lost = self.late = self.unparsed = 0
        self.recorded: int | None = None
        self._threads: tuple[int, ...] = ()  # -p: the pid's threads when bpftrace started
        self._folder: Path | None = None
        self._gate: subprocess.Popen[bytes] | None = None
        self._tracer: subprocess.Popen[bytes] | None = None
        self._watcher: StderrWatcher | None = None
        self._stopper = threading.Thread()
        self._wake_read, self._wake_write = -1, -1
        self._read_bytes = 0
        self._pending = b""
        self._header: EbpfHeader | None = None
        self._returncode: int | None = None

    def __enter__(self) -> EbpfTrace:
        self._folder = Path(tempfile.mkdtemp(prefix="syscall-lab-watch-"))
        try:
            self._start(self._folder)
        except BaseException:
            self.close()
            raise
        return self

    def _start(self, folder: Path) -> None:
        program = folder / "watch.bt"
        gate_out = -1
        if self.pid is not None:
            self._threads = tuple(sorted(int(tid) for tid in os.listdir(f"/proc/{self.pid}/task")))
            program.write_text(bpftrace_program("events", MARKERS, threads=self._threads))
            argv: tuple[str, ...] = (self.bpftrace, "-q", "--no-warnings", str(program))
        else:
            program.write_text(bpftrace_program("events", MARKERS))
            self._gate, gate_out = start_gate(
                self.command, os.environ, subprocess.DEVNULL, subprocess.DEVNULL
            )
            argv = (self.bpftrace, "-q", "--no-warnings", str(program), str(self._gate.pid))
        self._header = EbpfHeader(
            "events", epoch_offset_ns(), platform.release(), bpftrace_version(self.bpftrace),
            MARKERS,
        )  # fmt: skip
        self._wake_read, self._wake_write = os.pipe()
        try:
            self._tracer = tracer = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                env=tracer_environment(), start_new_session=True,
            )  # fmt: skip
            assert tracer.stdout is not None
            with contextlib.suppress(OSError):  # above pipe-max-size: keep the default
                fcntl.fcntl(tracer.stdout.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
            self._watcher = StderrWatcher(tracer.stderr, folder / "bpftrace-stderr.txt")  # type: ignore[arg-type]
            self._watcher.start()
            self._await_attached(tracer)
            if gate_out >= 0 and self.stopped_by is None:
                gate_out, released = -1, gate_out
                release_gate(released, os.environ)
        finally:
            if gate_out >= 0:
                os.close(gate_out)
        self._stopper = threading.Thread(target=self._await_end, daemon=True)
        self._stopper.start()

    def _await_attached(self, tracer: subprocess.Popen[bytes]) -> None:
        """Wait until bpftrace says its probes are attached (0.17: on stderr; later versions on
        stdout, whose first lines are kept for :meth:`events`); CaptureError when it fails."""
        assert self._watcher is not None
        assert tracer.stdout is not None
        deadline = time.monotonic() + ATTACH_TIMEOUT
        fd = tracer.stdout.fileno()
        while not self._watcher.attached.is_set():
            if self.stopped_by is not None:
                return
            if select.select([fd], [], [], _POLL_SECONDS)[0]:
                chunk = os.read(fd, PIPE_BYTES)
                self._pending += chunk
                if NOTIFY_LINE.encode() in self._pending:
                    return
                if not chunk:  # bpftrace ended
                    tracer.wait()
                    self._watcher.join(GRACE_SECONDS)
                    raise CaptureError(self.failure() or "bpftrace ended before it attached")
            if time.monotonic() > deadline:
                raise CaptureError(
                    f"bpftrace did not attach its probes within {ATTACH_TIMEOUT:g} s"
                )

    def _await_end(self) -> None:
        """On its own thread: wait for the end of the command's group or the pid (or a stop),
        then stop bpftrace while the pipe is still read."""
        assert self._tracer is not None
        watched = self._gate.pid if self._gate is not None else self.pid
        assert watched is not None
        try:
            pidfd = os.pidfd_open(watched)
        except ProcessLookupError:
            pidfd = -1
        waits = [self._wake_read] + ([pidfd] if pidfd >= 0 else [])
        try:
            if pidfd >= 0 and self.stopped_by is None:
                select.select(waits, [], [])
        finally:
            if pidfd >= 0:
                os.close(pidfd)
        if self._gate is not None:
            self._returncode = self._gate.wait()
            while group_members(self._gate.pid) and self._tracer.poll() is None:
                time.sleep(_POLL_SECONDS)
        stop_tracer(self._tracer, lambda: self._read_bytes)

    def events(self, drained: Callable[[], object] = lambda: None) -> Iterator[Syscall]:
        """The calls in entry-time order as bpftrace writes them, until it ends; ``drained``
        is called each time the pipe is empty, before a pause of ``BATCH_SECONDS``."""
        assert self._tracer is not None
        assert self._tracer.stdout is not None
        assert self._header is not None
        order = EntryOrder(threads=self._threads)
        fd = self._tracer.stdout.fileno()
        number = 0
        pending, self._pending = self._pending, b""
        chunk = b""
        while True:
            *complete, pending = pending.split(b"\n")
            for line in complete:
                number += 1
                call = self._call(line.decode("utf-8", "surrogateescape"), number)
                if call is not None:
                    yield from order.push(*call)
            drained()
            if len(chunk) < PIPE_BYTES // 2:
                time.sleep(BATCH_SECONDS)
            chunk = os.read(fd, PIPE_BYTES)
            if not chunk:
                break
            self._read_bytes += len(chunk)
            pending += chunk
        if pending:
            call = self._call(pending.decode("utf-8", "surrogateescape"), number + 1)
            if call is not None:
                yield from order.push(*call)
        yield from order.flush()
        self.late = order.late

    def _call(self, text: str, number: int) -> tuple[int, Syscall] | None:
        """A line's entry time (ns) and call; None for bpftrace's own lines (counted)."""
        assert self._header is not None
        call = parse_event_line(text, number, self._header)
        if call is not None:
            return int(text.split(" ", 1)[0]), call
        if text.startswith(_RECORDED):
            self.recorded = int(text[len(_RECORDED) :])
        elif text.startswith(_LOST) and text.endswith(" events"):
            self.lost += int(text.split()[1])
        elif text.strip() and text.strip() != NOTIFY_LINE:
            self.unparsed += 1
        return None

    def failure(self) -> str | None:
        """bpftrace's complaint when it failed (exited non-zero), else None."""
        tracer = self._tracer
        if tracer is None or tracer.poll() in (None, 0) or self._watcher is None:
            return None
        self._watcher.join(GRACE_SECONDS)
        stderr = self._watcher.path.read_text(encoding="utf-8", errors="replace")
        return bpftrace_failure(stderr, tracer.returncode)

    def stop(self, signum: int = signal.SIGTERM) -> None:
        """End the trace early: a command's group is stopped; with -p, bpftrace is stopped and
        the process goes on. Safe to call from a signal handler."""
        if self.stopped_by is None:
            self.stopped_by = signum
        if self._gate is not None and self._gate.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._gate.pid, signal.SIGTERM)
        if self._wake_write >= 0:
            with contextlib.suppress(OSError):
                os.write(self._wake_write, b"x")

    def exit_status(self) -> int | None:
        """A command's exit status (128 + N when killed by signal N); None with -p (the eBPF
        observer does not see a process's exit status)."""
        self._stopper.join()
        return None if self._returncode is None else _status(self._returncode)

    def close(self) -> None:
        """Stop the command's group and bpftrace, reap them, remove the folder."""
        if self._gate is not None:
            stop_group(self._gate)
        if self._tracer is not None:
            if self._stopper.is_alive():
                self.stop()
                self._stopper.join(STOP_GRACE + GRACE_SECONDS)
            stop_group(self._tracer)
            if self._watcher is not None:
                self._watcher.join(GRACE_SECONDS)
            for stream in (self._tracer.stdout, self._tracer.stderr):
                if stream is not None:
                    stream.close()
        for fd in (self._wake_read, self._wake_write):
            if fd >= 0:
                os.close(fd)
        self._wake_read = self._wake_write = -1
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

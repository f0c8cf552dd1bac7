"""The live source: strace writing to a pipe that watch reads as it goes.

strace runs ``-f -ttt -T -y`` with ``-o`` a FIFO in a temporary folder (strace opens it itself,
close-on-exec, so the traced program never holds it), in a session of its own
(:func:`~syscall_lab.capture.processes.start_group`). With a command, strace starts it; with
``-p PID`` strace attaches to the process and all its threads, and on :meth:`LiveTrace.stop`
(Ctrl-C, SIGTERM) it detaches, leaving the process running. strace's stderr (and the command's)
is read on a thread of its own, its first 64 KiB kept for strace's complaints and the rest
discarded (a chatty command costs neither memory nor disk); the command's stdout is discarded.
The folder is removed and strace reaped when the trace is closed.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
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

from syscall_lab.capture.processes import GRACE_SECONDS, start_group, stop_group
from syscall_lab.capture.strace import StraceOptions, find_strace, strace_failure
from syscall_lab.errors import CaptureError
from syscall_parse.events import Event
from syscall_parse.stream import iter_events

__all__ = ["BATCH_SECONDS", "PIPE_BYTES", "STDERR_KEPT", "LiveTrace"]

PIPE_BYTES = 1 << 20  # the pipe's buffer (Linux's default cap): bursts wait here, not in strace
BATCH_SECONDS = 0.02  # the reader's pause between reads (see LiveTrace.lines)
STDERR_KEPT = 64 * 1024  # bytes of strace's stderr kept for its complaints
_POLL_MS = 100


def _status(returncode: int) -> int:
    """A process's exit status as a shell gives it: 128 + N when killed by signal N."""
    return returncode if returncode >= 0 else 128 - returncode


class LiveTrace:
    """strace on a command or an attached pid, its log read line by line as strace writes it.

    Use as a context manager: on entry strace starts (CaptureError when the command or the
    process does not exist); :meth:`lines` yields the log's lines until strace ends;
    :meth:`stop` (safe from a signal handler) ends the trace early; :meth:`exit_status`
    reports how it ended and :meth:`failure` what strace said if it failed; on exit everything
    is stopped, reaped and removed.
    """

    def __init__(
        self,
        command: Sequence[str] = (),
        *,
        pid: int | None = None,
        options: StraceOptions = StraceOptions(),  # noqa: B008 - frozen, safe to share
    ) -> None:
        if bool(command) == (pid is not None):
            raise CaptureError("give a command after -- or -p PID, one of them")
        self.command = tuple(command)
        self.pid = pid
        self.options = options
        self.stopped_by: int | None = None  # the signal that stopped the trace early
        self._folder: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._reader: int | None = None
        self._stderr = bytearray()
        self._stderr_reader = threading.Thread()

    def __enter__(self) -> LiveTrace:
        strace = find_strace()
        if self.command and shutil.which(self.command[0]) is None:
            raise CaptureError(f"{self.command[0]}: command not found")
        if self.pid is not None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                raise CaptureError(f"no process {self.pid}") from None
        self._folder = Path(tempfile.mkdtemp(prefix="syscall-lab-watch-"))
        try:
            self._start(strace, self._folder)
        except BaseException:
            self.close()
            raise
        return self

    def _start(self, strace: str, folder: Path) -> None:
        fifo = folder / "trace.pipe"
        os.mkfifo(fifo, 0o600)
        # Non-blocking, so the open does not wait for strace; blocking again once it writes.
        self._reader = reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        with contextlib.suppress(OSError):  # above pipe-max-size: keep the default
            fcntl.fcntl(reader, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        target = ("-p", str(self.pid)) if self.pid is not None else ("--", *self.command)
        argv = (strace, *self.options.argv(fifo), *target)
        self._process = start_group(argv, os.environ, stderr=subprocess.PIPE)
        if self.stopped_by is not None:  # a signal came while strace was starting
            self.stop(self.stopped_by)
        self._stderr_reader = threading.Thread(target=self._keep_stderr, daemon=True)
        self._stderr_reader.start()
        self._await_writer(reader)
        os.set_blocking(reader, True)

    def _await_writer(self, reader: int) -> None:
        """Wait until strace opens the pipe (Linux reports no hang-up on a FIFO before its
        first writer); CaptureError with strace's complaint when it ends without opening it."""
        assert self._process is not None
        poller = select.poll()
        poller.register(reader, select.POLLIN | select.POLLHUP)
        while not poller.poll(_POLL_MS):
            if self._process.poll() is not None and not poller.poll(0):
                if self.stopped_by is not None:
                    return  # stopped before the first call: an empty log
                raise CaptureError(self.failure() or "strace ended before it traced anything")

    def _keep_stderr(self) -> None:
        """Read strace's stderr (the command's too) to its end, keeping its first
        ``STDERR_KEPT`` bytes: strace complains at its start, and a chatty command must cost
        neither memory nor disk."""
        assert self._process is not None
        assert self._process.stderr is not None
        while chunk := self._process.stderr.read1(PIPE_BYTES):
            if len(self._stderr) < STDERR_KEPT:
                self._stderr += chunk[: STDERR_KEPT - len(self._stderr)]

    def failure(self) -> str | None:
        """strace's own complaint on its stderr (ptrace or attach refused...), or None.
        Once strace has exited, waits (a moment at most) for its stderr to be read."""
        if self._process is not None and self._process.poll() is not None:
            self._stderr_reader.join(GRACE_SECONDS)
        return strace_failure(bytes(self._stderr).decode("utf-8", errors="replace"))

    def lines(self, drained: Callable[[], object] = lambda: None) -> Iterator[str]:
        """The log's lines as strace writes them, until it ends (or is stopped).

        It reads whatever the pipe holds and, once every line read has been taken, calls
        ``drained`` and sleeps ``BATCH_SECONDS`` (unless the pipe was near full): woken for
        every line, the reader would take the CPU from strace and the program at each call;
        batched, it wakes a few dozen times a second, and the pipe holds the lines meanwhile.
        """
        assert self._reader is not None
        pending = b""
        while chunk := os.read(self._reader, PIPE_BYTES):
            *complete, pending = (pending + chunk).split(b"\n")
            for line in complete:
                yield line.decode("utf-8", "surrogateescape") + "\n"
            drained()
            if len(chunk) < PIPE_BYTES // 2:
                time.sleep(BATCH_SECONDS)
        if pending:
            yield pending.decode("utf-8", "surrogateescape")

    def events(self, drained: Callable[[], object] = lambda: None) -> Iterator[Event]:
        """The log's events as strace writes them (the streaming parser on :meth:`lines`)."""
        return iter_events(self.lines(drained))

    def stop(self, signum: int = signal.SIGTERM) -> None:
        """End the trace early: detach from an attached process (it keeps running), or stop a
        command's group. Safe to call from a signal handler; the log ends at strace's exit."""
        if self.stopped_by is None:
            self.stopped_by = signum
        process = self._process
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            if self.pid is not None:
                os.kill(process.pid, signal.SIGTERM)  # strace detaches from every tracee
            else:
                os.killpg(process.pid, signal.SIGTERM)

    def exit_status(self) -> int | None:
        """Wait for strace; a command's exit status (128 + N when killed by signal N), None
        for an attached process (its status is in the trace if it exited while watched)."""
        assert self._process is not None
        returncode = self._process.wait()
        return _status(returncode) if self.pid is None else None

    def close(self) -> None:
        """Stop whatever is left of the group, reap strace, close the pipe, remove the folder."""
        if self._process is not None:
            if self._process.poll() is None:
                self.stop()
            stop_group(self._process)
            self._stderr_reader.join(GRACE_SECONDS)  # the group is gone: its stderr ends
            if self._process.stderr is not None and not self._stderr_reader.is_alive():
                self._process.stderr.close()
        if self._reader is not None:
            os.close(self._reader)
            self._reader = None
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

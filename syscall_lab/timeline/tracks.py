"""One log's events on process and thread tracks, as trace events.

A thread is one track, under its process: the first pid of a log is a process, and a thread
created by ``clone``/``clone3`` with ``CLONE_THREAD`` belongs to its creator's process while
``fork``, ``vfork`` and other clones make a process. Under ``-f`` a new thread often prints
before its creator's ``clone`` returns, so the events of a pid not yet created are held (at
most ``HOLD`` of them) until the ``clone`` that names it; a pid no ``clone`` names (attached
with ``-p``, or its creator not traced) becomes a process of its own at the end of the log.

Each call that returned is a complete slice (``X``) from its start, ``dur`` its ``-T`` time (0
without ``-T``); a call that never returned is a slice begun (``B``) and never ended, open to
the end of the trace. A thread's slices never overlap: a slice that would start before the
previous one on its thread ended starts there, its duration kept (stamps are rounded to the
microsecond, ``-t`` to the second, and a ``-T`` time is measured apart from the stamp). Signals
and exits are instants. A process is named after the program its ``execve`` ran (its
basename), a thread after its ``-Y`` comm where the creating ``clone`` returns one, or a
``prctl(PR_SET_NAME)``, else its process's name. Each ``clone`` that created a traced pid is a
flow arrow from the ``clone`` slice to the new thread's first event. A pid seen again after it
exited or was killed (Linux reuses pids) is a new thread: its track id moved up by ``REUSED``
per reuse.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from syscall_lab.timeline import trace_events as te
from syscall_lab.timeline.clock import SECOND, Clock

__all__ = ["HOLD", "NO_PID", "REUSED", "Ids", "LogTracks", "TrackCounts"]

HOLD = 4096
"""Events held per pid not yet created before it is taken for a process of its own."""

NO_PID = 1 << 22
"""The track of events without a pid (strace without ``-f``): above any pid Linux gives."""

REUSED = 1 << 32
"""What a reused pid's track id is moved up by, per reuse: above any pid and log move."""

_CLONES = frozenset({"clone", "clone3", "fork", "vfork"})
# The first C string of an argument list: '"/usr/bin/ls", ["ls"], ...' => /usr/bin/ls.
_FIRST_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
# The name prctl(PR_SET_NAME) gives: 'PR_SET_NAME, "worker-1"' => worker-1.
_SET_NAME = re.compile(r'PR_SET_NAME, "((?:[^"\\]|\\.)*)"')
# A -Y decorated pid: '1235<python3>' => python3.
_COMM = re.compile(r"\d+<(.*)>")

Emit = Callable[[str], object]
Row = tuple  # the values of one event row, in the order of LogTracks.feed's parameters


@dataclass(slots=True)
class TrackCounts:
    """What a timeline holds, by kind of trace event, over all its logs."""

    complete: int = 0
    open: int = 0
    instants: int = 0
    flows: int = 0
    processes: int = 0
    threads: int = 0
    flows_dropped: int = 0  # clones whose new pid has no event in the log


@dataclass(slots=True)
class Ids:
    """Track ids unique across logs: a pid an earlier log used is moved up by 2**23 per log (its
    ``reuse``-th reuse in the log by ``REUSED`` more)."""

    used: set[int] = field(default_factory=set)

    def for_log(self, index: int) -> Callable[[int, int], int]:
        """The id of each pid and reuse of the ``index``-th log (0-based)."""
        mine: dict[tuple[int, int], int] = {}

        def track_id(pid: int, reuse: int) -> int:
            if (pid, reuse) not in mine:
                base = pid + reuse * REUSED
                moved = base + (index << 23) if base in self.used else base
                mine[pid, reuse] = moved
                self.used.add(moved)
            return mine[pid, reuse]

        return track_id


@dataclass(slots=True)
class _Thread:
    tid: int
    reuse: int = 0  # how many threads of its pid came before it
    exited: bool = False
    pid: int | None = None  # its process's track; None while held
    end: int = 0  # where its last slice ended, microseconds
    first: tuple[int, str] | None = None  # ts and cat of its first event
    flows: list[tuple[int, str]] = field(default_factory=list)  # (id, tail) awaiting it
    held: list[tuple[int, Row]] = field(default_factory=list)
    # where the clone that created it puts it: (process, ts, program, comm)
    birth: tuple[int, int, str | None, str | None] | None = None


class LogTracks:
    """The trace events of one log's rows, given to ``emit`` as they come (``feed``), then
    those of the pids still held (``close``)."""

    def __init__(
        self,
        clock: Clock,
        track_id: Callable[[int, int], int],
        emit: Emit,
        counts: TrackCounts,
        label: str | None = None,
    ) -> None:
        self._clock = clock
        self._id = track_id
        self._emit = emit
        self._counts = counts
        self._label = label
        self._threads: dict[int | None, _Thread] = {}
        self._names: dict[int, str] = {}  # process track -> program
        self._flow = 0

    def feed(
        self,
        line: int,
        end_line: int,
        pid: int | None,
        kind: str,
        time: float | None,
        relative: float | None,
        name: str | None,
        args: str | None,
        ret: str | None,
        retval: int | None,
        errno: str | None,
        errno_text: str | None,
        duration: float | None,
        returned: bool | None,
        signal: str | None,
        status: int | None,
    ) -> None:
        """One event row (the columns of ``syscall_parse.schema``)."""
        if kind == "message":  # strace's own words: no stamp, no track
            return
        ts = self._clock.stamp(time, relative, line, end_line)
        thread = self._threads.get(pid)
        if thread is None or thread.exited:
            thread = self._new_thread(pid, ts, thread)
        row = (kind, name, args, ret, retval, errno, errno_text, duration, returned, signal, status)
        if thread.pid is None and thread.birth is not None:
            self._release(thread, *thread.birth)
        if thread.pid is None:
            thread.held.append((ts, row))
            if len(thread.held) > HOLD:
                self._release(thread, thread.tid, ts)
            return
        self._event(thread, ts, row)

    def close(self) -> None:
        """Pids no clone created become processes; clones of pids without events are dropped
        (strace without -f does not follow them)."""
        for thread in list(self._threads.values()):
            if thread.held:
                self._release(thread, thread.tid, 0)
        for thread in self._threads.values():
            self._counts.flows_dropped += len(thread.flows)

    def _new_thread(self, pid: int | None, ts: int, gone: _Thread | None = None) -> _Thread:
        """The thread of ``pid``, after the one that ``gone`` (exited) if any."""
        reuse = 0 if gone is None else gone.reuse + 1
        thread = _Thread(self._id(NO_PID if pid is None else pid, reuse), reuse)
        first = not self._threads
        self._threads[pid] = thread
        if first:  # the log's first pid: its first process
            self._process(thread, thread.tid, ts)
        return thread

    def _process(
        self, thread: _Thread, pid: int, ts: int, program: str | None = None,
        comm: str | None = None,
    ) -> None:  # fmt: skip
        """``thread`` joins process ``pid``: a new one when ``pid`` is its own tid."""
        thread.pid = pid
        self._counts.threads += 1
        if pid == thread.tid:
            self._counts.processes += 1
            self._emit(te.metadata("process_sort_index", pid, pid, ts,
                                   {"sort_index": self._counts.processes}))  # fmt: skip
            if self._label is not None:
                self._emit(te.metadata("process_labels", pid, pid, ts, {"labels": self._label}))
            if program is not None:
                self._name_process(pid, ts, program)
        name = comm or self._names.get(pid)
        if name is not None:
            self._emit(te.metadata("thread_name", pid, thread.tid, ts, {"name": name}))

    def _name_process(self, pid: int, ts: int, name: str) -> None:
        self._names[pid] = name
        self._emit(te.metadata("process_name", pid, pid, ts, {"name": name}))

    def _release(
        self, thread: _Thread, pid: int, ts: int, program: str | None = None,
        comm: str | None = None,
    ) -> None:  # fmt: skip
        """Put ``thread`` in process ``pid`` and write the events it held."""
        held, thread.held = thread.held, []
        self._process(thread, pid, held[0][0] if held else ts, program, comm)
        for at, row in held:
            self._event(thread, at, row)

    def _event(self, thread: _Thread, ts: int, row: Row) -> None:
        kind, name, args, ret, retval, errno, errno_text, duration, returned, signal, status = row
        pid, tid = thread.pid, thread.tid
        assert pid is not None
        start = max(ts, thread.end)
        if kind == "syscall":
            values = te.call_args(args or "", ret, errno, errno_text)
            if returned:
                cat = "syscall" if errno is None else "syscall,error"
                stop = start + round((duration or 0.0) * SECOND)
                self._emit(te.complete(name, cat, pid, tid, start, stop - start, values))
                self._counts.complete += 1
            else:
                cat, stop = "syscall,unreturned", start
                self._emit(te.begin(name, cat, pid, tid, start, values))
                self._counts.open += 1
            thread.end = stop
        elif kind == "signal":
            cat = "signal"
            self._emit(te.instant(signal, cat, pid, tid, start, {"siginfo": args}))
            self._counts.instants += 1
        else:
            cat = "exit"
            if status is not None:
                what = f"exited with {status}"
            elif signal is not None:
                what = f"killed by {signal}" + (" (core dumped)" if args else "")
            else:
                what = args or "exit"
            thread.exited = status is not None or signal is not None  # not superseded
            self._emit(te.instant(what, cat, pid, tid, start, {}))
            self._counts.instants += 1
        if thread.first is None:
            thread.first = (start, cat)
            for flow, tail in thread.flows:
                self._emit(tail)
                self._emit(te.flow_end(flow, cat, pid, tid, start))
                self._counts.flows += 1
            thread.flows.clear()
        if kind != "syscall" or not returned:
            return
        if name in _CLONES and retval is not None and retval > 0 and errno is None:
            self._clone(thread, name, retval, args or "", ret or "", start, cat)
        elif name == "execve" and retval == 0:
            program = _FIRST_STRING.match(args or "")
            if program is not None:
                base = program.group(1).rsplit("/", 1)[-1]
                self._name_process(pid, start, base)
                self._emit(te.metadata("thread_name", pid, tid, start, {"name": base}))
        elif name == "prctl" and retval == 0:
            named = _SET_NAME.match(args or "")
            if named is not None:
                self._emit(te.metadata("thread_name", pid, tid, start, {"name": named.group(1)}))

    def _clone(
        self, parent: _Thread, name: str, child_pid: int, args: str, ret: str, ts: int, cat: str
    ) -> None:
        """A flow from the clone slice to the new pid's first event; the new pid's process."""
        assert parent.pid is not None
        self._flow += 1
        tail = te.flow_start(self._flow, cat, parent.pid, parent.tid, ts)
        child = self._threads.get(child_pid)
        if child is None or child.exited:
            child = self._new_thread(child_pid, ts, child)
        if child.first is None:
            child.flows.append((self._flow, tail))
        else:
            first_ts, first_cat = child.first
            self._emit(tail)
            self._emit(te.flow_end(self._flow, first_cat, child.pid, child.tid, first_ts))
            self._counts.flows += 1
        if child.pid is not None:  # held too long, or created by an earlier clone
            return
        comm = _COMM.fullmatch(ret)
        in_parent = name in ("clone", "clone3") and "CLONE_THREAD" in args
        # A new process runs its parent's program until it execs.
        program = None if in_parent else self._names.get(parent.pid)
        child.birth = (
            parent.pid if in_parent else child.tid, ts, program,
            comm.group(1) if comm is not None else None,
        )  # fmt: skip
        if child.held:
            self._release(child, *child.birth)

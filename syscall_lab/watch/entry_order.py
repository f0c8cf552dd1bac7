"""The eBPF observer's calls put back in entry-time order as they arrive, in bounded memory.

bpftrace writes a thread's calls in batches of ``BATCH`` (8), at the exit of the batch's last
call (``capture/ebpf_program.py``): a thread's lines come in its own order, but up to 7 of its
calls wait in the kernel while other threads' later calls are written. So a call is held in a
heap until no call with an earlier entry time can still come, which is exact from these facts:

* a thread's batched calls arrive in its order, so its unwritten calls all entered after the
  last one seen (its *mark*); two kinds of line are written at once, ahead of the thread's
  batch, and do not move its mark: a phase marker's, and a call cut short because its process
  is dying (``exit_group`` from another thread);
* a thread seen to end (its ``exit`` or ``exit_group``, written after its batch) has none left;
* a thread not yet seen entered its first call after its creator's ``clone``/``fork`` did:
  after the creator's mark while that call is unseen, and once it is seen the child is marked
  at the clone's entry time;
* a thread that lived before the trace began (``-p``: the pid's threads, given) may have
  entered its first traced call at any time: it holds the others back (mark 0) until it is
  seen, or for the horizon.

A call is released when its entry time is at most every live thread's mark (the *watermark*).
That waits on a thread blocked inside a call with earlier calls unwritten (a shell in
``wait4`` while its child runs): so a call is also released once the newest entry time seen is
``HORIZON_NS`` past it, or when more than ``CAPACITY`` calls are held. A call that arrives
after a later one was released (its thread was blocked longer than the horizon, or died
outside a call, or a thread's tid changed at an exec, or bpftrace read two per-CPU buffers
out of order) is passed on at once and counted in
``late``. Ties go in arrival order.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable

from syscall_parse.events import Syscall

__all__ = ["CAPACITY", "HORIZON_NS", "EntryOrder"]

HORIZON_NS = 1_000_000_000
"""Trace time (ns) a call waits at most for a blocked thread's earlier calls."""
CAPACITY = 1 << 16
"""Calls held at most (about 20 MB of records)."""
_FORKS = frozenset({"clone", "clone3", "fork", "vfork"})
_EXITS = frozenset({"exit", "exit_group"})
_ENDED_KEPT = 4096  # ended threads remembered, so that a late clone line does not revive one


class EntryOrder:
    """The reorder buffer: :meth:`push` each call with its entry time (ns) as it arrives; it
    returns the calls now known to be next, in entry-time order; :meth:`flush` the rest."""

    def __init__(
        self,
        *,
        threads: Iterable[int] = (),
        horizon_ns: int = HORIZON_NS,
        capacity: int = CAPACITY,
    ) -> None:
        self.horizon_ns = horizon_ns
        self.capacity = capacity
        self.late = 0  # calls passed on out of order
        self._heap: list[tuple[int, int, Syscall]] = []
        self._arrival = itertools.count()
        # live thread => entry time of its last call seen (0: none yet, of a thread given)
        self._marks: dict[int, int] = dict.fromkeys(threads, 0)
        self._ended: dict[int, None] = {}  # ended threads, oldest first
        self._newest = 0
        self._released = -1

    def _end(self, tid: int) -> None:
        self._marks.pop(tid, None)
        self._ended[tid] = None
        if len(self._ended) > _ENDED_KEPT:
            del self._ended[next(iter(self._ended))]

    def push(self, entry_ns: int, call: Syscall) -> list[Syscall]:
        """Take one call; the calls released by it, in entry-time order."""
        if entry_ns < self._released:
            self.late += 1
            return [call]
        tid = call.pid
        self._ended.pop(tid, None)  # a tid seen again was reused
        if not call.returned and call.name in _EXITS:
            self._end(tid)
        elif call.returned and call.args is None:
            self._marks[tid] = entry_ns
            child = call.retval
            if call.name in _FORKS and child and child > 0 and child not in self._ended:
                self._marks.setdefault(child, entry_ns)
        # else written ahead of its thread's batch (a marker, a call its dying process cut
        # short): the thread's mark stays.
        self._newest = max(self._newest, entry_ns)
        heapq.heappush(self._heap, (entry_ns, next(self._arrival), call))
        bound = max(min(self._marks.values(), default=self._newest), self._newest - self.horizon_ns)
        released = []
        while self._heap and (self._heap[0][0] <= bound or len(self._heap) > self.capacity):
            self._released, _, first = heapq.heappop(self._heap)
            released.append(first)
        return released

    def flush(self) -> list[Syscall]:
        """Every call still held, in entry-time order (at the end of the trace)."""
        held, self._heap = sorted(self._heap), []
        if held:
            self._released = held[-1][0]
        return [call for *_, call in held]

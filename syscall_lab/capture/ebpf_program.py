"""The bpftrace program of the eBPF observer: its text, made from the mode and the phase markers.

The program follows one process, the gate (``$1``), from its ``execve`` on (or the threads of a
running process, given when the program is made), and every thread and process it starts
(``sched_process_fork`` of a followed thread), by thread id. For each call of a
followed thread it keeps the entry time and number (``raw_syscalls:sys_enter``) and, at the exit
(``raw_syscalls:sys_exit``), either

* ``events``: writes one line per call, ``ts tid pid nr ret dur`` (``syscall_parse.ebpf_log``).
  Lines go out in batches of ``BATCH`` per thread, one ``printf`` each: bpftrace wakes up per
  message, and a message per call cost the traced program x10 of its untraced time where a
  batch of 8 costs x3. A thread's unfinished batch goes out when it exits; or
* ``counts``: adds the call to in-kernel counts per (segment, syscall), printed when bpftrace
  stops; segment 0 lies before the start marker, 1 between the markers, 2 after the end marker.

As in strace's log, a call never returns (``= ?``) when its thread exits inside it (``exit``,
``exit_group``) or when its process is being ended by ``exit_group`` (strace gets no exit stop
for a thread with SIGKILL pending; the kernel sends it to the other threads): it is written
with ret and dur ``?``, or counted in ``@unreturned``. (Reading the pending signals themselves
needs the kernel's BTF types, which add a second or more to bpftrace's start.)

Phase markers: the path argument of the ``stat`` family is read on entry and compared with the
markers; a marker call's line carries its path as a seventh field (events), or moves the
segment (counts). ``@recorded`` counts the calls the kernel recorded, so a reader can tell a
whole log from one that lost lines. bpftrace prints the maps left at its end: the program
clears its working maps, so only the counts are printed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from syscall_parse.syscall_table import X86_64_SYSCALLS
from workloads.markers import PHASE_END, PHASE_START

__all__ = ["BATCH", "MODES", "PATH_ARGUMENT", "EbpfMode", "bpftrace_program"]

EbpfMode = Literal["events", "counts"]
MODES: tuple[EbpfMode, ...] = ("events", "counts")

BATCH = 8
"""Calls per ``printf``: 8 calls of 6 fields is what fits the 512-byte BPF stack."""

PATH_ARGUMENT = {"stat": 0, "lstat": 0, "newfstatat": 1, "statx": 1}
"""The x86-64 calls a phase marker can be (``os.stat``), and which argument holds the path."""

_NUMBER = {name: number for number, name in X86_64_SYSCALLS.items()}
_NEWLINE = "\\n"  # as bpftrace's printf format writes it
# ts tid pid nr ret dur: entry time (CLOCK_MONOTONIC ns), thread, process, number, raw return
# value, exit - entry (ns).
_FIELDS = "%llu %d %d %ld %ld %llu"
_LINE = _FIELDS + _NEWLINE
_UNRETURNED = "%llu %d %d %ld ? ?" + _NEWLINE

# A call a fatal signal cuts short returns -EINTR or a restart code (512-516) to the kernel;
# only those look up whether their process is dying.
_INTERRUPTED = "($ret == -4 || ($ret <= -512 && $ret >= -516))"

_GATE = """\
// $1 is the gate: a process that waits, then execs the command. Followed (1) from its execve
// (pending: 2), as strace's log starts with the command's execve.
BEGIN { @follow[$1] = 2; }"""

_FOLLOW = """\
{begin}

// A thread or process started by a followed thread is followed (by tid: threads too). A new
// process may reuse the pid of an ended one: it is not dying.
tracepoint:sched:sched_process_fork /@follow[args->parent_pid] == 1/ {{
  $child = args->child_pid;
  @follow[$child] = 1;
  delete(@dying[$child]);
}}

// Every call of the machine runs the entry and exit programs: one map look-up each decides.
// (ctx fields are copied to variables first: bpftrace 0.17 otherwise makes code the verifier
// refuses, ctx pointer arithmetic, when they are read after a branch.)
tracepoint:raw_syscalls:sys_enter {{
  $id = args->id;
{arguments}
  $f = @follow[tid];
  if ($f == 0) {{ return; }}
  if ($f == 2) {{
    if ($id != {execve} && $id != {execveat}) {{ return; }}
    @follow[tid] = 1;
  }}
  // exit_group ends every other thread of the process, inside whatever call it is in.
  if ($id == {exit_group}) {{ @dying[pid] = 1; }}
{marker_test}"""

# A thread that execs while others live takes over the leader's tid (de_thread), whose exit
# was seen: what was kept under the old tid moves to the new.
_EXEC = """\
tracepoint:sched:sched_process_exec /args->old_pid != args->pid/ {{
  $old = args->old_pid;
  if (@follow[$old]) {{
    $new = args->pid;
    @follow[$new] = 1;
    @call[$new] = @call[$old];
    delete(@call[$old]);
    delete(@follow[$old]);
{move}  }}
}}
"""

_EVENTS = """\
  @call[tid] = (nsecs, $id, $m);
}}

tracepoint:raw_syscalls:sys_exit {{
  $ret = args->ret;
  $c = @call[tid];
  if ($c.0 == 0) {{ return; }}
  delete(@call[tid]);
  @recorded = count();
  if {interrupted} {{
    if (@dying[pid]) {{
      printf("{unreturned}", $c.0, tid, pid, $c.1);
      return;
    }}
  }}
  if ($c.2 != 0) {{
{marker_lines}
    return;
  }}
  $k = @n[tid];
  @ev[tid, $k] = ($c.0, $c.1, $ret, nsecs - $c.0);
  if ($k == {last}) {{
    printf("{batch_format}", {batch_args});
    @n[tid] = 0;
  }} else {{
    @n[tid] = $k + 1;
  }}
}}

{exec}
// A thread's end: its unfinished batch goes out, and the call it was in, if any, never returned.
tracepoint:sched:sched_process_exit /@follow[tid]/ {{
  $n = @n[tid];
  $i = 0;
  unroll({last}) {{
    if ($i < $n) {{ printf("{line}", {slot_args}); }}
    $i++;
  }}
  $i = 0;
  unroll({batch}) {{ delete(@ev[tid, $i]); $i++; }}
  delete(@n[tid]);
  if (@call[tid].0) {{
    @recorded = count();
    printf("{unreturned}", @call[tid].0, tid, pid, @call[tid].1);
    delete(@call[tid]);
  }}
  delete(@follow[tid]);
}}

END {{ clear(@follow); clear(@call); clear(@dying); clear(@n); clear(@ev); }}
"""

_COUNTS = """\
  // The segment of this call: the start marker counts before the phase, the end marker after.
  // Segments only move forward, so an end marker before the start leaves segment 2 empty.
  $s = @segment;
  if ($m == 1 && $s == 0) {{ @segment = 1; }}
  if ($m == 2 && $s == 1) {{ @segment = 2; $s = 2; }}
  if ($m != 0) {{ @markers[$m] = count(); }}
  @call[tid] = (nsecs, $id, $s);
}}

tracepoint:raw_syscalls:sys_exit {{
  $ret = args->ret;
  $c = @call[tid];
  if ($c.0 == 0) {{ return; }}
  delete(@call[tid]);
  @recorded = count();
  if {interrupted} {{
    if (@dying[pid]) {{
      @unreturned[$c.2, $c.1] = count();
      return;
    }}
  }}
  @calls[$c.2, $c.1] = stats(nsecs - $c.0);  // count and total ns in one map
  if ($ret < 0 && $ret >= -4095) {{ @errors[$c.2, $c.1] = count(); }}
}}

{exec}
tracepoint:sched:sched_process_exit /@follow[tid]/ {{
  if (@call[tid].0) {{
    @recorded = count();
    @unreturned[@call[tid].2, @call[tid].1] = count();
    delete(@call[tid]);
  }}
  delete(@follow[tid]);
}}

END {{ clear(@follow); clear(@call); clear(@dying); clear(@segment); }}
"""


def _words(marker: str) -> list[tuple[int, int]]:
    """``(mask, value)`` of each 8-byte word of ``marker`` and its NUL, as a little-endian load
    reads them; the last word's mask keeps only the bytes that belong to the marker."""
    data = marker.encode() + b"\0"
    words = []
    for offset in range(0, len(data), 8):
        chunk = data[offset : offset + 8]
        words.append(((1 << 8 * len(chunk)) - 1, int.from_bytes(chunk, "little")))
    return words


def _marker_test(markers: Sequence[str]) -> str:
    """Entry code that sets ``$m`` to 1 (start) or 2 (end) for a marker call, else 0.

    The path is compared as 8-byte loads with constants (a ``str()`` comparison unrolls into
    byte loops past the verifier's budget of a million instructions in this program). Only the
    first word is read from every ``stat``: the next ones when the words before match the
    markers' common start.
    """
    by_argument: dict[int, list[int]] = {}
    for name, argument in PATH_ARGUMENT.items():
        by_argument.setdefault(argument, []).append(_NUMBER[name])
    lines = ["  $m = 0;", "  $a = (uint64)0;"]
    for argument, numbers in sorted(by_argument.items()):
        test = " || ".join(f"$id == {number}" for number in sorted(numbers))
        lines.append(f"  if ({test}) {{ $a = $a{argument}; }}")
    words = [_words(marker) for marker in markers]
    full = (1 << 64) - 1
    shared = 0  # leading full words all markers share
    while all(len(w) > shared + 1 and w[shared] == words[0][shared] and w[shared][0] == full
              for w in words):  # fmt: skip
        shared += 1
    indent = "  "
    lines.append(f"{indent}if ($a != 0) {{")
    for i in range(shared):
        indent += "  "
        lines.append(f"{indent}$w{i} = *(uint64 *)uptr($a + {8 * i});")
        lines.append(f"{indent}if ($w{i} == {words[0][i][1]:#x}) {{")
    indent += "  "
    count = max(len(w) for w in words)
    lines += [f"{indent}$w{i} = *(uint64 *)uptr($a + {8 * i});" for i in range(shared, count)]
    for code, marker_words in enumerate(words, 1):
        test = " && ".join(
            f"$w{i} == {value:#x}" if mask == full else f"($w{i} & {mask:#x}) == {value:#x}"
            for i, (mask, value) in enumerate(marker_words)
            if i >= shared
        )
        lines.append(f"{indent}if ({test}) {{ $m = {code}; }}")
    for _ in range(shared + 1):
        indent = indent[:-2]
        lines.append(f"{indent}}}")
    return "\n".join(lines)


def _slot_args(slot: str) -> str:
    value = f"@ev[tid, {slot}]"
    return f"{value}.0, tid, pid, {value}.1, {value}.2, {value}.3"


def _events(markers: Sequence[str]) -> str:
    marker_lines = "\n".join(
        f'    if ($c.2 == {code}) {{ printf("{_FIELDS} {marker}{_NEWLINE}", '
        f"$c.0, tid, pid, $c.1, $ret, nsecs - $c.0); }}"
        for code, marker in enumerate(markers, 1)
    )
    # The batch of the exec'ing thread moves with it; its lines will carry the new tid.
    move = (
        "    @n[$new] = @n[$old];\n    delete(@n[$old]);\n    $i = 0;\n"
        f"    unroll({BATCH}) {{ @ev[$new, $i] = @ev[$old, $i]; delete(@ev[$old, $i]); $i++; }}\n"
    )
    return _EVENTS.format(
        interrupted=_INTERRUPTED,
        unreturned=_UNRETURNED,
        marker_lines=marker_lines,
        last=BATCH - 1,
        batch=BATCH,
        batch_format=_LINE * BATCH,
        batch_args=", ".join(_slot_args(str(slot)) for slot in range(BATCH)),
        line=_LINE,
        slot_args=_slot_args("$i"),
        exec=_EXEC.format(move=move),
    )


def _seeded(threads: Sequence[int]) -> str:
    """BEGIN that follows ``threads`` (a running process's) at once, instead of a gate."""
    follow = " ".join(f"@follow[{int(thread)}] = 1;" for thread in threads)
    return f"// The threads of a running process, followed at once.\nBEGIN {{ {follow} }}"


def bpftrace_program(
    mode: EbpfMode,
    markers: Sequence[str] = (PHASE_START, PHASE_END),
    *,
    threads: Sequence[int] = (),
) -> str:
    """The bpftrace program for ``mode`` (``events`` or ``counts``), its argument ``$1`` the
    gate's pid; ``markers`` are the start and end marker paths. With ``threads`` (the tids of
    a running process) it follows those threads from its start instead, and takes no ``$1``."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if len(markers) != 2:
        raise ValueError(f"expected a start and an end marker, got {list(markers)}")
    for marker in markers:
        # A marker is written into printf formats, and its path field is one word.
        if not marker or any(char in marker for char in '"\\%\n '):
            raise ValueError(f"marker path {marker!r} cannot be written into the program")
    head = _FOLLOW.format(
        begin=_seeded(threads) if threads else _GATE,
        execve=_NUMBER["execve"],
        execveat=_NUMBER["execveat"],
        exit_group=_NUMBER["exit_group"],
        marker_test=_marker_test(markers),
        arguments="\n".join(
            f"  $a{n} = args->args[{n}];" for n in sorted(set(PATH_ARGUMENT.values()))
        ),
    )
    if mode == "events":
        body = _events(markers)
    else:
        body = _COUNTS.format(exec=_EXEC.format(move=""), interrupted=_INTERRUPTED)
    return f"// syscall-lab eBPF observer, {mode} mode\n{head}\n{body}"

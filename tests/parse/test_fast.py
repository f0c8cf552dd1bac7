"""The vectorized engine gives exactly the reference parser's frames and profiles.

Real strace logs of varied programs and option sets are parsed both ways and compared whole
(``assert_frame_equal``, ``Profile ==``), with chunks small enough that split calls straddle
chunk borders. Odd lines are fed through Hypothesis in random interleavings. The engine is
reached through ``read_trace``/``count_trace`` with ``engine="fast"``; its private entry points
only where a test sets ``workers=`` or ``chunk_bytes=``.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import textwrap
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from syscall_parse._fast import count_file, read_frame
from syscall_parse._fast.scan import scan_lines
from syscall_parse.counts import Profile, count_trace
from syscall_parse.engine import FastPathUnsupported
from syscall_parse.errors import InputError
from syscall_parse.schema import DTYPES, arrow_schema
from syscall_parse.table import read_parquet, read_trace, write_parquet

TRACEE = Path(__file__).with_name("tracee.py")

# Threads writing, reading and stat-ing files whose names hold spaces, failing calls (ENOENT),
# a child process killed by SIGKILL mid-sleep.
FILES_PROGRAM = textwrap.dedent(
    """
    import os, subprocess, sys, threading, time
    base = sys.argv[1]
    def work(k):
        path = os.path.join(base, f"f {k} (x).txt")
        for i in range(15):
            with open(path, "w") as f:
                f.write("x" * i)
            os.stat(path)
            try:
                os.stat(path + ".missing")
            except FileNotFoundError:
                pass
            with open(path, "rb") as f:
                f.read()
    threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    child = subprocess.Popen(["sleep", "30"])
    time.sleep(0.05)
    child.kill()
    child.wait()
    """
)


def fast_engine(**options) -> tuple[Callable[[Path], pd.DataFrame], Callable[[Path], Profile]]:
    """The fast engine's frame reader and counter: the public API with ``engine="fast"``, or
    the private entry points when ``workers=``/``chunk_bytes=`` are given."""
    if options:
        return partial(read_frame, **options), partial(count_file, **options)
    return partial(read_trace, engine="fast"), partial(count_trace, engine="fast")


def assert_same(path: Path, **options) -> None:
    """The fast engine's frame and profile equal the reference's, unless it declines the log
    (FastPathUnsupported); either way ``engine="auto"`` gives the reference's."""
    read, count = fast_engine(**options)
    frames = [read_trace(path)]
    with contextlib.suppress(FastPathUnsupported):
        frames.append(read(path))
    profiles = [count_trace(path)]
    with contextlib.suppress(FastPathUnsupported):
        profiles.append(count(path))
    expected = read_trace(path, engine="reference")
    for frame in frames:
        pd.testing.assert_frame_equal(expected, frame)
        assert expected.attrs == frame.attrs
    expected_profile = count_trace(path, engine="reference")
    for profile in profiles:
        assert expected_profile == profile


def _capture(run_strace, tmp_path: Path, options: list[str], program: str) -> Path:
    log = tmp_path / "trace.log"
    work = tmp_path / "dir with space"
    work.mkdir(exist_ok=True)
    if program == "tracee":
        command = [sys.executable, str(TRACEE)]
    else:
        script = tmp_path / "files.py"
        script.write_text(FILES_PROGRAM)
        command = [sys.executable, str(script), str(work)]
    if "-o" in options:
        result = run_strace([*options, str(log)], command)
    else:
        result = run_strace(options, command)  # stderr mode: the trace is strace's stderr
        log.write_text(result.stderr, errors="surrogateescape")
    assert log.stat().st_size > 0, result.stderr
    return log


# The fast layouts ([-f] -o with -ttt, -tt, -r or no stamp, with or without -T/-y) and
# others, which fall back line by line or as a whole.
FAST_LAYOUTS = [
    pytest.param(["-f", "-ttt", "-T", "-y", "-o"], id="f-ttt-T-y"),
    pytest.param(["-f", "-ttt", "-T", "-o"], id="f-ttt-T"),
    pytest.param(["-f", "-y", "-o"], id="f-y-no-time"),
    pytest.param(["-f", "-tt", "-T", "-o"], id="f-tt-T"),
    pytest.param(["-f", "-r", "-yy", "-o"], id="f-r-yy"),
    pytest.param(["-o"], id="no-f"),
    pytest.param(["-ttt", "-T", "-y", "-o"], id="no-f-ttt-T-y"),
    pytest.param(["-tt", "-o"], id="no-f-tt"),
    pytest.param(["-r", "-T", "-o"], id="no-f-r-T"),
]
LAYOUTS = [
    *FAST_LAYOUTS,
    pytest.param(["-f", "-ttt", "-T", "-X", "verbose", "-o"], id="f-X-verbose"),
    pytest.param(["-f", "-ttt", "-T"], id="stderr-mode"),
]


@pytest.mark.strace
@pytest.mark.parametrize("program", ["tracee", "files"])
@pytest.mark.parametrize("options", LAYOUTS)
def test_equal_to_reference_on_real_logs(run_strace, tmp_path, options, program):
    """Frame and profile equal the reference's, whole and cut into 4 KiB chunks."""
    log = _capture(run_strace, tmp_path, options, program)
    assert_same(log, workers=1)
    assert_same(log, workers=1, chunk_bytes=4096)


@pytest.mark.strace
def test_fast_layout_needs_no_reference(run_strace, tmp_path):
    """A -f -ttt -T -y log of threads, kills and signals is read without whole-log fallback."""
    log = _capture(run_strace, tmp_path, ["-f", "-ttt", "-T", "-y", "-o"], "tracee")
    frame = read_frame(log, workers=1, chunk_bytes=4096)
    profile = count_file(log, workers=1, chunk_bytes=4096)
    pd.testing.assert_frame_equal(read_trace(log, engine="reference"), frame)
    assert count_trace(log, engine="reference") == profile
    assert frame["line"].lt(frame["end_line"]).any()  # split calls were joined


@pytest.mark.strace
@pytest.mark.parametrize("options", FAST_LAYOUTS)
def test_fast_layouts_reach_the_vectorized_path(run_strace, tmp_path, options):
    """Nearly every line of a log of a fast layout is classified by the byte checks (only
    signals, exits, messages and the like go to ``parse_line``), and the fast engine reads it
    whole."""
    log = _capture(run_strace, tmp_path, options, "files")
    scan = scan_lines(log.read_bytes())
    assert scan.fast.mean() > 0.9
    frame = read_frame(log, workers=1, chunk_bytes=4096)
    pd.testing.assert_frame_equal(read_trace(log, engine="reference"), frame)


@pytest.mark.strace
def test_process_pool_gives_the_same(run_strace, tmp_path):
    """Two worker processes and many chunks give the single-process result."""
    log = _capture(run_strace, tmp_path, ["-f", "-ttt", "-T", "-y", "-o"], "files")
    assert_same(log, workers=2, chunk_bytes=8192)


# Odd lines, pid written {pid} and -ttt time {t}: shapes the fast patterns must not take for
# the common ones, states the vectorized join must reproduce, bytes the reference treats apart.
ODD_LINES = [
    '{pid}  {t} write(1, "a) = 5", 6) = 6 <0.000010>',
    "{pid}  {t} select(4, [3], NULL, NULL, {{tv_sec=0}}) = 0 (Timeout) <0.1>",
    "{pid}  {t} fcntl(3, F_GETFL) = 0x8002 (flags O_RDWR|O_LARGEFILE) <0.000002>",
    '{pid}  {t} openat(AT_FDCWD, "/x", O_RDONLY) = -1 ENOENT (No such file) <0.000003>',
    "{pid}  {t} syscall_0x3e7(0x1) = -1 (errno 527) <0.000001>",
    "{pid}  {t} read(3, 0x7f, 1) = ? ERESTARTSYS (To be restarted if SA_RESTART is set) <0.3>",
    "{pid}  {t} umask(022) = 022 <0.000001>",
    "{pid}  {t} mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, -1, 0) = 0x7f8093b5f000 <0.00001>",
    "{pid}  {t} lseek(3, 0, SEEK_END) = 0xffffffffffffffff <0.000001>",
    '{pid}  {t} openat(AT_FDCWD</d>, "a b", O_RDONLY) = 3</d/a b> <0.000005>',
    '{pid}  {t} openat(AT_FDCWD</d>, "m", O_RDONLY) = 3</memfd:m>(deleted) <0.1>',
    "{pid}  {t} exit_group(0) = ?",
    "{pid}  {t} getuid() = ? <unavailable>",
    "{pid}  {t} futex(0x55f529bafaf0, FUTEX_WAIT, 0, NULL <unfinished ...>",
    "{pid}  {t} read(3,  <unfinished ...>",
    "{pid}  {t} <... futex resumed>) = 0 <0.000027>",
    '{pid}  {t} <... read resumed>"ab", 2) = 2 <0.000027>',
    "{pid}  {t} <... read resumed> <unfinished ...>) = ?",
    "{pid}  {t} <... read resumed> , 2) = 2",
    "{pid}  {t} restart_syscall(<... resuming interrupted read ...> <detached ...>",
    "{pid}  {t} --- SIGCHLD {{si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=1}} ---",
    "{pid}  {t} --- stopped by SIGSTOP ---",
    "{pid}  {t} +++ exited with 0 +++",
    "{pid}  {t} +++ exited with 255 +++",
    "{pid}  {t} +++ exited with 1234567890 +++",
    "{pid}  {t} +++ exited with -1 +++",
    "{pid}  {t} +++ exited with 0 +++ and more",
    "{pid}  {t} --- SIGCHLD  ---",
    "{pid}  {t} --- SIGCHLD ---",
    "{pid}  {t} --- SIGRTMIN+1 {{si_signo=SIGRTMIN+1}} ---",
    "{pid}  {t} --- SIGSEGV {{si_signo=SIGSEGV, si_addr=NULL}} --- ---",
    "{pid}  {t} --- SIG_a0 (text) ---",
    "{pid}  {t} +++ killed by SIGKILL (core dumped) +++",
    "{pid}  {t} +++ superseded by execve in pid 2 +++",
    "{pid}  {t} <... +++ exited with 0 +++",
    "{pid}  {t} <... --- SIGCHLD {{si_signo=SIGCHLD}} ---",
    '{pid}  write(1, "x", 1) = 1',
    # Shapes the byte-position check of profiles must send to the reference or read right.
    '{pid}  {t} read(3, "", 1){pad}= 0 <0.000010>',
    '{pid}  {t} read(3, "= 5", 3) = 3 <0.000002>',
    "{pid}  {t} nanosleep(NULL, NULL) = 0 <123456.000010>",
    "{pid}  {t} nanosleep(NULL, NULL) = 0 <1234567.000010>",
    "{pid}  {t} nanosleep(NULL, NULL) = 0 <0.0000100>",
    '{pid}  {t} openat(AT_FDCWD, "x", O_RDONLY) = -1 EINVAL (Bad = value (x)) <0.000001>',
    '{pid}  {t} openat(AT_FDCWD, "x", O_RDONLY) = 3</a(b)> <0.000001>',
    '{pid}  {t} openat(AT_FDCWD, "x", O_RDONLY) = 3</a=b> <0.000001>',
    '{pid}  {t} openat(AT_FDCWD, "x", O_RDONLY) = 3</a b/c.txt>',
    # Results longer than the words read back from a line's end (looked up in the chunk).
    '{pid}  {t} openat(AT_FDCWD, "x", O_RDONLY) = 3</' + "long/" * 40 + "x> <0.000001>",
    '{pid}  {t} openat(AT_FDCWD, "x", O_RDONLY) = 3</' + "long/" * 40 + "(x)> <0.000001>",
    '{pid}  {t} openat(AT_FDCWD, "x", O_RDONLY) = -1 ENOENT (' + "No " * 60 + ") <0.000001>",
    '{pid}  {t} write(1, "' + "x" * 200 + '", 200)',  # long, and no ' = ' in its chunk
    "{pid}  {t} lseek(3, 0, SEEK_CUR) = 0x1F <0.000001>",
    "{pid}  {t} lseek(3, 0, SEEK_CUR) = 0x8000000000000000 <0.000001>",
    "{pid}  {t} lseek(3, 0, SEEK_CUR) = 0x10000000000000000 <0.000001>",
    "{pid}  {t} lseek(3, 0, SEEK_CUR) = 0x0000000000000000001 <0.000001>",
    "{pid}  {t} getpriority(PRIO_PROCESS, 0) = -5 <0.000001>",
    "{pid}  {t} getpid() = 5< <0.000001>",
    "{pid}  {t} getpid() =  5 <0.000001>",
    "{pid}  {t} getpid()= 5 <0.000001>",
    "{pid}  {t} a_name_of_more_than_32_characters_x() = 0 <0.000001>",
    "{pid}  {t} <... nanosleep resumed>NULL) = ? ERESTART_RESTARTBLOCK (Interrupted) <0.5>",
    "{pid}  {t} <... nanosleep resumed>NULL) = ? ERESTARTNOHAND (To be restarted) <0.000007>",
    "{pid}  {t} nanosleep(NULL,  <unfinished ...>",
    '{pid}  {t} write(1, "h\\303\\251", 3) = 3 <0.000004>',
    '{pid}  {t} write(1, "héllo", 6) = 6 <0.000004>',
    '{pid}  {t} \x1b[1mwrite\x1b[0m(1, "x", 1) = 1 <0.000004>',
    '{pid}  {t} write(1, "x", 1) = 1 <0.000004>\r',
    '{pid}  {t} write(2, "\\n", 1',
    ")                       = 1",
    "strace: Process {pid} attached",
    "[ Process PID={pid} runs in 32 bit mode. ]",
    " > /usr/lib/libc.so.6(__write+0x10) [0xf8350]",
    "% time     seconds  usecs/call     calls    errors syscall",
    "some program output",
    "",
]


# The prefix of the odd lines' log ('{pid}  {t} ' in ODD_LINES): strace's layouts with and
# without -f, with each kind of stamp, and near misses of them.
PREFIXES = [
    "{pid}  {t} ",
    "{pid:<5} 1795869296.749069 ",
    "{pid:<5} 12:34:56.749069 ",
    "{pid:<5}      0.000131 ",
    "{pid:<5} 123456.000131 ",
    "{pid:<5} ",
    "1795869296.749069 ",
    "9795869296.749069 ",
    "0795869296.749069 ",
    "23:59:59.999999 ",
    "123456.000131 ",
    "  1234.000131 ",
    " 1234.000131 ",
    "12:34:56 ",
    "",
]


@given(
    lines=st.lists(
        st.tuples(st.sampled_from(ODD_LINES), st.sampled_from([101, 102, 1234567])),
        max_size=30,
    ),
    prefix=st.sampled_from(PREFIXES),
    chunk_bytes=st.sampled_from([64, 300, 1 << 20]),
    newline_at_end=st.booleans(),
)
def test_odd_lines_in_any_order(tmp_path_factory, lines, prefix, chunk_bytes, newline_at_end):
    """Any interleaving of odd lines, in any prefix layout, gives the reference's frame and
    profile."""
    path = tmp_path_factory.mktemp("odd") / "trace.log"
    text = "\n".join(
        line.replace("{pid}  {t} ", prefix).format(pid=pid, t="1795869296.749069", pad=" " * 45)
        for line, pid in lines
    )
    if lines and newline_at_end:
        text += "\n"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    assert_same(path, workers=1, chunk_bytes=chunk_bytes)


# Split calls of two threads: a call left unfinished before a pair (yielded at the pair's
# first line), pairs interleaved, an exit, a call still pending at the end.
SPLIT_CALLS = """\
7  1795869296.000001 read(3,  <unfinished ...>
8  1795869296.000002 getpid() = 8 <0.000001>
7  1795869296.000003 futex(0x1, FUTEX_WAIT, 0, NULL <unfinished ...>
8  1795869296.000004 futex(0x1, FUTEX_WAKE, 1 <unfinished ...>
7  1795869296.000005 <... futex resumed>) = 0 <0.000027>
8  1795869296.000006 <... futex resumed>) = 1 <0.000010>
8  1795869296.000007 nanosleep(NULL,  <unfinished ...>
8  1795869296.000008 +++ exited with 0 +++
7  1795869296.000009 write(1, "x", 1 <unfinished ...>
"""


@pytest.mark.parametrize("workers", [1, 2], ids=["one-process", "pool"])
@pytest.mark.parametrize(
    "chunk_bytes",
    [
        pytest.param(64, id="every-pair-across-borders"),
        pytest.param(200, id="some-pairs-across"),
        pytest.param(1 << 20, id="all-in-one-chunk"),
    ],
)
def test_split_calls_joined_in_and_across_chunks(tmp_path, chunk_bytes, workers):
    """Pairs joined inside a worker's chunk or across chunk borders give the reference's rows."""
    path = tmp_path / "trace.log"
    path.write_text(SPLIT_CALLS)
    frame = read_frame(path, workers=workers, chunk_bytes=chunk_bytes)
    pd.testing.assert_frame_equal(read_trace(path, engine="reference"), frame)
    spans = frame.loc[frame["line"].lt(frame["end_line"]), ["line", "end_line", "args"]]
    assert [(3, 5, "0x1, FUTEX_WAIT, 0, NULL"), (4, 6, "0x1, FUTEX_WAKE, 1")] == list(
        spans.itertuples(index=False, name=None)
    )
    assert [2, 1, 3, 4, 7, 8, 9] == frame["line"].tolist()  # read yielded before line 3
    assert_same(path, workers=workers, chunk_bytes=chunk_bytes)


# Rows of every kind, with errno, signal and status values.
EVERY_KIND = """\
9  1795869296.000010 openat(AT_FDCWD, "/x", O_RDONLY) = -1 ENOENT (No such file) <0.000003>
9  1795869296.000011 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=1} ---
strace: Process 9 attached
9  1795869296.000012 +++ killed by SIGKILL (core dumped) +++
"""


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_frames_and_parquet_follow_the_one_schema(tmp_path, engine):
    """Each engine's frame has exactly the schema's dtypes, and its Parquet file exactly the
    schema's Arrow types."""
    path = tmp_path / "trace.log"
    path.write_text(SPLIT_CALLS + EVERY_KIND)
    frame = read_trace(path, engine=engine)
    assert DTYPES == {name: str(dtype) for name, dtype in frame.dtypes.items()}
    assert {"syscall", "signal", "exit", "message"} == set(frame["kind"])
    parquet = tmp_path / "events.parquet"
    write_parquet(frame, parquet)
    assert arrow_schema() == pq.read_schema(parquet)


def test_profile_imports_neither_arrow_nor_pandas(tmp_path):
    """A profile needs numpy only (Arrow's compute library alone takes about 50 MB)."""
    path = tmp_path / "trace.log"
    path.write_text("7  1795869296.749069 getpid() = 7 <0.000001>\n")
    code = (
        "import sys\n"
        "from syscall_parse.counts import count_trace\n"
        f"assert count_trace({str(path)!r}, engine='fast').syscalls\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'pyarrow', 'pandas'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=120
    )
    assert "[]" == result.stdout.strip()


@pytest.mark.parametrize("workers", [1, 2], ids=["one-process", "pool"])
def test_parse_to_parquet_does_not_import_pandas(tmp_path, workers):
    """Parquet from the fast engine never loads pandas (0.2 s of a command's start-up):
    split calls joined in and across chunks, every kind of event and the reference's rows
    included, in one process or on a pool."""
    path = tmp_path / "trace.log"
    path.write_text(SPLIT_CALLS + EVERY_KIND)
    out = tmp_path / "events.parquet"
    code = (
        "import sys\n"
        "from syscall_parse._fast import iter_batches\n"
        "from syscall_parse.writers import write_parquet_batches\n"
        f"batches = iter_batches({str(path)!r}, workers={workers}, chunk_bytes=64)\n"
        f"assert write_parquet_batches((b for b, _ in batches), {str(out)!r})\n"
        "print('pandas' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=120
    )
    assert "False" == result.stdout.strip()
    pd.testing.assert_frame_equal(read_trace(path, engine="reference"), read_parquet(out))


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        pytest.param('1  write(2, "\\n", 1\n)   = 1\n', "a call line cut", id="open-call"),
        pytest.param("7  +++ superseded by execve in pid 8 +++\n", "thread execve", id="execve"),
        pytest.param(
            "7  read(3,  <unfinished ...>\n7  <... futex resumed>) = 0\n",
            "another name",
            id="other-name",
        ),
    ],
)
def test_states_not_vectorized_fall_back(tmp_path, line, reason):
    """Logs the vectorized join does not reproduce raise with ``engine="fast"``; with
    ``"auto"`` they are read by the reference."""
    path = tmp_path / "trace.log"
    path.write_text(line)
    with pytest.raises(FastPathUnsupported, match=reason):
        count_trace(path, engine="fast")
    with pytest.raises(FastPathUnsupported, match=reason):
        read_trace(path, engine="fast")
    assert_same(path)


# A stderr trace: the initial process's lines have no pid while it runs alone; the reference
# gives them the pid of the only live process of the lines with one, once there is one.
PID_AND_NONE = """\
getpid() = 7
7     getppid() = 1
write(1, "x", 1) = 1
"""


@pytest.mark.parametrize("chunk_bytes", [16, 1 << 20])
def test_events_with_and_without_pid_fall_back(tmp_path, chunk_bytes):
    """A frame of events with and without a pid is left to the reference (counts need no pid)."""
    path = tmp_path / "trace.log"
    path.write_text(PID_AND_NONE)
    with pytest.raises(FastPathUnsupported, match="with and without a pid"):
        read_frame(path, workers=1, chunk_bytes=chunk_bytes)
    pids = read_trace(path)["pid"]
    assert [None, 7, 7] == [None if pd.isna(pid) else pid for pid in pids]
    assert_same(path, workers=1, chunk_bytes=chunk_bytes)


def test_empty_and_missing_logs(tmp_path):
    """An empty log gives an empty frame and profile; a missing one raises InputError."""
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    assert_same(empty)
    assert 0 == len(read_trace(empty, engine="fast"))  # read, not declined
    assert Profile((), 0, 0) == count_trace(empty, engine="fast")
    with pytest.raises(InputError, match="no such file"):
        count_trace(tmp_path / "missing.log")
    with pytest.raises(InputError, match="no such file"):
        read_trace(tmp_path / "missing.log")


@pytest.mark.strace
def test_ff_prefix_reads_as_the_reference_reads_it(run_strace, tmp_path):
    """A -ff prefix (no file of that name) gives the reference's frame and profile of the file
    set (the fast engine merges it: test_ff_fast.py)."""
    prefix = tmp_path / "ff"
    run_strace(["-ff", "-ttt", "-T", "-o", str(prefix)], [sys.executable, str(TRACEE)])
    assert_same(prefix)

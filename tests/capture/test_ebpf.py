"""Capture under the real eBPF observer (bpftrace): strace's counts, whole logs, nothing left.

Tests marked ``ebpf`` take the ``ebpf`` fixture, which loads a test program once per session
and skips them, saying why, where eBPF tracing is unavailable (not root, no bpftrace, no BTF,
no tracefs, a container). The counts are held against strace's on the same commands.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from syscall_lab.analyse.ebpf_phase import phase_profile
from syscall_lab.analyse.phase import PhaseError, cut_to_phase
from syscall_lab.capture.ebpf import (
    DEFAULT_SIZE_CAP,
    EbpfObserver,
    bpftrace_failure,
    ebpf_unavailable,
    require_ebpf,
)
from syscall_lab.capture.ebpf_program import bpftrace_program
from syscall_lab.capture.metadata import read_metadata
from syscall_lab.capture.run import CaptureResult, capture_command, workload_command
from syscall_lab.cli import main
from syscall_lab.errors import CaptureError
from syscall_parse import count_events, count_trace, events_to_frame, read_trace
from syscall_parse.batches import read_batches
from syscall_parse.counts import Profile
from syscall_parse.ebpf_log import read_ebpf_counts, read_ebpf_log
from syscall_parse.errors import InputError
from syscall_parse.table import read_parquet

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def ebpf() -> None:
    """Skip, saying why, unless a bpftrace program can be loaded here."""
    reason = ebpf_unavailable(probe=True)
    if reason is not None:
        pytest.skip(f"eBPF tracing is unavailable: {reason}")


def capture_ebpf(
    command: list[str], *, mode: str = "events", size_cap: int = DEFAULT_SIZE_CAP, **options
) -> CaptureResult:
    """``command`` under the eBPF observer in ``mode``, with ``capture_command``'s options."""
    return capture_command(command, observer=EbpfObserver(mode, size_cap), **options)  # type: ignore[arg-type]


def observe(command: list[str], tmp_path: Path, mode: str = "events", **options) -> CaptureResult:
    """``command`` under the eBPF observer; the run must be complete."""
    result = capture_ebpf(
        command, label="t", out_dir=tmp_path, mode=mode, measure_untraced=False, **options
    )
    assert ("complete", None) == (result.metadata.status, result.metadata.error)
    return result


def strace_profile(command: list[str], tmp_path: Path) -> Profile:
    """``command`` under strace, counted like ``strace -c``."""
    result = capture_command(command, label="s", out_dir=tmp_path, measure_untraced=False)
    assert "complete" == result.metadata.status
    return count_trace(list(result.logs))


def without_seconds(profile: Profile) -> tuple[dict[str, tuple[int, int]], dict[str, int]]:
    """Calls and errors per syscall, and unreturned calls: what both observers must agree on."""
    return profile.counts(), dict(profile.unreturned)


@pytest.mark.ebpf
@pytest.mark.strace
def test_a_command_is_recorded_whole_like_strace(ebpf, strace, tmp_path) -> None:
    """``true`` under each observer: the same calls, errors and unreturned calls; the eBPF log
    starts with the command's execve, ends with its exit_group, and is whole."""
    command = ["/bin/true"]
    events = observe(command, tmp_path / "events")
    counts = observe(command, tmp_path / "counts", mode="counts")
    log = read_ebpf_log(events.logs[0])
    expected = without_seconds(strace_profile(command, tmp_path / "strace"))

    assert expected == without_seconds(count_events(log.events))
    assert expected == without_seconds(read_ebpf_counts(counts.logs[0]).profile())
    assert (True, "execve", "exit_group") == (log.complete, log.events[0].name, log.events[-1].name)
    assert read_ebpf_counts(counts.logs[0]).complete


@pytest.mark.ebpf
def test_run_folder_and_metadata(ebpf, tmp_path) -> None:
    """A run folder holds the log, the program, the command's output, bpftrace's stderr and the
    metadata; the temporary folder is gone; the untraced time is measured first."""
    result = capture_ebpf(
        [sys.executable, "-c", "print('hello')"], label="hi", out_dir=tmp_path, repeat=3
    )
    meta = result.metadata
    observer = meta.observer

    assert meta == read_metadata(result.run_dir)
    assert ("complete", 0, 3, ("ebpf-events.log",)) == (
        meta.status, meta.exit_status, meta.repeat, meta.logs
    )  # fmt: skip
    assert meta.traced_seconds > 0
    assert meta.untraced_seconds > 0
    assert ("-q", "--no-warnings", str(result.run_dir / "ebpf.bt")) == meta.observer_argv[1:4]
    assert meta.observer_argv[4].isdigit()  # the gate's pid
    assert "hello\n" == (result.run_dir / "stdout.txt").read_text()
    assert [
        "bpftrace-stderr.txt", "ebpf-events.log", "ebpf.bt", "metadata.json", "stderr.txt",
        "stdout.txt",
    ] == sorted(path.name for path in result.run_dir.iterdir())  # fmt: skip
    assert ("ebpf", "events", False, DEFAULT_SIZE_CAP) == (
        observer.name, observer.mode, observer.truncated, observer.size_cap
    )  # fmt: skip
    assert observer.version.startswith("v")
    assert observer.startup_seconds > 0
    assert read_ebpf_log(result.logs[0]).complete


@pytest.mark.ebpf
def test_nonzero_exit_is_a_complete_run(ebpf, tmp_path) -> None:
    """A command that fails is data: complete, with its exit status."""
    result = observe(["/bin/sh", "-c", "exit 3"], tmp_path)

    assert 3 == result.metadata.exit_status


# A main thread, a thread and a child process, each with calls of its own: the thread umask x5,
# the child sched_yield x7; then three threads blocked in read (the kernel says so) when the
# process exits.
FAMILY = """\
import os, threading
thread = threading.Thread(target=lambda: [os.umask(0o22) for _ in range(5)])
thread.start()
thread.join()
pid = os.fork()
if pid == 0:
    for _ in range(7):
        os.sched_yield()
    os._exit(0)
os.waitpid(pid, 0)
r, w = os.pipe()
blocked = [threading.Thread(target=os.read, args=(r, 1), daemon=True) for _ in range(3)]
for each in blocked:
    each.start()
def reading(task):  # /proc/.../syscall: "0 0x3 ..." while blocked in read (and for
    with open(f"/proc/self/task/{task}/syscall") as stream:  # this thread reading it)
        return stream.read().startswith("0 ")
while sum(reading(t) for t in os.listdir("/proc/self/task") if t != str(os.getpid())) < 3:
    pass
os._exit(0)
"""


@pytest.fixture(scope="module")
def family(ebpf, strace, tmp_path_factory) -> dict[str, object]:
    """FAMILY under strace, and under the eBPF observer in both modes (run once)."""
    base = tmp_path_factory.mktemp("family")
    command = [sys.executable, "-c", FAMILY]
    return {
        "strace": strace_profile(command, base / "strace"),
        "events": read_ebpf_log(observe(command, base / "events").logs[0]),
        "counts": read_ebpf_counts(observe(command, base / "counts", mode="counts").logs[0]),
    }


@pytest.mark.ebpf
@pytest.mark.strace
def test_threads_and_children_are_followed(ebpf, strace, family) -> None:
    """Calls of a thread and of a forked child are recorded, each under its own tid."""
    log = family["events"]
    tids = {name: Counter(c.pid for c in log.events if c.name == name)
            for name in ("umask", "sched_yield")}  # fmt: skip
    root = log.events[0].pid

    assert ([5], [7]) == (list(tids["umask"].values()), list(tids["sched_yield"].values()))
    assert len({root, *tids["umask"], *tids["sched_yield"]}) == 3
    assert log.complete


@pytest.mark.ebpf
@pytest.mark.strace
def test_calls_cut_by_exit_group_never_return_like_strace(ebpf, strace, family) -> None:
    """Threads blocked in read when the process exits: strace never sees those reads return,
    nor the exit_group; the eBPF observer counts them unreturned too."""
    expected = dict(family["strace"].unreturned)

    assert expected["read"] == 3
    assert expected == dict(count_events(family["events"].events).unreturned)
    assert expected == dict(family["counts"].profile().unreturned)


def frame_counts(frame) -> tuple[dict[str, tuple[int, int]], dict[str, int]]:
    """``without_seconds`` of an event table's calls."""
    calls = frame[frame["kind"] == "syscall"]
    returned = calls["returned"].astype(bool)
    names = calls["syscall"].astype(object)
    counted = Counter(names[returned])
    failed = Counter(names[returned & calls["errno"].notna()])
    return {name: (n, failed[name]) for name, n in counted.items()}, dict(Counter(names[~returned]))


@pytest.mark.ebpf
@pytest.mark.strace
@pytest.mark.slow
@pytest.mark.parametrize("condition", ["normal", "cpu", "memory", "io"])
def test_phase_counts_equal_straces(ebpf, strace, tmp_path, condition) -> None:
    """Each workload's phase makes the same calls, errors and unreturned calls under strace,
    under the eBPF observer's events (cut like an strace log) and in its kernel counts."""
    command = list(workload_command(condition, scale=0.25))
    traced = capture_command(command, label="s", out_dir=tmp_path, measure_untraced=False)
    expected = frame_counts(cut_to_phase(read_trace(list(traced.logs))))
    events = read_ebpf_log(observe(command, tmp_path / "events").logs[0])
    counts = read_ebpf_counts(observe(command, tmp_path / "counts", mode="counts").logs[0])

    assert expected == frame_counts(cut_to_phase(events_to_frame(events.events)))
    assert expected == without_seconds(phase_profile(counts))
    assert (True, True) == (events.complete, counts.complete)


@pytest.mark.ebpf
def test_marker_is_known_by_its_whole_path(ebpf, tmp_path) -> None:
    """Only a stat of exactly a marker path is a marker: a longer or shorter path is not."""
    near = ["/syscall-lab-phase/startX", "/syscall-lab-phase/star", "/syscall-lab-phase/end"]
    program = f"import os\nfor p in {near!r}:\n    try: os.stat(p)\n    except OSError: pass\n"
    log = read_ebpf_log(observe([sys.executable, "-c", program], tmp_path).logs[0])

    assert ['"/syscall-lab-phase/end"'] == [c.args for c in log.events if c.args is not None]


@pytest.mark.ebpf
def test_counts_without_markers_have_no_phase(ebpf, tmp_path) -> None:
    """A command that is not a workload: its counts are all before any marker, and asking for
    the phase is a PhaseError naming the log."""
    counts = read_ebpf_counts(observe(["/bin/true"], tmp_path, mode="counts").logs[0])

    assert counts.profile() == counts.profile([0])
    with pytest.raises(PhaseError, match="run-1: expected one start and one end"):
        phase_profile(counts, where="run-1")


@pytest.mark.ebpf
def test_timeout_kills_the_group_and_the_observer(processes_with, ebpf, tmp_path) -> None:
    """A run past its timeout: the command, its children and bpftrace are gone, the run says
    timeout, the temporary folder is removed."""
    token = f".{os.getpid()}{time.monotonic_ns() % 10**6}"  # in the cmdline of sh and sleeps
    command = ["/bin/sh", "-c", f"sleep 3000{token} & sleep 3001{token}"]
    result = capture_ebpf(command, label="t", out_dir=tmp_path, timeout=1, measure_untraced=False)

    assert ("timeout", None) == (result.metadata.status, result.metadata.exit_status)
    assert [] == processes_with(token)
    assert [] == processes_with(str(result.run_dir))
    assert not (result.run_dir / "tmp").exists()
    assert result.metadata == read_metadata(result.run_dir)


@pytest.mark.ebpf
def test_children_left_in_the_group_are_waited_for(ebpf, tmp_path) -> None:
    """As strace waits for every tracee, the run waits for a child the command left running,
    and records its calls."""
    command = ["/bin/sh", "-c", "(sleep 0.5; /bin/true) &"]
    log = read_ebpf_log(observe(command, tmp_path).logs[0])

    assert 3 == sum(1 for c in log.events if c.name == "execve")


@pytest.mark.ebpf
def test_size_cap_stops_the_run(processes_with, ebpf, tmp_path) -> None:
    """A log that reaches its cap stops the observer and the command: the run says killed and
    truncated, the log is no larger than the cap."""
    token = f"cap-{os.getpid()}-{time.monotonic_ns()}"
    program = f"import os\nwhile True:\n    os.getppid()  # {token}\n"
    result = capture_ebpf(
        [sys.executable, "-c", program], label="cap", out_dir=tmp_path, size_cap=65536,
        measure_untraced=False,
    )  # fmt: skip

    assert ("killed", True) == (result.metadata.status, result.metadata.observer.truncated)
    assert "size cap of 65536 bytes" in result.metadata.error
    assert result.logs[0].stat().st_size <= 65536
    assert [] == processes_with(token)


@pytest.mark.ebpf
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_kills_the_group_and_marks_the_run_killed(
    processes_with, ebpf, tmp_path, sig
) -> None:
    """Ctrl-C or SIGTERM during a capture: KeyboardInterrupt goes on, no child survives
    (bpftrace included), the run says killed, its temporary folder is gone."""
    token = f"{os.getpid()}{time.monotonic_ns()}"
    command = [*workload_command("cpu", seed=int(token)), "--loop"]
    runner = (
        "from syscall_lab.capture.ebpf import EbpfObserver\n"
        "from syscall_lab.capture.run import capture_command\n"
        f"capture_command({command!r}, label='ctrl-c', out_dir={str(tmp_path)!r}, "
        "measure_untraced=False, observer=EbpfObserver())\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", runner], env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not any(tmp_path.glob("*/tmp/syscall-lab-workload-*")) and time.monotonic() < deadline:
        time.sleep(0.02)
    child.send_signal(sig)
    _, stderr = child.communicate(timeout=60)
    (run_dir,) = tmp_path.iterdir()

    assert "KeyboardInterrupt" in stderr
    assert [] == processes_with(token)
    assert [] == processes_with(str(run_dir))
    assert "killed" == read_metadata(run_dir).status
    assert not (run_dir / "tmp").exists()


@pytest.mark.ebpf
def test_missing_command_is_one_line(ebpf, tmp_path) -> None:
    """A command that does not exist is refused before anything runs."""
    with pytest.raises(CaptureError, match=r"^no-such-command-e7: command not found$"):
        capture_ebpf(["no-such-command-e7"], label="x", out_dir=tmp_path)


def test_missing_bpftrace_is_the_reason(monkeypatch) -> None:
    """Without bpftrace on PATH, the reason says so and how to install it."""
    if platform.machine() != "x86_64":
        pytest.skip("not an x86-64 machine: that is the reason there")
    monkeypatch.setenv("PATH", "/nonexistent")
    expected = "bpftrace: command not found (install it: apt-get install bpftrace)"

    assert expected == ebpf_unavailable()
    with pytest.raises(CaptureError, match=r"^bpftrace: command not found \(install it"):
        require_ebpf()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop its privileges for a moment")
def test_not_root_is_the_reason() -> None:
    """A user without root is told that eBPF tracing needs it."""
    if ebpf_unavailable() is not None:
        pytest.skip(f"eBPF tracing is unavailable here anyway: {ebpf_unavailable()}")
    os.seteuid(65534)
    try:
        reason = ebpf_unavailable()
    finally:
        os.seteuid(0)

    assert "eBPF tracing needs root: bpftrace runs as root only" == reason


@pytest.mark.parametrize(
    ("stderr", "expected"),
    [
        ("ERROR: Unknown error -1: couldn't set RLIMIT_MEMLOCK for bpftrace. If your ...\n"
         "/run/ebpf.bt:21:1-34: ERROR: tracepoint not found: raw_syscalls:sys_enter\n",
         "bpftrace: tracepoint not found: raw_syscalls:sys_enter (is tracefs mounted at "
         "/sys/kernel/tracing?)"),
        ("ERROR: bpftrace currently only supports running as the root user.\n",
         "bpftrace: bpftrace currently only supports running as the root user."),
        ("Segmentation fault\n", "bpftrace: Segmentation fault"),
        ("", "bpftrace exited with -9"),
    ],
    ids=["tracefs", "root", "crash", "silent"],
)  # fmt: skip
def test_bpftrace_failure_is_one_line(stderr: str, expected: str) -> None:
    """bpftrace's first real error, without its harmless RLIMIT_MEMLOCK complaint, with a hint
    where one helps; its last line when no ERROR; its status when silent."""
    assert expected == bpftrace_failure(stderr, -9)


@pytest.mark.parametrize(
    ("mode", "markers", "message"),
    [
        ("lines", ("/a", "/b"), "mode must be one of events, counts"),
        ("events", ("/a",), "expected a start and an end marker"),
        ("counts", ("/a b", "/c"), "cannot be written into the program"),
        ("counts", ('/a"', "/c"), "cannot be written into the program"),
    ],
    ids=["mode", "one-marker", "space", "quote"],
)
def test_program_refuses_what_it_cannot_write(mode: str, markers, message: str) -> None:
    """A mode or marker the program cannot hold is a ValueError, before bpftrace runs."""
    with pytest.raises(ValueError, match=message):
        bpftrace_program(mode, markers)  # type: ignore[arg-type]


def test_capture_refuses_bad_options(tmp_path) -> None:
    """A bad mode or a size cap too small for a header is refused up front."""
    with pytest.raises(ValueError, match="mode must be one of events, counts"):
        capture_ebpf(["true"], label="x", out_dir=tmp_path, mode="all")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="size cap must be at least 4096 bytes"):
        capture_ebpf(["true"], label="x", out_dir=tmp_path, size_cap=100)


@pytest.fixture(scope="module")
def ebpf_logs(tmp_path_factory) -> tuple[Path, Path]:
    """An events log and a counts log of the ``io`` workload (scale 0.25), captured here."""
    reason = ebpf_unavailable(probe=True)
    if reason is not None:
        pytest.skip(f"eBPF tracing is unavailable: {reason}")
    folder = tmp_path_factory.mktemp("ebpf-logs")
    command = list(workload_command("io", scale=0.25))
    events = observe(command, folder / "events")
    counts = observe(command, folder / "counts", mode="counts")
    return events.logs[0], counts.logs[0]


@pytest.mark.ebpf
def test_the_parser_reads_an_events_log_by_its_header(ebpf_logs) -> None:
    """``read_trace`` and ``read_batches`` give an events log's calls in the event schema
    (arguments null but the markers' paths, no ``-y`` paths), the phase cut finds its markers,
    and ``count_trace`` counts them, whatever the engine."""
    events_log, _ = ebpf_logs
    log = read_ebpf_log(events_log)
    expected = events_to_frame(log.events)
    frame = read_trace(events_log)
    args = frame["args"].dropna().unique().tolist()

    pd.testing.assert_frame_equal(expected, frame)
    assert sorted(args) == ['"/syscall-lab-phase/end"', '"/syscall-lab-phase/start"']
    assert frame["kind"].eq("syscall").all()
    assert len(frame) == sum(batch.num_rows for batch in read_batches(events_log))
    assert len(cut_to_phase(frame)) > 0
    for engine in ("auto", "reference", "fast"):
        assert count_events(log.events) == count_trace(events_log, engine=engine)


@pytest.mark.ebpf
def test_the_parser_counts_a_counts_log_and_refuses_its_events(ebpf_logs) -> None:
    """``count_trace`` gives a counts log's kernel counts; ``read_trace`` and ``read_batches``
    refuse it in one line: it has no events."""
    events_log, counts_log = ebpf_logs
    message = r"a counts-only eBPF log has no events; count it"

    assert read_ebpf_counts(counts_log).profile() == count_trace(counts_log)
    assert without_seconds(count_trace(events_log)) == without_seconds(count_trace(counts_log))
    with pytest.raises(InputError, match=message):
        read_trace(counts_log)
    with pytest.raises(InputError, match=message):
        list(read_batches([counts_log]))


@pytest.mark.ebpf
def test_parse_profile_and_classify_take_ebpf_logs(ebpf_logs, tmp_path, capsys) -> None:
    """The commands read eBPF logs like strace's: ``parse`` writes the events log's table,
    ``profile`` counts both logs the same, ``classify`` scores the events log (the model
    learnt from strace's traces: which label it gives is not held here); ``parse`` of a counts
    log is one line and exit status 2."""
    events_log, counts_log = ebpf_logs
    out = tmp_path / "events.parquet"

    assert 0 == main(["parse", str(events_log), "-o", str(out)])
    pd.testing.assert_frame_equal(read_trace(events_log), read_parquet(out))
    capsys.readouterr()
    profiles = []
    for log in (events_log, counts_log):
        assert 0 == main(["profile", "--json", str(log)])
        profiles.append(json.loads(capsys.readouterr().out))
    assert [{k: v["calls"] for k, v in p["syscalls"].items()} for p in profiles[:1]] == [
        {k: v["calls"] for k, v in p["syscalls"].items()} for p in profiles[1:]
    ]
    assert 2 == main(["parse", str(counts_log), "-o", str(tmp_path / "c.csv")])
    assert "a counts-only eBPF log has no events" in capsys.readouterr().err
    assert 0 == main(["classify", "--json", str(events_log)])
    classified = json.loads(capsys.readouterr().out)
    assert classified["label"] == max(classified["scores"], key=classified["scores"].get)
    assert 1.0 == pytest.approx(sum(classified["scores"].values()))


@pytest.mark.ebpf
def test_capture_command_line_takes_the_observer(ebpf, tmp_path, capsys) -> None:
    """``capture --observer ebpf --ebpf-mode counts --json`` makes a complete run with its counts
    log; strace's own options are refused with it in one line."""
    argv = ["capture", "--observer", "ebpf", "--ebpf-mode", "counts", "--json", "--no-untraced",
            "--out", str(tmp_path), "--label", "t", "--", "/bin/true"]  # fmt: skip

    assert 0 == main(argv)
    (run,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert ("complete", 0) == (run["status"], run["exit_status"])
    assert [str(Path(run["run_dir"]) / "ebpf-counts.log")] == run["logs"]
    assert ("ebpf", "counts") == (
        read_metadata(Path(run["run_dir"])).observer.name,
        read_metadata(Path(run["run_dir"])).observer.mode,
    )
    assert 2 == main([*argv[:5], "--ff", *argv[5:]])
    assert "--ff: strace options, not for --observer ebpf" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["capture", "run"])
def test_commands_without_ebpf_give_the_reason(command, tmp_path, monkeypatch, capsys) -> None:
    """Where bpftrace is missing, ``capture --observer ebpf`` and ``run --observer both`` say
    why in one line, exit with status 2 and leave no folder."""
    if platform.machine() != "x86_64":
        pytest.skip("not an x86-64 machine: that is the reason there")
    tools = tmp_path / "bin"
    tools.mkdir()
    for program in ("strace", "true"):
        found = shutil.which(program)
        if found is not None:
            (tools / program).symlink_to(found)
    monkeypatch.setenv("PATH", str(tools))
    out = tmp_path / "out"
    argv = {
        "capture": ["capture", "--observer", "ebpf", "--out", str(out), "--label", "t", "--",
                    "true"],
        "run": ["run", "--observer", "both", "--out", str(out), "--report",
                str(tmp_path / "R.md")],
    }[command]  # fmt: skip

    assert 2 == main(argv)
    err = capsys.readouterr().err
    assert "bpftrace: command not found (install it: apt-get install bpftrace)" in err
    assert 1 == len(err.strip().splitlines())
    assert not out.exists()

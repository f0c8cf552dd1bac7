"""``syscall-lab watch`` on real programs under real strace: exit statuses, forks and execs,
attach and detach, Ctrl-C and SIGTERM, the JSON lines, alerts on a burst and none on normal
work, bad usage. Every child is stopped by the end of its test; timeouts are hang guards."""

from __future__ import annotations

import itertools
import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from syscall_lab.capture.ebpf import ebpf_unavailable
from syscall_lab.cli import main
from syscall_lab.watch.monitor import Monitor
from syscall_lab.watch.session import watch_trace
from syscall_lab.watch.source import LiveTrace
from syscall_parse.events import Exit, Syscall
from syscall_parse.stream import iter_events
from workloads.markers import PHASE_SWITCH

pytestmark = pytest.mark.strace

CLI = [sys.executable, "-m", "syscall_lab", "watch"]
GUARD = 120  # seconds: a hang guard, 100x what any of these takes
FIELDS = {
    "window": {"event", "time", "calls", "score", "threshold", "top"},
    "alert": {"event", "time", "pid", "score", "threshold", "top", "new_syscalls"},
    "summary": {"event", "alerts", "calls", "seconds", "exit_status"},
}


def watch_json(model_file: Path, *target: str) -> tuple[int, list[dict]]:
    """Run ``watch --model M --json TARGET``; its exit status and JSON lines."""
    done = subprocess.run(
        [*CLI, "--model", str(model_file), "--json", *target],
        capture_output=True, text=True, timeout=GUARD, check=False,
    )  # fmt: skip
    assert "" == done.stderr
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines()]


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[str]]]:
    """Processes a test starts; killed (group and all) and reaped at its end."""
    processes: list[subprocess.Popen[str]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(GUARD)


def first_line(process: subprocess.Popen[str]) -> str:
    """The first line the process writes on stdout (hang guard: GUARD seconds)."""
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], GUARD)
    assert ready, "no output"
    return process.stdout.readline()


def tracer_pid(pid: int, tid: int | None = None) -> int:
    """The TracerPid of a process (or of one of its threads): 0 when nothing traces it."""
    where = f"/proc/{pid}/task/{tid}/status" if tid is not None else f"/proc/{pid}/status"
    status = Path(where).read_text()
    return int(next(line for line in status.splitlines() if line.startswith("TracerPid:"))[10:])


@pytest.mark.parametrize("status", [0, 3])
def test_command_exit_status_is_kept(model_file: Path, status: int) -> None:
    """watch exits with the command's status, and the summary reports it."""
    returncode, records = watch_json(
        model_file, "--", "sh", "-c", f"ls / >/dev/null; exit {status}"
    )
    assert status == returncode
    assert {"event": "summary", "exit_status": status} == {
        key: records[-1][key] for key in ("event", "exit_status")
    }


def test_a_command_that_forks_and_execs_is_followed() -> None:
    """A shell that forks a child which execs: both processes' calls come through the pipe,
    and each one's exit."""
    with LiveTrace(["sh", "-c", "/bin/true; ls / >/dev/null"]) as trace:
        events = list(iter_events(trace.lines()))
        assert 0 == trace.exit_status()
    execs = {e.pid for e in events if isinstance(e, Syscall) and e.name == "execve"}
    exits = {e.pid for e in events if isinstance(e, Exit)}
    assert 2 <= len(execs)
    assert execs <= exits


@pytest.mark.parametrize("observer", ["strace", pytest.param("ebpf", marks=pytest.mark.ebpf)])
def test_attach_and_detach_leaves_the_process_running(
    model_file: Path, started: list[subprocess.Popen[str]], processes_with, observer: str
) -> None:
    """-p attaches to a running process and its threads; SIGINT detaches (exit 130, a
    summary) and the process keeps running, none of its threads traced any more, no tracer
    left (strace, or bpftrace under the eBPF observer)."""
    if observer == "ebpf" and (reason := ebpf_unavailable(probe=True)) is not None:
        pytest.skip(f"eBPF tracing is unavailable: {reason}")
    loop = (
        "import os, threading, time\n"
        "def work():\n"
        "    while True:\n"
        "        os.stat('/')\n"
        "        time.sleep(0.002)\n"
        "threading.Thread(target=work, daemon=True).start()\n"
        "work()"
    )
    target = subprocess.Popen([sys.executable, "-c", loop], start_new_session=True, text=True)
    started.append(target)
    watch = subprocess.Popen(
        [*CLI, "--model", str(model_file), "--json", "--observer", observer,
         "-p", str(target.pid)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    started.append(watch)
    assert "window" == json.loads(first_line(watch))["event"]
    watch.send_signal(signal.SIGINT)
    out, err = watch.communicate(timeout=GUARD)
    summary = json.loads(out.splitlines()[-1])
    # Under eBPF, calls bpftrace read out of order (a thread's batches from two CPUs' buffers)
    # are passed on and counted on stderr, never lost: that line may come, and says 0 lost.
    late = r"(eBPF observer: 0 calls lost by bpftrace, \d+ passed on out of entry-time order\n)?"
    assert 130 == watch.returncode
    assert re.fullmatch(late if observer == "ebpf" else "", err), err
    assert ("summary", None) == (summary["event"], summary["exit_status"])
    assert summary["calls"] >= 100
    assert target.poll() is None
    os.kill(target.pid, 0)
    threads = [int(tid) for tid in os.listdir(f"/proc/{target.pid}/task")]
    assert 2 == len(threads)
    assert [0, 0] == [tracer_pid(target.pid, tid) for tid in threads]
    # strace was given "-p PID"; bpftrace, watch's program file
    assert [] == processes_with(f"-p\0{target.pid}" if observer == "strace" else "watch.bt")


def test_attach_to_an_idle_process_and_detach(
    model_file: Path, started: list[subprocess.Popen[str]]
) -> None:
    """A process asleep makes no window: SIGINT once strace holds it still detaches cleanly,
    with a summary, and the process sleeps on, untraced."""
    target = subprocess.Popen(["sleep", "300"], start_new_session=True, text=True)
    started.append(target)
    watch = subprocess.Popen(
        [*CLI, "--model", str(model_file), "--json", "-p", str(target.pid)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    started.append(watch)
    deadline = time.monotonic() + GUARD
    while tracer_pid(target.pid) == 0:
        assert time.monotonic() < deadline, "strace never attached"
        time.sleep(0.05)
    watch.send_signal(signal.SIGINT)
    out, err = watch.communicate(timeout=GUARD)
    assert (130, "") == (watch.returncode, err)
    assert ["summary"] == [json.loads(line)["event"] for line in out.splitlines()]
    assert target.poll() is None
    assert 0 == tracer_pid(target.pid)


@pytest.mark.parametrize(("sig", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_ends_a_command_cleanly(
    processes_with,
    model_file: Path,
    switch,
    started: list[subprocess.Popen[str]],
    sig: int,
    status: int,
    tmp_path: Path,
) -> None:
    """SIGINT or SIGTERM to watch stops the command's group (a workload that would run for
    minutes): a summary, exit 128 + signal, no process of the command left, and nothing left
    in the temporary folder (watch's pipe, the workload's files)."""
    token = "7654321"  # the workload's seed, to find its processes
    watch = subprocess.Popen(
        [*CLI, "--model", str(model_file), "--json", "--",
         *switch("none", "--rounds", "100000", "--seed", token)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )  # fmt: skip
    started.append(watch)
    assert "window" == json.loads(first_line(watch))["event"]
    watch.send_signal(sig)
    out, err = watch.communicate(timeout=GUARD)
    assert (status, "") == (watch.returncode, err)
    assert "summary" == json.loads(out.splitlines()[-1])["event"]
    assert [] == processes_with(token)
    assert [] == list(tmp_path.iterdir())


def test_json_lines_follow_the_contract(model_file: Path, switch) -> None:
    """Every line is one of the three objects with exactly its fields; an alert follows the
    window it is about; the summary is last and counts the alerts."""
    returncode, records = watch_json(model_file, "--", *switch("io"))
    assert 0 == returncode
    for record in records:
        assert FIELDS[record["event"]] == set(record)
    assert ["summary"] == [r["event"] for r in records if r["event"] == "summary"]
    assert "summary" == records[-1]["event"]
    windows = [r for r in records if r["event"] == "window"]
    alerts = [r for r in records if r["event"] == "alert"]
    assert len(alerts) == records[-1]["alerts"]
    assert all(r["calls"] == 100 for r in windows)
    assert len(windows) == records[-1]["calls"] // 100
    for before, alert in itertools.pairwise(records):
        if alert["event"] == "alert":
            assert before["event"] == "window"
            assert (before["time"], before["score"], before["top"]) == (
                alert["time"], alert["score"], alert["top"],
            )  # fmt: skip
            assert alert["score"] > alert["threshold"]
    assert all(isinstance(r["time"], float) and r["time"] > 1e9 for r in windows)


class SwitchMonitor(Monitor):
    """A monitor that notes the index of the switch marker among the calls."""

    switch_at = -1

    def push(self, event) -> None:
        if isinstance(event, Syscall) and PHASE_SWITCH in event.args:
            self.switch_at = self.calls
        super().push(event)


def _watch_with_switch(model, command: list[str]) -> tuple[int, list, int | None]:
    """Watch ``command`` through the session the command uses; the call index of the switch
    marker, the verdicts, and the exit status."""
    monitor = SwitchMonitor(model)
    verdicts: list = []
    summary = watch_trace(LiveTrace(command), monitor, verdicts.append)
    return monitor.switch_at, verdicts, summary.exit_status


@pytest.mark.parametrize("burst", ["io", "memory"])
def test_an_alert_within_one_window_of_the_switch(model, switch, burst: str) -> None:
    """No alert before the switch; the first alert is the window holding the switch marker or
    the next one (the first whole window of the burst)."""
    switch_at, verdicts, status = _watch_with_switch(model, switch(burst))
    assert 0 == status
    alerts = [v.window.index for v in verdicts if v.alert]
    assert alerts, "no alert on the burst"
    assert alerts[0] in (switch_at // model.window, switch_at // model.window + 1)
    if burst == "io":  # fsync: a call the normal work never makes
        assert any("fsync" in v.new_syscalls for v in verdicts if v.alert)


def test_no_alert_on_a_normal_run(model_file: Path, switch) -> None:
    """A normal run, not among the baseline's, raises no alert (its windows score like the
    baseline's held-out windows, which none passes)."""
    returncode, records = watch_json(model_file, "--", *switch("none", "--seed", "99"))
    assert (0, 0) == (returncode, records[-1]["alerts"])


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["-p", "1", "--", "true"],
        ["-p", "999999999"],
        ["--", "no-such-command-for-watch"],
        ["--window", "50", "--", "true"],
        ["--detector", "stide", "--", "true"],
    ],
    ids=["no-target", "both-targets", "no-such-pid", "no-such-command", "window-and-model",
         "detector-and-model"],
)  # fmt: skip
def test_bad_usage_is_one_line_and_exit_2(
    model_file: Path, args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Bad usage: one line on stderr, exit status 2, nothing on stdout."""
    assert 2 == main(["watch", "--model", str(model_file), *args])
    out, err = capsys.readouterr()
    assert "" == out
    assert 1 == len(err.splitlines())
    assert err.startswith("syscall-lab watch: ")


@pytest.mark.parametrize(
    "source", ["/no/such/baseline.log", "/etc/hostname"], ids=["missing", "not-strace"]
)
def test_a_bad_baseline_is_one_line_and_exit_2(
    source: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A baseline that cannot be read or holds no calls: one line, exit 2, nothing traced."""
    assert 2 == main(["watch", "--baseline", source, "--", "true"])
    out, err = capsys.readouterr()
    assert ("", 1) == (out, len(err.splitlines()))


@pytest.mark.parametrize("window", ["0", "1"])
def test_a_window_below_two_calls_is_refused(
    baseline_logs: list[Path], window: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--window`` 0 or 1 with a baseline: one line, exit 2, not the default window."""
    assert 2 == main(
        ["watch", "--baseline", str(baseline_logs[0]), "--window", window, "--", "true"]
    )
    out, err = capsys.readouterr()
    assert ("", 1) == (out, len(err.splitlines()))
    assert "at least 2 calls" in err


def test_fit_writes_a_model_watch_reads(
    baseline_logs: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`fit` writes a model that `watch --model` uses."""
    model_path = tmp_path / "m.json"
    assert 0 == main(["fit", *map(str, baseline_logs), "-o", str(model_path), "--window", "50"])
    assert "wrote" in capsys.readouterr().out
    returncode, records = watch_json(model_path, "--", "true")  # a process of its own: nice
    assert (0, "summary") == (returncode, records[-1]["event"])

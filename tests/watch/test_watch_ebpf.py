"""``syscall-lab watch --observer ebpf`` on real programs under real bpftrace: windows and the
command's exit status, the same calls as a capture of the same program, an alert on the burst,
Ctrl-C; and the reorder buffer's order on real calls. Timeouts are hang guards."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from syscall_lab.capture.ebpf import EbpfObserver, ebpf_unavailable
from syscall_lab.capture.run import capture_command
from syscall_lab.watch.ebpf_source import EbpfTrace
from syscall_lab.watch.monitor import Monitor
from syscall_lab.watch.session import watch_trace
from syscall_parse import count_trace
from workloads.markers import PHASE_SWITCH

pytestmark = pytest.mark.ebpf

CLI = [sys.executable, "-m", "syscall_lab", "watch", "--observer", "ebpf"]
GUARD = 120  # seconds: a hang guard, 100x what any of these takes


@pytest.fixture(scope="module", autouse=True)
def ebpf() -> None:
    """Skip, saying why, where eBPF tracing is unavailable."""
    reason = ebpf_unavailable(probe=True)
    if reason is not None:
        pytest.skip(f"eBPF tracing is unavailable: {reason}")


def test_a_command_gives_windows_and_its_exit_status(model_file: Path, switch) -> None:
    """Under the eBPF observer, a command's windows and summary come as under strace, the
    summary with the command's exit status, which watch exits with."""
    done = subprocess.run(
        [*CLI, "--model", str(model_file), "--json", "--", "sh", "-c",
         f"{' '.join(switch('none'))} >/dev/null; exit 3"],
        capture_output=True, text=True, timeout=GUARD, check=False,
    )  # fmt: skip
    records = [json.loads(line) for line in done.stdout.splitlines()]
    windows = [record for record in records if record["event"] == "window"]
    assert (3, "") == (done.returncode, done.stderr)
    assert len(windows) > 20
    assert {"event": "summary", "exit_status": 3} == {
        key: records[-1][key] for key in ("event", "exit_status")
    }
    assert records[-1]["calls"] >= 100 * len(windows)


def test_the_calls_equal_a_capture_of_the_same_program(
    switch, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The calls watch counts are those of count_trace of the same program captured with the
    eBPF observer, from the program's first execve on (the tracers start differently): the
    syscalls, each count within one of the nearer of two captures (the interpreter's
    munmap count varies by one from run to run; a lost batch would be 8 calls of a thread).
    The environment is capture's (PYTHONHASHSEED=0: no getrandom for the hash seed)."""
    monkeypatch.setenv("PYTHONHASHSEED", "0")
    command = switch("none")
    with EbpfTrace(command) as trace:
        names = [call.name for call in trace.events()]
        assert 0 == trace.exit_status()
    assert (0, 0) == (trace.lost, trace.unparsed)  # late calls change the order, not counts
    captures = []
    for repeat in range(2):
        result = capture_command(
            command, label="normal", out_dir=tmp_path, observer=EbpfObserver(),
            measure_untraced=False, repeat=repeat,
        )  # fmt: skip
        profile = count_trace(result.logs[0])
        captured = Counter({name: calls for name, (calls, _) in profile.counts().items()})
        captured.update(dict(profile.unreturned))  # exit_group: a call too, as watch counts it
        captures.append(captured)
    watched = Counter(names[names.index("execve") :])
    apart = {
        name: min(abs(watched[name] - captured[name]) for captured in captures)
        for name in watched | captures[0] | captures[1]
    }

    assert {} == {name: gap for name, gap in apart.items() if gap > 1}


def test_an_io_burst_alerts_within_one_window_of_the_switch(model, switch) -> None:
    """No alert before the switch marker; the first alert is in its window or the next, as
    under strace (the marker's path read in the kernel)."""

    class SwitchMonitor(Monitor):
        switch_at = -1

        def push(self, event) -> None:  # type: ignore[no-untyped-def]
            if event.args is not None and PHASE_SWITCH in event.args:
                self.switch_at = self.calls
            super().push(event)

    monitor = SwitchMonitor(model)
    verdicts: list = []
    summary = watch_trace(EbpfTrace(switch("io")), monitor, verdicts.append)
    first = next(verdict for verdict in verdicts if verdict.alert)
    assert (0, True) == (summary.exit_status, monitor.switch_at >= 0)
    switch_window = monitor.switch_at // model.window
    assert first.window.index in (switch_window, switch_window + 1)


def test_ctrl_c_leaves_no_process(model_file: Path) -> None:
    """Ctrl-C stops the command and bpftrace: exit 130, a summary, nothing left running."""
    watch = subprocess.Popen(
        [*CLI, "--model", str(model_file), "--json", "--", "sleep", "300"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + GUARD
    while not _children(watch.pid, "sleep") and time.monotonic() < deadline:
        time.sleep(0.1)
    tracers = _children(watch.pid, "bpftrace")
    assert tracers
    watch.send_signal(signal.SIGINT)
    out, _ = watch.communicate(timeout=GUARD)
    assert 130 == watch.returncode
    assert "summary" == json.loads(out.splitlines()[-1])["event"]
    assert [] == [pid for pid in tracers if Path(f"/proc/{pid}").exists()]


def _children(parent: int, name: str) -> list[int]:
    """The pids of processes named ``name`` whose parent is ``parent``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)
            comm = fields[0].split("(", 1)[1]
        except (OSError, IndexError):
            continue
        if comm == name and int(fields[1].split()[1]) == parent:
            found.append(int(stat.parent.name))
    return found

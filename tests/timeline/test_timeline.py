"""``syscall-lab timeline`` on real strace logs of every stamp and flag set.

Each case traces the parser tests' program (threads, a child process, a child killed by
SIGKILL, signals, failing calls) under real strace and writes its timeline through the command
line; the file must keep the Trace Event format's structure, hold one complete slice per call
``profile`` counts and one open slice per call that never returned, keep each thread's slices
apart, and pair every flow.
"""

from __future__ import annotations

import gzip
import itertools
import json
import os
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from syscall_lab.cli import main
from syscall_lab.timeline.tracks import NO_PID
from syscall_parse.batches import read_batches
from syscall_parse.counts import count_trace
from syscall_parse.lines import Resumed, parse_line
from tests.timeline.trace_format import problems

PYTHON = os.path.realpath(sys.executable)
TRACEE = Path(__file__).parents[1] / "parse" / "tracee.py"
pytestmark = pytest.mark.strace

# strace options (the log is trace.log, or the -ff prefix trace): every stamp, -T or not, -f
# and -ff, -Y and -y.
CASES = [
    pytest.param(["-f", "-ttt", "-T", "-y"], id="f-ttt-T-y"),
    pytest.param(["-f", "-tt", "-T"], id="f-tt-T"),
    pytest.param(["-f", "-t"], id="f-t"),
    pytest.param(["-f", "-r"], id="f-r"),
    pytest.param(["-r", "-T"], id="r-T-no-f"),
    pytest.param(["-f", "-t", "-r", "-T"], id="f-t-r-T"),
    pytest.param(["-f", "-ttt", "-T", "-Y"], id="f-ttt-T-Y"),
    pytest.param(["-ttt"], id="ttt-no-f"),
    pytest.param(["-ff", "-ttt", "-T"], id="ff-ttt-T"),
]


def _capture(run_strace, tmp_path: Path, options: list[str]) -> str:
    log = "trace" if "-ff" in options else "trace.log"
    run_strace([*options, "-o", log], [PYTHON, str(TRACEE)])
    return str(tmp_path / log)


def _timeline(tmp_path: Path, logs: list[str], name: str = "out.json") -> dict:
    out = tmp_path / name
    assert 0 == main(["timeline", *logs, "-o", str(out)])
    opener = gzip.open if name.endswith(".gz") else open
    with opener(out, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def _events(trace: dict, phase: str) -> list[dict]:
    return [event for event in trace["traceEvents"] if event["ph"] == phase]


@pytest.mark.parametrize("options", CASES)
def test_timeline_of_real_log(run_strace, tmp_path, options):
    """The timeline of a real log: valid structure; X events = profile's calls, B events =
    its unreturned calls, per syscall; a thread's X events never overlap; each flow one s and
    one f, each bound to an event of its thread at its ts with its cat; the programs named."""
    log = _capture(run_strace, tmp_path, options)
    trace = _timeline(tmp_path, [log])
    profile = count_trace(log)

    assert [] == problems(trace)
    complete = Counter(event["name"] for event in _events(trace, "X"))
    assert {name: count.calls for name, count in profile.syscalls} == dict(complete)
    assert dict(profile.unreturned) == dict(Counter(e["name"] for e in _events(trace, "B")))
    by_thread = defaultdict(list)
    for event in _events(trace, "X"):
        by_thread[event["pid"], event["tid"]].append((event["ts"], event["ts"] + event["dur"]))
    for slices in by_thread.values():
        slices.sort()
        assert all(end <= start for (_, end), (start, _) in itertools.pairwise(slices))
    bound = {
        (e["pid"], e["tid"], e["ts"], e["cat"]) for e in trace["traceEvents"] if e["ph"] in "XBi"
    }
    tails = {e["id"]: e for e in _events(trace, "s")}
    heads = {e["id"]: e for e in _events(trace, "f")}
    assert len(tails) == len(_events(trace, "s"))
    assert tails.keys() == heads.keys()
    for flow in [*tails.values(), *heads.values()]:
        assert (flow["pid"], flow["tid"], flow["ts"], flow["cat"]) in bound
    names = {e["args"]["name"] for e in _events(trace, "M") if e["name"] == "process_name"}
    threads = {(e["pid"], e["tid"]) for e in trace["traceEvents"] if e["ph"] in "XBi"}
    if "-f" in options or "-ff" in options:
        # the tracee's threads under one process, its children processes of their own
        assert {"python", "true", "sleep"} <= {n.split(".")[0].rstrip("0123456789") for n in names}
        assert len(tails) == len(threads) - 1  # every pid but the first was cloned
        assert len({pid for pid, _ in threads}) == 3
    else:
        assert {"python"} <= {n.split(".")[0].rstrip("0123456789") for n in names}
        assert 1 == len(threads)


def test_comm_names_threads(run_strace, tmp_path):
    """With -Y, each thread a clone created is named with the comm its clone returned."""
    log = _capture(run_strace, tmp_path, ["-f", "-ttt", "-Y"])
    trace = _timeline(tmp_path, [log])
    lines = Path(log).read_text(encoding="utf-8")

    comms = {
        e["tid"]: e["args"]["name"]
        for e in _events(trace, "M")
        if e["name"] == "thread_name" and e["tid"] != e["pid"]
    }
    assert len(comms) == 3
    for tid, comm in comms.items():
        assert f"= {tid}<{comm}>" in lines


@pytest.mark.parametrize("stamp", ["-tt", "-t", "-r"])
def test_clock_follows_the_log(run_strace, tmp_path, stamp):
    """-tt and -t stamps are microseconds since midnight (-t whole seconds, the slices placed
    one after the other inside them), -r deltas a sum from 0; a thread's slices in order."""
    log = _capture(run_strace, tmp_path, [stamp, "-T"])
    trace = _timeline(tmp_path, [log])
    starts = [e["ts"] for e in _events(trace, "X")]

    assert starts == sorted(starts)
    if stamp == "-r":
        assert 0 == starts[0]
        assert 0.1e6 < starts[-1] < 30e6  # the tracee sleeps 0.1 s and more
    else:
        assert 0 <= starts[0] <= starts[-1] < 86_400e6 + 60e6  # of the day, not the epoch
    if stamp == "-t":
        assert 0 == starts[0] % 1_000_000
        assert len(set(starts)) == len(starts)


def _relative_starts(log: str) -> dict[int, list[int]]:
    """The -r clock by hand: every line's delta (both halves of a split call) summed in line
    order, in microseconds; the sum at each returned call's entry line, per thread."""
    at, total = {}, 0
    for number, text in enumerate(Path(log).read_text(encoding="utf-8").splitlines(), 1):
        record = parse_line(text, number)
        record = record.call if isinstance(record, Resumed) else record
        total += round((getattr(record, "relative", None) or 0.0) * 1_000_000)
        at[number] = total
    starts = defaultdict(list)
    for batch in read_batches(log):
        rows = batch.select(["line", "pid", "kind", "returned"]).to_pylist()
        for row in rows:
            if row["kind"] == "syscall" and row["returned"]:
                starts[NO_PID if row["pid"] is None else row["pid"]].append(at[row["line"]])
    return starts


@pytest.mark.parametrize("options", [["-r", "-T"], ["-f", "-r", "-T"]], ids=["r-T", "f-r-T"])
def test_relative_clock_is_exact(run_strace, tmp_path, options):
    """Each X event starts at the sum of the -r deltas of every line up to its call's entry line
    (the split calls of the threads under -f too), or where the thread's previous slice ended
    when that is later (the no-overlap rule)."""
    log = _capture(run_strace, tmp_path, options)
    trace = _timeline(tmp_path, [log])
    expected = _relative_starts(log)
    if "-f" in options:
        assert "resumed>" in Path(log).read_text(encoding="utf-8")  # the case at stake

    by_thread = defaultdict(list)
    for event in _events(trace, "X"):
        by_thread[event["tid"]].append(event)
    assert expected.keys() == by_thread.keys()
    for tid, events in by_thread.items():
        events.sort(key=lambda event: event["ts"])
        placed, end = [], 0
        for start, event in zip(expected[tid], events, strict=True):
            placed.append(max(start, end))
            end = placed[-1] + event["dur"]
        assert placed == [event["ts"] for event in events]


def test_separate_logs_share_an_absolute_clock(run_strace, tmp_path):
    """Two logs: one process group each, labelled with its log, on one clock; their pids
    never merge tracks."""
    first = _capture(run_strace, tmp_path, ["-ttt", "-T"])
    os.rename(first, tmp_path / "first.log")
    second = _capture(run_strace, tmp_path, ["-ttt", "-T"])
    trace = _timeline(tmp_path, [str(tmp_path / "first.log"), second])

    labels = {
        e["pid"]: e["args"]["labels"] for e in _events(trace, "M") if e["name"] == "process_labels"
    }
    assert {str(tmp_path / "first.log"), second} == set(labels.values())
    spans = defaultdict(list)
    for event in _events(trace, "X"):
        spans[event["pid"]].append(event["ts"])
    (a, b) = (spans[pid] for pid in labels)
    assert max(a) < min(b) or max(b) < min(a)  # one run after the other, on one clock


def test_reused_pid_is_a_new_track(run_strace, tmp_path):
    """A pid cloned again after its exit (a real log of a shell running two children, the second
    child's pid rewritten to the first's, as Linux reuses pids) is a new thread and process:
    each clone's arrow points at its own child's first event (the second child prints before
    its vfork returns)."""
    run_strace(
        ["-f", "-ttt", "-T", "-o", "trace.log"], ["/bin/sh", "-c", "/bin/true; /bin/true; :"]
    )
    log = tmp_path / "trace.log"
    text = log.read_text(encoding="utf-8")
    first, second = re.findall(r"vfork resumed>\) = (\d+)", text)
    log.write_text(re.sub(rf"\b{second}\b", first, text), encoding="utf-8")
    trace = _timeline(tmp_path, [str(log)])

    threads = {(e["pid"], e["tid"]) for e in trace["traceEvents"] if e["ph"] in "XBi"}
    assert 3 == len(threads)
    assert 3 == len({pid for pid, _ in threads})
    heads = sorted(_events(trace, "f"), key=lambda event: event["ts"])
    assert 2 == len(heads)
    assert heads[0]["tid"] == int(first) != heads[1]["tid"]
    for head in heads:  # each arrow at the first event of a child that runs one execve
        on_track = [e for e in trace["traceEvents"] if e["ph"] in "XBi" and e["tid"] == head["tid"]]
        assert head["ts"] == min(e["ts"] for e in on_track)
        assert 1 == sum(e["name"] == "execve" for e in on_track)
    (exited,) = (e["ts"] for e in _events(trace, "i") if e["tid"] == int(first))
    assert exited < heads[1]["ts"]  # the second child starts after the first exited


def test_gz_output_reads_back(run_strace, tmp_path):
    """OUT.json.gz is gzip of the very same JSON as OUT.json."""
    log = _capture(run_strace, tmp_path, ["-f", "-ttt", "-T"])

    assert _timeline(tmp_path, [log]) == _timeline(tmp_path, [log], "out.json.gz")


def test_no_timestamps_is_one_line_error(run_strace, tmp_path, capsys):
    """A log without stamps: exit 2, one line naming the log and the fix, no file left."""
    log = _capture(run_strace, tmp_path, ["-f"])
    capsys.readouterr()

    assert 2 == main(["timeline", log, "-o", str(tmp_path / "out.json")])
    err = capsys.readouterr().err
    assert 1 == len(err.splitlines())
    assert f"syscall-lab timeline: {log}: no timestamps; trace with -ttt" in err
    assert ["trace.log"] == sorted(p.name for p in tmp_path.iterdir())


def test_failure_after_writing_leaves_nothing(run_strace, tmp_path, capsys):
    """A second log that fails after the first was written: no output, no temp file."""
    first = _capture(run_strace, tmp_path, ["-f", "-ttt"])
    os.rename(first, tmp_path / "stamped.log")
    bare = _capture(run_strace, tmp_path, ["-f"])

    assert 2 == main(
        ["timeline", str(tmp_path / "stamped.log"), bare, "-o", str(tmp_path / "o.json.gz")]
    )
    assert ["stamped.log", "trace.log"] == sorted(p.name for p in tmp_path.iterdir())


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        (["-ttt"], ["-tt"], "-ttt and -t/-tt logs cannot share a clock"),
        (["-ttt"], ["-r"], "a -r log cannot share a clock with -ttt, -tt or -t logs"),
        (["-r"], ["-tt"], "a -r log cannot share a clock with -ttt, -tt or -t logs"),
        (["-ff", "-r"], None, "a -ff set with -r stamps alone cannot be put on one clock"),
    ],
)
def test_clocks_that_cannot_meet(run_strace, tmp_path, capsys, first, second, message):
    """-ttt beside -tt (no date), -r beside absolute stamps (no start), or a -ff set stamped
    -r alone: exit 2, one line."""
    logs = [_capture(run_strace, tmp_path, first)]
    if second is not None:
        os.rename(logs[0], tmp_path / "first.log")
        logs = [str(tmp_path / "first.log"), _capture(run_strace, tmp_path, second)]
    capsys.readouterr()

    assert 2 == main(["timeline", *logs, "-o", str(tmp_path / "out.json")])
    err = capsys.readouterr().err
    assert 1 == len(err.splitlines())
    assert message in err
    assert not (tmp_path / "out.json").exists()


def test_not_strace_output(tmp_path, capsys):
    """Not a log: exit 3 as parse and profile, nothing written."""
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 64)

    assert 3 == main(["timeline", str(junk), "-o", str(tmp_path / "out.json")])
    assert "not strace output" in capsys.readouterr().err
    assert not (tmp_path / "out.json").exists()

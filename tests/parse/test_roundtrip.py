"""Property tests: rendered events parse back to themselves; no input makes the parser raise."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from strategies import c_string, calls, prefixes, render_call, traces

from syscall_parse.arguments import decode_string, split_args
from syscall_parse.events import Unparsed
from syscall_parse.inputs import iter_trace
from syscall_parse.lines import parse_line
from syscall_parse.stream import ParseStats, iter_events


@given(st.data(), prefixes)
def test_whole_call_round_trips(data, prefix):
    """parse_line(render(call)) == call, for every prefix style, argument shape and result."""
    call, head, pieces = data.draw(calls(prefix))
    assert call == parse_line(render_call(call, head), 1)
    assert pieces == split_args(call.args)


@given(traces())
def test_split_calls_join_back(trace):
    """A -f -o log of interleaved split calls, a signal and exits yields exactly its events."""
    lines, expected = trace
    stats = ParseStats()
    assert expected == list(iter_events(lines, stats=stats))
    clean = (0, 0, [])
    assert clean == (stats.orphans, stats.unresumed, stats.unparsed)


@given(st.binary(max_size=40), st.booleans())
def test_strings_round_trip(data, truncated):
    """decode_string(c_string(b)) == b, with greedy octal and the truncation marker."""
    assert data == decode_string(c_string(data, truncated))


@given(st.lists(st.text(max_size=80), max_size=20))
def test_arbitrary_text_never_raises(lines):
    """Any text gives records; what is not strace output comes back as Unparsed."""
    stats = ParseStats()
    events = list(iter_events(lines, stats=stats))
    assert len(stats.unparsed) == sum(isinstance(e, Unparsed) for e in events)


@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_raise(tmp_path_factory, data):
    """Any bytes in a file parse without an exception."""
    path = tmp_path_factory.mktemp("bytes") / "t.log"
    path.write_bytes(data)
    stats = ParseStats()
    events = list(iter_trace(path, stats=stats))
    assert len(stats.unparsed) == sum(isinstance(e, Unparsed) for e in events)

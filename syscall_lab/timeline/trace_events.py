"""Trace events as the JSON text of the Chrome Trace Event format, one object each.

The format (the "Trace Event Format" document that chrome://tracing and Perfetto's UI read):
every event has ``ph`` (its phase), ``pid`` and ``tid`` (the process and thread tracks) and
``ts`` in microseconds; ``X`` a complete slice with ``dur``; ``B`` a slice begun and, without
its ``E``, open to the end of the trace; ``i`` an instant (``s``: ``t`` thread, ``p`` process,
``g`` global scope); ``M`` metadata naming and ordering tracks (``process_name``,
``thread_name``, ``process_sort_index``, ``process_labels``, a value in ``args``); ``s`` and
``f`` the start and end of a flow arrow with one ``id``, each bound to the slice of its thread
with the same ``cat`` at its ``ts`` (``"bp": "e"``: the enclosing slice). Each function here
returns one event's text; times are whole microseconds.
"""

from __future__ import annotations

import json

__all__ = ["begin", "call_args", "complete", "flow_end", "flow_start", "instant", "metadata"]

_text = json.encoder.encode_basestring  # type: ignore[attr-defined]  # C: a str as JSON text


def _args(values: dict[str, str | int | None]) -> str:
    """``{"args": ...}`` members of the values that are not None."""
    members = (
        f"{_text(key)}:{value if isinstance(value, int) else _text(value)}"
        for key, value in values.items()
        if value is not None
    )
    return "{" + ",".join(members) + "}"


def call_args(args: str, ret: str | None, errno: str | None, errno_text: str | None) -> str:
    """A call's ``args``: its argument text, return token, and errno with its text if any."""
    text = f'{{"args":{_text(args)}'
    if ret is not None:
        text += f',"ret":{_text(ret)}'
    if errno is not None:
        text += f',"errno":{_text(errno)},"errno_text":{_text(errno_text or "")}'
    return text + "}"


def complete(name: str, cat: str, pid: int, tid: int, ts: int, dur: int, args: str) -> str:
    """A slice of ``dur`` microseconds: one call that returned (``args``: ``call_args``)."""
    return (
        f'{{"ph":"X","name":{_text(name)},"cat":"{cat}","pid":{pid},"tid":{tid},'
        f'"ts":{ts},"dur":{dur},"args":{args}}}'
    )


def begin(name: str, cat: str, pid: int, tid: int, ts: int, args: str) -> str:
    """A slice begun and never ended: a call that never returned, open to the trace's end."""
    return (
        f'{{"ph":"B","name":{_text(name)},"cat":"{cat}","pid":{pid},"tid":{tid},'
        f'"ts":{ts},"args":{args}}}'
    )


def instant(name: str, cat: str, pid: int, tid: int, ts: int, args: dict) -> str:
    """A moment on a thread's track: a signal, an exit."""
    return (
        f'{{"ph":"i","s":"t","name":{_text(name)},"cat":"{cat}","pid":{pid},"tid":{tid},'
        f'"ts":{ts},"args":{_args(args)}}}'
    )


def metadata(name: str, pid: int, tid: int, ts: int, args: dict) -> str:
    """A track's name, sort index or labels (``name`` is the kind of metadata)."""
    return f'{{"ph":"M","name":"{name}","pid":{pid},"tid":{tid},"ts":{ts},"args":{_args(args)}}}'


def flow_start(flow: int, cat: str, pid: int, tid: int, ts: int) -> str:
    """The tail of a flow arrow, bound to the slice of ``pid``/``tid`` at ``ts`` (its ``cat``)."""
    return (
        f'{{"ph":"s","name":"clone","cat":"{cat}","id":{flow},"pid":{pid},"tid":{tid},"ts":{ts}}}'
    )


def flow_end(flow: int, cat: str, pid: int, tid: int, ts: int) -> str:
    """The head of a flow arrow, bound to the slice enclosing ``ts`` on its thread."""
    return (
        f'{{"ph":"f","bp":"e","name":"clone","cat":"{cat}","id":{flow},"pid":{pid},'
        f'"tid":{tid},"ts":{ts}}}'
    )

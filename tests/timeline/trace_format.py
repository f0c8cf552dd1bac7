"""The Chrome Trace Event format's structure, checked event by event (the tests' oracle).

Required keys and their types per phase, after the "Trace Event Format" document: every event
has ``ph``, ``pid``, ``tid``, ``ts`` (microseconds, a number); ``X`` adds ``dur`` (not
negative), ``name`` and ``cat``; ``B`` and ``i`` ``name`` and ``cat`` (``i`` a scope ``s`` of
``t``, ``p`` or ``g``); ``M`` a known metadata ``name`` with its value in ``args``; ``s`` and
``f`` an ``id`` and a ``cat``, ``f`` binding to the enclosing slice (``bp`` ``e``).
"""

from __future__ import annotations

from numbers import Number

COMMON = {"ph": str, "pid": int, "tid": int, "ts": Number}
BY_PHASE: dict[str, dict[str, type]] = {
    "X": {"name": str, "cat": str, "dur": Number, "args": dict},
    "B": {"name": str, "cat": str, "args": dict},
    "i": {"name": str, "cat": str, "s": str, "args": dict},
    "M": {"name": str, "args": dict},
    "s": {"name": str, "cat": str, "id": int},
    "f": {"name": str, "cat": str, "id": int, "bp": str},
}
METADATA = {
    "process_name": ("name", str),
    "thread_name": ("name", str),
    "process_sort_index": ("sort_index", int),
    "process_labels": ("labels", str),
}


def problems(trace: object) -> list[str]:
    """What in ``trace`` (a loaded JSON file) breaks the format's structure; [] when none."""
    if not isinstance(trace, dict) or not isinstance(trace.get("traceEvents"), list):
        return ["not a JSON object with a traceEvents list"]
    found = []
    if trace.get("displayTimeUnit") not in (None, "ms", "ns"):
        found.append(f"displayTimeUnit {trace['displayTimeUnit']!r}")
    for number, event in enumerate(trace["traceEvents"]):
        if not isinstance(event, dict) or event.get("ph") not in BY_PHASE:
            found.append(f"event {number}: unknown phase: {event!r}")
            continue
        for key, kind in {**COMMON, **BY_PHASE[event["ph"]]}.items():
            if not isinstance(event.get(key), kind) or isinstance(event.get(key), bool):
                found.append(f"event {number}: {key} is not {kind.__name__}: {event!r}")
        if event["ph"] == "X" and isinstance(event.get("dur"), Number) and event["dur"] < 0:
            found.append(f"event {number}: negative dur")
        if event["ph"] == "i" and event.get("s") not in ("t", "p", "g"):
            found.append(f"event {number}: instant scope {event.get('s')!r}")
        if event["ph"] == "f" and event.get("bp") != "e":
            found.append(f"event {number}: flow end not bound to its enclosing slice")
        if event["ph"] == "M":
            key, kind = METADATA.get(event.get("name"), (None, None))
            if key is None or not isinstance(event["args"].get(key), kind):
                found.append(f"event {number}: metadata {event!r}")
    return found

"""Any strace log as a timeline in the Chrome Trace Event format (Perfetto, chrome://tracing).

:mod:`~syscall_lab.timeline.clock` puts each log's stamps on one clock,
:mod:`~syscall_lab.timeline.tracks` turns events into trace events on process and thread
tracks, :mod:`~syscall_lab.timeline.trace_events` writes each one's JSON, and
:mod:`~syscall_lab.timeline.writer` streams them into the file (``write_timeline``).
"""

"""``syscall-lab watch``: a program traced live, its calls cut into windows, each window scored
against a baseline of normal traces, an alert when a score passes the baseline's threshold.

``source`` runs strace on a pipe (a command, or ``-p`` attach and detach), ``windows`` cuts the
calls into windows of N calls, ``baseline`` fits the detector and its threshold on normal
traces, ``monitor`` scores the live windows, ``records`` holds the JSON lines, ``view`` the live
view on a terminal. See docs/watch.md.
"""

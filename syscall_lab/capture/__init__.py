"""Capture: run workloads or any command under strace, one folder per run with its metadata.

``run`` (the capture functions, run folders, workload commands) uses ``strace`` (its options,
finding it, reading its failures), ``processes`` (process groups, stopping them, SIGTERM),
``ambient`` (an untraced load beside a run, settling after it) and ``metadata`` (what every run
records about itself).
"""

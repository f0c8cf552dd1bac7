"""Capture: run workloads or any command under strace, one folder per run with its metadata."""

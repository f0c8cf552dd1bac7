"""The experiment: the conditions of :mod:`syscall_lab.conditions` captured over interleaved
repeated runs, stored, loaded, analysed, and stated as findings.

dataset (settings, runs) -> plan (what to capture, in which order) -> store (capture, store,
load) -> analysis (every statistic, once) -> findings (the statements and their numbers, worded
by sentences).
"""

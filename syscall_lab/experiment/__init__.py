"""The experiment: the conditions of :mod:`syscall_lab.conditions` captured in rounds of every
condition (shuffled by the seed), stored, loaded, analysed, and stated as findings.

dataset (settings, runs) -> plan (what to capture, in which order) -> store (capture, store,
load) -> analysis (every statistic, once) -> findings (the statements and their numbers, worded
by sentences).
"""

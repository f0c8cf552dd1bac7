"""A workload's measured phase in the eBPF observer's logs.

The observer reads the path of every ``stat``-family call in the kernel and knows the marker
calls by it (``capture/ebpf_program.py``). In an events log a marker call's record carries its
path as strace would print it, so ``analyse.phase.cut_to_phase`` cuts an eBPF event table as it
cuts an strace one. A counts log holds the phase already counted apart: ``phase_profile`` takes
it, after the same checks.
"""

from __future__ import annotations

from syscall_lab.analyse.phase import PhaseError
from syscall_parse.counts import Profile
from syscall_parse.ebpf_log import EbpfCounts
from workloads.markers import PHASE_END, PHASE_START

__all__ = ["phase_profile"]


def phase_profile(counts: EbpfCounts, *, where: str = "trace") -> Profile:
    """The counts of the calls strictly between the phase markers of a counts log.

    Raises PhaseError (a ValueError) naming ``where`` unless the log saw one start marker, then
    one end marker.
    """
    starts, ends = counts.markers
    if (starts, ends) != (1, 1):
        raise PhaseError(
            f"{where}: expected one start and one end phase marker ({PHASE_START}, {PHASE_END}), "
            f"found {starts} start(s) and {ends} end(s); was it traced from a workload "
            "(python -m workloads)?"
        )
    if not counts.profile([2]).events:  # the end marker is counted after the phase
        raise PhaseError(f"{where}: end marker before the start marker")
    return counts.profile([1])

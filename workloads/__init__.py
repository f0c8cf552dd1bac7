"""Workloads with reproducible syscall signatures: ``python -m workloads CONDITION``.

Conditions: ``normal``, ``cpu``, ``memory`` (anonymous mmap), ``memory-brk`` (brk heap growth),
``io``. See ``workloads.conditions`` for what each does at scale 1 and ``workloads.markers`` for
the phase markers. ``workloads.programs`` (not imported here, so that a workload's start-up stays
as it was) holds the real programs traced beside them and makes their inputs.
"""

from .bounds import Bounds
from .conditions import CONDITIONS, Workload, run_workload
from .markers import PHASE_END, PHASE_START

__all__ = ["CONDITIONS", "PHASE_END", "PHASE_START", "Bounds", "Workload", "run_workload"]

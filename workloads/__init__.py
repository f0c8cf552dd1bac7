"""Workloads with reproducible syscall signatures: ``python -m workloads CONDITION``.

Conditions: ``normal``, ``cpu``, ``memory`` (anonymous mmap), ``memory-brk`` (brk heap growth),
``io``; real programs: ``git-grep``, ``sqlite``. See ``workloads.conditions`` and
``workloads.programs`` for what each does at scale 1 and ``workloads.markers`` for the phase
markers.
"""

from .bounds import Bounds
from .conditions import CONDITIONS, run_workload
from .markers import PHASE_END, PHASE_START
from .programs import PROGRAMS
from .workload import Workload

__all__ = [
    "CONDITIONS",
    "PHASE_END",
    "PHASE_START",
    "PROGRAMS",
    "Bounds",
    "Workload",
    "run_workload",
]

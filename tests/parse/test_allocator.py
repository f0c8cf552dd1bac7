"""glibc's malloc, tuned, keeps the memory a chunk frees for the next one."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

# Arrays of a parse's sizes (1 to 8 MB), made and freed again and again; prints the page
# faults it took (each a page the kernel had to hand over afresh).
_CHURN = """
import resource, sys
import numpy as np
from syscall_parse.allocator import keep_freed_memory
if sys.argv[1] == "tuned":
    assert keep_freed_memory()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for size in [(1 << 20) * k for k in (1, 3, 2, 5, 4, 8, 6, 7)] * 10:
    arrays = [np.ones(size // 8) for _ in range(3)]
    del arrays
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(mode: str) -> int:
    run = subprocess.run(
        [sys.executable, "-c", _CHURN, mode], capture_output=True, text=True, check=True
    )
    return int(run.stdout)


@pytest.mark.skipif(
    not (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc"), reason="glibc only"
)
def test_freed_memory_is_reused_not_faulted_in_again():
    """Tuned, the churn of a parse's arrays takes a small part of the page faults it takes
    with glibc's defaults (measured: about 3,600 against 74,000)."""
    assert 4 * _faults("tuned") < _faults("plain")

"""The number of usable cores, and no BLAS thread settings: those belong to the caller.

gradlab's kernels call no BLAS (``kernels.fast.grads`` sums the parameter gradients), and no
library call changes the process's BLAS thread count: OpenBLAS's
``openblas_set_num_threads_local`` is not per thread in the builds NumPy and SciPy ship, so
setting it from one thread changed it for every other (results raced, and the process was
left at one thread). A program that wants single-threaded BLAS says so itself (the
``gradlab`` command does, with threadpoolctl).
"""

from __future__ import annotations

import os


def cores() -> int:
    """CPUs this process may run on (its affinity; a container's CPU quota is not seen)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


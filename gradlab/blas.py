"""The number of usable cores, and no BLAS thread settings: those belong to the caller.

gradlab's kernels call no BLAS (``kernels.fast.grads`` sums the parameter gradients), and no
library call changes the process's BLAS thread count: OpenBLAS's
``openblas_set_num_threads_local`` is not per thread in the builds NumPy and SciPy ship, so
setting it from one thread changed it for every other (results raced, and the process was
left at one thread). A program that wants single-threaded BLAS says so itself (the
``gradlab`` command does, with threadpoolctl).

``one_blas_thread`` and ``single_blas_thread`` remain as no-ops for callers written against
the old module (``gradlab.spectra``); they change nothing.
"""

from __future__ import annotations

import contextlib
import os


def cores() -> int:
    """CPUs this process may run on (its affinity; a container's CPU quota is not seen)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def single_blas_thread() -> None:
    """Does nothing (BLAS thread settings belong to the caller, see the module docstring)."""


@contextlib.contextmanager
def one_blas_thread():
    """Does nothing (BLAS thread settings belong to the caller, see the module docstring)."""
    yield

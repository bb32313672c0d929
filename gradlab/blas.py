"""Single-threaded BLAS in the calling thread only, and the number of usable cores.

The kernels' matrix products go to two OpenBLAS libraries: scipy's (numba's np.dot and
LAPACK calls) and NumPy's (the plain-NumPy products around the sweeps). A threaded OpenBLAS
gains little on the few-hundred-row products here and, called from two threads at once or
on a busy machine, its spinning threads made products 10 to 40 times slower. Both libraries
export ``openblas_set_num_threads_local``, which changes the calling thread's count only, so
``one_blas_thread`` is safe when several threads (or several callers) use it at once, unlike
a process-wide limit. With another BLAS (no such function) it does nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import pathlib

import numpy as np
import scipy


def cores() -> int:
    """CPUs this process may run on (its affinity; a container's CPU quota is not seen)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@functools.cache
def _thread_setters() -> tuple:
    """``openblas_set_num_threads_local`` of scipy's and NumPy's OpenBLAS, where found."""
    setters = []
    for package, patterns in ((scipy, ("../scipy.libs/libscipy_openblas*",
                                       ".dylibs/libscipy_openblas*")),
                              (np, ("../numpy.libs/libscipy_openblas*",
                                    ".dylibs/libscipy_openblas*"))):
        root = pathlib.Path(package.__file__).parent
        for path in sorted(p for pattern in patterns for p in root.glob(pattern)):
            try:
                fn = ctypes.CDLL(str(path)).openblas_set_num_threads_local
            except (OSError, AttributeError):
                continue
            fn.restype, fn.argtypes = ctypes.c_int, [ctypes.c_int]
            setters.append(fn)
            break
    return tuple(setters)


def single_blas_thread() -> None:
    """Make this thread's BLAS single-threaded for good (for short-lived worker threads)."""
    for set_threads in _thread_setters():
        set_threads(1)


@contextlib.contextmanager
def one_blas_thread():
    """Run the block with single-threaded BLAS in this thread (see the module docstring)."""
    setters = _thread_setters()
    previous = [set_threads(1) for set_threads in setters]
    try:
        yield
    finally:
        for set_threads, n in zip(setters, previous, strict=True):
            set_threads(n)

"""The one place where numba compilation flags are set for every kernel.

- ``cache=True``: compiled machine code is kept in ``__pycache__`` so later starts are fast.
  numba checks only the kernel's own file for changes: after editing a file other kernels
  call into (``sync.py``, ``activations.py``, ``matvec.py``), ``make clean`` (or
  deleting ``kernels/__pycache__``) keeps them from running stale code.
- ``fastmath`` stays off: inf and nan must propagate exactly (overflow is a result we show).
- ``error_model='numpy'``: division by zero gives inf/nan instead of raising.
- Signatures are not given, so each kernel compiles lazily, on first use, for the dtype it
  meets (float64 and float32 both work): the app never waits for a kernel it does not draw.
"""

from numba import njit

JIT = dict(cache=True, nogil=True, fastmath=False, error_model="numpy")


def kernel(fn):
    """Decorate ``fn`` as a gradlab kernel with the project's numba flags."""
    return njit(**JIT)(fn)


# Activation codes shared by every kernel that takes a nonlinearity phi.
TANH, RELU, SIGMOID, LINEAR = 0, 1, 2, 3
ACTIVATIONS = {"tanh": TANH, "relu": RELU, "sigmoid": SIGMOID, "linear": LINEAR}

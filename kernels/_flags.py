"""The one place where numba compilation flags, and the kernels' on-disk cache, are set.

- Compiled machine code is cached on disk (numba's ``cache=True`` places and formats), so
  later starts are fast. numba on its own checks only the kernel's own file for changes, so
  editing a file that other kernels call into (``fast/sync.py``, ``activations.py``, ...)
  used to leave them running stale code until ``make clean``. Here every kernel's cache is
  stamped with a hash of *all* the sources under ``kernels/`` (``SOURCES_STAMP``): after
  any edit there, every kernel's cached code is stale and is compiled afresh on first use
  (the stale entries are overwritten). Nothing process-wide is changed (numba's own config
  is left alone; only gradlab's kernels get this cache).
- ``fastmath`` stays off: inf and nan must propagate exactly (overflow is a result we show).
- ``error_model='numpy'``: division by zero gives inf/nan instead of raising.
- Signatures are not given, so each kernel compiles lazily, on first use, for the dtype it
  meets (float64 and float32 both work): the app never waits for a kernel it does not draw.
"""

import hashlib
import pathlib

from numba import njit
from numba.core.caching import CompileResultCacheImpl, FunctionCache

JIT = dict(nogil=True, fastmath=False, error_model="numpy")


def sources_stamp(root=None) -> str:
    """sha256 over the relative paths and contents of every ``*.py`` file under ``root``
    (default: the ``kernels`` package)."""
    root = pathlib.Path(__file__).parent if root is None else pathlib.Path(root)
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


SOURCES_STAMP = sources_stamp()


class _Stamped:
    """A numba cache locator mixin: the freshness stamp is the whole package's sources."""

    def get_source_stamp(self):
        return SOURCES_STAMP


class _KernelCacheImpl(CompileResultCacheImpl):
    _locator_classes = [type(f"Stamped{c.__name__}", (_Stamped, c), {})
                        for c in CompileResultCacheImpl._locator_classes]


class KernelCache(FunctionCache):
    """numba's function cache, invalidated by any change to the sources under kernels/."""

    _impl_class = _KernelCacheImpl


def kernel(fn):
    """Decorate ``fn`` as a gradlab kernel with the project's numba flags and cache."""
    dispatcher = njit(**JIT)(fn)
    dispatcher._cache = KernelCache(dispatcher.py_func)  # what cache=True does, stamped
    return dispatcher


# Activation codes shared by every kernel that takes a nonlinearity phi.
TANH, RELU, SIGMOID, LINEAR = 0, 1, 2, 3
ACTIVATIONS = {"tanh": TANH, "relu": RELU, "sigmoid": SIGMOID, "linear": LINEAR}

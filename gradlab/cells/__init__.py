"""Registry of recurrent cells. Each module turns Params into kernel calls.

A cell module provides: ``GATES`` (names of the recorded activations), ``make_params``,
``init_weights``, ``forward``, ``backward`` and ``step_jacobians``.
"""

from importlib import import_module

import numpy as np

_MODULES = {"rnn": "rnn", "lstm": "lstm", "gru": "gru"}


def get_cell(cell: str):
    """The module implementing ``cell``."""
    if cell not in _MODULES:
        raise ValueError(f"cell={cell!r} is not one of {sorted(_MODULES)}")
    return import_module(f".{_MODULES[cell]}", __name__)


def time_major(a: np.ndarray) -> np.ndarray:
    """(B, T, ...) -> writable C-contiguous (T, B, ...), the kernels' layout; copies only
    when needed (writable inputs keep each kernel to one compiled signature)."""
    t = a.transpose(1, 0, 2)
    if t.flags.c_contiguous and t.flags.writeable:
        return t
    return np.array(t, order="C")

"""Helpers the cell files share: layout conversion for the kernels."""

import numpy as np


def time_major(a: np.ndarray) -> np.ndarray:
    """(B, T, ...) -> writable C-contiguous (T, B, ...), the kernels' layout; copies only
    when needed (writable inputs keep each kernel to one compiled signature)."""
    t = a.transpose(1, 0, 2)
    if t.flags.c_contiguous and t.flags.writeable:
        return t
    return np.array(t, order="C")

"""Compile every kernel the lab and the scenes use, once, into numba's on-disk cache.

numba compiles a kernel the first time it is called and keeps the machine code next to the
source (``kernels/__pycache__``). ``gradlab warm`` (run by ``make run`` and ``make test``
right after installing) makes those first calls, so the lab's first picture, and the first
switch to another cell in front of a class, never wait for the compiler. It computes what
the lab computes for each cell, in float64, plus a Jacobian spectrum; nothing is drawn.
"""

from __future__ import annotations

import time

import numpy as np

from .config import CHOICES, LabConfig
from .lab import Lab


def warm() -> float:
    """Compile (or load from the cache) the kernels; returns the seconds it took."""
    from . import forward, init_params, jacobian_spectrum

    start = time.perf_counter()
    lab = Lab()
    for cell in CHOICES["cell"]:
        lab.compute(LabConfig(cell=cell))
    p = init_params("rnn", 8, 3, seed=0)
    jacobian_spectrum(p, forward(p, np.full((12, 3), 0.1)))
    return time.perf_counter() - start

"""Central finite differences, shared by every gradient test."""

import numpy as np


def central_differences(f, a, eps=1e-6):
    """d f / d a by central differences: f takes an array shaped like ``a``, returns a scalar."""
    a = np.array(a, dtype=float)
    out = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        ap, am = a.copy(), a.copy()
        ap[idx] += eps
        am[idx] -= eps
        out[idx] = (f(ap) - f(am)) / (2 * eps)
    return out

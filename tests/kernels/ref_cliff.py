"""Slow, obvious NumPy twin of kernels/cliff.py, for tests only.

One loop over time steps, every point (w, b) at once, the chain rule written out:
    x_t = w sigma(x_{t-1}) + b,  E = (sigma(x_T) - target)^2
    dE/dx_{t-1} = dE/dx_t * w sigma'(x_{t-1}),  dE/dw = sum_t dE/dx_t sigma(x_{t-1}),
    dE/db = sum_t dE/dx_t
"""

import numpy as np


def sigma(x):
    return 1.0 / (1.0 + np.exp(-x))


def dsigma(x):
    return sigma(x) * (1.0 - sigma(x))


def cliff(w, b, steps=50, x0=0.5, target=0.7):
    """(E, dE/dw, dE/db) for arrays w, b of the same shape."""
    w = np.asarray(w, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    xs = [np.full(w.shape, float(x0))]  # x_0 .. x_T, each shaped like w
    for _ in range(steps):
        xs.append(w * sigma(xs[-1]) + b)
    E = (sigma(xs[steps]) - target) ** 2
    dx = 2.0 * (sigma(xs[steps]) - target) * dsigma(xs[steps])  # dE/dx_T
    dw = np.zeros(w.shape)
    db = np.zeros(w.shape)
    for t in range(steps, 0, -1):
        dw = dw + dx * sigma(xs[t - 1])
        db = db + dx
        dx = dx * w * dsigma(xs[t - 1])  # dE/dx_{t-1}
    return E, dw, db

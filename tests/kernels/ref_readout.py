"""Slow, obvious twin of kernels/readout.py, for tests only: one step at a time.

y_t = V h_t + b_y; cross-entropy -log softmax(y_t)[c_t] or squared error |y_t - y*_t|^2,
averaged over the counted steps (and, for the squared error, the k outputs).
"""

import numpy as np


def cross_entropy(V, b_y, h, targets):
    """h (B, T, n), targets (B, T) ints (< 0: no loss). Returns loss, y, dh, dV, db."""
    B, T, _ = h.shape
    y = np.einsum("kn,btn->btk", V, h) + b_y
    counted = [(b, t) for b in range(B) for t in range(T) if targets[b, t] >= 0]
    N = len(counted)
    loss = 0.0
    dy = np.zeros_like(y)
    for b, t in counted:
        m = y[b, t].max()
        lse = m + np.log(np.sum(np.exp(y[b, t] - m)))
        loss += lse - y[b, t, targets[b, t]]
        dy[b, t] = np.exp(y[b, t] - lse)
        dy[b, t, targets[b, t]] -= 1.0
    dy /= N
    return loss / N, y, dy @ V, np.einsum("btk,btn->kn", dy, h), dy.sum(axis=(0, 1))


def mean_squared_error(V, b_y, h, targets, mask):
    B, T, _ = h.shape
    y = np.einsum("kn,btn->btk", V, h) + b_y
    k = y.shape[2]
    N = mask.sum()
    err = (y - targets) * mask[..., None]
    loss = np.sum(err**2) / (N * k)
    dy = 2 * err / (N * k)
    return loss, y, dy @ V, np.einsum("btk,btn->kn", dy, h), dy.sum(axis=(0, 1))

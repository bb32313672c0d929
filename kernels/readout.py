"""Linear readout y_t = V h_t + b_y with a loss, and its gradients, in one pass.

Rows are the flattened (batch, step) pairs: Hs (N, n) with N = B T; V (k, n), b_y (k,).

    softmax cross-entropy, integer targets c_r (rows with c_r < 0 carry no loss):
        L = 1/N' sum_r [logsumexp(y_r) - y_r[c_r]],   dL/dy_r = (softmax(y_r) - onehot(c_r)) / N'
    mean squared error, targets Y* (N, k), rows counted where mask_r:
        L = 1/(N' k) sum_r |y_r - y*_r|^2,             dL/dy_r = 2 (y_r - y*_r) / (N' k)

N' is the number of counted rows. Then dL/dh_r = V^T dL/dy_r, dL/dV = sum_r dL/dy_r h_r^T,
dL/db_y = sum_r dL/dy_r. logsumexp is shifted by the row maximum, so large logits are fine.
With no counted rows the loss is nan (a mean over nothing) and every gradient is zero.
"""

import numpy as np

from ._flags import kernel


@kernel
def linear_readout(Hs, V, b_y):
    """y = Hs V^T + b_y: (N, k)."""
    Y = np.dot(Hs, V.T.copy())
    for r in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[r, j] += b_y[j]
    return Y


@kernel
def _backprop(Hs, V, dY):
    dH = np.dot(dY, V)  # (N, n)
    dV = np.dot(dY.T.copy(), Hs)  # (k, n)
    db = np.zeros(dY.shape[1], dtype=dY.dtype)  # (k,)
    for r in range(dY.shape[0]):
        for j in range(dY.shape[1]):
            db[j] += dY[r, j]
    return dH, dV, db


@kernel
def softmax_cross_entropy(Hs, V, b_y, targets):
    """(loss, y (N, k), dL/dHs (N, n), dL/dV, dL/db_y, counted rows) for integer targets (N,)."""
    Y = linear_readout(Hs, V, b_y)
    N, k = Y.shape
    dY = np.zeros_like(Y)
    count = 0
    for r in range(N):
        if targets[r] >= 0:
            count += 1
    total = 0.0
    for r in range(N):
        c = targets[r]
        if c < 0:
            continue
        y = Y[r]
        m = np.max(y)
        s = 0.0
        for j in range(k):
            s += np.exp(y[j] - m)
        lse = m + np.log(s)
        total += lse - y[c]
        for j in range(k):
            dY[r, j] = np.exp(y[j] - lse) / count
        dY[r, c] -= 1.0 / count
    loss = total / count if count > 0 else np.nan
    dH, dV, db = _backprop(Hs, V, dY)
    return loss, Y, dH, dV, db, count


@kernel
def mean_squared_error(Hs, V, b_y, targets, mask):
    """(loss, y (N, k), dL/dHs, dL/dV, dL/db_y, counted rows); targets (N, k), mask (N,) bool."""
    Y = linear_readout(Hs, V, b_y)
    N, k = Y.shape
    dY = np.zeros_like(Y)
    count = 0
    for r in range(N):
        if mask[r]:
            count += 1
    total = 0.0
    for r in range(N):
        if not mask[r]:
            continue
        for j in range(k):
            e = Y[r, j] - targets[r, j]
            total += e * e
            dY[r, j] = 2.0 * e / (count * k)
    loss = total / (count * k) if count > 0 else np.nan
    dH, dV, db = _backprop(Hs, V, dY)
    return loss, Y, dH, dV, db, count

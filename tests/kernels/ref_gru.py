"""Slow, obvious NumPy twin of kernels/gru.py: the GRU written straight from its equations.

Batch-major like the public API: x (B, T, m), h (B, T, n). Gate order r, z, n; per step,
with x-side pre-activations U x_t + b and h-side W h_{t-1} + b_h split into blocks r, z, n:

'torch' (PyTorch / cuDNN):
    r = sigmoid(U_r x + b_r + W_r h + bh_r),  z = sigmoid(U_z x + b_z + W_z h + bh_z)
    n = tanh(U_n x + b_n + r * (W_n h + bh_n)),  h_t = (1 - z) * n + z * h_{t-1}
'cho' (Cho et al. 2014, the lecture notes):
    r, z as above,  n = tanh(W_n (r * h_{t-1}) + U_n x + b_n + bh_n),
    h_t = (1 - z) * h_{t-1} + z * n

``h_add`` (B, T, n) is added to h_t right after it is computed, so that the derivative of a
loss with respect to it is the total dL/dh_t.
"""

import numpy as np

from .ref_lstm import flows, sigmoid


def gru_forward(W, U, b, b_h, x, h0, variant="torch", h_add=None):
    """Returns h (B, T, n) and gates {'r','z','n'} each (B, T, n)."""
    B, T, _ = x.shape
    n = W.shape[1]
    h = np.zeros((B, T, n), dtype=W.dtype)
    gates = {k: np.zeros((B, T, n), dtype=W.dtype) for k in "rzn"}
    W_r, W_z, W_n = W[:n], W[n:2 * n], W[2 * n:]
    h_prev = h0
    for t in range(T):
        ax = x[:, t] @ U.T + b  # (B, 3n)
        r = sigmoid(ax[:, :n] + h_prev @ W_r.T + b_h[:n])
        z = sigmoid(ax[:, n:2 * n] + h_prev @ W_z.T + b_h[n:2 * n])
        if variant == "torch":
            cand = np.tanh(ax[:, 2 * n:] + r * (h_prev @ W_n.T + b_h[2 * n:]))
            h_t = (1 - z) * cand + z * h_prev
        else:
            cand = np.tanh((r * h_prev) @ W_n.T + ax[:, 2 * n:] + b_h[2 * n:])
            h_t = (1 - z) * h_prev + z * cand
        if h_add is not None:
            h_t = h_t + h_add[:, t]
        gates["r"][:, t], gates["z"][:, t], gates["n"][:, t] = r, z, cand
        h[:, t] = h_t
        h_prev = h_t
    return h, gates


def gru_backward(W, U, b, b_h, x, h0, dh, variant="torch", truncate=0):
    """BPTT for upstream dh (B, T, n). Returns a dict: h (B, T, n) total dL/dh_t,
    h0 (B, n), x (B, T, m), params {W, U, b, b_h}."""
    B, T, m = x.shape
    n = W.shape[1]
    h, gates = gru_forward(W, U, b, b_h, x, h0, variant)
    hs = np.concatenate([h0[:, None], h], axis=1)  # (B, T+1, n)
    W_r, W_z, W_n = W[:n], W[n:2 * n], W[2 * n:]
    gh = np.zeros((B, T + 1, n), dtype=W.dtype)
    gh[:, 1:] = dh
    dW, dU = np.zeros_like(W), np.zeros_like(U)
    db, db_h = np.zeros_like(b), np.zeros_like(b_h)
    dx = np.zeros_like(x)
    for t in range(T, 0, -1):
        r, z, cand = (gates[k][:, t - 1] for k in "rzn")
        h_prev = hs[:, t - 1]
        dh_t = gh[:, t]
        if variant == "torch":
            hn = h_prev @ W_n.T + b_h[2 * n:]  # W_n h + bh_n
            da_n = dh_t * (1 - z) * (1 - cand ** 2)
            da_z = dh_t * (h_prev - cand) * z * (1 - z)
            da_r = da_n * hn * r * (1 - r)
            dax = np.concatenate([da_r, da_z, da_n], axis=1)  # x side (B, 3n)
            dah = np.concatenate([da_r, da_z, da_n * r], axis=1)  # h side (B, 3n)
            dW += dah.T @ h_prev
            back = dah @ W + dh_t * z
        else:
            da_n = dh_t * z * (1 - cand ** 2)
            da_z = dh_t * (cand - h_prev) * z * (1 - z)
            d_rh = da_n @ W_n  # dL/d(r * h_prev)
            da_r = d_rh * h_prev * r * (1 - r)
            dax = np.concatenate([da_r, da_z, da_n], axis=1)
            dah = dax
            dW[:n] += da_r.T @ h_prev
            dW[n:2 * n] += da_z.T @ h_prev
            dW[2 * n:] += da_n.T @ (r * h_prev)
            back = da_r @ W_r + da_z @ W_z + d_rh * r + dh_t * (1 - z)
        dU += dax.T @ x[:, t - 1]
        db += dax.sum(axis=0)
        db_h += dah.sum(axis=0)
        dx[:, t - 1] = dax @ U
        if flows(t, t - 1, truncate):
            gh[:, t - 1] += back
    return {"h": gh[:, 1:], "h0": gh[:, 0], "x": dx,
            "params": {"W": dW, "U": dU, "b": db, "b_h": db_h}}

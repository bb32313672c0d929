"""Slow, obvious NumPy twin of kernels/lstm.py: the LSTM written straight from its equations.

Batch-major like the public API: x (B, T, m), h and c (B, T, n). Per step t = 1..T:

    [a_i a_f a_g a_o] = U x_t + b + W h_{t-1} + b_h        (gate order i, f, g, o)
    peepholes:  a_i += P[0] * c_{t-1},  a_f += P[1] * c_{t-1}
    i = sigmoid(a_i)   f = sigmoid(a_f)   g = tanh(a_g)
    c_t = f * c_{t-1} + i * g         (coupled: i = 1 - f, and a_i is never used)
    peepholes:  a_o += P[2] * c_t
    o = sigmoid(a_o)   h_t = o * tanh(c_t)

``h_add`` / ``c_add`` (B, T, n) are added to h_t / c_t once step t is done (so h_t is made
from the unperturbed c_t): the derivative of a loss with respect to them is the total
gradient with respect to the state s_t = (h_t, c_t), one half held fixed while the other
moves -- what backward calls dL/dh_t and dL/dc_t. Tests check those by finite differences.
"""

import numpy as np


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def chunk(s, k):
    """Truncated-BPTT chunk of state s (steps 1..k are chunk 0, together with s_0)."""
    return 0 if s <= 0 else (s - 1) // k


def flows(t, s, k):
    return k == 0 or chunk(t, k) == chunk(s, k)


def lstm_forward(W, U, b, b_h, x, h0, c0, P=None, coupled=False, h_add=None, c_add=None):
    """Returns h (B, T, n), c (B, T, n) and gates {'i','f','g','o'} each (B, T, n)."""
    B, T, _ = x.shape
    n = W.shape[1]
    h = np.zeros((B, T, n), dtype=W.dtype)
    c = np.zeros((B, T, n), dtype=W.dtype)
    gates = {k: np.zeros((B, T, n), dtype=W.dtype) for k in "ifgo"}
    h_prev, c_prev = h0, c0
    for t in range(T):
        a = x[:, t] @ U.T + b + h_prev @ W.T + b_h  # (B, 4n)
        a_i, a_f, a_g, a_o = a[:, :n], a[:, n:2 * n], a[:, 2 * n:3 * n], a[:, 3 * n:]
        if P is not None:
            a_i = a_i + P[0] * c_prev
            a_f = a_f + P[1] * c_prev
        f = sigmoid(a_f)
        i = 1.0 - f if coupled else sigmoid(a_i)
        g = np.tanh(a_g)
        c_t = f * c_prev + i * g
        if P is not None:
            a_o = a_o + P[2] * c_t
        o = sigmoid(a_o)
        h_t = o * np.tanh(c_t)
        if c_add is not None:
            c_t = c_t + c_add[:, t]
        if h_add is not None:
            h_t = h_t + h_add[:, t]
        for k, v in zip("ifgo", (i, f, g, o), strict=True):
            gates[k][:, t] = v
        h[:, t], c[:, t] = h_t, c_t
        h_prev, c_prev = h_t, c_t
    return h, c, gates


def lstm_backward(W, U, b, b_h, x, h0, c0, dh, dc=None, P=None, coupled=False, truncate=0):
    """BPTT for upstream dh (and dc), each (B, T, n). Returns a dict:
    h, c (B, T, n) total dL/dh_t, dL/dc_t (state gradients, see above); h0, c0 (B, n);
    x (B, T, m); params {W, U, b, b_h[, P]}.
    """
    B, T, m = x.shape
    n = W.shape[1]
    h, c, gates = lstm_forward(W, U, b, b_h, x, h0, c0, P, coupled)
    hs = np.concatenate([h0[:, None], h], axis=1)  # (B, T+1, n): h_0..h_T
    cs = np.concatenate([c0[:, None], c], axis=1)  # (B, T+1, n): c_0..c_T
    gh = np.zeros((B, T + 1, n), dtype=W.dtype)
    gc = np.zeros((B, T + 1, n), dtype=W.dtype)
    gh[:, 1:] = dh
    if dc is not None:
        gc[:, 1:] = dc
    dW, dU, db = np.zeros_like(W), np.zeros_like(U), np.zeros_like(b)
    dP = np.zeros((3, n), dtype=W.dtype)
    dx = np.zeros_like(x)
    for t in range(T, 0, -1):
        i, f, g, o = (gates[k][:, t - 1] for k in "ifgo")
        c_prev, c_t = cs[:, t - 1], cs[:, t]
        th = np.tanh(c_t)
        dh_t = gh[:, t]
        da_o = dh_t * th * o * (1 - o)
        dc_t = gc[:, t] + dh_t * o * (1 - th ** 2)  # gc[:, t] is complete: add the path via h_t
        if P is not None:
            dc_t = dc_t + da_o * P[2]
        if coupled:
            da_i = np.zeros_like(i)
            da_f = dc_t * (c_prev - g) * f * (1 - f)
            da_g = dc_t * (1 - f) * (1 - g ** 2)
        else:
            da_i = dc_t * g * i * (1 - i)
            da_f = dc_t * c_prev * f * (1 - f)
            da_g = dc_t * i * (1 - g ** 2)
        da = np.concatenate([da_i, da_f, da_g, da_o], axis=1)  # (B, 4n)
        dW += da.T @ hs[:, t - 1]
        dU += da.T @ x[:, t - 1]
        db += da.sum(axis=0)
        dx[:, t - 1] = da @ U
        if P is not None:
            dP[0] += (da_i * c_prev).sum(axis=0)
            dP[1] += (da_f * c_prev).sum(axis=0)
            dP[2] += (da_o * c_t).sum(axis=0)
        if flows(t, t - 1, truncate):
            gh[:, t - 1] += da @ W
            back_c = dc_t * f
            if P is not None:
                back_c = back_c + da_i * P[0] + da_f * P[1]
            gc[:, t - 1] += back_c
    params = {"W": dW, "U": dU, "b": db, "b_h": db.copy()}
    if P is not None:
        params["P"] = dP
    return {"h": gh[:, 1:], "c": gc[:, 1:], "h0": gh[:, 0], "c0": gc[:, 0], "x": dx,
            "params": params}

"""Slow, obvious NumPy twin of kernels/indrnn.py: the IndRNN straight from its equations.

Batch-major like the public API: x (B, T, m), h (B, T, n). Per step t = 1..T:

    z_t = w * h_{t-1} + U x_t + b + b_h,   h_t = phi(z_t)      (* elementwise, w (n,))

``contract_forward`` / ``contract_backward`` take Params and are what the contract suite
(tests/contract) calls for this cell.
"""

import numpy as np

from .ref_rnn import PHI


def indrnn_forward(w, U, b, b_h, x, h0, act="tanh"):
    """Returns h (B, T, n) and pre-activations z (B, T, n)."""
    B, T, _ = x.shape
    f, _ = PHI[act]
    h = np.zeros((B, T, w.shape[0]))
    z = np.zeros_like(h)
    h_prev = h0
    for t in range(T):
        z[:, t] = w * h_prev + x[:, t] @ U.T + b + b_h
        h[:, t] = f(z[:, t])
        h_prev = h[:, t]
    return h, z


def indrnn_backward(w, U, b, b_h, x, h0, dh, act="tanh", truncate=0):
    """BPTT, one step at a time. Returns a dict: h (B, T, n) total dL/dh_t, h0 (B, n),
    x (B, T, m), params {w, U, b, b_h}."""
    B, T, _ = x.shape
    _, df = PHI[act]
    h, z = indrnn_forward(w, U, b, b_h, x, h0, act)
    hs = np.concatenate([h0[:, None], h], axis=1)  # (B, T+1, n): h_0..h_T
    gh = np.zeros_like(hs)
    gh[:, 1:] = dh
    dw, dU, db = np.zeros_like(w), np.zeros_like(U), np.zeros_like(b)
    dx = np.zeros_like(x)
    for t in range(T, 0, -1):
        delta = gh[:, t] * df(z[:, t - 1])  # dL/dz_t
        dw += (delta * hs[:, t - 1]).sum(axis=0)
        dU += delta.T @ x[:, t - 1]
        db += delta.sum(axis=0)
        dx[:, t - 1] = delta @ U
        same_chunk = truncate == 0 or t == 1 or (t - 1) // truncate == (t - 2) // truncate
        if same_chunk:
            gh[:, t - 1] += w * delta
    return {"h": gh[:, 1:], "h0": gh[:, 0], "x": dx,
            "params": {"w": dw, "U": dU, "b": db, "b_h": db.copy()}}


def step_jacobians(w, z, act="tanh"):
    """J_t = diag(w * phi'(z_t)), shape (B, T, n, n)."""
    _, df = PHI[act]
    B, T, n = z.shape
    J = np.zeros((B, T, n, n))
    for bi in range(B):
        for t in range(T):
            J[bi, t] = np.diag(w * df(z[bi, t]))
    return J


def _args(p):
    w = {k: np.asarray(v, dtype=np.float64) for k, v in p.weights.items()}
    return w["w"], w["U"], w["b"], w["b_h"]


def contract_forward(p, x, h0, c0=None):
    """{'h', 'gates'} for Params p (the contract suite's interface)."""
    h, _ = indrnn_forward(*_args(p), x, h0, p.options["activation"])
    return {"h": h, "gates": {"phi": h}}


def contract_backward(p, x, h0, dh, c0=None, truncate=0):
    """{'h', 'h0', 'x', 'params'} for Params p (the contract suite's interface)."""
    return indrnn_backward(*_args(p), x, h0, dh, p.options["activation"], truncate)


def contract_step_jacobians(p, x, h0, c0=None):
    """(B, T, n, n) step Jacobians for Params p."""
    _, z = indrnn_forward(*_args(p), x, h0, p.options["activation"])
    return step_jacobians(_args(p)[0], z, p.options["activation"])

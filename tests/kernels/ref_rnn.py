"""Slow, obvious NumPy twin of kernels/rnn.py and kernels/jacobian.py, for tests only.

Batch-major (B, T, n), one explicit loop over time, formulas written out as in the docs:
    z_t = W h_{t-1} + U x_t + b [+ Ws h_{t-d}],  h_t = k * h_{t-1} + a * phi(z_t)
"""

import numpy as np

PHI = {
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(float)),
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2),
    "linear": (lambda z: z, lambda z: np.ones_like(z)),
}


def forward(W, U, b, x, h0, carry, a, act, Ws=None, d=0):
    """Returns states s (B, T+1, n) with s[:, 0] = h0, and pre-activations z (B, T, n)."""
    B, T, _ = x.shape
    n = W.shape[0]
    f, _ = PHI[act]
    s = np.zeros((B, T + 1, n))
    z = np.zeros((B, T, n))
    s[:, 0] = h0
    for t in range(1, T + 1):
        zt = s[:, t - 1] @ W.T + x[:, t - 1] @ U.T + b
        if Ws is not None and t - d >= 0:
            zt = zt + s[:, t - d] @ Ws.T
        z[:, t - 1] = zt
        s[:, t] = carry * s[:, t - 1] + a * f(zt)
    return s, z


def backward(W, U, x, s, z, carry, a, act, dh, Ws=None, d=0, truncate=0):
    """Total dL/ds_t (B, T+1, n) and parameter gradients, by the chain rule step by step."""
    B, T, _ = x.shape
    _, df = PHI[act]

    def chunk(t):
        return 0 if t <= 0 else (t - 1) // truncate

    def flows(t, u):
        return truncate == 0 or chunk(t) == chunk(u)

    gs = np.zeros_like(s)
    gs[:, 1:] = dh
    dW, dU, db = np.zeros_like(W), np.zeros_like(U), np.zeros(W.shape[0])
    dWs = None if Ws is None else np.zeros_like(Ws)
    dx = np.zeros_like(x)
    for t in range(T, 0, -1):
        delta = gs[:, t] * a * df(z[:, t - 1])  # dL/dz_t
        if flows(t, t - 1):
            gs[:, t - 1] += carry * gs[:, t] + delta @ W
        if Ws is not None and t - d >= 0 and flows(t, t - d):
            gs[:, t - d] += delta @ Ws
        dW += delta.T @ s[:, t - 1]
        dU += delta.T @ x[:, t - 1]
        db += delta.sum(axis=0)
        dx[:, t - 1] = delta @ U
        if Ws is not None and t - d >= 0:
            dWs += delta.T @ s[:, t - d]
    return gs, dW, dU, db, dWs, dx


def step_jacobians(W, z, carry, a, act):
    """J_t = diag(k) + diag(a phi'(z_t)) W, shape (B, T, n, n)."""
    _, df = PHI[act]
    B, T, n = z.shape
    J = np.zeros((B, T, n, n))
    for bi in range(B):
        for t in range(T):
            J[bi, t] = np.diag(carry) + np.diag(a * df(z[bi, t])) @ W
    return J


def product_norms(J):
    """||J_T ... J_{T-l+1}||_2 for l = 1..T, from J (T, d, d)."""
    T, d, _ = J.shape
    P = np.eye(d)
    out = []
    for l in range(1, T + 1):
        P = P @ J[T - l]
        out.append(np.linalg.norm(P, 2) if np.all(np.isfinite(P)) else np.inf)
    return np.array(out)

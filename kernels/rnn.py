"""Vanilla RNN kernels: forward pass, backpropagation through time, step Jacobians.

The cell, per unit i (the lecture notes' leaky unit, with a_i = 1 / gamma_i):

    z_t = W h_{t-1} + U x_t + b  [+ W_s h_{t-d}   skip connection through time, when t-d >= 0]
    v_t = phi(z_t)
    h_t = k * h_{t-1} + a * v_t

The carry k is 1 - a for the leaky RNN (a = 1 gives the plain RNN h_t = phi(z_t)); the
residual form h_t = h_{t-1} + phi(z_t) is k = 1, a = 1. States are s_0 = h0, s_t = h_t.

Layout is time-major, (T, B, n); the public wrappers in ``gradlab`` take (B, T, n).
"""

import numpy as np

from ._flags import LINEAR, RELU, SIGMOID, TANH, kernel


@kernel
def phi(z, act):
    """The activation phi(z) for one scalar; ``act`` is a code from ``_flags``."""
    if act == TANH:
        return np.tanh(z)
    if act == RELU:
        return z if z > 0.0 else 0.0 * z
    if act == SIGMOID:
        if z >= 0.0:
            return 1.0 / (1.0 + np.exp(-z))
        e = np.exp(z)
        return e / (1.0 + e)
    return z


@kernel
def dphi(v, act):
    """phi'(z) written through v = phi(z) (so the forward pass need not keep z)."""
    if act == TANH:
        return 1.0 - v * v
    if act == RELU:
        return 1.0 if v > 0.0 else 0.0
    if act == SIGMOID:
        return v * (1.0 - v)
    if act == LINEAR:
        return 1.0
    return 1.0


@kernel
def chunk(s, k):
    """Truncated-BPTT chunk of state s: steps 1..k are chunk 0 (with s_0), k+1..2k chunk 1, ..."""
    if s <= 0:
        return 0
    return (s - 1) // k


@kernel
def flows(t, s, k):
    """True when gradient may flow from step t back to state s (k = 0: full BPTT)."""
    return k <= 0 or chunk(t, k) == chunk(s, k)


@kernel
def rnn_forward(W, U, b, Ws, delay, x, h0, carry, a, act):
    """Run the RNN over a batch of sequences.

    W (n, n), U (n, m), b (n,), Ws (n, n) or (0, 0) for no skip, delay d >= 2,
    x (T, B, m), h0 (B, n), carry k (n,), a (n,). Returns s (T+1, B, n) with s[0] = h0,
    and v = phi(z) (T, B, n).
    """
    T, B, m = x.shape
    n = W.shape[0]
    s = np.empty((T + 1, B, n), dtype=W.dtype)  # (T+1, B, n)
    v = np.empty((T, B, n), dtype=W.dtype)  # (T, B, n)
    s[0] = h0
    WT = np.ascontiguousarray(W.T)
    xu = np.dot(np.ascontiguousarray(x).reshape(T * B, m), np.ascontiguousarray(U.T))
    xu = xu.reshape(T, B, n)  # (T, B, n): U x_t, all steps in one product
    skip = Ws.shape[0] > 0
    WsT = np.ascontiguousarray(Ws.T)
    for t in range(1, T + 1):
        z = np.dot(s[t - 1], WT)  # (B, n)
        if skip and t - delay >= 0:
            z += np.dot(s[t - delay], WsT)
        for bi in range(B):
            for i in range(n):
                vi = phi(z[bi, i] + xu[t - 1, bi, i] + b[i], act)
                v[t - 1, bi, i] = vi
                s[t, bi, i] = carry[i] * s[t - 1, bi, i] + a[i] * vi
    return s, v


@kernel
def rnn_backward(W, U, Ws, delay, x, s, v, carry, a, act, dh, truncate):
    """Backpropagation through time.

    dh (T, B, n) is the upstream dL/dh_t on every output. ``truncate`` k > 0 cuts the
    sequence into chunks of k steps that gradient never crosses (k = 0: full BPTT).
    Returns gh (T+1, B, n) = total dL/ds_t (gh[0] is dL/dh0), dW, dU, db, dWs, dx (T, B, m).
    """
    T, B, m = x.shape
    n = W.shape[0]
    gh = np.zeros((T + 1, B, n), dtype=W.dtype)  # (T+1, B, n)
    gh[1:] = dh
    delta = np.empty((T, B, n), dtype=W.dtype)  # (T, B, n): dL/dz_t
    skip = Ws.shape[0] > 0
    for t in range(T, 0, -1):
        for bi in range(B):
            for i in range(n):
                delta[t - 1, bi, i] = gh[t, bi, i] * a[i] * dphi(v[t - 1, bi, i], act)
        if flows(t, t - 1, truncate):
            back = np.dot(delta[t - 1], W)  # (B, n)
            for bi in range(B):
                for i in range(n):
                    gh[t - 1, bi, i] += carry[i] * gh[t, bi, i] + back[bi, i]
        if skip and t - delay >= 0 and flows(t, t - delay, truncate):
            gh[t - delay] += np.dot(delta[t - 1], Ws)
    D = delta.reshape(T * B, n)
    DT = np.ascontiguousarray(D.T)  # (n, T*B)
    dW = np.dot(DT, np.ascontiguousarray(s[:T]).reshape(T * B, n))
    dU = np.dot(DT, np.ascontiguousarray(x).reshape(T * B, m))
    db = D.sum(axis=0)
    dWs = np.zeros_like(Ws)
    if skip and T - delay + 1 > 0:
        Dd = np.ascontiguousarray(delta[delay - 1 :]).reshape((T - delay + 1) * B, n)
        Sd = np.ascontiguousarray(s[: T - delay + 1]).reshape((T - delay + 1) * B, n)
        dWs = np.dot(np.ascontiguousarray(Dd.T), Sd)
    dx = np.dot(D, U).reshape(T, B, m)
    return gh, dW, dU, db, dWs, dx


@kernel
def rnn_step_jacobians(W, v, carry, a, act):
    """Step Jacobians J_t = dh_t/dh_{t-1} = diag(k) + diag(a phi'(z_t)) W, shape (T, B, n, n).

    (The skip path, when present, is a separate term and is not part of J_t.)
    """
    T, B, n = v.shape
    J = np.empty((T, B, n, n), dtype=W.dtype)
    for t in range(T):
        for bi in range(B):
            for i in range(n):
                g = a[i] * dphi(v[t, bi, i], act)
                for j in range(n):
                    J[t, bi, i, j] = g * W[i, j]
                J[t, bi, i, i] += carry[i]
    return J

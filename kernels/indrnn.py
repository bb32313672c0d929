"""IndRNN kernels (Li et al. 2018): forward sweep, BPTT sweep, step Jacobians.

Each unit i has one recurrent weight w_i, its own past only:

    z_t = w * h_{t-1} + U x_t + b + b_h        (* elementwise; w is a vector (n,))
    h_t = phi(z_t)

so dh_t/dh_{t-1} = diag(w * phi'(z_t)), and unit i's gradient over l steps is the product
of l factors w_i phi'(z). The input side U x_t + b + b_h is one matrix product for all steps,
done with NumPy by the caller (``gradlab.cells.indrnn``); these kernels are the sequential,
elementwise sweeps on one thread. Layout is time-major: x-side u (T, B, n), states
s (T+1, B, n) with s_0 = h0 and s_t = h_t.
"""

import numpy as np

from ._flags import kernel
from .rnn import dphi, phi  # the same activations, written once


@kernel
def _flows(t, k):
    """True when gradient flows from step t back to state t - 1 under truncation k
    (k = 0: full BPTT; chunks are steps 1..k, k+1..2k, ..., with s_0 in the first)."""
    if k <= 0 or t == 1:
        return True
    return (t - 1) // k == (t - 2) // k


@kernel
def indrnn_forward(w, u, h0, act):
    """States s (T+1, B, n): s[0] = h0, s[t] = phi(w * s[t-1] + u[t-1]).

    u (T, B, n) = U x_t + b + b_h for t = 1..T.
    """
    T, B, n = u.shape
    s = np.empty((T + 1, B, n), dtype=u.dtype)
    for bi in range(B):
        for i in range(n):
            s[0, bi, i] = h0[bi, i]
    for t in range(1, T + 1):
        for bi in range(B):
            for i in range(n):
                s[t, bi, i] = phi(w[i] * s[t - 1, bi, i] + u[t - 1, bi, i], act)
    return s


@kernel
def indrnn_backward(w, s, act, dh, truncate):
    """BPTT for upstream dh (T, B, n): (gh, delta).

    gh (T+1, B, n) = total dL/ds_t (gh[0] = dL/dh0); delta (T, B, n), delta[t-1] = dL/dz_t.
    gh[t-1] = dh[t-2] + w * delta_t, the second term only where the gradient flows
    (``truncate``: chunks of that many steps, 0 for full BPTT).
    """
    T, B, n = dh.shape
    gh = np.empty((T + 1, B, n), dtype=s.dtype)
    delta = np.empty((T, B, n), dtype=s.dtype)
    for bi in range(B):
        for i in range(n):
            gh[T, bi, i] = dh[T - 1, bi, i]
    for t in range(T, 0, -1):
        flow = _flows(t, truncate)
        for bi in range(B):
            for i in range(n):
                d = gh[t, bi, i] * dphi(s[t, bi, i], act)
                delta[t - 1, bi, i] = d
                up = dh[t - 2, bi, i] if t > 1 else 0.0
                gh[t - 1, bi, i] = up + w[i] * d if flow else up
    return gh, delta


@kernel
def indrnn_step_jacobians(w, s, act):
    """J_t = dh_t/dh_{t-1} = diag(w * phi'(z_t)) for t = 1..T, shape (T, B, n, n)."""
    T, B, n = s.shape[0] - 1, s.shape[1], s.shape[2]
    J = np.zeros((T, B, n, n), dtype=s.dtype)
    for t in range(T):
        for bi in range(B):
            for i in range(n):
                J[t, bi, i, i] = w[i] * dphi(s[t + 1, bi, i], act)
    return J

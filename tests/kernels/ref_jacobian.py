"""Slow, obvious twins of kernels/jacobian.py and kernels/lyapunov.py, for tests only.

- ``lag_products``: the explicit products P_l = J_T ... J_{T-l+1} in float64.
- ``log_singular_values_direct``: np.linalg.svd of those (fine while P_l is finite, but only
  singular values within ~1e-16 of the largest are meaningful).
- ``log_singular_values_exact``: the same products and SVDs in mpmath with hundreds of
  digits, from the exact float64 Jacobians: the true values, however small.
- ``graded_exact``: exact log singular values of diag(exp(delta)) T.
- ``lyapunov_exponents``: repeated np.linalg.qr, one step at a time.
"""

import mpmath as mp
import numpy as np


def lag_products(J):
    """[P_1, ..., P_T] with P_l = J[T-1] @ ... @ J[T-l]."""
    T = J.shape[0]
    P = np.eye(J.shape[1])
    out = []
    for l in range(1, T + 1):
        with np.errstate(all="ignore"):
            P = P @ J[T - l]
        out.append(P.copy())
    return out


def product_norms(J):
    """||P_l||_2 for l = 1..T; inf once the product has overflowed."""
    out = []
    for P in lag_products(J):
        out.append(np.linalg.norm(P, 2) if np.all(np.isfinite(P)) else np.inf)
    return np.array(out)


def log_singular_values_direct(J):
    """(T, d) log singular values of the explicit float64 products."""
    with np.errstate(divide="ignore"):
        return np.array([np.log(np.linalg.svd(P, compute_uv=False)) for P in lag_products(J)])


def _mp_log_svd(P):
    s = mp.svd_r(P, compute_uv=False)
    vals = sorted((float(mp.log(x)) if x > 0 else -np.inf for x in s), reverse=True)
    return np.array(vals)


def log_singular_values_exact(J, lags, dps=320):
    """{l: exact log singular values of P_l, descending} for the requested lags."""
    T = J.shape[0]
    with mp.workdps(dps):
        P = mp.eye(J.shape[1])
        out = {}
        for l in range(1, max(lags) + 1):
            P = P * mp.matrix(J[T - l].tolist())
            if l in lags:
                out[l] = _mp_log_svd(P)
    return out


def graded_exact(delta, T, dps):
    """Exact log singular values of diag(exp(delta)) T, descending."""
    with mp.workdps(dps):
        M = mp.matrix(T.tolist())
        for i, di in enumerate(delta):
            scale = mp.exp(mp.mpf(float(di)))
            for j in range(T.shape[1]):
                M[i, j] *= scale
        return _mp_log_svd(M)


def lyapunov_exponents(J, Q0, warmup=0):
    """Benettin's repeated QR, written out: mean log|diag R| after the warm-up, descending."""
    Q = Q0.copy()
    acc = np.zeros(Q0.shape[1])
    for t in range(J.shape[0]):
        Q, R = np.linalg.qr(J[t] @ Q)
        if t >= warmup:
            acc += np.log(np.abs(np.diag(R)))
    return np.sort(acc / (J.shape[0] - warmup))[::-1]

"""Lyapunov exponents of a trajectory by repeated QR (Benettin et al. 1980).

Given step Jacobians J_t = ds_t/ds_{t-1} (t = 1..T) and an orthonormal frame Q_0 (d, k):

    Q_t R_t = J_t Q_{t-1}          (reduced QR)
    lambda_i = 1/(T - w) sum_{t > w} log |R_t[i, i]|

The first w steps only turn the frame towards the leading directions. The exponents come
out in descending order; with k = d their sum is the mean of log|det J_t|.
"""

import numpy as np

from ._flags import kernel
from .jacobian import copy_matrix, descending_order, geqrf, orgqr


@kernel
def lyapunov_exponents(J, Q0, warmup):
    """(k,) exponents per step, natural log, descending. J (T, d, d), Q0 (d, k) orthonormal.

    Computed in float64. A non-finite Jacobian gives nan; a zero diagonal of R gives -inf.
    """
    T, d, _ = J.shape
    k = Q0.shape[1]
    Qt = np.empty((k, d), dtype=np.float64)  # Q^T
    for i in range(d):
        for j in range(k):
            Qt[j, i] = Q0[i, j]
    JT = np.empty((d, d), dtype=np.float64)
    tau = np.empty(k, dtype=np.float64)
    acc = np.zeros(k, dtype=np.float64)
    for t in range(T):
        for i in range(d):
            for j in range(d):
                JT[j, i] = J[t, i, j]
        A = np.dot(Qt, JT)  # (J Q)^T: LAPACK sees J Q (d, k)
        for i in range(k):
            for j in range(d):
                if not np.isfinite(A[i, j]):
                    return np.full(k, np.nan)
        geqrf(A, tau)
        if t >= warmup:
            for i in range(k):
                acc[i] += np.log(abs(A[i, i]))
        orgqr(A, tau)
        copy_matrix(Qt, A)
    lam = acc / (T - warmup)
    o = descending_order(lam)
    out = np.empty(k, dtype=np.float64)
    for i in range(k):
        out[i] = lam[o[i]]
    return out

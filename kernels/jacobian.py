"""Products of step Jacobians: norms of ds_T/ds_{T-l} for every lag l.

Given step Jacobians J_t = ds_t/ds_{t-1} for t = 1..T, the lag-l product is
P_l = J_T J_{T-1} ... J_{T-l+1} = ds_T/ds_{T-l}.
"""

import numpy as np

from ._flags import kernel


@kernel
def product_norms(J):
    """2-norms ||P_l||_2 for l = 1..T, shape (T,). J is (T, d, d), J[t-1] = ds_t/ds_{t-1}.

    Once the product overflows (inf or nan anywhere) every longer lag is inf.
    """
    T, d, _ = J.shape
    out = np.empty(T, dtype=J.dtype)
    P = np.eye(d, dtype=J.dtype)
    finite = True
    for l in range(1, T + 1):
        if finite:
            P = np.dot(P, np.ascontiguousarray(J[T - l]))
            finite = np.all(np.isfinite(P))
        if finite:
            out[l - 1] = np.linalg.svd(P)[1][0]
        else:
            out[l - 1] = np.inf
    return out

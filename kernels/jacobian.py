"""Products of step Jacobians: norms and log singular values of ds_T/ds_{T-l} for every lag l.

Given step Jacobians J_t = ds_t/ds_{t-1} for t = 1..T, the lag-l product is
P_l = J_T J_{T-1} ... J_{T-l+1} = ds_T/ds_{T-l}.

``product_norms`` multiplies the plain product (it overflows on long exploding runs).
The log-singular-value kernels never form P_l. They keep its transpose
M_l = P_l^T = J_{T-l+1}^T M_{l-1} as a graded decomposition

    M_l = Q_l diag(exp(delta_l)) T_l       Q orthogonal, T with unit rows, delta log-scales

(the "UDT" stable product of determinant quantum Monte Carlo) and update it per lag:

    A = J^T Q                                          # (d, d), moderate numbers
    order A's columns by delta_j + log||A_j||, descending  (pre-pivoting: Bai, Lee, Li and
        Xu 2011), then Householder QR  A[:, p] = Q' R   (scale-free: nothing overflows)
    M_l = Q' D' T',  D' = |diag R| exp(delta[p]),  T' = D'^-1 R diag(exp(delta[p])) T[p]

(T' rows are renormalised into delta). The singular values of M_l are those of the
row-graded matrix diag(exp(delta)) T with a well-conditioned T. When the log-scales span
less than ``SPAN`` it is rescaled by its largest scale and handed to LAPACK (dgesdd, values
only), which keeps the small singular values of such graded matrices to high relative
accuracy. A wider span would underflow, so the matrix is first made lower-triangular
(T = L Z^T with Z orthogonal, a step that row scaling does not change) and cut into
overlapping diagonal windows: rows more than ``MARGIN`` (in log) above or below a window
change its singular values only to second order, e^(-2 MARGIN), far below float64 precision.

Accuracy: every singular value, not only the largest, to about T * eps * cond(J_t) relative
(checked against exact products to 1e-9 in log down to 1e-250 and beyond). A singular step
(a zero row of J_t) leaves a rounding-level value (~1e-16 of the others), not an exact zero;
an all-zero J_t gives -inf. All arithmetic is float64 (float32 Jacobians are converted).
"""

import numpy as np
from numba import types

from ._flags import kernel

SPAN = 560.0  # widest log-range handed to one SVD (float64 keeps ~1e-300 relative)
WINDOW = 500.0  # log-range of the singular values one window reports
MARGIN = 30.0  # log-distance to the rows a window leaves out


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


# The LAPACK helpers numba itself binds for np.linalg (scipy's LAPACK; cache-safe): they
# size their own workspace. LAPACK is column-major, so a C buffer of shape (r, c) holding X
# is, for LAPACK, the (c, r) matrix X^T.
#
# Copies below are written as loops: numba takes seconds to compile each array-to-array
# slice assignment (and np.max, np.argsort), and these kernels should compile fast.
_F = types.CPointer(types.float64)
_gesdd = types.ExternalFunction("numba_ez_gesdd", types.intc(
    types.char, types.char, types.intp, types.intp, _F, types.intp, _F, _F, types.intp, _F,
    types.intp))
_geqrf = types.ExternalFunction("numba_ez_geqrf", types.intc(
    types.char, types.intp, types.intp, _F, types.intp, _F))
_orgqr = types.ExternalFunction("numba_ez_xxgqr", types.intc(
    types.char, types.intp, types.intp, types.intp, _F, types.intp, _F))
_D, _N = ord("d"), ord("N")


@kernel
def geqrf(a, tau):
    """In place: Householder QR of the (c, r) matrix LAPACK sees in the C buffer a (r, c),
    r <= c. Afterwards R[i, j] = a[j, i] (i <= j); the reflectors sit in the rest."""
    r, c = a.shape
    return _geqrf(_D, c, r, a.ctypes, c, tau.ctypes)


@kernel
def orgqr(a, tau):
    """In place: turn geqrf's reflectors in a (r, c) into Q (c, r); a then holds Q^T."""
    r, c = a.shape
    return _orgqr(_D, c, r, r, a.ctypes, c, tau.ctypes)


@kernel
def singular_values(a, s):
    """Singular values of the C buffer a (k, k) into s[:k], descending; a is destroyed.

    (LAPACK sees a^T, which has the same singular values.) Returns info, 0 if converged."""
    k = a.shape[0]
    unused = np.empty(1, dtype=np.float64)  # U and V^T are not computed
    return _gesdd(_D, _N, k, k, a.ctypes, k, s.ctypes, unused.ctypes, 1, unused.ctypes, 1)


@kernel
def descending_order(x):
    """Indices that sort x descending, ties in index order (insertion sort: x is often
    almost sorted here)."""
    n = x.shape[0]
    o = np.arange(n)
    for i in range(1, n):
        k = o[i]
        v = x[k]
        j = i - 1
        while j >= 0 and x[o[j]] < v:
            o[j + 1] = o[j]
            j -= 1
        o[j + 1] = k
    return o


@kernel
def copy_rows(dst, src, rows):
    """dst[i] = src[rows[i]] for every row i of dst."""
    for i in range(dst.shape[0]):
        for j in range(dst.shape[1]):
            dst[i, j] = src[rows[i], j]


@kernel
def copy_matrix(dst, src):
    """dst[:] = src for (r, c) arrays."""
    for i in range(dst.shape[0]):
        for j in range(dst.shape[1]):
            dst[i, j] = src[i, j]


@kernel
def graded_log_singular_values(delta, T, out, span=SPAN, window=WINDOW, margin=MARGIN):
    """log singular values of diag(exp(delta)) T into out (d,), descending.

    delta (d,) may hold -inf (an exactly zero row -> -inf); T (d, d) has unit rows.
    A LAPACK failure gives nan. ``span``, ``window`` and ``margin`` (log units) are the
    module's constants; tests shrink them to exercise the windows on small matrices.
    """
    d = delta.shape[0]
    o = descending_order(delta)
    k = 0  # rows with a finite scale come first
    while k < d and delta[o[k]] > -np.inf:
        k += 1
    for i in range(k, d):
        out[i] = -np.inf
    if k == 0:
        return
    ds = np.empty(d, dtype=np.float64)
    for i in range(d):
        ds[i] = delta[o[i]]
    s = np.empty(d, dtype=np.float64)
    top = ds[0]
    if top - ds[k - 1] <= span:
        a = np.empty((d, d), dtype=np.float64)  # a[j, i] = S[i, j]: LAPACK sees S itself
        for i in range(d):
            f = np.exp(ds[i] - top) if i < k else 0.0
            for j in range(d):
                a[j, i] = f * T[o[i], j]
        info = singular_values(a, s)
        for i in range(k):
            out[i] = np.log(s[i]) + top if info == 0 else np.nan
        return
    # Wide span: lower-triangular L with T[o] = L Z^T, then overlapping windows.
    L = np.empty((d, d), dtype=np.float64)
    copy_rows(L, T, o)  # LAPACK sees T[o]^T = Z R, so T[o] = R^T Z^T and L = R^T
    tau = np.empty(d, dtype=np.float64)
    geqrf(L, tau)  # now L[i, j] = R[j, i] for j <= i: the lower triangle is L
    i0 = 0
    while i0 < k:
        i1 = i0 + 1
        while i1 < k and ds[i0] - ds[i1] <= window:
            i1 += 1
        lo = i0
        while lo > 0 and ds[lo - 1] < ds[i0] + margin:
            lo -= 1
        hi = i1
        while hi < k and ds[hi] >= ds[i1 - 1] - margin:
            hi += 1
        w = hi - lo
        a = np.zeros((w, w), dtype=np.float64)  # a[j, i] = entry (i, j) of the window
        for i in range(w):
            f = np.exp(ds[lo + i] - ds[lo])
            for j in range(i + 1):
                a[j, i] = f * L[lo + i, lo + j]
        info = singular_values(a, s)
        for i in range(i0, i1):
            out[i] = np.log(s[i - lo]) + ds[lo] if info == 0 else np.nan
        i0 = i1


@kernel
def new_state(d):
    """The graded decomposition of M_0 = I as (Qt, T, delta): Q^T, unit-row T, log-scales."""
    return np.eye(d), np.eye(d), np.zeros(d)


@kernel
def propagate(J, l0, Qt, T, delta, deltas, Ts):
    """Advance the graded product from lag l0 - 1 to lags l0 .. l0 + c - 1, c = len(deltas).

    J (L, d, d) with J[t-1] = ds_t/ds_{t-1}; lag l multiplies by J[L - l]^T. (Qt, T, delta)
    from ``new_state`` is updated in place; deltas (c, d) and Ts (c, d, d) receive each
    lag's log-scales and unit-row T. Returns the number of lags done: fewer than c when a
    Jacobian is not finite (the lags from there on are left untouched).
    """
    L, d, _ = J.shape
    Jl = np.empty((d, d), dtype=np.float64)
    V = np.empty((d, d), dtype=np.float64)
    R = np.empty((d, d), dtype=np.float64)
    Tp = np.zeros((d, d), dtype=np.float64)
    Tperm = np.empty((d, d), dtype=np.float64)
    tau = np.empty(d, dtype=np.float64)
    nu = np.empty(d, dtype=np.float64)
    dp = np.empty(d, dtype=np.float64)
    e = np.empty(d, dtype=np.float64)
    for c in range(deltas.shape[0]):
        copy_matrix(Jl, J[L - l0 - c])
        G = np.dot(Qt, Jl)  # A^T with A = J^T Q: row j of G is column j of A
        for j in range(d):  # nu_j = delta_j + log ||A_j||, scaled so huge entries are fine
            m = 0.0
            for i in range(d):
                g = abs(G[j, i])
                if not np.isfinite(g):
                    return c
                m = max(m, g)
            sq = 0.0
            if m > 0.0:
                for i in range(d):
                    sq += (G[j, i] / m) ** 2
            nu[j] = delta[j] + np.log(m) + 0.5 * np.log(sq)
        p = descending_order(nu)
        copy_rows(V, G, p)  # LAPACK sees A[:, p]
        copy_rows(Tperm, T, p)
        for i in range(d):
            dp[i] = delta[p[i]]
        geqrf(V, tau)
        for i in range(d):
            for j in range(i, d):
                R[i, j] = V[j, i]
        orgqr(V, tau)
        copy_matrix(Qt, V)
        top, bottom = -np.inf, np.inf
        for i in range(d):
            top = max(top, dp[i])
            bottom = min(bottom, dp[i])
        narrow = top - bottom < 600.0  # then exp(dp - top) stays normal: factor it
        for i in range(d):
            e[i] = np.exp(dp[i] - top)
        for i in range(d):
            r = abs(R[i, i])
            for j in range(d):
                Tp[i, j] = 0.0
            if r == 0.0 or dp[i] == -np.inf:
                Tp[i, i] = 1.0  # a zero row: any unit row will do
                dp[i] = -np.inf
                continue
            if narrow:
                f = 1.0 / (r * e[i])
                for j in range(i, d):
                    Tp[i, j] = R[i, j] * f * e[j]
            else:
                for j in range(i, d):
                    Tp[i, j] = R[i, j] / r * np.exp(min(dp[j] - dp[i], 700.0))
            dp[i] += np.log(r)
        Tn = np.dot(Tp, Tperm)  # T' T[p]
        for i in range(d):
            sq = 0.0
            for j in range(d):
                sq += Tn[i, j] * Tn[i, j]
            rn = np.sqrt(sq)
            for j in range(d):
                Tn[i, j] /= rn
                T[i, j] = Tn[i, j]
                Ts[c, i, j] = Tn[i, j]
            delta[i] = dp[i] + np.log(rn)
            deltas[c, i] = delta[i]
    return deltas.shape[0]


@kernel
def graded_spectra(deltas, Ts, out):
    """out[c] = log singular values of diag(exp(deltas[c])) Ts[c], for every c."""
    for c in range(deltas.shape[0]):
        graded_log_singular_values(deltas[c], Ts[c], out[c])


@kernel
def log_singular_values(J, chunk=64):
    """log singular values of every lag product, (L, d): row l-1 holds P_l = J_L ... J_{L-l+1},
    descending. J (L, d, d), J[t-1] = ds_t/ds_{t-1}; float64 throughout.

    Once a Jacobian is not finite, that lag and every longer one are nan.
    """
    L, d, _ = J.shape
    out = np.empty((L, d), dtype=np.float64)
    Qt, T, delta = new_state(d)
    deltas = np.empty((chunk, d), dtype=np.float64)
    Ts = np.empty((chunk, d, d), dtype=np.float64)
    for l0 in range(1, L + 1, chunk):
        c = min(chunk, L + 1 - l0)
        done = propagate(J, l0, Qt, T, delta, deltas[:c], Ts[:c])
        graded_spectra(deltas[:done], Ts[:done], out[l0 - 1:l0 - 1 + done])
        if done < c:
            for i in range(l0 - 1 + done, L):
                for j in range(d):
                    out[i, j] = np.nan
            break
    return out

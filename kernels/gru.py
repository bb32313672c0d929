"""GRU kernels: forward pass, backpropagation through time, step Jacobians.

Gate order (r, z, n) as in PyTorch. W (3n, n) = [W_r; W_z; W_n], U (3n, m) likewise; the
input-side bias b and the recurrent-side bias b_h (3n,) stay separate because the 'torch'
variant gates only the recurrent side of n. Per step t = 1..T:

    r = sigmoid(U_r x + b_r + W_r h_{t-1} + bh_r),  z = sigmoid(U_z x + b_z + W_z h_{t-1} + bh_z)
  'torch' (PyTorch / cuDNN; reset after the product):
    n = tanh(U_n x + b_n + r (W_n h_{t-1} + bh_n)),      h_t = (1 - z) n + z h_{t-1}
  'cho' (Cho et al. 2014, the lecture notes; reset before the product):
    n = tanh(W_n (r h_{t-1}) + U_n x + b_n + bh_n),      h_t = (1 - z) h_{t-1} + z n

Layout is time-major, (T, B, ...); the public wrappers in ``gradlab.cells.gru`` take
(B, T, ...). U x for every step is one matrix product; each step does one pass over W
(two, W_rz then W_n, for 'cho', whose second product needs r first), split between a pair
of threads as in ``kernels.rnn``; the parameter gradients are matrix products after the
backward sweep. Activations from ``kernels.activations``.
"""

import numpy as np

from ._flags import kernel
from .activations import sigmoid_vec, tanh_vec
from .rnn import flows, input_products, quiet, rows_product, time_halves
from .sync import meet, split


@quiet
def gru_forward_setup(W, U, x, h0, cho):
    """The arrays of a forward pass: h (T+1, B, n) with h[0] = h0; a (T, B, 3n) holding
    U x_t (the sweep adds b and replaces it by the gates); aux (T, B, n); the transposed blocks of W
    whose rows the sweep reads (W^T (n, 3n), or for 'cho' W_rz^T (n, 2n), and W_n^T); and the
    pieces' partial products P (2, 2, B, 3n) and Q (2, 2, B, n) (``kernels.rnn.forward_sweep``
    explains the scheme)."""
    T, B, m = x.shape
    n = W.shape[1]
    G = 3 * n
    h = np.empty((T + 1, B, n), dtype=W.dtype)  # (T+1, B, n)
    a = np.empty((T, B, G), dtype=W.dtype)  # (T, B, 3n)
    aux = np.empty((T, B, n), dtype=W.dtype)  # (T, B, n)
    h[0] = h0
    input_products(U, x, a)
    WT = np.ascontiguousarray(W[: 2 * n].T) if cho else np.ascontiguousarray(W.T)
    WnT = np.ascontiguousarray(W[2 * n :].T)  # (n, n): W_n^T ('cho')
    P = np.zeros((2, 2, B, G), dtype=W.dtype)  # (parity, piece, B, 3n); zero: a lone piece
    Q = np.zeros((2, 2, B, n), dtype=W.dtype)  # (parity, piece, B, n): W_n (r h) ('cho')
    return h, a, aux, WT, WnT, P, Q


@kernel
def gru_forward_sweep(WT, WnT, b, b_h, h, a, aux, cho, P, Q, pieces, flags, part, parts):
    """Steps 1..T of the forward pass, as thread ``part`` of ``parts`` (1 or 2).

    Each thread owns a piece of the units (see ``kernels.rnn.forward_sweep``): it multiplies
    its units of h_{t-1} into a partial W h_{t-1}, and after a meeting finishes r, z, n and
    h_t on its units. 'cho' needs all of r h_{t-1} before W_n (r h_{t-1}), so it meets twice
    per step. Returns False if the pair was aborted.
    """
    T, B, G = a.shape
    n = G // 3
    count = 0
    for t in range(1, T + 1):
        Pt = P[t % 2]
        Qt = Q[t % 2]
        for q in range(part, pieces, parts):
            j0, j1 = split(n, q, pieces)
            rows_product(WT, h[t - 1], Pt[q], False, j0, j1)  # W h_{t-1} ('cho': r, z rows)
        count += 1
        if not meet(flags, part, parts, count):
            return False
        for q in range(part, pieces, parts):
            lo, hi = split(n, q, pieces)
            w = hi - lo
            for bi in range(B):
                ab = a[t - 1, bi]
                ar = ab[lo:hi]  # U_r x + b_r until replaced by r; likewise z, n
                az = ab[n + lo : n + hi]
                an = ab[2 * n + lo : 2 * n + hi]
                hb = h[t - 1, bi, lo:hi]
                vb = aux[t - 1, bi, lo:hi]
                for k in range(2):
                    zk = ab[k * n + lo : k * n + hi]  # U x_t until replaced by the gate
                    bx = b[k * n + lo : k * n + hi]
                    bk = b_h[k * n + lo : k * n + hi]
                    p0 = Pt[0, bi, k * n + lo : k * n + hi]
                    p1 = Pt[1, bi, k * n + lo : k * n + hi]
                    for j in range(w):
                        zk[j] = sigmoid_vec((p0[j] + p1[j]) + ((zk[j] + bx[j]) + bk[j]))
                bxn = b[2 * n + lo : 2 * n + hi]
                if cho:
                    for j in range(w):
                        vb[j] = ar[j] * hb[j]  # r h_{t-1}
                else:
                    bn = b_h[2 * n + lo : 2 * n + hi]
                    p0 = Pt[0, bi, 2 * n + lo : 2 * n + hi]
                    p1 = Pt[1, bi, 2 * n + lo : 2 * n + hi]
                    ho = h[t, bi, lo:hi]
                    for j in range(w):
                        hn = (p0[j] + p1[j]) + bn[j]  # W_n h_{t-1} + bh_n
                        vb[j] = hn
                        nn = tanh_vec((an[j] + bxn[j]) + ar[j] * hn)
                        an[j] = nn
                        ho[j] = (1.0 - az[j]) * nn + az[j] * hb[j]
            if cho:
                rows_product(WnT, aux[t - 1], Qt[q], False, lo, hi)  # W_n (r h), our rows
        if not cho:
            continue
        count += 1
        if not meet(flags, part, parts, count):
            return False
        for q in range(part, pieces, parts):
            lo, hi = split(n, q, pieces)
            w = hi - lo
            bn = b_h[2 * n + lo : 2 * n + hi]
            bxn = b[2 * n + lo : 2 * n + hi]
            for bi in range(B):
                ab = a[t - 1, bi]
                az = ab[n + lo : n + hi]
                an = ab[2 * n + lo : 2 * n + hi]
                hb = h[t - 1, bi, lo:hi]
                ho = h[t, bi, lo:hi]
                q0 = Qt[0, bi, lo:hi]
                q1 = Qt[1, bi, lo:hi]
                for j in range(w):
                    nn = tanh_vec(((q0[j] + q1[j]) + (an[j] + bxn[j])) + bn[j])
                    an[j] = nn
                    ho[j] = (1.0 - az[j]) * hb[j] + az[j] * nn
    return True


def gru_backward_setup(W, U, x, dh, cho):
    """The arrays a backward pass fills: gh (T+1, B, n) started from dh; Drz (T, B, 2n), Dn and
    Dnr (T, B, n) (Dnr empty for 'cho'); dx (T, B, m); W_rz, W_n as contiguous blocks; the
    sweep's partial products P, Q (2, 2, B, n); and each half of time's dW, dU, db, db_h."""
    T, B, m = x.shape
    n = W.shape[1]
    G = 3 * n
    dt = W.dtype
    gh = np.empty((T + 1, B, n), dtype=dt)  # (T+1, B, n)
    gh[0] = 0.0
    gh[1:] = dh
    # dL/d(pre-activations): Drz for a_r, a_z (both sides); Dn for a_n on the x side;
    # Dnr = r * Dn, the h side of a_n ('torch' only: for 'cho' both sides are Dn)
    Drz = np.empty((T, B, 2 * n), dtype=dt)  # (T, B, 2n)
    Dn = np.empty((T, B, n), dtype=dt)  # (T, B, n)
    Dnr = np.empty((0 if cho else T, B, n), dtype=dt)  # (T, B, n)
    dx = np.empty((T, B, m), dtype=dt)  # (T, B, m)
    P = np.zeros((2, 2, B, n), dtype=dt)  # (parity, piece, B, n): partial W^T D_t
    Q = np.zeros((2, 2, B, n), dtype=dt)  # (parity, piece, B, n): partial W_n^T da_n ('cho')
    return (gh, Drz, Dn, Dnr, dx, np.ascontiguousarray(W[: 2 * n]),
            np.ascontiguousarray(W[2 * n :]), P, Q, np.zeros((2, G, n), dt),
            np.zeros((2, G, m), dt), np.zeros((2, G), dt), np.zeros((2, G), dt))


@kernel
def gru_backward_sweep(Wrz, Wn, h, a, aux, cho, truncate, gh, Drz, Dn, Dnr, P, Q, pieces,
                       flags, part, parts):
    """The sequential part of BPTT, steps T..1, as thread ``part`` of ``parts``.

    Each thread owns a piece of the units: it computes the pre-activation gradients on them,
    multiplies them into partial products over all units, and after a meeting adds both
    pieces' partials on its own units of gh[t-1]. 'cho' needs all of W_n^T da_n before
    da_r, so it meets twice per step. Returns False if aborted.
    """
    T, B, G = a.shape
    n = G // 3
    drh = np.empty((B, n), dtype=a.dtype)  # (B, n): dL/d(r h_{t-1}) ('cho'), our units
    count = 0
    for t in range(T, 0, -1):
        flow = flows(t, t - 1, truncate)
        Pt = P[t % 2]
        Qt = Q[t % 2]
        for q in range(part, pieces, parts):
            lo, hi = split(n, q, pieces)
            w = hi - lo
            for bi in range(B):
                ab = a[t - 1, bi]
                r_ = ab[lo:hi]
                z_ = ab[n + lo : n + hi]
                n_ = ab[2 * n + lo : 2 * n + hi]
                hb = h[t - 1, bi, lo:hi]
                g = gh[t, bi, lo:hi]
                dr = Drz[t - 1, bi, lo:hi]
                dz = Drz[t - 1, bi, n + lo : n + hi]
                dn = Dn[t - 1, bi, lo:hi]
                if cho:
                    for j in range(w):
                        zg = z_[j]
                        nn = n_[j]
                        dn[j] = g[j] * zg * (1.0 - nn * nn)
                        dz[j] = g[j] * (nn - hb[j]) * zg * (1.0 - zg)
                else:
                    hn = aux[t - 1, bi, lo:hi]
                    dnr = Dnr[t - 1, bi, lo:hi]
                    for j in range(w):
                        r = r_[j]
                        zg = z_[j]
                        nn = n_[j]
                        dan = g[j] * (1.0 - zg) * (1.0 - nn * nn)
                        dr[j] = dan * hn[j] * r * (1.0 - r)
                        dz[j] = g[j] * (hb[j] - nn) * zg * (1.0 - zg)
                        dn[j] = dan
                        dnr[j] = dan * r
            if cho:
                rows_product(Wn, Dn[t - 1], Qt[q], False, lo, hi)  # W_n^T da_n, our rows
            elif flow:  # W_rz^T [da_r da_z] + W_n^T (r da_n), our rows
                rows_product(Wrz, Drz[t - 1], Pt[q], False, lo, hi)
                rows_product(Wrz, Drz[t - 1], Pt[q], True, n + lo, n + hi)
                rows_product(Wn, Dnr[t - 1], Pt[q], True, lo, hi)
        count += 1
        if not meet(flags, part, parts, count):
            return False
        if cho:
            for q in range(part, pieces, parts):
                lo, hi = split(n, q, pieces)
                w = hi - lo
                for bi in range(B):
                    r_ = a[t - 1, bi, lo:hi]
                    hb = h[t - 1, bi, lo:hi]
                    dr = Drz[t - 1, bi, lo:hi]
                    d_ = drh[bi, lo:hi]
                    q0 = Qt[0, bi, lo:hi]
                    q1 = Qt[1, bi, lo:hi]
                    for j in range(w):
                        r = r_[j]
                        d_[j] = q0[j] + q1[j]
                        dr[j] = d_[j] * hb[j] * r * (1.0 - r)
                if flow:  # W_rz^T [da_r da_z], our rows
                    rows_product(Wrz, Drz[t - 1], Pt[q], False, lo, hi)
                    rows_product(Wrz, Drz[t - 1], Pt[q], True, n + lo, n + hi)
            count += 1
            if not meet(flags, part, parts, count):
                return False
        if not flow:
            continue
        for q in range(part, pieces, parts):
            lo, hi = split(n, q, pieces)
            w = hi - lo
            for bi in range(B):
                ab = a[t - 1, bi]
                r_ = ab[lo:hi]
                z_ = ab[n + lo : n + hi]
                g = gh[t, bi, lo:hi]
                gp = gh[t - 1, bi, lo:hi]
                p0 = Pt[0, bi, lo:hi]
                p1 = Pt[1, bi, lo:hi]
                if cho:
                    d_ = drh[bi, lo:hi]
                    for j in range(w):
                        gp[j] += ((p0[j] + p1[j]) + d_[j] * r_[j]) + g[j] * (1.0 - z_[j])
                else:
                    for j in range(w):
                        gp[j] += (p0[j] + p1[j]) + g[j] * z_[j]
    return True


@quiet
def gru_backward_grads(U, x, h, aux, Drz, Dn, Dnr, cho, lo, hi, dW, dU, db, db_h, dx):
    """Steps lo..hi's share of dW, dU (written), db, db_h (added to) and dx[lo-1 .. hi-1]."""
    T, B, m = x.shape
    n = h.shape[2]
    k = hi - lo + 1
    H = h[lo - 1 : hi].reshape(k * B, n)
    X = x[lo - 1 : hi].reshape(k * B, m)
    Drz2 = Drz[lo - 1 : hi].reshape(k * B, 2 * n)
    Dn2 = Dn[lo - 1 : hi].reshape(k * B, n)
    np.dot(Drz2.T, H, out=dW[: 2 * n])
    if cho:  # W_n meets r h_{t-1}
        np.dot(Dn2.T, aux[lo - 1 : hi].reshape(k * B, n), out=dW[2 * n :])
    else:
        np.dot(Dnr[lo - 1 : hi].reshape(k * B, n).T, H, out=dW[2 * n :])
    np.dot(Drz2.T, X, out=dU[: 2 * n])
    np.dot(Dn2.T, X, out=dU[2 * n :])
    dxs = dx[lo - 1 : hi].reshape(k * B, m)
    np.dot(Drz2, U[: 2 * n], out=dxs)
    dxs += Dn2 @ U[2 * n :]
    db[: 2 * n] += Drz2.sum(axis=0)
    db[2 * n :] += Dn2.sum(axis=0)
    db_h[: 2 * n] = db[: 2 * n]
    if cho:
        db_h[2 * n :] = db[2 * n :]
    else:
        db_h[2 * n :] += Dnr[lo - 1 : hi].reshape(k * B, n).sum(axis=0)


def gru_backward_part(U, Wrz, Wn, x, h, a, aux, cho, truncate, gh, Drz, Dn, Dnr, dx, P, Q, dW2,
                      dU2, db2, db_h2, pieces, flags, part, parts):
    """Thread ``part`` of ``parts`` of a backward pass: the sweep (split by units), then the
    parameter gradients (split by time, half q into dW2[q], ...; the caller adds the two).
    Returns False if aborted."""
    if not gru_backward_sweep(Wrz, Wn, h, a, aux, cho, truncate, gh, Drz, Dn, Dnr, P, Q, pieces,
                              flags, part, parts):
        return False
    for q, lo, hi in time_halves(x.shape[0], pieces, part, parts):
        gru_backward_grads(U, x, h, aux, Drz, Dn, Dnr, cho, lo, hi, dW2[q], dU2[q], db2[q],
                           db_h2[q], dx)
    return True


@kernel
def gru_step_jacobians(W, h, a, aux, cho):
    """Step Jacobians J_t = dh_t/dh_{t-1}, shape (T, B, n, n).

    'torch': J = diag(z) + diag(k_z) W_z + diag(k_n) (diag(r) W_n + diag(hn r') W_r),
             k_z = (h_{t-1} - n) z', k_n = (1 - z) n', hn = W_n h_{t-1} + bh_n.
    'cho':   J = diag(1 - z) + diag(k_z) W_z + diag(k_n) W_n (diag(r) + diag(h_{t-1} r') W_r),
             k_z = (n - h_{t-1}) z', k_n = z n'.
    Here r' = r (1 - r), z' = z (1 - z), n' = 1 - n^2.
    """
    T, B, G = a.shape
    n = G // 3
    J = np.empty((T, B, n, n), dtype=W.dtype)
    M = np.empty((n, n), dtype=W.dtype)
    Wn = np.ascontiguousarray(W[2 * n :])
    for t in range(T):
        for bi in range(B):
            ab = a[t, bi]
            hb = h[t, bi]
            Jt = J[t, bi]
            if cho:
                for l_ in range(n):
                    r = ab[l_]
                    kr = hb[l_] * r * (1.0 - r)
                    for k in range(n):
                        M[l_, k] = kr * W[l_, k]
                    M[l_, l_] += r
                A = np.dot(Wn, M)  # W_n (diag(r) + diag(h r') W_r)
                for j in range(n):
                    zg = ab[n + j]
                    nn = ab[2 * n + j]
                    kz = (nn - hb[j]) * zg * (1.0 - zg)
                    kn = zg * (1.0 - nn * nn)
                    for k in range(n):
                        Jt[j, k] = kz * W[n + j, k] + kn * A[j, k]
                    Jt[j, j] += 1.0 - zg
            else:
                for j in range(n):
                    r = ab[j]
                    zg = ab[n + j]
                    nn = ab[2 * n + j]
                    kz = (hb[j] - nn) * zg * (1.0 - zg)
                    kn = (1.0 - zg) * (1.0 - nn * nn)
                    kr = kn * aux[t, bi, j] * r * (1.0 - r)
                    kw = kn * r
                    for k in range(n):
                        Jt[j, k] = kz * W[n + j, k] + kw * W[2 * n + j, k] + kr * W[j, k]
                    Jt[j, j] += zg
    return J

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
(two, W_rz then W_n, for 'cho', whose second product needs r first); the parameter
gradients are matrix products after the backward sweep. Activations as in kernels.lstm.
"""

import numpy as np

from ._flags import kernel
from .lstm import sigmoid_range, tanh_range
from .rnn import flows, rows_product


@kernel
def gru_forward(W, U, b, b_h, x, h0, cho):
    """Run the GRU over a batch of sequences.

    W (3n, n), U (3n, m), b, b_h (3n,), x (T, B, m), h0 (B, n); ``cho`` picks the variant.
    Returns h (T+1, B, n) with h[0] = h0; a (T, B, 3n), the gates [r z n]; and aux
    (T, B, n), what backward needs besides: W_n h_{t-1} + bh_n ('torch') or r h_{t-1} ('cho').
    """
    T, B, m = x.shape
    n = W.shape[1]
    G = 3 * n
    h = np.empty((T + 1, B, n), dtype=W.dtype)  # (T+1, B, n)
    a = np.empty((T, B, G), dtype=W.dtype)  # (T, B, 3n)
    aux = np.empty((T, B, n), dtype=W.dtype)  # (T, B, n)
    h[0] = h0
    # U x_t + b for every step in one product, written where the gates will go
    a2 = a.reshape(T * B, G)
    np.dot(np.ascontiguousarray(x).reshape(T * B, m), U.T, a2)
    for r in range(T * B):
        for j in range(G):
            a2[r, j] += b[j]
    if cho:
        WT = np.ascontiguousarray(W[: 2 * n].T)  # (n, 2n): W_rz^T
    else:
        WT = np.ascontiguousarray(W.T)  # (n, 3n): W^T
    WnT = np.ascontiguousarray(W[2 * n :].T)  # (n, n): W_n^T ('cho')
    z = np.empty((B, G), dtype=W.dtype)  # (B, 3n): pre-activations of one step
    zn = np.empty((B, n), dtype=W.dtype)  # (B, n): W_n (r h) ('cho')
    u = np.empty(G)  # scratch for the activations
    e = np.empty(G)
    kb = np.empty(G)
    for t in range(1, T + 1):
        hp = h[t - 1]
        rows_product(WT, hp, z, False)  # z = W h_{t-1} ('cho': only the r, z blocks)
        for bi in range(B):
            zb = z[bi]
            ab = a[t - 1, bi]
            for j in range(2 * n):
                zb[j] += ab[j] + b_h[j]
            sigmoid_range(zb, ab, 0, 2 * n, u, e, kb)  # r, z
            vb = aux[t - 1, bi]
            hb = hp[bi]
            if cho:
                for j in range(n):
                    vb[j] = ab[j] * hb[j]  # r h_{t-1}
            else:
                for j in range(n):
                    hn = zb[2 * n + j] + b_h[2 * n + j]  # W_n h_{t-1} + bh_n
                    vb[j] = hn
                    zb[2 * n + j] = ab[2 * n + j] + ab[j] * hn
        if cho:
            rows_product(WnT, aux[t - 1], zn, False)  # W_n (r h_{t-1})
            for bi in range(B):
                zb = z[bi]
                ab = a[t - 1, bi]
                for j in range(n):
                    zb[2 * n + j] = zn[bi, j] + ab[2 * n + j] + b_h[2 * n + j]
        for bi in range(B):
            ab = a[t - 1, bi]
            tanh_range(z[bi], ab, 2 * n, G, u, e, kb)  # n
            hb = hp[bi]
            ho = h[t, bi]
            if cho:
                for j in range(n):
                    zg = ab[n + j]
                    ho[j] = (1.0 - zg) * hb[j] + zg * ab[2 * n + j]
            else:
                for j in range(n):
                    zg = ab[n + j]
                    ho[j] = (1.0 - zg) * ab[2 * n + j] + zg * hb[j]
    return h, a, aux


@kernel
def gru_backward(W, U, x, h, a, aux, cho, dh, truncate):
    """Backpropagation through time.

    h, a, aux as returned by ``gru_forward``; dh (T, B, n) upstream dL/dh_t. ``truncate``
    k > 0 cuts the sequence into chunks of k steps that no gradient crosses (0: full BPTT).
    Returns gh (T+1, B, n) the total dL/dh_t (gh[0] = dL/dh0), dW (3n, n), dU (3n, m),
    db, db_h (3n,) and dx (T, B, m).
    """
    T, B, m = x.shape
    n = W.shape[1]
    G = 3 * n
    gh = np.empty((T + 1, B, n), dtype=W.dtype)  # (T+1, B, n)
    gh[0] = 0.0
    gh[1:] = dh
    # dL/d(pre-activations): Drz for a_r, a_z (both sides); Dn for a_n on the x side;
    # Dnr = r * Dn, the h side of a_n ('torch' only: for 'cho' both sides are Dn)
    Drz = np.empty((T, B, 2 * n), dtype=W.dtype)  # (T, B, 2n)
    Dn = np.empty((T, B, n), dtype=W.dtype)  # (T, B, n)
    Dnr = np.empty((0 if cho else T, B, n), dtype=W.dtype)  # (T, B, n)
    back = np.empty((B, n), dtype=W.dtype)  # (B, n)
    drh = np.empty((B, n), dtype=W.dtype)  # (B, n): dL/d(r h_{t-1}) ('cho')
    Wrz = np.ascontiguousarray(W[: 2 * n])  # (2n, n)
    Wn = np.ascontiguousarray(W[2 * n :])  # (n, n)
    for t in range(T, 0, -1):
        flow = flows(t, t - 1, truncate)
        if cho:
            for bi in range(B):
                ab = a[t - 1, bi]
                hb = h[t - 1, bi]
                g = gh[t, bi]
                drz = Drz[t - 1, bi]
                dn = Dn[t - 1, bi]
                for j in range(n):
                    zg = ab[n + j]
                    nn = ab[2 * n + j]
                    dn[j] = g[j] * zg * (1.0 - nn * nn)
                    drz[n + j] = g[j] * (nn - hb[j]) * zg * (1.0 - zg)
            rows_product(Wn, Dn[t - 1], drh, False)  # W_n^T da_n
            for bi in range(B):
                ab = a[t - 1, bi]
                hb = h[t - 1, bi]
                drz = Drz[t - 1, bi]
                for j in range(n):
                    r = ab[j]
                    drz[j] = drh[bi, j] * hb[j] * r * (1.0 - r)
            if flow:
                rows_product(Wrz, Drz[t - 1], back, False)  # W_rz^T [da_r da_z]
                for bi in range(B):
                    ab = a[t - 1, bi]
                    g = gh[t, bi]
                    gp = gh[t - 1, bi]
                    for j in range(n):
                        gp[j] += (back[bi, j] + drh[bi, j] * ab[j]) + g[j] * (1.0 - ab[n + j])
        else:
            for bi in range(B):
                ab = a[t - 1, bi]
                hb = h[t - 1, bi]
                hn = aux[t - 1, bi]
                g = gh[t, bi]
                drz = Drz[t - 1, bi]
                dn = Dn[t - 1, bi]
                dnr = Dnr[t - 1, bi]
                for j in range(n):
                    r = ab[j]
                    zg = ab[n + j]
                    nn = ab[2 * n + j]
                    dan = g[j] * (1.0 - zg) * (1.0 - nn * nn)
                    drz[j] = dan * hn[j] * r * (1.0 - r)
                    drz[n + j] = g[j] * (hb[j] - nn) * zg * (1.0 - zg)
                    dn[j] = dan
                    dnr[j] = dan * r
            if flow:
                rows_product(Wrz, Drz[t - 1], back, False)  # W_rz^T [da_r da_z]
                rows_product(Wn, Dnr[t - 1], back, True)  # + W_n^T (r da_n)
                for bi in range(B):
                    ab = a[t - 1, bi]
                    g = gh[t, bi]
                    gp = gh[t - 1, bi]
                    for j in range(n):
                        gp[j] += back[bi, j] + g[j] * ab[n + j]
    H = h[:T].reshape(T * B, n)
    X = np.ascontiguousarray(x).reshape(T * B, m)
    Drz2 = Drz.reshape(T * B, 2 * n)
    Dn2 = Dn.reshape(T * B, n)
    dW = np.empty((G, n), dtype=W.dtype)
    dU = np.empty((G, m), dtype=W.dtype)
    dW[: 2 * n] = np.dot(Drz2.T, H)
    if cho:
        dW[2 * n :] = np.dot(Dn2.T, aux.reshape(T * B, n))  # W_n multiplies r h_{t-1}
    else:
        dW[2 * n :] = np.dot(Dnr.reshape(T * B, n).T, H)
    dU[: 2 * n] = np.dot(Drz2.T, X)
    dU[2 * n :] = np.dot(Dn2.T, X)
    dx = np.dot(Drz2, np.ascontiguousarray(U[: 2 * n]))
    dx += np.dot(Dn2, np.ascontiguousarray(U[2 * n :]))
    db = np.zeros(G, dtype=W.dtype)
    db_h = np.zeros(G, dtype=W.dtype)
    for r in range(T * B):
        for j in range(2 * n):
            db[j] += Drz2[r, j]
        for j in range(n):
            db[2 * n + j] += Dn2[r, j]
    db_h[: 2 * n] = db[: 2 * n]
    if cho:
        db_h[2 * n :] = db[2 * n :]
    else:
        Dnr2 = Dnr.reshape(T * B, n)
        for r in range(T * B):
            for j in range(n):
                db_h[2 * n + j] += Dnr2[r, j]
    return gh, dW, dU, db, db_h, dx.reshape(T, B, m)


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

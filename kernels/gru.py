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
(B, T, ...). Each step does one pass over W (two, W_rz then W_n, for 'cho', whose second
product needs r first) with ``kernels.fast.matvec``'s blocked products, split between a pair of
threads by units as in ``kernels.rnn``; the parameter gradients are matrix products after
the backward sweep. Activations from ``kernels.activations``.
"""

import numpy as np

from ._flags import kernel
from .activations import sigmoid_vec, tanh_vec
from .fast.grads import outer_sum, row_sums, rows_times
from .fast.matvec import blocked_pieces, blocked_product, other_rows_product, own_rows_product
from .fast.sync import publish, shared_empty, split, unit_columns, wait
from .rnn import flows, flush, outputs, quiet, time_halves


def gru_forward_blocks(W, U, cho, pieces):
    """For each piece, in blocks (``kernels.fast.matvec``), the columns of W^T that give its units'
    gates from h_{t-1} (for 'cho' only r and z, with W_n^T for W_n (r h_{t-1}) apart: Mn,
    else an empty stand-in) and of U^T for U x_t: (Mf, Mu, Mn)."""
    n = W.shape[1]
    Mf = blocked_pieces(W.T, unit_columns(n, pieces, 2 if cho else 3))  # (pieces, nb, n, width)
    Mu = blocked_pieces(U.T, unit_columns(n, pieces, 3))  # (pieces, nb, m, width)
    if cho:
        Mn = blocked_pieces(W[2 * n:].T, unit_columns(n, pieces, 1))  # (pieces, nb, n, width)
    else:
        Mn = np.zeros((pieces, 1, 0, Mf.shape[3]), W.dtype)
    return Mf, Mu, Mn


def gru_forward_setup(Mf, Mu, Mn, x, h0):
    """The arrays of a forward pass with blocks from ``gru_forward_blocks``: h (T+1, B, n)
    with h[0] = h0; a (T, B, 3n) for the gates; aux (T, B, n); each piece's product buffers:
    O for W h, X for U x (the n gate keeps the two sides apart), N for 'cho''s W_n (r h)
    (``kernels.rnn`` explains the scheme)."""
    T, B, m = x.shape
    pieces, n, dt = Mf.shape[0], Mf.shape[2], Mf.dtype
    h = shared_empty((T + 1, B, n), dt, pieces)  # (T+1, B, n)
    h[0] = h0
    return (h, shared_empty((T, B, 3 * n), dt, pieces), shared_empty((T, B, n), dt, pieces),
            outputs(Mf, B), outputs(Mu, B), outputs(Mn, B))


@kernel
def gru_forward_sweep(Mf, Mu, Mn, b, b_h, x, h, a, aux, cho, O, X, N, pieces, flags, part,
                      parts):
    """Steps 1..T of the forward pass, as thread ``part`` of ``parts`` (1 or 2).

    Each thread owns a piece of the units (see ``kernels.rnn.forward_sweep``): it sums its
    units' gate inputs over its own units of h_{t-1} (and U x_t), then, once the partner has
    published its half of h_{t-1}, over the partner's; then r, z, n and h_t on its units,
    which it publishes. 'cho' needs all of r h_{t-1} before W_n (r h_{t-1}), so the halves of
    r h_{t-1} cross too: two publications per step. Returns False if the pair was aborted.
    """
    T, B, G = a.shape
    n = G // 3
    m = x.shape[2]
    per = 2 if cho else 1  # publications per step; h_t is number per * t
    for t in range(1, T + 1):
        for q in range(part, pieces, parts):  # our units of h_{t-1}, and U x_t
            lo, hi = split(n, q, pieces)
            for bi in range(B):
                own_rows_product(Mf[q], h[t - 1, bi], O[q, bi], False, lo, hi, n, 1)
                blocked_product(Mu[q], x[t - 1, bi], X[q, bi], False, 0, m)
        if not wait(flags, part, parts, per * (t - 1)):  # the partner's units of h_{t-1}
            return False
        for q in range(part, pieces, parts):
            lo, hi = split(n, q, pieces)
            w = hi - lo
            for bi in range(B):
                o = O[q, bi]  # (2w or 3w,): W h_{t-1} for our units, gate by gate
                xo = X[q, bi]  # (3w,): U x_t likewise
                other_rows_product(Mf[q], h[t - 1, bi], o, lo, hi, n, 1)
                ab = a[t - 1, bi]
                ar = ab[lo:hi]
                az = ab[n + lo : n + hi]
                an = ab[2 * n + lo : 2 * n + hi]
                hb = h[t - 1, bi, lo:hi]
                vb = aux[t - 1, bi, lo:hi]
                for k in range(2):  # r, z
                    ak = ab[k * n + lo : k * n + hi]
                    bx = b[k * n + lo : k * n + hi]
                    bk = b_h[k * n + lo : k * n + hi]
                    ok = o[k * w : (k + 1) * w]
                    xk = xo[k * w : (k + 1) * w]
                    for j in range(w):
                        ak[j] = sigmoid_vec(ok[j] + ((xk[j] + bx[j]) + bk[j]))
                bxn = b[2 * n + lo : 2 * n + hi]
                xn = xo[2 * w : 3 * w]
                if cho:
                    for j in range(w):
                        vb[j] = ar[j] * hb[j]  # r h_{t-1}
                else:
                    bn = b_h[2 * n + lo : 2 * n + hi]
                    on = o[2 * w : 3 * w]
                    ho = h[t, bi, lo:hi]
                    for j in range(w):
                        hn = on[j] + bn[j]  # W_n h_{t-1} + bh_n
                        vb[j] = hn
                        nn = tanh_vec((xn[j] + bxn[j]) + ar[j] * hn)
                        an[j] = nn
                        ho[j] = (1.0 - az[j]) * nn + az[j] * hb[j]
        if not cho:
            publish(flags, part, parts, t)  # our units of h_t
            continue
        publish(flags, part, parts, 2 * t - 1)  # our units of r h_{t-1}
        for q in range(part, pieces, parts):
            lo, hi = split(n, q, pieces)
            for bi in range(B):
                own_rows_product(Mn[q], aux[t - 1, bi], N[q, bi], False, lo, hi, n, 1)
        if not wait(flags, part, parts, 2 * t - 1):  # the partner's units of r h_{t-1}
            return False
        for q in range(part, pieces, parts):
            lo, hi = split(n, q, pieces)
            w = hi - lo
            bn = b_h[2 * n + lo : 2 * n + hi]
            bxn = b[2 * n + lo : 2 * n + hi]
            for bi in range(B):
                nb_ = N[q, bi]
                other_rows_product(Mn[q], aux[t - 1, bi], nb_, lo, hi, n, 1)
                ab = a[t - 1, bi]
                az = ab[n + lo : n + hi]
                an = ab[2 * n + lo : 2 * n + hi]
                xn = X[q, bi, 2 * w : 3 * w]
                hb = h[t - 1, bi, lo:hi]
                ho = h[t, bi, lo:hi]
                for j in range(w):
                    nn = tanh_vec((nb_[j] + (xn[j] + bxn[j])) + bn[j])
                    an[j] = nn
                    ho[j] = (1.0 - az[j]) * hb[j] + az[j] * nn
        publish(flags, part, parts, 2 * t)  # our units of h_t
    return True


def gru_backward_blocks(W, pieces):
    """For each piece, the columns of W_rz and W_n that give its units' share of gh[t-1], in
    blocks: Mrz (pieces, nb, 2n, width), Mn (pieces, nb, n, width)."""
    n = W.shape[1]
    units = unit_columns(n, pieces, 1)
    return blocked_pieces(W[: 2 * n], units), blocked_pieces(W[2 * n :], units)


def gru_backward_setup(Mrz, x, dh, cho):
    """The arrays a backward pass with blocks from ``gru_backward_blocks`` fills: gh
    (T+1, B, n) started from dh; Drz (T, B, 2n), Dn and Dnr (T, B, n) (Dnr empty for 'cho');
    dx (T, B, m); each piece's product buffers O (W^T D) and N (W_n^T da_n, 'cho'); and each
    half of time's dW, dU, db, db_h."""
    T, B, m = x.shape
    pieces, n, dt = Mrz.shape[0], Mrz.shape[2] // 2, Mrz.dtype
    G = 3 * n
    gh = shared_empty((T + 1, B, n), dt, pieces)  # (T+1, B, n)
    gh[0] = 0.0
    gh[1:] = dh
    # dL/d(pre-activations): Drz for a_r, a_z (both sides); Dn for a_n on the x side;
    # Dnr = r * Dn, the h side of a_n ('torch' only: for 'cho' both sides are Dn)
    return (gh,
            shared_empty((T, B, 2 * n), dt, pieces),  # Drz (T, B, 2n)
            shared_empty((T, B, n), dt, pieces),  # Dn (T, B, n)
            shared_empty((0 if cho else T, B, n), dt, pieces),  # Dnr (T, B, n)
            np.empty((T, B, m), dtype=dt),  # dx (T, B, m)
            outputs(Mrz, B), outputs(Mrz, B),
            np.zeros((2, G, n), dt), np.zeros((2, G, m), dt), np.zeros((2, G), dt),
            np.zeros((2, G), dt))


@kernel
def gru_backward_sweep(Mrz, Mn, h, a, aux, cho, truncate, gh, Drz, Dn, Dnr, O, N, pieces,
                       flags, part, parts):
    """The sequential part of BPTT, steps T..1, as thread ``part`` of ``parts``.

    Each thread owns a piece of the units: it computes the pre-activation gradients on them
    and publishes them, sums its units' share of W^T D_t over its own units' rows, then,
    once the partner's have arrived, over the partner's, into gh[t-1]. 'cho' needs all of
    W_n^T da_n before da_r, so it publishes twice per step. Before returning it waits for
    the partner's last gradients, which the parameter gradients read. Returns False if
    aborted.
    """
    T, B, G = a.shape
    n = G // 3
    per = 2 if cho else 1
    tiny = np.finfo(gh.dtype).tiny  # carried gradients below it become 0 (``rnn.flush``)
    for t in range(T, 0, -1):
        count = per * (T - t + 1)  # our D_t complete
        flow = flows(t, t - 1, truncate)
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
        if cho:  # W_n^T da_n on our units, then da_r
            publish(flags, part, parts, count - 1)  # our units of da_n (and da_z)
            for q in range(part, pieces, parts):
                lo, hi = split(n, q, pieces)
                for bi in range(B):
                    own_rows_product(Mn[q], Dn[t - 1, bi], N[q, bi], False, lo, hi, n, 1)
            if not wait(flags, part, parts, count - 1):
                return False
            for q in range(part, pieces, parts):
                lo, hi = split(n, q, pieces)
                w = hi - lo
                for bi in range(B):
                    d_ = N[q, bi]  # becomes dL/d(r h_{t-1}) on our units
                    other_rows_product(Mn[q], Dn[t - 1, bi], d_, lo, hi, n, 1)
                    r_ = a[t - 1, bi, lo:hi]
                    hb = h[t - 1, bi, lo:hi]
                    dr = Drz[t - 1, bi, lo:hi]
                    for j in range(w):
                        r = r_[j]
                        dr[j] = d_[j] * hb[j] * r * (1.0 - r)
        publish(flags, part, parts, count)  # our units of D_t
        if not flow:  # cut here: gh[t-1] keeps the upstream value
            continue
        for q in range(part, pieces, parts):  # W^T D_t over our units' gate rows
            lo, hi = split(n, q, pieces)
            for bi in range(B):
                o = O[q, bi]
                own_rows_product(Mrz[q], Drz[t - 1, bi], o, False, lo, hi, n, 2)
                if not cho:
                    own_rows_product(Mn[q], Dnr[t - 1, bi], o, True, lo, hi, n, 1)
        if not wait(flags, part, parts, count):  # the partner's units of D_t
            return False
        for q in range(part, pieces, parts):
            lo, hi = split(n, q, pieces)
            w = hi - lo
            for bi in range(B):
                o = O[q, bi]
                other_rows_product(Mrz[q], Drz[t - 1, bi], o, lo, hi, n, 2)
                if not cho:
                    other_rows_product(Mn[q], Dnr[t - 1, bi], o, lo, hi, n, 1)
                ab = a[t - 1, bi]
                r_ = ab[lo:hi]
                z_ = ab[n + lo : n + hi]
                g = gh[t, bi, lo:hi]
                gp = gh[t - 1, bi, lo:hi]
                if cho:
                    d_ = N[q, bi]
                    for j in range(w):
                        gp[j] = flush(gp[j] + ((o[j] + d_[j] * r_[j]) + g[j] * (1.0 - z_[j])),
                                      tiny)
                else:
                    for j in range(w):
                        gp[j] = flush(gp[j] + (o[j] + g[j] * z_[j]), tiny)
    return wait(flags, part, parts, per * T)  # every unit's gradients, for the products


@quiet
def gru_backward_grads(U, x, h, aux, Drz, Dn, Dnr, cho, lo, hi, dW, dU, db, db_h, dx, flags):
    """Steps lo..hi's share of dW, dU, db, db_h (added to) and dx[lo-1 .. hi-1], summed in a
    fixed order on this thread (``kernels.fast.grads``). Returns False if aborted."""
    T, B, m = x.shape
    n = h.shape[2]
    k = hi - lo + 1
    H = h[lo - 1 : hi].reshape(k * B, n)
    X = x[lo - 1 : hi].reshape(k * B, m)
    Drz2 = Drz[lo - 1 : hi].reshape(k * B, 2 * n)
    Dn2 = Dn[lo - 1 : hi].reshape(k * B, n)
    Dnr2 = Dn2 if cho else Dnr[lo - 1 : hi].reshape(k * B, n)
    # W_n meets r h_{t-1} ('cho') or, through r, h_{t-1} ('torch')
    Hn = aux[lo - 1 : hi].reshape(k * B, n) if cho else H
    dxs = dx[lo - 1 : hi].reshape(k * B, m)
    dxn = np.empty_like(dxs)
    if not (outer_sum(Drz2, H, dW[: 2 * n], flags) and outer_sum(Dnr2, Hn, dW[2 * n :], flags)
            and outer_sum(Drz2, X, dU[: 2 * n], flags) and outer_sum(Dn2, X, dU[2 * n :], flags)
            and rows_times(Drz2, U[: 2 * n], dxs, flags)
            and rows_times(Dn2, U[2 * n :], dxn, flags)):
        return False
    dxs += dxn
    row_sums(Drz2, db[: 2 * n])
    row_sums(Dn2, db[2 * n :])
    row_sums(Drz2, db_h[: 2 * n])
    row_sums(Dnr2, db_h[2 * n :])
    return True


def gru_backward_part(U, Mrz, Mn, x, h, a, aux, cho, truncate, gh, Drz, Dn, Dnr, dx, O, N, dW2,
                      dU2, db2, db_h2, pieces, flags, part, parts):
    """Thread ``part`` of ``parts`` of a backward pass: the sweep (split by units), then the
    parameter gradients (split by time, half q into dW2[q], ...; the caller adds the two).
    Returns False if aborted."""
    if not gru_backward_sweep(Mrz, Mn, h, a, aux, cho, truncate, gh, Drz, Dn, Dnr, O, N, pieces,
                              flags, part, parts):
        return False
    for q, lo, hi in time_halves(x.shape[0], pieces, part, parts):
        if not gru_backward_grads(U, x, h, aux, Drz, Dn, Dnr, cho, lo, hi, dW2[q], dU2[q],
                                  db2[q], db_h2[q], dx, flags):
            return False
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

"""LSTM kernels: forward pass, backpropagation through time, step Jacobians.

Gate order (i, f, g, o) as in PyTorch. Per step t = 1..T, per unit (all products elementwise
except W h and U x):

    [a_i a_f a_g a_o] = W h_{t-1} + U x_t + b          (b = bias_ih + bias_hh)
    peepholes:  a_i += P[0] c_{t-1},  a_f += P[1] c_{t-1}
    i = sigmoid(a_i),  f = sigmoid(a_f),  g = tanh(a_g)
    c_t = f c_{t-1} + i g                               (coupled: i = 1 - f; a_i unused)
    peepholes:  a_o += P[2] c_t
    o = sigmoid(a_o),  h_t = o tanh(c_t)

States are s_t = (h_t, c_t). Layout is time-major, (T, B, ...); the public wrappers in
``gradlab.cells.lstm`` take (B, T, ...). Each step does one recurrent product (with U x_t);
the parameter gradients are one product each after the backward sweep.

The recurrent products are ``kernels.fast.matvec``'s blocked products (one pass over W per step,
no BLAS call, no per-step allocation), split between a pair of threads by units as in
``kernels.rnn``; the activations are ``kernels.activations``' vectorisable tanh and sigmoid.
"""

import numpy as np

from ._flags import kernel
from .activations import sigmoid_vec, tanh_into, tanh_vec
from .fast.grads import outer_sum, row_sums, rows_times
from .fast.matvec import blocked_pieces, blocked_product, other_rows_product, own_rows_product
from .fast.sync import publish, shared_empty, split, unit_columns, wait
from .rnn import flows, flush, outputs, quiet, time_halves

# --- the LSTM ------------------------------------------------------------------------------


def lstm_forward_blocks(W, U, pieces):
    """For each piece, the columns of W^T and U^T that give its units' four gates, in blocks
    (``kernels.fast.matvec``): Mf (pieces, nb, n, width), Mu (pieces, nb, m, width)."""
    cols = unit_columns(W.shape[1], pieces, 4)
    return blocked_pieces(W.T, cols), blocked_pieces(U.T, cols)


def lstm_forward_setup(Mf, x, h0, c0):
    """The arrays of a forward pass with blocks Mf (``lstm_forward_blocks``): h, c (T+1, B, n)
    with h[0] = h0, c[0] = c0; a (T, B, 4n) for the gate activations; each piece's product
    buffer O (``kernels.rnn`` explains the scheme)."""
    T, B, m = x.shape
    pieces, n, dt = Mf.shape[0], Mf.shape[2], Mf.dtype
    h = shared_empty((T + 1, B, n), dt, pieces)  # (T+1, B, n)
    c = shared_empty((T + 1, B, n), dt, pieces)  # (T+1, B, n)
    h[0] = h0
    c[0] = c0
    return h, c, shared_empty((T, B, 4 * n), dt, pieces), outputs(Mf, B)


@kernel
def lstm_forward_sweep(Mf, Mu, b, Pp, x, h, c, a, peep, coupled, O, pieces, flags, part, parts):
    """Steps 1..T of the forward pass, as thread ``part`` of ``parts`` (1 or 2).

    b (4n,) the summed biases, Pp (3, n) peephole weights (read only when ``peep``), the rest
    from ``lstm_forward_setup``. As in ``kernels.rnn.forward_sweep``: each thread owns a piece
    of the units and computes their four gates' pre-activations from its own units of
    h_{t-1} and U x_t, then, once the partner has published its half of h_{t-1}, from the
    partner's units; then c_t and h_t of its units, which it publishes. Fills a (T, B, 4n)
    with the gate activations. Returns False if the pair was aborted.
    """
    T, B, G = a.shape
    n = G // 4
    m = x.shape[2]
    for t in range(1, T + 1):
        for q in range(part, pieces, parts):  # our units of h_{t-1}, and U x_t
            lo, hi = split(n, q, pieces)
            for bi in range(B):
                own_rows_product(Mf[q], h[t - 1, bi], O[q, bi], False, lo, hi, n, 1)
                blocked_product(Mu[q], x[t - 1, bi], O[q, bi], True, 0, m)
        if not wait(flags, part, parts, t - 1):  # the partner's units of h_{t-1}
            return False
        for q in range(part, pieces, parts):
            lo, hi = split(n, q, pieces)
            w = hi - lo
            for bi in range(B):
                z = O[q, bi]  # (4w,): our units' pre-activations, gate by gate
                other_rows_product(Mf[q], h[t - 1, bi], z, lo, hi, n, 1)
                ab = a[t - 1, bi]
                ai = ab[lo:hi]
                af = ab[n + lo : n + hi]
                ag = ab[2 * n + lo : 2 * n + hi]
                ao = ab[3 * n + lo : 3 * n + hi]
                for k in range(4):  # pre-activations into a, activated in place below
                    zk = z[k * w : (k + 1) * w]
                    bk = b[k * n + lo : k * n + hi]
                    ak = ab[k * n + lo : k * n + hi]
                    for j in range(w):
                        ak[j] = zk[j] + bk[j]
                cp = c[t - 1, bi, lo:hi]
                cn = c[t, bi, lo:hi]
                hb = h[t, bi, lo:hi]
                if peep:
                    P0 = Pp[0, lo:hi]
                    P1 = Pp[1, lo:hi]
                    for j in range(w):
                        ai[j] += P0[j] * cp[j]
                        af[j] += P1[j] * cp[j]
                if coupled:
                    for j in range(w):
                        f = sigmoid_vec(af[j])
                        af[j] = f
                        ai[j] = 1.0 - f
                else:
                    for j in range(w):
                        ai[j] = sigmoid_vec(ai[j])
                        af[j] = sigmoid_vec(af[j])
                for j in range(w):
                    g = tanh_vec(ag[j])
                    ag[j] = g
                    cn[j] = af[j] * cp[j] + ai[j] * g
                if peep:  # o reads c_t
                    P2 = Pp[2, lo:hi]
                    for j in range(w):
                        ao[j] += P2[j] * cn[j]
                for j in range(w):
                    o = sigmoid_vec(ao[j])
                    ao[j] = o
                    hb[j] = o * tanh_vec(cn[j])
        publish(flags, part, parts, t)  # our units of h_t
    return True


def lstm_backward_blocks(W, pieces):
    """For each piece, the columns of W that give its units' W^T D_t, in blocks (pieces, nb,
    4n, width)."""
    return blocked_pieces(W, unit_columns(W.shape[1], pieces, 1))


def lstm_backward_setup(Mb, x, dh, dc):
    """The arrays a backward pass with blocks Mb (``lstm_backward_blocks``) fills: gh, gc
    (T+1, B, n) started from the upstream dh, dc (dc of shape (0, B, n): none); D (T, B, 4n);
    dx (T, B, m); each piece's product buffer; and for each half of time its own dW, dU,
    db, dP (2, ...)."""
    T, B, m = x.shape
    pieces, n, dt = Mb.shape[0], Mb.shape[2] // 4, Mb.dtype
    G = 4 * n
    gh = shared_empty((T + 1, B, n), dt, pieces)  # (T+1, B, n)
    gc = shared_empty((T + 1, B, n), dt, pieces)  # (T+1, B, n)
    gh[0] = 0.0
    gh[1:] = dh
    gc[0] = 0.0
    if dc.shape[0] > 0:
        gc[1:] = dc
    else:
        gc[1:] = 0.0
    return (gh, gc,
            shared_empty((T, B, G), dt, pieces),  # D (T, B, 4n): dL/d[a_i a_f a_g a_o]
            np.empty((T, B, m), dtype=dt),  # dx (T, B, m)
            outputs(Mb, B), np.zeros((2, G, n), dt), np.zeros((2, G, m), dt),
            np.zeros((2, G), dt), np.zeros((2, 3, n), dt))


@kernel
def lstm_backward_sweep(Mb, Pp, h, c, a, peep, coupled, truncate, gh, gc, D, O, pieces,
                        flags, part, parts):
    """The sequential part of BPTT, steps T..1, as thread ``part`` of ``parts``.

    Each thread owns a piece of the units: from its part of gh[t], gc[t] it computes
    D_t = dL/d[a_i a_f a_g a_o] on its units and publishes it; it sums W^T D_t for its units
    over its own four blocks of D_t, then, once the partner's have arrived, over the
    partner's, into gh[t-1]; and updates gc[t-1] on its units. Before returning it waits for
    the partner's last D_t, which the parameter gradients read. Returns False if aborted.
    """
    T, B, G = a.shape
    n = G // 4
    tb = np.empty(n, dtype=a.dtype)  # tanh(c_t) on our units, recomputed
    dcs = np.empty((B, n), dtype=a.dtype)  # (B, n): dL/dc_t including the path via h_t
    tiny = np.finfo(gh.dtype).tiny  # carried gradients below it become 0 (``rnn.flush``)
    for t in range(T, 0, -1):
        count = T - t + 1
        for q in range(part, pieces, parts):
            lo, hi = split(n, q, pieces)
            w = hi - lo
            for bi in range(B):
                ab = a[t - 1, bi]
                cp = c[t - 1, bi]
                d = D[t - 1, bi]
                ghb = gh[t, bi]
                gcb = gc[t, bi]
                dcb = dcs[bi]
                tanh_into(c[t, bi, lo:hi], tb[:w])
                for k in range(w):
                    j = lo + k
                    o = ab[3 * n + j]
                    th = tb[k]
                    dht = ghb[j]
                    dao = dht * th * o * (1.0 - o)
                    d[3 * n + j] = dao
                    dct = gcb[j] + dht * o * (1.0 - th * th)
                    if peep:
                        dct += dao * Pp[2, j]
                    dcb[j] = dct
                for j in range(lo, hi):
                    f = ab[n + j]
                    g = ab[2 * n + j]
                    dct = dcb[j]
                    d[2 * n + j] = dct * ab[j] * (1.0 - g * g)
                    if coupled:
                        d[j] = 0.0
                        d[n + j] = dct * (cp[j] - g) * f * (1.0 - f)
                    else:
                        d[j] = dct * g * ab[j] * (1.0 - ab[j])
                        d[n + j] = dct * cp[j] * f * (1.0 - f)
        publish(flags, part, parts, count)  # our units of D_t
        if not flows(t, t - 1, truncate):  # cut here: gh[t-1], gc[t-1] keep the upstream values
            continue
        for q in range(part, pieces, parts):  # W^T D_t over our units' gate rows
            lo, hi = split(n, q, pieces)
            for bi in range(B):
                own_rows_product(Mb[q], D[t - 1, bi], O[q, bi], False, lo, hi, n, 4)
        if not wait(flags, part, parts, count):  # the partner's units of D_t
            return False
        for q in range(part, pieces, parts):
            lo, hi = split(n, q, pieces)
            w = hi - lo
            for bi in range(B):
                o = O[q, bi]
                other_rows_product(Mb[q], D[t - 1, bi], o, lo, hi, n, 4)
                ab = a[t - 1, bi]
                d = D[t - 1, bi]
                dcb = dcs[bi]
                ghp = gh[t - 1, bi, lo:hi]
                gcp = gc[t - 1, bi]
                for k in range(w):
                    ghp[k] = flush(ghp[k] + o[k], tiny)
                for j in range(lo, hi):
                    gcp[j] += dcb[j] * ab[n + j]
                if peep:
                    for j in range(lo, hi):
                        gcp[j] += d[j] * Pp[0, j] + d[n + j] * Pp[1, j]
                for j in range(lo, hi):
                    gcp[j] = flush(gcp[j], tiny)
    return wait(flags, part, parts, T)  # every unit's D, for the parameter gradients


@quiet
def lstm_backward_grads(U, x, h, c, D, peep, lo, hi, dW, dU, db, dP, dx, flags):
    """Steps lo..hi's share of dW, dU, db, dP (added to) and dx[lo-1 .. hi-1], summed in a
    fixed order on this thread (``kernels.fast.grads``). Returns False if aborted."""
    T, B, m = x.shape
    n = h.shape[2]
    G = 4 * n
    k = hi - lo + 1
    D2 = D[lo - 1 : hi].reshape(k * B, G)
    if not (outer_sum(D2, h[lo - 1 : hi].reshape(k * B, n), dW, flags)
            and outer_sum(D2, x[lo - 1 : hi].reshape(k * B, m), dU, flags)
            and rows_times(D2, U, dx[lo - 1 : hi].reshape(k * B, m), flags)):
        return False
    row_sums(D2, db)
    if peep:
        Dt = D[lo - 1 : hi]  # (k, B, 4n)
        dP[0] += np.einsum("tbj,tbj->j", Dt[:, :, :n], c[lo - 1 : hi])
        dP[1] += np.einsum("tbj,tbj->j", Dt[:, :, n : 2 * n], c[lo - 1 : hi])
        dP[2] += np.einsum("tbj,tbj->j", Dt[:, :, 3 * n :], c[lo : hi + 1])
    return True


def lstm_backward_part(Mb, U, Pp, x, h, c, a, peep, coupled, truncate, gh, gc, D, dx, O, dW2, dU2,
                       db2, dP2, pieces, flags, part, parts):
    """Thread ``part`` of ``parts`` of a backward pass: the sweep (split by units), then the
    parameter gradients (split by time, half q into dW2[q], ...; the caller adds the two).
    Returns False if aborted."""
    if not lstm_backward_sweep(Mb, Pp, h, c, a, peep, coupled, truncate, gh, gc, D, O, pieces,
                               flags, part, parts):
        return False
    for q, lo, hi in time_halves(x.shape[0], pieces, part, parts):
        if not lstm_backward_grads(U, x, h, c, D, peep, lo, hi, dW2[q], dU2[q], db2[q], dP2[q],
                                   dx, flags):
            return False
    return True


@kernel
def lstm_step_jacobians(W, P, c, a, peep, coupled):
    """Step Jacobians ds_t/ds_{t-1} of the state s = (h, c), shape (T, B, 2n, 2n).

    Rows and columns: h first, then c. With k_i, k_f, k_g the sensitivities of c_t to the
    pre-activations a_i, a_f, a_g:
        dc_t/dh_{t-1} = diag(k_i) W_i + diag(k_f) W_f + diag(k_g) W_g
        dc_t/dc_{t-1} = diag(f + k_i P_i + k_f P_f)            (P terms with peepholes)
        dh_t/d s_{t-1} = diag(k_h) dc_t/d s_{t-1} + [diag(tanh(c_t) o') W_o, 0]
    where k_h = o tanh'(c_t) (+ tanh(c_t) o' P_o with peepholes) and o' = o (1 - o).
    """
    T, B, G = a.shape
    n = G // 4
    J = np.zeros((T, B, 2 * n, 2 * n), dtype=W.dtype)
    tb = np.empty(n, dtype=W.dtype)
    for t in range(T):
        for bi in range(B):
            ab = a[t, bi]
            tanh_into(c[t + 1, bi], tb)
            for j in range(n):
                i = ab[j]
                f = ab[n + j]
                g = ab[2 * n + j]
                o = ab[3 * n + j]
                th = tb[j]
                cp = c[t, bi, j]
                if coupled:
                    ki = 0.0
                    kf = (cp - g) * f * (1.0 - f)
                else:
                    ki = g * i * (1.0 - i)
                    kf = cp * f * (1.0 - f)
                kg = i * (1.0 - g * g)
                ko = th * o * (1.0 - o)
                kh = o * (1.0 - th * th)
                dcc = f
                if peep:
                    kh += ko * P[2, j]
                    dcc += ki * P[0, j] + kf * P[1, j]
                for k in range(n):
                    jc = ki * W[j, k] + kf * W[n + j, k] + kg * W[2 * n + j, k]
                    J[t, bi, n + j, k] = jc
                    J[t, bi, j, k] = ko * W[3 * n + j, k] + kh * jc
                J[t, bi, n + j, n + j] = dcc
                J[t, bi, j, n + j] = kh * dcc
    return J

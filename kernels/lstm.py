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
``gradlab.cells.lstm`` take (B, T, ...). One matrix product computes U x for every step; each
step then does one recurrent product; the parameter gradients are one product each after
the backward sweep.

The recurrent products use ``kernels.rnn.rows_product`` (one pass over W per step, no BLAS
call, no per-step allocation). The activations are computed in passes over a whole row
(``sigmoid_range``, ``tanh_range`` below): plain arithmetic that LLVM turns into AVX code,
with exp's 2^k written straight into the exponent bits. numba's libm calls go one scalar at a
time (sigmoid 5.3 ns, tanh 15 ns per value on this machine, more than the recurrent product
per step at n = 128); these take 1.7 ns and 2.2 ns, agree with libm to within 2 ulp, and pass
inf and nan through as libm does.
"""

import numpy as np

from ._flags import kernel
from .rnn import flows, rows_product

# --- vectorisable exp, sigmoid and tanh (the Cephes constants are those of kernels.rnn) ---
# exp(u) = 2^k exp(r), k = round(u / ln 2), |r| <= ln2 / 2. exp(r) is Cephes' rational form
# 1 + 2 r P(r^2) / (Q(r^2) - r P(r^2)); 2^k is built in the exponent bits. k is rounded with
# the 1.5 * 2^52 trick, so the integer sits in the low bits of kd and no float->int
# conversion (which AVX2 lacks) is needed. Callers clamp |u| <= 708 so 2^k stays normal.
_LOG2E = 1.4426950408889634
_LN2_HI = 6.93145751953125e-1
_LN2_LO = 1.42860682030941723212e-6
_MAGIC = 6755399441055744.0  # 1.5 * 2**52
_MAGIC_BITS = 4843621399236968448  # its IEEE-754 bit pattern
_EP0, _EP1, _EP2 = 1.26177193074810590878e-4, 3.02994407707441961300e-2, 9.99999999999999999910e-1
_EQ0, _EQ1 = 3.00198505138664455042e-6, 2.52448340349684104192e-3
_EQ2, _EQ3 = 2.27265548208155028766e-1, 2.00000000000000000009e0
# tanh(x) = x + x^3 P(x^2) / Q(x^2) for |x| < 0.625 (Cephes); 1 - 2 / (exp(2|x|) + 1) beyond.
_TP0, _TP1, _TP2 = -9.64399179425052238628e-1, -9.92877231001918586564e1, -1.61468768441708447952e3
_TQ1, _TQ2, _TQ3 = 1.12811678491632931402e2, 2.23548839060100448583e3, 4.84406305325125486048e3
_CLAMP = 708.0


@kernel
def exp_range(u, e, kb, lo, hi):
    """e[j] = exp(u[j]) for lo <= j < hi, given |u[j]| <= 708 (nan passes through).

    u, e, kb are float64 work arrays; kb is scratch.
    """
    ib = kb.view(np.int64)
    for j in range(lo, hi):
        kd = u[j] * _LOG2E + _MAGIC
        k = kd - _MAGIC
        r = u[j] - k * _LN2_HI
        r = r - k * _LN2_LO
        rr = r * r
        p = r * ((_EP0 * rr + _EP1) * rr + _EP2)
        q = ((_EQ0 * rr + _EQ1) * rr + _EQ2) * rr + _EQ3
        e[j] = 1.0 + 2.0 * (p / (q - p))
        kb[j] = kd
    for j in range(lo, hi):
        ib[j] = (ib[j] - _MAGIC_BITS + 1023) << 52  # the bits of 2^k
    for j in range(lo, hi):
        e[j] = e[j] * kb[j]


@kernel
def sigmoid_arg(a, u, lo, hi):
    """u[j] = -a[j] clamped to [-708, 708], the exp argument of sigmoid (nan passes)."""
    for j in range(lo, hi):
        v = -np.float64(a[j])
        if v > _CLAMP:
            v = _CLAMP
        if v < -_CLAMP:
            v = -_CLAMP
        u[j] = v


@kernel
def sigmoid_from(a, e, out, lo, hi):
    """out[j] = 1 / (1 + e[j]) with e[j] = exp(u[j]) from ``sigmoid_arg``.

    a[j] < -708 gives 0 (the exact value is below e^-708 = 3.3e-308); sigmoid(inf) = 1;
    nan stays nan.
    """
    for j in range(lo, hi):
        s = 1.0 / (1.0 + e[j])
        out[j] = 0.0 if a[j] < -_CLAMP else s


@kernel
def tanh_arg(a, u, lo, hi):
    """u[j] = 2 |a[j]| clamped to 708, the exp argument of tanh (nan passes)."""
    for j in range(lo, hi):
        v = 2.0 * abs(np.float64(a[j]))
        if v > _CLAMP:
            v = _CLAMP
        u[j] = v


@kernel
def tanh_from(a, e, out, lo, hi):
    """out[j] = tanh(a[j]) with e[j] = exp(u[j]) from ``tanh_arg``.

    tanh(+-0) = +-0, tanh(+-inf) = +-1, nan stays nan.
    """
    for j in range(lo, hi):
        x = np.float64(a[j])
        big = 1.0 - 2.0 / (e[j] + 1.0)
        if x < 0.0:
            big = -big
        s = x * x
        small = x + x * s * (((_TP0 * s + _TP1) * s + _TP2) / (((s + _TQ1) * s + _TQ2) * s + _TQ3))
        small = x if x == 0.0 else small  # keeps the sign of -0.0
        out[j] = small if abs(x) < 0.625 else big


@kernel
def sigmoid_range(a, out, lo, hi, u, e, kb):
    """out[j] = 1 / (1 + exp(-a[j])) for lo <= j < hi. u, e, kb: float64 scratch."""
    sigmoid_arg(a, u, lo, hi)
    exp_range(u, e, kb, lo, hi)
    sigmoid_from(a, e, out, lo, hi)


@kernel
def tanh_range(a, out, lo, hi, u, e, kb):
    """out[j] = tanh(a[j]) for lo <= j < hi. u, e, kb: float64 scratch."""
    tanh_arg(a, u, lo, hi)
    exp_range(u, e, kb, lo, hi)
    tanh_from(a, e, out, lo, hi)


# --- the LSTM ------------------------------------------------------------------------------


@kernel
def lstm_forward(W, U, b, P, x, h0, c0, peep, coupled):
    """Run the LSTM over a batch of sequences.

    W (4n, n), U (4n, m), b (4n,) the summed biases, P (3, n) peephole weights (read only
    when ``peep``), x (T, B, m), h0, c0 (B, n). Returns h (T+1, B, n) and c (T+1, B, n)
    with h[0] = h0, c[0] = c0, and a (T, B, 4n), the gate activations [i f g o].
    """
    T, B, m = x.shape
    n = W.shape[1]
    G = 4 * n
    h = np.empty((T + 1, B, n), dtype=W.dtype)  # (T+1, B, n)
    c = np.empty((T + 1, B, n), dtype=W.dtype)  # (T+1, B, n)
    a = np.empty((T, B, G), dtype=W.dtype)  # (T, B, 4n)
    h[0] = h0
    c[0] = c0
    WT = np.ascontiguousarray(W.T)  # (n, 4n) rows of W^T: W h = sum_j h_j W^T[j]
    # U x_t + b for every step in one product, written where the activations will go
    a2 = a.reshape(T * B, G)
    np.dot(np.ascontiguousarray(x).reshape(T * B, m), U.T, a2)
    for r in range(T * B):
        for j in range(G):
            a2[r, j] += b[j]
    z = np.empty((B, G), dtype=W.dtype)  # (B, 4n): pre-activations of one step
    tb = np.empty(n)  # tanh(c_t) of one row
    u = np.empty(G)  # scratch for the activations
    e = np.empty(G)
    kb = np.empty(G)
    for t in range(1, T + 1):
        rows_product(WT, h[t - 1], z, False)  # z = W h_{t-1}
        for bi in range(B):
            zb = z[bi]
            ab = a[t - 1, bi]
            cp = c[t - 1, bi]
            cn = c[t, bi]
            for j in range(G):
                zb[j] += ab[j]
            if peep:
                for j in range(n):
                    zb[j] += P[0, j] * cp[j]
                    zb[n + j] += P[1, j] * cp[j]
            # the gates' exponentials in one pass: i, f, (o,) then g
            lo = n if coupled else 0
            hi = 3 * n if peep else G
            sigmoid_arg(zb, u, lo, 2 * n)
            tanh_arg(zb, u, 2 * n, 3 * n)
            if not peep:
                sigmoid_arg(zb, u, 3 * n, G)
            exp_range(u, e, kb, lo, hi)
            sigmoid_from(zb, e, ab, lo, 2 * n)
            tanh_from(zb, e, ab, 2 * n, 3 * n)
            if not peep:
                sigmoid_from(zb, e, ab, 3 * n, G)
            if coupled:
                for j in range(n):
                    ab[j] = 1.0 - ab[n + j]
            for j in range(n):
                cn[j] = ab[n + j] * cp[j] + ab[j] * ab[2 * n + j]
            if peep:  # o reads c_t
                for j in range(n):
                    zb[3 * n + j] += P[2, j] * cn[j]
                sigmoid_range(zb, ab, 3 * n, G, u, e, kb)
            tanh_range(cn, tb, 0, n, u, e, kb)
            hb = h[t, bi]
            for j in range(n):
                hb[j] = ab[3 * n + j] * tb[j]
    return h, c, a


@kernel
def lstm_backward(W, U, P, x, h, c, a, peep, coupled, dh, dc, truncate):
    """Backpropagation through time.

    h, c, a as returned by ``lstm_forward``; dh (T, B, n) upstream dL/dh_t; dc (T, B, n)
    upstream dL/dc_t, or shape (0, B, n) for none. ``truncate`` k > 0 cuts the sequence into
    chunks of k steps that no gradient crosses (k = 0: full BPTT).
    Returns gh, gc (T+1, B, n), the gradients of L with respect to the two halves of the
    state s_t = (h_t, c_t), each with the other half held fixed (so gc[t] has no path through
    h_t, and (gh, gc)[t-1] = J_t^T (gh, gc)[t] + upstream); index 0 is dL/dh0, dL/dc0.
    Also dW (4n, n), dU (4n, m), db (4n,), dP (3, n) and dx (T, B, m).
    """
    T, B, m = x.shape
    n = W.shape[1]
    G = 4 * n
    gh = np.empty((T + 1, B, n), dtype=W.dtype)  # (T+1, B, n)
    gc = np.empty((T + 1, B, n), dtype=W.dtype)  # (T+1, B, n)
    gh[0] = 0.0
    gh[1:] = dh
    gc[0] = 0.0
    if dc.shape[0] > 0:
        gc[1:] = dc
    else:
        gc[1:] = 0.0
    D = np.empty((T, B, G), dtype=W.dtype)  # (T, B, 4n): dL/d[a_i a_f a_g a_o]
    back = np.empty((B, n), dtype=W.dtype)  # (B, n): W^T D_t
    dcs = np.empty((B, n), dtype=W.dtype)  # (B, n): dL/dc_t including the path via h_t
    tb = np.empty(n)  # tanh(c_t) of one row, recomputed
    u = np.empty(n)
    e = np.empty(n)
    kb = np.empty(n)
    for t in range(T, 0, -1):
        for bi in range(B):
            ab = a[t - 1, bi]
            cp = c[t - 1, bi]
            d = D[t - 1, bi]
            ghb = gh[t, bi]
            gcb = gc[t, bi]
            dcb = dcs[bi]
            tanh_range(c[t, bi], tb, 0, n, u, e, kb)
            for j in range(n):
                o = ab[3 * n + j]
                th = tb[j]
                dht = ghb[j]
                dao = dht * th * o * (1.0 - o)
                d[3 * n + j] = dao
                dct = gcb[j] + dht * o * (1.0 - th * th)
                if peep:
                    dct += dao * P[2, j]
                dcb[j] = dct
            for j in range(n):
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
        if flows(t, t - 1, truncate):
            rows_product(W, D[t - 1], back, False)  # W^T D_t
            for bi in range(B):
                ab = a[t - 1, bi]
                d = D[t - 1, bi]
                dcb = dcs[bi]
                ghp = gh[t - 1, bi]
                gcp = gc[t - 1, bi]
                bb = back[bi]
                for j in range(n):
                    ghp[j] += bb[j]
                    gcp[j] += dcb[j] * ab[n + j]
                if peep:
                    for j in range(n):
                        gcp[j] += d[j] * P[0, j] + d[n + j] * P[1, j]
    D2 = D.reshape(T * B, G)
    dW = np.dot(D2.T, h[:T].reshape(T * B, n))
    dU = np.dot(D2.T, np.ascontiguousarray(x).reshape(T * B, m))
    dx = np.dot(D2, U).reshape(T, B, m)
    db = np.zeros(G, dtype=W.dtype)
    for r in range(T * B):
        for j in range(G):
            db[j] += D2[r, j]
    dP = np.zeros((3, n), dtype=W.dtype)
    if peep:
        for t in range(T):
            for bi in range(B):
                for j in range(n):
                    dP[0, j] += D[t, bi, j] * c[t, bi, j]
                    dP[1, j] += D[t, bi, n + j] * c[t, bi, j]
                    dP[2, j] += D[t, bi, 3 * n + j] * c[t + 1, bi, j]
    return gh, gc, dW, dU, db, dP, dx


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
    tb = np.empty(n)
    u = np.empty(n)
    e = np.empty(n)
    kb = np.empty(n)
    for t in range(T):
        for bi in range(B):
            ab = a[t, bi]
            tanh_range(c[t + 1, bi], tb, 0, n, u, e, kb)
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

"""Vanilla RNN kernels: forward pass, backpropagation through time, step Jacobians.

The cell, per unit i (the lecture notes' leaky unit, with a_i = 1 / gamma_i):

    z_t = W h_{t-1} + U x_t + b  [+ W_s h_{t-d}   skip connection through time, when t-d >= 0]
    v_t = phi(z_t)
    h_t = k * h_{t-1} + a * v_t

The carry k is 1 - a for the leaky RNN (a = 1 gives the plain RNN h_t = phi(z_t)); the
residual form h_t = h_{t-1} + phi(z_t) is k = 1, a = 1. States are s_0 = h0, s_t = h_t.

Layout is time-major, (T, B, n); the public wrappers in ``gradlab`` take (B, T, n).

Where the time goes, and what is done about it (n = 128, T = 1000, B = 1):
- The recurrent products W h_{t-1} (forward) and W^T delta_t (backward) are sequential in t
  and bound by streaming W (128 KB) from L2 every step. They are loops over rows ("axpy"
  form: out += h_j * row_j, four rows per pass; ``rows_product``), which LLVM vectorises
  across the output without reassociating any sum (each out_i is accumulated in the plain
  order j = 0, 1, ..., so no fastmath). W^T is copied once per call so that both directions
  read rows; the batch loop sits inside the row loop, so each step reads W once whatever B
  is. Measured against a BLAS gemv per step: faster at n = 32, level from n = 128 to 512
  (both stream W at the cache's rate), with no call or allocation per step.
- tanh: numba calls libm one scalar at a time (as slow as the product itself at n = 128),
  so ``tanh_vec`` is arithmetic, bit operations and selects that LLVM vectorises (within
  2 ulp of libm; inf, nan and -0.0 as libm). Linear and ReLU loops vectorise as written;
  sigmoid keeps libm's exp (``sigmoid``).
- What is not sequential is BLAS matrix products, one per chunk of steps (``block_steps``):
  U x_t ahead of the forward sweep (written straight into v), and dW, dU, db, dx, dWs
  behind the backward sweep. The backward pass goes through ``backward_blocks`` (shrinking
  blocks of steps): ``backward_sweep`` fills gh and delta_t for a block, ``backward_grads``
  turns the block into its share of the gradients. ``rnn_backward`` runs the two in turn;
  ``gradlab.cells.rnn`` runs them on two threads for long passes, with identical sums.
"""

import numpy as np

from ._flags import LINEAR, RELU, SIGMOID, TANH, kernel

# tanh(x) = x + x^3 P(x^2) / Q(x^2) for |x| < 0.625 (Cephes tanh.c, relative error < 2.5e-16)
_TP0, _TP1, _TP2 = -9.64399179425052238628e-1, -9.92877231001918586564e1, -1.61468768441708447952e3
_TQ1, _TQ2, _TQ3 = 1.12811678491632931402e2, 2.23548839060100448583e3, 4.84406305325125486048e3
# exp(y) = 2^k (Q(r^2) + r P(r^2)) / (Q(r^2) - r P(r^2)), y = k ln2 + r (Cephes exp.c)
_LOG2E = 1.4426950408889634073599
_MAGIC = 6755399441055744.0  # 1.5 * 2^52: adding it rounds to an integer in the low bits
_MAGIC_BITS = 4843621399236968448  # the IEEE-754 bits of _MAGIC
_LN2_HI, _LN2_LO = 6.93145751953125e-1, 1.42860682030941723212e-6
_EP0, _EP1, _EP2 = 1.26177193074810590878e-4, 3.02994407707441961300e-2, 9.99999999999999999910e-1
_EQ0, _EQ1 = 3.00198505138664455042e-6, 2.52448340349684104192e-3
_EQ2, _EQ3 = 2.27265548208155028766e-1, 2.00000000000000000009e0
# Steps per block of the matrix products (U x_t before, dW, dU, dx, dWs after each block of
# the sweeps). OpenBLAS, as shipped in the numpy and scipy wheels, runs a dgemm on the calling
# thread when m * n * k < 2^19, and threads it above. A threaded call stalls for milliseconds
# whenever another process holds the second core (measured at n = 128, T = 1000 with one
# busy neighbour: 44 ms instead of 6). So blocks are sized to stay below 2^19 when they can
# still hold 16 steps (small n, where products are cheap anyway), else they hold about
# _BLOCK numbers (2 MB) and the products are few and large.
_SERIAL_MNK = (1 << 19) - 1
_BLOCK = 1 << 18
_SHARES = (0.3, 0.25, 0.2, 0.15, 0.1)  # of the steps in each block of the backward pass


@kernel
def serial_blocks(B, p, q):
    """True when blocks of at least 16 steps keep (steps * B) x p by p x q products serial."""
    return _SERIAL_MNK // (B * p * q) >= 16


@kernel
def block_steps(T, B, p, q):
    """Steps per block for products of (steps * B) x p by p x q (see above)."""
    c = _SERIAL_MNK // (B * p * q)
    if c < 16:
        c = _BLOCK // (B * max(p, q))
    return max(1, min(T, c))


@kernel
def tanh_vec(x):
    """tanh(x) as arithmetic, bit operations and selects only, so that loops calling it vectorise.

    |x| < 0.625: Cephes' rational x + x^3 P(x^2) / Q(x^2). Otherwise
    tanh|x| = 1 - 2 / (e^{2|x|} + 1) = 1 - 2 D / (2^k N + D), where e^r = N / D is Cephes'
    rational for exp after the reduction 2|x| = k ln2 + r, |r| <= ln2 / 2. k is rounded by
    adding 1.5 * 2^52 (it then sits in the low bits of kd) and 2^k is built in the exponent
    bits, so there is no float-to-int conversion (AVX2 has none for 64 bits). 2|x| is
    clamped to 40, where tanh is 1.0 in double. Both branches are computed and one is
    selected; there is a single division. Within 2 ulp of libm's tanh (1.0 = correctly
    rounded near |x| = 19, where libm already returns 1); tanh(+-0) = +-0, tanh(+-inf) = +-1,
    nan stays nan. Always computes in float64 (float32 callers round the result once).
    """
    ax = abs(x)
    s = x * x
    num_small = x * s * ((_TP0 * s + _TP1) * s + _TP2)
    den_small = ((s + _TQ1) * s + _TQ2) * s + _TQ3
    y = 2.0 * ax
    y = y if y < 40.0 else 40.0  # also maps inf (and nan, fixed below) into range
    kd = y * _LOG2E + _MAGIC
    k = kd - _MAGIC
    r = (y - k * _LN2_HI) - k * _LN2_LO
    rr = r * r
    px = r * ((_EP0 * rr + _EP1) * rr + _EP2)
    qx = ((_EQ0 * rr + _EQ1) * rr + _EQ2) * rr + _EQ3
    p2 = np.int64((np.float64(kd).view(np.int64) - _MAGIC_BITS + 1023) << 52).view(np.float64)
    d = qx - px
    num_big = 2.0 * d
    den_big = p2 * (qx + px) + d
    use_small = ax < 0.625
    # selects between plain values (not expressions) so LLVM if-converts them
    num = num_small if use_small else num_big
    den = den_small if use_small else den_big
    f = num / den
    small = x + f
    big = 1.0 - f
    nbig = -big
    big = nbig if x < 0.0 else big
    out = small if use_small else big
    out = x if x == 0.0 else out  # keeps the sign of -0.0
    return x if x != x else out


@kernel
def sigmoid(z):
    """1 / (1 + e^-z) for one scalar, without overflow for large |z| (libm exp)."""
    if z >= 0.0:
        return 1.0 / (1.0 + np.exp(-z))
    e = np.exp(z)
    return e / (1.0 + e)


@kernel
def phi(z, act):
    """The activation phi(z) for one scalar; ``act`` is a code from ``_flags``.

    (The kernels below write each activation's loop out, with the same formulas.)
    """
    if act == TANH:
        return tanh_vec(z)
    if act == RELU:
        return z if z > 0.0 else (z if z != z else 0.0)  # relu(nan) = nan, relu(-inf) = 0
    if act == SIGMOID:
        return sigmoid(z)
    return z


@kernel
def dphi(v, act):
    """phi'(z) written through v = phi(z) (so the forward pass need not keep z)."""
    if act == TANH:
        return 1.0 - v * v
    if act == RELU:
        return 1.0 if v > 0.0 else 0.0
    if act == SIGMOID:
        return v * (1.0 - v)
    if act == LINEAR:
        return 1.0
    return 1.0


@kernel
def chunk(s, k):
    """Truncated-BPTT chunk of state s: steps 1..k are chunk 0 (with s_0), k+1..2k chunk 1, ..."""
    if s <= 0:
        return 0
    return (s - 1) // k


@kernel
def flows(t, s, k):
    """True when gradient may flow from step t back to state s (k = 0: full BPTT)."""
    return k <= 0 or chunk(t, k) == chunk(s, k)


@kernel
def rows_product(A, H, out, accumulate):
    """out[b, i] (+)= sum_j H[b, j] A[j, i]  -- that is, out = H A, i.e. A^T h for each row h.

    A (p, q), H (B, p), out (B, q). The sum over j runs in plain order, four rows of A per
    pass over out, so the loop over i vectorises without reassociation and W is read once
    per call whatever B is. With ``accumulate`` false, out is overwritten.
    """
    p, q = A.shape
    B = H.shape[0]
    if not accumulate:
        for bi in range(B):
            o = out[bi]
            for i in range(q):
                o[i] = 0.0
    j = 0
    while j + 4 <= p:
        a0 = A[j]
        a1 = A[j + 1]
        a2 = A[j + 2]
        a3 = A[j + 3]
        for bi in range(B):
            h = H[bi]
            h0 = h[j]
            h1 = h[j + 1]
            h2 = h[j + 2]
            h3 = h[j + 3]
            o = out[bi]
            for i in range(q):
                o[i] = (((o[i] + h0 * a0[i]) + h1 * a1[i]) + h2 * a2[i]) + h3 * a3[i]
        j += 4
    while j < p:
        a0 = A[j]
        for bi in range(B):
            h0 = H[bi, j]
            o = out[bi]
            for i in range(q):
                o[i] = o[i] + h0 * a0[i]
        j += 1


@kernel
def rnn_forward(W, U, b, Ws, delay, x, h0, carry, a, act):
    """Run the RNN over a batch of sequences.

    W (n, n), U (n, m), b (n,), Ws (n, n) or (0, 0) for no skip, delay d >= 2,
    x (T, B, m), h0 (B, n), carry k (n,), a (n,). Returns s (T+1, B, n) with s[0] = h0,
    and v = phi(z) (T, B, n).
    """
    T, B, m = x.shape
    n = W.shape[0]
    s = np.empty((T + 1, B, n), dtype=W.dtype)  # (T+1, B, n)
    v = np.empty((T, B, n), dtype=W.dtype)  # (T, B, n)
    s[0] = h0
    WT = np.ascontiguousarray(W.T)  # rows of W^T: W h = sum_j h_j W^T[j]
    X = np.ascontiguousarray(x).reshape(T * B, m)
    V = v.reshape(T * B, n)
    C = block_steps(T, B, m, n)
    skip = Ws.shape[0] > 0
    WsT = np.ascontiguousarray(Ws.T)
    z = np.empty((B, n), dtype=W.dtype)  # (B, n)
    zs = np.empty((B, n), dtype=W.dtype)  # (B, n): skip term
    for t in range(1, T + 1):
        if (t - 1) % C == 0:  # U x_t for the next block of steps, one product, into v
            lo = t - 1
            hi = min(T, lo + C)
            np.dot(X[lo * B : hi * B], U.T, V[lo * B : hi * B])
        rows_product(WT, s[t - 1], z, False)  # z = W h_{t-1}
        if skip and t - delay >= 0:
            rows_product(WsT, s[t - delay], zs, False)
            for bi in range(B):
                for i in range(n):
                    z[bi, i] = z[bi, i] + zs[bi, i]
        for bi in range(B):
            zb = z[bi]
            vb = v[t - 1, bi]  # holds U x_t until replaced by phi(z_t)
            sp = s[t - 1, bi]
            sb = s[t, bi]
            # one loop per activation (see phi), so that all but sigmoid (libm exp) vectorise
            if act == TANH:
                for i in range(n):
                    vi = tanh_vec((zb[i] + vb[i]) + b[i])
                    vb[i] = vi
                    sb[i] = carry[i] * sp[i] + a[i] * vi
            elif act == LINEAR:
                for i in range(n):
                    vi = (zb[i] + vb[i]) + b[i]
                    vb[i] = vi
                    sb[i] = carry[i] * sp[i] + a[i] * vi
            elif act == RELU:
                for i in range(n):
                    zi = (zb[i] + vb[i]) + b[i]
                    vi = zi if zi > 0.0 else (zi if zi != zi else 0.0)
                    vb[i] = vi
                    sb[i] = carry[i] * sp[i] + a[i] * vi
            else:  # SIGMOID
                for i in range(n):
                    vi = sigmoid((zb[i] + vb[i]) + b[i])
                    vb[i] = vi
                    sb[i] = carry[i] * sp[i] + a[i] * vi
    return s, v


@kernel
def backward_sweep(W, Ws, delay, v, carry, a, act, dh, truncate, gh, delta, back, lo, hi):
    """Steps hi, hi-1, ..., lo of BPTT (1 <= lo <= hi <= T), the sequential part.

    Fills gh[lo-1 .. hi-1] (gh (T+1, B, n); the call with hi = T also starts gh from dh)
    and delta[t - lo] = dL/dz_t for t = lo..hi (delta (>= hi-lo+1, B, n)). back (B, n) is
    scratch. Blocks must be swept from the end: hi = T first, then each next hi = lo - 1.
    """
    T, B, n = v.shape
    skip = Ws.shape[0] > 0
    if hi == T:
        if skip:  # skip terms arrive out of order: accumulate onto dh
            gh[0] = 0.0
            gh[1:] = dh
        else:  # gh[t-1] is written once, at step t, straight from dh (no separate copy)
            gh[T] = dh[T - 1]
    for t in range(hi, lo - 1, -1):
        d = delta[t - lo]
        # gh[t] is complete: every later step has added its share
        for bi in range(B):
            g = gh[t, bi]
            vb = v[t - 1, bi]
            db_ = d[bi]
            # dphi written out per activation (see dphi), so that each loop vectorises
            if act == TANH:
                for i in range(n):
                    db_[i] = g[i] * a[i] * (1.0 - vb[i] * vb[i])
            elif act == SIGMOID:
                for i in range(n):
                    db_[i] = g[i] * a[i] * (vb[i] * (1.0 - vb[i]))
            elif act == RELU:
                for i in range(n):
                    db_[i] = g[i] * a[i] * (1.0 if vb[i] > 0.0 else 0.0)
            else:  # LINEAR
                for i in range(n):
                    db_[i] = g[i] * a[i] * 1.0
        # gh[t-1] = dh[t-1] + (carry * gh[t] + W^T delta_t); only dh[t-1] across a cut
        if flows(t, t - 1, truncate):
            rows_product(W, d, back, False)  # W^T delta_t
            for bi in range(B):
                g = gh[t, bi]
                gp = gh[t - 1, bi]
                bb = back[bi]
                if skip:
                    for i in range(n):
                        gp[i] = gp[i] + (carry[i] * g[i] + bb[i])
                elif t > 1:
                    up = dh[t - 2, bi]
                    for i in range(n):
                        gp[i] = up[i] + (carry[i] * g[i] + bb[i])
                else:
                    for i in range(n):
                        gp[i] = 0.0 + (carry[i] * g[i] + bb[i])
        elif not skip:
            if t > 1:
                gh[t - 1] = dh[t - 2]
            else:
                gh[0] = 0.0
        if skip and t - delay >= 0 and flows(t, t - delay, truncate):
            rows_product(Ws, d, gh[t - delay], True)


@kernel
def backward_grads(U, Ws, delay, x, s, delta, lo, hi, dW, dU, db, dWs, dx, pW, pU, pWs):
    """Add steps lo..hi's share to dW, dU, db, dWs and write dx[lo-1 .. hi-1].

    delta[t - lo] = dL/dz_t as left by ``backward_sweep``; pW, pU, pWs are scratch shaped
    like dW, dU, dWs. One product per chunk of steps (``block_steps``; chunks end at T,
    T - C, T - 2C, ...), so the sums depend only on the caller's blocks (lo, hi).
    """
    T, B, m = x.shape
    n = U.shape[0]
    skip = Ws.shape[0] > 0
    C = block_steps(T, B, n, n)  # dW, db, dWs
    top = hi
    while top >= lo:
        bot = max(lo, T - ((T - top) // C + 1) * C + 1)
        c = top - bot + 1
        D = delta[bot - lo : top - lo + 1].reshape(c * B, n)  # rows: steps bot..top
        np.dot(D.T, s[bot - 1 : top].reshape(c * B, n), pW)
        dW += pW
        db += D.sum(axis=0)
        k = max(bot, delay)  # first step with a skip input s_{t-d}
        if skip and k <= top:
            Dd = delta[k - lo : top - lo + 1].reshape((top - k + 1) * B, n)
            np.dot(Dd.T, s[k - delay : top - delay + 1].reshape((top - k + 1) * B, n), pWs)
            dWs += pWs
        top = bot - 1
    C = block_steps(T, B, n, m)  # dU, dx
    top = hi
    while top >= lo:
        bot = max(lo, T - ((T - top) // C + 1) * C + 1)
        c = top - bot + 1
        D = delta[bot - lo : top - lo + 1].reshape(c * B, n)
        np.dot(D.T, x[bot - 1 : top].reshape(c * B, m), pU)
        dU += pU
        np.dot(D, U, dx[bot - 1 : top].reshape(c * B, m))
        top = bot - 1


@kernel
def backward_blocks(T, B, n):
    """(lo, hi) rows of the blocks of steps the backward pass goes through, from T down to 1.

    Shrinking shares of T (``_SHARES``), in whole chunks of ``block_steps`` for dW, so that
    when a second thread turns each block into gradients, the last one (which nothing
    overlaps) is short. Both ways of running the pass use these same blocks.
    """
    C = block_steps(T, B, n, n)
    out = np.empty((len(_SHARES), 2), dtype=np.int64)
    k = 0
    hi = T
    for j in range(len(_SHARES)):
        if hi < 1:
            break
        size = max(C, C * int(round(_SHARES[j] * T / C)))
        lo = 1 if j == len(_SHARES) - 1 else max(1, hi - size + 1)
        out[k, 0] = lo
        out[k, 1] = hi
        k += 1
        hi = lo - 1
    return out[:k]


@kernel
def backward_buffers(W, U, Ws, x, steps):
    """The arrays backward_sweep and backward_grads fill: gh, delta (steps, B, n), back,
    dW, dU, db, dWs, dx, and scratch pW, pU, pWs."""
    T, B, m = x.shape
    n = W.shape[0]
    gh = np.empty((T + 1, B, n), dtype=W.dtype)  # (T+1, B, n)
    delta = np.empty((steps, B, n), dtype=W.dtype)  # (steps, B, n)
    back = np.empty((B, n), dtype=W.dtype)  # (B, n)
    dx = np.empty((T, B, m), dtype=W.dtype)  # (T, B, m)
    return (gh, delta, back, np.zeros_like(W), np.zeros_like(U), np.zeros(n, dtype=W.dtype),
            np.zeros_like(Ws), dx, np.empty_like(W), np.empty_like(U), np.empty_like(Ws))


@kernel
def rnn_backward(W, U, Ws, delay, x, s, v, carry, a, act, dh, truncate):
    """Backpropagation through time.

    dh (T, B, n) is the upstream dL/dh_t on every output. ``truncate`` k > 0 cuts the
    sequence into chunks of k steps that gradient never crosses (k = 0: full BPTT).
    Returns gh (T+1, B, n) = total dL/ds_t (gh[0] is dL/dh0), dW, dU, db, dWs, dx (T, B, m).

    The sweep keeps delta_t = dL/dz_t for one block of steps (``backward_blocks``) at a
    time; after each block, ``backward_grads`` turns it into its share of the parameter
    gradients. (``gradlab.cells.rnn`` may run the two on two threads, block by block: the
    sums are the same, in the same order, so the results are identical bit for bit.)
    """
    n = W.shape[0]
    blocks = backward_blocks(x.shape[0], x.shape[1], n)
    P = np.max(blocks[:, 1] - blocks[:, 0]) + 1
    gh, delta, back, dW, dU, db, dWs, dx, pW, pU, pWs = backward_buffers(W, U, Ws, x, P)
    for k in range(blocks.shape[0]):
        lo, hi = blocks[k, 0], blocks[k, 1]
        backward_sweep(W, Ws, delay, v, carry, a, act, dh, truncate, gh, delta, back, lo, hi)
        backward_grads(U, Ws, delay, x, s, delta, lo, hi, dW, dU, db, dWs, dx, pW, pU, pWs)
    return gh, dW, dU, db, dWs, dx


@kernel
def rnn_step_jacobians(W, v, carry, a, act):
    """Step Jacobians J_t = dh_t/dh_{t-1} = diag(k) + diag(a phi'(z_t)) W, shape (T, B, n, n).

    (The skip path, when present, is a separate term and is not part of J_t.)
    """
    T, B, n = v.shape
    J = np.empty((T, B, n, n), dtype=W.dtype)
    for t in range(T):
        for bi in range(B):
            for i in range(n):
                g = a[i] * dphi(v[t, bi, i], act)
                for j in range(n):
                    J[t, bi, i, j] = g * W[i, j]
                J[t, bi, i, i] += carry[i]
    return J

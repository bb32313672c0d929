"""Vanilla RNN kernels: forward pass, backpropagation through time, step Jacobians.

The cell, per unit i (the lecture notes' leaky unit, with a_i = 1 / gamma_i):

    z_t = W h_{t-1} + U x_t + b  [+ W_s h_{t-d}   skip connection through time, when t-d >= 0]
    v_t = phi(z_t)
    h_t = k * h_{t-1} + a * v_t

The carry k is 1 - a for the leaky RNN (a = 1 gives the plain RNN h_t = phi(z_t)); the
residual form h_t = h_{t-1} + phi(z_t) is k = 1, a = 1. States are s_0 = h0, s_t = h_t.

Layout is time-major, (T, B, n); the public wrappers in ``gradlab`` take (B, T, n).

How a sweep is computed (docs/performance.md has the measurements):
- The recurrent products W h_{t-1} (forward) and W^T delta_t (backward) are sequential in t;
  ``kernels.fast.matvec`` does them with the outputs in registers and W kept in blocks of
  32 columns, each read in address order, without reassociating any sum (no fastmath). No
  BLAS call and no allocation per step.
- The units may be cut in two pieces (``kernels.fast.sync``), each of which a thread of a
  pair can own (``gradlab.engine``, opt-in): a piece sums over its own units of h_{t-1}
  first, then over the partner's. One thread runs both pieces with the same sums in the
  same order, so the bits do not depend on the number of threads.
- tanh and sigmoid are written as vectorisable arithmetic (``kernels.activations``).
- The parameter gradients dW, dU, db, dx, dWs are fixed-order loops after the sweep
  (``kernels.fast.grads``, no BLAS), each half of time summed on its own
  (``backward_part``).
- Carried gradients that underflow below the smallest normal number are stored as 0
  (``flush``), so a vanishing gradient does not make the sweep run on subnormals.
"""

import functools

import numpy as np

from ._flags import LINEAR, RELU, SIGMOID, TANH, kernel
from .activations import sigmoid_vec, tanh_vec
from .fast.grads import outer_sum, row_sums, rows_times
from .fast.matvec import blocked_pieces, blocked_product, other_rows_product, own_rows_product
from .fast.sync import publish, shared_empty, split, unit_columns, wait


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
        return sigmoid_vec(z)
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
def flush(v, tiny):
    """v, or 0 where |v| is below the smallest normal number ``tiny`` (a subnormal).

    The backward sweeps store the gradient they carry back through this: once a vanishing
    gradient underflows past 1e-308, every later product would run on subnormal numbers,
    which the CPU handles many times slower. Values of normal size are unchanged (so results
    equal the twins' wherever those are normal); nan and inf pass through."""
    return 0.0 if abs(v) < tiny else v


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


# --- plain NumPy around the sweeps: allocation, U x_t, and the parameter gradients ----------
# (matrix products by BLAS; compiling them with numba took seconds and ran no faster). Like
# the kernels, they let inf and nan through without a warning: overflow is a result we show.


def quiet(fn):
    """fn under np.errstate(all='ignore'), a fresh one per call (an errstate object is not
    safe to share between threads)."""

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)

    return wrapped


def outputs(M, B):
    """Each piece's product buffer for blocks M (pieces, nb, rows, width): (pieces, B, >= nb
    width), padded so that each piece's is on cache lines of its own (with two pieces the
    threads write theirs every step)."""
    pieces, nb, _, width = M.shape
    return shared_empty((pieces, B, nb * width + 64 // M.itemsize), M.dtype, pieces)


def _no_skip(M):
    """An empty stand-in for the skip path's blocks, of the same type as M's."""
    return np.zeros(M.shape[:2] + (0,) + M.shape[3:], M.dtype)


def forward_blocks(W, U, Ws, pieces):
    """For each piece, the columns of W^T, U^T (and Ws^T) that give its units' z_t, in blocks
    (``kernels.fast.matvec.blocked``): Mf (pieces, nb, n, width), Mu, Ms. They depend on the
    weights only (``gradlab`` keeps them with the Params)."""
    units = unit_columns(W.shape[0], pieces, 1)
    Mf = blocked_pieces(W.T, units)
    return (Mf, blocked_pieces(U.T, units),
            blocked_pieces(Ws.T, units) if Ws.shape[0] else _no_skip(Mf))


def forward_setup(Mf, x, h0):
    """The arrays of a forward pass with blocks Mf (``forward_blocks``): s (T+1, B, n) with
    s[0] = h0; v (T, B, n) for phi(z_t); O, each piece's product."""
    T, B, m = x.shape
    pieces, n = Mf.shape[0], Mf.shape[2]
    s = shared_empty((T + 1, B, n), Mf.dtype, pieces)  # (T+1, B, n)
    s[0] = h0
    return s, shared_empty((T, B, n), Mf.dtype, pieces), outputs(Mf, B)


@kernel
def forward_sweep(Mf, Mu, Ms, delay, b, x, s, v, carry, a, act, O, pieces, flags, part, parts):
    """Steps 1..T of the forward pass, as thread ``part`` of ``parts`` (1 or 2).

    The units are cut in pieces (``split``); each thread owns one (one thread: both) and
    computes z_t on its units only, from all of h_{t-1}: first the sum over its own units of
    h_{t-1}, U x_t (and the skip term, from a step both threads passed long ago), then, once the
    partner has published its half of h_{t-1}, the sum over the partner's units. Waiting for
    the partner thus overlaps with half of the product, and only h itself crosses between the
    cores. Each piece's sums run in a fixed order, so one thread running both pieces gives
    the same bits as two. Returns False if the pair was aborted.
    """
    T, B, n = v.shape
    if delay == 1 or delay < 0:  # (the skip term is read before the wait: t - delay <= t - 2)
        raise ValueError("forward_sweep: the skip delay must be 0 (none) or at least 2")
    for t in range(1, T + 1):
        for q in range(part, pieces, parts):  # our units of h_{t-1}: written by us
            lo, hi = split(n, q, pieces)
            for bi in range(B):
                own_rows_product(Mf[q], s[t - 1, bi], O[q, bi], False, lo, hi, n, 1)
                blocked_product(Mu[q], x[t - 1, bi], O[q, bi], True, 0, x.shape[2])
                if delay > 0 and t - delay >= 0:  # published at step t - delay <= t - 2
                    blocked_product(Ms[q], s[t - delay, bi], O[q, bi], True, 0, n)
        if not wait(flags, part, parts, t - 1):  # the partner's units of h_{t-1}
            return False
        for q in range(part, pieces, parts):
            lo, hi = split(n, q, pieces)
            w = hi - lo
            bw, cw, aw = b[lo:hi], carry[lo:hi], a[lo:hi]  # (w,): our units
            for bi in range(B):
                o = O[q, bi]
                other_rows_product(Mf[q], s[t - 1, bi], o, lo, hi, n, 1)
                # (loops over slices from 0, not over range(lo, hi): LLVM vectorises these only)
                vb = v[t - 1, bi, lo:hi]
                sp = s[t - 1, bi, lo:hi]
                sb = s[t, bi, lo:hi]
                # one loop per activation (see phi), so that each vectorises
                if act == TANH:
                    for i in range(w):
                        vi = tanh_vec(o[i] + bw[i])
                        vb[i] = vi
                        sb[i] = cw[i] * sp[i] + aw[i] * vi
                elif act == LINEAR:
                    for i in range(w):
                        vi = o[i] + bw[i]
                        vb[i] = vi
                        sb[i] = cw[i] * sp[i] + aw[i] * vi
                elif act == RELU:
                    for i in range(w):
                        zi = o[i] + bw[i]
                        vi = zi if zi > 0.0 else (zi if zi != zi else 0.0)
                        vb[i] = vi
                        sb[i] = cw[i] * sp[i] + aw[i] * vi
                else:  # SIGMOID
                    for i in range(w):
                        vi = sigmoid_vec(o[i] + bw[i])
                        vb[i] = vi
                        sb[i] = cw[i] * sp[i] + aw[i] * vi
        publish(flags, part, parts, t)  # our units of h_t
    return True


@kernel
def backward_sweep(Mb, Msb, delay, v, carry, a, act, dh, truncate, gh, delta, O, S, pieces,
                   flags, part, parts):
    """The sequential part of BPTT, steps T, T-1, ..., 1, as thread ``part`` of ``parts``.

    Fills gh (T+1, B, n) = total dL/ds_t and delta (T, B, n), delta[t-1] = dL/dz_t. As in
    ``forward_sweep``, each thread owns a piece of the units: per step it computes delta_t on
    them from its part of gh[t] and publishes it, sums W^T delta_t for its units over its own
    units of delta_t, and, once the partner's half has arrived, over the partner's (and the
    skip path's Ws^T delta_t into gh[t-d]). Before returning it waits for the partner's last
    delta, which the parameter gradients read. Returns False if aborted.
    """
    T, B, n = v.shape
    skip = delay > 0
    tiny = np.finfo(gh.dtype).tiny  # gradients below it are flushed to zero (``flush``)
    for t in range(T, 0, -1):
        d = delta[t - 1]
        count = T - t + 1
        flow = flows(t, t - 1, truncate)
        flow_skip = skip and t - delay >= 0 and flows(t, t - delay, truncate)
        for q in range(part, pieces, parts):
            lo, hi = split(n, q, pieces)
            w = hi - lo
            aw = a[lo:hi]
            # gh[t] is complete on our units: every later step has added its share
            for bi in range(B):  # (loops over slices from 0: see forward_sweep)
                g = gh[t, bi, lo:hi]
                vb = v[t - 1, bi, lo:hi]
                db_ = d[bi, lo:hi]
                # dphi written out per activation (see dphi), so that each loop vectorises
                if act == TANH:
                    for i in range(w):
                        db_[i] = g[i] * aw[i] * (1.0 - vb[i] * vb[i])
                elif act == SIGMOID:
                    for i in range(w):
                        db_[i] = g[i] * aw[i] * (vb[i] * (1.0 - vb[i]))
                elif act == RELU:
                    for i in range(w):
                        db_[i] = g[i] * aw[i] * (1.0 if vb[i] > 0.0 else 0.0)
                else:  # LINEAR
                    for i in range(w):
                        db_[i] = g[i] * aw[i] * 1.0
        publish(flags, part, parts, count)  # our units of delta_t
        if flow:
            for q in range(part, pieces, parts):
                lo, hi = split(n, q, pieces)
                for bi in range(B):
                    own_rows_product(Mb[q], d[bi], O[q, bi], False, lo, hi, n, 1)
        if (flow or flow_skip) and not wait(flags, part, parts, count):
            return False
        for q in range(part, pieces, parts):
            lo, hi = split(n, q, pieces)
            w = hi - lo
            cw = carry[lo:hi]
            # gh[t-1] = dh[t-1] + (carry * gh[t] + W^T delta_t); only dh[t-1] across a cut
            if flow:
                for bi in range(B):
                    o = O[q, bi]
                    other_rows_product(Mb[q], d[bi], o, lo, hi, n, 1)
                    g = gh[t, bi, lo:hi]
                    gp = gh[t - 1, bi, lo:hi]
                    if skip:
                        for i in range(w):
                            gp[i] = flush(gp[i] + (cw[i] * g[i] + o[i]), tiny)
                    elif t > 1:
                        up = dh[t - 2, bi, lo:hi]
                        for i in range(w):
                            gp[i] = flush(up[i] + (cw[i] * g[i] + o[i]), tiny)
                    else:
                        for i in range(w):
                            gp[i] = flush(0.0 + (cw[i] * g[i] + o[i]), tiny)
            elif not skip:  # (loops, not slice assignment: see forward_sweep's note)
                for bi in range(B):
                    gp = gh[t - 1, bi, lo:hi]
                    if t > 1:
                        up = dh[t - 2, bi, lo:hi]
                        for i in range(w):
                            gp[i] = up[i]
                    else:
                        for i in range(w):
                            gp[i] = 0.0
            if flow_skip:
                for bi in range(B):
                    sq = S[q, bi]
                    blocked_product(Msb[q], d[bi], sq, False, 0, n)
                    gs = gh[t - delay, bi, lo:hi]
                    for i in range(w):
                        gs[i] = gs[i] + sq[i]
    return wait(flags, part, parts, T)  # every unit's delta, for the parameter gradients


def backward_grads(U, Ws, delay, x, s, delta, lo, hi, dW, dU, db, dWs, dx, flags):
    """Add steps lo..hi's share to dW, dU, db, dWs and write dx[lo-1 .. hi-1].

    delta[t - 1] = dL/dz_t as left by ``backward_sweep``; one product for each, summed in a
    fixed order on this thread (``kernels.fast.grads``). Returns False if aborted.
    """
    T, B, m = x.shape
    n = U.shape[0]
    c = hi - lo + 1
    D = delta[lo - 1 : hi].reshape(c * B, n)  # rows: steps lo..hi
    if not outer_sum(D, s[lo - 1 : hi].reshape(c * B, n), dW, flags):
        return False
    row_sums(D, db)
    k = max(lo, delay)  # first step with a skip input s_{t-d}
    if Ws.shape[0] > 0 and k <= hi:
        Dd = delta[k - 1 : hi].reshape((hi - k + 1) * B, n)
        if not outer_sum(Dd, s[k - delay : hi - delay + 1].reshape((hi - k + 1) * B, n), dWs,
                         flags):
            return False
    return (outer_sum(D, x[lo - 1 : hi].reshape(c * B, m), dU, flags)
            and rows_times(D, U, dx[lo - 1 : hi].reshape(c * B, m), flags))


def backward_blocks(W, Ws, pieces):
    """For each piece, the columns of W (and Ws) that give its units' W^T delta_t, in blocks:
    Mb (pieces, nb, n, width), Msb."""
    units = unit_columns(W.shape[0], pieces, 1)
    Mb = blocked_pieces(W, units)
    return Mb, blocked_pieces(Ws, units) if Ws.shape[0] else _no_skip(Mb)


def backward_setup(Mb, k, x, dh):
    """The arrays a backward pass with blocks Mb (``backward_blocks``) and a skip path of
    size k (0: none) fills: gh (T+1, B, n), delta (T, B, n), dx (T, B, m); the product
    buffers O, S (``backward_sweep``); and for each of the two halves of time
    (``backward_part``) its own dW, dU, db, dWs (2, ...). gh starts as what the sweep adds
    to: with a skip path all of dh (skip terms arrive out of order), else only gh[T] =
    dh[T-1] (the sweep writes each gh[t-1] once, from dh[t-2])."""
    T, B, m = x.shape
    pieces, n, dt = Mb.shape[0], Mb.shape[2], Mb.dtype
    gh = shared_empty((T + 1, B, n), dt, pieces)  # (T+1, B, n)
    if k:
        gh[0] = 0.0
        gh[1:] = dh
    else:
        gh[T] = dh[T - 1]
    return (gh,
            shared_empty((T, B, n), dt, pieces),  # delta (T, B, n)
            np.empty((T, B, m), dt),  # dx (T, B, m)
            outputs(Mb, B), outputs(Mb, B),
            np.zeros((2, n, n), dt), np.zeros((2, n, m), dt), np.zeros((2, n), dt),
            np.zeros((2, k, k), dt))


@quiet
def add_halves(*accumulators):
    """a[0] + a[1] for each (2, ...) accumulator of the two halves of time."""
    return tuple(acc[0] + acc[1] for acc in accumulators)


def time_halves(T, pieces, part, parts):
    """(q, lo, hi): the halves of time, steps lo..hi, whose gradients thread ``part`` of
    ``parts`` sums, each into accumulator q (the caller adds the two, ``add_halves``). For a
    sweep in two pieces the halves end at T // 2 and T, one per thread; a single piece has
    one half, all of time."""
    cut = T // 2 if pieces == 2 else 0
    halves = ((0, cut + 1, T), (1, 1, cut))
    return [halves[q] for q in range(part, 2, parts) if halves[q][1] <= halves[q][2]]


def backward_part(Mb, Msb, U, Ws, delay, x, s, v, carry, a, act, dh, truncate, gh, delta, dx, O,
                  S, dW2, dU2, db2, dWs2, pieces, flags, part, parts):
    """Thread ``part`` of ``parts`` of a backward pass: the sweep (split by units), then the
    parameter gradients (split by time: half q of time into dW2[q], dU2[q], ...; the caller
    adds the halves, ``add_halves``). Arrays from ``backward_setup``. Returns False if
    aborted. (``gradlab.cells.rnn`` runs it on one thread or two, with the same sums in the
    same order: the results are identical bit for bit.)"""
    if not backward_sweep(Mb, Msb, delay, v, carry, a, act, dh, truncate, gh, delta, O, S, pieces,
                          flags, part, parts):
        return False
    for q, lo, hi in time_halves(x.shape[0], pieces, part, parts):
        if not backward_grads(U, Ws, delay, x, s, delta, lo, hi, dW2[q], dU2[q], db2[q], dWs2[q],
                              dx, flags):
            return False
    return True


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

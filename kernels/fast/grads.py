"""Parameter-gradient products after a backward sweep, in a fixed order and without BLAS.

After the sequential sweep, every cell's parameter gradients are sums over the rows r (one
row per step and batch element) of products of the pre-activation gradients D (R, p) with
the states or inputs S (R, q):

    dW = D^T S   (``outer_sum``),   dx = D U   (``rows_times``),   db = sum_r D[r]   (``row_sums``)

BLAS would do these faster when idle, but its result may depend on how many threads it
runs (and its thread count is a process-wide setting that no library call should change),
and a threaded BLAS stalls when another process holds a core. These loops run on the
calling thread only, and every output is one sum over r = 0, 1, ..., R - 1 in that order,
one multiply and one add per term (no fused multiply-add): the bits depend on nothing but
the inputs. ``outer_sum`` keeps 32 outputs in registers (``matvec._block``) over a chunk of
rows copied to cache-sized blocks.

Each function checks the abort flag (``sync.aborted``) between chunks of rows, so a long
pass can be stopped (Ctrl-C) within milliseconds; it then returns False and leaves its
outputs partly summed.
"""

import numpy as np

from .._flags import kernel
from .matvec import BLOCK_BYTES, _block
from .sync import aborted

CHUNK = 64  # rows per chunk: a chunk of one block of S is 16 KB (float64), it stays in L1


@kernel
def outer_sum(D, S, out, flags):
    """out (p, q) += D^T S for D (R, p), S (R, q); each out[i, c] is summed over r in order.
    Narrow outputs (q below a block) are summed as out^T += S^T D, whose blocks are full: the
    same sums, the same bits. Returns False if aborted."""
    q, p = S.shape[1], D.shape[1]
    if q < BLOCK_BYTES // S.itemsize and q < p:
        t = np.ascontiguousarray(out.T)  # (q, p)
        if not _outer(S, D, t, flags):
            return False
        out[:, :] = t.T
        return True
    return _outer(D, S, out, flags)


@kernel
def rows_times(D, U, out, flags):
    """out (R, m) = D U for D (R, p), U (p, m); each out[r, j] is summed over i in order.

    A block of ``width`` rows of D is transposed into Dc (p, width), and out[r0:r0+width, j]
    is one blocked product of column j of U with it. Returns False if aborted."""
    R, p = D.shape
    m = U.shape[1]
    width = BLOCK_BYTES // D.itemsize
    Dc = np.zeros((p, width), D.dtype)  # (p, width): rows r0 .. r0+width of D, transposed
    o = np.empty(width, out.dtype)
    for r0 in range(0, R, width):
        if r0 % (16 * width) == 0 and aborted(flags):
            return False
        rows = min(width, R - r0)
        for r in range(rows):
            Dr = D[r0 + r]
            for i in range(p):
                Dc[i, r] = Dr[i]
        for j in range(m):
            _block(Dc, U[:, j], o, False, 0, p)
            for r in range(rows):
                out[r0 + r, j] = o[r]
    return True


@kernel
def _outer(D, S, out, flags):
    """out (p, q) += D^T S (see ``outer_sum``), the rows in chunks, S's chunk in blocks."""
    R, p = D.shape
    q = S.shape[1]
    width = BLOCK_BYTES // S.itemsize
    nb = (q + width - 1) // width
    Sc = np.zeros((nb, CHUNK, width), S.dtype)  # (nb, CHUNK, width): a chunk of S in blocks
    Dc = np.empty((p, CHUNK), D.dtype)  # (p, CHUNK): a chunk of D, transposed
    Ob = np.zeros((p, nb * width), out.dtype)  # (p, nb width): out, padded to whole blocks
    for i in range(p):
        for c in range(q):
            Ob[i, c] = out[i, c]
    for r0 in range(0, R, CHUNK):
        if aborted(flags):
            return False
        rows = min(CHUNK, R - r0)
        for r in range(rows):
            Sr = S[r0 + r]
            for k in range(nb):
                Sk = Sc[k, r]
                c0 = k * width
                for c in range(min(width, q - c0)):
                    Sk[c] = Sr[c0 + c]
            Dr = D[r0 + r]
            for i in range(p):
                Dc[i, r] = Dr[i]
        for k in range(nb):
            for i in range(p):
                _block(Sc[k], Dc[i], Ob[i, k * width: (k + 1) * width], True, 0, rows)
    for i in range(p):
        for c in range(q):
            out[i, c] = Ob[i, c]
    return True


@kernel
def row_sums(D, out):
    """out (p,) += D[0] + D[1] + ... + D[R-1], in that order."""
    R, p = D.shape
    for r in range(R):
        for i in range(p):
            out[i] += D[r, i]

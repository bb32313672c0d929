"""The recurrent product of every sweep, out (+)= h[j0:j1] A[j0:j1], with the outputs in registers.

Each step of a recurrent sweep multiplies a short vector by a block of a matrix that sits in
cache. Written as numba loops, that sum either loads and stores ``out`` every few rows (the
``axpy`` form) or does not vectorise at all (scalar accumulators). Here A is kept in
*blocks* of 32 columns (float64; 64 in float32), each block contiguous (``blocked``), and
``_block`` holds one block's 32 outputs in eight vector registers while it walks down the
rows: each element of A is loaded once, in address order, and ``out`` once per block, near
the cache's rate (docs/performance.md). ``_block`` is written directly as LLVM IR, because
numba has no vector type; ``kernels.fast.grads`` uses it for the parameter gradients too.

The sum for each output runs over j in plain order, one multiply and one add per term, with
no fused multiply-add and no reassociation (no fast-math flags), so the bits are those of
the obvious loop ``o = o + h[j] * A[j, c]``: they do not depend on the block width, on where a
caller cuts the rows, or on the machine's vector width.
"""

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from .._flags import kernel

_VECTOR_BYTES = 32  # one AVX register (LLVM splits or joins these for other vector widths)
_VECTORS = 8  # accumulators per block: 8 x 4 doubles = 32 outputs
BLOCK_BYTES = _VECTOR_BYTES * _VECTORS  # a block's row: 32 float64 or 64 float32


def _ptr(builder, base, offset, ty):
    """A pointer of type ty* at byte address base + offset (both intp values)."""
    return builder.inttoptr(builder.add(base, offset), ty.as_pointer())


@intrinsic
def _block(typingctx, A, h, out, accumulate, j0, j1):
    """out[c] (+)= sum_{j0 <= j < j1} h[j] A[j, c] for one block: A (p, w) C-contiguous with
    w * itemsize = BLOCK_BYTES, h (p,), out (w,) contiguous; the caller guarantees the shapes
    and 0 <= j0, j1 <= p. The accumulators are LLVM vectors carried around the loop over j
    (phi nodes), so they stay in registers."""
    ok = (isinstance(A, types.Array) and A.ndim == 2 and A.layout == "C"
          and isinstance(h, types.Array) and h.ndim == 1
          and isinstance(out, types.Array) and out.ndim == 1 and out.layout == "C"
          and A.dtype == h.dtype == out.dtype and A.dtype in (types.float64, types.float32))
    if not ok:
        return None
    sig = types.none(A, h, out, types.boolean, types.intp, types.intp)

    def codegen(context, builder, sig, args):
        Aty, hty, oty = sig.args[:3]
        a = context.make_array(Aty)(context, builder, args[0])
        hv = context.make_array(hty)(context, builder, args[1])
        o = context.make_array(oty)(context, builder, args[2])
        accumulate, j0, j1 = args[3:]
        intp = context.get_value_type(types.intp)
        elt = context.get_data_type(Aty.dtype)
        size = context.get_abi_sizeof(elt)
        lanes = _VECTOR_BYTES // size
        vec = ir.VectorType(elt, lanes)
        a_row = cgutils.unpack_tuple(builder, a.strides, 2)[0]  # bytes between rows of A
        h_step = cgutils.unpack_tuple(builder, hv.strides, 1)[0]
        a_base = builder.ptrtoint(a.data, intp)
        h_base = builder.ptrtoint(hv.data, intp)
        o_base = builder.ptrtoint(o.data, intp)

        def out_ptr(k):
            return _ptr(builder, o_base, ir.Constant(intp, k * _VECTOR_BYTES), vec)

        zero = ir.Constant(vec, None)
        init = []
        for k in range(_VECTORS):
            start = builder.load(out_ptr(k), align=size)
            init.append(builder.select(accumulate, start, zero))
        entry = builder.block
        loop = builder.append_basic_block("cols.loop")
        done = builder.append_basic_block("cols.done")
        builder.cbranch(builder.icmp_signed("<", j0, j1), loop, done)

        builder.position_at_end(loop)
        j = builder.phi(intp)
        j.add_incoming(j0, entry)
        acc = []
        for k in range(_VECTORS):
            phi = builder.phi(vec)
            phi.add_incoming(init[k], entry)
            acc.append(phi)
        hj = builder.load(_ptr(builder, h_base, builder.mul(j, h_step), elt), align=size)
        splat = builder.insert_element(ir.Constant(vec, ir.Undefined), hj, ir.Constant(intp, 0))
        splat = builder.shuffle_vector(splat, ir.Constant(vec, ir.Undefined),
                                       ir.Constant(ir.VectorType(ir.IntType(32), lanes), None))
        row = builder.mul(j, a_row)
        new = []
        for k in range(_VECTORS):
            v = builder.load(_ptr(builder, a_base, builder.add(row, ir.Constant(
                intp, k * _VECTOR_BYTES)), vec), align=size)
            new.append(builder.fadd(acc[k], builder.fmul(splat, v)))
        j_next = builder.add(j, ir.Constant(intp, 1))
        body_end = builder.block
        j.add_incoming(j_next, body_end)
        for k in range(_VECTORS):
            acc[k].add_incoming(new[k], body_end)
        builder.cbranch(builder.icmp_signed("<", j_next, j1), loop, done)

        builder.position_at_end(done)
        res = []
        for k in range(_VECTORS):  # (every phi before the first store)
            res.append(builder.phi(vec))
            res[k].add_incoming(init[k], entry)
            res[k].add_incoming(new[k], body_end)
        for k in range(_VECTORS):
            builder.store(res[k], out_ptr(k), align=size)
        return context.get_dummy_value()

    return sig, codegen


def block_width(dtype) -> int:
    """Columns in one block of ``blocked`` for dtype (32 for float64, 64 for float32)."""
    return BLOCK_BYTES // np.dtype(dtype).itemsize


def blocked(M, cols) -> np.ndarray:
    """M[:, cols] (p, len(cols)) in blocks of ``block_width`` columns, (nb, p, width), each block
    C-contiguous; the last block is padded with zero columns (their outputs are never read)."""
    return blocked_pieces(M, [cols])[0]


def blocked_pieces(M, col_lists) -> np.ndarray:
    """``blocked`` for each piece's columns (a range or index list each), stacked
    (pieces, nb, p, width) with the same nb for all."""
    width = block_width(M.dtype)
    nb = max(1, max(-(-len(c) // width) for c in col_lists))
    out = np.empty((len(col_lists), nb, M.shape[0], width), dtype=M.dtype)
    for q, cols in enumerate(col_lists):
        for k in range(nb):
            part = cols[k * width: (k + 1) * width]
            c = len(part)
            if isinstance(part, range) and part.step == 1:
                out[q, k, :, :c] = M[:, part.start: part.stop]
            elif c:
                out[q, k, :, :c] = M[:, np.asarray(part, dtype=np.intp)]
            out[q, k, :, c:] = 0.0
    return out


@kernel
def blocked_product(Ab, h, out, accumulate, j0, j1):
    """out (+)= h[j0:j1] A[j0:j1] for A in blocks, Ab (nb, p, width) from ``blocked``; h (p,),
    out (nb * width,) contiguous. With ``accumulate`` false out is overwritten (a sum over no
    rows is zero). Each block runs in registers (``_block``)."""
    nb, p, width = Ab.shape
    # (_block's loads are LLVM IR, which NUMBA_BOUNDSCHECK does not see: check here, once)
    if (j0 < 0 or j1 > p or h.shape[0] < min(j1, p) or out.shape[0] < nb * width
            or width * Ab.itemsize != BLOCK_BYTES):
        raise IndexError("blocked_product: rows, buffer or block width out of range")
    for k in range(nb):
        _block(Ab[k], h, out[k * width: (k + 1) * width], accumulate, j0, j1)


# A thread of a pair owns units [lo, hi) of n (``kernels.fast.sync``). Its rows of a weight matrix
# made of ``gates`` blocks of n rows are k n + [lo, hi) in each block; the partner's are the
# rest. The sweeps sum over their own rows first and over the partner's once it has
# published them; these two fix that order, so one thread running both pieces does the
# same sums.


@kernel
def own_rows_product(Ab, h, out, accumulate, lo, hi, n, gates):
    """out (+)= sum over rows k n + [lo, hi) of each of ``gates`` blocks (``blocked_product``)."""
    for k in range(gates):
        blocked_product(Ab, h, out, accumulate or k > 0, k * n + lo, k * n + hi)


@kernel
def other_rows_product(Ab, h, out, lo, hi, n, gates):
    """out += sum over the other rows of each block: k n + [hi, n), then k n + [0, lo)."""
    for k in range(gates):
        if hi < n:
            blocked_product(Ab, h, out, True, k * n + hi, (k + 1) * n)
        if lo > 0:
            blocked_product(Ab, h, out, True, k * n, k * n + lo)

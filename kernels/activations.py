"""tanh and sigmoid as plain arithmetic, so that loops calling them vectorise.

numba calls libm's tanh and exp one scalar at a time, which costs as much as a step's
recurrent product at n = 128 (docs/performance.md). These functions use only arithmetic,
bit operations and selects, so LLVM turns a loop over them into vector code. Both stay
within a few ulp of libm, pass inf and nan through as libm does, and compute in float64
(float32 callers round the result once). Every cell kernel uses these two; the RNN's loops
call them directly.

exp's 2^k is built in the exponent bits, and k is rounded by adding 1.5 * 2^52 (the integer
then sits in the low bits), so no float-to-int conversion is needed (AVX2 has none for 64
bits). Cephes' rational forms give tanh near 0 and exp(r) on |r| <= ln2 / 2.
"""

import numpy as np

from ._flags import kernel

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
_CLAMP = 708.0  # |exp argument| limit: 2^k stays a normal number


@kernel
def exp_parts(y):
    """(P, Q, 2^k) with e^y = 2^k (Q + P) / (Q - P), for |y| <= 708 (Cephes' exp.c).

    y = k ln2 + r, |r| <= ln2 / 2; k is rounded by adding 1.5 * 2^52 (it then sits in the
    low bits of kd) and 2^k is built in the exponent bits. The callers fold the division
    into their own, so each activation costs one.
    """
    kd = y * _LOG2E + _MAGIC
    k = kd - _MAGIC
    r = (y - k * _LN2_HI) - k * _LN2_LO
    rr = r * r
    px = r * ((_EP0 * rr + _EP1) * rr + _EP2)
    qx = ((_EQ0 * rr + _EQ1) * rr + _EQ2) * rr + _EQ3
    p2 = np.int64((np.float64(kd).view(np.int64) - _MAGIC_BITS + 1023) << 52).view(np.float64)
    return px, qx, p2


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
    x = np.float64(x)
    ax = abs(x)
    s = x * x
    num_small = x * s * ((_TP0 * s + _TP1) * s + _TP2)
    den_small = ((s + _TQ1) * s + _TQ2) * s + _TQ3
    y = 2.0 * ax
    y = y if y < 40.0 else 40.0  # also maps inf (and nan, fixed below) into range
    px, qx, p2 = exp_parts(y)
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
def sigmoid_vec(x):
    """1 / (1 + e^-x) as arithmetic, bit operations and selects (see the module docstring).

    With y = -x clamped to [-708, 708], y = k ln2 + r and e^r = (Q + P) / (Q - P) (Cephes'
    rational for exp), sigmoid = (Q - P) / ((Q - P) + 2^k (Q + P)): one division. x < -708
    gives 0 (the true value is below e^-708 = 3.3e-308); sigmoid(inf) = 1, sigmoid(-inf) = 0,
    nan stays nan. Within 4 ulp of 1 / (1 + exp(-x)) in float64.
    """
    xd = np.float64(x)
    y = -xd
    y = y if y < _CLAMP else _CLAMP  # (nan also becomes 708 here; fixed below)
    y = y if y > -_CLAMP else -_CLAMP
    px, qx, p2 = exp_parts(y)
    d = qx - px
    out = d / (d + p2 * (qx + px))
    out = 0.0 if xd < -_CLAMP else out
    return xd if xd != xd else out


@kernel
def tanh_into(a, out):
    """out[j] = tanh(a[j]) for every j of two 1-d arrays (slices) of the same length."""
    for j in range(a.shape[0]):
        out[j] = tanh_vec(a[j])


@kernel
def sigmoid_into(a, out):
    """out[j] = sigmoid(a[j]) for every j of two 1-d arrays (slices) of the same length."""
    for j in range(a.shape[0]):
        out[j] = sigmoid_vec(a[j])

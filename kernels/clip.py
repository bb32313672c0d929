"""Gradient clipping kernels: an overflow-safe sum of squares, and element-wise clipping.

Global-norm clipping (Mikolov 2012; Pascanu, Mikolov and Bengio 2013, Algorithm 1):

    g_hat = dL/dtheta (all parameters, one vector);  if ||g_hat|| > threshold:
        g_hat <- threshold / ||g_hat|| * g_hat

Value clipping: g <- min(max(g, -limit), limit) entry by entry.

The norm is kept as (scale, ssq) with sum g_i^2 = scale^2 * ssq and scale = max |g_i|
(LAPACK's dlassq idea), so gradients near the float64 limit still give a finite scale factor.
"""

import numpy as np

from ._flags import kernel


@kernel
def sum_squares(g):
    """(scale, ssq) for a 1-D array g: sum g^2 = scale^2 * ssq, scale = max |g_i|.

    nan anywhere gives (nan, nan); an inf (and no nan) gives (inf, inf); all zeros (0, 0).
    """
    scale = 0.0
    for x in g:
        ax = abs(x)
        if ax != ax:
            return np.nan, np.nan
        if ax > scale:
            scale = ax
    if scale == 0.0 or scale == np.inf:
        return scale, scale
    ssq = 0.0
    for x in g:
        r = x / scale
        ssq += r * r
    return scale, ssq


@kernel
def combine(scales, ssqs):
    """(scale, ssq) of several arrays together from their own (scale, ssq) pairs."""
    top = 0.0
    for s in scales:
        if s != s:
            return np.nan, np.nan
        top = max(top, s)
    if top == 0.0 or top == np.inf:
        return top, top
    ssq = 0.0
    for i in range(scales.size):
        r = scales[i] / top
        ssq += ssqs[i] * r * r
    return top, ssq


@kernel
def clip_values(g, limit, out):
    """out = g clipped to [-limit, limit] (nan stays nan); returns how many entries changed."""
    changed = 0
    for i in range(g.size):
        x = g[i]
        if x > limit:
            out[i] = limit
            changed += 1
        elif x < -limit:
            out[i] = -limit
            changed += 1
        else:
            out[i] = x
    return changed

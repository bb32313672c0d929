"""The Pascanu cliff: a one-unit recurrent net, forward and BPTT, for many (w, b) at once.

The model of Pascanu, Mikolov and Bengio (2013), section 3.2, with sigma the logistic sigmoid:

    x_t = w sigma(x_{t-1}) + b,   t = 1..T,   x_0 given
    E   = (sigma(x_T) - target)^2

Writing s_t = sigma(x_t) and delta_t = dE/dx_t, backpropagation through time is

    delta_T     = 2 (s_T - target) s_T (1 - s_T)
    delta_{t-1} = delta_t w s_{t-1} (1 - s_{t-1})
    dE/dw       = sum_{t=1..T} delta_t s_{t-1}
    dE/db       = sum_{t=1..T} delta_t

Every point (w, b) is its own small network. The kernel takes them in blocks of ``BLOCK``
points; inside a block each time step is a loop over the points, whose iterations are
independent, so LLVM vectorises it (the sigmoid is ``kernels.activations.sigmoid_vec``,
plain arithmetic). One thread: the whole 601 x 401 grid takes a few tens of milliseconds
(``benchmarks/bench_cliff.py``). inf and nan in w or b propagate to the results.
"""

import numpy as np

from ._flags import kernel
from .activations import sigmoid_vec

BLOCK = 128  # points per block: s (T + 1, BLOCK) stays in cache


@kernel
def cliff_points(w, b, steps, x0, target, E, dE_dw, dE_db):
    """E, dE/dw, dE/db of the one-unit model for every point (w[p], b[p]).

    w, b: (P,) float64; E, dE_dw, dE_db: (P,) outputs, written in place. steps = T >= 1,
    x0 = x_0, target: floats. See the module docstring for the formulas.
    """
    P = w.shape[0]
    s = np.empty((steps + 1, BLOCK))  # (T + 1, BLOCK): s_t = sigma(x_t) per point
    delta = np.empty(BLOCK)  # (BLOCK,): dE/dx_t, running backwards
    gw = np.empty(BLOCK)
    gb = np.empty(BLOCK)
    s0 = sigmoid_vec(x0)
    for start in range(0, P, BLOCK):
        k = min(BLOCK, P - start)
        wk = w[start:start + k]  # (k,)
        bk = b[start:start + k]  # (k,)
        for j in range(k):
            s[0, j] = s0
        # forward: x_t = w s_{t-1} + b, s_t = sigma(x_t)
        for t in range(1, steps + 1):
            prev = s[t - 1]
            cur = s[t]
            for j in range(k):
                cur[j] = sigmoid_vec(wk[j] * prev[j] + bk[j])
        # loss and dE/dx_T
        last = s[steps]
        for j in range(k):
            sT = last[j]
            r = sT - target
            E[start + j] = r * r
            delta[j] = 2.0 * r * sT * (1.0 - sT)
            gw[j] = 0.0
            gb[j] = 0.0
        # backward: accumulate step t's terms, then delta_{t-1} = delta_t w sigma'(x_{t-1})
        for t in range(steps, 0, -1):
            prev = s[t - 1]
            for j in range(k):
                d = delta[j]
                sp = prev[j]
                gw[j] += d * sp
                gb[j] += d
                delta[j] = d * wk[j] * sp * (1.0 - sp)
        for j in range(k):
            dE_dw[start + j] = gw[j]
            dE_db[start + j] = gb[j]

"""The vanilla RNN cell (leaky, residual and skip-through-time forms) on top of kernels.rnn.

h_t = k * h_{t-1} + a * phi(W h_{t-1} + U x_t + b + b_h [+ Ws h_{t-d}])
with per-unit leak a in (0, 1] and carry k = 1 - a, or k = 1 in the residual form.

Long backward passes run on two threads: this one sweeps back through time block by block
(``kernels.rnn.backward_sweep``) while a second turns each finished block into its share of
the parameter gradients (``backward_grads``). Both kernels release the GIL; the sums are
the same, in the same order, as ``kernels.rnn.rnn_backward`` (one thread), which short
passes and one-core machines use.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from kernels._flags import ACTIVATIONS
from kernels.rnn import (
    backward_blocks,
    backward_buffers,
    backward_grads,
    backward_sweep,
    rnn_backward,
    rnn_forward,
    rnn_step_jacobians,
    serial_blocks,
)

from ..params import Params

GATES = ("phi",)


def make_params(weights, options) -> Params:
    """Params for an RNN (Params itself validates the options through ``check``)."""
    return Params("rnn", weights, options)


def check(weights, options):
    """(weights, options) validated, options with defaults: activation, leak, residual,
    skip_delay. Params calls this on construction, so every Params is valid."""
    o = {"activation": "tanh", "leak": 1.0, "residual": False, "skip_delay": 0}
    o.update(options)
    if o["activation"] not in ACTIVATIONS:
        raise ValueError(f"activation={o['activation']!r} is not one of {sorted(ACTIVATIONS)}")
    n = np.asarray(weights["W"]).shape[1]
    try:
        leak = np.broadcast_to(np.asarray(o["leak"], dtype=np.float64), (n,)).copy()
    except ValueError:
        raise ValueError(f"leak has shape {np.shape(o['leak'])}; give one value or {n}") from None
    if not np.all((leak > 0) & (leak <= 1)):
        raise ValueError(f"leak={o['leak']!r} must lie in (0, 1] for every unit")
    o["leak"] = leak
    o["residual"] = bool(o["residual"])
    d = int(o["skip_delay"])
    if d == 1 or d < 0:
        raise ValueError(f"skip_delay={d} must be 0 (no skip) or at least 2")
    if d and "Ws" not in weights:
        raise ValueError("skip_delay > 0 needs a skip weight matrix 'Ws' (n, n)")
    if "Ws" in weights and np.shape(weights["Ws"]) != (n, n):
        raise ValueError(f"Ws has shape {np.shape(weights['Ws'])}; expected ({n}, {n})")
    if not d and "Ws" in weights:
        raise ValueError("Ws is given but skip_delay is 0")
    o["skip_delay"] = d
    return weights, o


def init_weights(n, m, rngs, W):
    """Weights for a fresh RNN with recurrent matrix W (n, n)."""
    U = rngs[1].standard_normal((n, m)) / np.sqrt(m)
    return {"W": W, "U": U, "b": np.zeros(n), "b_h": np.zeros(n)}


def _coefficients(p: Params):
    a = np.asarray(p.options["leak"], dtype=p.dtype)
    carry = np.ones_like(a) if p.options["residual"] else 1.0 - a
    return carry, a


def _skip(p: Params):
    d = p.options["skip_delay"]
    Ws = p.weights["Ws"] if d else np.zeros((0, 0), p.dtype)
    return Ws, d


def forward(p: Params, x, h0, c0):
    from ..ops import Trace

    if c0 is not None:
        raise ValueError("c0 is for the LSTM; an RNN has no cell state")
    w = p.weights
    carry, a = _coefficients(p)
    Ws, d = _skip(p)
    xt = np.ascontiguousarray(x.transpose(1, 0, 2))  # (T, B, m)
    s, v = rnn_forward(w["W"], w["U"], w["b"] + w["b_h"], Ws, d, xt, h0, carry, a,
                       ACTIVATIONS[p.options["activation"]])
    h = np.ascontiguousarray(s[1:].transpose(1, 0, 2))  # (B, T, n)
    return Trace("rnn", x, h0, h, gates={"phi": v.transpose(1, 0, 2)},
                 cache={"s": s, "v": v, "x": xt})


# multiply-adds in dW, dU, dx (T B n (n + 2m)) below which a second thread costs more than it
# saves (starting it and handing over five blocks: about 0.5 ms; measured break-even about
# 9 million on the 2-core machine, e.g. n = 128, T = 500)
_TWO_THREADS_WORK = 10_000_000


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _backward_kernels(W, U, Ws, d, x, s, v, carry, a, act, dh, truncate):
    """rnn_backward, or the same sums on two threads when the pass is long enough."""
    T, B, m = x.shape
    n = W.shape[0]
    blocks = backward_blocks(T, B, n)
    if (T * B * n * (n + 2 * m) < _TWO_THREADS_WORK or len(blocks) < 2 or _cores() < 2
            or not serial_blocks(B, n, max(n, m))):  # (else BLAS itself takes both cores)
        return rnn_backward(W, U, Ws, d, x, s, v, carry, a, act, dh, truncate)
    P = int(np.max(blocks[:, 1] - blocks[:, 0])) + 1
    gh, delta, back, dW, dU, db, dWs, dx, pW, pU, pWs = backward_buffers(W, U, Ws, x, 2 * P)
    halves = (delta[:P], delta[P:])  # block k is swept into halves[k % 2]
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = None
        for k, (lo, hi) in enumerate(blocks.tolist()):
            backward_sweep(W, Ws, d, v, carry, a, act, dh, truncate, gh, halves[k % 2], back,
                           lo, hi)
            if pending is not None:
                pending.result()  # block k-1's gradients: its half is free for block k+1
            pending = pool.submit(backward_grads, U, Ws, d, x, s, halves[k % 2], lo, hi, dW, dU,
                                  db, dWs, dx, pW, pU, pWs)
        pending.result()
    return gh, dW, dU, db, dWs, dx


def backward(p: Params, trace, dh, dc, truncate):
    from ..ops import Grads

    if dc is not None:
        raise ValueError("dc is for the LSTM; an RNN has no cell state")
    w = p.weights
    carry, a = _coefficients(p)
    Ws, d = _skip(p)
    c = trace.cache
    dht = np.ascontiguousarray(dh.transpose(1, 0, 2))  # (T, B, n)
    gh, dW, dU, db, dWs, dx = _backward_kernels(w["W"], w["U"], Ws, d, c["x"], c["s"], c["v"],
                                                carry, a, ACTIVATIONS[p.options["activation"]],
                                                dht, truncate)
    grads = {"W": dW, "U": dU, "b": db, "b_h": db.copy()}
    if d:
        grads["Ws"] = dWs
    return Grads(h=np.ascontiguousarray(gh[1:].transpose(1, 0, 2)), h0=gh[0],
                 x=np.ascontiguousarray(dx.transpose(1, 0, 2)), params=grads)


def step_jacobians(p: Params, trace):
    carry, a = _coefficients(p)
    J = rnn_step_jacobians(p.weights["W"], trace.cache["v"], carry, a,
                           ACTIVATIONS[p.options["activation"]])
    return J.transpose(1, 0, 2, 3)  # (B, T, n, n)

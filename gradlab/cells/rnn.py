"""The vanilla RNN cell (leaky, residual and skip-through-time forms) on top of kernels.rnn.

h_t = k * h_{t-1} + a * phi(W h_{t-1} + U x_t + b + b_h [+ Ws h_{t-d}])
with per-unit leak a in (0, 1] and carry k = 1 - a, or k = 1 in the residual form.

``gradlab.engine`` runs the sweeps: on one thread by default, on a pair in lock step on
request. Either way the same pieces run with the same sums in the same order, so the results
are identical bit for bit.
"""

from __future__ import annotations

import numpy as np

from kernels._flags import ACTIVATIONS
from kernels.rnn import (
    add_halves,
    backward_blocks,
    backward_part,
    backward_setup,
    forward_blocks,
    forward_setup,
    forward_sweep,
    rnn_step_jacobians,
)

from .. import engine
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
    W = w["W"]
    plan = _plan(W, Ws, xt)
    Mf, Mu, Ms = p.derived(("forward", plan[0]), lambda: forward_blocks(W, w["U"], Ws, plan[0]))
    s, v, O = forward_setup(Mf, xt, h0)
    engine.run(forward_sweep, (Mf, Mu, Ms, d, w["b"] + w["b_h"], xt, s, v, carry, a,
                             ACTIVATIONS[p.options["activation"]], O), plan)
    h = np.ascontiguousarray(s[1:].transpose(1, 0, 2))  # (B, T, n)
    return Trace("rnn", x, h0, h, gates={"phi": v.transpose(1, 0, 2)},
                 cache={"s": s, "v": v, "x": xt})


def _plan(W, Ws, x) -> tuple[int, int]:
    T, B, _ = x.shape
    n = W.shape[0]
    return engine.plan(B * n * (n + Ws.shape[0]), T)


def backward(p: Params, trace, dh, dc, truncate):
    from ..ops import Grads

    if dc is not None:
        raise ValueError("dc is for the LSTM; an RNN has no cell state")
    w = p.weights
    carry, a = _coefficients(p)
    Ws, d = _skip(p)
    c = trace.cache
    dht = np.ascontiguousarray(dh.transpose(1, 0, 2))  # (T, B, n)
    W, U, x = w["W"], w["U"], c["x"]
    plan = _plan(W, Ws, x)
    Mb, Msb = p.derived(("backward", plan[0]), lambda: backward_blocks(W, Ws, plan[0]))
    gh, delta, dx, O, S, dW2, dU2, db2, dWs2 = backward_setup(Mb, Ws.shape[0], x, dht)
    engine.run(backward_part, (Mb, Msb, U, Ws, d, x, c["s"], c["v"], carry, a,
                             ACTIVATIONS[p.options["activation"]], dht, truncate, gh, delta, dx,
                             O, S, dW2, dU2, db2, dWs2), plan)
    dW, dU, db, dWs = add_halves(dW2, dU2, db2, dWs2)
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

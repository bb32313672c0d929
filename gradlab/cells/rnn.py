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
from ..trace import Grads, Trace
from .spec import CellSpec, WeightSpec

GATES = ("phi",)
OPTIONS = {"activation": "tanh", "leak": 1.0, "residual": False, "skip_delay": 0}


def check(weights, options):
    """(weights, options) validated, options with defaults: activation, leak, residual,
    skip_delay. Params calls this on construction, so every Params is valid."""
    o = dict(OPTIONS)
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
    d = o["skip_delay"]
    if isinstance(d, (bool, np.bool_)) or not isinstance(d, (int, np.integer)):
        raise ValueError(f"skip_delay={d!r} must be an integer: 0 (no skip) or a delay >= 2")
    d = int(d)
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


def init_weights(n, m, rngs, W, options):
    """Weights for a fresh RNN with recurrent matrix W (n, n); with a skip delay, a skip
    matrix Ws of N(0, 1/n) entries scaled to spectral radius 0.5."""
    U = rngs[1].standard_normal((n, m)) / np.sqrt(m)
    weights = {"W": W, "U": U, "b": np.zeros(n), "b_h": np.zeros(n)}
    if options.get("skip_delay") and "Ws" not in weights:
        A = rngs[2].standard_normal((n, n)) / np.sqrt(n)
        weights["Ws"] = A * (0.5 / np.max(np.abs(np.linalg.eigvals(A))))
    return weights


def _coefficients(p):
    a = np.asarray(p.options["leak"], dtype=p.dtype)
    carry = np.ones_like(a) if p.options["residual"] else 1.0 - a
    return carry, a


def _skip(p):
    d = p.options["skip_delay"]
    Ws = p.weights["Ws"] if d else np.zeros((0, 0), p.dtype)
    return Ws, d


def forward(p, x, h0, c0):
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


def backward(p, trace, dh, dc, truncate):
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


def step_jacobians(p, trace):
    carry, a = _coefficients(p)
    J = rnn_step_jacobians(p.weights["W"], trace.cache["v"], carry, a,
                           ACTIVATIONS[p.options["activation"]])
    return J.transpose(1, 0, 2, 3)  # (B, T, n, n)


def _check_spectra(options) -> None:
    if options.get("skip_delay"):
        raise ValueError("an RNN with a skip connection through time (skip_delay > 0) is not "
                         "Markov in h_t alone, so ds_T/ds_{T-l} is not a product of step "
                         "Jacobians; set skip_delay=0 for spectra")


SPEC = CellSpec(
    name="rnn", label="RNN", blocks=1, gates=GATES, unit_gates=(), state=("h",),
    weights={"W": WeightSpec(("n", "n"), "weight_hh"), "U": WeightSpec(("n", "m"), "weight_ih"),
             "b": WeightSpec(("n",), "bias_ih"), "b_h": WeightSpec(("n",), "bias_hh"),
             "Ws": WeightSpec(("n", "n"), None, optional=True)},
    options=OPTIONS, check=check, recurrent="W", shown_matrix=lambda p: p.weights["W"],
    highway=None, torch=True, forward=forward, backward=backward,
    step_jacobians=step_jacobians, init_weights=init_weights,
    choices={"activation": tuple(ACTIVATIONS), "residual": (False, True)},
    check_spectra=_check_spectra,
)

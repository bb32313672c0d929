"""The LSTM cell (PyTorch's gate order i, f, g, o; optional peepholes and coupled gates).

    [a_i a_f a_g a_o] = U x_t + b + W h_{t-1} + b_h
    i, f, o = sigmoid(a_i, a_f, a_o),  g = tanh(a_g)
    c_t = f c_{t-1} + i g,   h_t = o tanh(c_t)

Options:
- ``peepholes`` (Gers and Schmidhuber 2000): i and f also read c_{t-1}, o reads c_t, through
  diagonal weights P (3, n), rows for i, f, o. If P is not given it starts at zero (the plain
  LSTM), with a gradient like every other weight.
- ``coupled``: one gate decides both what to forget and what to write,
  c_t = f c_{t-1} + (1 - f) g. The i block of W, U, b, b_h keeps its shape (so PyTorch
  weights still load) but is unused: its gradient is zero, and Trace.gates['i'] records the
  effective input gate 1 - f.

The state is s_t = (h_t, c_t): step Jacobians are (2n, 2n), h first. Grads.h and Grads.c
are the gradients with respect to the two halves of the state, each with the other half held
fixed: Grads.c[t] counts every way c_t reaches the loss after step t (through c_{t+1}, the
peepholes of step t+1, the upstream dc_t) but not the path c_t -> h_t inside step t, which
is already in Grads.h[t]. So (dL/dh_{t-1}, dL/dc_{t-1}) = J_t^T (dL/dh_t, dL/dc_t) plus the
upstream at t-1, the same rule as for h0 and c0, and Jacobian products match the gradients.
"""

from __future__ import annotations

import numpy as np

from kernels.lstm import (
    lstm_backward_blocks,
    lstm_backward_part,
    lstm_backward_setup,
    lstm_forward_blocks,
    lstm_forward_setup,
    lstm_forward_sweep,
    lstm_step_jacobians,
)
from kernels.rnn import add_halves

from .. import engine
from ..trace import Grads, Trace
from .common import time_major
from .spec import CellSpec, WeightSpec

GATES = ("i", "f", "g", "o")
OPTIONS = {"peepholes": (False, True), "coupled": (False, True)}


def _validated(options) -> dict:
    o = {"peepholes": False, "coupled": False}
    for k, v in dict(options).items():
        if k not in OPTIONS:
            raise ValueError(f"option {k!r} is not an LSTM option; allowed: {sorted(OPTIONS)}")
        if not isinstance(v, (bool, np.bool_)):
            raise ValueError(f"{k}={v!r} must be True or False")
        o[k] = bool(v)
    return o


def check(weights, options):
    """(weights, options) validated; peepholes without P get zero peephole weights.

    Params calls this on construction, so every Params (also after ``replace``) is valid.
    """
    o = _validated(options)
    weights = dict(weights)
    W = np.asarray(weights["W"])
    n = W.shape[1] if W.ndim == 2 else 0
    if o["peepholes"]:
        if "P" not in weights:
            weights["P"] = np.zeros((3, n), dtype=W.dtype)
        if np.shape(weights["P"]) != (3, n):
            raise ValueError(f"P has shape {np.shape(weights['P'])}; peepholes need (3, {n}) "
                             "(rows for the i, f and o gates)")
    elif "P" in weights:
        raise ValueError("peephole weights P are given but peepholes=False")
    return weights, o


def init_weights(n, m, rngs, W, options):
    """Weights for a fresh LSTM with recurrent matrix W (4n, n), one block per gate.

    U ~ N(0, 1/m); all biases start at zero, the forget gate's too (PyTorch draws them
    uniformly; zero keeps f = 0.5 at rest so experiments start from a known point).
    """
    U = rngs[1].standard_normal((4 * n, m)) / np.sqrt(m)
    return {"W": W, "U": U, "b": np.zeros(4 * n), "b_h": np.zeros(4 * n)}


def _flags(p):
    """(P, peepholes, coupled) for the kernels (Params has validated them)."""
    o = p.options
    if o["peepholes"]:
        return p.weights["P"], True, o["coupled"]
    P = np.zeros((3, p.n), p.dtype)
    P.setflags(write=False)  # read-only like the weights: one compiled signature for both
    return P, False, o["coupled"]


def _plan(p, x) -> tuple[int, int]:
    T, B, _ = x.shape
    return engine.plan(B * 4 * p.n * p.n, T)


def forward(p, x, h0, c0):
    w = p.weights
    B, T, _ = x.shape
    n = p.n
    if c0 is None:
        c0 = np.zeros((B, n), p.dtype)
    P, peep, coupled = _flags(p)
    xt = time_major(x)  # (T, B, m)
    b = w["b"] + w["b_h"]
    plan = _plan(p, xt)
    Mf, Mu = p.derived(("forward", plan[0]),
                       lambda: lstm_forward_blocks(w["W"], w["U"], plan[0]))
    h, c, a, O = lstm_forward_setup(Mf, xt, np.array(h0), np.array(c0))
    engine.run(lstm_forward_sweep, (Mf, Mu, b, P, xt, h, c, a, peep, coupled, O), plan)
    gates = {k: a[:, :, j * n:(j + 1) * n].transpose(1, 0, 2) for j, k in enumerate(GATES)}
    return Trace("lstm", x, h0, np.ascontiguousarray(h[1:].transpose(1, 0, 2)), c0=c0,
                 c=np.ascontiguousarray(c[1:].transpose(1, 0, 2)), gates=gates,
                 cache={"h": h, "c": c, "a": a, "x": xt})


def backward(p, trace, dh, dc, truncate):
    w = p.weights
    P, peep, coupled = _flags(p)
    k = trace.cache
    dht = time_major(dh)  # (T, B, n)
    if dc is None:
        dct = np.zeros((0, dh.shape[0], p.n), p.dtype)
    else:
        dct = time_major(dc)  # (T, B, n)
    W, U, x = w["W"], w["U"], k["x"]
    plan = _plan(p, x)
    Mb = p.derived(("backward", plan[0]), lambda: lstm_backward_blocks(W, plan[0]))
    gh, gc, D, dx, O, dW2, dU2, db2, dP2 = lstm_backward_setup(Mb, x, dht, dct)
    engine.run(lstm_backward_part, (Mb, U, P, x, k["h"], k["c"], k["a"], peep, coupled, truncate,
                                  gh, gc, D, dx, O, dW2, dU2, db2, dP2), plan)
    dW, dU, db, dP = add_halves(dW2, dU2, db2, dP2)
    grads = {"W": dW, "U": dU, "b": db, "b_h": db.copy()}
    if peep:
        grads["P"] = dP
    return Grads(h=np.ascontiguousarray(gh[1:].transpose(1, 0, 2)), h0=gh[0],
                 x=np.ascontiguousarray(dx.transpose(1, 0, 2)), params=grads,
                 c=np.ascontiguousarray(gc[1:].transpose(1, 0, 2)), c0=gc[0])


def step_jacobians(p, trace):
    P, peep, coupled = _flags(p)
    k = trace.cache
    J = lstm_step_jacobians(p.weights["W"], P, k["c"], k["a"], peep, coupled)
    return J.transpose(1, 0, 2, 3)  # (B, T, 2n, 2n)


SPEC = CellSpec(
    name="lstm", label="LSTM", blocks=4, gates=GATES, unit_gates=("i", "f", "o"),
    state=("h", "c"),
    weights={"W": WeightSpec(("4n", "n"), "weight_hh"),
             "U": WeightSpec(("4n", "m"), "weight_ih"),
             "b": WeightSpec(("4n",), "bias_ih"), "b_h": WeightSpec(("4n",), "bias_hh"),
             "P": WeightSpec((3, "n"), None, optional=True)},
    options={"peepholes": False, "coupled": False}, check=check, recurrent="W",
    shown_matrix=lambda p: p.weights["W"][2 * p.n:3 * p.n],  # the candidate g's block
    highway=("f", 1), torch=True, forward=forward, backward=backward,
    step_jacobians=step_jacobians, init_weights=init_weights, choices=OPTIONS,
)

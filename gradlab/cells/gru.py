"""The GRU cell in two variants (PyTorch's gate order r, z, n), option ``gru_variant``.

    r = sigmoid(U_r x_t + b_r + W_r h_{t-1} + bh_r),  z likewise
'torch' (PyTorch / cuDNN, the default; reset applied after the recurrent product):
    n = tanh(U_n x_t + b_n + r (W_n h_{t-1} + bh_n)),  h_t = (1 - z) n + z h_{t-1}
'cho' (Cho et al. 2014 and the lecture notes; reset applied before the product):
    n = tanh(W_n (r h_{t-1}) + U_n x_t + b_n + bh_n),  h_t = (1 - z) h_{t-1} + z n

Note the two variants also give z opposite roles: in 'torch' z keeps the old state, in 'cho'
it lets the candidate in. PyTorch weights (gru_variant='torch') reproduce nn.GRU exactly.
"""

from __future__ import annotations

import numpy as np

from kernels.gru import (
    gru_backward_blocks,
    gru_backward_part,
    gru_backward_setup,
    gru_forward_blocks,
    gru_forward_setup,
    gru_forward_sweep,
    gru_step_jacobians,
)
from kernels.rnn import add_halves

from .. import engine
from ..trace import Grads, Trace
from .common import time_major
from .spec import CellSpec, WeightSpec

GATES = ("r", "z", "n")
VARIANTS = ("torch", "cho")


def check(weights, options):
    """(weights, options) validated; Params calls this on construction."""
    o = {"gru_variant": "torch"}
    for k, v in dict(options).items():
        if k != "gru_variant":
            raise ValueError(f"option {k!r} is not a GRU option; allowed: ['gru_variant']")
        o[k] = v
    if o["gru_variant"] not in VARIANTS:
        raise ValueError(f"gru_variant={o['gru_variant']!r} is not one of {list(VARIANTS)}")
    return weights, o


def init_weights(n, m, rngs, W, options):
    """Weights for a fresh GRU with recurrent matrix W (3n, n), one block per gate.

    U ~ N(0, 1/m); biases start at zero (so r = z = 0.5 at rest).
    """
    U = rngs[1].standard_normal((3 * n, m)) / np.sqrt(m)
    return {"W": W, "U": U, "b": np.zeros(3 * n), "b_h": np.zeros(3 * n)}


def _cho(p) -> bool:
    """True for the 'cho' variant (Params has validated the option)."""
    return p.options["gru_variant"] == "cho"


def _plan(p, x) -> tuple[int, int]:
    T, B, _ = x.shape
    return engine.plan(B * 3 * p.n * p.n, T)


def forward(p, x, h0, c0):
    if c0 is not None:
        raise ValueError("c0 is for the LSTM; a GRU has no cell state")
    w = p.weights
    n = p.n
    xt = time_major(x)  # (T, B, m)
    cho = _cho(p)
    plan = _plan(p, xt)
    Mf, Mu, Mn = p.derived(("forward", plan[0]),
                           lambda: gru_forward_blocks(w["W"], w["U"], cho, plan[0]))
    h, a, aux, O, X, N = gru_forward_setup(Mf, Mu, Mn, xt, np.array(h0))
    engine.run(gru_forward_sweep, (Mf, Mu, Mn, w["b"], w["b_h"], xt, h, a, aux, cho, O, X, N),
             plan)
    gates = {k: a[:, :, j * n:(j + 1) * n].transpose(1, 0, 2) for j, k in enumerate(GATES)}
    return Trace("gru", x, h0, np.ascontiguousarray(h[1:].transpose(1, 0, 2)), gates=gates,
                 cache={"h": h, "a": a, "aux": aux, "x": xt})


def backward(p, trace, dh, dc, truncate):
    if dc is not None:
        raise ValueError("dc is for the LSTM; a GRU has no cell state")
    w = p.weights
    k = trace.cache
    cho, x = _cho(p), k["x"]
    plan = _plan(p, x)
    Mrz, Mn = p.derived(("backward", plan[0]), lambda: gru_backward_blocks(w["W"], plan[0]))
    gh, Drz, Dn, Dnr, dx, O, N, dW2, dU2, db2, db_h2 = gru_backward_setup(
        Mrz, x, time_major(dh), cho)
    engine.run(gru_backward_part, (w["U"], Mrz, Mn, x, k["h"], k["a"], k["aux"], cho, truncate, gh,
                                 Drz, Dn, Dnr, dx, O, N, dW2, dU2, db2, db_h2), plan)
    dW, dU, db, db_h = add_halves(dW2, dU2, db2, db_h2)
    return Grads(h=np.ascontiguousarray(gh[1:].transpose(1, 0, 2)), h0=gh[0],
                 x=np.ascontiguousarray(dx.transpose(1, 0, 2)),
                 params={"W": dW, "U": dU, "b": db, "b_h": db_h})


def step_jacobians(p, trace):
    k = trace.cache
    J = gru_step_jacobians(p.weights["W"], k["h"], k["a"], k["aux"], _cho(p))
    return J.transpose(1, 0, 2, 3)  # (B, T, n, n)


SPEC = CellSpec(
    name="gru", label="GRU", blocks=3, gates=GATES, unit_gates=("r", "z"), state=("h",),
    weights={"W": WeightSpec(("3n", "n"), "weight_hh"),
             "U": WeightSpec(("3n", "m"), "weight_ih"),
             "b": WeightSpec(("3n",), "bias_ih"), "b_h": WeightSpec(("3n",), "bias_hh")},
    options={"gru_variant": "torch"}, check=check, recurrent="W",
    shown_matrix=lambda p: p.weights["W"][2 * p.n:3 * p.n],  # the candidate n's block
    highway=("z", 1), torch=True, forward=forward, backward=backward,
    step_jacobians=step_jacobians, init_weights=init_weights,
    choices={"gru_variant": VARIANTS},
)

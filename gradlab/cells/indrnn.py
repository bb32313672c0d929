"""The IndRNN cell (Li et al. 2018) on top of kernels.indrnn.

    h_t = phi(w * h_{t-1} + U x_t + b + b_h)

with a recurrent *vector* w (n,): each unit sees only its own past, the step Jacobian is
diag(w * phi'(z_t)), and unit i's gradient over l steps is a product of l factors
w_i phi'. |w_i| near 1 (with phi' near 1, e.g. ReLU in its active region) keeps that
unit's memory, a direct cure for vanishing gradients. The lab scales w by the spectral
radius (max |w_i| = rho) and shows the eigenvalues of diag(w), which are the w_i.
PyTorch has no IndRNN: ``to_torch`` refuses it.
"""

from __future__ import annotations

import numpy as np

from kernels._flags import ACTIVATIONS
from kernels.indrnn import indrnn_backward, indrnn_forward, indrnn_step_jacobians

from ..trace import Grads, Trace
from .common import time_major
from .spec import CellSpec, WeightSpec

OPTIONS = {"activation": "tanh"}


def check(weights, options):
    """(weights, options) validated, with defaults; Params calls this on construction."""
    o = dict(OPTIONS)
    o.update(options)
    if o["activation"] not in ACTIVATIONS:
        raise ValueError(f"activation={o['activation']!r} is not one of {sorted(ACTIVATIONS)}")
    return weights, o


def init_recurrent(n, scheme, spectral_radius, rng):
    """The recurrent vector w (n,) with max |w_i| = spectral_radius.

    gaussian: N(0, 1) entries rescaled (magnitudes spread over [0, rho], random signs);
    orthogonal: +-rho with random signs (diag(w) is then rho times an orthogonal matrix);
    identity: every w_i = rho (the IRNN-like start Li et al. use with ReLU);
    sparse: min(15, n) random units get N(0, 1) weights, rescaled, the others zero.
    """
    if scheme == "gaussian":
        g = rng.standard_normal(n)
    elif scheme == "orthogonal":
        g = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    elif scheme == "identity":
        g = np.ones(n)
    elif scheme == "sparse":
        g = np.zeros(n)
        k = min(15, n)
        g[rng.choice(n, size=k, replace=False)] = rng.standard_normal(k)
    else:
        raise ValueError(f"scheme={scheme!r} is not an IndRNN init")
    top = np.max(np.abs(g))
    return g * (spectral_radius / top) if top > 0 else g


def init_weights(n, m, rngs, w, options):
    """Weights for a fresh IndRNN with recurrent vector w (n,); U ~ N(0, 1/m), zero biases."""
    U = rngs[1].standard_normal((n, m)) / np.sqrt(m)
    return {"w": w, "U": U, "b": np.zeros(n), "b_h": np.zeros(n)}


def forward(p, x, h0, c0):
    if c0 is not None:
        raise ValueError("c0 is for the LSTM; an IndRNN has no cell state")
    w = p.weights
    xt = time_major(x)  # (T, B, m)
    T, B, m = xt.shape
    with np.errstate(all="ignore"):
        u = (xt.reshape(T * B, m) @ w["U"].T + (w["b"] + w["b_h"])).reshape(T, B, p.n)
    s = indrnn_forward(w["w"], u, np.ascontiguousarray(h0), ACTIVATIONS[p.options["activation"]])
    h = s[1:].transpose(1, 0, 2)  # (B, T, n)
    return Trace("indrnn", x, h0, np.ascontiguousarray(h), gates={"phi": h},
                 cache={"s": s, "x": xt})


def backward(p, trace, dh, dc, truncate):
    if dc is not None:
        raise ValueError("dc is for the LSTM; an IndRNN has no cell state")
    w = p.weights
    s, x = trace.cache["s"], trace.cache["x"]  # (T+1, B, n), (T, B, m)
    T, B, m = x.shape
    gh, delta = indrnn_backward(w["w"], s, ACTIVATIONS[p.options["activation"]],
                                time_major(dh), truncate)
    with np.errstate(all="ignore"):
        D = delta.reshape(T * B, p.n)  # rows: (t, b)
        db = D.sum(axis=0)
        grads = {"w": np.einsum("tbi,tbi->i", delta, s[:-1]), "U": D.T @ x.reshape(T * B, m),
                 "b": db, "b_h": db.copy()}
        dx = (D @ w["U"]).reshape(T, B, m)
    return Grads(h=np.ascontiguousarray(gh[1:].transpose(1, 0, 2)), h0=gh[0],
                 x=np.ascontiguousarray(dx.transpose(1, 0, 2)), params=grads)


def step_jacobians(p, trace):
    J = indrnn_step_jacobians(p.weights["w"], trace.cache["s"],
                              ACTIVATIONS[p.options["activation"]])
    return J.transpose(1, 0, 2, 3)  # (B, T, n, n)


SPEC = CellSpec(
    name="indrnn", label="IndRNN", blocks=1, gates=("phi",), unit_gates=(), state=("h",),
    weights={"w": WeightSpec(("n",)), "U": WeightSpec(("n", "m")), "b": WeightSpec(("n",)),
             "b_h": WeightSpec(("n",))},
    options=OPTIONS, check=check, recurrent="w", shown_matrix=lambda p: np.diag(p.weights["w"]),
    highway=None, torch=False, forward=forward, backward=backward,
    step_jacobians=step_jacobians, init_weights=init_weights, init_recurrent=init_recurrent,
    choices={"activation": tuple(ACTIVATIONS)},
)

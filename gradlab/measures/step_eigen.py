"""Eigenvalues of the step Jacobian J_t = ds_t/ds_{t-1} at the time cursor t.

A nonlinear or gated cell does not step with a fixed matrix: J_t = diag(phi'(z_t)) W for the
RNN, and for gated cells a (2n, 2n) or (n, n) matrix that depends on the gates at step t.
Its eigenvalues show how the linear picture (W's eigenvalues) is bent along the trajectory:
saturated units pull them towards 0. For a linear RNN J_t is the (leaky) step matrix, whose
eigenvalues ``gradlab.measures.eigen`` already shows, so there is nothing to add.

Expensive: an eigen-decomposition of a (2n, 2n) matrix (the LSTM at n = 64 takes tens of
ms), so the lab computes it in its second lane and the eigenvalue panel adds it when it
arrives.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ops import forward, step_jacobians
from . import Measure
from .context import Context


@dataclass(frozen=True)
class StepEigen:
    """step (d,) eigenvalues of J_t at the cursor, or None (linear cells); cursor: t in 1..T;
    state_label: 'h' or '(h, c)'."""

    step: np.ndarray | None
    cursor: int
    state_label: str


def step_eigenvalues(ctx: Context, t: int) -> np.ndarray:
    """Eigenvalues of ds_t/ds_{t-1} (one step re-run from the stored state s_{t-1})."""
    tr = ctx.trace
    h0 = tr.h0 if t == 1 else tr.h[:, t - 2]
    c0 = None if tr.c is None else (tr.c0 if t == 1 else tr.c[:, t - 2])
    with np.errstate(all="ignore"):
        one = forward(ctx.params, ctx.x[t - 1:t], h0=h0, c0=c0)
        J = step_jacobians(ctx.params, one)[0, 0]  # (d, d)
        if not np.all(np.isfinite(J)):
            return np.full(J.shape[0], np.nan + 0j)
        return np.linalg.eigvals(J)



def compute(ctx: Context) -> StepEigen:
    c = ctx.config
    spec = ctx.spec
    linear = "activation" in spec.options and c.activation == "linear"
    t = c.cursor_step
    return StepEigen(step=None if linear else step_eigenvalues(ctx, t), cursor=t,
                     state_label="(h, c)" if len(spec.state) > 1 else "h")


MEASURE = Measure("step_eigen", "expensive", compute, frozenset({"clip", "loss"}),
                  "eigenvalues of the step Jacobian at the time cursor")

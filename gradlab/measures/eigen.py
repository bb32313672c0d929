"""Eigenvalues: of the recurrent matrix, of the leaky step, and of the step Jacobian.

- W's eigenvalues (times rho, with any hand-set ones): the linear picture of vanishing and
  exploding (|lambda| < 1 shrinks a direction at every step, > 1 grows it).
- The leaky RNN steps with (1 - a) I + a W (per-unit a: diag(1 - a) + diag(a) W): its
  eigenvalues 1 - a + a lambda are pulled towards 1 as a falls.
- Nonlinear and gated cells step with J_t = ds_t/ds_{t-1}, which changes along the
  trajectory: its eigenvalues at the time cursor t (state s = h, or (h, c) for the LSTM)
  are the measure ``step_eigen`` (``gradlab.measures.step_eigen``): an eigen-decomposition
  of a (2n, 2n) matrix takes tens of ms, so it follows in the lab's second lane.

``base`` are the eigenvalues at radius 1 in the order the app edits them (``pair`` gives
each one's conjugate partner, -1 for a real one), so a drag can set LabConfig.eigs.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from ..cells import get_cell
from . import Measure
from .context import Context, unit_leaks


@dataclass(frozen=True)
class Eigen:
    """eigvals (n,) of the recurrent matrix (rho included); base (n,) at radius 1, edits
    included, in edit order; pair (n,) conjugate partner index or -1; real_only: the cell's
    recurrent weight is a diagonal (IndRNN), so its eigenvalues stay real;
    leaky (n,) eigenvalues of the leaky step, or None; matrix_label: what eigvals are of."""

    eigvals: np.ndarray
    base: np.ndarray
    pair: np.ndarray
    real_only: bool
    leaky: np.ndarray | None
    matrix_label: str


def conjugate_pairs(lam: np.ndarray) -> np.ndarray:
    """For each eigenvalue the index of its conjugate partner (-1 for a real one): in order,
    each complex one not yet paired takes the nearest free value to its conjugate."""
    lam = np.asarray(lam, dtype=complex)
    pair = np.full(lam.shape, -1)  # (n,)
    with np.errstate(invalid="ignore"):
        dist = np.abs(lam[None, :] - np.conj(lam)[:, None])  # (n, n): row i to conj(lam_i)
    free = np.ones(lam.shape, dtype=bool)  # (n,)
    for i in np.flatnonzero(lam.imag != 0):
        if not free[i]:
            continue
        free[i] = False
        if not free.any():
            break
        j = int(np.argmin(np.where(free, dist[i], np.inf)))  # the first of equals, as before
        pair[i], pair[j] = j, i
        free[j] = False
    return pair


def compute(ctx: Context) -> Eigen:
    c = ctx.config
    spec = ctx.spec
    _, lam, _ = ctx.draws.get(c.cell, c.hidden, c.inputs, c.init, c.seed)
    base = ctx.base_eigvals
    real_only = np.ndim(ctx.params.weights[spec.recurrent]) == 1
    eigvals = ctx.eigvals
    leaky = None
    if "leak" in spec.options:
        a = unit_leaks(c)
        if np.ndim(a) == 0:
            if a < 1.0:
                leaky = 1.0 - a + a * eigvals
        else:
            A = np.asarray(a)
            M = np.asarray(spec.shown_matrix(ctx.params), dtype=np.float64)
            leaky = np.linalg.eigvals(np.diag(1.0 - A) + A[:, None] * M)
    label = {"rnn": "W", "indrnn": "diag(w)"}.get(c.cell, "the content block of W")
    return Eigen(eigvals=eigvals, base=base, pair=conjugate_pairs(np.array(lam)),
                 real_only=bool(real_only), leaky=leaky, matrix_label=label)


PRESET_VALUES = MappingProxyType({  # the two values a preset alternates between
    "diag(0.5, 1.5)": (0.5, 1.5),
    "golden ratio": ((1 + 5 ** 0.5) / 2, (1 - 5 ** 0.5) / 2),
})


def preset_eigs(name: str, base: np.ndarray | None = None, *, pair=None) -> tuple:
    """Eigenvalues (at radius 1) for a preset from the lecture notes, as LabConfig.eigs:
    'diag(0.5, 1.5)': half the eigen-directions shrink by 0.5, half grow by 1.5;
    'golden ratio': those of [[1, 1], [1, 0]], phi = 1.618 and -1/phi = -0.618 (Fibonacci).
    Conjugate partners get the same (real) value, so W stays real: ``pair`` gives each
    one's partner (-1: real; ``Eigen.pair``, the drawn matrix's pairing, which an earlier
    preset does not change), else it is read from the eigenvalues ``base``."""
    if name not in PRESET_VALUES:
        raise ValueError(f"preset {name!r} is not one of {list(PRESET_VALUES)}")
    pair = conjugate_pairs(base) if pair is None else np.asarray(pair)
    values = PRESET_VALUES[name]
    out = [0.0] * len(pair)
    k = 0
    for i in range(len(pair)):
        if 0 <= pair[i] < i:
            out[i] = out[pair[i]]
            continue
        out[i] = values[k % 2]
        k += 1
    return tuple((float(v), 0.0) for v in out)


HEAVY_N = 256  # per-unit leaks: from this size the leaky step's eig delays the slider


def heavy(config) -> bool:
    """Per-unit leaks need a fresh eigen-decomposition of the (n, n) leaky step at every
    move (one leak needs none: 1 - a + a lambda); from n = 256 that takes 50 ms and more."""
    return config.leak_spread != "one" and config.hidden >= HEAVY_N and \
        "leak" in get_cell(config.cell).options


MEASURE = Measure("eigen", "cheap", compute,
                  frozenset({"clip", "loss", "cursor", "input_scale", "steps"}),
                  "eigenvalues of W and of the leaky step", heavy=heavy)

"""The Pascanu cliff's surface: E and log10 ||grad E|| over (w, b), computed once.

The one-unit model of Pascanu, Mikolov and Bengio (2013), x_t = w sigma(x_{t-1}) + b,
E = (sigma(x_50) - 0.7)^2 (``gradlab.cliff``), on a 601 x 401 grid over the plotted region
[-2, 10] x [-6, 2]. It depends on no LabConfig field, so the lab computes it once and reuses
it for every config. ``ridge_w``, ``ridge_b``: the ridge b = x0 - w sigma(x0) sampled finely
(nan where there is no cliff): beyond w of about 6 the cliff is thinner than a grid cell, so
the view draws the ridge as a line to show it everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..cliff import B_RANGE, W_RANGE, CliffSurface, cliff_surface, ridge
from ..config import FIELDS
from . import Measure
from .context import Context

SHAPE = (601, 401)  # (nw, nb) grid points
RIDGE_POINTS = 1201


@dataclass(frozen=True)
class Cliff:
    """surface: the CliffSurface (w (nw,), b (nb,), E, dE_dw, dE_db, log10_grad_norm
    (nb, nw), extent); ridge_w, ridge_b (RIDGE_POINTS,): the ridge line (b nan where w has
    no cliff); w_range, b_range: the plotted region."""

    surface: CliffSurface
    ridge_w: np.ndarray
    ridge_b: np.ndarray
    w_range: tuple[float, float] = W_RANGE
    b_range: tuple[float, float] = B_RANGE


def compute(ctx: Context | None = None) -> Cliff:
    surface = cliff_surface(W_RANGE, B_RANGE, SHAPE)
    w = np.linspace(*W_RANGE, RIDGE_POINTS)  # (R,)
    b = ridge(w)  # (R,)
    b = np.where((b >= B_RANGE[0]) & (b <= B_RANGE[1]), b, np.nan)
    return Cliff(surface, w, b)


MEASURE = Measure("cliff", "cheap", compute, frozenset(FIELDS),
                  "the Pascanu cliff: E and log10 ||grad E|| over (w, b), and its ridge")

"""Cells side by side: every registered cell's gradient curve on the same inputs and radius.

Each cell is drawn by the config's init scheme and seed at the config's spectral radius
(every recurrent block scaled to it), driven by the same x_1..x_T and judged by the same
loss; hand-set eigenvalues apply to the config's own cell only.

Expensive: four forward and backward passes (about 20 ms at n = 64, T = 200), so the lab
computes it in its second lane, after the cheap views.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..cells import CELLS, get_cell
from . import Measure
from .context import Context
from .gradient import growth_rate, memory_horizon


@dataclass(frozen=True)
class CellsCompared:
    """names, labels (k,); lags (T+1,); log10_norms (k, T+1); growth (k,) per step;
    horizons (k,) memory horizon (-1: beyond T); current: index of the config's cell."""

    names: tuple
    labels: tuple
    lags: np.ndarray
    log10_norms: np.ndarray
    growth: np.ndarray
    horizons: np.ndarray
    current: int


def compute(ctx: Context) -> CellsCompared:
    c = ctx.config
    lags = np.arange(c.steps + 1)
    names = tuple(CELLS)
    curves, growth, horizons = [], [], []
    for name in names:
        sub = ctx if name == c.cell else Context(c.replace(cell=name, eigs=()), ctx.draws)
        curve = sub.scaled.log10_norms  # (T+1,)
        curves.append(curve)
        growth.append(growth_rate(lags, curve))
        k = memory_horizon(curve)
        horizons.append(-1 if k is None else k)
    return CellsCompared(names, tuple(get_cell(k).label for k in names), lags,
                         np.array(curves), np.array(growth), np.array(horizons),
                         names.index(c.cell))


# not 'eigs': hand-set eigenvalues change the config's own cell's curve
MEASURE = Measure("cells", "expensive", compute, frozenset({"cursor", "clip"}),
                  "gradient against lag for every cell on the same input")

"""Leaky units: gradient curves for a family of leaks at once, and each one's memory horizon.

A leaky unit keeps a share 1 - a of its past, h_t = (1 - a) h_{t-1} + a phi(.), so its step
is (1 - a) I + a W diag(phi'): the smaller a (the longer the time constant 1/a), the closer
the step's eigenvalues sit to 1 and the further back the gradient reaches. Every curve uses
the same W, inputs and loss as the main experiment; only the leak changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import Measure
from .context import Context
from .gradient import memory_horizon

FAMILY = (1.0, 0.5, 0.2, 0.1, 0.05)


@dataclass(frozen=True)
class LeakFamily:
    """applies: the cell has leaky units (RNN); leaks (k,) the family, the config's own leak
    included; lags (T+1,); log10_norms (k, T+1); horizons (k,) memory horizon per leak
    (-1: beyond T); current: index of the config's leak; spread: the config's leak_spread."""

    applies: bool
    leaks: np.ndarray
    lags: np.ndarray
    log10_norms: np.ndarray
    horizons: np.ndarray
    current: int
    spread: str


def compute(ctx: Context) -> LeakFamily:
    c = ctx.config
    lags = np.arange(c.steps + 1)
    if "leak" not in ctx.spec.options:
        return LeakFamily(False, np.zeros(0), lags, np.zeros((0, c.steps + 1)),
                          np.zeros(0, int), -1, c.leak_spread)
    # the config's own leak exactly (its curve is the gradient view's), and the family's
    # other members (one within 1e-6 of it would draw the same curve twice)
    leaks = sorted({a for a in FAMILY if abs(a - c.leak) > 1e-6} | {c.leak}, reverse=True)
    curves, horizons = [], []
    for a in leaks:
        sub = ctx if a == c.leak else Context(c.replace(leak=a), ctx.draws)
        curve = sub.scaled.log10_norms  # (T+1,)
        curves.append(curve)
        k = memory_horizon(curve)
        horizons.append(-1 if k is None else k)
    return LeakFamily(True, np.array(leaks), lags, np.array(curves), np.array(horizons),
                      leaks.index(c.leak), c.leak_spread)


MEASURE = Measure("leaky", "cheap", compute, frozenset({"cursor", "clip"}),
                  "gradient curves for several leaks and their memory horizons")

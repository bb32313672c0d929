"""Hidden states: h_t per unit and time, the inputs, and where the state overflowed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import Measure
from .context import Context

BOUNDED = ("tanh", "sigmoid")


@dataclass(frozen=True)
class States:
    """h (T, n) hidden states h_1..h_T; x (T, m) inputs; level: the symmetric colour level
    (1 for bounded states, else max(1, 10 * input scale)); overflow_step: first step whose
    state is inf/nan (None if none)."""

    h: np.ndarray
    x: np.ndarray
    level: float
    overflow_step: int | None


def level(config) -> float:
    """+-level for the colour scale of h, fixed by the config (never by the data)."""
    if config.cell in ("lstm", "gru") or config.activation in BOUNDED:
        return 1.0
    return max(1.0, 10.0 * config.input_scale)


def compute(ctx: Context) -> States:
    h = np.array(ctx.trace.h[0], dtype=np.float64)  # (T, n)
    return States(h=h, x=np.array(ctx.x), level=level(ctx.config),
                  overflow_step=ctx.overflow_step)


MEASURE = Measure("states", "cheap", compute,
                  frozenset({"cursor", "clip", "loss"}), "hidden states h_t")

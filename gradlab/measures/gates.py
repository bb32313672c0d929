"""Gate activations: every recorded gate of the cell per unit and time, and how saturated.

A sigmoid gate is saturated below 0.05 or above 0.95 (its derivative is then below 0.05);
a tanh activation when |value| > 0.95. Saturated units pass almost no gradient through that
gate's own pre-activation: the share of saturated entries is the number to watch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from . import Measure
from .context import Context

SATURATED = 0.05


@dataclass(frozen=True)
class Gates:
    """names: gate names in the cell's order; values {name: (T, n)}; unit_scale: names on a
    [0, 1] scale (sigmoid gates), the others lie in [-1, 1] (tanh) or are unbounded (relu,
    linear); c (T, n) the LSTM's cell state, else None; saturated {name: share in [0, 1]};
    saturated_share: over all gates; cell_label."""

    names: tuple
    values: MappingProxyType
    unit_scale: tuple
    c: np.ndarray | None
    saturated: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    saturated_share: float = 0.0
    cell_label: str = ""


def saturation(values: np.ndarray, unit_scale: bool) -> float:
    """Share of entries in saturation (nan entries count as saturated)."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return 0.0
    with np.errstate(invalid="ignore"):
        if unit_scale:
            sat = (v < SATURATED) | (v > 1.0 - SATURATED)
        else:
            sat = np.abs(v) > 1.0 - SATURATED
    return float(np.mean(sat | ~np.isfinite(v)))


def compute(ctx: Context) -> Gates:
    spec = ctx.spec
    names = tuple(spec.gates)
    values = {k: np.array(ctx.trace.gates[k][0], dtype=np.float64) for k in names}  # (T, n)
    unit = tuple(k for k in names if k in spec.unit_gates)
    if "activation" in spec.options and ctx.config.activation == "sigmoid":
        unit = names
    bounded = unit + tuple(k for k in names if k not in unit and _tanh_like(ctx, k))
    sat = {k: saturation(values[k], k in unit) for k in bounded}
    total = float(np.mean(list(sat.values()))) if sat else 0.0
    c = None if ctx.trace.c is None else np.array(ctx.trace.c[0], dtype=np.float64)
    return Gates(names=names, values=MappingProxyType(values), unit_scale=unit, c=c,
                 saturated=MappingProxyType(sat), saturated_share=total,
                 cell_label=spec.label)


def _tanh_like(ctx: Context, name: str) -> bool:
    if "activation" in ctx.spec.options:
        return ctx.config.activation == "tanh"
    return True  # g (LSTM) and n (GRU) are tanh


MEASURE = Measure("gates", "cheap", compute, frozenset({"cursor", "clip", "loss"}),
                  "gate activations and their saturation")

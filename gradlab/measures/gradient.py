"""Gradient flow: ||dL/dh_{T-l}|| against the lag l, and |dL/dh_t| per unit and time.

Both are carried in scaled form (log10 of a mantissa plus a running exponent), so a
gradient of 1e-2000 or 1e+2000 is reported at its true height: float64's range is not the
picture's range (``gradlab.measures.scaled``: BPTT rescaled and restarted on a prefix).

The reference line is what governs the decay for the cell: rho_eff^l for the RNN, where
rho_eff is the spectral radius of the linearised step (1 - a) I + a W (= rho for a = 1);
max|w_i|^l for the IndRNN; the product of the forget gates along the path (root mean
square over units) for the LSTM; the product of the update gates z for the GRU.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import Measure
from .context import Context, unit_leaks

HORIZON_DECADES = 3.0  # memory horizon: where the gradient fell 1e-3 below lag 0


@dataclass(frozen=True)
class GradientFlow:
    """lags (T+1,) = 0..T (lag T is h_0); log10_norms (T+1,) log10 ||dL/dh_{T-l}||
    (-inf for an exact zero, nan once the state itself overflowed);
    log10_units (T, n): log10 |dL/dh_t|, row t-1 for step t; log10_reference (T+1,) and
    reference_label (what governs the cell); growth_per_step: 10**slope of a least-squares
    line through the finite log10 norms; horizon: the first lag whose gradient is 10**-3 of
    lag 0's (None within T); rescaled: how many times the gradient was rescaled;
    overflow_step: first step whose hidden state overflowed (None if none)."""

    lags: np.ndarray
    log10_norms: np.ndarray
    log10_units: np.ndarray
    log10_reference: np.ndarray
    reference_label: str
    growth_per_step: float
    horizon: int | None
    rescaled: int
    overflow_step: int | None


def growth_rate(lags: np.ndarray, log10_norms: np.ndarray) -> float:
    """10**slope of a least-squares line through the finite log10 norms against lag."""
    ok = np.isfinite(log10_norms)
    if ok.sum() < 2:
        return float("nan")
    slope = np.polyfit(lags[ok].astype(float), log10_norms[ok], 1)[0]
    with np.errstate(over="ignore"):
        return float(10.0 ** slope)


def memory_horizon(log10_norms: np.ndarray, decades: float = HORIZON_DECADES) -> int | None:
    """The first lag whose log10 norm is ``decades`` below lag 0's (None if none)."""
    if not np.isfinite(log10_norms[0]):
        return None
    with np.errstate(invalid="ignore"):
        below = log10_norms <= log10_norms[0] - decades
    return int(np.argmax(below)) if below.any() else None


def reference(ctx: Context) -> tuple[np.ndarray, str]:
    """(log10 of the governing factor at each lag 0..T, its label)."""
    c = ctx.config
    lags = np.arange(c.steps + 1, dtype=float)
    p = ctx.params
    if ctx.spec.highway is not None:
        gate, _ = ctx.spec.highway
        G = np.asarray(ctx.trace.gates[gate][0], dtype=np.float64)  # (T, n)
        with np.errstate(divide="ignore"):
            logs = np.log10(np.clip(G, 0.0, 1.0))[::-1]  # lag order: step T first
        cum = np.vstack([np.zeros((1, G.shape[1])), np.cumsum(logs, axis=0)])  # (T+1, n)
        top = np.max(cum, axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            rms = top[:, 0] + 0.5 * np.log10(np.mean(10.0 ** (2 * (cum - top)), axis=1))
        label = {"f": "∏ f (forget gates)", "z": "∏ z (update gates)"}.get(gate, f"∏ {gate}")
        return rms, label
    a = unit_leaks(c) if "leak" in ctx.spec.options else 1.0
    if np.ndim(a) == 0:  # one leak: the step's eigenvalues are 1 - a + a lambda
        rho = float(np.max(np.abs(1.0 - a + a * ctx.eigvals)))
    else:
        A = np.asarray(a)
        M = np.asarray(ctx.spec.shown_matrix(p), dtype=np.float64)
        rho = float(np.max(np.abs(np.linalg.eigvals(np.diag(1.0 - A) + A[:, None] * M))))
    leaky = not np.all(np.asarray(a) == 1.0)
    label = "ρ<sub>eff</sub><sup>l</sup> (leaky step)" if leaky else "ρ<sup>l</sup>"
    with np.errstate(divide="ignore"):
        return lags * np.log10(rho), label


def compute(ctx: Context) -> GradientFlow:
    c = ctx.config
    lags = np.arange(c.steps + 1)
    flow = ctx.scaled
    norms, units = flow.log10_norms.copy(), flow.log10_units.copy()
    step = ctx.overflow_step
    if step is not None:  # the state overflowed: no gradient is meaningful from there on
        norms[: c.steps - step + 1] = np.nan
        units[step - 1:] = np.nan
    ref, label = reference(ctx)
    return GradientFlow(lags=lags, log10_norms=norms, log10_units=units,
                        log10_reference=ref, reference_label=label,
                        growth_per_step=growth_rate(lags, norms),
                        horizon=memory_horizon(norms), rescaled=flow.rescaled,
                        overflow_step=step)


MEASURE = Measure("gradient", "cheap", compute, frozenset({"cursor", "clip"}),
                  "per-lag gradient norms and per-unit gradient magnitudes (scaled)")

"""Gradient flow: ||dL/dh_{T-l}|| against the lag l, and |dL/dh_t| per unit and time.

Both are carried in scaled form (log10 of a mantissa plus a running exponent), so a
gradient of 1e-2000 or 1e+2000 is reported at its true height: float64's range is not the
picture's range. How: the backward pass runs in float64; when the gradient at some step
s leaves [1e-200, 1e200], it is rescaled to norm 1 (the exponent noted) and BPTT is
restarted from step s on the prefix x_1..x_s of the same run (the backward pass is linear
in the gradient it is given, so scaling commutes with it). For the LSTM the cell-state
gradient is carried along with the same scale.

The reference line is what governs the decay for the cell: rho_eff^l for the RNN, where
rho_eff is the spectral radius of the linearised step (1 - a) I + a W (= rho for a = 1);
max|w_i|^l for the IndRNN; the product of the forget gates along the path (root mean
square over units) for the LSTM; the product of the update gates z for the GRU.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ops import backward, forward
from . import Measure
from .context import Context, unit_leaks

LOW, HIGH = 1e-200, 1e200  # rescale the carried gradient when its norm leaves this band
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


def safe_log10_norms(a: np.ndarray) -> np.ndarray:
    """log10 of the 2-norm of each row, without overflow (scale by the largest entry)."""
    with np.errstate(all="ignore"):
        scale = np.max(np.abs(a), axis=-1)
        safe = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
        out = np.log10(safe) + np.log10(np.linalg.norm(a / safe[..., None], axis=-1))
        out = np.where(scale == 0, -np.inf, out)
        return np.where(np.isfinite(scale), out, np.nan)


def scaled_backward(params, x: np.ndarray, trace, grads, dh: np.ndarray, *,
                    rescale: bool = True):
    """(gh (T+1, n), gc (T+1, n) or None, exponent (T+1,), rescaled): dL/dh_t for t = 0..T
    as gh[t] * 10**exponent[t] (gh[0] is h_0), exact beyond float64's range.
    x (T, m); dh (1, T, n) the upstream gradient of the loss."""
    T = x.shape[0]
    n = params.n
    gh = np.zeros((T + 1, n))
    gc = np.zeros((T + 1, n)) if trace.c is not None else None
    exponent = np.zeros(T + 1)
    e = 0.0  # log10 of the scale of the current segment
    end = T  # the current segment covers steps 1..end
    rescaled = 0
    while True:
        h_seg = grads.h[0, :end]  # (end, n) dL/dh_t, t = 1..end, in units of 10**e
        gh[1:end + 1] = h_seg
        gh[0] = grads.h0[0]
        if gc is not None:
            gc[1:end + 1] = grads.c[0, :end]
            gc[0] = grads.c0[0]
        exponent[:end + 1] = e
        with np.errstate(all="ignore"):  # the largest entry: no squares to underflow
            norms = np.max(np.abs(h_seg), axis=1)
            if gc is not None:
                norms = np.maximum(norms, np.max(np.abs(grads.c[0, :end]), axis=1))
        with np.errstate(invalid="ignore"):
            bad = ~((norms >= LOW) & (norms <= HIGH)) & (norms != 0)  # zeros stay zeros
        if not rescale or not bad.any():
            break
        s = int(np.max(np.nonzero(bad)[0])) + 2  # the earliest step after it: in the band
        if s > end or s < 2:
            break
        v = gh[s].copy()
        vc = gc[s].copy() if gc is not None else None
        scale = norms[s - 1]
        v /= scale
        if vc is not None:
            vc /= scale
        e += float(np.log10(scale))
        rescaled += 1
        # restart BPTT from step s on the prefix: the upstream at s is the (scaled) total
        # gradient there; the loss's own terms before s are scaled by 10**-e (negligible when
        # e is large, which is when the band is left upwards)
        dh_s = dh[:, :s] * (10.0 ** -float(np.clip(e, -300.0, 300.0)) if e < 300 else 0.0)
        dh_s[0, s - 1] = v
        dc_s = None
        if vc is not None:
            dc_s = np.zeros((1, s, n))
            dc_s[0, s - 1] = vc
        with np.errstate(all="ignore"):
            prefix = forward(params, x[:s], h0=trace.h0, c0=trace.c0)
            grads = backward(params, prefix, dh_s, dc=dc_s)
        end = s
    return gh, gc, exponent, rescaled


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
    gh, _, exponent, rescaled = scaled_backward(ctx.params, ctx.x, ctx.trace, ctx.grads, ctx.dh,
                                                rescale=ctx.overflow_step is None)
    with np.errstate(all="ignore"):
        units = np.log10(np.abs(gh[1:])) + exponent[1:, None]  # (T, n)
        per_step = safe_log10_norms(gh) + exponent  # (T+1,), index t = step
    log10_norms = per_step[::-1].copy()  # lag l = T - t
    step = ctx.overflow_step
    if step is not None:  # the state overflowed: no gradient is meaningful from there on
        log10_norms[: c.steps - step + 1] = np.nan
        units[step - 1:] = np.nan
    ref, label = reference(ctx)
    return GradientFlow(lags=lags, log10_norms=log10_norms, log10_units=units,
                        log10_reference=ref, reference_label=label,
                        growth_per_step=growth_rate(lags, log10_norms),
                        horizon=memory_horizon(log10_norms), rescaled=rescaled,
                        overflow_step=step)


MEASURE = Measure("gradient", "cheap", compute, frozenset({"cursor", "clip"}),
                  "per-lag gradient norms and per-unit gradient magnitudes (scaled)")

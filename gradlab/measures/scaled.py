"""Scaled BPTT: dL/dh_t beyond float64's range, as a float64 mantissa and a running exponent.

The backward pass runs in float64; when the gradient at some step s leaves [LOW, HIGH], it
is rescaled to a largest entry of 1 (the exponent noted) and BPTT is restarted from step s on
the prefix x_1..x_s of the same run (the backward pass is linear in the gradient it is given,
so scaling commutes with it). For the LSTM the cell-state gradient is carried along with the
same scale. ``scaled_flow`` turns that into what the views draw (log10 norms per lag, log10
magnitudes per unit and step); ``Context.scaled`` computes it once per experiment, for every
measure that reads it (gradient, leaky, cells).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ops import backward, forward

LOW, HIGH = 1e-200, 1e200  # rescale the carried gradient when its norm leaves this band


@dataclass(frozen=True)
class ScaledFlow:
    """log10_norms (T+1,): log10 ||dL/dh_{T-l}|| in lag order l = 0..T (lag T is h_0; -inf
    for an exact zero); log10_units (T, n): log10 |dL/dh_t|, row t-1 for step t; rescaled:
    how many times the gradient was rescaled. Once the state overflowed nothing is rescaled:
    the values are float64's (inf/nan where it overflowed), and each view says what it
    makes of them (``GradientFlow`` blanks the steps from the overflow on)."""

    log10_norms: np.ndarray
    log10_units: np.ndarray
    rescaled: int


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
    x (T, m); trace, grads: the full run's forward and backward; dh (1, T, n) the upstream
    gradient of the loss."""
    T = x.shape[0]
    n = params.n
    gh = np.zeros((T + 1, n))  # (T+1, n)
    gc = np.zeros((T + 1, n)) if trace.c is not None else None  # (T+1, n)
    exponent = np.zeros(T + 1)  # (T+1,)
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
            norms = np.max(np.abs(h_seg), axis=1)  # (end,)
            if gc is not None:
                norms = np.maximum(norms, np.max(np.abs(grads.c[0, :end]), axis=1))
        with np.errstate(invalid="ignore"):
            bad = ~((norms >= LOW) & (norms <= HIGH)) & (norms != 0)  # zeros stay zeros
        if not rescale or not bad.any():
            break
        s = int(np.max(np.nonzero(bad)[0])) + 2  # the earliest step after it: in the band
        if s >= end:  # the band is left within one step of the segment's end (or at it):
            break  # restarting there cannot help, and would restart forever
        v = gh[s].copy()  # (n,)
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
        dh_s[0, s - 1] = v  # (1, s, n)
        dc_s = None
        if vc is not None:
            dc_s = np.zeros((1, s, n))  # (1, s, n)
            dc_s[0, s - 1] = vc
        with np.errstate(all="ignore"):
            prefix = forward(params, x[:s], h0=trace.h0, c0=trace.c0)
            grads = backward(params, prefix, dh_s, dc=dc_s)
        end = s
    return gh, gc, exponent, rescaled


def scaled_flow(params, x: np.ndarray, trace, grads, dh: np.ndarray,
                overflow_step: int | None) -> ScaledFlow:
    """The gradient's log10 norms per lag and log10 magnitudes per unit, in scaled form
    (rescaled only while the state is finite: ``overflow_step`` None)."""
    gh, _, exponent, rescaled = scaled_backward(params, x, trace, grads, dh,
                                                rescale=overflow_step is None)
    with np.errstate(all="ignore"):
        units = np.log10(np.abs(gh[1:])) + exponent[1:, None]  # (T, n)
        per_step = safe_log10_norms(gh) + exponent  # (T+1,), index t = step
    return ScaledFlow(per_step[::-1].copy(), units, rescaled)  # lag l = T - t

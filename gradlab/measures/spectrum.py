"""Spectra: every singular value of ds_T/ds_{T-l} against the lag, and Lyapunov exponents.

The fan of log singular values shows every direction a gradient can take back in time, not
just its norm: the top edge is the fastest-growing (or slowest-vanishing) direction. Guides:
sigma_max(W)^l, the bound on a linear RNN's gradient, and rho^l, its eventual rate. Beside
it, the Lyapunov exponents of the forward dynamics (average log growth per step along the
trajectory). Computed in the log domain (``gradlab.spectra``), so finite at any horizon.

Expensive (about 30 ms at n = 64, T = 200): the lab computes it after the cheap views. Very
long runs use the last ``max_lags`` steps only, so memory stays bounded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ops import forward
from ..spectra import jacobian_spectrum, lyapunov_spectrum
from . import Measure
from .context import Context

JACOBIAN_BYTES = 64 * 2**20  # cap on the step Jacobians held at once
LN10 = np.log(10.0)


@dataclass(frozen=True)
class Spectrum:
    """lags (L,) = 1..L; log10_sv (L, d) log10 singular values of ds_T/ds_{T-l}, descending;
    log10_sigma_max (L,) = l log10 sigma_max(W); log10_rho (L,) = l log10 rho;
    lyapunov (d,) exponents per step (natural log), descending; state_label: 'h' or '(h, c)';
    truncated: the spectrum covers only the last L < T steps."""

    lags: np.ndarray
    log10_sv: np.ndarray
    log10_sigma_max: np.ndarray
    log10_rho: np.ndarray
    lyapunov: np.ndarray
    state_label: str
    truncated: bool


def compute(ctx: Context) -> Spectrum:
    c = ctx.config
    p = ctx.params
    d = p.n * len(ctx.spec.state)
    L = int(min(c.steps, max(8, JACOBIAN_BYTES // (8 * d * d))))
    tr = ctx.trace
    if L < c.steps:  # a trace of the last L steps, from the stored state
        s = c.steps - L
        c0 = None if tr.c is None else tr.c[:, s - 1]
        with np.errstate(all="ignore"):
            tr = forward(p, ctx.x[s:], h0=tr.h[:, s - 1], c0=c0)
    lags = np.arange(1, L + 1)
    with np.errstate(all="ignore"):
        sv = jacobian_spectrum(p, tr) / LN10  # (L, d)
        lyap = lyapunov_spectrum(p, tr)
        M = np.asarray(ctx.spec.shown_matrix(p), dtype=np.float64)
        smax = float(np.linalg.norm(M, 2))
        rho = float(np.max(np.abs(np.linalg.eigvals(M))))
        return Spectrum(lags=lags, log10_sv=sv, log10_sigma_max=lags * np.log10(smax),
                        log10_rho=lags * np.log10(rho), lyapunov=lyap,
                        state_label="(h, c)" if len(ctx.spec.state) > 1 else "h",
                        truncated=L < c.steps)


MEASURE = Measure("spectrum", "expensive", compute, frozenset({"cursor", "clip", "loss"}),
                  "singular values of the Jacobian product per lag, Lyapunov exponents")
